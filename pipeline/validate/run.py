"""The entry point: parse the bytes, run the offline, cross-build and online checks, return a Report."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from lxml import etree

from pipeline.errors import UnreadableFeed
from pipeline.progress import NullReporter, Reporter
from pipeline.validate import archives
from pipeline.validate.checker import Checker
from pipeline.validate.crossbuild import cross_build
from pipeline.validate.http import sniff, xml_parser
from pipeline.validate.online import run_online
from pipeline.validate.rules import Report, active_rules
from pipeline.validate.values import _I


def _parse_errors(checker: Checker, err: etree.XMLSyntaxError, parser: etree.XMLParser) -> None:
    # the parser's own log: the exception's log is lxml's per-thread log and keeps earlier documents' errors
    seen_prefixes: set[str] = set()
    seen: set[tuple[int, int, str]] = set()
    reported = 0
    entries = list(parser.error_log)
    for entry in entries:
        key = (entry.line, entry.column, entry.message)
        if key in seen:
            continue
        seen.add(key)
        m = re.match(r"Namespace prefix (\S+) (?:on|for) (\S+) is not defined", entry.message)
        if m:
            if m[1] not in seen_prefixes:
                seen_prefixes.add(m[1])
                checker.add(
                    "PC106", f"prefix '{m[1]}' (on <{m[1]}:{m[2]}>) is not declared", "document", entry.line
                )
            continue
        if reported < 20:
            reported += 1
            checker.add(
                "PC101",
                f"{entry.message.strip()} (line {entry.line}, column {entry.column})",
                "document",
                entry.line,
            )
    if not entries:
        checker.add("PC101", str(err.msg), "document", err.lineno)


def validate(
    data: bytes,
    *,
    source: str,
    profiles: Iterable[str] | None = None,
    previous: bytes | None = None,
    online: bool = False,
    timeout: float = 10.0,
    now: datetime | None = None,
    workers: int = 8,
    reporter: Reporter | None = None,
    follow_archives: bool = True,
    max_bytes: int = 20 * 2**20,
) -> Report:
    """Judge one feed's bytes against the rule catalogue and return every finding.

    `source` names the feed in findings (a path or the URL it came from). `profiles` limits the rules to
    apple/spotify/podcastindex. `previous` (the last published feed) adds the cross-build rules (PC5xx).
    `online` fetches every enclosure, artwork, transcript and chapters URL (PC4xx) on `workers` threads.
    `now` is the clock for "pubDate in the future" (default: the current time).
    `follow_archives` walks RFC 5005 prev-archive links (files beside a local feed, or URLs) and checks
    every archive page and the chain (PC508-PC510).
    Raises UnreadableFeed when the bytes can't be a feed at all (empty, not XML, an HTML page).
    """
    active = active_rules(profiles)
    sniff(data, source)
    checker = Checker(active, source, now or datetime.now(UTC), online=online)
    parser = xml_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        _parse_errors(checker, err, parser)
        return _report(checker, items=0)
    if isinstance(root.tag, str) and etree.QName(root).localname.lower() == "html":
        raise UnreadableFeed(
            "an HTML page, not a feed",
            file=source,
            hint="point at the feed's own URL (often /feed.xml or /rss)",
        )
    channel = checker.document(root, data)
    items = 0
    if channel is not None:
        checker.channel(channel)
        itype = channel.find(_I["type"])
        checker.all_items(channel, serial=itype is not None and (itype.text or "").strip() == "serial")
        items = len(checker.items)
        checker.finish()
        if follow_archives:
            guids = {i.guid: str(i.where) for i in checker.items if i.guid}
            clock = checker.now
            items += archives.check_chain(
                checker.add,
                channel,
                guids,
                read=archives.reader(source, checker.self_url, timeout=timeout, max_bytes=max_bytes),
                check_page=archives.page_findings(validate, clock, active),
            )
        if previous is not None:
            cross_build(checker, previous)
        if online:
            run_online(checker, timeout=timeout, workers=workers, reporter=reporter or NullReporter())
    return _report(checker, items=items)


def _report(checker: Checker, *, items: int) -> Report:
    order = sorted(checker.findings, key=lambda f: (f.line is None, f.line or 0, f.rule, f.where, f.message))
    return Report(checker.source, tuple(order), items)
