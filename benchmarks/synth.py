"""The shared synthetic show: N episodes with real small MP3s and about 600 words of Markdown notes each."""

from __future__ import annotations

import datetime as dt
import random
import resource
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg

WORDS = [
    "runner",
    "knee",
    "tendon",
    "stride",
    "cadence",
    "hill",
    "tempo",
    "recovery",
    "strength",
    "glute",
    "quadriceps",
    "hamstring",
    "calf",
    "shin",
    "ankle",
    "arch",
    "shoe",
    "insole",
    "warm-up",
    "mobility",
    "load",
    "mileage",
    "week",
    "plan",
    "easy",
    "long",
    "interval",
    "fatigue",
    "sleep",
    "protein",
    "hydration",
    "physio",
    "doctor",
    "pain",
    "swelling",
    "rest",
    "return",
    "progress",
    "drill",
    "balance",
    "core",
    "hip",
    "pelvis",
    "posture",
    "breath",
    "race",
    "marathon",
    "trail",
    "track",
    "pace",
    "zone",
    "heart",
    "lactate",
    "threshold",
    "taper",
    "injury",
    "risk",
    "habit",
]


def ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def base_mp3(dest: Path, seconds: float = 15.0) -> Path:
    """One real MP3 (128 kbps CBR, 44.1 kHz stereo): about 16 kB per second."""
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                ffmpeg(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=440:duration={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"anoisesrc=color=pink:amplitude=0.05:duration={seconds}",
                "-filter_complex",
                "amix=inputs=2",
                "-ac",
                "2",
                "-ar",
                "44100",
                "-b:a",
                "128k",
                "-c:a",
                "libmp3lame",
                "-bitexact",
                str(dest),
            ],
            check=True,
        )
    return dest


def notes(rng: random.Random, words: int = 600) -> str:
    """About `words` words of Markdown: headings, paragraphs, a list and links."""
    out: list[str] = []
    count = 0
    section = 0
    while count < words:
        if count % 150 == 0:
            section += 1
            out.append(f"## Part {section}: {rng.choice(WORDS).capitalize()} and {rng.choice(WORDS)}\n")
        sentence_words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        para = (
            " ".join(sentence_words).capitalize()
            + ". "
            + " ".join(rng.choice(WORDS) for _ in range(12))
            + "."
        )
        out.append(para + "\n")
        count += len(para.split())
        if section % 2 == 0 and rng.random() < 0.2:
            out.append(
                "- " + "\n- ".join(f"**{rng.choice(WORDS)}** {rng.choice(WORDS)}" for _ in range(3)) + "\n"
            )
    out.append(
        "## Resources\n\n- [Training plan](https://example.com/plan/)\n- [Ask a question](https://example.com/ask/)\n"
    )
    return "\n".join(out)


SHOW_YAML = """\
title: Synthetic Show
description: A generated show for benchmarks.
author: Bench Mark
owner: {{name: Bench Mark, email: bench@example.com}}
language: en
categories: ["Sports > Running"]
artwork: cover.jpg
url: {url}
guid: 0b9c7d43-46d8-5e0c-9d3c-0f2e4d9d1a11
host: {{name: Bench Mark, bio: Runs benchmarks.}}
page_size: 20
audio: {{format: mp3}}
publish: {{target: local, path: public}}
"""


def make_show(
    root: Path, n: int, *, url: str = "https://bench.example.com/", audio_seconds: float = 15.0, seed: int = 0
) -> Path:
    """Write a show with `n` episodes under `root`; returns show.yaml. Each audio file is distinct."""
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    (root / "show.yaml").write_text(SHOW_YAML.format(url=url))
    Image.new("RGB", (1400, 1400), (30, 60, 90)).save(root / "cover.jpg", quality=80)
    base = base_mp3(root.parent / f".base-{audio_seconds:g}s.mp3", audio_seconds).read_bytes()
    rng = random.Random(seed)
    start = dt.datetime(2020, 1, 1, 7, tzinfo=dt.UTC)
    for i in range(1, n + 1):
        folder = root / "episodes" / f"episode-{i:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        # An ID3v1 tag at the end keeps the MP3 valid and makes each file's bytes (and hash) its own.
        tag = b"TAG" + f"Episode {i}".encode().ljust(30, b"\0") + b"\0" * 94
        (folder / "audio.mp3").write_bytes(base + tag)
        date = start + dt.timedelta(days=i)
        (folder / "episode.md").write_text(
            f"---\ntitle: Episode {i} about {rng.choice(WORDS)}\ndate: {date.isoformat()}\nnumber: {i}\n"
            f"audio: audio.mp3\nchapters:\n  - 00:00 Intro\n  - 00:05 Main part\n---\n{notes(rng)}"
        )
    return root / "show.yaml"


def fresh_copy(src: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, symlinks=True)
    return dest


def median_time(
    fn: Callable[[], object], repeat: int = 3, setup: Callable[[], object] | None = None
) -> float:
    """Median wall time of `fn` over `repeat` runs (each after `setup`, which is not timed)."""
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(title: str, rows: list[tuple[str, float, float | None, str]]) -> str:
    """rows: (case, median seconds, ratio to baseline or None, target)."""
    lines = [title, f"{'case':<48} {'median':>10} {'ratio':>8}  target"]
    for case, secs, ratio, target in rows:
        r = f"{ratio:>7.2f}x" if ratio is not None else f"{'':>8}"
        lines.append(f"{case:<48} {secs:>9.3f}s {r}  {target}")
    return "\n".join(lines)
