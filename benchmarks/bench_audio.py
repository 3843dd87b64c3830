"""Benchmarks for pipeline.audio: tagging overhead, encode overhead, and encode memory on a large WAV.

Run: python -m benchmarks.bench_audio [--quick] [--big-mb N] [--files N] [--minutes N] [--rounds N]

(a) write_tags on many small MP3s vs raw mutagen doing the same frame writes   (target ratio <= 1.2)
(b) encode() of one long WAV vs the bare ffmpeg command line                      (target ratio <= 1.05)
(c) peak RSS of encode() on a large WAV, Python process and ffmpeg child          (target < 150 MB each)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
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
    TIT2,
    TPE1,
    TPOS,
    TRCK,
    WFED,
    WOAS,
    CTOCFlags,
    Encoding,
    PictureType,
)
from PIL import Image

from pipeline import audio

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
WAV_BYTES_PER_SECOND = 44100 * 2 * 2  # 16-bit stereo


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_wav(path: Path, seconds: float) -> Path:
    """Pink noise plus a tone, stereo 16-bit 44.1 kHz: harder for the encoder than a bare sine."""
    ffmpeg(
        "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.1:seed=3:sample_rate=44100:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate=44100:duration={seconds}",
        "-filter_complex", "amix=inputs=2:normalize=0", "-ac", "2", "-c:a", "pcm_s16le", str(path),
    )  # fmt: skip
    return path


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children) for one call."""
    before, start = os.times(), time.perf_counter()
    fn()
    wall, after = time.perf_counter() - start, os.times()
    cpu = sum(after[i] - before[i] for i in range(4))  # user, system, children user, children system
    return wall, cpu


def median_seconds(
    fn: Callable[[], object], rounds: int, before: Callable[[], object] | None = None
) -> float:
    times = []
    for _ in range(rounds):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --------------------------------------------------------------------------------------------------
# (a) tagging
# --------------------------------------------------------------------------------------------------


def tag_spec(cover: bytes) -> audio.TagSpec:
    return audio.TagSpec(
        title="Why your knees hurt when you run",
        author="Ann Host",
        show="Run Better",
        date="2024-05-01T09:00:00+01:00",
        description="Knees, shoes and the long run. " * 10,
        episode=12,
        season=2,
        cover=cover,
        feed_url="https://pod.example.com/feed.xml",
        page_url="https://pod.example.com/episodes/knees/",
        chapters=(
            audio.ChapterMark(0.0, "Intro", end=0.3),
            audio.ChapterMark(0.3, "Shoes", end=0.7),
            audio.ChapterMark(0.7, "Outro", end=1.0),
        ),
    )


def raw_mutagen_tag(path: Path, spec: audio.TagSpec) -> None:
    """The same frames write_tags writes, with mutagen directly and nothing else."""
    utf8 = Encoding.UTF8
    tags = ID3()
    tags.add(TIT2(encoding=utf8, text=[spec.title]))
    tags.add(TPE1(encoding=utf8, text=[spec.author]))
    tags.add(TALB(encoding=utf8, text=[spec.show]))
    tags.add(TCON(encoding=utf8, text=[spec.genre]))
    tags.add(TDES(encoding=utf8, text=[spec.description]))
    tags.add(TRCK(encoding=utf8, text=[str(spec.episode)]))
    tags.add(TPOS(encoding=utf8, text=[str(spec.season)]))
    tags.add(TDRC(encoding=utf8, text=["2024-05-01T08:00:00"]))
    tags.add(COMM(encoding=utf8, lang="eng", desc="", text=[spec.description]))
    tags.add(WOAS(url=spec.page_url))
    tags.add(WFED(url=spec.feed_url))
    tags.add(PCST(value=1))
    ids = [f"chp{i}" for i in range(len(spec.chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=utf8, text=["Chapters"])],
        )
    )
    for element_id, mark in zip(ids, spec.chapters, strict=True):
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=round(mark.start * 1000),
                end_time=round((mark.end or 0) * 1000),
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=utf8, text=[mark.title])],
            )
        )
    assert spec.cover is not None
    tags.add(
        APIC(encoding=utf8, mime="image/jpeg", type=PictureType.COVER_FRONT, desc="Cover", data=spec.cover)
    )
    tags.save(path, v2_version=4, v1=0, padding=lambda _info: 1024)


def bench_tagging(work: Path, files: int, rounds: int) -> list[Row]:
    seed = work / "seed.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1:sample_rate=44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k",
           "-write_xing", "1", "-id3v2_version", "0", str(seed))  # fmt: skip
    Image.effect_noise((1400, 1400), 40).convert("RGB").save(work / "cover.jpg", "JPEG", quality=85)
    spec = tag_spec(audio.cover_jpeg(work / "cover.jpg"))
    derived = audio.TagSpec(**{**spec.__dict__, "chapters": tuple(
        audio.ChapterMark(m.start, m.title) for m in spec.chapters)})  # fmt: skip
    folder = work / "tagging"
    paths = [folder / f"ep{i:04d}.mp3" for i in range(files)]

    def fresh() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for path in paths:
            shutil.copyfile(seed, path)

    def ours() -> None:
        for path in paths:
            audio.write_tags(path, spec)

    def ours_derived() -> None:
        for path in paths:
            audio.write_tags(path, derived)

    def raw() -> None:
        for path in paths:
            raw_mutagen_tag(path, spec)

    raw_times, ours_times, derived_times = [], [], []
    for _ in range(rounds):  # alternate so drift in the machine's load favours neither side
        raw_times.append(median_seconds(raw, 1, fresh))
        ours_times.append(median_seconds(ours, 1, fresh))
        derived_times.append(median_seconds(ours_derived, 1, fresh))
    raw_s, ours_s, derived_s = (statistics.median(t) for t in (raw_times, ours_times, derived_times))
    shutil.rmtree(folder, ignore_errors=True)
    return [
        Row(f"(a) write_tags x{files} MP3", ours_s, raw_s, "raw mutagen", 1.2),
        Row(
            f"    ... chapter ends derived (probe each file) x{files}", derived_s, raw_s, "raw mutagen", None
        ),
    ]


# --------------------------------------------------------------------------------------------------
# (b) encoding
# --------------------------------------------------------------------------------------------------


def bench_encode(work: Path, minutes: float, rounds: int) -> tuple[list[Row], Path]:
    wav = make_wav(work / f"long-{minutes:g}min.wav", minutes * 60)
    out_ours, out_bare = work / "ours.mp3", work / "bare.mp3"
    settings = audio.EncodeSettings()

    def ours() -> None:
        audio.encode(wav, out_ours, settings)

    def bare() -> None:
        ffmpeg(
            "-i", str(wav), "-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", str(out_bare)
        )

    ours_runs, bare_runs = [], []
    for _ in range(rounds):  # alternate so both see the same machine state
        bare_runs.append(timed(bare))
        ours_runs.append(timed(ours))
    wall = Row(
        f"(b) encode() {minutes:g}-min WAV -> MP3 128k, wall",
        statistics.median(w for w, _ in ours_runs),
        statistics.median(w for w, _ in bare_runs),
        "bare ffmpeg",
        1.05,
    )
    # CPU seconds (ours: Python + ffmpeg; bare: ffmpeg) are steadier than wall time on a busy machine.
    cpu = Row(
        "    ... CPU time (user+sys, incl. children)",
        statistics.median(c for _, c in ours_runs),
        statistics.median(c for _, c in bare_runs),
        "bare ffmpeg",
        1.05,
    )
    rows = [wall, cpu]
    return rows, wav


# --------------------------------------------------------------------------------------------------
# (c) memory
# --------------------------------------------------------------------------------------------------

_RSS_PROBE = """
import json, resource, sys
from pathlib import Path
from pipeline import audio
loudness = None if sys.argv[3] == "none" else float(sys.argv[3])
result = audio.encode(Path(sys.argv[1]), Path(sys.argv[2]), audio.EncodeSettings(loudness=loudness))
print(json.dumps({
    "self_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "children_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "duration": result.info.duration,
}))
"""


def peak_rss(src: Path, dst: Path, loudness: float | None) -> tuple[float, float, float]:
    """(python MB, largest ffmpeg child MB, seconds) of encode() in a fresh interpreter."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _RSS_PROBE, str(src), str(dst), "none" if loudness is None else str(loudness)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    elapsed = time.perf_counter() - start
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return data["self_kb"] / 1024, data["children_kb"] / 1024, elapsed


def bench_memory(work: Path, big_mb: int, small_wav: Path, with_loudness: bool) -> list[MemRow]:
    big = make_wav(work / f"big-{big_mb}MB.wav", big_mb * 1024 * 1024 / WAV_BYTES_PER_SECOND)
    rows = []
    for label, src, loudness in [
        (f"{small_wav.stat().st_size / 2**20:.0f} MB WAV", small_wav, None),
        (f"{big.stat().st_size / 2**20:.0f} MB WAV", big, None),
        *(
            [(f"{small_wav.stat().st_size / 2**20:.0f} MB WAV, loudness -16", small_wav, -16.0)]
            if with_loudness
            else []
        ),
    ]:
        py, child, secs = peak_rss(src, work / "rss.mp3", loudness)
        rows.append(MemRow(f"(c) encode() {label}", py, child, secs))
    big.unlink()
    return rows


# --------------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    ours: float  # median seconds
    base: float  # median seconds
    base_name: str
    target: float | None  # highest acceptable ratio

    def line(self) -> str:
        ratio = self.ours / self.base
        verdict = "" if self.target is None else ("ok" if ratio <= self.target else "OVER")
        target = "" if self.target is None else f"<= {self.target:.2f}x"
        return (
            f"{self.name:<52} {self.ours:>9.3f}s {self.base:>9.3f}s {self.base_name:<12} "
            f"{ratio:>6.3f}x {target:>9} {verdict}"
        )


@dataclass(frozen=True)
class MemRow:
    name: str
    python_mb: float  # peak RSS of the Python process running encode()
    child_mb: float  # peak RSS of the largest ffmpeg child
    seconds: float

    def line(self) -> str:
        ok = "ok" if max(self.python_mb, self.child_mb) < 150 else "OVER"
        return (
            f"{self.name:<52} python {self.python_mb:>6.1f} MB   ffmpeg {self.child_mb:>6.1f} MB   "
            f"({self.seconds:.1f}s)  < 150 MB {ok}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the audio benchmarks and print a table of medians and ratios."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_audio", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: 200 files, 5-min WAV, 256 MB big WAV"
    )
    parser.add_argument("--files", type=int, help="MP3s to tag (default 1000; 200 with --quick)")
    parser.add_argument("--minutes", type=float, help="length of the encode WAV (default 60; 5 with --quick)")
    parser.add_argument(
        "--big-mb", type=int, help="size of the memory-test WAV (default 2048; 256 with --quick)"
    )
    parser.add_argument("--rounds", type=int, help="repetitions per measurement (default 3)")
    parser.add_argument(
        "--only", choices=["tag", "encode", "memory"], action="append", help="run only these parts"
    )
    parser.add_argument("--workdir", type=Path, help="where to generate files (default: a temp folder)")
    args = parser.parse_args(argv)
    files = args.files or (200 if args.quick else 1000)
    minutes = args.minutes or (5.0 if args.quick else 60.0)
    big_mb = args.big_mb or (256 if args.quick else 2048)
    rounds = args.rounds or 3
    parts = set(args.only or ["tag", "encode", "memory"])

    work = Path(tempfile.mkdtemp(prefix="bench-audio-", dir=args.workdir))
    print(f"pipeline.audio benchmarks  ({audio.tool_versions()})")
    print(f"files={files} minutes={minutes:g} big_mb={big_mb} rounds={rounds} work={work}\n")
    try:
        rows: list[Row] = []
        mem_rows: list[MemRow] = []
        if "tag" in parts:
            rows += bench_tagging(work, files, rounds)
        wav = None
        if "encode" in parts:
            encode_rows, wav = bench_encode(work, minutes, rounds)
            rows += encode_rows
        if "memory" in parts:
            if wav is None:
                wav = make_wav(work / f"long-{minutes:g}min.wav", minutes * 60)
            mem_rows += bench_memory(work, big_mb, wav, with_loudness=True)
        header = f"{'benchmark':<52} {'ours':>10} {'baseline':>10} {'':<12} {'ratio':>7} {'target':>9}"
        print(header)
        print("-" * len(header))
        for row in rows:
            print(row.line())
        for mem in mem_rows:
            print(mem.line())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
