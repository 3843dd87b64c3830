"""Transcripts as text: parse and check WebVTT and SRT into cues, write either format, group cues into paragraphs."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline.errors import ContentError
from pipeline.safeio import NotRegularFile, TooLarge, read_capped

#: A transcript of a 10-hour episode is a few MB; more is a wrong file, not a transcript.
MAX_TRANSCRIPT_BYTES = 20_000_000

Format = Literal["vtt", "srt"]

MIME_TYPES: dict[str, str] = {"vtt": "text/vtt", "srt": "application/x-subrip"}

_VTT_HEADER_RE = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_VTT_TIME_RE = re.compile(r"^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_SRT_TIME_RE = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{1,3})$")
_TIMING_RE = re.compile(r"^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+.*)?$")
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]*)>")
_TAG_RE = re.compile(r"<[^>]*>")
_SRT_STYLE_RE = re.compile(r"\{\\[^}]*\}")  # {\an8} positioning codes some SRT editors write
# "Alice: ...", "Dr. Jane Smith: ..."; at most four words, starting with a capital letter.
_NAME_PREFIX_RE = re.compile(
    r"^(?P<name>[^\W\d_][\w.'’-]*(?: [\w.'’-]+){0,3}):[ \t]+(?P<rest>\S.*)$", re.DOTALL
)
_VTT_SKIP_BLOCKS = ("NOTE", "STYLE", "REGION")
_SENTENCE_END = (".", "!", "?", "…", '."', '?"', '!"', ".”", "?”", "!”")

_HINTS: dict[str, str] = {
    "vtt": "write cues as 00:01:02.500 --> 00:01:05.000, then the text, with a blank line between cues",
    "srt": "write cues as a number, 00:01:02,500 --> 00:01:05,000, then the text, with a blank line between cues",
}


@dataclass(frozen=True)
class Cue:
    """One timed piece of the transcript: seconds from the start of the audio, plain text, who speaks."""

    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Paragraph:
    """Consecutive cues grouped for reading: where it starts, who speaks, the text."""

    start: float
    speaker: str | None
    text: str


def parse(text: str, fmt: Format, *, file: str | Path | None = None) -> tuple[Cue, ...]:
    """Parse a WebVTT or SRT transcript into cues, checking it as we go.

    Raises ContentError naming the file, the cue ("cue 12") and the line for a missing WEBVTT header,
    a malformed timestamp or timing line, a cue that ends before it starts, cues out of time order,
    or a transcript without any cues.
    """
    parser = _PARSERS.get(fmt)
    if parser is None:
        raise ContentError(f"unknown transcript format {fmt!r}", file=file, hint="expected vtt or srt")
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cues = parser(lines, file)
    if not cues:
        raise ContentError("the transcript has no cues", file=file, hint=_HINTS[fmt])
    return cues


def read(path: Path, *, file: str | Path | None = None) -> tuple[Cue, ...]:
    """Read and parse a transcript file (its suffix names the format): the one rule `check` and `build` apply.

    Raises ContentError naming `file` (default: the path) when it is not UTF-8 or does not parse.
    """
    where = file if file is not None else path
    try:
        text = read_capped(path, MAX_TRANSCRIPT_BYTES).decode("utf-8-sig")
    except (NotRegularFile, TooLarge) as err:
        raise ContentError(f"transcript {err}", file=where) from None
    except OSError as err:
        raise ContentError(f"cannot be read: {err.strerror or err}", file=where) from None
    except UnicodeDecodeError:
        raise ContentError("is not UTF-8 text", file=where, hint="save the transcript as UTF-8") from None
    fmt = path.suffix[1:].lower()
    if fmt not in _PARSERS:
        raise ContentError(f"unknown transcript format {fmt!r}", file=where, hint="expected vtt or srt")
    return parse(text, fmt, file=where)  # type: ignore[arg-type]  # checked against _PARSERS just above


def to_vtt(cues: Iterable[Cue]) -> str:
    """Write cues as WebVTT; speakers become <v Name> voice tags."""
    out = ["WEBVTT", ""]
    for cue in cues:
        body = _escape_vtt(_one_block(cue.text))
        if cue.speaker:
            body = f"<v {_escape_vtt(cue.speaker)}>{body}"
        out += [f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}", body, ""]
    return "\n".join(out)


def to_srt(cues: Iterable[Cue]) -> str:
    """Write cues as SRT (numbered from 1); speakers become a "Name: " prefix."""
    out: list[str] = []
    for n, cue in enumerate(cues, start=1):
        body = _one_block(cue.text)
        if cue.speaker:
            body = f"{cue.speaker}: {body}"
        out += [str(n), f"{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}", body, ""]
    return "\n".join(out)


def convert(text: str, src: Format, dst: Format, *, file: str | Path | None = None) -> str:
    """Parse a transcript in one format and write it in the other (or the same, normalised)."""
    return _WRITERS[dst](parse(text, src, file=file))


def paragraphs(cues: Sequence[Cue], *, max_words: int = 90, max_gap: float = 3.0) -> tuple[Paragraph, ...]:
    """Group cues into readable paragraphs.

    A new paragraph starts when the speaker changes (a cue without a speaker continues the last one),
    after a pause of at least `max_gap` seconds, or once a paragraph has `max_words` words and the
    last cue ended a sentence. Empty cues are skipped.
    """
    out: list[Paragraph] = []
    parts: list[str] = []
    start, speaker, words = 0.0, None, 0
    last_end: float | None = None
    for cue in cues:
        text = " ".join(cue.text.split())
        if not text:
            continue
        new_speaker = cue.speaker is not None and cue.speaker != speaker
        paused = last_end is not None and cue.start - last_end >= max_gap
        long = words >= max_words and parts[-1].endswith(_SENTENCE_END)
        if parts and (new_speaker or paused or long):
            out.append(Paragraph(start=start, speaker=speaker, text=" ".join(parts)))
            parts, words = [], 0
        if not parts:
            start = cue.start
        speaker = cue.speaker or speaker
        parts.append(text)
        words += len(text.split())
        last_end = cue.end
    if parts:
        out.append(Paragraph(start=start, speaker=speaker, text=" ".join(parts)))
    return tuple(out)


def clock(seconds: float) -> str:
    """A reader's timestamp: "01:30" under an hour, "1:02:03" from one hour on (whole seconds)."""
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


# --------------------------------------------------------------------------- parsing


def _blocks(lines: Sequence[str], first: int) -> list[list[tuple[int, str]]]:
    """Split lines (from index `first`) into blocks of (1-based line number, text) at blank lines."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for i in range(first, len(lines)):
        line = lines[i].rstrip(" \t")
        if line:
            current.append((i + 1, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _parse_vtt(lines: list[str], file: str | Path | None) -> tuple[Cue, ...]:
    if not lines or not _VTT_HEADER_RE.match(lines[0]):
        looks_srt = bool(lines) and (lines[0].strip().isdigit() or "-->" in lines[0])
        raise ContentError(
            "missing the WEBVTT header line",
            file=file,
            field="line 1",
            hint="this looks like SRT: name the file .srt"
            if looks_srt
            else 'the first line must be "WEBVTT"',
        )
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    stray = next((i for i in range(1, header_end) if "-->" in lines[i]), None)
    if stray is not None:
        raise ContentError(
            f"line {stray + 1}: a cue inside the header",
            file=file,
            field="cue 1",
            hint="leave a blank line after the WEBVTT line",
        )
    checker = _Checker(file, "vtt")
    for block in _blocks(lines, header_end):
        if block[0][1].split(maxsplit=1)[0] in _VTT_SKIP_BLOCKS:
            continue
        timing_at = 0 if "-->" in block[0][1] else 1
        checker.add(block, timing_at, _VTT_TIME_RE, _vtt_payload)
    return tuple(checker.cues)


def _parse_srt(lines: list[str], file: str | Path | None) -> tuple[Cue, ...]:
    if lines and _VTT_HEADER_RE.match(lines[0]):
        raise ContentError(
            "this is a WebVTT file, not SRT", file=file, field="line 1", hint="name the file .vtt"
        )
    checker = _Checker(file, "srt")
    for block in _blocks(lines, 0):
        first = block[0][1].strip()
        if "-->" in first:
            timing_at = 0
        elif first.isdigit():
            timing_at = 1
        else:
            ln = block[0][0]
            raise ContentError(
                f"line {ln}: expected a cue number, found {first[:40]!r}",
                file=file,
                field=f"cue {len(checker.cues) + 1}",
                hint=_HINTS["srt"],
            )
        checker.add(block, timing_at, _SRT_TIME_RE, _srt_payload)
    return tuple(checker.cues)


class _Checker:
    """Turns blocks into cues and checks each timing line and the order of cues."""

    def __init__(self, file: str | Path | None, fmt: Format) -> None:
        self.file = file
        self.fmt = fmt
        self.cues: list[Cue] = []

    def _error(self, message: str, hint: str = "") -> ContentError:
        return ContentError(
            message, file=self.file, field=f"cue {len(self.cues) + 1}", hint=hint or _HINTS[self.fmt]
        )

    def add(
        self,
        block: list[tuple[int, str]],
        timing_at: int,
        time_re: re.Pattern[str],
        payload: Callable[[list[str]], tuple[str, str | None]],
    ) -> None:
        if timing_at >= len(block) or "-->" not in block[timing_at][1]:
            ln, line = block[min(timing_at, len(block) - 1)]
            raise self._error(f"line {ln}: expected a timing line like 'START --> END', found {line[:60]!r}")
        ln, line = block[timing_at]
        m = _TIMING_RE.match(line.strip())
        if not m:
            raise self._error(f"line {ln}: malformed timing line {line[:60]!r}")
        start, end = (self._seconds(stamp, time_re, ln) for stamp in m.groups())
        if end < start:
            raise self._error(
                f"line {ln}: ends at {m.group(2)}, before it starts at {m.group(1)}",
                hint="the end time must not be earlier than the start time",
            )
        if self.cues and start < self.cues[-1].start:
            raise self._error(
                f"line {ln}: starts at {m.group(1)}, earlier than the cue before it",
                hint="cues must be in time order",
            )
        text, speaker = payload([text for _, text in block[timing_at + 1 :]])
        self.cues.append(Cue(start=start, end=end, text=text, speaker=speaker))

    def _seconds(self, stamp: str, time_re: re.Pattern[str], ln: int) -> float:
        m = time_re.match(stamp)
        if not m:
            example = "00:01:02.500" if self.fmt == "vtt" else "00:01:02,500"
            raise self._error(
                f"line {ln}: {stamp!r} is not a timestamp", hint=f"write timestamps like {example}"
            )
        hours, minutes, seconds, fraction = m.groups()
        millis = int(fraction.ljust(3, "0"))
        return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + millis / 1000


def _vtt_payload(lines: list[str]) -> tuple[str, str | None]:
    raw = "\n".join(lines)
    voice = _VOICE_RE.search(raw)
    text = html.unescape(_TAG_RE.sub("", raw)).strip()
    if voice:
        speaker = html.unescape(voice.group(1)).strip()
        return text, speaker or None
    return _name_prefix(text)


def _srt_payload(lines: list[str]) -> tuple[str, str | None]:
    raw = _SRT_STYLE_RE.sub("", "\n".join(lines))
    voice = _VOICE_RE.search(raw)
    text = _TAG_RE.sub("", raw).strip()
    if voice:
        return text, voice.group(1).strip() or None
    return _name_prefix(text)


def _name_prefix(text: str) -> tuple[str, str | None]:
    m = _NAME_PREFIX_RE.match(text)
    if m and m.group("name")[0].isupper() and len(m.group("name")) <= 40:
        return m.group("rest").strip(), m.group("name")
    return text, None


# --------------------------------------------------------------------------- writing


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _one_block(text: str) -> str:
    """Cue text without blank lines (a blank line would end the cue) and without '-->' (it starts one)."""
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).replace("-->", "->")


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_PARSERS: dict[str, Callable[[list[str], str | Path | None], tuple[Cue, ...]]] = {
    "vtt": _parse_vtt,
    "srt": _parse_srt,
}
_WRITERS: dict[str, Callable[[Iterable[Cue]], str]] = {"vtt": to_vtt, "srt": to_srt}
