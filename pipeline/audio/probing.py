"""Probing: what an audio file is and how long it plays, read from its content (never its name)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import mutagen

from pipeline.audio.containers import CONTAINERS, HEADER_ERRORS, StreamInfo, mpeg_frame
from pipeline.audio.files import REEXPORT_HINT, SUPPORTED_HINT, open_audio
from pipeline.errors import AudioError


@dataclass(frozen=True)
class AudioInfo:
    """What a listener's app needs to know about one audio file, read from its content."""

    path: Path
    size: int  # exact bytes on disk
    mime: str  # "audio/mpeg", "audio/mp4", "audio/wav", "audio/flac", "audio/aiff" ("video/mp4" if it has video)
    container: str  # "mp3", "m4a", "wav", "flac", "aiff" ("mp4" if it has video)
    codec: str  # "mp3", "aac", "pcm_s16le", "flac", ...
    duration: float  # seconds of playable audio (encoder delay and padding excluded)
    bitrate: int  # bits per second (average for VBR)
    sample_rate: int  # Hz
    channels: int
    vbr: bool  # MP3 frames vary in bitrate (VBR/ABR); False for every other format


# (required (offset, bytes) pairs, container) checked in order at the start of the audio (after ID3v2 tags)
_MAGIC: tuple[tuple[tuple[tuple[int, bytes], ...], str], ...] = (
    (((0, b"RIFF"), (8, b"WAVE")), "wav"),
    (((0, b"FORM"), (8, b"AIFF")), "aiff"),
    (((0, b"FORM"), (8, b"AIFC")), "aiff"),
    (((0, b"fLaC"),), "flac"),
    (((4, b"ftyp"),), "m4a"),
)

# What a file that is not audio probably is, for the error message.
_NOT_AUDIO: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"OggS", "Ogg audio (Vorbis/Opus), which not every podcast app plays"),
    (b"\x1a\x45\xdf\xa3", "a Matroska/WebM file"),
    (b"RF64", "an RF64 WAV (over 4 GB), which is not supported"),
    (b"caff", "a Core Audio (CAF) file"),
)


def _id3v2_end(fh: BinaryIO) -> int:
    """Offset just past any ID3v2 tags at the start (some tools stack several)."""
    pos = 0
    while True:
        fh.seek(pos)
        head = fh.read(10)
        if len(head) < 10 or head[:3] != b"ID3":
            return pos
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        pos += 10 + size + (10 if head[5] & 0x10 else 0)


def _mpeg_start(fh: BinaryIO, start: int) -> int | None:
    """Offset of the first of two chained MPEG frames at `start` (zero padding after an ID3 tag allowed)."""
    fh.seek(start)
    buf = fh.read(4096)
    if start and not buf.strip(b"\x00"):  # a long run of tag padding: look a little further
        buf += fh.read(60 * 1024)
    i = len(buf) - len(buf.lstrip(b"\x00")) if start else 0
    if start == 0 and not buf.startswith(b"\xff"):
        return None
    frame = mpeg_frame(buf[i : i + 4])
    if frame is None:
        return None
    following = buf[i + frame.length : i + frame.length + 4]
    if len(following) == 4 and mpeg_frame(following) is None:
        return None
    return start + i


def sniff(fh: BinaryIO) -> tuple[str, int]:
    """(container, offset of the audio) from the bytes themselves, never the file name."""
    start = _id3v2_end(fh)
    fh.seek(start)
    head = fh.read(12)
    for checks, container in _MAGIC:
        if all(head[at : at + len(magic)] == magic for at, magic in checks):
            return container, start
    mpeg = _mpeg_start(fh, start)
    if mpeg is not None:
        return "mp3", mpeg
    return "", start


def _not_audio(path: Path, head: bytes) -> AudioError:
    for magic, what in _NOT_AUDIO:
        if head.startswith(magic):
            return AudioError(f"not an audio file: it looks like {what}", file=path, hint=SUPPORTED_HINT)
    sample = head[:512]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return AudioError("not an audio file: it looks like text", file=path, hint=SUPPORTED_HINT)
    return AudioError("not an audio file (unrecognised content)", file=path, hint=SUPPORTED_HINT)


def probe(path: Path) -> AudioInfo:
    """Read an audio file's format, duration and size from its content (never its extension).

    Raises AudioError, naming the file, for anything that is not complete, readable audio: an empty,
    truncated or corrupt file, or another kind of file with an audio extension.
    """
    path = Path(path)
    with open_audio(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise AudioError("the audio file is empty (0 bytes)", file=path, hint=REEXPORT_HINT)
        container, start = sniff(fh)
        if start >= size:
            raise AudioError(
                "the file ends inside its ID3 tag, before any audio", file=path, hint=REEXPORT_HINT
            )
        if not container:
            fh.seek(0)
            raise _not_audio(path, fh.read(1024))
        kind = CONTAINERS[container]
        if kind.precheck is not None:
            try:
                kind.precheck(path, fh, size)
            except HEADER_ERRORS as err:
                raise AudioError(
                    f"the {container.upper()} header is damaged or incomplete", file=path, hint=REEXPORT_HINT
                ) from err
        try:
            fh.seek(0)
            f = kind.opener(fh)
        except (mutagen.MutagenError, *HEADER_ERRORS) as err:
            reason = str(err).strip().rstrip(".")
            if len(reason) < 8:  # mutagen sometimes says just "error" or nothing at all
                reason = "its header is damaged or incomplete"
            raise AudioError(
                f"cannot read this {container.upper()} file: {reason}", file=path, hint=REEXPORT_HINT
            ) from err
        # mutagen declares FileType.info as None; what it holds is the container's stream info
        info = cast("StreamInfo | None", None if f is None else f.info)
        if info is None or not getattr(info, "sample_rate", 0) or not getattr(info, "channels", 0):
            raise AudioError(f"cannot read this {container.upper()} file", file=path, hint=REEXPORT_HINT)
        try:
            details = kind.details(path, fh, f, start, size)
        except HEADER_ERRORS as err:  # a header cut off mid-field, or nonsense numbers in it
            raise AudioError(
                f"the {container.upper()} header is damaged or incomplete", file=path, hint=REEXPORT_HINT
            ) from err
    if not (details.duration > 0 and math.isfinite(details.duration)):
        raise AudioError("the file contains no audio (zero length)", file=path, hint=REEXPORT_HINT)
    return AudioInfo(
        path=path,
        size=size,
        mime=details.mime or kind.mime,
        container=details.container or container,
        codec=details.codec,
        duration=details.duration,
        bitrate=details.bitrate,
        sample_rate=int(info.sample_rate),
        channels=int(info.channels),
        vbr=details.vbr,
    )
