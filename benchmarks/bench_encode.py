"""Benchmark: a cold build of 100 one-minute WAV episodes, serial against parallel, as whole processes.

Every core encodes (issue 16 item 2): `podcast build --jobs N` is run as a fresh `python -m pipeline build`
process, the way a host runs it, on a fresh copy of the show with an empty cache, for N = 1, 2 and every
core. The target is a 2-job build at most 0.6x the serial one on 2 cores. Each WAV is distinct (a private
chunk at its end), so no two episodes share an encode. `--quick` builds 12 episodes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import synth

REPO = Path(__file__).resolve().parent.parent
NOW_ARG = "2100-01-01T00:00:00+00:00"
TARGET = 0.6  # parallel (2 jobs) / serial, on 2 cores


def base_wav(dest: Path, seconds: float) -> bytes:
    """One real WAV: pink noise under a tone, mono 22.05 kHz 16-bit (about 2.6 MB a minute)."""
    if not dest.exists():
        subprocess.run(
            [
                synth.ffmpeg(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=330:duration={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"anoisesrc=color=pink:amplitude=0.05:duration={seconds}",
                "-filter_complex",
                "amix=inputs=2",
                "-ac",
                "1",
                "-ar",
                "22050",
                "-c:a",
                "pcm_s16le",
                "-bitexact",
                str(dest),
            ],
            check=True,
        )
    return dest.read_bytes()


def distinct_wav(base: bytes, i: int) -> bytes:
    """`base` with a private RIFF chunk appended (readers skip it), so each file has its own digest."""
    chunk = b"pcbn" + (8).to_bytes(4, "little") + i.to_bytes(8, "little")
    riff_size = int.from_bytes(base[4:8], "little") + len(chunk)
    return base[:4] + riff_size.to_bytes(4, "little") + base[8:] + chunk


def make_wav_show(root: Path, n: int, seconds: float) -> Path:
    show = synth.make_show(root, n, audio_seconds=6.0)
    base = base_wav(root.parent / f".base-{seconds:g}s.wav", seconds)
    for i, md in enumerate(sorted((root / "episodes").glob("*/episode.md")), start=1):
        (md.parent / "audio.mp3").unlink()
        (md.parent / "audio.wav").write_bytes(distinct_wav(base, i))
        md.write_text(md.read_text().replace("audio: audio.mp3", "audio: audio.wav"))
    return show


def cold_build(src: Path, work: Path, jobs: int) -> tuple[float, float, dict[str, str]]:
    """Wall and CPU seconds (children included) of one cold `podcast build --jobs N`, and build/'s digests."""
    show = synth.fresh_copy(src, work)
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--show",
            str(show / "show.yaml"),
            "--now",
            NOW_ARG,
            "build",
            "-j",
            str(jobs),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = os.times()
    if proc.returncode != 0:
        raise SystemExit(f"podcast build --jobs {jobs} failed:\n{proc.stderr}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    out = show / "build"
    digests = {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }
    return wall, cpu, digests


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_encode")
    parser.add_argument("--quick", action="store_true", help="12 episodes instead of 100")
    parser.add_argument("--episodes", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each episode's WAV")
    args = parser.parse_args(list(argv) if argv is not None else None)
    n = args.episodes or (12 if args.quick else 100)
    cores = os.cpu_count() or 1
    counts = sorted({1, 2, cores})
    with tempfile.TemporaryDirectory(prefix="bench-encode-") as tmp:
        root = Path(tmp)
        src = root / "show"
        make_wav_show(src, n, args.seconds)
        audio_minutes = n * args.seconds / 60
        print(
            f"cold build of {n} episodes x {args.seconds:g} s WAV ({audio_minutes:g} audio minutes), {cores} cores"
        )
        results: dict[int, tuple[float, float]] = {}
        reference: dict[str, str] | None = None
        for jobs in counts:
            wall, cpu, digests = cold_build(src, root / f"jobs{jobs}", jobs)
            shutil.rmtree(root / f"jobs{jobs}")
            if reference is None:
                reference = digests
            elif digests != reference:
                raise SystemExit(f"--jobs {jobs} built different bytes from --jobs 1")
            results[jobs] = (wall, cpu)
        serial = results[1][0]
        rows = []
        for jobs in counts:
            wall, cpu = results[jobs]
            target = "" if jobs == 1 else (f"<= {TARGET}x" if jobs == 2 else "scaling")
            rows.append((f"podcast build --jobs {jobs} (whole process)", wall, wall / serial, target))
            print(
                f"  --jobs {jobs}: {wall:.2f} s wall, {cpu:.2f} s CPU, {audio_minutes * 60 / wall:.0f}x realtime"
            )
        print(synth.table("cold build, serial vs parallel (build/ byte-identical for every --jobs)", rows))
        if 2 in results:
            ratio = results[2][0] / serial
            verdict = "met" if ratio <= TARGET else "MISSED"
            print(f"2 jobs / serial: {ratio:.2f}x (target <= {TARGET}x on 2 cores): {verdict}")


if __name__ == "__main__":
    main()
