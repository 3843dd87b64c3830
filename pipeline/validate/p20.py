"""Podcasting 2.0 tag rules added by issue 13 (value, medium, license, location, trailer, socialInteract,
block, images, single-use tags), for the channel and items; the Checker calls `channel_tags`/`item_tags`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from lxml import etree

from pipeline.ids import (
    MEDIUMS,
    PODCAST,
    SERVICE_SLUGS,
    SOCIAL_PROTOCOLS,
    VALUE_METHODS,
    VALUE_RECIPIENT_TYPES,
    VALUE_TYPES,
)
from pipeline.validate.values import _clip, _number, parse_rfc2822

if TYPE_CHECKING:
    from pipeline.validate.checker import Checker, Where

_P20 = "{" + PODCAST + "}"
_NODE = re.compile(r"^(02|03)[0-9a-fA-F]{64}$")
_LNADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GEO = re.compile(r"^geo:-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?(,-?\d+(\.\d+)?)?(;\S+)?$", re.I)
_OSM = re.compile(r"^[NWR]\d+(#\d+)?$")
_SRCSET_ENTRY = re.compile(r"^(\S+)\s+(\d+)w$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

#: Tags the namespace allows once per parent (docs/tags/*.md "Count: Single").
SINGLE_CHANNEL = ("guid", "locked", "medium", "podroll", "updateFrequency", "images", "license", "value")
SINGLE_ITEM = ("season", "episode", "images", "license", "value", "chapters")

Kids = dict[str, list[etree._Element]]


def _p(tag: str) -> str:
    return _P20 + tag


def _attr(el: etree._Element, name: str) -> str:
    return (el.get(name) or "").strip()


def _whole(text: str) -> bool:
    return text.isdigit()


def value_problems(el: etree._Element) -> list[str]:
    """What is wrong with one <podcast:value> block (empty when nothing)."""
    problems: list[str] = []
    vtype, method = _attr(el, "type"), _attr(el, "method")
    if vtype not in VALUE_TYPES:
        problems.append(f"type '{_clip(vtype)}' is not one of {', '.join(VALUE_TYPES)}")
    if method not in VALUE_METHODS:
        problems.append(f"method '{_clip(method)}' is not one of {', '.join(VALUE_METHODS)}")
    suggested = el.get("suggested")
    if suggested is not None and (_number(suggested) is None or (_number(suggested) or 0) <= 0):
        problems.append(f"suggested '{_clip(suggested)}' is not a positive number")
    recipients = list(el.iterchildren(_p("valueRecipient")))
    if not recipients:
        problems.append("no <podcast:valueRecipient>")
    shares = fees = 0
    for i, r in enumerate(recipients, 1):
        rtype, address, split = _attr(r, "type"), _attr(r, "address"), _attr(r, "split")
        fee = _attr(r, "fee").lower() == "true"
        if rtype not in VALUE_RECIPIENT_TYPES:
            problems.append(f"recipient {i} type '{_clip(rtype)}' is not node or lnaddress")
        if not address:
            problems.append(f"recipient {i} has no address")
        elif rtype == "node" and not _NODE.match(address):
            problems.append(f"recipient {i} address '{_clip(address, 24)}' is not a node public key")
        elif rtype == "lnaddress" and not _LNADDRESS.match(address):
            problems.append(f"recipient {i} address '{_clip(address, 24)}' is not a Lightning address")
        if not _whole(split):
            problems.append(f"recipient {i} split '{_clip(split)}' is not a whole number")
        elif fee:
            fees += int(split)
        else:
            shares += int(split)
        if (r.get("customKey") is None) != (r.get("customValue") is None):
            problems.append(f"recipient {i} has only one of customKey and customValue")
    if recipients and shares == 0:
        problems.append("the non-fee splits add up to 0")
    if fees > 100:
        problems.append(f"fee splits add up to {fees}%")
    return problems


def _location(c: Checker, el: etree._Element, where: Where) -> None:
    name = (el.text or "").strip()
    problems = []
    if not name or len(name) > 128:
        problems.append(f"name is {len(name)} characters")
    geo, osm, country, rel = el.get("geo"), el.get("osm"), el.get("country"), el.get("rel")
    if geo is not None and not _GEO.match(geo.strip()):
        problems.append(f"geo '{_clip(geo)}' is not geo:LAT,LON")
    if osm is not None and not _OSM.match(osm.strip()):
        problems.append(f"osm '{_clip(osm)}' is not N/W/R and a number")
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country.strip()):
        problems.append(f"country '{_clip(country)}' is not a two-letter code")
    if rel is not None and rel.strip() not in ("subject", "creator"):
        problems.append(f"rel '{_clip(rel)}' is not subject or creator")
    if problems:
        c.add("PC241", f"podcast:location {'; '.join(problems)}", where, el.sourceline)


def _license(c: Checker, el: etree._Element, where: Where) -> None:
    text = (el.text or "").strip()
    if not text or len(text) > 128:
        c.add("PC240", f"podcast:license is {len(text)} characters", where, el.sourceline)
    elif text != text.lower() and not el.get("url"):
        c.add(
            "PC240", f"podcast:license '{_clip(text)}' is not a lower-case license id", where, el.sourceline
        )


def _social(c: Checker, el: etree._Element, where: Where) -> None:
    protocol, uri, priority = _attr(el, "protocol"), _attr(el, "uri"), el.get("priority")
    problem = ""
    if protocol not in SOCIAL_PROTOCOLS:
        problem = f"protocol '{_clip(protocol)}' is not in socialprotocols.txt"
    elif protocol != "disabled" and not uri:
        problem = "has no uri"
    elif protocol == "disabled" and uri:
        problem = "protocol disabled carries a uri"
    elif priority is not None and not _whole(priority.strip()):
        problem = f"priority '{_clip(priority)}' is not a whole number"
    if problem:
        c.add("PC243", f"podcast:socialInteract {problem}", where, el.sourceline)


def _images(c: Checker, kids: Kids, where: Where) -> None:
    for el in kids.get(_p("images"), ()):
        srcset = _attr(el, "srcset")
        entries = [e.strip() for e in srcset.split(",") if e.strip()]
        bad = [e for e in entries if not _SRCSET_ENTRY.match(e)]
        if not entries or bad:
            what = f"entry '{_clip(bad[0])}'" if bad else "no srcset"
            c.add("PC245", f"podcast:images has {what}", where, el.sourceline)
        for entry in entries:
            m = _SRCSET_ENTRY.match(entry)
            if m:
                c.url(m[1], where, el.sourceline, podcast_tag="images")
    for el in kids.get(_p("image"), ()):
        width = el.get("width")
        if not _attr(el, "href"):
            c.add("PC245", "podcast:image has no href", where, el.sourceline)
        elif width is not None and not _whole(width.strip()):
            c.add("PC245", f"podcast:image width '{_clip(width)}' is not a number", where, el.sourceline)


def _once(c: Checker, kids: Kids, tags: tuple[str, ...], where: Where, parent: str) -> None:
    for tag in tags:
        els = kids.get(_p(tag), [])
        if len(els) > 1:
            c.add(
                "PC246", f"podcast:{tag} appears {len(els)} times in the {parent}", where, els[1].sourceline
            )


def _common(c: Checker, kids: Kids, where: Where) -> None:
    """Tags allowed in both the channel and an item."""
    for el in kids.get(_p("value"), ()):
        problems = value_problems(el)
        if problems:
            c.add("PC238", f"podcast:value: {'; '.join(problems)}", where, el.sourceline)
    for el in kids.get(_p("license"), ()):
        _license(c, el, where)
    for el in kids.get(_p("location"), ()):
        _location(c, el, where)
    for el in kids.get(_p("socialInteract"), ()):
        _social(c, el, where)
    _images(c, kids, where)


def channel_tags(c: Checker, kids: Kids, where: Where) -> None:
    """The channel-only tags: medium, trailer, block; plus the shared ones and single-use counts."""
    _common(c, kids, where)
    for el in kids.get(_p("medium"), ()):
        medium = (el.text or "").strip()
        if medium not in MEDIUMS:
            hint = next((m for m in MEDIUMS if m.lower() == medium.lower()), None)
            extra = f" (write '{hint}')" if hint else ""
            c.add("PC239", f"podcast:medium is '{_clip(medium)}'{extra}", where, el.sourceline)
    for el in kids.get(_p("trailer"), ()):
        title = (el.text or "").strip()
        problems = [f"no {a}" for a in ("url", "pubdate") if not _attr(el, a)]
        pubdate = _attr(el, "pubdate")
        if pubdate and parse_rfc2822(pubdate)[0] is None:
            problems.append(f"pubdate '{_clip(pubdate)}' is not RFC 2822")
        if not title or len(title) > 128:
            problems.append(f"title is {len(title)} characters")
        for name in ("length", "season"):
            value = el.get(name)
            if value is not None and not _whole(value.strip()):
                problems.append(f"{name} '{_clip(value)}' is not a whole number")
        if problems:
            c.add("PC242", f"podcast:trailer {'; '.join(problems)}", where, el.sourceline)
    for el in kids.get(_p("block"), ()):
        text, slug = (el.text or "").strip(), el.get("id")
        if text not in ("yes", "no"):
            c.add("PC244", f"podcast:block is '{_clip(text)}', not yes or no", where, el.sourceline)
        if slug is not None and slug.strip() not in SERVICE_SLUGS:
            c.add("PC244", f"podcast:block id '{_clip(slug)}' is not a service slug", where, el.sourceline)
    for el in kids.get(_p("podroll"), ()):
        for remote in el.iterchildren(_p("remoteItem")):
            guid = _attr(remote, "feedGuid")
            if guid and not _UUID.match(guid):
                c.add(
                    "PC231",
                    f"podcast:remoteItem feedGuid '{_clip(guid)}' is not a GUID",
                    where,
                    remote.sourceline,
                )
    for el in kids.get(_p("updateFrequency"), ()):
        complete = el.get("complete")
        if not (el.text or "").strip():
            c.add("PC232", "podcast:updateFrequency has no text", where, el.sourceline)
        if complete is not None and complete.strip() not in ("true", "false"):
            c.add("PC232", f"podcast:updateFrequency complete is '{_clip(complete)}'", where, el.sourceline)
    _once(c, kids, SINGLE_CHANNEL, where, "channel")


_SRI = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}$")


def _alternates(c: Checker, els: list[etree._Element], where: Where) -> None:
    """What PC334's basic checks leave: bitrate, default and the SRI form of integrity; one default per item."""
    defaults = 0
    for el in els:
        problems = []
        bitrate, default = el.get("bitrate"), el.get("default")
        if bitrate is not None and (_number(bitrate) is None or (_number(bitrate) or 0) <= 0):
            problems.append(f"bitrate '{_clip(bitrate)}'")
        if default is not None and default.strip() not in ("true", "false"):
            problems.append(f"default '{_clip(default)}'")
        defaults += (default or "").strip() == "true"
        for integrity in el.iterchildren(_p("integrity")):
            value = _attr(integrity, "value")
            if integrity.get("type") == "sri" and value and not _SRI.match(value):
                problems.append(f"integrity '{_clip(value, 30)}' that is not sha256-BASE64")
        if problems:
            c.add("PC334", f"podcast:alternateEnclosure has {', '.join(problems)}", where, el.sourceline)
    if defaults > 1:
        c.add("PC334", f'{defaults} podcast:alternateEnclosure say default="true"', where, els[1].sourceline)


def item_tags(c: Checker, kids: Kids, where: Where, funding: Callable[[etree._Element], None]) -> None:
    """An item's new tags: funding and txt (checked like the channel's), the shared ones, single-use counts."""
    for el in kids.get(_p("funding"), ()):
        funding(el)
    _alternates(c, kids.get(_p("alternateEnclosure"), []), where)
    _common(c, kids, where)
    _once(c, kids, SINGLE_ITEM, where, "item")
