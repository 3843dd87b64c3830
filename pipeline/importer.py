"""Moving a show in: a foreign RSS feed (file or URL) -> show.yaml + episodes/<slug>/episode.md, every fix counted."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import hashlib
import http.client
import itertools
import json
import os
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml
from bs4 import BeautifulSoup, Tag
from bs4.builder._lxml import LXMLTreeBuilder  # bs4.builder re-exports it untyped
from lxml import etree
from markdownify import MarkdownConverter

from pipeline import categories as cats
from pipeline import images, model, notes, urls
from pipeline.errors import ContentErrors, PipelineError, UnreadableFeed
from pipeline.progress import NullReporter, Reporter
from pipeline.validate import parse_rfc2822

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
PODCAST_ALIAS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
ATOM = "http://www.w3.org/2005/Atom"
PSC = "http://podlove.org/simple-chapters"

USER_AGENT = "podcast-pipeline-import/0.1"
MAX_FEED_BYTES = 50 * 2**20
MAX_PAGES = 50
MAX_REDIRECTS = 5
MAX_ASSET_BYTES = 20 * 2**20
MAX_MEDIA_BYTES = 2 * 2**30
MAX_MEDIA_SECONDS = 1800
_CHUNK = 64 * 1024
_SLUG_CHARS = 60

#: Tracking/analytics prefixes hosts put in front of enclosure URLs (kept: the URL stays byte for byte).
TRACKERS = {
    "Podtrac": re.compile(r"^https?://(?:[\w.-]+\.)?(?:podtrac\.com|pdst\.fm)/", re.I),
    "Chartable": re.compile(r"^https?://(?:chrt\.fm|chtbl\.com)/", re.I),
    "OP3": re.compile(r"^https?://op3\.dev/e", re.I),
    "Blubrry": re.compile(r"^https?://media\.blubrry\.com/", re.I),
    "Podsights": re.compile(r"^https?://pdst\.fm/", re.I),
}

#: What each counted fix means, in the order the summary lists them.
FIXES: dict[str, str] = {
    "explicit": "explicit values (yes/no/clean/...) written as true/false",
    "date_no_zone": "dates without a time zone assumed UTC",
    "date_named_zone": "dates with a named zone (EST, GMT, ...) written as an offset",
    "date_loose": "dates not in RFC 822 form read leniently",
    "length_missing": "enclosures without a length (or length 0) written as 0; `--download` measures them",
    "type_guessed": "enclosures without a MIME type given one from the file extension",
    "length_wrong": "enclosure lengths in the old feed that differed from the downloaded file",
    "html_title": "titles with HTML or entities cleaned",
    "relative_url": "relative URLs resolved against the feed URL",
    "no_guid": "items without a GUID pinned to their enclosure URL (what apps already use)",
    "duplicate_number": "duplicate episode numbers dropped (kept on the first)",
    "bad_number": "episode/season numbers that were not positive whole numbers dropped",
    "episode_type": "episode types normalised (e.g. Full -> full)",
    "notes_html": "show notes converted from HTML to Markdown",
    "notes_unsafe": "show notes with unsafe HTML (scripts, handlers, javascript: links) sanitised",
    "category_legacy": "legacy categories translated to Apple's 2019 list",
    "category_dropped": "categories not in Apple's list dropped",
    "category_default": "shows without a usable category given 'Society & Culture' (change it in show.yaml)",
    "language": "language codes normalised",
    "language_default": "missing languages written as en (change it in show.yaml)",
    "title_long": "titles longer than 255 characters shortened",
    "person_role": "person roles not in the namespace list written as guest",
    "chapters_psc": "psc:chapters turned into chapter lines",
    "chapters_json": "podcast:chapters files turned into chapter lines",
    "chapters_bad": "chapter lists that could not be kept (not starting at 0 or out of order) dropped",
    "image_remote": "episode images left at the old host (`--download` brings them in)",
    "chapters_remote": "podcast:chapters files left at the old host (`--download` brings them in)",
    "transcript_remote": "transcripts left at the old host (`--download` brings them in)",
    "artwork_placeholder": "show artwork that could not be fetched replaced by a placeholder cover.jpg",
    "author_default": "missing authors taken from the owner",
    "description_default": "missing descriptions taken from the title",
    "description_long": "descriptions longer than 4000 characters shortened",
    "url_default": "show url set from the old site link (set it to the new site's URL)",
}


class ImportRefused(PipelineError):
    """The source can't be imported as it stands (locked, a show already here, ...)."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Skipped:
    item: str
    """The item's title or GUID, as the user can find it in the old feed."""
    reason: str


@dataclass(frozen=True)
class Download:
    slug: str
    url: str
    file: str
    bytes: int
    status: str
    """downloaded, resumed, skipped (already there) or failed."""
    error: str = ""


@dataclass
class ImportResult:
    root: Path
    title: str
    source: str
    old_feed_url: str | None
    pages: int
    written: list[str] = field(default_factory=list)
    """Episode slugs written, oldest first."""
    kept: list[str] = field(default_factory=list)
    """Slugs already present (merge)."""
    skipped: list[Skipped] = field(default_factory=list)
    fixes: list[tuple[str, int, str]] = field(default_factory=list)
    """(key, count, what was fixed), in FIXES order."""
    tracking: dict[str, int] = field(default_factory=dict)
    downloads: list[Download] = field(default_factory=list)
    merged: bool = False
    moving_day: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- HTTP


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS
    max_repeats = 2


def _opener() -> urllib.request.OpenerDirector:
    """urllib with only http(s) and a redirect limit; errors come back as exceptions we word ourselves."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _Redirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _opener()


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _network_error(err: BaseException) -> str:
    """One line saying why a request failed."""
    if isinstance(err, urllib.error.HTTPError):
        if 300 <= err.code < 400:
            return f"redirects in a loop or more than {MAX_REDIRECTS} times (last HTTP {err.code})"
        return f"the server answered HTTP {err.code} {err.reason}"
    reason: object = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return "host not found (DNS lookup failed)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, ConnectionResetError | http.client.IncompleteRead | http.client.RemoteDisconnected):
        return "the server dropped the connection"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP response ({type(reason).__name__})"
    text = str(getattr(reason, "strerror", None) or reason) or type(reason).__name__
    return text.splitlines()[0]


class _FetchError(Exception):
    """One line saying why a fetch failed (the caller names the URL)."""


def _open(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **(headers or {})})
    try:
        return _OPENER.open(req, timeout=timeout)
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
        raise _FetchError(_network_error(err)) from None


def _read_capped(resp: Any, cap: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    total = 0
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _FetchError(f"is {int(declared):,} bytes, over the {cap:,}-byte limit")
    try:
        while True:
            if time.monotonic() > deadline:
                raise _FetchError("did not finish in time")
            chunk = resp.read1(_CHUNK) if hasattr(resp, "read1") else resp.read(_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise _FetchError(f"is larger than the {cap:,}-byte limit; stopped reading")
            chunks.append(chunk)
    except (OSError, http.client.HTTPException) as err:
        raise _FetchError(f"download failed: {_network_error(err)}") from None
    body = b"".join(chunks)
    if declared.isdigit() and len(body) < int(declared):
        raise _FetchError(f"download failed: the server dropped the connection after {len(body):,} bytes")
    return body


def fetch_bytes(url: str, *, cap: int, timeout: float = 10.0) -> tuple[bytes, str]:
    """(body, final URL after redirects) of one GET, at most `cap` bytes, within 3x `timeout` overall."""
    deadline = time.monotonic() + timeout * 3
    with _open(url, timeout=timeout) as resp:
        return _read_capped(resp, cap, deadline), resp.geturl()


# --------------------------------------------------------------------------- reading the feed

_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])",
    re.I | re.S,
)


def _parser() -> etree.XMLParser:
    """Never touches the network, never expands entities, refuses huge trees."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_comments=True
    )


def read_source(source: str, *, timeout: float = 10.0) -> tuple[bytes, str | None]:
    """The feed's bytes and its URL (None for a file)."""
    if _is_url(source):
        try:
            data, final = fetch_bytes(source, cap=MAX_FEED_BYTES, timeout=timeout)
        except _FetchError as err:
            raise UnreadableFeed(str(err), file=source) from None
        return data, final
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        raise UnreadableFeed("only http(s) URLs and feed files can be imported", file=source)
    path = Path(source)
    try:
        if path.is_dir():
            raise UnreadableFeed("is a folder, not a feed file", file=source)
        size = path.stat().st_size
        if size > MAX_FEED_BYTES:
            raise UnreadableFeed(f"is {size:,} bytes, over the {MAX_FEED_BYTES:,}-byte limit", file=source)
        return path.read_bytes(), None
    except FileNotFoundError:
        raise UnreadableFeed("no such file", file=source) from None
    except OSError as err:
        raise UnreadableFeed(f"cannot read: {err.strerror or err}", file=source) from None


def parse_channel(data: bytes, source: str) -> etree._Element:
    """The <channel> of an RSS document, or one clear line saying why this isn't one."""
    head = data[:4096].lstrip()
    if not head:
        raise UnreadableFeed("is empty, not a feed", file=source)
    if _HTML_START.match(head):
        raise UnreadableFeed(
            "is an HTML page, not a feed", file=source, hint="use the feed's own URL (often /feed or /rss)"
        )
    if not head.lstrip(b"\xef\xbb\xbf").startswith(b"<"):
        raise UnreadableFeed(
            "is not a feed (not XML)", file=source, hint="expected RSS starting with <?xml or <rss"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        line = getattr(err, "lineno", 0)
        raise UnreadableFeed(
            f"is not well-formed XML (line {line}: {err.msg.splitlines()[0] if err.msg else err}); it may be truncated",
            file=source,
            hint="download the feed again, or ask the old host for a complete export",
        ) from None
    tag = etree.QName(root).localname if isinstance(root.tag, str) else ""
    if root.tag == f"{{{ATOM}}}feed":
        raise UnreadableFeed(
            "is an Atom feed; podcast import reads RSS 2.0 podcast feeds",
            file=source,
            hint="use the show's RSS feed URL",
        )
    if tag != "rss" or root.find("channel") is None:
        raise UnreadableFeed(f"is XML but not an RSS feed (root element <{tag}>)", file=source)
    channel = root.find("channel")
    assert channel is not None
    return channel


def _atom_links(channel: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for link in channel.iterfind(f"{{{ATOM}}}link"):
        rel, href = (link.get("rel") or "").strip(), (link.get("href") or "").strip()
        if rel and href and rel not in out:
            out[rel] = href
    return out


def read_pages(source: str, *, timeout: float = 10.0) -> tuple[list[etree._Element], str | None]:
    """Every page of a feed, following RFC 5005 next/prev-archive links (bounded, loops refused)."""
    data, url = read_source(source, timeout=timeout)
    first = parse_channel(data, source)
    pages = [first]
    seen = {url or source}
    base = url or _atom_links(first).get("self")
    current = first
    while len(pages) < MAX_PAGES:
        links = _atom_links(current)
        nxt = links.get("next") or links.get("prev-archive")
        if not nxt:
            break
        nxt = urljoin(base or "", nxt)
        if nxt in seen or not _is_url(nxt):
            break
        seen.add(nxt)
        try:
            body, final = fetch_bytes(nxt, cap=MAX_FEED_BYTES, timeout=timeout)
        except _FetchError as err:
            raise UnreadableFeed(f"page {len(pages) + 1}: {err}", file=nxt) from None
        current = parse_channel(body, nxt)
        pages.append(current)
        base = final
    return pages, url


# --------------------------------------------------------------------------- value mapping


def _ns(el: etree._Element, name: str, ns: str) -> etree._Element | None:
    found = el.find(f"{{{ns}}}{name}")
    if found is None and ns == PODCAST:
        found = el.find(f"{{{PODCAST_ALIAS}}}{name}")
    return found


def _all(el: etree._Element, name: str, ns: str) -> list[etree._Element]:
    out = list(el.iterfind(f"{{{ns}}}{name}"))
    if ns == PODCAST:
        out += list(el.iterfind(f"{{{PODCAST_ALIAS}}}{name}"))
    return out


class _Children:
    """An item's direct children by tag, read in one pass: an item is asked for some twenty of them."""

    def __init__(self, el: etree._Element) -> None:
        self._by_tag: dict[str, list[etree._Element]] = {}
        for child in el:
            if isinstance(child.tag, str):
                self._by_tag.setdefault(child.tag, []).append(child)

    def find(self, tag: str) -> etree._Element | None:
        """The first child with this tag (as `el.find(tag)`)."""
        found = self._by_tag.get(tag)
        return found[0] if found else None

    def ns(self, name: str, ns: str) -> etree._Element | None:
        """As `_ns`."""
        found = self.find(f"{{{ns}}}{name}")
        if found is None and ns == PODCAST:
            found = self.find(f"{{{PODCAST_ALIAS}}}{name}")
        return found

    def all(self, name: str, ns: str) -> list[etree._Element]:
        """As `_all`."""
        out = list(self._by_tag.get(f"{{{ns}}}{name}", ()))
        if ns == PODCAST:
            out += self._by_tag.get(f"{{{PODCAST_ALIAS}}}{name}", ())
        return out


def _owner(channel: etree._Element) -> etree._Element:
    owner = _ns(channel, "owner", ITUNES)
    return owner if owner is not None else channel


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


_TAG_RE = re.compile(r"<[a-zA-Z/!][^>]*>")
_ENTITY_RE = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")
_UNSAFE_RE = re.compile(
    r"<\s*(?:script|style|iframe|object|embed|svg|form)|\son\w+\s*=|javascript:|data:text", re.I
)


def _clean_title(raw: str, fixes: Counter[str]) -> str:
    text = raw
    if _TAG_RE.search(text) or _ENTITY_RE.search(text):
        import html as _html

        text = _html.unescape(_TAG_RE.sub("", text))
    text = " ".join(text.split())
    if text != raw.strip():
        fixes["html_title"] += 1
    if len(text) > 255:
        fixes["title_long"] += 1
        text = notes.shorten(text, 255)
    return text


class _Tag(Tag):
    """bs4's Tag, with `find_parent(name)` as a plain walk up the tree.

    markdownify asks every tag `find_parent('pre')`; bs4 answers that through its general matcher (a
    filter object per call), which cost about a fifth of converting a 10,000-item feed's notes.
    """

    def find_parent(self, name: Any = None, attrs: Any = None, **kwargs: Any) -> Any:
        if not isinstance(name, str) or attrs or kwargs:
            return super().find_parent(name, attrs, **kwargs)
        parent = self.parent
        while parent is not None and parent.name != name:
            parent = parent.parent
        return parent


class _Builder(LXMLTreeBuilder):
    """bs4's lxml HTML builder, keeping one lxml parser for every note it builds.

    bs4 makes a new parser per document, and lxml inspects a new parser's Python target each time
    (a tenth of converting a 10,000-item feed's notes); a closed lxml parser is ready for the next feed.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parsers: dict[str | None, etree.HTMLParser] = {}

    def default_parser(self, encoding: str | None) -> etree.HTMLParser:
        parser = self._parsers.get(encoding)
        if parser is None:
            parser = etree.HTMLParser(target=self, recover=True, huge_tree=self.huge_tree, encoding=encoding)
            self._parsers[encoding] = parser
        return parser


class _Converter(MarkdownConverter):
    """markdownify, with relative links and images resolved against the feed URL.

    One instance serves a whole import (its options and per-tag function lookups are worked out once);
    `markdown()` counts each note's fixes in the Counter it is given.
    """

    def __init__(self, base: str) -> None:
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False)
        self._base = base
        self._fixes: Counter[str] = Counter()
        self._builder = _Builder()

    def convert(self, html: str) -> str:
        soup = BeautifulSoup(html, builder=self._builder, element_classes={Tag: _Tag})
        return str(self.convert_soup(soup))

    def markdown(self, markup: str, fixes: Counter[str]) -> str:
        """Show notes: sanitised first, then turned into Markdown with links, lists and headings kept."""
        if not _TAG_RE.search(markup) and not _ENTITY_RE.search(markup):
            return markup.strip()
        if _UNSAFE_RE.search(markup):
            fixes["notes_unsafe"] += 1
        fixes["notes_html"] += 1
        self._fixes = fixes
        text = self.convert(notes.sanitise(markup))
        text = _TRAILING_SPACE_RE.sub("\n", text)
        return _BLANK_LINES_RE.sub("\n\n", text).strip()

    def _resolve(self, el: Any, attr: str) -> None:
        value = el.get(attr)
        if value and self._base and not _SCHEME_RE.match(value) and not value.startswith("#"):
            el[attr] = urljoin(self._base, value)
            self._fixes["relative_url"] += 1

    def convert_a(self, el: Any, text: str, *args: Any, **kwargs: Any) -> str:
        self._resolve(el, "href")
        return str(super().convert_a(el, text, *args, **kwargs))  # type: ignore[misc]

    def convert_img(self, el: Any, text: str, *args: Any, **kwargs: Any) -> str:
        self._resolve(el, "src")
        return str(super().convert_img(el, text, *args, **kwargs))  # type: ignore[misc]


_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_TRAILING_SPACE_RE = re.compile(r"[ \t]+\n")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def html_to_markdown(markup: str, base: str, fixes: Counter[str]) -> str:
    """Show notes: sanitised first, then turned into Markdown with links, lists and headings kept."""
    return _Converter(base).markdown(markup, fixes)


_NO_ZONE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?$")


def parse_date(raw: str, fixes: Counter[str]) -> dt.datetime | None:
    """A pubDate as an aware datetime keeping its offset; lenient readings are counted, never silent."""
    text = " ".join(raw.split())
    when, _ = parse_rfc2822(text)
    if when is not None:
        zone = text.rsplit(" ", 1)[-1]
        if zone.isalpha() and zone not in ("GMT", "UT", "Z"):
            fixes["date_named_zone"] += 1
        return when
    if _NO_ZONE.match(text):
        import email.utils

        parsed = email.utils.parsedate(text)
        if parsed:
            fixes["date_no_zone"] += 1
            return dt.datetime(*parsed[:6], tzinfo=dt.UTC)
    import email.utils

    try:
        loose = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        loose = None
    if loose is None:
        try:
            loose = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if loose.tzinfo is None:
        fixes["date_no_zone"] += 1
        return loose.replace(tzinfo=dt.UTC)
    fixes["date_loose"] += 1
    return loose


def parse_explicit(raw: str, fixes: Counter[str]) -> bool | None:
    value = raw.strip().lower()
    if value in ("true", "false"):
        return value == "true"
    if not value:
        return None
    fixes["explicit"] += 1
    if value in ("yes", "explicit", "1"):
        return True
    if value in ("no", "clean", "0"):
        return False
    return None


def _positive(raw: str, fixes: Counter[str]) -> int | None:
    if not raw:
        return None
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    if re.fullmatch(r"\d+\.0+", raw) and int(float(raw)) >= 1:
        return int(float(raw))
    fixes["bad_number"] += 1
    return None


def _seconds(raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    parts = raw.split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    if len(nums) > 3 or any(n < 0 for n in nums):
        return None
    total = 0.0
    for n in nums:
        total = total * 60 + n
    return total


def _url(raw: str, base: str, fixes: Counter[str]) -> str:
    raw = raw.strip()
    if raw and not _is_url(raw) and base:
        fixes["relative_url"] += 1
        return urljoin(base, raw)
    return raw


_MEDIA_EXT = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/x-m4a": ".m4a",
    "audio/mp4": ".m4a",
    "audio/aac": ".m4a",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/flac": ".flac",
}
_TYPE_BY_EXT = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/opus",
    ".wav": "audio/wav",
    ".aac": "audio/aac",
    ".flac": "audio/flac",
}


def ascii_slug(text: str) -> str:
    """An ASCII slug of at most 60 characters (cut at a hyphen), or '' when nothing is left."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if len(slug) > _SLUG_CHARS:
        slug = slug[:_SLUG_CHARS].rsplit("-", 1)[0] if "-" in slug[:_SLUG_CHARS] else slug[:_SLUG_CHARS]
    return slug


def _persons(people: list[etree._Element], fixes: Counter[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for p in people:
        name = _text(p)[:128]
        if not name:
            continue
        person: dict[str, str] = {"name": name}
        role = (p.get("role") or "host").strip().lower()
        if role not in model.PERSON_ROLES:
            fixes["person_role"] += 1
            role = "guest"
        person["role"] = role
        if (group := (p.get("group") or "").strip().lower()) and group != "cast":
            person["group"] = group
        for attr in ("href", "img"):
            if _is_url(value := (p.get(attr) or "").strip()):
                person[attr] = value
        out.append(person)
    return out


def _psc_chapters(block: etree._Element | None, fixes: Counter[str]) -> list[dict[str, Any]]:
    if block is None:
        return []
    out: list[dict[str, Any]] = []
    for ch in block.iterfind(f"{{{PSC}}}chapter"):
        start = _seconds((ch.get("start") or "").strip())
        title = " ".join((ch.get("title") or "").split())[:255]
        if start is None or not title:
            fixes["chapters_bad"] += 1
            return []
        entry: dict[str, Any] = {"start": model.format_timestamp(start), "title": title}
        if _is_url(href := (ch.get("href") or "").strip()):
            entry["url"] = href
        out.append(entry)
    return _checked_chapters(out, fixes, "chapters_psc")


def _checked_chapters(out: list[dict[str, Any]], fixes: Counter[str], key: str) -> list[dict[str, Any]]:
    starts = [model.parse_timestamp(c["start"]) for c in out]
    if not out or starts[0] != 0 or any(b <= a for a, b in itertools.pairwise(starts)):
        if out:
            fixes["chapters_bad"] += 1
        return []
    fixes[key] += 1
    return out


def chapters_from_json(data: bytes) -> list[dict[str, Any]]:
    """podcast:chapters JSON -> chapter mappings; raises ValueError when it isn't that format."""
    doc = json.loads(data)
    out: list[dict[str, Any]] = []
    for ch in doc.get("chapters", []) if isinstance(doc, dict) else []:
        if not isinstance(ch, dict) or ch.get("toc") is False:
            continue
        start, title = ch.get("startTime"), str(ch.get("title") or "").strip()[:255]
        if not isinstance(start, int | float) or isinstance(start, bool) or not title:
            raise ValueError("a chapter without startTime or title")
        entry: dict[str, Any] = {"start": model.format_timestamp(float(start)), "title": title}
        if isinstance(ch.get("url"), str) and _is_url(ch["url"]):
            entry["url"] = ch["url"]
        out.append(entry)
    return out


# --------------------------------------------------------------------------- the plan


@dataclass
class _Fetch:
    """One file to bring into an episode folder with --download."""

    kind: str  # audio, image, chapters, transcript
    url: str
    name: str
    length: int = 0


@dataclass
class _Episode:
    slug: str
    guid: str
    fields: dict[str, Any]
    body: str
    fetches: list[_Fetch] = field(default_factory=list)


@dataclass
class _Plan:
    show: dict[str, Any]
    artwork_url: str
    episodes: list[_Episode]
    skipped: list[Skipped]
    fixes: Counter[str]
    tracking: Counter[str]
    old_feed_url: str | None
    owner_email: str


def _category_list(channel: etree._Element, fixes: Counter[str]) -> list[str]:
    out: list[str] = []
    for top_el in _all(channel, "category", ITUNES):
        top = (top_el.get("text") or "").strip()
        subs = [(s.get("text") or "").strip() for s in _all(top_el, "category", ITUNES)] or [None]
        for sub in subs:
            if cats.is_category(top, sub or None):
                path = f"{top} > {sub}" if sub else top
            else:
                legacy, repl = cats.legacy_replacement(top, sub or None)
                if legacy and repl is None and sub:
                    legacy, repl = (True, top) if cats.is_category(top) else (False, None)
                if not (legacy and repl):
                    fixes["category_dropped"] += 1
                    continue
                fixes["category_legacy"] += 1
                path = repl
            if path not in out:
                out.append(path)
    if len(out) > 3:
        fixes["category_dropped"] += len(out) - 3
        out = out[:3]
    if not out:
        fixes["category_default"] += 1
        out = ["Society & Culture"]
    return out


def _language(raw: str, fixes: Counter[str]) -> str:
    if not raw:
        fixes["language_default"] += 1
        return "en"
    head, _, region = raw.replace("_", "-").partition("-")
    value = head.lower() + (f"-{region.upper()}" if region else "")
    if not model.LANG_RE.match(value):
        fixes["language_default"] += 1
        return "en"
    if value != raw:
        fixes["language"] += 1
    return value


def plan(
    pages: list[etree._Element],
    feed_url: str | None,
    *,
    owner_email: str | None = None,
    taken_slugs: set[str] | None = None,
    known_guids: set[str] | None = None,
    taken_numbers: set[tuple[int, int]] | None = None,
    merge: bool = False,
) -> _Plan:
    """Map the channel and every item onto show.yaml and episode fields, counting each fix."""
    fixes: Counter[str] = Counter()
    tracking: Counter[str] = Counter()
    channel = pages[0]
    links = _atom_links(channel)
    old_feed = feed_url or (links.get("self") if _is_url(links.get("self", "")) else None)
    base = old_feed or ""

    email = _text(_ns(_owner(channel), "email", ITUNES))
    lock_el = _ns(channel, "locked", PODCAST)
    locked = _text(lock_el).lower() == "yes"
    if locked:
        lock_owner = (lock_el.get("owner") or "").strip() if lock_el is not None else ""
        allowed = {e.lower() for e in (lock_owner, email) if e}
        if not owner_email or owner_email.lower() not in allowed:
            raise ImportRefused(
                "the feed is podcast:locked (its owner does not allow moving it)",
                file=old_feed or "feed",
                hint=f"if you own it, pass --owner-email with the owner address the feed names"
                f"{' (' + _mask(lock_owner or email) + ')' if (lock_owner or email) else ''}",
            )
    if not email:
        if not owner_email:
            raise ImportRefused(
                "the feed has no itunes:owner email",
                file=old_feed or "feed",
                hint="pass --owner-email YOU@EXAMPLE.COM",
            )
        email = owner_email

    title = _clean_title(_text(channel.find("title")), fixes) or "Untitled show"
    owner_name = _text(_ns(_owner(channel), "name", ITUNES))
    author = " ".join(_text(_ns(channel, "author", ITUNES)).split())
    if not author:
        fixes["author_default"] += 1
        author = owner_name or title
    raw_desc = _text(_ns(channel, "summary", ITUNES)) or _text(channel.find("description"))
    converter = _Converter(base)
    description = converter.markdown(raw_desc, fixes) if raw_desc else ""
    if not description:
        fixes["description_default"] += 1
        description = title
    if len(description) > 4000:
        fixes["description_long"] += 1
        description = notes.shorten(description, 4000)
    link = _text(channel.find("link"))
    if _is_url(link):
        site = link
    else:
        site = (
            f"{urlsplit(old_feed).scheme}://{urlsplit(old_feed).netloc}/"
            if old_feed
            else "https://example.com/"
        )
    fixes["url_default"] += 1

    show: dict[str, Any] = {
        "title": title,
        "description": description,
        "author": author,
        "owner": {"name": owner_name or author, "email": email},
        "language": _language(_text(channel.find("language")), fixes),
        "categories": _category_list(channel, fixes),
    }
    explicit = parse_explicit(_text(_ns(channel, "explicit", ITUNES)), fixes)
    if explicit:
        show["explicit"] = True
    stype = _text(_ns(channel, "type", ITUNES)).lower()
    if stype == "serial":
        show["type"] = "serial"
    show["artwork"] = "cover.jpg"
    show["url"] = site
    if copyright_ := " ".join(_text(channel.find("copyright")).split()):
        show["copyright"] = copyright_
    guid = _text(_ns(channel, "guid", PODCAST)).lower()
    if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", guid):
        show["guid"] = guid
    elif old_feed:
        show["guid"] = urls.podcast_guid(old_feed)
    show["locked"] = locked
    funding = [
        {"url": u, "text": (_text(f) or "Support the show")[:128]}
        for f in _all(channel, "funding", PODCAST)
        if _is_url(u := (f.get("url") or "").strip())
    ]
    if funding:
        show["funding"] = funding
    if persons := _persons(_all(channel, "person", PODCAST), fixes):
        show["persons"] = persons
    if old_feed:
        show["moved_from"] = old_feed

    image_el = _ns(channel, "image", ITUNES)
    art = (image_el.get("href") if image_el is not None else None) or _text(channel.find("image/url"))
    artwork_url = _url(art or "", base, fixes)

    items = [it for page in pages for it in page.iterfind("item")]
    if merge:
        fixes.clear()  # --merge keeps show.yaml as it is: the channel's fixes are not applied
    episodes, skipped = _items(
        items,
        base,
        converter,
        fixes,
        tracking,
        taken_slugs or set(),
        known_guids or set(),
        taken_numbers or set(),
    )
    return _Plan(show, artwork_url, episodes, skipped, fixes, tracking, old_feed, email)


def _mask(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def _items(
    items: list[etree._Element],
    base: str,
    converter: _Converter,
    total: Counter[str],
    tracking: Counter[str],
    taken_slugs: set[str],
    known_guids: set[str],
    taken_numbers: set[tuple[int, int]],
) -> tuple[list[_Episode], list[Skipped]]:
    skipped: list[Skipped] = []
    seen: set[str] = set()
    parsed: list[tuple[dt.datetime, int, str, dict[str, Any], str, list[_Fetch]]] = []
    for index, item in enumerate(items):
        fixes: Counter[str] = Counter()  # counted only if the item is written
        kids = _Children(item)
        raw_title = _text(kids.find("title")) or _text(kids.ns("title", ITUNES))
        title = _clean_title(raw_title, fixes) if raw_title else ""
        label = title or _text(kids.find("guid")) or f"item {index + 1}"
        enc = kids.find("enclosure")
        enc_url = _url(enc.get("url") or "", base, fixes) if enc is not None else ""
        if not enc_url:
            skipped.append(Skipped(label, "no enclosure (nothing to play)"))
            continue
        guid = _text(kids.find("guid"))
        if not guid:
            fixes["no_guid"] += 1
            guid = enc_url
        guid = guid[:255]
        if guid in seen:
            skipped.append(Skipped(label, f"duplicate GUID {guid!r} (the first item with it was kept)"))
            continue
        seen.add(guid)
        if guid in known_guids:
            continue
        if not title:
            skipped.append(Skipped(label, "no title"))
            continue
        raw_date = _text(kids.find("pubDate"))
        when = parse_date(raw_date, fixes) if raw_date else None
        if when is None:
            why = f"pubDate {raw_date[:40]!r} is not a date" if raw_date else "no pubDate"
            skipped.append(Skipped(label, why))
            continue
        for name, pattern in TRACKERS.items():
            if pattern.match(enc_url):
                tracking[name] += 1
                break
        length_raw = (enc.get("length") or "").strip() if enc is not None else ""
        length = int(length_raw) if length_raw.isdigit() else 0
        if length == 0:
            fixes["length_missing"] += 1
        mime = (enc.get("type") or "").strip().lower() if enc is not None else ""
        if not re.fullmatch(r"(audio|video)/[a-z0-9.+-]+", mime):
            ext = Path(urlsplit(enc_url).path).suffix.lower()
            fixes["type_guessed"] += 1
            mime = _TYPE_BY_EXT.get(ext, "audio/mpeg")
        fields: dict[str, Any] = {"title": title, "date": when.isoformat(), "guid": guid}
        number = _positive(_text(kids.ns("episode", ITUNES)) or _text(kids.ns("episode", PODCAST)), fixes)
        season = _positive(_text(kids.ns("season", ITUNES)) or _text(kids.ns("season", PODCAST)), fixes)
        etype_raw = _text(kids.ns("episodeType", ITUNES))
        etype = etype_raw.lower()
        if etype_raw and etype_raw != etype and etype in ("full", "trailer", "bonus"):
            fixes["episode_type"] += 1
        elif etype_raw and etype not in ("full", "trailer", "bonus"):
            fixes["episode_type"] += 1
            etype = "full"
        etype = etype or "full"
        if number is not None:
            fields["number"] = number
        if season is not None:
            fields["season"] = season
        if etype != "full":
            fields["type"] = etype
        explicit = parse_explicit(_text(kids.ns("explicit", ITUNES)), fixes)
        if explicit is not None:
            fields["explicit"] = explicit
        fields["audio_url"] = enc_url
        fields["audio_length"] = length
        fields["audio_type"] = mime
        duration = _seconds(_text(kids.ns("duration", ITUNES)))
        if duration is not None:
            fields["audio_duration"] = model.format_timestamp(duration)
        fetches = [
            _Fetch(
                "audio",
                enc_url,
                "audio" + _MEDIA_EXT.get(mime, Path(urlsplit(enc_url).path).suffix.lower()),
                length,
            )
        ]
        img = kids.ns("image", ITUNES)
        if img is not None and (img_url := _url(img.get("href") or "", base, fixes)):
            fixes["image_remote"] += 1
            fetches.append(_Fetch("image", img_url, "cover"))
        if chapters := _psc_chapters(kids.ns("chapters", PSC), fixes):
            fields["chapters"] = chapters
        else:
            ch = kids.ns("chapters", PODCAST)
            if ch is not None and (ch_url := _url(ch.get("url") or "", base, fixes)):
                fixes["chapters_remote"] += 1
                fetches.append(_Fetch("chapters", ch_url, "chapters.json"))
        for tr in kids.all("transcript", PODCAST):
            ttype = (tr.get("type") or "").strip().lower()
            tr_ext = {"text/vtt": ".vtt", "application/x-subrip": ".srt", "application/srt": ".srt"}.get(
                ttype
            )
            if tr_ext and (tr_url := _url(tr.get("url") or "", base, fixes)):
                fixes["transcript_remote"] += 1
                fetches.append(_Fetch("transcript", tr_url, "transcript" + tr_ext))
                break
        if persons := _persons(kids.all("person", PODCAST), fixes):
            fields["persons"] = persons
        raw_notes = (
            _text(kids.find(f"{{{CONTENT}}}encoded"))
            or _text(kids.find("description"))
            or _text(kids.ns("summary", ITUNES))
        )
        body = converter.markdown(raw_notes, fixes) if raw_notes else ""
        total.update(fixes)
        parsed.append((when, -index, guid, fields, body, fetches))

    parsed.sort(key=lambda p: (p[0], p[1]))  # oldest first; the feed's order breaks ties
    used = set(taken_slugs)
    numbers = set(taken_numbers)
    episodes: list[_Episode] = []
    for _when, _i, guid, fields, body, fetches in parsed:
        base_slug = ascii_slug(fields["title"]) or "episode-" + hashlib.sha1(guid.encode()).hexdigest()[:8]
        slug, n = base_slug, 1
        while slug in used:
            n += 1
            slug = f"{base_slug}-{n}"
        used.add(slug)
        if "number" in fields and fields.get("type", "full") == "full":
            key = (fields.get("season") or 1, fields["number"])
            if key in numbers:
                total["duplicate_number"] += 1
                del fields["number"]
            else:
                numbers.add(key)
        episodes.append(_Episode(slug, guid, fields, body, fetches))
    return episodes, skipped


# --------------------------------------------------------------------------- downloads


class _SharedTask:
    """One progress bar for every parallel download (the Reporter's Task is not thread-safe)."""

    def __init__(self, reporter: Reporter, total: int) -> None:
        self._task = reporter.task("download", float(total), "B")
        self._lock = threading.Lock()

    def advance(self, amount: int) -> None:
        with self._lock:
            self._task.advance(float(amount))

    def close(self) -> None:
        self._task.close()


def download(
    url: str, dest: Path, *, timeout: float, progress: _SharedTask | None, cap: int = MAX_MEDIA_BYTES
) -> tuple[int, bool]:
    """Fetch `url` into `dest`, resuming a partial file with HTTP Range; (bytes, resumed). Raises _FetchError.

    A dropped connection is resumed from where it stopped (twice at most); the result must have the size
    the server declared. Each request has an overall deadline (MAX_MEDIA_SECONDS) as well as `timeout`
    per read, so a server that trickles bytes cannot hold an import forever.
    """
    resumed = False
    for _attempt in range(3):
        deadline = time.monotonic() + MAX_MEDIA_SECONDS
        offset = dest.stat().st_size if dest.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            resp = _open(url, timeout=timeout, headers=headers)
        except _FetchError as err:
            if offset and "HTTP 416" in str(err):
                return offset, resumed  # already complete
            raise
        with resp:
            if offset and resp.status == 206:
                resumed = True
                mode = "ab"
                total_raw = resp.headers.get("Content-Range", "").rpartition("/")[2]
            else:
                mode, offset = "wb", 0
                total_raw = resp.headers.get("Content-Length", "")
            total = int(total_raw) if total_raw.isdigit() else None
            if total is not None and total > cap:
                raise _FetchError(f"is {total:,} bytes, over the {cap:,}-byte limit")
            got = offset
            try:
                with dest.open(mode) as fh:
                    while True:
                        if time.monotonic() > deadline:
                            raise _FetchError(f"did not finish within {MAX_MEDIA_SECONDS} s")
                        chunk = resp.read1(_CHUNK)
                        if not chunk:
                            break
                        fh.write(chunk)
                        got += len(chunk)
                        if got > cap:
                            raise _FetchError(f"is larger than the {cap:,}-byte limit; stopped")
                        if progress is not None:
                            progress.advance(len(chunk))
            except (OSError, http.client.HTTPException):
                continue  # dropped: resume from what arrived
            if total is not None and got < total:
                continue
            return got, resumed
    size = dest.stat().st_size if dest.exists() else 0
    raise _FetchError(f"the server dropped the connection after {size:,} bytes (kept; run again to resume)")


def _run_downloads(
    root: Path,
    stage: Path,
    episodes: list[_Episode],
    fixes: Counter[str],
    jobs: int,
    timeout: float,
    reporter: Reporter,
) -> list[Download]:
    partial = root / ".podcast-import" / "partial"
    partial.mkdir(parents=True, exist_ok=True)
    work = [(ep, f) for ep in episodes for f in ep.fetches]
    progress = _SharedTask(reporter, sum(f.length for _, f in work))

    def one(ep: _Episode, f: _Fetch) -> Download:
        key = hashlib.sha256(f.url.encode()).hexdigest()[:24]
        part = partial / f"{key}.part"
        done = partial / f"{key}.done"
        folder = stage / model.EPISODES_DIR / ep.slug
        try:
            if done.exists():
                got, status = done.stat().st_size, "skipped"
            elif f.kind == "audio":
                got, resumed = download(f.url, part, timeout=timeout, progress=progress)
                os.replace(part, done)
                status = "resumed" if resumed else "downloaded"
            else:
                body, _ = fetch_bytes(f.url, cap=MAX_ASSET_BYTES, timeout=timeout)
                done.write_bytes(body)
                got, status = len(body), "downloaded"
            name = _place(ep, f, done, folder, fixes)
        except (_FetchError, ValueError, OSError) as err:
            return Download(ep.slug, f.url, f.name, 0, "failed", str(err))
        return Download(ep.slug, f.url, name, got, status)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda w: one(*w), work))
    progress.close()
    return results


def _place(ep: _Episode, f: _Fetch, done: Path, folder: Path, fixes: Counter[str]) -> str:
    """Copy a finished download into the staged episode folder and point the front matter at it."""
    if f.kind == "audio":
        if Path(f.name).suffix not in model.AUDIO_TYPES:
            raise ValueError(
                f"{f.name}: {ep.fields['audio_type']} is not a type the build reads; audio_url kept"
            )
        size = done.stat().st_size
        if f.length and f.length != size:
            fixes["length_wrong"] += 1
        shutil.copyfile(done, folder / f.name)
        for key in ("audio_url", "audio_length", "audio_type", "audio_duration"):
            ep.fields.pop(key, None)
        ep.fields["audio"] = f.name
        return f.name
    if f.kind == "image":
        head = done.read_bytes()[:8]
        ext = ".jpg" if head.startswith(b"\xff\xd8\xff") else ".png" if head.startswith(b"\x89PNG") else ""
        if not ext:
            raise ValueError("not a JPEG or PNG image")
        shutil.copyfile(done, folder / f"cover{ext}")
        ep.fields["image"] = f"cover{ext}"
        return f"cover{ext}"
    if f.kind == "chapters":
        chapters = chapters_from_json(done.read_bytes())
        if chapters := _checked_chapters(chapters, fixes, "chapters_json"):
            ep.fields["chapters"] = chapters
        shutil.copyfile(done, folder / f.name)
        return f.name
    shutil.copyfile(done, folder / f.name)
    ep.fields["transcript"] = f.name
    return f.name


# --------------------------------------------------------------------------- writing


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # safe_dump's rules, in C when available


def _front_matter(fields: dict[str, Any], body: str) -> str:
    head = yaml.dump(fields, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{body}\n" if body else f"---\n{head}---\n"


def _artwork(url: str, dest: Path, title: str, timeout: float, fixes: Counter[str]) -> str:
    """The show artwork into `dest` (JPEG or PNG), or a placeholder when it can't be fetched."""
    if _is_url(url):
        try:
            body, _ = fetch_bytes(url, cap=MAX_ASSET_BYTES, timeout=timeout)
        except _FetchError:
            body = b""
        if body.startswith(b"\xff\xd8\xff"):
            (dest / "cover.jpg").write_bytes(body)
            return "cover.jpg"
        if body.startswith(b"\x89PNG\r\n\x1a\n"):
            (dest / "cover.png").write_bytes(body)
            return "cover.png"
    fixes["artwork_placeholder"] += 1
    images.placeholder_art(dest / "cover.jpg", title)
    return "cover.jpg"


def _check_episode(stage: Path, ep: _Episode) -> None:
    """The front matter we wrote must validate (the same model `podcast check` uses), else refuse."""
    folder = stage / model.EPISODES_DIR / ep.slug
    source = folder / model.NOTES_FILE
    model.validate_episode(
        {**ep.fields, "slug": ep.slug, "dir": folder, "source": source, "notes": ep.body},
        folder,
        f"episodes/{ep.slug}/{model.NOTES_FILE}",
    )


def _existing(root: Path) -> tuple[set[str], set[str], set[tuple[int, int]]]:
    """Slugs, GUIDs and (season, number) pairs of the show already here (for --merge)."""
    show = model.load_show(root)
    episodes, problems = model.load_each_episode(root)
    if problems:
        raise ContentErrors(problems)
    guids = {urls.episode_guid(show, ep) for ep in episodes}
    numbers = {(ep.season or 1, ep.number) for ep in episodes if ep.number is not None and ep.type == "full"}
    return {p.name for p in model.episode_folders(root)}, guids, numbers


def import_feed(
    source: str,
    root: Path,
    *,
    merge: bool = False,
    download_media: bool = False,
    owner_email: str | None = None,
    jobs: int = 4,
    timeout: float = 10.0,
    reporter: Reporter | None = None,
) -> ImportResult:
    """Import a feed into the show folder `root`; nothing is left half-written when it fails."""
    reporter = reporter or NullReporter()
    root = Path(root).resolve()
    show_file = root / model.SHOW_FILE
    if show_file.exists() and not merge:
        raise ImportRefused(
            "a show is already here",
            file=model.SHOW_FILE,
            hint="pass --merge to add only the items whose GUID is new",
        )
    if merge and not show_file.exists():
        raise ImportRefused(
            "--merge needs an existing show", file=model.SHOW_FILE, hint="run without --merge first"
        )
    taken, guids, numbers = _existing(root) if merge else (set(), set(), set())
    if not merge:
        taken = {p.name for p in model.episode_folders(root)}

    pages, feed_url = read_pages(source, timeout=timeout)
    p = plan(
        pages,
        feed_url,
        owner_email=owner_email,
        taken_slugs=taken,
        known_guids=guids,
        taken_numbers=numbers,
        merge=merge,
    )
    if not p.episodes and not merge:
        why = "; ".join(f"{s.item}: {s.reason}" for s in p.skipped[:3])
        raise UnreadableFeed("the feed has no items to import" + (f" ({why})" if why else ""), file=source)
    root.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".podcast-import-", dir=root))
    try:
        return _stage_and_move(
            p, stage, root, source, len(pages), merge, download_media, jobs, timeout, reporter
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _stage_and_move(
    p: _Plan,
    stage: Path,
    root: Path,
    source: str,
    pages: int,
    merge: bool,
    download_media: bool,
    jobs: int,
    timeout: float,
    reporter: Reporter,
) -> ImportResult:
    staged = os.path.join(stage, model.EPISODES_DIR)  # plain strings: 10,000 folders, no Path per step
    if p.episodes:
        os.mkdir(staged)
    for ep in p.episodes:
        os.mkdir(os.path.join(staged, ep.slug))
    downloads: list[Download] = []
    if download_media and p.episodes:
        reporter.step(f"downloading media for {len(p.episodes)} episodes")
        downloads = _run_downloads(root, stage, p.episodes, p.fixes, jobs, timeout, reporter)
        for key in ("image_remote", "chapters_remote", "transcript_remote"):
            p.fixes.pop(key, None)
    moved: list[str] = []
    if not merge:
        p.show["artwork"] = _artwork(p.artwork_url, stage, p.show["title"], timeout, p.fixes)
        moved.append(p.show["artwork"])
        text = "# Imported by `podcast import` from " + (p.old_feed_url or source) + "\n"
        text += yaml.safe_dump(p.show, sort_keys=False, allow_unicode=True, width=100)
        (stage / model.SHOW_FILE).write_text(text, encoding="utf-8")
    for ep in p.episodes:
        with open(os.path.join(staged, ep.slug, model.NOTES_FILE), "w", encoding="utf-8") as fh:
            fh.write(_front_matter(ep.fields, ep.body))
    # what we wrote must load: a value we could not map is a refusal, not a broken show
    try:
        if not merge:
            model.load_show(stage)
        for ep in p.episodes:
            _check_episode(stage, ep)
    except ContentErrors as many:
        first = many.problems[0]
        raise ImportRefused(f"the imported show would not load: {first}", file=source) from None
    except PipelineError as one:
        raise ImportRefused(f"the imported show would not load: {one}", file=source) from None

    # move into place: episodes first, show.yaml last; undo on any failure
    done: list[tuple[Path, Path]] = []
    episodes = root / model.EPISODES_DIR
    try:
        if p.episodes and not episodes.exists():
            os.replace(staged, episodes)  # a new show: every episode folder in one rename
            done.append((episodes, Path(staged)))
        elif p.episodes:
            for ep in p.episodes:
                target = episodes / ep.slug
                if target.exists():
                    raise ImportRefused(
                        f"{target.relative_to(root)} already exists", file=source, hint="move it away first"
                    )
                os.replace(os.path.join(staged, ep.slug), target)
                done.append((target, Path(staged, ep.slug)))
        else:
            episodes.mkdir(exist_ok=True)
        if not merge:
            for name in (*moved, model.SHOW_FILE):
                if name != model.SHOW_FILE and (root / name).exists():
                    continue  # keep the user's own artwork file
                os.replace(stage / name, root / name)
                done.append((root / name, stage / name))
    except BaseException as err:
        for target, back in reversed(done):
            os.replace(target, back)
        if isinstance(err, OSError):
            raise ImportRefused(
                f"could not move the import into place ({err.strerror or err}); nothing was changed",
                file=str(root),
            ) from None
        raise
    result = ImportResult(
        root=root,
        title=p.show.get("title", ""),
        source=source,
        old_feed_url=p.old_feed_url,
        pages=pages,
        written=[ep.slug for ep in p.episodes],
        skipped=p.skipped,
        fixes=[
            (k, p.fixes[k], FIXES.get(k, k))
            for k in (*FIXES, *sorted(set(p.fixes) - set(FIXES)))
            if p.fixes[k]
        ],
        tracking=dict(p.tracking),
        downloads=downloads,
        merged=merge,
    )
    result.moving_day = moving_day_steps(result)
    if not any(d.status == "failed" for d in downloads):
        shutil.rmtree(root / ".podcast-import", ignore_errors=True)
    return result


def moving_day_steps(result: ImportResult) -> list[str]:
    """What to do at the old host once the new feed is live."""
    old = result.old_feed_url or "the old feed"
    steps = [
        "Set `url:` in show.yaml to the new site's address, then run `podcast check` and `podcast publish`.",
        f"At the old host, redirect {old} to the new feed (your new url: + feed.xml): use its 'redirect feed' "
        "setting, which adds <itunes:new-feed-url>, or a permanent 301 redirect.",
        "Keep the old host's media online until every episode has been downloaded and re-published "
        "(episodes with audio_url: still point there).",
        "Never edit the guid: lines: they are what stops apps from downloading episodes twice.",
        "After a week, check that Apple Podcasts and Spotify show the new feed URL; then close the old account.",
    ]
    return steps
