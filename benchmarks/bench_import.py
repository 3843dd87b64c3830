"""Benchmark: `podcast import` of a 10,000-item feed (no download) against a bare feedparser parse of it."""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import feedparser

from pipeline import importer

TARGET_RATIO = 2.0


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_import")
    parser.add_argument("--quick", action="store_true", help="1,000 items instead of 10,000")
    parser.add_argument("--items", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.items or (1_000 if args.quick else 10_000)
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        feed = work / "feed.xml"
        feed.write_bytes(big_feed(n))
        t0, c0 = time.perf_counter(), time.process_time()
        parsed = feedparser.parse(feed.read_bytes())
        bare, bare_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert len(parsed.entries) == n
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0 = time.perf_counter(), time.process_time()
        result = importer.import_feed(str(feed), work / "show")
        ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        assert len(result.written) == n
        ratio = ours_cpu / bare_cpu
        size = feed.stat().st_size / 2**20
        print(f"feed: {n:,} items, {size:.1f} MiB")
        print(f"feedparser parse:             {bare:6.2f} s wall, {bare_cpu:6.2f} s CPU")
        print(f"podcast import (no download): {ours:6.2f} s wall, {ours_cpu:6.2f} s CPU")
        print(f"ratio (CPU): {ratio:.2f}x (wall {ours / bare:.2f}x); target <= {TARGET_RATIO:.0f}x")
        print(
            f"peak memory (max RSS of the process): {peak / 1024:.0f} MiB (before the import: {before / 1024:.0f} MiB)"
        )
        if ratio > TARGET_RATIO:
            print(f"over target: {ratio:.2f}x > {TARGET_RATIO:.0f}x", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
