"""feedgen extensions for the tags feedgen lacks or writes wrong: podcast: (Podcasting 2.0), psc:, itunes fixes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree

from pipeline.errors import FeedError
from pipeline.ids import ATOM as ATOM_NS
from pipeline.ids import ITUNES as ITUNES_NS
from pipeline.ids import PODCAST as PODCAST_NS
from pipeline.ids import PSC as PSC_NS

CHAPTERS_TYPE = "application/json+chapters"
PSC_VERSION = "1.2"


# --- plain values the extensions take (no knowledge of our model) -------------------------------------


@dataclass(frozen=True)
class Funding:
    """`<podcast:funding url="…">text</podcast:funding>`; text is at most 128 characters."""

    url: str
    text: str = ""


@dataclass(frozen=True)
class Person:
    """`<podcast:person role group href img>name</podcast:person>`; role/group from the P2.0 taxonomy."""

    name: str
    role: str | None = None
    group: str | None = None
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class Txt:
    """`<podcast:txt purpose="…">text</podcast:txt>` (Apple reads purpose="applepodcastsverify")."""

    text: str
    purpose: str | None = None


@dataclass(frozen=True)
class Transcript:
    """`<podcast:transcript url type language rel/>`; rel="captions" only for timed formats (VTT, SRT)."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


@dataclass(frozen=True)
class PscChapter:
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
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _persons(parent: etree._Element, persons: Iterable[Person]) -> None:
    for person in persons:
        _require(person.name, "podcast:person")
        elem = xml_elem(f"{{{PODCAST_NS}}}person", parent)
        _attrs(
            elem, (("role", person.role), ("group", person.group), ("href", person.href), ("img", person.img))
        )
        elem.text = person.name


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
        for fund in self.funding:
            _require(fund.url, "podcast:funding url")
            elem = xml_elem(f"{{{PODCAST_NS}}}funding", channel, url=fund.url)
            elem.text = fund.text
        _persons(channel, self.persons)
        for txt in self.txt:
            _require(txt.text, "podcast:txt")
            elem = xml_elem(f"{{{PODCAST_NS}}}txt", channel)
            _attrs(elem, (("purpose", txt.purpose),))
            elem.text = txt.text
        for hub in self.hubs:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=hub, rel="hub")
        if self.podping:
            xml_elem(f"{{{PODCAST_NS}}}podping", channel, usesPodping="true")
        return rss


class Podcast20Entry(BaseEntryExtension):
    """Item-level `podcast:` tags (season, episode, transcript, chapters, person)."""

    def __init__(self) -> None:
        self.season: int | None = None
        self.season_name: str | None = None
        self.episode: float | int | None = None  #: a decimal: 3 or 3.5
        self.episode_display: str | None = None  #: e.g. "Ch. 3"; at most 32 characters
        self.transcripts: list[Transcript] = []
        self.chapters_url: str | None = None
        self.chapters_type: str = CHAPTERS_TYPE
        self.persons: list[Person] = []

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if self.season is not None:
            season = xml_elem(f"{{{PODCAST_NS}}}season", item)
            _attrs(season, (("name", self.season_name),))
            season.text = str(int(self.season))
        if self.episode is not None:
            episode = xml_elem(f"{{{PODCAST_NS}}}episode", item)
            _attrs(episode, (("display", self.episode_display),))
            episode.text = _number(self.episode)
        for transcript in self.transcripts:
            _require(transcript.url, "podcast:transcript url")
            _require(transcript.type, "podcast:transcript type")
            elem = xml_elem(f"{{{PODCAST_NS}}}transcript", item)
            _attrs(
                elem,
                (
                    ("url", transcript.url),
                    ("type", transcript.type),
                    ("language", transcript.language),
                    ("rel", transcript.rel),
                ),
            )
        if self.chapters_url:
            xml_elem(f"{{{PODCAST_NS}}}chapters", item, url=self.chapters_url, type=self.chapters_type)
        _persons(item, self.persons)
        return item


# --- Podlove Simple Chapters --------------------------------------------------------------------------------


class Psc(BaseExtension):
    """Declares the `psc:` namespace on the feed; the chapters themselves live on `PscEntry`.

    Register with `fg.register_extension("psc", Psc, PscEntry)`.
    """

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PscEntry(BaseEntryExtension):
    """`<psc:chapters version="1.2">` with one `<psc:chapter>` per chapter, inside the item (Spotify reads it)."""

    def __init__(self) -> None:
        self.chapters: list[PscChapter] = []

    def extend_rss(self, item: etree._Element) -> etree._Element:
        if not self.chapters:
            return item
        starts = [c.start for c in self.chapters]
        if starts != sorted(starts):
            raise FeedError("chapters are not in ascending order of start time", field="psc:chapters")
        wrapper = xml_elem(f"{{{PSC_NS}}}chapters", item, version=PSC_VERSION)
        for chapter in self.chapters:
            _require(chapter.title, "psc:chapter title")
            elem = xml_elem(f"{{{PSC_NS}}}chapter", wrapper)
            _attrs(
                elem,
                (
                    ("start", npt(chapter.start)),
                    ("title", chapter.title),
                    ("href", chapter.href),
                    ("image", chapter.image),
                ),
            )
        return item


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

    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.image: str | None = None

    def extend_rss(self, item: etree._Element) -> etree._Element:
        _write_itunes(item, self.explicit, self.image)
        return item


def _write_itunes(parent: etree._Element, explicit: bool | None, image: str | None) -> None:
    if image:
        _set_child(parent, f"{{{ITUNES_NS}}}image").set("href", image)
    if explicit is not None:
        _set_child(parent, f"{{{ITUNES_NS}}}explicit").text = "true" if explicit else "false"


#: Registry key -> (channel class, entry class), in the order they must be registered.
EXTENSIONS: dict[str, tuple[type[BaseExtension], type[BaseEntryExtension]]] = {
    "itunes_extra": (ItunesExtra, ItunesExtraEntry),
    "podcast20": (Podcast20, Podcast20Entry),
    "psc": (Psc, PscEntry),
}


def install(fg: FeedGenerator) -> None:
    """Load feedgen's own `podcast` (iTunes) extension, then ours, in the order that makes the fixes win.

    After this, `fg.podcast`, `fg.itunes_extra`, `fg.podcast20` and `fg.psc` exist on the feed, and each
    entry added later gets `entry.podcast`, `entry.itunes_extra`, `entry.podcast20` and `entry.psc`.
    """
    fg.load_extension("podcast")
    for key, (channel_cls, entry_cls) in EXTENSIONS.items():
        fg.register_extension(key, channel_cls, entry_cls)
