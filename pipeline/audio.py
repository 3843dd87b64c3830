"""Probe, encode, normalise and tag audio files: the only module that runs ffmpeg or imports mutagen."""

from __future__ import annotations

import functools
import hashlib
import io
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

import imageio_ffmpeg
import mutagen
import PIL
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
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
from mutagen.mp3 import MP3, BitrateMode
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm
from mutagen.wave import WAVE
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import AudioError
from pipeline.progress import NullReporter, Reporter, Task

# Bump when the encode or tag recipe changes, so build caches keyed on tool_versions() are invalidated.
RECIPE_VERSION = 2  # 2: loudness is checked on the delivered file and corrected

DIGEST_CHUNK = 1 << 20  # 1 MiB reads for file_digest
SUPPORTED_HINT = "expected an MP3, M4A, WAV, FLAC or AIFF recording"
REEXPORT_HINT = "the file looks damaged or cut short; copy or export it again"
FFMPEG_HINT = "the file may be damaged or use a codec ffmpeg cannot decode; export it again as WAV or FLAC"


# --------------------------------------------------------------------------------------------------
# Public data
# --------------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Loudness:
    """An EBU R128 measurement of a whole file."""

    integrated: float  # LUFS
    lra: float  # loudness range, LU
    true_peak: float  # dBTP
    threshold: float  # relative gate of the integrated measurement, LUFS


@dataclass(frozen=True)
class EncodeSettings:
    """The delivery format, in show.yaml's terms (`audio:`)."""

    format: str = "mp3"  # "mp3" or "m4a"
    bitrate: int | None = None  # kbps; None -> 128 for stereo, 96 for mono
    channels: int | None = None  # 1 or 2; None keeps the source's count (at most 2)
    sample_rate: int = 44100  # Hz
    loudness: float | None = None  # integrated target in LUFS; None leaves the level alone
    true_peak: float = -1.0  # dBTP ceiling, applied when loudness is set


@dataclass(frozen=True)
class EncodeResult:
    """What encode() delivered."""

    path: Path
    action: Literal["copy", "encode"]
    info: AudioInfo  # the delivered file
    source: AudioInfo
    measured: Loudness | None  # the source's loudness, when normalising
    normalization: str | None  # "linear" (a plain gain) or "dynamic" (gain and true-peak limiter)
    delivered: Loudness | None = None  # the delivered file's loudness, when normalising
    passes: int = 0  # normalising encodes run (1 + corrective passes)


@dataclass(frozen=True)
class ChapterMark:
    """One chapter. `end` may be left None; close_chapters()/write_tags() derive it from the next start."""

    start: float  # seconds
    title: str
    end: float | None = None  # seconds
    url: str | None = None
    image: bytes | None = None  # JPEG or PNG bytes


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


# --------------------------------------------------------------------------------------------------
# ffmpeg
# --------------------------------------------------------------------------------------------------


@functools.cache
def _ffmpeg() -> str:
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        raise AudioError(
            f"ffmpeg is not available: {err}", hint="reinstall the imageio-ffmpeg package"
        ) from err


# Lines ffmpeg prints after the real problem; the message we show is the last line that is not one of these.
_FFMPEG_NOISE = re.compile(
    r"^(Conversion failed!|Error opening (input|output) files?|Error while (filtering|decoding)|"
    r"Exiting normally|Terminating thread|Task finished with error code|\[out#|Nothing was written)"
)
_FFMPEG_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\] ?)+")


@dataclass(frozen=True)
class _Run:
    stderr: list[str]
    out_time: float | None  # seconds written, from -progress


def _ffmpeg_message(lines: Sequence[str]) -> str:
    cleaned = [_FFMPEG_PREFIX.sub("", line).strip() for line in lines]
    cleaned = [line for line in cleaned if line]
    for line in reversed(cleaned):
        if not _FFMPEG_NOISE.match(line):
            return line
    return cleaned[-1] if cleaned else "ffmpeg failed without a message"


def _run_ffmpeg(
    args: Sequence[str],
    *,
    file: Path,
    doing: str,
    task: Task | None = None,
    loglevel: str = "error",
) -> _Run:
    """Run ffmpeg with machine-readable progress; raise AudioError with its last meaningful line on failure."""
    cmd = [_ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", loglevel, "-progress", "pipe:1"]
    stderr: deque[str] = deque(maxlen=4000)
    proc = subprocess.Popen(
        [*cmd, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None and proc.stderr is not None
    drain = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    drain.start()
    out_time: float | None = None
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                out_time = int(value) / 1e6
                if task is not None:
                    task.update(max(0.0, out_time))
        rc = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join()
    lines = [line.rstrip("\n") for line in stderr]
    if rc != 0:
        raise AudioError(f"ffmpeg could not {doing}: {_ffmpeg_message(lines)}", file=file, hint=FFMPEG_HINT)
    return _Run(lines, out_time)


def _scan_duration(path: Path) -> float:
    """Exact duration by letting ffmpeg walk every packet (no decoding); for files whose headers don't say."""
    run = _run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "null", "-"], file=path, doing="read"
    )
    return run.out_time or 0.0


# --------------------------------------------------------------------------------------------------
# probe
# --------------------------------------------------------------------------------------------------

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

_MPEG_VERSIONS = {3: 1, 2: 2, 0: 25}  # header bits -> MPEG 1, 2, 2.5
_MPEG_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}
_MPEG_KBPS = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Encoders whose LAME-style tag carries a trustworthy encoder delay and padding.
_LAME_TAGS = (b"LAME", b"Lavc", b"Lavf", b"L3.99")


@dataclass(frozen=True)
class _MpegFrame:
    version: int  # 1, 2 or 25
    layer: int
    bitrate: int  # bps
    sample_rate: int
    mono: bool
    length: int  # bytes
    samples: int  # per frame


def _mpeg_frame(header: bytes) -> _MpegFrame | None:
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = _MPEG_VERSIONS.get((header[1] >> 3) & 3)
    layer = 4 - ((header[1] >> 1) & 3)
    rate_index, kbps_index = (header[2] >> 2) & 3, header[2] >> 4
    if version is None or layer == 4 or rate_index == 3 or kbps_index in (0, 15):
        return None
    kbps = _MPEG_KBPS[(min(version, 2), layer)][kbps_index]
    rate = _MPEG_RATES[version][rate_index]
    pad = (header[2] >> 1) & 1
    if layer == 1:
        length, samples = (12 * kbps * 1000 // rate + pad) * 4, 384
    elif layer == 3 and version != 1:
        length, samples = 72 * kbps * 1000 // rate + pad, 576
    else:
        length, samples = 144 * kbps * 1000 // rate + pad, 1152
    return _MpegFrame(version, layer, kbps * 1000, rate, (header[3] >> 6) == 3, length, samples)


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
    frame = _mpeg_frame(buf[i : i + 4])
    if frame is None:
        return None
    following = buf[i + frame.length : i + frame.length + 4]
    if len(following) == 4 and _mpeg_frame(following) is None:
        return None
    return start + i


def _sniff(fh: BinaryIO) -> tuple[str, int]:
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


@dataclass(frozen=True)
class _Details:
    codec: str
    duration: float
    bitrate: int
    vbr: bool = False
    container: str | None = None  # override (an MP4 with video)
    mime: str | None = None


def _truncated(path: Path, have: int, want: int) -> AudioError:
    return AudioError(
        f"the file ends early: {have} of {want} bytes of audio are present", file=path, hint=REEXPORT_HINT
    )


def _mp3_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> _Details:
    fh.seek(start)
    frame_bytes = fh.read(2048)
    frame = _mpeg_frame(frame_bytes)
    info = f.info
    codec = {1: "mp1", 2: "mp2", 3: "mp3"}[frame.layer] if frame else "mp3"
    if frame is not None and frame.layer == 3:
        side = (17 if frame.mono else 32) if frame.version == 1 else (9 if frame.mono else 17)
        at = 4 + side
        tag = frame_bytes[at : at + 4]
        if tag in (b"Xing", b"Info"):
            flags = struct.unpack(">I", frame_bytes[at + 4 : at + 8])[0]
            pos, frames, stream_bytes = at + 8, None, None
            if flags & 1:
                frames = struct.unpack(">I", frame_bytes[pos : pos + 4])[0]
                pos += 4
            if flags & 2:
                stream_bytes = struct.unpack(">I", frame_bytes[pos : pos + 4])[0]
                pos += 4
            pos += (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
            delay = padding = 0
            if frame_bytes[pos : pos + 9].startswith(_LAME_TAGS):
                d = frame_bytes[pos + 21 : pos + 24]
                delay, padding = (d[0] << 4) | (d[1] >> 4), ((d[1] & 0x0F) << 8) | d[2]
            if stream_bytes is not None and size - start + 2 * frame.length < stream_bytes:
                raise _truncated(path, size - start, stream_bytes)
            if frames:
                samples = max(0, frames * frame.samples - delay - padding)
                duration = samples / frame.sample_rate
                return _Details(codec, duration, int(info.bitrate), vbr=tag == b"Xing")
    # No Xing header: the length mutagen estimates from the first frame is wrong for VBR, so count packets.
    duration = _scan_duration(path)
    bitrate = round((size - start) * 8 / duration) if duration > 0 else int(info.bitrate)
    vbr = (
        info.bitrate_mode in (BitrateMode.VBR, BitrateMode.ABR)
        or abs(bitrate - info.bitrate) > 0.03 * info.bitrate
    )
    return _Details(codec, duration, bitrate, vbr=vbr)


def _wav_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> _Details:
    info = f.info
    fh.seek(start + 12)
    pos, fmt_code, data_size, data_at = start + 12, None, None, 0
    while pos + 8 <= size:
        fh.seek(pos)
        cid, csize = struct.unpack("<4sI", fh.read(8))
        if cid == b"fmt ":
            fmt = fh.read(min(csize, 40))
            fmt_code = struct.unpack("<H", fmt[:2])[0]
            if fmt_code == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real code leads the GUID
                fmt_code = struct.unpack("<H", fmt[24:26])[0]
        elif cid == b"data":
            data_size, data_at = csize, pos + 8
            break
        pos += 8 + csize + (csize & 1)
    if data_size is None or fmt_code is None:
        raise AudioError("the WAV file has no audio data", file=path, hint=REEXPORT_HINT)
    have = size - data_at
    block = max(1, info.channels * ((info.bits_per_sample + 7) // 8))
    if data_size in (0, 0xFFFFFFFF) and have > 0:
        # Written by a streaming tool that never went back to fill the size in: the audio runs to the end.
        data_size = have - have % block
    if data_size > have:
        raise _truncated(path, have, data_size)
    codec = _WAV_CODECS.get(fmt_code, lambda bits: f"wav_0x{fmt_code:04x}")(info.bits_per_sample)
    if codec.startswith("wav_0x"):  # compressed WAV: the header's block size says nothing about time
        return _Details(codec, _scan_duration(path), int(info.bitrate))
    return _Details(codec, data_size / block / info.sample_rate, int(info.bitrate))


_WAV_CODECS: dict[int, Callable[[int], str]] = {
    1: lambda bits: "pcm_u8" if bits == 8 else f"pcm_s{bits}le",
    3: lambda bits: f"pcm_f{bits}le",
    6: lambda bits: "pcm_alaw",
    7: lambda bits: "pcm_mulaw",
}

_AIFC_CODECS: dict[bytes, Callable[[int], str]] = {
    b"NONE": lambda bits: f"pcm_s{bits}be",
    b"twos": lambda bits: f"pcm_s{bits}be",
    b"sowt": lambda bits: f"pcm_s{bits}le",
    b"fl32": lambda bits: "pcm_f32be",
    b"FL32": lambda bits: "pcm_f32be",
    b"fl64": lambda bits: "pcm_f64be",
    b"FL64": lambda bits: "pcm_f64be",
}


def _aiff_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> _Details:
    info = f.info
    fh.seek(start + 8)
    aifc = fh.read(4) == b"AIFC"
    pos, compression, frames, data_have = start + 12, b"NONE", 0, None
    while pos + 8 <= size:
        fh.seek(pos)
        cid, csize = struct.unpack(">4sI", fh.read(8))
        if cid == b"COMM":
            comm = fh.read(min(csize, 22))
            frames = struct.unpack(">I", comm[2:6])[0]
            if aifc and len(comm) >= 22:
                compression = comm[18:22]
        elif cid == b"SSND":
            offset = struct.unpack(">I", fh.read(4))[0]
            data_have = min(csize, size - pos - 8) - 8 - offset
            break
        pos += 8 + csize + (csize & 1)
    if data_have is None:
        raise AudioError("the AIFF file has no audio data", file=path, hint=REEXPORT_HINT)
    codec_of = _AIFC_CODECS.get(compression)
    if codec_of is None:
        return _Details(
            f"aifc_{compression.decode('latin-1').strip()}", _scan_duration(path), int(info.bitrate)
        )
    need = frames * info.channels * ((info.bits_per_sample + 7) // 8)
    if data_have < need:
        raise _truncated(path, max(0, data_have), need)
    return _Details(codec_of(info.bits_per_sample), float(info.length), int(info.bitrate))


def _flac_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> _Details:
    info = f.info
    if not info.total_samples:
        return _Details("flac", _scan_duration(path), int(info.bitrate))
    # FLAC headers can't reveal a cut-off tail, so decode the last second: a truncated file yields little or
    # nothing. Decoder errors alone prove nothing: taggers append ID3v1 or padding after the last frame.
    tail = min(1.0, float(info.length))
    run = _run_ffmpeg(
        ["-sseof", f"-{tail:.3f}", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"],
        file=path,
        doing="read",
    )
    if (run.out_time or 0.0) < tail - 0.1:
        raise AudioError(
            "the FLAC file ends early or its last frames are damaged", file=path, hint=REEXPORT_HINT
        )
    return _Details("flac", float(info.length), int(info.bitrate))


_MP4_CODECS = {
    "mp4a.40.2": "aac",
    "mp4a.40.5": "he-aac",
    "mp4a.40.29": "he-aac-v2",
    "mp4a.40.34": "mp3",
    "mp4a.6b": "mp3",
    "alac": "alac",
    "ac-3": "ac3",
    "ec-3": "eac3",
}
_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"}


def _mp4_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    pos, end = start, len(data) if end is None else end
    while pos + 8 <= end:
        size, name = struct.unpack(">I4s", data[pos : pos + 8])
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield name, data[pos + head : pos + size]
        pos += size


def _mp4_tree(data: bytes) -> dict[bytes, list[bytes]]:
    """Flatten the moov tree into {path: [payloads]}, e.g. b"trak/mdia/hdlr"."""
    found: dict[bytes, list[bytes]] = {}

    def walk(payload: bytes, prefix: bytes) -> None:
        for name, body in _mp4_boxes(payload):
            key = prefix + name
            found.setdefault(key, []).append(body)
            if name in _MP4_CONTAINERS:
                walk(body, key + b"/")

    walk(data, b"")
    return found


def _mp4_moov(path: Path, fh: BinaryIO, size: int) -> bytes:
    """The moov box's payload, after checking that the top-level boxes tile the file exactly.

    A box that runs past the end means the file was cut short (a half-finished copy or export).
    """
    pos, moov, has_mdat = 0, None, False
    while pos + 8 <= size:
        fh.seek(pos)
        box_size, name = struct.unpack(">I4s", fh.read(8))
        head = 8
        if box_size == 1:
            box_size, head = struct.unpack(">Q", fh.read(8))[0], 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < head:
            raise AudioError("the MP4 structure is damaged", file=path, hint=REEXPORT_HINT)
        if pos + box_size > size:
            raise _truncated(path, size - pos, box_size)
        if name == b"moov":
            moov = fh.read(box_size - head)
        has_mdat = has_mdat or name == b"mdat"
        pos += box_size
    if pos < size:  # a few bytes too short even for the next box header
        raise _truncated(path, size - pos, 8)
    if moov is None or not has_mdat:
        raise AudioError("the MP4 file has no audio data", file=path, hint=REEXPORT_HINT)
    return moov


def _m4a_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> _Details:
    info = f.info
    moov = _mp4_moov(path, fh, size)
    codec = _MP4_CODECS.get(info.codec, info.codec or "unknown")
    tree = _mp4_tree(moov)
    # One entry per trak, in order; handler types say which is sound and whether there is video.
    handlers = [body[8:12] for body in tree.get(b"trak/mdia/hdlr", [])]
    video = b"vide" in handlers
    duration = float(info.length)
    smpb = (f.tags or {}).get("----:com.apple.iTunes:iTunSMPB")
    if smpb:
        fields = bytes(smpb[0]).decode("latin-1").split()
        if len(fields) >= 4 and info.sample_rate:
            duration = int(fields[3], 16) / info.sample_rate
    else:
        duration = _mp4_edit_duration(tree, handlers) or duration
    extra = {"container": "mp4", "mime": "video/mp4"} if video else {}
    return _Details(codec, duration, int(info.bitrate), **extra)


def _mp4_edit_duration(tree: dict[bytes, list[bytes]], handlers: list[bytes]) -> float | None:
    """Presentation length from the sound track's edit list (excludes AAC priming), in seconds."""
    mvhd = tree.get(b"mvhd", [b""])[0]
    if len(mvhd) < 20 or b"soun" not in handlers:
        return None
    timescale = struct.unpack(">I", mvhd[20:24] if mvhd[0] == 1 else mvhd[12:16])[0]
    # Edit lists are only attributable to a track when every trak has one; otherwise fall back to mdhd.
    elsts = tree.get(b"trak/edts/elst", [])
    if not timescale or len(elsts) != len(handlers):
        return None
    elst = elsts[handlers.index(b"soun")]
    version, count = elst[0], struct.unpack(">I", elst[4:8])[0]
    entry, fmt = (20, ">QqI") if version == 1 else (12, ">IiI")
    total = 0
    for i in range(count):
        seg, _media_time, _rate = struct.unpack(fmt, elst[8 + i * entry : 8 + (i + 1) * entry])
        total += seg
    return total / timescale if total else None


_Detailer = Callable[[Path, BinaryIO, mutagen.FileType, int, int], _Details]


@dataclass(frozen=True)
class _Container:
    mime: str
    opener: Callable[[BinaryIO], mutagen.FileType]
    details: _Detailer
    precheck: Callable[[Path, BinaryIO, int], object] | None = None  # structure checks mutagen would trip on


_CONTAINERS: dict[str, _Container] = {
    "mp3": _Container("audio/mpeg", MP3, _mp3_details),
    "m4a": _Container("audio/mp4", MP4, _m4a_details, _mp4_moov),
    "wav": _Container("audio/wav", WAVE, _wav_details),
    "flac": _Container("audio/flac", FLAC, _flac_details),
    "aiff": _Container("audio/aiff", AIFF, _aiff_details),
}


# What parsing a damaged header can raise, in mutagen or in our own struct reads.
_HEADER_ERRORS = (struct.error, ValueError, IndexError, KeyError, EOFError, ZeroDivisionError, OverflowError)


def _open(path: Path) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError as err:
        raise AudioError("audio file not found", file=path, hint="check the `audio:` path") from err
    except IsADirectoryError as err:
        raise AudioError("is a folder, not an audio file", file=path, hint=SUPPORTED_HINT) from err
    except OSError as err:
        raise AudioError(f"cannot read audio file: {err.strerror}", file=path) from err


def probe(path: Path) -> AudioInfo:
    """Read an audio file's format, duration and size from its content (never its extension).

    Raises AudioError, naming the file, for anything that is not complete, readable audio: an empty,
    truncated or corrupt file, or another kind of file with an audio extension.
    """
    path = Path(path)
    with _open(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise AudioError("the audio file is empty (0 bytes)", file=path, hint=REEXPORT_HINT)
        container, start = _sniff(fh)
        if start >= size:
            raise AudioError(
                "the file ends inside its ID3 tag, before any audio", file=path, hint=REEXPORT_HINT
            )
        if not container:
            fh.seek(0)
            raise _not_audio(path, fh.read(1024))
        kind = _CONTAINERS[container]
        if kind.precheck is not None:
            try:
                kind.precheck(path, fh, size)
            except _HEADER_ERRORS as err:
                raise AudioError(
                    f"the {container.upper()} header is damaged or incomplete", file=path, hint=REEXPORT_HINT
                ) from err
        try:
            fh.seek(0)
            f = kind.opener(fh)
        except (mutagen.MutagenError, *_HEADER_ERRORS) as err:
            reason = str(err).strip().rstrip(".")
            if len(reason) < 8:  # mutagen sometimes says just "error" or nothing at all
                reason = "its header is damaged or incomplete"
            raise AudioError(
                f"cannot read this {container.upper()} file: {reason}", file=path, hint=REEXPORT_HINT
            ) from err
        if (
            f is None
            or f.info is None
            or not getattr(f.info, "sample_rate", 0)
            or not getattr(f.info, "channels", 0)
        ):
            raise AudioError(f"cannot read this {container.upper()} file", file=path, hint=REEXPORT_HINT)
        try:
            details = kind.details(path, fh, f, start, size)
        except _HEADER_ERRORS as err:  # a header cut off mid-field, or nonsense numbers in it
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
        sample_rate=int(f.info.sample_rate),
        channels=int(f.info.channels),
        vbr=details.vbr,
    )


# --------------------------------------------------------------------------------------------------
# loudness
# --------------------------------------------------------------------------------------------------

# Normalising is a gain, plus a true-peak limiter when the gained peaks would pass the ceiling, and is checked on
# the delivered file: a limiter costs loudness on peaky speech and lossy codecs shift loudness and peaks again
# (MP3 drops high-frequency energy; AAC can overshoot), so a file that misses gets a corrective pass.
_LOSSY_TP_MARGIN = 0.5  # dB under the ceiling the first pass limits to: decoders peak above the limiter
_LOUDNESS_TOLERANCE = (
    0.3  # LU off the target a delivered file may be (the spec allows 1; the meter reads 0.1s)
)
_CORRECTIVE_PASSES = 2
_PEAK_GUARD = 0.1  # dB under the ceiling a delivered true peak must read (the meter rounds to 0.1)
_PEAK_AIM = 0.2  # dB under the ceiling that a corrective pass aims the delivered true peak at
_LIMITED_RESPONSE = 0.6  # LU delivered per dB of gain, assumed while the limiter works (plain gain: 1)
_OVERSAMPLE = 4  # the limiter runs at 4x the delivery rate, so it holds true (inter-sample) peaks too
# Lookahead limiter: attack (= lookahead) and release in ms, no auto-level, lookahead delay compensated.
_LIMITER = "alimiter=limit={limit:.6f}:attack=5:release=50:level=false:latency=true"


# The meter: ffmpeg's ebur128 filter (BS.1770 loudness, true peak from 4x oversampling), whose summary gives
# each figure to 0.1: the meter the delivery spec is checked with, and several times faster than loudnorm's.
_METER = "ebur128=peak=true:framelog=quiet"
_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+(?P<integrated>\S+) LUFS\s+Threshold:\s+(?P<threshold>\S+) LUFS"
    r"\s+Loudness range:\s+LRA:\s+(?P<lra>\S+) LU.*?True peak:\s+Peak:\s+(?P<true_peak>\S+) dBFS",
    re.S,
)


def _measure(
    path: Path, filters: Sequence[str], duration: float, reporter: Reporter, *, label: str = ""
) -> Loudness:
    task = reporter.task(label or f"Measuring loudness of {path.name}", duration, unit="s")
    try:
        run = _run_ffmpeg(
            ["-i", str(path), "-map", "0:a:0", "-af", ",".join([*filters, _METER]), "-f", "null", "-"],
            file=path,
            doing="measure loudness",
            task=task,
            loglevel="info",
        )
    finally:
        task.close()
    text = "\n".join(run.stderr)
    match = _SUMMARY.search(text, text.rfind("Summary:") + 1)
    if match is None:
        raise AudioError("ffmpeg did not report a loudness measurement", file=path, hint=REEXPORT_HINT)
    loudness = Loudness(**{name: float(value) for name, value in match.groupdict().items()})
    if not math.isfinite(loudness.integrated) or loudness.integrated <= -70.0:
        raise AudioError(
            "the audio is silent, so its loudness cannot be normalised",
            file=path,
            hint="check the recording, or remove `loudness` from the show's audio settings",
        )
    return loudness


def measure_loudness(path: Path, *, reporter: Reporter = NullReporter()) -> Loudness:  # noqa: B008
    """EBU R128 integrated loudness, loudness range and true peak of a whole file (ffmpeg ebur128, 0.1 steps)."""
    path = Path(path)
    info = probe(path)
    return _measure(path, [], info.duration, reporter)


# --------------------------------------------------------------------------------------------------
# encode
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Delivery:
    container: str
    codec: str
    encoder: str
    muxer: str
    options: tuple[str, ...]


_DELIVERY: dict[str, _Delivery] = {
    # The Xing/LAME header carries frame count, encoder delay and padding, so players (and probe) get the
    # exact duration; tags are written afterwards by write_tags, never by ffmpeg.
    "mp3": _Delivery(
        "mp3", "mp3", "libmp3lame", "mp3", ("-write_xing", "1", "-id3v2_version", "0", "-write_id3v1", "0")
    ),
    # moov first so apps can start playing before the download ends.
    "m4a": _Delivery("m4a", "aac", "aac", "ipod", ("-movflags", "+faststart")),
}
_DEFAULT_KBPS = {1: 96, 2: 128}
_BITRATE_TOLERANCE = 0.10  # a source within 10% of the target bitrate is delivered as is
_SAMPLE_RATES = (22050, 24000, 32000, 44100, 48000)
# Channel conversions that ffmpeg's default matrix gets wrong for podcasts: it sums stereo to mono at -3 dB
# per side, so dual-mono recordings come out 3 dB hotter (and can clip). Average the sides instead.
_DOWNMIX: dict[tuple[int, int], str] = {(2, 1): "pan=mono|c0=0.5*c0+0.5*c1"}
_SETTING_RANGES: dict[str, tuple[float, float]] = {
    "bitrate": (32, 320),
    "loudness": (-70.0, -5.0),
    "true_peak": (-9.0, 0.0),
}


def _check_settings(settings: EncodeSettings) -> None:
    if settings.format not in _DELIVERY:
        raise AudioError(
            f"'{settings.format}' is not a delivery format", field="audio.format", hint="use 'mp3' or 'm4a'"
        )
    if settings.channels not in (None, 1, 2):
        raise AudioError(f"channels must be 1 or 2, not {settings.channels}", field="audio.channels")
    if settings.sample_rate not in _SAMPLE_RATES:
        raise AudioError(
            f"unsupported sample rate {settings.sample_rate}",
            field="audio.sample_rate",
            hint="use " + ", ".join(map(str, _SAMPLE_RATES)),
        )
    for name, (low, high) in _SETTING_RANGES.items():
        value = getattr(settings, name)
        if value is not None and not low <= value <= high:
            raise AudioError(f"{value} is outside {low:g}..{high:g}", field=f"audio.{name}")


def _target_channels(info: AudioInfo, settings: EncodeSettings) -> int:
    return settings.channels or min(info.channels, 2)


def _target_kbps(channels: int, settings: EncodeSettings) -> int:
    return settings.bitrate or _DEFAULT_KBPS[channels]


def plan_encode(info: AudioInfo, settings: EncodeSettings) -> Literal["copy", "encode"]:
    """Return "copy" when the source already is the delivery format (so it is passed through bit for bit), else "encode".

    Already deliverable means: same container and codec, same sample rate and channel count, a bitrate within
    10% of the target, constant bitrate for MP3 (VBR seeks badly in some apps), and no loudness target.
    """
    _check_settings(settings)
    delivery = _DELIVERY[settings.format]
    channels = _target_channels(info, settings)
    target_bps = _target_kbps(channels, settings) * 1000
    same = (
        settings.loudness is None
        and info.container == delivery.container
        and info.codec == delivery.codec
        and info.sample_rate == settings.sample_rate
        and info.channels == channels
        and abs(info.bitrate - target_bps) <= _BITRATE_TOLERANCE * target_bps
        and not (delivery.container == "mp3" and info.vbr)
    )
    return "copy" if same else "encode"


def _channel_filters(info: AudioInfo, channels: int) -> list[str]:
    if info.channels == channels:
        return []
    layout = "mono" if channels == 1 else "stereo"
    return [_DOWNMIX.get((info.channels, channels), f"aformat=channel_layouts={layout}")]


@dataclass(frozen=True)
class _Aim:
    """What one normalising pass applies to the source."""

    gain: float  # dB
    limit: float | None  # dBTP the limiter holds peaks to; None when the gained peaks fit (no limiter)


@dataclass(frozen=True)
class _Attempt:
    """One normalising pass and what its delivered file measures."""

    path: Path
    aim: _Aim
    peak: float  # expected true peak before the codec: the limit, or the source's peak plus the gain
    delivered: Loudness


def _aim(gain: float, limit: float, source: Loudness) -> _Aim:
    gain, limit = round(gain, 2), round(limit, 2)
    return _Aim(gain, None if source.true_peak + gain <= limit else limit)


def _level_filters(aim: _Aim, sample_rate: int) -> list[str]:
    chain = [f"volume={aim.gain:.2f}dB"]
    if aim.limit is not None:
        chain += [
            f"aresample={_OVERSAMPLE * sample_rate}",
            _LIMITER.format(limit=10 ** (aim.limit / 20)),
            f"aresample={sample_rate}",
        ]
    return chain


def _peak_limit(settings: EncodeSettings) -> float:
    """The highest true peak a delivered file may measure here: just under the ceiling, as other meters differ."""
    return settings.true_peak - _PEAK_GUARD


def _on_target(settings: EncodeSettings, attempt: _Attempt) -> bool:
    assert settings.loudness is not None
    got = attempt.delivered
    near = abs(got.integrated - settings.loudness) <= _LOUDNESS_TOLERANCE
    return near and got.true_peak <= _peak_limit(settings)


def _rank(settings: EncodeSettings, attempt: _Attempt) -> tuple[bool, float]:
    """Sort key, best first: under the ceiling above all, then nearest the target (or else least over the ceiling)."""
    assert settings.loudness is not None
    got = attempt.delivered
    over = got.true_peak - _peak_limit(settings)
    return (over > 0, over if over > 0 else abs(got.integrated - settings.loudness))


def _next_aim(settings: EncodeSettings, source: Loudness, tried: Sequence[_Attempt]) -> _Aim:
    """The gain and limit for the next pass, from what the passes so far missed by.

    The gain moves by the loudness miss divided by how strongly the delivered loudness answers the gain: as
    measured over the last two passes when their gains differ, else 1 for a plain gain or _LIMITED_RESPONSE
    while the limiter works (it takes back part of any extra gain). The limit is set so the delivered peak
    lands _PEAK_AIM under the ceiling, lowered by any overshoot the codec added last time (a codec that
    lowered the peak is not relied on to do so again).
    """
    assert settings.loudness is not None
    last = tried[-1]
    got = last.delivered
    response = 1.0 if last.aim.limit is None else _LIMITED_RESPONSE
    if len(tried) > 1:
        before = tried[-2]
        moved = last.aim.gain - before.aim.gain
        if abs(moved) >= 0.1:
            response = min(1.0, max(0.25, (got.integrated - before.delivered.integrated) / moved))
    step = max(-6.0, min(6.0, (settings.loudness - got.integrated) / response))
    overshoot = max(0.0, got.true_peak - last.peak)
    limit = max(-20.0, min(0.0, settings.true_peak - _PEAK_AIM - overshoot))
    return _aim(last.aim.gain + step, limit, source)


def _temp_beside(dst: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=suffix)
    os.close(fd)
    return Path(name)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def encode(
    src: Path,
    dst: Path,
    settings: EncodeSettings,
    *,
    reporter: Reporter = NullReporter(),  # noqa: B008
) -> EncodeResult:
    """Deliver `src` as `dst` in the requested format; the source is only read.

    A source that already is the delivery format is copied byte for byte. Otherwise ffmpeg encodes it with
    bit-exact flags (same input, same bytes), dropping the source's tags and chapters. With a loudness target
    it measures the source, applies the gain that calls for (through a true-peak limiter when the peaks would
    pass the ceiling), and measures the encoded file: one further than _LOUDNESS_TOLERANCE from the target, or
    over the ceiling, gets up to _CORRECTIVE_PASSES corrective passes, and the best file is delivered
    (`delivered` holds its measurement). `dst` appears atomically: it is written beside itself and renamed.
    """
    src, dst = Path(src), Path(dst)
    _check_settings(settings)
    source = probe(src)
    if _same_file(src, dst):
        raise AudioError(
            "refusing to encode a file over itself", file=src, hint="write into the build folder"
        )
    action = plan_encode(source, settings)
    channels = _target_channels(source, settings)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(dst, ".part")
    measured: Loudness | None = None
    delivered: Loudness | None = None
    normalization: str | None = None
    passes = 0
    try:
        if action == "copy":
            reporter.step(f"Copying {src.name} (already {settings.format} at the target settings)")
            shutil.copyfile(src, tmp)
        elif settings.loudness is not None:
            filters = _channel_filters(source, channels)
            measured = _measure(src, filters, source.duration, reporter)
            best, passes = _normalise(src, dst, tmp, source, settings, channels, filters, measured, reporter)
            normalization = "linear" if best.aim.limit is None else "dynamic"
            delivered = best.delivered
        else:
            args = _encode_args(src, tmp, settings, channels, _channel_filters(source, channels))
            run = _encode_run(src, args, settings, source, reporter, f"Encoding {src.name}")
            problems = [line for line in run.stderr if line.strip()]
            if problems:
                reporter.warn(
                    f"{src}: ffmpeg reported {len(problems)} problem(s): {_ffmpeg_message(problems)}"
                )
        info = probe(tmp)
        if abs(info.duration - source.duration) > 0.1 + 0.001 * source.duration:
            raise AudioError(
                f"the encoded audio lasts {info.duration:.3f} s but the source lasts {source.duration:.3f} s",
                file=src,
                hint=REEXPORT_HINT,
            )
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return EncodeResult(
        path=dst,
        action=action,
        info=replace(info, path=dst),
        source=source,
        measured=measured,
        normalization=normalization,
        delivered=delivered,
        passes=passes,
    )


def _encode_run(
    src: Path, args: list[str], settings: EncodeSettings, source: AudioInfo, reporter: Reporter, label: str
) -> _Run:
    task = reporter.task(label, source.duration, unit="s")
    try:
        return _run_ffmpeg(args, file=src, doing=f"encode to {settings.format}", task=task)
    finally:
        task.close()


def _normalise(
    src: Path,
    dst: Path,
    tmp: Path,
    source: AudioInfo,
    settings: EncodeSettings,
    channels: int,
    filters: list[str],
    measured: Loudness,
    reporter: Reporter,
) -> tuple[_Attempt, int]:
    """Encode `src` into `tmp` at the loudness target, checked on the delivered file: (the pass kept, passes run).

    The first pass applies the gain that the source's measurement calls for, with the limiter
    _LOSSY_TP_MARGIN under the ceiling when the peaks need it; its encoded file is measured. A file that
    misses the target or the ceiling is followed by a corrective pass aimed by what it missed, up to
    _CORRECTIVE_PASSES; the best file is kept (under the ceiling first, then nearest the target). Each decision
    follows from measurements of files made from the input alone, so the same input gives the same bytes.
    """
    assert settings.loudness is not None
    aim = _aim(settings.loudness - measured.integrated, settings.true_peak - _LOSSY_TP_MARGIN, measured)
    tried: list[_Attempt] = []
    best: _Attempt | None = None
    try:
        for n in range(1 + _CORRECTIVE_PASSES):
            out = tmp if n == 0 else _temp_beside(dst, ".part")
            try:
                chain = [*filters, *_level_filters(aim, settings.sample_rate)]
                label = f"{'Encoding' if n == 0 else 'Correcting loudness of'} {src.name}"
                _encode_run(
                    src, _encode_args(src, out, settings, channels, chain), settings, source, reporter, label
                )
                got = _measure(out, [], source.duration, reporter, label=f"Checking loudness of {src.name}")
            except BaseException:
                if out != tmp:
                    out.unlink(missing_ok=True)
                raise
            peak = measured.true_peak + aim.gain if aim.limit is None else aim.limit
            attempt = _Attempt(out, aim, peak, got)
            tried.append(attempt)
            if best is None or _rank(settings, attempt) < _rank(settings, best):
                best, loser = attempt, best
            else:
                loser = attempt
            if loser is not None and loser.path != tmp:
                loser.path.unlink(missing_ok=True)
            if _on_target(settings, attempt):
                break
            aim = _next_aim(settings, measured, tried)
        assert best is not None
        if best.path != tmp:
            os.replace(best.path, tmp)
    finally:
        if best is not None and best.path != tmp:
            best.path.unlink(missing_ok=True)
    if best.delivered.true_peak > settings.true_peak:
        reporter.warn(
            f"{src}: true peak {best.delivered.true_peak:.1f} dBTP is above the {settings.true_peak:g} dBTP "
            f"ceiling after {len(tried)} passes (the {settings.format} encoder overshoots on this audio)"
        )
    return replace(best, path=tmp), len(tried)


def _encode_args(
    src: Path, out: Path, settings: EncodeSettings, channels: int, filters: list[str]
) -> list[str]:
    delivery = _DELIVERY[settings.format]
    return [
        *("-i", str(src), "-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1"),
        *(("-af", ",".join(filters)) if filters else ()),
        *("-ar", str(settings.sample_rate), "-ac", str(channels)),
        *("-c:a", delivery.encoder, "-b:a", f"{_target_kbps(channels, settings)}k", *delivery.options),
        *("-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", delivery.muxer, "-y", str(out)),
    ]


# --------------------------------------------------------------------------------------------------
# chapters
# --------------------------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    whole = int(seconds)
    ms = round((seconds - whole) * 1000)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{text}.{ms:03d}" if ms else text


def check_chapters(starts: Sequence[float], duration: float) -> list[AudioError]:
    """Every problem with a list of chapter start times: ascending, the first at 0, all inside the audio.

    Each problem is an AudioError whose field is "chapters[i]"; callers add the file they came from.
    """
    problems: list[AudioError] = []
    previous: float | None = None
    for i, start in enumerate(starts):
        field = f"chapters[{i}]"
        if not math.isfinite(start) or start < 0:
            problems.append(AudioError(f"start {start} is not a time in the audio", field=field))
            continue
        if i == 0 and round(start, 3) != 0:
            problems.append(
                AudioError(
                    f"the first chapter starts at {_clock(start)}, not 00:00:00",
                    field=field,
                    hint="add a chapter at 00:00:00, such as 'Intro'",
                )
            )
        if previous is not None and start <= previous:
            problems.append(
                AudioError(
                    f"starts at {_clock(start)}, not after the chapter before it ({_clock(previous)})",
                    field=field,
                    hint="list chapters in time order",
                )
            )
        if start >= duration:
            problems.append(
                AudioError(
                    f"starts at {_clock(start)}, but the audio ends at {_clock(duration)}",
                    field=field,
                    hint="remove the chapter or fix its time",
                )
            )
        previous = start
    return problems


def close_chapters(marks: Sequence[ChapterMark], duration: float) -> tuple[ChapterMark, ...]:
    """Check the chapters against the audio's duration and fill in each missing end (next start, or the end)."""
    problems = check_chapters([m.start for m in marks], duration)
    if problems:
        raise problems[0]
    closed = []
    for i, mark in enumerate(marks):
        end = mark.end if mark.end is not None else (marks[i + 1].start if i + 1 < len(marks) else duration)
        if not mark.start < end <= duration + 0.001:
            raise AudioError(
                f"ends at {_clock(end)}, outside {_clock(mark.start)}..{_clock(duration)}",
                field=f"chapters[{i}]",
            )
        closed.append(replace(mark, end=end))
    return tuple(closed)


# --------------------------------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------------------------------

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
    tmp = _temp_beside(path, ".m4a")
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
        _run_ffmpeg_with_input(
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


def _run_ffmpeg_with_input(args: Sequence[str], stdin_text: str, *, file: Path, doing: str) -> None:
    cmd = [_ffmpeg(), "-hide_banner", "-nostats", "-loglevel", "error", *args]
    proc = subprocess.run(
        cmd, input=stdin_text, capture_output=True, text=True, errors="replace", check=False
    )
    if proc.returncode != 0:
        raise AudioError(f"ffmpeg could not {doing}: {_ffmpeg_message(proc.stderr.splitlines())}", file=file)


_TAG_WRITERS: dict[str, Callable[[Path, TagSpec, str, Sequence[ChapterMark]], None]] = {
    "mp3": _write_id3,
    "m4a": _write_mp4,
}


def write_tags(path: Path, spec: TagSpec) -> None:
    """Replace all tags of an MP3 (ID3v2.4, or 2.3) or M4A file with exactly `spec`, chapters included.

    Writes the file it is given (a build copy; sources only through `podcast tag --in-place`). The same spec
    on the same audio always gives the same bytes. MP3 chapters are CHAP frames under one ordered top-level
    CTOC; M4A chapters are a QuickTime chapter track plus a Nero `chpl` list, written by ffmpeg.
    """
    path = Path(path)
    _check_spec(spec)
    date = _tag_date(spec.date)
    with _open(path) as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise AudioError("the audio file is empty (0 bytes)", file=path, hint=REEXPORT_HINT)
        container, _ = _sniff(fh)
    writer = _TAG_WRITERS.get(container)
    if writer is None:
        what = f"a {container.upper()} file" if container else "not an audio file we can read"
        raise AudioError(f"cannot tag {what}", file=path, hint="tags are written to the built MP3 or M4A")
    chapters: Sequence[ChapterMark] = spec.chapters
    if chapters:
        if any(mark.end is None for mark in chapters):
            duration = probe(path).duration
        else:
            duration = max(mark.end or 0.0 for mark in chapters)
        try:
            chapters = close_chapters(chapters, duration)
        except AudioError as err:
            raise AudioError(err.message, file=path, field=err.field, hint=err.hint) from None
    writer(path, spec, date, chapters)


# --------------------------------------------------------------------------------------------------
# artwork, versions, digests
# --------------------------------------------------------------------------------------------------

_JPEG_QUALITY = 88


def cover_jpeg(image: Path, max_px: int = 1400) -> bytes:
    """Artwork as an RGB JPEG at most `max_px` on its longest side, for embedding in tags.

    A JPEG that already fits is returned unchanged when re-encoding would not make it smaller.
    """
    image = Path(image)
    try:
        original = image.read_bytes()
    except OSError as err:
        raise AudioError(f"cannot read image: {err.strerror}", file=image) from err
    try:
        with Image.open(io.BytesIO(original)) as im:
            im.load()
            source_format = im.format
            rotated = im.getexif().get(0x0112, 1) != 1  # EXIF orientation: phones store photos sideways
            picture = ImageOps.exif_transpose(im) if rotated else im
            if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
                rgba = picture.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                picture = flat
            else:
                picture = picture.convert("RGB")
            fits = max(picture.size) <= max_px
            if not fits:
                picture.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            # A colour profile only describes the pixels it came with: keep it for RGB, drop it for CMYK etc.
            icc = im.info.get("icc_profile") if im.mode in ("RGB", "RGBA") else None
            picture.save(
                out, "JPEG", quality=_JPEG_QUALITY, optimize=True, **({"icc_profile": icc} if icc else {})
            )
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
        raise AudioError(
            "is not an image that can be read", file=image, hint="use a JPEG or PNG file"
        ) from err
    encoded = out.getvalue()
    if (
        source_format == "JPEG"
        and fits
        and not rotated
        and im.mode == "RGB"
        and len(original) <= len(encoded)
    ):
        return original
    return encoded


@functools.cache
def tool_versions() -> str:
    """ffmpeg, mutagen and Pillow versions plus our recipe number: part of the build cache key."""
    proc = subprocess.run(
        [_ffmpeg(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    )
    first = proc.stdout.splitlines()[0] if proc.stdout else "unknown"
    match = re.match(r"ffmpeg version (\S+)", first)
    ffmpeg = match.group(1) if match else first
    return f"ffmpeg {ffmpeg}; mutagen {mutagen.version_string}; pillow {PIL.__version__}; recipe {RECIPE_VERSION}"


def file_digest(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so memory stays flat for any size."""
    digest = hashlib.sha256()
    buffer = bytearray(DIGEST_CHUNK)
    view = memoryview(buffer)
    with _open(Path(path)) as fh:
        while n := fh.readinto(view):  # type: ignore[attr-defined]
            digest.update(view[:n])
    return digest.hexdigest()
