"""The container parsers: duration, codec and bitrate of MP3, WAV, AIFF, FLAC and MP4 files, from their headers.

One section per container, each with a `*_details` reader; CONTAINERS maps a sniffed container to its MIME
type, its mutagen class and its reader. probe() in probing.py is the one caller.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

import mutagen
from mutagen.aiff import AIFF
from mutagen.flac import FLAC
from mutagen.mp3 import MP3, BitrateMode
from mutagen.mp4 import MP4
from mutagen.wave import WAVE

from pipeline.audio.ffmpeg import run_ffmpeg, scan_duration
from pipeline.audio.files import REEXPORT_HINT
from pipeline.errors import AudioError


class StreamInfo(Protocol):
    """What we read of mutagen's stream info (mutagen declares `FileType.info` as None, so readers cast)."""

    length: float  # seconds
    bitrate: int  # bps
    sample_rate: int  # Hz
    channels: int


class _Mp3Info(StreamInfo, Protocol):
    bitrate_mode: int  # a BitrateMode constant


class _PcmInfo(StreamInfo, Protocol):  # WAV and AIFF
    bits_per_sample: int


class _FlacInfo(StreamInfo, Protocol):
    total_samples: int


class _Mp4Info(StreamInfo, Protocol):
    codec: str  # e.g. "mp4a.40.2"


@dataclass(frozen=True)
class Details:
    """What a container reader found beyond mutagen's stream info."""

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


# --------------------------------------------------------------------------------------------------
# MP3 (MPEG audio frames, Xing/LAME header)
# --------------------------------------------------------------------------------------------------

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
class MpegFrame:
    """One MPEG audio frame header, decoded."""

    version: int  # 1, 2 or 25
    layer: int
    bitrate: int  # bps
    sample_rate: int
    mono: bool
    length: int  # bytes
    samples: int  # per frame


def mpeg_frame(header: bytes) -> MpegFrame | None:
    """The frame header in the first 4 bytes of `header`, or None when they are not a valid one."""
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
    return MpegFrame(version, layer, kbps * 1000, rate, (header[3] >> 6) == 3, length, samples)


def _mp3_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> Details:
    fh.seek(start)
    frame_bytes = fh.read(2048)
    frame = mpeg_frame(frame_bytes)
    info = cast(_Mp3Info, f.info)
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
                return Details(codec, duration, int(info.bitrate), vbr=tag == b"Xing")
    # No Xing header: the length mutagen estimates from the first frame is wrong for VBR, so count packets.
    duration = scan_duration(path)
    bitrate = round((size - start) * 8 / duration) if duration > 0 else int(info.bitrate)
    vbr = (
        info.bitrate_mode in (BitrateMode.VBR, BitrateMode.ABR)
        or abs(bitrate - info.bitrate) > 0.03 * info.bitrate
    )
    return Details(codec, duration, bitrate, vbr=vbr)


# --------------------------------------------------------------------------------------------------
# WAV
# --------------------------------------------------------------------------------------------------


def _wav_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> Details:
    info = cast(_PcmInfo, f.info)
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
    known = _WAV_CODECS.get(fmt_code)
    codec = known(info.bits_per_sample) if known is not None else f"wav_0x{fmt_code:04x}"
    if codec.startswith("wav_0x"):  # compressed WAV: the header's block size says nothing about time
        return Details(codec, scan_duration(path), int(info.bitrate))
    return Details(codec, data_size / block / info.sample_rate, int(info.bitrate))


_WAV_CODECS: dict[int, Callable[[int], str]] = {
    1: lambda bits: "pcm_u8" if bits == 8 else f"pcm_s{bits}le",
    3: lambda bits: f"pcm_f{bits}le",
    6: lambda bits: "pcm_alaw",
    7: lambda bits: "pcm_mulaw",
}

# --------------------------------------------------------------------------------------------------
# AIFF / AIFF-C
# --------------------------------------------------------------------------------------------------

_AIFC_CODECS: dict[bytes, Callable[[int], str]] = {
    b"NONE": lambda bits: f"pcm_s{bits}be",
    b"twos": lambda bits: f"pcm_s{bits}be",
    b"sowt": lambda bits: f"pcm_s{bits}le",
    b"fl32": lambda bits: "pcm_f32be",
    b"FL32": lambda bits: "pcm_f32be",
    b"fl64": lambda bits: "pcm_f64be",
    b"FL64": lambda bits: "pcm_f64be",
}


def _aiff_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> Details:
    info = cast(_PcmInfo, f.info)
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
        return Details(
            f"aifc_{compression.decode('latin-1').strip()}", scan_duration(path), int(info.bitrate)
        )
    need = frames * info.channels * ((info.bits_per_sample + 7) // 8)
    if data_have < need:
        raise _truncated(path, max(0, data_have), need)
    return Details(codec_of(info.bits_per_sample), float(info.length), int(info.bitrate))


# --------------------------------------------------------------------------------------------------
# FLAC
# --------------------------------------------------------------------------------------------------


def _flac_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> Details:
    info = cast(_FlacInfo, f.info)
    if not info.total_samples:
        return Details("flac", scan_duration(path), int(info.bitrate))
    # FLAC headers can't reveal a cut-off tail, so decode the last second: a truncated file yields little or
    # nothing. Decoder errors alone prove nothing: taggers append ID3v1 or padding after the last frame.
    tail = min(1.0, float(info.length))
    run = run_ffmpeg(
        ["-sseof", f"-{tail:.3f}", "-i", str(path), "-map", "0:a:0", "-f", "null", "-"],
        file=path,
        doing="read",
    )
    if (run.out_time or 0.0) < tail - 0.1:
        raise AudioError(
            "the FLAC file ends early or its last frames are damaged", file=path, hint=REEXPORT_HINT
        )
    return Details("flac", float(info.length), int(info.bitrate))


# --------------------------------------------------------------------------------------------------
# MP4 / M4A
# --------------------------------------------------------------------------------------------------

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


def _m4a_details(path: Path, fh: BinaryIO, f: mutagen.FileType, start: int, size: int) -> Details:
    info = cast(_Mp4Info, f.info)
    moov = _mp4_moov(path, fh, size)
    codec = _MP4_CODECS.get(info.codec, info.codec or "unknown")
    tree = _mp4_tree(moov)
    # One entry per trak, in order; handler types say which is sound and whether there is video.
    handlers = [body[8:12] for body in tree.get(b"trak/mdia/hdlr", [])]
    video = b"vide" in handlers
    duration = float(info.length)
    tags = cast("Mapping[str, Sequence[bytes]] | None", f.tags)  # MP4Tags; mutagen declares it as None
    smpb = (tags or {}).get("----:com.apple.iTunes:iTunSMPB")
    if smpb:
        fields = bytes(smpb[0]).decode("latin-1").split()
        if len(fields) >= 4 and info.sample_rate:
            duration = int(fields[3], 16) / info.sample_rate
    else:
        duration = _mp4_edit_duration(tree, handlers) or duration
    if video:
        return Details(codec, duration, int(info.bitrate), container="mp4", mime="video/mp4")
    return Details(codec, duration, int(info.bitrate))


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


# --------------------------------------------------------------------------------------------------
# the table probe() reads
# --------------------------------------------------------------------------------------------------

#: Reads a container's details: (path, open file, mutagen's view of it, offset of the audio, file size).
Detailer = Callable[[Path, BinaryIO, mutagen.FileType, int, int], Details]


@dataclass(frozen=True)
class Container:
    """How probe() reads one container: its MIME type, mutagen class and details reader."""

    mime: str
    opener: Callable[[BinaryIO], mutagen.FileType]
    details: Detailer
    precheck: Callable[[Path, BinaryIO, int], object] | None = None  # structure checks mutagen would trip on


CONTAINERS: dict[str, Container] = {
    "mp3": Container("audio/mpeg", MP3, _mp3_details),
    "m4a": Container("audio/mp4", MP4, _m4a_details, _mp4_moov),
    "wav": Container("audio/wav", WAVE, _wav_details),
    "flac": Container("audio/flac", FLAC, _flac_details),
    "aiff": Container("audio/aiff", AIFF, _aiff_details),
}


# What parsing a damaged header can raise, in mutagen or in our own struct reads.
HEADER_ERRORS = (struct.error, ValueError, IndexError, KeyError, EOFError, ZeroDivisionError, OverflowError)
