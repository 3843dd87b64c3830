"""Tags: a built MP3's ID3v2 (2.4 or 2.3), an M4A's iTunes atoms, or an Ogg Opus/FLAC file's Vorbis comments,
chapters included, from one TagSpec (mutagen)."""

# mypy: disallow-untyped-calls=False
# (mutagen's frame classes and ID3/MP4 methods carry no annotations, and calling them is this module's job.)

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import mutagen
from mutagen.flac import FLAC, Picture, VCFLACDict
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    PCST,
    TALB,
    TCON,
    TDES,
    TDRC,
    TIME,
    TIT2,
    TPE1,
    TPOS,
    TRCK,
    WFED,
    WOAS,
    WXXX,
    CTOCFlags,
    Encoding,
    Frame,
    PictureType,
)
from mutagen.id3._tags import save_frame  # the one private helper: see _OrderedID3
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.oggopus import OggOpus

from pipeline.audio.chapters import ChapterMark, close_chapters
from pipeline.audio.encoding import probe_delivered
from pipeline.audio.ffmpeg import run_ffmpeg_with_input
from pipeline.audio.files import REEXPORT_HINT, open_audio, temp_beside
from pipeline.audio.probing import probe, sniff
from pipeline.errors import AudioError


@dataclass(frozen=True)
class TagSpec:
    """Everything written into a built file's tags, in listeners' words."""

    title: str
    author: str
    show: str
    date: str  # ISO 8601 date or date-time (time zones are converted to UTC)
    description: str = ""
    genre: str = "Podcast"
    episode: int | None = None
    season: int | None = None
    cover: bytes | None = None  # JPEG (or PNG) bytes, e.g. from cover_jpeg()
    feed_url: str | None = None
    page_url: str | None = None
    chapters: tuple[ChapterMark, ...] = ()
    id3_version: int = 4  # 3 or 4 (MP3 only)
    language: str = "eng"  # ISO 639-2 code for the ID3 comment frame


_IMAGE_MIME: tuple[tuple[bytes, str, int], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", MP4Cover.FORMAT_JPEG),
    (b"\x89PNG\r\n\x1a\n", "image/png", MP4Cover.FORMAT_PNG),
)
_ID3_PADDING = 1024  # fixed, so the bytes don't depend on what tag the file had before
_MP4_PADDING = 1024
_MP4_DESC_MAX = 255  # iTunes shows `desc` as a short summary; the full text goes in `ldes`

# TagSpec field -> ID3 frame. Text, numbers and URLs; everything else has its own builder below.
ID3_TEXT: dict[str, type[Frame]] = {
    "title": TIT2,
    "author": TPE1,
    "show": TALB,
    "genre": TCON,
    "description": TDES,
}
ID3_NUMBER: dict[str, type[Frame]] = {"episode": TRCK, "season": TPOS}
ID3_URL: dict[str, type[Frame]] = {"page_url": WOAS, "feed_url": WFED}
# TagSpec field -> MP4 atom.
MP4_TEXT: dict[str, str] = {"title": "\xa9nam", "author": "\xa9ART", "show": "\xa9alb", "genre": "\xa9gen"}
MP4_NUMBER: dict[str, str] = {"episode": "trkn", "season": "disk"}
MP4_URL: dict[str, str] = {"feed_url": "purl", "page_url": "----:com.apple.iTunes:URL"}
MP4_PODCAST_KIND = 21  # `stik` value iTunes uses for podcast episodes


def _image_kind(data: bytes, field: str) -> tuple[str, int]:
    for magic, mime, mp4_format in _IMAGE_MIME:
        if data.startswith(magic):
            return mime, mp4_format
    raise AudioError("is not a JPEG or PNG image", field=field, hint="pass the bytes from cover_jpeg()")


def _tag_date(value: str) -> str:
    """ISO 8601 -> the ID3v2.4/MP4 timestamp form; aware times become UTC (ID3 has no zone field)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise AudioError(
            f"'{value}' is not an ISO 8601 date", field="date", hint="e.g. 2024-05-01T09:00:00+01:00"
        ) from err
    if len(value) <= 10:
        return moment.strftime("%Y-%m-%d")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _check_spec(spec: TagSpec) -> None:
    if spec.id3_version not in (3, 4):
        raise AudioError(f"ID3 version must be 3 or 4, not {spec.id3_version}", field="audio.id3_version")
    for name in ("title", "author", "show"):
        if not getattr(spec, name).strip():
            raise AudioError("must not be empty", field=name)
    for name in ID3_NUMBER:
        value = getattr(spec, name)
        if value is not None and not (isinstance(value, int) and 0 <= value < 1 << 16):
            raise AudioError(f"{value!r} is not a whole number from 0 to 65535", field=name)
    if spec.cover is not None:
        _image_kind(spec.cover, "cover")
    for i, mark in enumerate(spec.chapters):
        if mark.image is not None:
            _image_kind(mark.image, f"chapters[{i}].image")


class _OrderedID3(ID3):
    """An ID3 tag written in insertion order.

    mutagen sorts frames by size, which scatters CHAP frames; readers that ignore CTOC (ffmpeg among them)
    then list chapters out of time order. We add frames in the order we want them on disk instead.
    """

    def _write(self, config: object) -> bytearray:
        return bytearray().join(save_frame(frame, config=config) for frame in self.values())


def _id3_tags(spec: TagSpec, date: str, chapters: Sequence[ChapterMark]) -> ID3:
    utf8 = Encoding.UTF8
    tags = _OrderedID3()
    for name, frame in ID3_TEXT.items():
        if value := getattr(spec, name):
            tags.add(frame(encoding=utf8, text=[value]))
    for name, frame in ID3_NUMBER.items():
        if (value := getattr(spec, name)) is not None:
            tags.add(frame(encoding=utf8, text=[str(value)]))
    tags.add(TDRC(encoding=utf8, text=[date]))
    if spec.description:
        tags.add(COMM(encoding=utf8, lang=spec.language, desc="", text=[spec.description]))
    for name, frame in ID3_URL.items():
        if value := getattr(spec, name):
            tags.add(frame(url=value))
    tags.add(PCST(value=1))
    ids = [f"chp{i}" for i in range(len(chapters))]
    if ids:
        tags.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=utf8, text=["Chapters"])],
            )
        )
    for element_id, mark in zip(ids, chapters, strict=True):
        assert mark.end is not None
        sub: list[Frame] = [TIT2(encoding=utf8, text=[mark.title])]
        if mark.url:
            sub.append(WXXX(encoding=utf8, desc="", url=mark.url))
        if mark.image is not None:
            mime, _ = _image_kind(mark.image, "chapters.image")
            sub.append(APIC(encoding=utf8, mime=mime, type=PictureType.OTHER, desc="", data=mark.image))
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=round(mark.start * 1000),
                end_time=round(mark.end * 1000),
                start_offset=0xFFFFFFFF,  # "unused": players seek by time, not by byte
                end_offset=0xFFFFFFFF,
                sub_frames=sub,
            )
        )
    if spec.cover is not None:  # last: the biggest frame, so players reach the text frames first
        mime, _ = _image_kind(spec.cover, "cover")
        tags.add(APIC(encoding=utf8, mime=mime, type=PictureType.COVER_FRONT, desc="Cover", data=spec.cover))
    return tags


def _write_id3(path: Path, spec: TagSpec, date: str, chapters: Sequence[ChapterMark]) -> None:
    tags = _id3_tags(spec, date, chapters)
    if spec.id3_version == 3:
        tags.update_to_v23()
        if "T" in date and "TIME" not in tags:  # mutagen skips TIME when the minute is 0 (e.g. 08:00)
            tags.add(TIME(encoding=Encoding.UTF8, text=[date[11:13] + date[14:16]]))
    try:
        # A fresh tag replaces whatever was there (unknown frames included); v1=0 removes any ID3v1 tail.
        tags.save(path, v2_version=spec.id3_version, v1=0, padding=lambda _info: _ID3_PADDING)
    except (mutagen.MutagenError, OSError) as err:
        raise AudioError(f"cannot write MP3 tags: {err}", file=path) from err


def _ffmetadata_escape(text: str) -> str:
    return re.sub(r"([=;#\\\n])", r"\\\1", text)


def _mp4_chapter_metadata(chapters: Sequence[ChapterMark]) -> str:
    lines = [";FFMETADATA1"]
    for mark in chapters:
        assert mark.end is not None
        start, end = round(mark.start * 1000), round(mark.end * 1000)
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={start}",
            f"END={end}",
            f"title={_ffmetadata_escape(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


def _mp4_tags(f: MP4, spec: TagSpec, date: str) -> None:
    tags = f.tags
    assert tags is not None
    for name, atom in MP4_TEXT.items():
        if value := getattr(spec, name):
            tags[atom] = [value]
    for name, atom in MP4_NUMBER.items():
        if (value := getattr(spec, name)) is not None:
            tags[atom] = [(value, 0)]
    for name, atom in MP4_URL.items():
        if value := getattr(spec, name):
            tags[atom] = [MP4FreeForm(value.encode("utf-8"))] if atom.startswith("----") else [value]
    tags["\xa9day"] = [date]
    if spec.description:
        short = spec.description
        if len(short) > _MP4_DESC_MAX:
            short = short[: _MP4_DESC_MAX - 1].rstrip() + "…"
        tags["desc"] = [short]
        tags["ldes"] = [spec.description]
    tags["pcst"] = True
    tags["stik"] = [MP4_PODCAST_KIND]
    if spec.cover is not None:
        _, fmt = _image_kind(spec.cover, "cover")
        tags["covr"] = [MP4Cover(spec.cover, imageformat=fmt)]


def _write_mp4(path: Path, spec: TagSpec, date: str, chapters: Sequence[ChapterMark]) -> None:
    # mutagen cannot write MP4 chapters, so ffmpeg remuxes the audio (no re-encode) with exactly the chapters
    # in the spec and nothing else from the old file; then mutagen writes the iTunes atoms.
    tmp = temp_beside(path, ".m4a")
    try:
        meta = ["-f", "ffmetadata", "-i", "pipe:0"] if chapters else []
        args = ["-i", str(path), *meta, "-map", "0:a:0", "-map_metadata", "1" if chapters else "-1"]
        args += ["-map_chapters", "1" if chapters else "-1", "-c", "copy"]
        args += [
            "-fflags",
            "+bitexact",
            "-flags",
            "+bitexact",
            "-movflags",
            "+faststart",
            "-f",
            "ipod",
            "-y",
            str(tmp),
        ]
        run_ffmpeg_with_input(
            args, _mp4_chapter_metadata(chapters) if chapters else "", file=path, doing="write MP4 chapters"
        )
        try:
            f = MP4(tmp)
            if f.tags is None:
                f.add_tags()
            else:
                f.tags.clear()
            _mp4_tags(f, spec, date)
            f.save(padding=lambda _info: _MP4_PADDING)
        except (mutagen.MutagenError, OSError) as err:
            raise AudioError(f"cannot write MP4 tags: {err}", file=path) from err
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# TagSpec field -> Vorbis comment (Ogg Opus and FLAC), after the Xiph recommendations and what players read.
VORBIS_TEXT: dict[str, str] = {
    "title": "TITLE",
    "author": "ARTIST",
    "show": "ALBUM",
    "genre": "GENRE",
    "description": "DESCRIPTION",
    "page_url": "CONTACT",
    "feed_url": "PODCASTURL",
}
VORBIS_NUMBER: dict[str, str] = {"episode": "TRACKNUMBER", "season": "DISCNUMBER"}
_FLAC_PADDING = 1024


def _vorbis_clock(seconds: float) -> str:
    """CHAPTERxxx=HH:MM:SS.mmm (the Vorbis chapter extension read by foobar2000, VLC, mpv, Podcast Addict)."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _picture(data: bytes, kind: int, desc: str, field: str) -> Picture:
    mime, _ = _image_kind(data, field)
    pic = Picture()
    pic.type, pic.mime, pic.desc, pic.data = kind, mime, desc, data
    return pic


def _vorbis_comments(spec: TagSpec, date: str, chapters: Sequence[ChapterMark]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, tag in VORBIS_TEXT.items():
        if value := getattr(spec, name):
            pairs.append((tag, value))
    for name, tag in VORBIS_NUMBER.items():
        if (value := getattr(spec, name)) is not None:
            pairs.append((tag, str(value)))
    pairs.append(("DATE", date))
    for i, mark in enumerate(chapters, start=1):
        pairs.append((f"CHAPTER{i:03d}", _vorbis_clock(mark.start)))
        pairs.append((f"CHAPTER{i:03d}NAME", mark.title))
        if mark.url:
            pairs.append((f"CHAPTER{i:03d}URL", mark.url))
    return pairs


def _write_opus(path: Path, spec: TagSpec, date: str, chapters: Sequence[ChapterMark]) -> None:
    try:
        f = OggOpus(path)
        assert f.tags is not None
        f.tags.clear()
        for tag, value in _vorbis_comments(spec, date, chapters):
            f.tags[tag] = [*f.tags.get(tag, []), value]
        if spec.cover is not None:  # Ogg has no picture block: the FLAC one, base64, as a comment
            pic = _picture(spec.cover, PictureType.COVER_FRONT, "Cover", "cover")
            f.tags["METADATA_BLOCK_PICTURE"] = [base64.b64encode(pic.write()).decode("ascii")]
        f.save()
    except (mutagen.MutagenError, OSError) as err:
        raise AudioError(f"cannot write Opus tags: {err}", file=path) from err


def _write_flac(path: Path, spec: TagSpec, date: str, chapters: Sequence[ChapterMark]) -> None:
    try:
        f = FLAC(path)
        f.clear_pictures()
        if f.tags is None:
            f.add_tags()
        tags = f.tags
        assert isinstance(tags, VCFLACDict)
        tags.clear()
        for tag, value in _vorbis_comments(spec, date, chapters):
            tags[tag] = [*tags.get(tag, []), value]
        if spec.cover is not None:
            f.add_picture(_picture(spec.cover, PictureType.COVER_FRONT, "Cover", "cover"))
        f.save(padding=lambda _info: _FLAC_PADDING)
    except (mutagen.MutagenError, OSError) as err:
        raise AudioError(f"cannot write FLAC tags: {err}", file=path) from err


_TAG_WRITERS: dict[str, Callable[[Path, TagSpec, str, Sequence[ChapterMark]], None]] = {
    "mp3": _write_id3,
    "m4a": _write_mp4,
    "ogg": _write_opus,
    "flac": _write_flac,
}


def write_tags(path: Path, spec: TagSpec) -> None:
    """Replace all tags of an MP3 (ID3v2.4, or 2.3), M4A, Ogg Opus or FLAC file with exactly `spec`, chapters included.

    Writes the file it is given (a build copy; sources only through `podcast tag --in-place`). The same spec
    on the same audio always gives the same bytes. MP3 chapters are CHAP frames under one ordered top-level
    CTOC; M4A chapters are a QuickTime chapter track plus a Nero `chpl` list, written by ffmpeg; Opus and FLAC
    chapters are CHAPTERxxx/CHAPTERxxxNAME comments, and their cover a (base64, for Ogg) FLAC picture block.
    """
    path = Path(path)
    _check_spec(spec)
    date = _tag_date(spec.date)
    with open_audio(path) as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise AudioError("the audio file is empty (0 bytes)", file=path, hint=REEXPORT_HINT)
        container, _ = sniff(fh)
        if not container:
            fh.seek(0)
            if fh.read(4) == b"OggS":
                container = "ogg"
    writer = _TAG_WRITERS.get(container)
    if writer is None:
        what = f"a {container.upper()} file" if container else "not an audio file we can read"
        raise AudioError(
            f"cannot tag {what}",
            file=path,
            hint="tags are written to built MP3, M4A, Ogg Opus and FLAC files",
        )
    chapters: Sequence[ChapterMark] = spec.chapters
    if chapters:
        if any(mark.end is None for mark in chapters):
            duration = probe_delivered(path, "opus").duration if container == "ogg" else probe(path).duration
        else:
            duration = max(mark.end or 0.0 for mark in chapters)
        try:
            chapters = close_chapters(chapters, duration)
        except AudioError as err:
            raise AudioError(err.message, file=path, field=err.field, hint=err.hint) from None
    writer(path, spec, date, chapters)
