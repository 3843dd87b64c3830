"""Encoding: the delivery formats, checking and planning an encode, and running it (ffmpeg)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import mutagen
import mutagen.oggopus

from pipeline.audio.ffmpeg import Run, ffmpeg_message, ffmpeg_version, run_ffmpeg
from pipeline.audio.files import REEXPORT_HINT, same_file, temp_beside
from pipeline.audio.loudness import Loudness, LoudnessTarget, measure, normalise
from pipeline.audio.probing import AudioInfo, probe
from pipeline.errors import AudioError
from pipeline.images import pillow_version
from pipeline.progress import NullReporter, Reporter

# Bump when the encode or tag recipe changes, so build caches keyed on tool_versions() are invalidated.
RECIPE_VERSION = 2  # 2: loudness is checked on the delivered file and corrected


@dataclass(frozen=True)
class EncodeSettings:
    """The delivery format, in show.yaml's terms (`audio:`)."""

    format: str = "mp3"  # "mp3" or "m4a"; alternates also "opus" (Ogg Opus) and "flac"
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
    # Alternates (podcast:alternateEnclosure). Opus runs at 48 kHz only; VBR off so the bitrate is the one
    # the feed announces. FLAC is lossless and takes no bitrate.
    "opus": _Delivery("ogg", "opus", "libopus", "ogg", ("-vbr", "off", "-application", "audio")),
    "flac": _Delivery("flac", "flac", "flac", "flac", ("-compression_level", "8")),
}
#: Formats only offered as alternates (the main file is MP3 or M4A).
ALTERNATE_ONLY = ("opus", "flac")
_DEFAULT_KBPS = {1: 96, 2: 128}
_FORMAT_KBPS: dict[str, dict[int, int]] = {"opus": {1: 32, 2: 48}}
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
    if settings.format == "opus" and settings.sample_rate != 48000:
        raise AudioError("Opus runs at 48000 Hz only", field="audio.sample_rate", hint="use 48000")
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
        if name == "bitrate" and settings.format == "opus":
            low = 6  # Opus speech is clear well below MP3's floor
        if value is not None and not low <= value <= high:
            raise AudioError(f"{value} is outside {low:g}..{high:g}", field=f"audio.{name}")


def _target_channels(info: AudioInfo, settings: EncodeSettings) -> int:
    return settings.channels or min(info.channels, 2)


def _target_kbps(channels: int, settings: EncodeSettings) -> int:
    return settings.bitrate or _FORMAT_KBPS.get(settings.format, _DEFAULT_KBPS)[channels]


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
        settings.format not in ALTERNATE_ONLY  # our alternates are always encoded here (their probe is ours)
        and settings.loudness is None
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
    pass the ceiling), and measures the encoded file: one further than loudness.LOUDNESS_TOLERANCE from the
    target, or over the ceiling, gets up to loudness.CORRECTIVE_PASSES corrective passes, and the best file is
    delivered (`delivered` holds its measurement). `dst` appears atomically: it is written beside itself and
    renamed.
    """
    src, dst = Path(src), Path(dst)
    _check_settings(settings)
    source = probe(src)
    if same_file(src, dst):
        raise AudioError(
            "refusing to encode a file over itself", file=src, hint="write into the build folder"
        )
    action = plan_encode(source, settings)
    channels = _target_channels(source, settings)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(dst, ".part")
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
            measured = measure(src, filters, source.duration, reporter)
            target = LoudnessTarget(integrated=settings.loudness, true_peak=settings.true_peak)

            def encode_pass(out: Path, level: list[str], label: str) -> None:
                args = _encode_args(src, out, settings, channels, [*filters, *level])
                _encode_run(src, args, settings, source, reporter, label)

            best, passes = normalise(
                src,
                dst,
                tmp,
                target=target,
                sample_rate=settings.sample_rate,
                duration=source.duration,
                measured=measured,
                encode_pass=encode_pass,
                reporter=reporter,
            )
            if best.delivered.true_peak > settings.true_peak:
                reporter.warn(
                    f"{src}: true peak {best.delivered.true_peak:.1f} dBTP is above the {settings.true_peak:g} "
                    f"dBTP ceiling after {passes} passes (the {settings.format} encoder overshoots on this audio)"
                )
            normalization = "linear" if best.aim.limit is None else "dynamic"
            delivered = best.delivered
        else:
            args = _encode_args(src, tmp, settings, channels, _channel_filters(source, channels))
            run = _encode_run(src, args, settings, source, reporter, f"Encoding {src.name}")
            problems = [line for line in run.stderr if line.strip()]
            if problems:
                reporter.warn(
                    f"{src}: ffmpeg reported {len(problems)} problem(s): {ffmpeg_message(problems)}"
                )
        info = probe_delivered(tmp, settings.format)
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
) -> Run:
    task = reporter.task(label, source.duration, unit="s")
    try:
        return run_ffmpeg(args, file=src, doing=f"encode to {settings.format}", task=task)
    finally:
        task.close()


def _encode_args(
    src: Path, out: Path, settings: EncodeSettings, channels: int, filters: list[str]
) -> list[str]:
    delivery = _DELIVERY[settings.format]
    rate = () if settings.format == "flac" else ("-b:a", f"{_target_kbps(channels, settings)}k")
    return [
        *("-i", str(src), "-map", "0:a:0", "-map_metadata", "-1", "-map_chapters", "-1"),
        *(("-af", ",".join(filters)) if filters else ()),
        *("-ar", str(settings.sample_rate), "-ac", str(channels)),
        *("-c:a", delivery.encoder, *rate, *delivery.options),
        *("-fflags", "+bitexact", "-flags:a", "+bitexact", "-f", delivery.muxer, "-y", str(out)),
    ]


def probe_delivered(path: Path, fmt: str) -> AudioInfo:
    """probe(), and for Ogg Opus (which probe does not take as a source) the same facts read by mutagen."""
    if fmt != "opus":
        return probe(path)
    try:
        f = mutagen.oggopus.OggOpus(path)  # type: ignore[no-untyped-call]
    except (mutagen.MutagenError, OSError) as err:
        raise AudioError(f"cannot read the Opus file: {err}", file=path) from err
    if f.info is None:
        raise AudioError("not an Opus file", file=path)
    size = path.stat().st_size
    duration = float(f.info.length)
    return AudioInfo(
        path=path,
        size=size,
        mime=OPUS_MIME,
        container="ogg",
        codec="opus",
        duration=duration,
        bitrate=round(size * 8 / duration) if duration else 0,
        sample_rate=48000,
        channels=int(f.info.channels),
        vbr=False,
    )


#: The MIME type of an Ogg Opus file (RFC 7845); podcast:alternateEnclosure type and <source type>.
OPUS_MIME = "audio/ogg"


def cut_clip(src: Path, dst: Path, start: float, duration: float, settings: EncodeSettings) -> AudioInfo:
    """A clip of `src` from `start` for `duration` seconds, re-encoded in `settings`' format (bit-exact).

    Re-encoding (not stream copy) cuts at the sample, not the frame, and the same input gives the same bytes.
    """
    src, dst = Path(src), Path(dst)
    _check_settings(settings)
    source = probe_delivered(src, settings.format)
    channels = _target_channels(source, settings)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(dst, ".part")
    try:
        args = ["-ss", f"{start:.3f}", "-t", f"{duration:.3f}"]
        args += _encode_args(src, tmp, settings, channels, [])
        run_ffmpeg(args, file=src, doing=f"cut a clip to {settings.format}")
        info = probe_delivered(tmp, settings.format)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return replace(info, path=dst)


def tool_versions() -> str:
    """ffmpeg, mutagen and Pillow versions plus our recipe number: part of the build cache key.

    It runs `ffmpeg -version`, so a build asks once and keeps the answer.
    """
    return (
        f"ffmpeg {ffmpeg_version()}; mutagen {mutagen.version_string}; pillow {pillow_version()}; "
        f"recipe {RECIPE_VERSION}"
    )
