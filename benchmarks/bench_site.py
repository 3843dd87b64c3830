"""Benchmark: site.render for 1,000 and 10,000 episode pages against plain markdown-it-py + Jinja2, and a rebuild."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from benchmarks import synth
from pipeline import model, site, transcript, urls
from pipeline.artifacts import BuiltAudio, BuiltEpisode
from pipeline.build import BuildWriter
from pipeline.cache import PagePacks
from pipeline.notes import Heading

NOW = synth.dt.datetime(2100, 1, 1, tzinfo=synth.dt.UTC)
COLD_TARGET = 0.4  # x the baseline, for 10,000 pages, with all CPUs
SPEEDUP_TARGET = 1.6  # 2 processes against 1
REBUILD_TARGET = 2.0  # seconds, for 10,000 episodes, `podcast build` from a fresh process


# --------------------------------------------------------------------------- the show, as the build would hand it over


@dataclasses.dataclass
class Fixture:
    show: model.Show
    public: tuple[BuiltEpisode, ...]  # newest first
    asset_keys: dict[Path, str]
    artwork_key: str
    load_seconds: float


def fixture(root: Path, n: int) -> Fixture:
    """A synthetic show of n episodes (synth.make_show), loaded, with BuiltEpisodes made up for its audio."""
    show_yaml = root / f"show-{n}" / "show.yaml"
    if not show_yaml.exists():
        synth.make_show(show_yaml.parent, n, audio_seconds=1.0)
    t0 = time.perf_counter()
    show, episodes = model.load(show_yaml)
    load_seconds = time.perf_counter() - t0
    artwork_key = urls.image_key(None, hashlib.sha256(show.artwork.read_bytes()).hexdigest(), "jpg")
    public = []
    for ep in model.public_episodes(episodes, NOW):
        digest = hashlib.sha256(ep.slug.encode()).hexdigest()  # the audio stage is not what is measured here
        key = urls.audio_key(ep, digest, "mp3")
        audio = BuiltAudio(
            path=ep.audio or ep.source,
            key=key,
            url=urls.url(show, key),
            size=28_000_000 + len(ep.slug),
            mime="audio/mpeg",
            duration=1800.0 + ep.number if ep.number else 1800.0,
            sha256=digest,
            loudness=None,
            reused=True,
        )
        chapters = urls.url(show, urls.chapters_key(ep)) if ep.chapters else None
        public.append(
            BuiltEpisode(
                episode=ep,
                guid=urls.episode_guid(show, ep),
                page_url=urls.page_url(show, ep),
                audio=audio,
                image_url=urls.url(show, artwork_key),
                chapters_url=chapters,
                transcripts=(),
            )
        )
    return Fixture(show, tuple(public), {show.artwork: artwork_key}, artwork_key, load_seconds)


# --------------------------------------------------------------------------- the plain baseline


class Baseline:
    """What a plain implementation does: markdown-it-py for the notes, Jinja2 for the same episode template."""

    def __init__(self, fx: Fixture) -> None:
        self.fx = fx
        self.md = MarkdownIt("commonmark").enable("table")
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(site.TEMPLATES),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        # The templates call icon() as a global; a plain setup hands them the macro itself.
        self.env.globals["icon"] = self.env.get_template("_icons.html").module.icon  # type: ignore[attr-defined]
        self.template = self.env.get_template("episode.html")

    def notes(self, text: str) -> tuple[str, list[Heading], int]:
        tokens = self.md.parse(text)
        headings = [
            Heading(int(tok.tag[1]), tokens[i + 1].content.lower().replace(" ", "-"), tokens[i + 1].content)
            for i, tok in enumerate(tokens)
            if tok.type == "heading_open"
        ]
        return self.md.renderer.render(tokens, self.md.options, {}), headings, len(text.split())

    def page(self, i: int) -> bytes:
        fx, show = self.fx, self.fx.show
        b = fx.public[i]
        ep = b.episode
        html, headings, words = self.notes(ep.notes)
        key = urls.page_key(ep)
        up = "../../"
        older = fx.public[i + 1].episode if i + 1 < len(fx.public) else None
        newer = fx.public[i - 1].episode if i > 0 else None
        audio_href = site.relative_url(key, b.audio.key)
        image = {"url": up + fx.artwork_key, "alt": f"{show.title} cover art", "width": 1400, "height": 1400}
        host = show.host
        ctx: dict[str, Any] = {
            "lang": show.language,
            "show": show,
            "page_title": f"{ep.title} · {show.title}",
            "description": ep.summary or "",
            "canonical_url": b.page_url,
            "og_type": "article",
            "og_image": {**image, "url": b.image_url},
            "og_audio": {"url": b.audio.url, "type": b.audio.mime},
            "jsonld": {"@type": "PodcastEpisode", "name": ep.title, "url": b.page_url},
            "feed_url": show.feed_url,
            "index_url": up,
            "css_url": up + "static/style.css",
            "js_url": up + "static/player.js",
            "icon_url": up + fx.artwork_key,
            "icon_type": "image/jpeg",
            "logo": image,
            "theme": site.theme_colours(show.theme.color),
            "subscribe": [{"label": link.label, "url": link.url} for link in show.subscribe],
            "host": {
                "name": host.name,
                "bio_html": Markup(self.md.render(host.bio)),
                "photo": None,
                "links": [{"label": link.label, "url": link.url} for link in host.links],
            }
            if host
            else None,
            "cta": None,
            "funding": [{"url": f.url, "text": f.text} for f in show.funding],
            "footer_note": f"© {ep.date.year} {show.author}",
            "episode": {
                "slug": ep.slug,
                "title": ep.title,
                "number": ep.number,
                "season": ep.season,
                "type": ep.type,
                "explicit": bool(ep.explicit),
                "date_iso": ep.date.isoformat(),
                "date_human": site.human_date(ep.date),
                "reading_minutes": max(1, words // 200),
            },
            "notes_html": Markup(html),
            "headings": headings,
            "image": image,
            "audio": {
                "url": audio_href,
                "mime": b.audio.mime,
                "size_human": site.human_size(b.audio.size),
                "format_label": "MP3",
                "download_name": f"{ep.slug}.mp3",
                "duration_hms": transcript.clock(b.audio.duration),
                "duration_label": site.duration_label(b.audio.duration),
                "duration_iso": site.duration_iso(b.audio.duration),
                "sources": [{"url": audio_href, "type": b.audio.mime}],
            },
            "clips": [],
            "waveform": None,
            "video": None,
            "chapters": [
                {
                    "title": c.title,
                    "url": c.url,
                    "clock": transcript.clock(c.start),
                    "seconds": f"{c.start:g}",
                    "href": f"{audio_href}#t={c.start:g}",
                }
                for c in ep.chapters
            ],
            "transcript": None,
            "location": None,
            "p20": {"funding": [], "value": None},
            "persons": [],
            "prev": {"title": older.title, "url": f"../{older.slug}/"} if older else None,
            "next": {"title": newer.title, "url": f"../{newer.slug}/"} if newer else None,
        }
        return self.template.render(ctx).encode()

    def render_all(self) -> int:
        return sum(len(self.page(i)) for i in range(len(self.fx.public)))


# --------------------------------------------------------------------------- ours


def render(
    fx: Fixture,
    cache_dir: Path | None,
    public: Sequence[BuiltEpisode] | None = None,
    workers: int | None = None,
) -> site.SiteRender:
    """site.render_site with its page cache driven as build.py drives it (opened, passed, saved)."""
    packs = PagePacks(cache_dir) if cache_dir is not None else None
    try:
        result = site.render_site(
            fx.show,
            fx.public if public is None else public,
            asset_keys=fx.asset_keys,
            artwork_key=fx.artwork_key,
            cache=packs,
            workers=workers,
        )
        if packs is not None:
            packs.save()
    finally:
        if packs is not None:
            packs.close()
    return result


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have finished (the render's worker processes)."""
    return own_cpu() + children_cpu()


def children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def own_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def timed(fn: Callable[[], Any], cpu: list[float] | None = None) -> tuple[float, Any]:
    """Wall time of fn(); its CPU time (all processes) is appended to `cpu` when given."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    value = fn()
    wall = time.perf_counter() - t0
    if cpu is not None:
        cpu.append(cpu_seconds() - c0)
    return wall, value


@dataclasses.dataclass
class Split:
    """Where one parallel render's CPU went: the parent's serial part, and the parallel section's."""

    serial: float = 0.0  # this process, outside the parallel section (planning, keys, collecting, saving)
    parallel_parent: float = 0.0  # this process inside it (its own share of the pages)
    parallel_workers: float = 0.0  # the worker processes (start-up, their share, sending it back)


class SectionClock:
    """Times site._render_parallel from outside, for Split: this process's CPU inside the parallel section
    (from the call until the first page comes back), and its workers' (theirs is counted once they exit).
    """

    def __init__(self) -> None:
        self.marks: list[tuple[float, float]] = []
        self.original = site._render_parallel

    def __enter__(self) -> SectionClock:
        original, marks = self.original, self.marks

        def clocked(*args: Any, **kwargs: Any) -> Any:
            marks.append((own_cpu(), children_cpu()))
            first = True
            for item in original(*args, **kwargs):
                if first:
                    marks.append((own_cpu(), children_cpu()))
                    first = False
                yield item
            marks.append((own_cpu(), children_cpu()))

        site._render_parallel = clocked  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        site._render_parallel = self.original  # type: ignore[assignment]

    def split(self, own: float, total_own: float) -> Split:
        """The Split of a render that took `total_own` s of this process's CPU (`own` = its start)."""
        if len(self.marks) < 3:
            return Split(serial=total_own)
        (own_a, kids_a), (own_b, _), (_, kids_c) = self.marks[:3]
        inside = own_b - own_a
        return Split(total_own - inside, inside, kids_c - kids_a)


def _spin(_: object) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(2_000_000):
        x += i * i
    return time.perf_counter() - t0


def parallel_speedup() -> float:
    """How much faster two CPU-bound processes finish than one would twice (2.0 = two full cores)."""
    one = min(_spin(None) for _ in range(2))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_spin, [0, 1])  # warm up
        t0 = time.perf_counter()
        pool.map(_spin, [0, 1])
        two = time.perf_counter() - t0
    return 2 * one / two


def changed(fx: Fixture, index: int, **fields: str) -> tuple[BuiltEpisode, ...]:
    """The episodes with one of them edited (e.g. notes=..., title=...)."""
    public = list(fx.public)
    b = public[index]
    public[index] = dataclasses.replace(b, episode=b.episode.model_copy(update=fields))
    return tuple(public)


def fresh(public: Sequence[BuiltEpisode]) -> tuple[BuiltEpisode, ...]:
    """The same records with their notes not yet rendered (BuiltEpisode.notes renders them once, on first use)."""
    return tuple(dataclasses.replace(b) for b in public)


def bench_size(
    work: Path, n: int, repeat: int, rows: list[tuple[str, float, float | None, str]], notes: list[str]
) -> None:
    """The cold renders, interleaved run by run (baseline, 1 process, 2 processes, ...), so that a busy
    machine slows every case alike; each run gets records whose notes nobody has rendered yet, so every
    case goes from Markdown to pages, as the baseline does."""
    fx = fixture(work, n)
    pages = len(fx.public)
    notes.append(f"{n:,} episodes: model.load {fx.load_seconds:.2f}s (not part of the figures below)")
    baseline = Baseline(fx)
    cache = work / f"cache-{n}"
    runs: list[tuple[int | None, str]] = [(1, "1 process"), (2, "2 processes")]
    if site.worker_count(None) != 2:
        runs.append((None, f"{site.worker_count(None)} processes (all CPUs)"))
    walls: dict[str, list[float]] = {"baseline": [], "rendered": []}
    cpus: dict[str, list[float]] = {"baseline": [], "rendered": []}
    splits: dict[int | None, list[Split]] = {w: [] for w, _ in runs}
    result: site.SiteRender | None = None
    for _ in range(repeat):
        secs, _ = timed(baseline.render_all, cpus["baseline"])
        walls["baseline"].append(secs)
        for workers, label in runs:
            public = fresh(fx.public)
            shutil.rmtree(cache, ignore_errors=True)
            own0 = own_cpu()
            with SectionClock() as clock:
                secs, result = timed(
                    lambda workers=workers, public=public: render(fx, cache, public, workers=workers),
                    cpus.setdefault(label, []),
                )
            walls.setdefault(label, []).append(secs)
            splits[workers].append(clock.split(own0, own_cpu() - own0))
        # For comparison: notes the build has rendered already (in `podcast build` the feed reads them first).
        rendered = fresh(fx.public)
        for b in rendered:
            _ = b.notes
        shutil.rmtree(cache, ignore_errors=True)
        secs, _ = timed(lambda rendered=rendered: render(fx, cache, rendered, workers=1), cpus["rendered"])
        walls["rendered"].append(secs)
    assert result is not None
    med = {label: statistics.median(v) for label, v in walls.items()}
    cpu = {label: statistics.median(v) for label, v in cpus.items()}
    base = med["baseline"]
    rows.append(
        (
            f"baseline (markdown-it + Jinja2), {pages:,} pages",
            base,
            None,
            f"{base / pages * 1000:.2f} ms/page; CPU {cpu['baseline']:.2f}s",
        )
    )
    for workers, label in runs:
        all_cpus = workers is None or (workers == 2 and site.worker_count(None) == 2)
        target = f"<= {COLD_TARGET}x" if n >= 10_000 and all_cpus else ""
        rows.append(
            (
                f"site.render cold, {label}, {len(result.rendered):,} pages",
                med[label],
                med[label] / base,
                f"{target + '; ' if target else ''}CPU {cpu[label]:.2f}s ({cpu[label] / cpu['baseline']:.2f}x)",
            )
        )
    rows.append(
        (
            "  (same, 1 process, notes rendered beforehand)",
            med["rendered"],
            med["rendered"] / base,
            f"not a target: Jinja only; CPU {cpu['rendered']:.2f}s ({cpu['rendered'] / cpu['baseline']:.2f}x)",
        )
    )
    one, two = med["1 process"], med["2 processes"]
    one_cpu = cpu["1 process"]
    serial = statistics.median(s.serial for s in splits[2])
    parent = statistics.median(s.parallel_parent for s in splits[2])
    kids = statistics.median(s.parallel_workers for s in splits[2])
    bound = one_cpu / (serial + (parent + kids) / 2)
    speedups = [a / b for a, b in zip(walls["1 process"], walls["2 processes"], strict=True)]
    notes.append(
        f"{n:,} pages: 2 processes are {one / two:.2f}x as fast as 1 (target >= {SPEEDUP_TARGET}x: "
        f"{'met' if one / two >= SPEEDUP_TARGET else 'missed'}; run by run {', '.join(f'{x:.2f}' for x in speedups)})"
    )
    notes.append(
        f"  CPU, 1 process: {one_cpu:.2f}s. 2 processes: {serial:.2f}s serial in this process "
        f"({serial / one_cpu:.0%} of the 1-process CPU: planning, collecting, saving the page cache), "
        f"then {parent:.2f}s here + {kids:.2f}s in the worker in parallel "
        f"({parent + kids - (one_cpu - serial):+.2f}s more than the same pages in one process)"
    )
    notes.append(
        f"  so on two free cores 2 processes could be at most {bound:.2f}x as fast as 1 "
        f"(1-process CPU / (serial + parallel/2); {'enough for' if bound >= SPEEDUP_TARGET else 'short of'} "
        f"the target): the wall figure above is that, times what the other jobs on this machine leave us"
    )
    if n >= 10_000:
        notes.append(
            f"  {n:,} pages, all CPUs: {med[runs[-1][1]] / base:.2f}x the baseline (target <= {COLD_TARGET}x: "
            f"{'met' if med[runs[-1][1]] / base <= COLD_TARGET else 'missed'}); "
            f"one process from Markdown costs {one_cpu / cpu['baseline']:.2f}x the baseline's CPU, so "
            f"{COLD_TARGET}x needs a {one_cpu / cpu['baseline'] / COLD_TARGET:.2f}x speed-up from the workers"
        )

    # A rebuild: the previous build is on disk (cache + build folder), then one episode changes.
    out = work / f"out-{n}"
    shutil.rmtree(out, ignore_errors=True)
    writer = BuildWriter(out)
    writer.write_all(list(result.outputs))
    middle = pages // 2
    cases = [
        ("no change", fx.public),
        ("1 notes edit", changed(fx, middle, notes=fx.public[middle].episode.notes + "\nOne more line.\n")),
        ("1 title edit", changed(fx, middle, title="A brand new title")),
    ]
    for label, public in cases:
        render_secs, res = timed(lambda public=public: render(fx, cache, public))
        write_secs, (written, _) = timed(lambda res=res: writer.write_all(list(res.outputs)))
        secs = render_secs + write_secs
        target = f"< {REBUILD_TARGET:g} s" if n >= 10_000 and label != "no change" else ""
        rows.append(
            (
                f"rebuild, {label}: {len(res.rendered)} rendered, {written} written",
                secs,
                secs / base,
                f"{target + '; ' if target else ''}render {render_secs:.2f}s + write {write_secs:.2f}s",
            )
        )
        writer.write_all(list(render(fx, cache).outputs))  # back to the unchanged show for the next case


def podcast_build(show_yaml: Path) -> tuple[float, float, str]:
    """`python -m pipeline build -q` from a fresh process, as a host runs it: (wall, CPU, its output)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "NO_COLOR": "1"}
    c0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--show", str(show_yaml)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"podcast build failed ({proc.returncode}):\n{proc.stderr}")
    return wall, cpu, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def bench_rebuild_process(
    work: Path, n: int, repeat: int, rows: list[tuple[str, float, float | None, str]], notes: list[str]
) -> None:
    """One edited episode.md in an n-episode show, rebuilt by `podcast build` in a fresh process.

    Every episode gets the same recording, so the untimed cold build encodes it once (each is still
    tagged on its own); the timed rebuild includes start-up, model loading (its parse cache), the audio
    stage's checks, the feed, the pages and the writes.
    """
    root = work / f"build-{n}"
    show_yaml = root / "show.yaml"
    if not show_yaml.exists():
        synth.make_show(root, n, audio_seconds=6.0)
        same = synth.base_mp3(root.parent / ".base-6s.mp3", 6.0).read_bytes()
        for audio in sorted((root / "episodes").glob("*/audio.mp3")):
            audio.write_bytes(same)
    cold = podcast_build(show_yaml)
    noop = podcast_build(show_yaml)
    notes.append(
        f"{n:,}-episode show, podcast build in a fresh process: cold {cold[0]:.1f}s (CPU {cold[1]:.1f}s, untimed "
        f"set-up), no-op {noop[0]:.2f}s (CPU {noop[1]:.2f}s)"
    )
    md = root / "episodes" / f"episode-{n // 2:05d}" / "episode.md"
    original = md.read_text()
    walls, cpus = [], []
    out = ""
    for i in range(repeat):
        md.write_text(original + f"\nOne more line ({i}).\n")
        wall, cpu, out = podcast_build(show_yaml)
        walls.append(wall)
        cpus.append(cpu)
    md.write_text(original)
    wall = statistics.median(walls)
    target = f"< {REBUILD_TARGET:g} s" if n >= 10_000 else f"(< {REBUILD_TARGET:g} s at 10,000)"
    rows.append(
        (
            f"podcast build, 1 notes edit, {n:,} episodes",
            wall,
            None,
            f"{target}; CPU {statistics.median(cpus):.2f}s; {out}",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_site", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 episodes only, one run each")
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=None, help="episode counts (default 1000 10000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per median (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="keep generated shows here (default: a temp dir)"
    )
    parser.add_argument(
        "--rebuild-episodes",
        type=int,
        default=None,
        help="episodes of the show `podcast build` rebuilds after one edit (default 10000; 300 with --quick; 0: skip)",
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or ([1000] if args.quick else [1000, 10_000])
    repeat = args.repeat or (1 if args.quick else 3)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-site-"))
    rows: list[tuple[str, float, float | None, str]] = []
    notes: list[str] = [
        f"runs per median: {repeat}; workers: {site.worker_count(None)} (the CPUs available)",
        f"this machine: two CPU-bound processes finish {parallel_speedup():.2f}x as fast as one "
        "(2.00 = two full cores)",
        "rebuild = site.render + BuildWriter.write_all of its outputs into the previous build folder",
    ]
    try:
        for n in sizes:
            if n:  # --sizes 0: only the process rebuild
                bench_size(work, n, repeat, rows, notes)
        rebuild = (
            args.rebuild_episodes if args.rebuild_episodes is not None else (300 if args.quick else 10_000)
        )
        if rebuild:
            bench_rebuild_process(work, rebuild, repeat, rows, notes)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        synth.table("site.render: pages from Markdown notes (ratio = time / baseline of the same size)", rows)
    )
    for line in notes:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
