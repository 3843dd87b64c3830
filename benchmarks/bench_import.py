"""Benchmark: `podcast import` of a 10,000-item feed (no download) against a bare feedparser parse of it.

Each measurement is its own process (`--child`), so peak memory is the import's own and one run cannot warm
the next; the three kinds of run are interleaved round by round and medians are reported. Times are CPU
seconds of the timed call (user + system; the wall clock swings with other work on a shared machine), the
interpreter's start and imports left out (each child also reports its whole-process CPU).

The floor is what any import must spend whatever its code: parsing the feed with lxml and creating one
folder and one file per item. Writing 10,000 small files is kernel time that a parse never pays, so when the
target is missed the floor says how much of the gap is left to code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_RATIO = 2.0
KINDS = ("parse", "import", "floor")
_WHAT = {
    "parse": "feedparser.parse (bare)",
    "import": "podcast import, no download",
    "floor": "floor: lxml parse + 1 folder and file per item",
}


def big_feed(n: int) -> bytes:
    """A Libsyn-shaped feed with n items: HTML notes with a link and a list, numbers, durations."""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/'
        'podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org'
        '/2005/Atom"><channel><title>Big Show</title><link>https://big.example.com/</link>'
        '<atom:link href="https://feeds.example.com/big" rel="self" type="application/rss+xml"/>'
        "<description>Many episodes.</description><language>en</language><itunes:author>Big</itunes:author>"
        "<itunes:owner><itunes:name>Big</itunes:name><itunes:email>big@example.com</itunes:email></itunes:owner>"
        '<itunes:category text="News"/><itunes:explicit>no</itunes:explicit>'
    )
    start = dt.datetime(2000, 1, 1, 6, tzinfo=dt.UTC)
    items = []
    for i in range(n, 0, -1):
        when = (start + dt.timedelta(days=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(
            f'<item><title>Episode {i}: a day in the news</title><guid isPermaLink="false">big-{i}</guid>'
            f"<pubDate>{when}</pubDate><itunes:episode>{i}</itunes:episode><itunes:explicit>no</itunes:explicit>"
            f'<description><![CDATA[<p>Stories for day {i}, with <a href="https://example.com/{i}">links</a>.'
            f"</p><ul><li>One</li><li>Two</li></ul>]]></description>"
            f'<enclosure url="https://traffic.example.com/big/{i}.mp3" length="{1000 + i}" type="audio/mpeg"/>'
            "<itunes:duration>00:10:00</itunes:duration></item>"
        )
    return (head + "".join(items) + "</channel></rss>").encode()


# --------------------------------------------------------------------------- one measured process


def _floor(feed: Path, out: Path) -> int:
    """The least an import does: lxml-parse the feed, then one folder and one file per item (its notes)."""
    from pipeline import importer  # already loaded by _child before the clock starts

    channel = importer.parse_channel(feed.read_bytes(), str(feed))
    episodes = os.path.join(out, "episodes")
    os.makedirs(episodes)
    count = 0
    for count, item in enumerate(channel.iterfind("item"), 1):
        folder = os.path.join(episodes, f"e{count}")
        os.mkdir(folder)
        with open(os.path.join(folder, "episode.md"), "w", encoding="utf-8") as fh:
            fh.write(item.findtext("description") or "")
    return count


def _child(kind: str, feed: Path, out: Path) -> None:
    """Time one `kind` run in this process and print its figures as one JSON line."""
    # each kind loads only what it uses (before the clock starts), so whole-process figures compare too
    if kind == "parse":
        import feedparser

        run = lambda: len(feedparser.parse(feed.read_bytes()).entries)  # noqa: E731
    else:
        from pipeline import importer

        if kind == "import":
            run = lambda: len(importer.import_feed(str(feed), out).written)  # noqa: E731
        else:
            run = lambda: _floor(feed, out)  # noqa: E731
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, r0 = time.perf_counter(), os.times()
    count = run()
    r1, wall = os.times(), time.perf_counter() - t0
    figures = {
        "count": count,
        "wall": wall,
        "user": r1.user - r0.user,
        "sys": r1.system - r0.system,
        "process": r1.user + r1.system,
        "rss_before": before,  # KiB on Linux
        "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(figures))


def _run(kind: str, feed: Path, out: Path) -> dict[str, Any]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "benchmarks.bench_import", "--child", kind, str(feed), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench_import: the {kind} run failed: {done.stderr.strip().splitlines()[-1:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["cpu"] = figures["user"] + figures["sys"]
    return figures


# --------------------------------------------------------------------------- the comparison


def main(argv: list[str] | None = None) -> int:
    """Interleaved rounds of parse / import / floor; prints medians, the ratio, the target and peak memory."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_import", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 items and 3 rounds (a smoke run)")
    parser.add_argument("--items", type=int, default=None, help="number of items (default 10,000)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 5)")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "FEED", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, feed_arg, out_arg = args.child
        _child(kind, Path(feed_arg), Path(out_arg))
        return 0
    n = args.items or (1_000 if args.quick else 10_000)
    repeats = args.repeats or (3 if args.quick else 5)
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    try:
        feed = work / "feed.xml"
        feed.write_bytes(big_feed(n))
        size = feed.stat().st_size / 2**20
        for round_ in range(repeats):
            order = KINDS if round_ % 2 == 0 else KINDS[::-1]  # neither kind always runs first
            for kind in order:
                out = work / f"{kind}-{round_}"
                runs[kind].append(_run(kind, feed, out))
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for kind in KINDS:
        assert all(r["count"] == n for r in runs[kind]), f"{kind}: not every item was read or written"

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    base = med("parse", "cpu")
    print(f"feed: {n:,} items, {size:.1f} MiB; median of {repeats} interleaved rounds, one process per run")
    print(f"{'run':<48} {'CPU s':>7} {'user':>6} {'sys':>6} {'ratio':>7} {'wall s':>7} {'peak RSS':>9}")
    for kind in KINDS:
        cpu = med(kind, "cpu")
        print(
            f"{_WHAT[kind]:<48} {cpu:>7.2f} {med(kind, 'user'):>6.2f} {med(kind, 'sys'):>6.2f} "
            f"{cpu / base:>6.2f}x {med(kind, 'wall'):>7.2f} {med(kind, 'rss_peak') / 1024:>5.0f} MiB"
        )
    ratios = sorted(i["cpu"] / p["cpu"] for i, p in zip(runs["import"], runs["parse"], strict=True))
    ratio = med("import", "cpu") / base
    floor = med("floor", "cpu") / base
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(
        f"import/feedparser CPU ratio {ratio:.2f}x {verdict} the target of <= {TARGET_RATIO:.0f}x "
        f"(per round {', '.join(f'{r:.2f}' for r in ratios)}; wall clock "
        f"{med('import', 'wall') / med('parse', 'wall'):.2f}x)"
    )
    print(
        f"peak memory of the import process (max RSS): {med('import', 'rss_peak') / 1024:.0f} MiB, "
        f"{(med('import', 'rss_peak') - med('import', 'rss_before')) / 1024:.0f} MiB above the "
        f"{med('import', 'rss_before') / 1024:.0f} MiB of the interpreter and its imports"
    )
    print(
        f"whole processes (start, imports, run): import {med('import', 'process'):.2f} s CPU, "
        f"feedparser {med('parse', 'process'):.2f} s CPU"
    )
    user = med("import", "user") / med("parse", "user")
    print(
        f"user CPU alone: import {user:.2f}x feedparser; system time is the kernel creating {n:,} folders and "
        f"files ({med('import', 'sys'):.2f} s here, {med('floor', 'sys'):.2f} s in the floor run)"
    )
    if ratio > TARGET_RATIO:
        print(
            f"over target: {ratio:.2f}x > {TARGET_RATIO:.0f}x; measured floor (lxml parse + {n:,} folders and "
            f"files, no conversion) is {floor:.2f}x, the importer's own work above it "
            f"{(med('import', 'cpu') - med('floor', 'cpu')) / base:+.2f}x",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
