"""Test audio generated with ffmpeg (tones, noise, damaged files) and independent ffmpeg read-backs."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ffmpeg quietly; fail the test with ffmpeg's own words if it fails."""
    proc = subprocess.run(
        [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


# lavfi sources. Amplitudes are chosen so every file is well below full scale and far from silence.
SOURCES = {
    "sine": "sine=frequency=440:sample_rate={rate}:duration={seconds}",
    "noise": "anoisesrc=color=pink:amplitude=0.05:seed=7:sample_rate={rate}:duration={seconds}",
    # A quiet tone with short loud bursts: normalising it to -16 LUFS needs the true-peak limiter.
    "peaky": (
        "aevalsrc='0.05*sin(2*PI*440*t)+if(lt(mod(t\\,0.5)\\,0.001)\\,0.9*sin(2*PI*3000*t)\\,0)'"
        ":s={rate}:d={seconds}"
    ),
    "silence": "anullsrc=sample_rate={rate}:channel_layout=mono:duration={seconds}",
    # Speech-like: a 120 Hz buzz through three formant peaks, four syllables a second of varying strength, a
    # pause every 2.5 s and short fricative noise bursts (envelopes smooth, as in speech). Like real voice its
    # true peak sits about 20 dB over its loudness, so reaching -16 LUFS under -1 dBTP needs a limiter.
    "speech": (
        "aevalsrc='0.03*(2*mod(120*t+8*sin(2*PI*0.4*t)\\,1)-1)*pow(sin(PI*4*t)\\,2)"
        "*(0.35+0.65*pow(sin(1.7*floor(4*t))\\,2))*lt(mod(t\\,2.5)\\,2)"
        "+0.02*(random(0)-0.5)*pow(sin(PI*mod(t+0.13\\,0.57)/0.06)\\,2)*lt(mod(t+0.13\\,0.57)\\,0.06)"
        "*lt(mod(t\\,2.5)\\,2)':s={rate}:d={seconds},"
        "equalizer=f=500:t=q:w=6:g=22,equalizer=f=1500:t=q:w=6:g=16,equalizer=f=2500:t=q:w=6:g=14,highpass=f=90"
    ),
}

# output options per container (codec settings of a typical export)
CODECS = {
    "wav": ("-c:a", "pcm_s16le", "-f", "wav"),
    "flac": ("-c:a", "flac", "-f", "flac"),
    "aiff": ("-c:a", "pcm_s16be", "-f", "aiff"),
    "mp3": ("-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"),
    "mp3-vbr": ("-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3"),
    "mp3-vbr-noxing": ("-c:a", "libmp3lame", "-q:a", "4", "-write_xing", "0", "-f", "mp3"),
    "m4a": ("-c:a", "aac", "-b:a", "128k", "-f", "ipod"),
}


def make_audio(
    path: Path,
    *,
    source: str = "sine",
    seconds: float = 3.0,
    channels: int = 2,
    rate: int = 44100,
    codec: str = "wav",
    gain_db: float = 0.0,
    extra: tuple[str, ...] = (),
) -> Path:
    """Write `seconds` of a lavfi source to `path` with the given layout and codec."""
    lavfi = SOURCES[source].format(rate=rate, seconds=seconds)
    af = ("-af", f"volume={gain_db}dB") if gain_db else ()
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        lavfi,
        *af,
        "-ac",
        str(channels),
        "-ar",
        str(rate),
        *CODECS[codec],
        *extra,
        str(path),
    )
    return path


@dataclass(frozen=True)
class Ebur128:
    integrated: float  # LUFS
    true_peak: float  # dBTP


def ebur128(path: Path) -> Ebur128:
    """Loudness and true peak measured by ffmpeg's ebur128 filter (independent of pipeline.audio)."""
    proc = subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = proc.stderr[proc.stderr.rindex("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert integrated and peak, summary
    return Ebur128(float(integrated.group(1)), float(peak.group(1)))


def ffmetadata(path: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(global tags, chapters) as ffmpeg reads them: `ffmpeg -i file -f ffmetadata -`."""
    text = ffmpeg("-i", str(path), "-f", "ffmetadata", "-").stdout
    tags: dict[str, str] = {}
    chapters: list[dict[str, str]] = []
    current = tags
    for line in text.splitlines()[1:]:
        if line == "[CHAPTER]":
            current = {}
            chapters.append(current)
        elif "=" in line:
            key, _, value = line.partition("=")
            current[key] = re.sub(r"\\(.)", r"\1", value)
    return tags, chapters


def chapter_seconds(chapter: dict[str, str]) -> tuple[float, float]:
    """START and END of an ffmetadata chapter, in seconds."""
    num, den = (int(x) for x in chapter["TIMEBASE"].split("/"))
    return int(chapter["START"]) * num / den, int(chapter["END"]) * num / den


@dataclass(frozen=True)
class AudioSet:
    """Generated files, by name, with their known durations."""

    dir: Path
    files: dict[str, Path]
    durations: dict[str, float]

    def __getitem__(self, name: str) -> Path:
        return self.files[name]


# name -> (make_audio keyword arguments, file name)
GOOD: dict[str, tuple[dict[str, object], str]] = {
    "wav": ({"codec": "wav"}, "stereo.wav"),
    "wav_mono": ({"codec": "wav", "channels": 1}, "mono.wav"),
    "wav_48k": ({"codec": "wav", "rate": 48000, "seconds": 2.0}, "48k.wav"),
    "flac": ({"codec": "flac"}, "stereo.flac"),
    "aiff": ({"codec": "aiff"}, "stereo.aiff"),
    "mp3": ({"codec": "mp3"}, "stereo.mp3"),
    "mp3_mono": ({"codec": "mp3", "channels": 1, "extra": ("-b:a", "96k")}, "mono.mp3"),
    "mp3_vbr": ({"codec": "mp3-vbr", "seconds": 4.0}, "vbr.mp3"),
    "mp3_vbr_noxing": ({"codec": "mp3-vbr-noxing", "seconds": 4.0}, "vbr-noxing.mp3"),
    "m4a": ({"codec": "m4a"}, "stereo.m4a"),
    "m4a_48k": ({"codec": "m4a", "rate": 48000, "seconds": 2.0}, "48k.m4a"),
    "noise": ({"source": "noise", "seconds": 4.0}, "noise.wav"),
    "quiet_mono": ({"source": "sine", "channels": 1, "seconds": 4.0, "gain_db": -30.0}, "quiet.wav"),
    "peaky": ({"source": "peaky", "seconds": 5.0}, "peaky.wav"),
    "silence": ({"source": "silence", "channels": 1, "seconds": 2.0}, "silence.wav"),
    "speech": ({"source": "speech", "channels": 1, "rate": 22050, "seconds": 5.0}, "speech.wav"),
}


def _cut(src: Path, dst: Path, keep: float | int) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
    return dst


@pytest.fixture(scope="session")
def audio_set(tmp_path_factory: pytest.TempPathFactory) -> AudioSet:
    """Every test file, generated once per session (1-5 s each)."""
    root = tmp_path_factory.mktemp("audio")
    files: dict[str, Path] = {}
    durations: dict[str, float] = {}
    for name, (kwargs, filename) in GOOD.items():
        files[name] = make_audio(root / filename, **kwargs)  # type: ignore[arg-type]
        durations[name] = float(kwargs.get("seconds", 3.0))  # type: ignore[arg-type]

    # Damaged and disguised files.
    (root / "notes.mp3").write_text("# Show notes\n\nThis is not audio at all.\n")
    files["text_as_mp3"] = root / "notes.mp3"
    Image.new("RGB", (64, 64), (10, 120, 200)).save(root / "photo.wav", "JPEG")
    files["jpeg_as_wav"] = root / "photo.wav"
    (root / "empty.mp3").write_bytes(b"")
    files["empty"] = root / "empty.mp3"
    for name in ("wav", "mp3", "m4a", "flac", "aiff"):
        files[f"truncated_{name}"] = _cut(files[name], root / f"truncated.{name}", 0.5)
        files[f"header_only_{name}"] = _cut(files[name], root / f"header-only.{name}", 40)
    # A FLAC with an ID3v1 tag glued to its end (some taggers do this) is complete; one cut at a frame
    # boundary is not, although every frame left in it decodes cleanly.
    files["flac_v1_tail"] = root / "v1-tail.flac"
    files["flac_v1_tail"].write_bytes(files["flac"].read_bytes() + b"TAG" + b"\x20" * 125)
    durations["flac_v1_tail"] = durations["flac"]
    data = files["flac"].read_bytes()
    files["truncated_flac_boundary"] = root / "cut-at-frame.flac"
    files["truncated_flac_boundary"].write_bytes(data[: data.rindex(b"\xff\xf8", 0, len(data) // 2)])
    # An MP3 renamed to .wav and an M4A renamed to .mp3: content decides, not the name.
    files["mp3_named_wav"] = _cut(files["mp3"], root / "really-an-mp3.wav", 1.0)
    files["m4a_named_mp3"] = _cut(files["m4a"], root / "really-an-m4a.mp3", 1.0)
    durations["mp3_named_wav"] = durations["mp3"]
    durations["m4a_named_mp3"] = durations["m4a"]
    # A video: audio plus a picture track is not an audio file to pass through.
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-f", "lavfi", "-i", "sine=duration=1",
        "-c:v", "libx264", "-c:a", "aac", "-shortest", "-f", "mp4", str(root / "clip.mp4"),
    )  # fmt: skip
    files["video"] = root / "clip.mp4"
    return AudioSet(root, files, durations)


@pytest.fixture(scope="session")
def cover_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2000x1500 PNG with transparency, bigger than any tag needs."""
    path = tmp_path_factory.mktemp("art") / "cover.png"
    image = Image.new("RGBA", (2000, 1500), (180, 56, 31, 255))
    image.paste((0, 0, 0, 0), (0, 0, 500, 500))
    image.save(path)
    return path
