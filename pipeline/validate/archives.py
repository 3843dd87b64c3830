"""RFC 5005 archives: follow a feed's prev-archive links through every archive page and check the chain.

Pages are read from the folder of a local feed (an href under the feed's own self-URL folder maps to a file
beside it) or fetched when the feed itself came from a URL. Every page gets the offline item rules, and the
chain as a whole: readable (PC508), consistent links and fh:archive marks (PC509), each item once (PC510).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin

from lxml import etree

from pipeline.errors import PipelineError
from pipeline.ids import ATOM, FH
from pipeline.validate.http import is_url, read_source, xml_parser
from pipeline.validate.rules import Report
from pipeline.validate.values import _clip

_LINK = f"{{{ATOM}}}link"
_ARCHIVE = f"{{{FH}}}archive"
MAX_PAGES = 10_000
#: Rules that judge a document as the subscription feed; an archive page is not one.
_NOT_FOR_PAGES = frozenset({"PC226", "PC235"})

Add = Callable[[str, str, str, int | None], None]


def links(channel: etree._Element) -> dict[str, str]:
    """rel -> href of the channel's atom:links (the first of each rel)."""
    out: dict[str, str] = {}
    for el in channel.iterchildren(_LINK):
        rel, href = (el.get("rel") or "").strip(), (el.get("href") or "").strip()
        if rel and href and rel not in out:
            out[rel] = href
    return out


def reader(source: str, self_url: str | None, *, timeout: float, max_bytes: int) -> Callable[[str], bytes]:
    """How to read a linked page: fetch it when the feed came from a URL, else find it beside the feed."""
    if is_url(source):
        return lambda href: read_source(urljoin(source, href), timeout=timeout, max_bytes=max_bytes)
    folder = Path(source).parent
    base = self_url.rsplit("/", 1)[0] + "/" if self_url and is_url(self_url) else None

    def local(href: str) -> bytes:
        if base and href.startswith(base):
            rel = href[len(base) :]
        elif not is_url(href) and not href.startswith("/"):
            rel = href
        else:
            raise PipelineError("is not under the feed's folder, so it cannot be found locally", file=href)
        return read_source(str(folder / rel.split("?")[0].split("#")[0]), max_bytes=max_bytes)

    return local


def check_chain(
    add: Add,
    channel: etree._Element,
    guids: dict[str, str],
    *,
    read: Callable[[str], bytes],
    check_page: Callable[[bytes, str], list[tuple[str, str, str, int | None]]],
) -> int:
    """Walk prev-archive links from the feed to the oldest page; returns how many archive items were read.

    `guids` holds the feed's own item GUIDs (guid -> where); `check_page` runs the offline rules on one page
    and returns (rule, message, where, line) for each finding.
    """
    top = links(channel)
    href = top.get("prev-archive")
    if not href:
        return 0
    first, current = top.get("first"), top.get("self")
    seen: set[str] = set()
    newer = top.get("self", "feed")
    last_url = ""
    items = 0
    while href:
        if href in seen:
            add("PC509", f"prev-archive of {_clip(newer)} loops back to {_clip(href)}", "channel", None)
            break
        if len(seen) >= MAX_PAGES:
            add("PC509", f"more than {MAX_PAGES} archive pages; stopped following", "channel", None)
            break
        seen.add(href)
        try:
            data = read(href)
            page = etree.fromstring(data, xml_parser()).find("channel")
        except (PipelineError, etree.XMLSyntaxError) as err:
            add("PC508", f"archive page {href} (linked from {newer}): {err}", "channel", None)
            break
        if page is None:
            add("PC508", f"archive page {_clip(href)} has no <channel>", "channel", None)
            break
        for rule, message, where, line in check_page(data, href):
            add(rule, message, f"{href}{f' line {line}' if line else ''}, {where}", None)
        here = links(page)
        name = f"archive page {_clip(href)}"
        if page.find(_ARCHIVE) is None:
            add("PC509", f"{name} is not marked <fh:archive/>", "channel", None)
        if current and here.get("current") not in (None, current):
            add("PC509", f"{name} says current is {_clip(here['current'])}, not {current}", "channel", None)
        if first and here.get("first") not in (None, first):
            add("PC509", f"{name} says first is {_clip(here['first'])}, not {first}", "channel", None)
        nxt = here.get("next-archive")
        if nxt is not None and nxt != newer and newer != top.get("self"):
            add(
                "PC509",
                f"{name} has next-archive {_clip(nxt)}, but {_clip(newer)} links to it",
                "channel",
                None,
            )
        for index, item in enumerate(page.iterchildren("item"), 1):
            items += 1
            guid = (item.findtext("guid") or "").strip()
            if not guid:
                continue
            where = f"{href} item {index}"
            if guid in guids:
                add("PC510", f"guid '{_clip(guid)}' is in {where} and in {guids[guid]}", "channel", None)
            else:
                guids[guid] = where
        last_url, newer, href = href, href, here.get("prev-archive", "")
    if first and last_url and last_url != first and len(seen) < MAX_PAGES:
        add(
            "PC509",
            f"the oldest page reached is {_clip(last_url)}, but first names {_clip(first)}",
            "channel",
            None,
        )
    return items


def page_findings(
    validate: Callable[..., Report], now: datetime, active: frozenset[str]
) -> Callable[[bytes, str], list[tuple[str, str, str, int | None]]]:
    """Runs the whole offline catalogue on one archive page, minus the rules only a subscription feed obeys."""

    def run(data: bytes, href: str) -> list[tuple[str, str, str, int | None]]:
        report = validate(data, source=href, now=now, follow_archives=False)
        return [
            (f.rule, f.message, f.where, f.line)
            for f in report.findings
            if f.rule not in _NOT_FOR_PAGES and f.rule in active
        ]

    return run
