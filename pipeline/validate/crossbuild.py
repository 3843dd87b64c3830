"""Cross-build checks (PC5xx): compare the feed with the previously published one."""

from __future__ import annotations

from lxml import etree

from pipeline.errors import UnreadableFeed
from pipeline.validate.checker import Checker
from pipeline.validate.http import xml_parser
from pipeline.validate.values import _clip


def cross_build(checker: Checker, previous: bytes) -> None:
    try:
        root = etree.fromstring(previous, xml_parser())
    except etree.XMLSyntaxError as err:
        raise UnreadableFeed(f"the previous feed is not XML ({err.msg})", field="previous") from None
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        raise UnreadableFeed("the previous feed has no <rss><channel>", field="previous")
    prev = Checker(frozenset(), "previous", checker.now)
    prev.channel(channel)
    prev.all_items(channel, serial=False)

    current = {info.guid: info for info in checker.items if info.guid}
    previous_guids = {info.guid for info in prev.items if info.guid}
    fresh = [info for info in checker.items if info.guid and info.guid not in previous_guids]
    for old in prev.items:
        if not old.guid:
            continue
        now = current.get(old.guid)
        if now is None:
            twin = next(
                (n for n in fresh if (old.url and n.url == old.url) or (old.title and n.title == old.title)),
                None,
            )
            if twin is not None:
                checker.add(
                    "PC502",
                    f"guid changed from '{_clip(old.guid)}' to '{_clip(twin.guid or '')}'",
                    twin.where,
                    twin.line,
                )
            else:
                checker.add(
                    "PC501",
                    f"'{_clip(old.title)}' (guid {_clip(old.guid)}) was published and is gone",
                    f"previous item (guid {_clip(old.guid, 50)})",
                    None,
                )
            continue
        if old.pubdate_text is not None and now.pubdate_text is not None:
            same = (
                old.pubdate == now.pubdate
                if old.pubdate and now.pubdate
                else old.pubdate_text == now.pubdate_text
            )
            if not same:
                checker.add(
                    "PC503",
                    f"pubDate changed from '{old.pubdate_text}' to '{now.pubdate_text}'",
                    now.where,
                    now.line,
                )
        if old.url and now.url:
            if old.url != now.url and old.length == now.length:
                checker.add(
                    "PC505",
                    f"enclosure URL changed from {old.url} to {now.url} (same size)",
                    now.where,
                    now.line,
                )
            elif old.url == now.url and old.length and now.length and old.length != now.length:
                checker.add(
                    "PC506",
                    f"{now.url} now has {now.length} bytes (was {old.length}) at the same URL",
                    now.where,
                    now.line,
                )
    if prev.podcast_guid and prev.podcast_guid != checker.podcast_guid:
        checker.add(
            "PC504",
            f"podcast:guid changed from {prev.podcast_guid} to {checker.podcast_guid or 'nothing'}",
            "channel",
            None,
        )
    if (
        prev.self_url
        and checker.self_url
        and prev.self_url != checker.self_url
        and checker.new_feed_url != checker.self_url
    ):
        checker.add(
            "PC507",
            f"the feed URL moved from {prev.self_url} to {checker.self_url} without "
            f"<itunes:new-feed-url>{checker.self_url}</itunes:new-feed-url>",
            "channel",
            None,
        )
