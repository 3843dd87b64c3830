"""The offline checker: walks one parsed feed and collects findings for every PC1xx-PC3xx rule."""

from __future__ import annotations

import codecs
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from lxml import etree

from pipeline.categories import APPLE_CATEGORIES, legacy_replacement, suggest
from pipeline.ids import ATOM, CONTENT, ITUNES, KNOWN_NAMESPACES, PODCAST, PSC, SPOTIFY, podcast_guid
from pipeline.validate import p20
from pipeline.validate.http import is_url
from pipeline.validate.rules import RULES, Finding
from pipeline.validate.values import (
    _ACTIVE_HTML,
    _ATOM_LINK,
    _CHANNEL_SHORT,
    _EMAIL,
    _I,
    _ITEM_SHORT,
    _LANGUAGE,
    _MARKUP_FREE,
    _NOTES_TAGS,
    _P,
    _PSC_CHAPTER,
    _PSC_CHAPTERS,
    _SAFE_FILE,
    _URL_ATTRS,
    _YEAR,
    APPLE_MEDIA_TYPES,
    CHAPTERS_TYPE,
    EXTENSION_TYPES,
    FEED_SIZE_WARN,
    ISO_639_1,
    KNOWN_TAGS,
    PERSON_GROUPS,
    PERSON_ROLES,
    SHORT_TEXT_LIMIT,
    TRANSCRIPT_TYPES,
    UNTIMED_TRANSCRIPTS,
    _clip,
    _duration_seconds,
    _ext,
    _file_name,
    _norm_ns,
    _npt_seconds,
    _number,
    _over_notes_limit,
    _positive_int,
    _q,
    _rrule_problem,
    _suffix,
    parse_rfc2822,
)


class _ItemWhere:
    """'item 3 (guid …)', built only when a finding needs it (the item loop runs for every item)."""

    __slots__ = ("guid", "index", "title")

    def __init__(self, index: int, guid: str, title: str) -> None:
        self.index, self.guid, self.title = index, guid, title

    def __str__(self) -> str:
        if self.guid:
            return f"item {self.index} (guid {_clip(self.guid, 50)})"
        return f"item {self.index} ({_clip(self.title, 50)!r})" if self.title else f"item {self.index}"


Where = str | _ItemWhere


@dataclass
class _ItemInfo:
    """What the cross-build and online checks need to know about one item."""

    where: Where
    line: int | None
    guid: str | None
    title: str
    pubdate: datetime | None
    pubdate_text: str | None
    url: str | None
    length: str | None


@dataclass
class Job:
    """One online check: a URL of some kind, plus what the feed says about it."""

    kind: str  # enclosure | art | episode-art | transcript | chapters
    url: str
    where: Where
    line: int | None
    length: str | None = None
    type: str | None = None
    also: int = 0  # how many more places use the same URL


class Checker:
    """Runs the offline rules over one parsed feed and collects findings."""

    def __init__(self, active: frozenset[str], source: str, now: datetime, *, online: bool = False) -> None:
        self.active = active
        self.source = source
        self.now = now
        self.online = online
        self.findings: list[Finding] = []
        self.items: list[_ItemInfo] = []
        self.jobs: list[Job] = []
        self.job_index: dict[tuple[str, str], Job] = {}
        self.http_urls = 0
        self.https_urls = 0
        self.first_http: tuple[str, Where, int | None] | None = None
        self.self_url: str | None = None
        self.podcast_guid: str | None = None
        self.new_feed_url: str | None = None

    # emission
    def add(self, rid: str, message: str, where: Where, line: int | None) -> None:
        if rid in self.active:
            rule = RULES[rid]
            self.findings.append(Finding(rid, rule.severity, message, str(where), line, rule.hint))

    def job(self, kind: str, url: str, where: Where, line: int | None, **extra: str | None) -> None:
        if not self.online:
            return
        key = (kind, url)
        if key in self.job_index:
            self.job_index[key].also += 1
            return
        new = Job(kind, url, where, line, **extra)  # type: ignore[arg-type]
        self.job_index[key] = new
        self.jobs.append(new)

    def url(self, url: str, where: Where, line: int | None, *, podcast_tag: str | None = None) -> None:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "https":
            self.https_urls += 1
        elif scheme == "http":
            self.http_urls += 1
            if self.first_http is None:
                self.first_http = (url, where, line)
        if podcast_tag and scheme == "http":
            self.add("PC112", f"podcast:{podcast_tag} URL {url} is http, not https", where, line)

    # document
    def document(self, root: etree._Element, data: bytes) -> etree._Element | None:
        docinfo = root.getroottree().docinfo
        encoding = (docinfo.encoding or "UTF-8").upper().replace("_", "-")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "UTF-16"
        if encoding not in ("UTF-8", "UTF8"):
            self.add("PC104", f"the feed is encoded as {encoding}, not UTF-8", "document", 1)
        if len(data) > FEED_SIZE_WARN:
            self.add("PC113", f"the feed is {len(data) / 2**20:.1f} MB", "document", None)
        if root.tag != "rss":
            name = root.tag if isinstance(root.tag, str) else "?"
            atom = " (an Atom feed)" if name == _q("feed", ATOM) else ""
            self.add(
                "PC102",
                f"the root element is <{etree.QName(name).localname}>{atom}, not <rss>",
                "document",
                root.sourceline,
            )
            return None
        if root.get("version") != "2.0":
            self.add(
                "PC102",
                f'<rss version="{root.get("version") or ""}"> should be version="2.0"',
                "document",
                root.sourceline,
            )
        channels = root.findall("channel")
        if len(channels) != 1:
            self.add(
                "PC103",
                f"found {len(channels)} <channel> elements under <rss>",
                "document",
                channels[1].sourceline if len(channels) > 1 else root.sourceline,
            )
        self.namespaces(root)
        return channels[0] if channels else None

    def namespaces(self, root: etree._Element) -> None:
        first: dict[str, etree._Element] = {}
        for el in root.iter(etree.Element):
            tag = el.tag
            if tag not in first:
                first[tag] = el
        exact = {uri for uris in KNOWN_NAMESPACES.values() for uri in uris}
        normal = {_norm_ns(uri): uris[0] for uris in KNOWN_NAMESPACES.values() for uri in uris}
        reported: set[str] = set()
        for tag, el in first.items():
            if not tag.startswith("{"):
                continue
            uri, local = tag[1:].split("}", 1)
            if uri not in exact and _norm_ns(uri) in normal and uri not in reported:
                reported.add(uri)
                self.add(
                    "PC105",
                    f"namespace '{uri}' should be exactly '{normal[_norm_ns(uri)]}'",
                    _where_of(el),
                    el.sourceline,
                )
            known = KNOWN_TAGS.get(uri)
            if known and local not in known:
                fixed = next((k for k in known if k.lower() == local.lower()), None)
                if fixed:
                    self.add("PC107", f"<{local}> should be spelt <{fixed}>", _where_of(el), el.sourceline)
        for prefix, uri in (root.nsmap or {}).items():
            wanted = KNOWN_NAMESPACES.get(prefix or "")
            if wanted and uri not in wanted and uri not in reported and _norm_ns(uri) not in normal:
                reported.add(uri)
                self.add(
                    "PC105",
                    f"prefix '{prefix}' is bound to '{uri}', not '{wanted[0]}'",
                    "document",
                    root.sourceline,
                )
        for el in root.iter(_PSC_CHAPTERS):
            parent = el.getparent()
            if parent is None or parent.tag != "item":
                self.add(
                    "PC335",
                    "<psc:chapters> sits outside an <item>; apps ignore it there",
                    _where_of(el),
                    el.sourceline,
                )

    # shared element checks
    def short_text(self, el: etree._Element, name: str, where: Where) -> None:
        text = el.text or ""
        if len(text) > SHORT_TEXT_LIMIT:
            self.add("PC108", f"{name} is {len(text)} characters long", where, el.sourceline)
        if text and text != text.strip():
            self.add(
                "PC109",
                f"{name} '{_clip(text, 40)}' has spaces or line breaks around it",
                where,
                el.sourceline,
            )

    def markup_free(self, kids: dict[str, list[etree._Element]], where: Where) -> None:
        for tag in _MARKUP_FREE:
            for el in kids.get(tag, ()):
                if len(el):
                    child = el[0].tag if isinstance(el[0].tag, str) else "comment"
                    self.add(
                        "PC114",
                        f"<{_prefixed(el.tag)}> contains a raw <{etree.QName(child).localname}> element",
                        where,
                        el.sourceline,
                    )

    def persons(self, els: Iterable[etree._Element], where: Where) -> None:
        for el in els:
            name = (el.text or "").strip()
            if not name or len(name) > 128:
                self.add("PC329", f"podcast:person name is {len(name)} characters", where, el.sourceline)
            role, group = el.get("role"), el.get("group")
            if role is not None and role.strip().lower() not in PERSON_ROLES:
                self.add(
                    "PC330", f"podcast:person role '{role}' is not in the taxonomy", where, el.sourceline
                )
            if group is not None and group.strip().lower() not in PERSON_GROUPS:
                self.add(
                    "PC330", f"podcast:person group '{group}' is not in the taxonomy", where, el.sourceline
                )

    def podcast_urls(self, kids: dict[str, list[etree._Element]], where: Where) -> None:
        for tag, els in kids.items():
            if not tag.startswith("{" + PODCAST):
                continue
            local = tag.rsplit("}", 1)[1]
            for el in els:
                for attr in _URL_ATTRS:
                    value = el.get(attr)
                    if value:
                        self.url(value, where, el.sourceline, podcast_tag=local)

    def explicit(self, el: etree._Element, where: Where, *, channel: bool) -> None:
        value = (el.text or "").strip()
        if value in ("true", "false"):
            return
        if not channel:
            self.add("PC325", f"itunes:explicit is '{value}'", where, el.sourceline)
        elif value.lower() in ("yes", "no", "clean"):
            self.add(
                "PC213",
                f"itunes:explicit is '{value}' (write {'true' if value.lower() == 'yes' else 'false'})",
                where,
                el.sourceline,
            )
        else:
            self.add("PC214", f"itunes:explicit is '{value}'", where, el.sourceline)

    # channel
    def channel(self, ch: etree._Element) -> None:
        where, line = "channel", ch.sourceline
        kids = _children(ch)
        first = {tag: els[0] for tag, els in kids.items()}

        title = first.get("title")
        if title is None or not (title.text or "").strip():
            self.add("PC201", "the channel has no title", where, line)
        else:
            self._stuffed(title, where)
        for tag in _CHANNEL_SHORT:
            for el in kids.get(tag, ()):
                self.short_text(el, _prefixed(tag), where)
        for el in kids.get(_I["owner"], ()):
            for name in el.iterchildren(_I["name"]):
                self.short_text(name, "itunes:name", where)
        self.markup_free(kids, where)

        desc = first.get("description")
        if desc is None or not (desc.text or "").strip():
            self.add("PC203", "the channel has no description", where, line)
        elif _over_notes_limit(desc.text or ""):
            self.add(
                "PC204", f"the description is {len((desc.text or '').encode())} bytes", where, desc.sourceline
            )

        image = first.get(_I["image"])
        href = (image.get("href") or "").strip() if image is not None else ""
        if not href:
            self.add("PC205", "no <itunes:image href> for the show artwork", where, line)
        else:
            self.url(href, where, image.sourceline)  # type: ignore[union-attr]
            if _ext(href) not in (".jpg", ".png"):
                self.add("PC206", f"artwork URL {href} does not end in .jpg or .png", where, image.sourceline)  # type: ignore[union-attr]
            self.job("art", href, where, image.sourceline)  # type: ignore[union-attr]

        lang = first.get("language")
        code = (lang.text or "").strip() if lang is not None else ""
        if not code:
            self.add("PC207", "the channel has no <language>", where, line)
        else:
            m = _LANGUAGE.match(code)
            if not m or (len(m[1]) == 2 and m[1].lower() not in ISO_639_1):
                better = code.replace("_", "-") if "_" in code else None
                extra = f" (write '{better}')" if better and _LANGUAGE.match(better) else ""
                self.add("PC207", f"language '{code}' is not an ISO 639 code{extra}", where, lang.sourceline)  # type: ignore[union-attr]

        self.categories(kids.get(_I["category"], []), where, line)

        explicit = first.get(_I["explicit"])
        if explicit is None:
            self.add("PC212", "the channel has no <itunes:explicit>", where, line)
        else:
            self.explicit(explicit, where, channel=True)

        owner = first.get(_I["owner"])
        email_el = owner.find(_I["email"]) if owner is not None else None
        email = (email_el.text or "").strip() if email_el is not None else ""
        if not _EMAIL.match(email):
            what = (
                f"owner email '{email}' is not an email address"
                if email
                else "no <itunes:owner><itunes:email>"
            )
            for rid in ("PC215", "PC216"):
                self.add(rid, what, where, (owner if owner is not None else ch).sourceline)

        author = first.get(_I["author"])
        if author is None or not (author.text or "").strip():
            self.add("PC217", "the channel has no <itunes:author>", where, line)

        link = first.get("link")
        link_text = (link.text or "").strip() if link is not None else ""
        if not link_text.lower().startswith(("http://", "https://")):
            self.add(
                "PC218",
                f"<link> is '{_clip(link_text)}'" if link_text else "the channel has no <link>",
                where,
                (link if link is not None else ch).sourceline,
            )
        else:
            self.url(link_text, where, link.sourceline)  # type: ignore[union-attr]

        self.self_link(kids.get(_ATOM_LINK, []), where, line)

        itype = first.get(_I["type"])
        if itype is not None and (itype.text or "").strip() not in ("episodic", "serial"):
            self.add("PC221", f"itunes:type is '{(itype.text or '').strip()}'", where, itype.sourceline)

        complete = first.get(_I["complete"])
        if complete is not None and (complete.text or "").strip().lower() != "yes":
            self.add(
                "PC223", f"itunes:complete is '{(complete.text or '').strip()}'", where, complete.sourceline
            )

        self.p20_channel(kids, first, where, line)

        copyright_el = first.get("copyright")
        if copyright_el is not None:
            text = copyright_el.text or ""
            if "copyright" in text.lower() or "©" in text or "(c)" in text.lower() or _YEAR.search(text):
                self.add("PC233", f"copyright is '{_clip(text)}'", where, copyright_el.sourceline)

        new_url = first.get(_I["new-feed-url"])
        if new_url is not None:
            target = (new_url.text or "").strip()
            self.new_feed_url = target
            note = "" if is_url(target) else " (not an http(s) URL)"
            self.add("PC234", f"the feed says it moved to '{_clip(target)}'{note}", where, new_url.sourceline)

        for tag, els in kids.items():
            if tag.startswith("{" + SPOTIFY):
                for el in els:
                    self._spotify(el, where)

        for tag in ("pubDate", "lastBuildDate"):
            el = first.get(tag)
            if el is not None:
                when, problem = parse_rfc2822(el.text or "")
                if when is None:
                    self.add("PC237", f"{tag}: {problem}", where, el.sourceline)

        self.podcast_urls(kids, where)

    def _stuffed(self, title: etree._Element, where: Where) -> None:
        text = title.text or ""
        separators = sum(text.count(s) for s in "|,#/•·")
        words = [w.lower() for w in re.findall(r"\w{3,}", text)]
        repeated = max((words.count(w) for w in set(words)), default=0)
        if separators >= 3 or repeated >= 3:
            self.add("PC202", f"title '{_clip(text)}' looks like a keyword list", where, title.sourceline)

    def categories(self, cats: list[etree._Element], where: Where, line: int | None) -> None:
        if not cats:
            self.add("PC208", "the channel has no <itunes:category>", where, line)
            return
        for cat in cats:
            top = cat.get("text") or ""
            subs = [s.get("text") or "" for s in cat.iterchildren(_I["category"])]
            legacy, repl = legacy_replacement(top)
            if legacy:
                better = f" (use '{repl}')" if repl else ""
                self.add("PC211", f"'{top}' is a retired Apple category{better}", where, cat.sourceline)
                continue
            if top not in APPLE_CATEGORIES:
                guess = suggest(top)
                hint = f" (did you mean '{guess}'?)" if guess else ""
                self.add(
                    "PC209", f"itunes:category '{top}' is not an Apple category{hint}", where, cat.sourceline
                )
                continue
            for sub in subs:
                legacy, repl = legacy_replacement(top, sub)
                if legacy:
                    better = f" (use '{repl}')" if repl else ""
                    self.add(
                        "PC211", f"'{top} > {sub}' is a retired Apple category{better}", where, cat.sourceline
                    )
                elif sub not in APPLE_CATEGORIES[top]:
                    guess = suggest(sub, APPLE_CATEGORIES[top]) if APPLE_CATEGORIES[top] else None
                    hint = f" (did you mean '{guess}'?)" if guess else ""
                    self.add("PC210", f"'{sub}' is not a subcategory of '{top}'{hint}", where, cat.sourceline)

    def self_link(self, links: list[etree._Element], where: Where, line: int | None) -> None:
        selfs = [el for el in links if el.get("rel") == "self"]
        if not selfs:
            self.add("PC219", 'no <atom:link rel="self"> naming the feed URL', where, line)
            return
        el = selfs[0]
        href = (el.get("href") or "").strip()
        self.self_url = href or None
        if href:
            self.url(href, where, el.sourceline)
        if el.get("type") not in (None, "application/rss+xml"):
            self.add(
                "PC220",
                f"self link type is '{el.get('type')}', not application/rss+xml",
                where,
                el.sourceline,
            )
        if not is_url(href):
            self.add("PC220", f"self link href '{_clip(href)}' is not an http(s) URL", where, el.sourceline)
        elif is_url(self.source) and href.rstrip("/") != self.source.rstrip("/"):
            self.add(
                "PC220",
                f"self link {href} differs from the URL the feed was read from ({self.source})",
                where,
                el.sourceline,
            )

    def p20_channel(
        self,
        kids: dict[str, list[etree._Element]],
        first: dict[str, etree._Element],
        where: Where,
        line: int | None,
    ) -> None:
        guid = first.get(_P["guid"])
        if guid is None:
            self.add("PC224", "the channel has no <podcast:guid>", where, line)
        else:
            text = (guid.text or "").strip()
            self.podcast_guid = text
            try:
                parsed = uuid.UUID(text)
            except ValueError:
                parsed = None
            if parsed is None or parsed.version != 5:
                self.add("PC225", f"podcast:guid '{_clip(text)}' is not a UUIDv5", where, guid.sourceline)
            else:
                feed_url = self.self_url or (self.source if is_url(self.source) else None)
                if feed_url and str(parsed) != podcast_guid(feed_url):
                    self.add(
                        "PC226",
                        f"podcast:guid {parsed} is not the UUIDv5 of {feed_url} ({podcast_guid(feed_url)})",
                        where,
                        guid.sourceline,
                    )
        locked = first.get(_P["locked"])
        if locked is None:
            self.add("PC227", "the channel has no <podcast:locked>", where, line)
        else:
            value = (locked.text or "").strip()
            owner = locked.get("owner")
            if value not in ("yes", "no"):
                self.add("PC228", f"podcast:locked is '{value}', not yes or no", where, locked.sourceline)
            if owner is not None and not _EMAIL.match(owner.strip()):
                self.add(
                    "PC228",
                    f"podcast:locked owner '{owner}' is not an email address",
                    where,
                    locked.sourceline,
                )
        for el in kids.get(_P["funding"], ()):
            self.funding(el, where)
        for el in kids.get(_P["txt"], ()):
            self.txt(el, where)
        for el in kids.get(_P["podroll"], ()):
            remotes = list(el.iterchildren(_P["remoteItem"]))
            if not remotes:
                self.add("PC231", "podcast:podroll lists no <podcast:remoteItem>", where, el.sourceline)
            for remote in remotes:
                if not (remote.get("feedGuid") or "").strip():
                    self.add("PC231", "podcast:remoteItem has no feedGuid", where, remote.sourceline)
        for el in kids.get(_P["updateFrequency"], ()):
            text, rrule = el.text or "", el.get("rrule")
            if len(text) > 128:
                self.add(
                    "PC232", f"podcast:updateFrequency text is {len(text)} characters", where, el.sourceline
                )
            problem = _rrule_problem(rrule) if rrule is not None else ""
            if problem:
                self.add("PC232", f"podcast:updateFrequency rrule: {problem}", where, el.sourceline)
        self.persons(kids.get(_P["person"], ()), where)
        p20.channel_tags(self, kids, where)

    def funding(self, el: etree._Element, where: Where) -> None:
        text = (el.text or "").strip()
        if not (el.get("url") or "").strip():
            self.add("PC229", "podcast:funding has no url", where, el.sourceline)
        if len(text) > 128:
            self.add(
                "PC229", f"podcast:funding text is {len(text)} characters (max 128)", where, el.sourceline
            )

    def txt(self, el: etree._Element, where: Where) -> None:
        text, purpose = el.text or "", el.get("purpose") or ""
        if len(text) > 4000 or len(purpose) > 128:
            self.add(
                "PC230",
                f"podcast:txt is {len(text)} characters, purpose {len(purpose)}",
                where,
                el.sourceline,
            )

    def _spotify(self, el: etree._Element, where: Where) -> None:
        local = etree.QName(el).localname
        if local == "limit":
            count = el.get("recentCount") or ""
            if not _positive_int(count):
                self.add("PC236", f"spotify:limit recentCount is '{count}'", where, el.sourceline)
        elif local == "countryOfOrigin":
            codes = (el.text or "").split()
            if not codes or any(not re.fullmatch(r"[a-zA-Z]{2}", c) for c in codes):
                self.add(
                    "PC236", f"spotify:countryOfOrigin is '{_clip(el.text or '')}'", where, el.sourceline
                )

    # items
    def all_items(self, ch: etree._Element, *, serial: bool) -> None:
        guids: dict[str, str] = {}
        enclosures: dict[str, str] = {}
        with_enclosure = 0
        for index, item in enumerate(ch.iterchildren("item"), 1):
            with_enclosure += self.item(index, item, guids, enclosures, serial=serial)
        if with_enclosure == 0:
            self.add(
                "PC235", f"none of the {len(self.items)} items has an enclosure", "channel", ch.sourceline
            )

    def item(
        self,
        index: int,
        item: etree._Element,
        guids: dict[str, str],
        enclosures: dict[str, str],
        *,
        serial: bool,
    ) -> int:
        kids = _children(item)
        first = {tag: els[0] for tag, els in kids.items()}
        line = item.sourceline
        guid_el = first.get("guid")
        guid = (guid_el.text or "").strip() if guid_el is not None else ""
        title_el = first.get("title")
        title = (title_el.text or "").strip() if title_el is not None else ""
        where = _ItemWhere(index, guid, title)

        if not title:
            self.add("PC301", "the item has no title", where, line)
        for tag in _ITEM_SHORT:
            for el in kids.get(tag, ()):
                self.short_text(el, _prefixed(tag), where)
        self.markup_free(kids, where)

        if not guid:
            self.add("PC312", "the item has no guid", where, line)
        elif guid in guids:
            self.add(
                "PC313",
                f"guid '{_clip(guid)}' is also used by {guids[guid]}",
                where,
                guid_el.sourceline if guid_el is not None else line,
            )
        else:
            guids[guid] = f"item {index}"

        url, length = self._enclosure(kids.get("enclosure", []), where, line, index, enclosures)

        pub = first.get("pubDate")
        when: datetime | None = None
        pub_text = None
        if pub is None:
            self.add("PC314", "the item has no pubDate", where, line)
        else:
            pub_text = (pub.text or "").strip()
            when, problem = parse_rfc2822(pub_text)
            if when is None:
                self.add("PC315", f"pubDate {problem}", where, pub.sourceline)
            elif when > self.now:
                self.add("PC316", f"pubDate {pub_text} is in the future", where, pub.sourceline)

        duration = first.get(_I["duration"])
        seconds: float | None = None
        if duration is None:
            self.add("PC317", "the item has no itunes:duration", where, line)
        else:
            seconds = _duration_seconds((duration.text or "").strip())
            if seconds is None:
                self.add(
                    "PC318", f"itunes:duration is '{_clip(duration.text or '')}'", where, duration.sourceline
                )

        self._notes(kids, where, line)
        self._itunes_item(kids, first, where, line, title, serial=serial)
        self._p20_item(kids, where, seconds)
        self.podcast_urls(kids, where)
        for el in kids.get(_PSC_CHAPTERS, ()):
            self._psc(el, where)

        self.items.append(_ItemInfo(where, line, guid or None, title, when, pub_text, url, length))
        return 1 if "enclosure" in kids else 0

    def _enclosure(
        self, encs: list[etree._Element], where: Where, line: int | None, index: int, seen: dict[str, str]
    ) -> tuple[str | None, str | None]:
        if not encs:
            self.add("PC303", "the item has no enclosure", where, line)
            return None, None
        if len(encs) > 1:
            self.add("PC311", f"the item has {len(encs)} enclosures", where, encs[1].sourceline)
        enc = encs[0]
        eline = enc.sourceline
        url, length, mtype = enc.get("url"), enc.get("length"), enc.get("type")
        ext = ""
        missing = [
            name
            for name, value in (("url", url), ("length", length), ("type", mtype))
            if not (value or "").strip()
        ]
        if missing:
            self.add("PC304", f"the enclosure has no {', '.join(missing)}", where, eline)
        if url:
            url = url.strip()
            self.url(url, where, eline)
            if url in seen:
                self.add("PC305", f"enclosure URL {url} is also used by {seen[url]}", where, eline)
            else:
                seen[url] = f"item {index}"
            name = _file_name(url)
            ext = _suffix(name)
            if not url.isascii() or (name and not _SAFE_FILE.match(name)):
                self.add(
                    "PC310",
                    f"enclosure file name '{_clip(unquote(name), 50)}' has characters other than "
                    "a-z, 0-9, '-', '_' and '.'",
                    where,
                    eline,
                )
        if length is not None and length.strip() and not _positive_int(length):
            self.add("PC306", f"enclosure length is '{_clip(length)}'", where, eline)
        if mtype:
            mtype = mtype.strip()
            if mtype == "audio/mp4":
                self.add("PC308", "enclosure type is audio/mp4; Apple lists audio/x-m4a", where, eline)
            elif mtype not in APPLE_MEDIA_TYPES:
                self.add("PC307", f"enclosure type '{mtype}' is not one Apple accepts", where, eline)
            fitting = EXTENSION_TYPES.get(ext)
            if fitting and mtype not in fitting:
                self.add("PC309", f"enclosure type {mtype} does not fit a {ext} file", where, eline)
        if url and is_url(url):
            self.job(
                "enclosure", url, where, eline, length=(length or "").strip(), type=(mtype or "").strip()
            )
        return url, (length or "").strip() or None

    def _notes(self, kids: dict[str, list[etree._Element]], where: Where, line: int | None) -> None:
        present = False
        for tag in _NOTES_TAGS:
            for el in kids.get(tag, ()):
                text = el.text or ""
                if text.strip():
                    present = True
                if _over_notes_limit(text):
                    self.add("PC319", f"{_prefixed(tag)} is {len(text.encode())} bytes", where, el.sourceline)
                if "<" in text:
                    m = _ACTIVE_HTML.search(text)
                    if m:
                        self.add("PC320", f"{_prefixed(tag)} contains <{m[1].lower()}>", where, el.sourceline)
        if not present:
            self.add("PC321", "the item has no description or content:encoded", where, line)

    def _itunes_item(
        self,
        kids: dict[str, list[etree._Element]],
        first: dict[str, etree._Element],
        where: Where,
        line: int | None,
        title: str,
        *,
        serial: bool,
    ) -> None:
        etype = first.get(_I["episodeType"])
        if etype is not None and (etype.text or "").strip() not in ("full", "trailer", "bonus"):
            self.add(
                "PC322", f"itunes:episodeType is '{(etype.text or '').strip()}'", where, etype.sourceline
            )
        number: str | None = None
        for name in ("episode", "season"):
            el = first.get(_I[name])
            if el is not None:
                value = (el.text or "").strip()
                if not _positive_int(value):
                    self.add("PC323", f"itunes:{name} is '{_clip(value)}'", where, el.sourceline)
                elif name == "episode":
                    number = str(int(value))
        if serial and _I["episode"] not in first:
            self.add("PC222", "this serial show's item has no itunes:episode", where, line)
        if number and title and _repeats_number(title, number):
            self.add(
                "PC302",
                f"title '{_clip(title)}' repeats episode number {number}",
                where,
                first["title"].sourceline,
            )
        image = first.get(_I["image"])
        if image is not None:
            href = (image.get("href") or "").strip()
            if _ext(href) not in (".jpg", ".png"):
                self.add(
                    "PC324",
                    f"episode artwork URL '{_clip(href)}' does not end in .jpg or .png",
                    where,
                    image.sourceline,
                )
            if href:
                self.url(href, where, image.sourceline)
                if is_url(href):
                    self.job("episode-art", href, where, image.sourceline)
        explicit = first.get(_I["explicit"])
        if explicit is not None:
            self.explicit(explicit, where, channel=False)

    def _p20_item(self, kids: dict[str, list[etree._Element]], where: Where, seconds: float | None) -> None:
        for el in kids.get(_P["transcript"], ()):
            url, mtype, rel = (el.get("url") or "").strip(), (el.get("type") or "").strip(), el.get("rel")
            if not url or not mtype:
                self.add("PC326", "podcast:transcript needs both url and type", where, el.sourceline)
            elif mtype not in TRANSCRIPT_TYPES:
                self.add(
                    "PC326",
                    f"podcast:transcript type '{mtype}' is not a transcript format",
                    where,
                    el.sourceline,
                )
            if rel == "captions" and mtype in UNTIMED_TRANSCRIPTS:
                self.add(
                    "PC327",
                    f'rel="captions" on a {mtype} transcript, which has no timecodes',
                    where,
                    el.sourceline,
                )
            if url and is_url(url):
                self.job("transcript", url, where, el.sourceline, type=mtype)
        for el in kids.get(_P["chapters"], ()):
            url, mtype = (el.get("url") or "").strip(), (el.get("type") or "").strip()
            if not url:
                self.add("PC328", "podcast:chapters has no url", where, el.sourceline)
            if mtype != CHAPTERS_TYPE:
                self.add(
                    "PC328", f"podcast:chapters type is '{mtype}', not {CHAPTERS_TYPE}", where, el.sourceline
                )
            if url and is_url(url):
                self.job("chapters", url, where, el.sourceline, type=mtype)
        self.persons(kids.get(_P["person"], ()), where)
        for el in kids.get(_P["season"], ()):
            text, name = (el.text or "").strip(), el.get("name") or ""
            if not text.isdigit():
                self.add(
                    "PC331", f"podcast:season is '{_clip(text)}', not a whole number", where, el.sourceline
                )
            if len(name) > 128:
                self.add("PC332", f"podcast:season name is {len(name)} characters", where, el.sourceline)
        for el in kids.get(_P["episode"], ()):
            text, display = (el.text or "").strip(), el.get("display") or ""
            if not re.fullmatch(r"\d+(\.\d+)?", text):
                self.add("PC331", f"podcast:episode is '{_clip(text)}', not a number", where, el.sourceline)
            if len(display) > 32:
                self.add(
                    "PC332", f"podcast:episode display is {len(display)} characters", where, el.sourceline
                )
        for el in kids.get(_P["soundbite"], ()):
            self._soundbite(el, where, seconds)
        for el in kids.get(_P["txt"], ()):
            self.txt(el, where)
        p20.item_tags(self, kids, where, lambda el: self.funding(el, where))
        for el in kids.get(_P["alternateEnclosure"], ()):
            problems = [f"no {a}" for a in ("type", "length") if not (el.get(a) or "").strip()]
            if el.get("length") and not el.get("length", "").strip().isdigit():
                problems.append(f"length '{el.get('length')}'")
            sources = list(el.iterchildren(_P["source"]))
            if not any((s.get("uri") or "").strip() for s in sources):
                problems.append("no <podcast:source uri>")
            for integrity in el.iterchildren(_P["integrity"]):
                if integrity.get("type") not in ("sri", "pgp-signature") or not integrity.get("value"):
                    problems.append("an integrity without type sri|pgp-signature and a value")
            if problems:
                self.add(
                    "PC334", f"podcast:alternateEnclosure has {', '.join(problems)}", where, el.sourceline
                )

    def _soundbite(self, el: etree._Element, where: Where, seconds: float | None) -> None:
        start, length = _number(el.get("startTime")), _number(el.get("duration"))
        title = (el.text or "").strip()
        problem = ""
        if start is None or length is None or start < 0 or length <= 0:
            problem = f"startTime '{el.get('startTime')}' and duration '{el.get('duration')}' must be seconds"
        elif seconds is not None and start + length > seconds + 1:
            problem = f"ends at {start + length:g} s, after the episode ({seconds:g} s)"
        elif not 15 <= length <= 120:
            problem = f"is {length:g} s long (15–120 s recommended)"
        elif len(title) > 128:
            problem = f"title is {len(title)} characters"
        if problem:
            self.add("PC333", f"podcast:soundbite {problem}", where, el.sourceline)

    def _psc(self, wrapper: etree._Element, where: Where) -> None:
        last = -1.0
        for el in wrapper.iterchildren(_PSC_CHAPTER):
            start = el.get("start") or ""
            value = _npt_seconds(start)
            if value is None:
                self.add(
                    "PC336",
                    f"psc:chapter start '{_clip(start)}' is not normal play time",
                    where,
                    el.sourceline,
                )
                continue
            if not (el.get("title") or "").strip():
                self.add("PC336", f"psc:chapter at {start} has no title", where, el.sourceline)
            if value < last:
                self.add(
                    "PC336", f"psc:chapter at {start} starts before the one above it", where, el.sourceline
                )
            last = max(last, value)

    def finish(self) -> None:
        if self.http_urls and self.https_urls:
            url, where, line = self.first_http  # type: ignore[misc]
            self.add(
                "PC110",
                f"{self.http_urls} http and {self.https_urls} https URLs; first http: {url}",
                where,
                line,
            )
        if self.http_urls:
            url, where, line = self.first_http  # type: ignore[misc]
            self.add("PC111", f"{self.http_urls} URLs use plain http, e.g. {url}", where, line)


def _children(parent: etree._Element) -> dict[str, list[etree._Element]]:
    kids: dict[str, list[etree._Element]] = {}
    for child in parent:
        tag = child.tag
        if isinstance(tag, str):
            if tag in kids:
                kids[tag].append(child)
            else:
                kids[tag] = [child]
    return kids


_PREFIXES = {
    ITUNES: "itunes",
    PODCAST: "podcast",
    CONTENT: "content",
    ATOM: "atom",
    PSC: "psc",
    SPOTIFY: "spotify",
}


def _prefixed(tag: str) -> str:
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return f"{_PREFIXES.get(uri, uri)}:{local}"
    return tag


def _where_of(el: etree._Element) -> str:
    """'channel', 'item N' or 'document' for an element found outside the item loop."""
    node: etree._Element | None = el
    while node is not None and node.tag not in ("item", "channel"):
        node = node.getparent()
    if node is None:
        return "document"
    if node.tag == "channel":
        return "channel"
    parent = node.getparent()
    index = 1 + sum(1 for _ in node.itersiblings("item", preceding=True)) if parent is not None else 1
    return f"item {index}"


_NUMBER_IN_TITLE = tuple(
    re.compile(p)
    for p in (
        r"(?i)\b(?:episode|ep\.?|folge|e)\s*0*(\d+)\b",
        r"#\s*0*(\d+)\b",
        r"(?i)\bs\d+\s*e0*(\d+)\b",
        r"^\s*0*(\d+)\s*[:.\-–—|)]",
    )
)


def _repeats_number(title: str, number: str) -> bool:
    """True when the title spells out episode `number` ("Episode 12:", "#12", "S2E12", "12. …")."""
    if number not in title:
        return False
    return any(m[1] == number for pattern in _NUMBER_IN_TITLE for m in pattern.finditer(title))
