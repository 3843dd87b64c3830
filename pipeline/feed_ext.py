"""feedgen extensions for the tags feedgen lacks or writes wrong: podcast: (Podcasting 2.0), psc:, itunes fixes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree

from pipeline.errors import FeedError
from pipeline.ids import ATOM as ATOM_NS
from pipeline.ids import FH as FH_NS
from pipeline.ids import ITUNES as ITUNES_NS
from pipeline.ids import PODCAST as PODCAST_NS
from pipeline.ids import PSC as PSC_NS

CHAPTERS_TYPE = "application/json+chapters"
PSC_VERSION = "1.2"

# Clark names of the tags every item carries, spelled once
_SEASON = f"{{{PODCAST_NS}}}season"
_EPISODE = f"{{{PODCAST_NS}}}episode"
_TRANSCRIPT = f"{{{PODCAST_NS}}}transcript"
_CHAPTERS = f"{{{PODCAST_NS}}}chapters"
_PERSON = f"{{{PODCAST_NS}}}person"
_PSC_CHAPTERS = f"{{{PSC_NS}}}chapters"
_PSC_CHAPTER = f"{{{PSC_NS}}}chapter"


# --- plain values the extensions take (no knowledge of our model) -------------------------------------
# Named tuples: immutable, and cheap to make (a frozen dataclass sets each field through object.__setattr__;
# a feed makes several of these per item).


class Funding(NamedTuple):
    """`<podcast:funding url="…">text</podcast:funding>`; text is at most 128 characters."""

    url: str
    text: str = ""


class Person(NamedTuple):
    """`<podcast:person role group href img>name</podcast:person>`; role/group from the P2.0 taxonomy."""

    name: str
    role: str | None = None
    group: str | None = None
    href: str | None = None
    img: str | None = None


class Txt(NamedTuple):
    """`<podcast:txt purpose="…">text</podcast:txt>` (Apple reads purpose="applepodcastsverify")."""

    text: str
    purpose: str | None = None


class ValueRecipient(NamedTuple):
    """`<podcast:valueRecipient name type address split customKey customValue fee/>`."""

    address: str
    split: int
    type: str = "node"  #: node | lnaddress
    name: str | None = None
    custom_key: str | None = None
    custom_value: str | None = None
    fee: bool = False


class Value(NamedTuple):
    """`<podcast:value type method suggested>` holding one valueRecipient per split."""

    recipients: tuple[ValueRecipient, ...]
    type: str = "lightning"
    method: str = "keysend"
    suggested: float | None = None


class RemoteItem(NamedTuple):
    """`<podcast:remoteItem feedGuid feedUrl itemGuid medium title/>` (inside podroll, or elsewhere)."""

    feed_guid: str
    feed_url: str | None = None
    item_guid: str | None = None
    medium: str | None = None
    title: str | None = None


class License(NamedTuple):
    """`<podcast:license url="…">identifier</podcast:license>`; the identifier is lower case."""

    identifier: str
    url: str | None = None


class Location(NamedTuple):
    """`<podcast:location rel geo osm country>name</podcast:location>`."""

    name: str
    geo: str | None = None
    osm: str | None = None
    country: str | None = None
    rel: str | None = None


class Trailer(NamedTuple):
    """`<podcast:trailer pubdate url length type season>title</podcast:trailer>`; pubdate is RFC 2822 text."""

    title: str
    url: str
    pubdate: str
    length: int | None = None
    type: str | None = None
    season: int | None = None


class UpdateFrequency(NamedTuple):
    """`<podcast:updateFrequency complete dtstart rrule>text</podcast:updateFrequency>`."""

    text: str
    rrule: str | None = None
    complete: bool = False
    dtstart: str | None = None  #: ISO 8601 text


class SocialInteract(NamedTuple):
    """`<podcast:socialInteract priority protocol uri accountId accountUrl/>`."""

    protocol: str
    uri: str | None = None
    account_id: str | None = None
    account_url: str | None = None
    priority: int | None = None


class Block(NamedTuple):
    """`<podcast:block id="slug">yes</podcast:block>`; no id blocks every platform."""

    blocked: bool = True
    id: str | None = None


class ImageSize(NamedTuple):
    """One entry of `<podcast:images srcset>` (and one `<podcast:image href width>`): a URL and its width."""

    url: str
    width: int


class Soundbite(NamedTuple):
    """`<podcast:soundbite startTime duration>title</podcast:soundbite>`; times in seconds."""

    start: float
    duration: float
    title: str = ""


class AlternateSource(NamedTuple):
    """`<podcast:source uri contentType/>` inside an alternateEnclosure."""

    uri: str
    content_type: str | None = None


class AlternateEnclosure(NamedTuple):
    """`<podcast:alternateEnclosure type length bitrate codecs title default>` with sources and an SRI hash."""

    type: str
    length: int
    sources: tuple[AlternateSource, ...]
    bitrate: float | None = None  #: bits per second
    codecs: str | None = None  #: RFC 6381, e.g. "opus"
    title: str | None = None
    default: bool = False
    integrity: str | None = None  #: SRI, e.g. "sha256-…" (base64 of the exact bytes' digest)


class Transcript(NamedTuple):
    """`<podcast:transcript url type language rel/>`; rel="captions" only for timed formats (VTT, SRT)."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


class PscChapter(NamedTuple):
    """One Podlove Simple Chapter; `start` is seconds from the beginning of the media."""

    start: float
    title: str
    href: str | None = None
    image: str | None = None


# --- helpers -------------------------------------------------------------------------------------------


def _channel(rss: etree._Element) -> etree._Element:
    return rss[0]


def _attrs(elem: etree._Element, pairs: Iterable[tuple[str, object]]) -> None:
    """Set attributes in the given order, skipping None/empty (attribute order is part of the output)."""
    for name, value in pairs:
        if value is not None and value != "":
            elem.set(name, str(value))


#: lxml's SubElement (feedgen's xml_elem less a call): parent, tag, attributes in order.
_sub = etree.SubElement


def _number(value: float | int | str) -> str:
    """A decimal as the namespace writes it: 3, 3.5 (never 3.0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _require(value: object, what: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FeedError(f"{what} is empty", field=what)


def npt(seconds: float) -> str:
    """Seconds as Normal Play Time with milliseconds, the form psc:chapter start uses: 01:02:03.500."""
    if seconds < 0:
        raise FeedError(f"chapter start {seconds} is negative", field="psc:chapter")
    secs, millis = divmod(round(seconds * 1000), 1000)
    minutes, secs = divmod(secs, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _persons(parent: etree._Element, persons: Iterable[Person]) -> None:
    for person in persons:
        _require(person.name, "podcast:person")
        attrib = {}
        if person.role:
            attrib["role"] = person.role
        if person.group:
            attrib["group"] = person.group
        if person.href:
            attrib["href"] = person.href
        if person.img:
            attrib["img"] = person.img
        _sub(parent, _PERSON, attrib).text = person.name


def _p(tag: str) -> str:
    return f"{{{PODCAST_NS}}}{tag}"


def _text_elem(parent: etree._Element, tag: str, text: str, attrs: Iterable[tuple[str, object]] = ()) -> None:
    _require(text, f"podcast:{tag}")
    elem = xml_elem(_p(tag), parent)
    _attrs(elem, attrs)
    elem.text = text


def _funding(parent: etree._Element, funding: Iterable[Funding]) -> None:
    for fund in funding:
        _require(fund.url, "podcast:funding url")
        xml_elem(_p("funding"), parent, url=fund.url).text = fund.text


def _txt(parent: etree._Element, txt: Iterable[Txt]) -> None:
    for t in txt:
        _text_elem(parent, "txt", t.text, (("purpose", t.purpose),))


def _value(parent: etree._Element, value: Value | None) -> None:
    if value is None:
        return
    if not value.recipients:
        raise FeedError("podcast:value has no recipients", field="podcast:value")
    elem = xml_elem(_p("value"), parent)
    suggested = None if value.suggested is None else f"{value.suggested:.11f}"
    _attrs(elem, (("type", value.type), ("method", value.method), ("suggested", suggested)))
    for r in value.recipients:
        _require(r.address, "podcast:valueRecipient address")
        _attrs(
            xml_elem(_p("valueRecipient"), elem),
            (
                ("name", r.name),
                ("type", r.type),
                ("address", r.address),
                ("split", r.split),
                ("customKey", r.custom_key),
                ("customValue", r.custom_value),
                ("fee", "true" if r.fee else None),
            ),
        )


def _license(parent: etree._Element, lic: License | None) -> None:
    if lic is not None:
        _text_elem(parent, "license", lic.identifier.lower(), (("url", lic.url),))


def _locations(parent: etree._Element, locations: Iterable[Location]) -> None:
    for loc in locations:
        attrs = (("rel", loc.rel), ("geo", loc.geo), ("osm", loc.osm), ("country", loc.country))
        _text_elem(parent, "location", loc.name, attrs)


def _social(parent: etree._Element, socials: Iterable[SocialInteract]) -> None:
    for soc in socials:
        _require(soc.protocol, "podcast:socialInteract protocol")
        _attrs(
            xml_elem(_p("socialInteract"), parent),
            (
                ("priority", soc.priority),
                ("protocol", soc.protocol),
                ("uri", soc.uri),
                ("accountId", soc.account_id),
                ("accountUrl", soc.account_url),
            ),
        )


def _images(parent: etree._Element, images: Iterable[ImageSize]) -> None:
    """podcast:images (srcset, read by Podverse and older apps) and its successor podcast:image per size."""
    sizes = sorted(images, key=lambda i: -i.width)
    if not sizes:
        return
    xml_elem(_p("images"), parent, srcset=", ".join(f"{i.url} {i.width}w" for i in sizes))
    for i in sizes:
        xml_elem(_p("image"), parent, href=i.url, width=str(i.width))


def _set_child(parent: etree._Element, tag: str) -> etree._Element:
    """The existing `tag` child (feedgen may have written one) or a new one: never a duplicate."""
    found = parent.find(tag)
    return found if found is not None else xml_elem(tag, parent)


# --- Podcasting 2.0 --------------------------------------------------------------------------------------


class Podcast20(BaseExtension):
    """Channel-level `podcast:` tags. Register with `fg.register_extension("podcast20", Podcast20, Podcast20Entry)`.

    Attributes are plain values; None/empty means "leave the tag out".
    """

    def __init__(self) -> None:
        self.guid: str | None = None  #: UUIDv5 of the feed URL, assigned once and kept forever
        self.locked: bool | None = None  #: True -> "yes": other hosts must not import the feed
        self.locked_owner: str | None = None  #: owner email written as locked's `owner` attribute
        self.funding: list[Funding] = []
        self.persons: list[Person] = []
        self.txt: list[Txt] = []
        self.value: Value | None = None
        self.podroll: list[RemoteItem] = []
        self.medium: str | None = None
        self.license: License | None = None
        self.locations: list[Location] = []
        self.trailers: list[Trailer] = []
        self.update_frequency: UpdateFrequency | None = None
        self.social_interacts: list[SocialInteract] = []
        self.blocks: list[Block] = []
        self.images: list[ImageSize] = []
        self.hubs: list[str] = []  #: WebSub hubs, written as <atom:link rel="hub">
        self.podping: bool = False  #: True -> <podcast:podping usesPodping="true"/>

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = _channel(rss)
        if self.guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        if self.locked is not None:
            locked = xml_elem(f"{{{PODCAST_NS}}}locked", channel)
            _attrs(locked, (("owner", self.locked_owner),))
            locked.text = "yes" if self.locked else "no"
        _funding(channel, self.funding)
        _persons(channel, self.persons)
        _txt(channel, self.txt)
        if self.medium:
            xml_elem(_p("medium"), channel).text = self.medium
        _license(channel, self.license)
        _locations(channel, self.locations)
        for block in self.blocks:
            xml_elem(_p("block"), channel, **({"id": block.id} if block.id else {})).text = (
                "yes" if block.blocked else "no"
            )
        freq = self.update_frequency
        if freq is not None:
            attrs: tuple[tuple[str, object], ...] = (
                ("complete", "true" if freq.complete else None),
                ("dtstart", freq.dtstart),
                ("rrule", freq.rrule),
            )
            _text_elem(channel, "updateFrequency", freq.text, attrs)
        for tr in self.trailers:
            _require(tr.url, "podcast:trailer url")
            attrs = (
                ("pubdate", tr.pubdate),
                ("url", tr.url),
                ("length", tr.length),
                ("type", tr.type),
                ("season", tr.season),
            )
            _text_elem(channel, "trailer", tr.title, attrs)
        _images(channel, self.images)
        _value(channel, self.value)
        _social(channel, self.social_interacts)
        if self.podroll:
            podroll = xml_elem(_p("podroll"), channel)
            for remote in self.podroll:
                _require(remote.feed_guid, "podcast:remoteItem feedGuid")
                _attrs(
                    xml_elem(_p("remoteItem"), podroll),
                    (
                        ("feedGuid", remote.feed_guid),
                        ("feedUrl", remote.feed_url),
                        ("itemGuid", remote.item_guid),
                        ("medium", remote.medium),
                        ("title", remote.title),
                    ),
                )
        for hub in self.hubs:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=hub, rel="hub")
        if self.podping:
            xml_elem(f"{{{PODCAST_NS}}}podping", channel, usesPodping="true")
        return rss


class Podcast20Entry(BaseEntryExtension):
    """Item-level `podcast:` tags (season, episode, transcript, chapters, person, funding, txt, license,
    location, soundbite, images, alternateEnclosure, value, socialInteract)."""

    # Class-level defaults, all immutable: an entry costs no allocation for the tags it leaves out (a feed
    # makes one of these per item, and 10,000 items' worth of empty lists kept the garbage collector busy).
    season: int | None = None
    season_name: str | None = None
    episode: float | int | None = None  #: a decimal: 3 or 3.5
    episode_display: str | None = None  #: e.g. "Ch. 3"; at most 32 characters
    transcripts: Sequence[Transcript] = ()
    chapters_url: str | None = None
    chapters_type: str = CHAPTERS_TYPE
    persons: Sequence[Person] = ()
    value: Value | None = None
    funding: Sequence[Funding] = ()
    soundbites: Sequence[Soundbite] = ()
    txt: Sequence[Txt] = ()
    license: License | None = None
    locations: Sequence[Location] = ()
    social_interacts: Sequence[SocialInteract] = ()
    images: Sequence[ImageSize] = ()
    alternate_enclosures: Sequence[AlternateEnclosure] = ()

    def extend_rss(self, item: etree._Element) -> etree._Element:
        # Every item of a feed passes here: each tag is one SubElement call with its attributes (in the
        # order `_attrs` would set them, leaving out the empty ones), and each list is looked at only when
        # it holds something.
        if self.season is not None:
            name = self.season_name
            _sub(item, _SEASON, {"name": name} if name else {}).text = str(int(self.season))
        if self.episode is not None:
            display = self.episode_display
            _sub(item, _EPISODE, {"display": display} if display else {}).text = _number(self.episode)
        for transcript in self.transcripts:
            url, kind = transcript.url, transcript.type
            if not url or url.isspace() or not kind or kind.isspace():  # `_require`'s test, inline
                _require(url, "podcast:transcript url")
                _require(kind, "podcast:transcript type")
            attrib = {"url": url, "type": kind}
            if transcript.language:
                attrib["language"] = transcript.language
            if transcript.rel:
                attrib["rel"] = transcript.rel
            _sub(item, _TRANSCRIPT, attrib)
        if self.chapters_url:
            _sub(item, _CHAPTERS, {"url": self.chapters_url, "type": self.chapters_type})
        if self.persons:
            _persons(item, self.persons)
        if self.funding:
            _funding(item, self.funding)
        if self.txt:
            _txt(item, self.txt)
        if self.license is not None:
            _license(item, self.license)
        if self.locations:
            _locations(item, self.locations)
        for bite in self.soundbites:
            if bite.start < 0 or bite.duration <= 0:
                raise FeedError(
                    f"soundbite at {bite.start} s lasts {bite.duration} s", field="podcast:soundbite"
                )
            elem = xml_elem(
                _p("soundbite"), item, startTime=_number(bite.start), duration=_number(bite.duration)
            )
            elem.text = bite.title
        if self.images:
            _images(item, self.images)
        for alt in self.alternate_enclosures:
            _alternate(item, alt)
        if self.value is not None:
            _value(item, self.value)
        if self.social_interacts:
            _social(item, self.social_interacts)
        return item


def _alternate(item: etree._Element, alt: AlternateEnclosure) -> None:
    if not alt.sources:
        raise FeedError("podcast:alternateEnclosure has no source", field="podcast:alternateEnclosure")
    elem = xml_elem(_p("alternateEnclosure"), item)
    _attrs(
        elem,
        (
            ("type", alt.type),
            ("length", alt.length),
            ("bitrate", None if alt.bitrate is None else _number(alt.bitrate)),
            ("codecs", alt.codecs),
            ("title", alt.title),
            ("default", "true" if alt.default else None),
        ),
    )
    for src in alt.sources:
        _require(src.uri, "podcast:source uri")
        _attrs(xml_elem(_p("source"), elem), (("uri", src.uri), ("contentType", src.content_type)))
    if alt.integrity:
        xml_elem(_p("integrity"), elem, type="sri", value=alt.integrity)


# --- Podlove Simple Chapters --------------------------------------------------------------------------------


class Psc(BaseExtension):
    """Declares the `psc:` namespace on the feed; the chapters themselves live on `PscEntry`.

    Register with `fg.register_extension("psc", Psc, PscEntry)`.
    """

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PscEntry(BaseEntryExtension):
    """`<psc:chapters version="1.2">` with one `<psc:chapter>` per chapter, inside the item (Spotify reads it)."""

    chapters: Sequence[PscChapter] = ()

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if not self.chapters:
            return item
        starts = [c.start for c in self.chapters]
        if starts != sorted(starts):
            raise FeedError("chapters are not in ascending order of start time", field="psc:chapters")
        wrapper = _sub(item, _PSC_CHAPTERS, {"version": PSC_VERSION})
        for chapter in self.chapters:
            title = chapter.title
            if not title or title.isspace():
                _require(title, "psc:chapter title")
            attrib = {"start": npt(chapter.start), "title": title}
            if chapter.href:
                attrib["href"] = chapter.href
            if chapter.image:
                attrib["image"] = chapter.image
            _sub(wrapper, _PSC_CHAPTER, attrib)
        return item


# --- RFC 5005 feed history -------------------------------------------------------------------------------------


class FeedHistory(BaseExtension):
    """RFC 5005 paging: `<atom:link rel="prev-archive" …>` links and `<fh:archive/>` (feedgen's RSS writes
    only the self link). With no links and no archive flag it writes nothing, not even the namespace.
    """

    def __init__(self) -> None:
        self.links: list[
            tuple[str, str]
        ] = []  #: (rel, href): first, last, current, prev-archive, next-archive
        self.archive: bool = False  #: this document is an archive page that never changes

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self.archive else {}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        channel = _channel(rss)
        for rel, href in self.links:
            _require(href, f"atom:link rel={rel}")
            xml_elem(f"{{{ATOM_NS}}}link", channel, rel=rel, type="application/rss+xml", href=href)
        if self.archive:
            xml_elem(f"{{{FH_NS}}}archive", channel)
        return rss


class FeedHistoryEntry(BaseEntryExtension):
    """Nothing per item: RFC 5005 is channel-level only (feedgen wants an entry class for every extension;
    this one keeps BaseEntryExtension's extend_rss, which writes nothing, so `new_entry` leaves it out)."""


# --- itunes: tags feedgen's own podcast extension gets wrong --------------------------------------------------


class ItunesExtra(BaseExtension):
    """The channel `itunes:` tags feedgen's `podcast` extension writes wrong; register it *after* that one.

    - `explicit`: feedgen only knows "yes"/"no"/"clean"; Apple's spec wants "true"/"false".
    - `image`: feedgen silently drops a channel image URL that doesn't end in ".jpg"/".png" (".jpeg", "?v=2").

    Leave `fg.podcast.itunes_explicit()` / `itunes_image()` unset and set these instead. If feedgen did write
    the tag anyway, this replaces its value rather than adding a second element.
    """

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.image: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def extend_rss(self, rss: etree._Element) -> etree._Element:
        _write_itunes(_channel(rss), self.explicit, self.image)
        return rss


class ItunesExtraEntry(BaseEntryExtension):
    """Item-level `itunes:explicit` (true/false) and `itunes:image` (feedgen raises on ".jpeg" or a query)."""

    explicit: bool | None = None
    image: str | None = None

    def extend_rss(self, item: etree._Element) -> etree._Element:
        _write_itunes(item, self.explicit, self.image)
        return item


_ITUNES_IMAGE = f"{{{ITUNES_NS}}}image"
_ITUNES_EXPLICIT = f"{{{ITUNES_NS}}}explicit"


def _write_itunes(parent: etree._Element, explicit: bool | None, image: str | None) -> None:
    if image:
        _set_child(parent, _ITUNES_IMAGE).set("href", image)
    if explicit is not None:
        _set_child(parent, _ITUNES_EXPLICIT).text = "true" if explicit else "false"


#: Registry key -> (channel class, entry class), in the order they must be registered.
EXTENSIONS: dict[str, tuple[type[BaseExtension], type[BaseEntryExtension]]] = {
    "itunes_extra": (ItunesExtra, ItunesExtraEntry),
    "podcast20": (Podcast20, Podcast20Entry),
    "psc": (Psc, PscEntry),
    "history": (FeedHistory, FeedHistoryEntry),
}


def install(fg: FeedGenerator) -> None:
    """Load feedgen's own `podcast` (iTunes) extension, then ours, in the order that makes the fixes win.

    After this, `fg.podcast`, `fg.itunes_extra`, `fg.podcast20`, `fg.psc` and `fg.history` exist on the feed, and each
    entry added later gets `entry.podcast`, `entry.itunes_extra`, `entry.podcast20` and `entry.psc`.
    """
    fg.load_extension("podcast")
    for key, (channel_cls, entry_cls) in EXTENSIONS.items():
        fg.register_extension(key, channel_cls, entry_cls)


def new_entry() -> FeedEntry:
    """A FeedEntry with the entry extensions `install` gives a feed's entries, registered in the same order
    (feedgen's own `podcast` first), for an item rendered on its own with `FeedEntry.rss_entry()`. An entry
    extension whose extend_rss is feedgen's do-nothing one is not registered: it would only cost time."""
    entry = FeedEntry()
    entry.register_extension("podcast", PodcastEntryExtension)
    for key, (_, entry_cls) in EXTENSIONS.items():
        if entry_cls.extend_rss is not BaseEntryExtension.extend_rss:  # one that writes nothing is left out
            entry.register_extension(key, entry_cls)
    return entry
