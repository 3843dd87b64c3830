"""The RSS feed: show + built episodes -> feed.xml bytes, through feedgen and our extensions."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from email.utils import format_datetime

from feedgen.feed import FeedGenerator
from lxml import etree
from lxml.etree import CDATA

from pipeline import __version__, feed_ext, model, notes, urls
from pipeline.artifacts import BuiltEpisode, BuiltImage
from pipeline.cache import CACHE_VERSION, FeedFragments, library_versions
from pipeline.errors import FeedError
from pipeline.manifest import Kind, Output

FEED_MIME = "application/rss+xml; charset=utf-8"
DESCRIPTION_LIMIT = 4000  # bytes: Apple's limit for <description> (notes.feed_text keeps to it)
GENERATOR = f"podcast-pipeline {__version__}"


def hms(seconds: float) -> str:
    """itunes:duration as HH:MM:SS (whole seconds, rounded)."""
    total = round(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def item_description(built: BuiltEpisode) -> tuple[str, str]:
    """(description, content:encoded): the summary-sized text apps list, and the full notes (clean headings)."""
    return built.feed_text.description, built.feed_text.content


def build_feed(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    *,
    artwork_url: str,
    images: Sequence[BuiltImage] = (),
    fragments: FeedFragments | None = None,
) -> bytes:
    """The feed document. `public` is newest first; the same input gives the same bytes.

    `images` are the show artwork's sizes (podcast:images); itunes:image stays the artwork itself. With
    `fragments` (cache.FeedFragments), items whose inputs did not change are reused, not rendered again.
    """
    return _document(show, public, artwork_url=artwork_url, images=images, fragments=fragments)


def _document(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    *,
    artwork_url: str,
    self_url: str | None = None,
    history: Sequence[tuple[str, str]] = (),
    archive: bool = False,
    images: Sequence[BuiltImage] = (),
    fragments: FeedFragments | None = None,
) -> bytes:
    """One RSS document: feed.xml, or (with `archive`) an RFC 5005 archive page holding older items."""
    fg = FeedGenerator()
    feed_ext.install(fg)
    fg.title(show.title)
    # feedgen's RSS <link> is the last link set: the self link first, the website last.
    fg.link(href=self_url or show.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.url, rel="alternate")
    fg.description(notes.plain_text(notes.render_inline(show.description)))
    fg.language(show.language)
    if show.copyright:
        fg.copyright(show.copyright)
    fg.generator(GENERATOR)
    fg.docs("https://www.rssboard.org/rss-specification")
    newest = public[0].episode.date if public else None
    if newest is not None:
        # From the content, never the clock: an unchanged show builds a byte-identical feed.
        fg.lastBuildDate(newest)
        fg.pubDate(newest)
    else:
        # Nothing published yet, so there is no content date. feedgen starts lastBuildDate at the clock and
        # `lastBuildDate(None)` only reads it back; clearing its field is the one way to leave the tag out.
        fg._FeedGenerator__rss_lastBuildDate = None
    fg.image(url=artwork_url, title=show.title, link=show.url)

    it = fg.podcast
    it.itunes_author(show.author)
    it.itunes_owner(name=show.owner.name, email=show.owner.email)
    it.itunes_category([{"cat": c.top, **({"sub": c.sub} if c.sub else {})} for c in show.categories])
    it.itunes_summary(notes.plain_text(notes.render_inline(show.description)))
    it.itunes_type(show.type)
    # moved away: apps follow new_feed_url; moved in (imported): the feed announces its own new URL
    if new_feed_url := show.new_feed_url or (show.feed_url if show.moved_from else None):
        it.itunes_new_feed_url(new_feed_url)
    fg.itunes_extra.explicit = show.explicit
    fg.itunes_extra.image = artwork_url

    p20 = fg.podcast20
    p20.guid = urls.show_guid(show)
    p20.locked = show.locked
    p20.locked_owner = show.owner.email
    p20.funding = [feed_ext.Funding(url=f.url, text=f.text) for f in show.funding]
    p20.persons = [_person(p) for p in show.persons]
    _podcast20_channel(p20, show, () if archive else public)
    p20.images = _image_sizes(images)
    fg.history.links, fg.history.archive = list(history), archive
    p20.hubs, p20.podping = list(show.notify.websub), show.notify.podping

    if fragments is not None:
        return _with_fragments(fg, show, public, fragments)
    return _serialise(fg, show, public, public)


def _serialise(
    fg: FeedGenerator, show: model.Show, public: Sequence[BuiltEpisode], items: Sequence[BuiltEpisode]
) -> bytes:
    """The document: `fg`'s channel, then one <item> per episode of `items` (`public` names the culprit of
    an error). The same bytes as `fg.rss_str(pretty=True)` with those items added as entries.

    feedgen keeps every FeedEntry (each with its five extension objects) until rss_str writes them all;
    for 10,000 items that is ~230,000 live objects, and the full garbage-collector passes they set off
    cost a third of the build. So each item is made by feedgen alone (`FeedEntry.rss_entry`, the call
    rss_str makes) and appended to the channel `_create_rss` builds (rss_str's own first step), and its
    objects go at once.
    """
    try:
        rss, doc = fg._create_rss()
        channel = rss[0]
        for built in items:
            channel.append(_item(show, built))
        data: bytes = etree.tostring(doc, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    except ValueError as err:  # lxml refuses text XML cannot carry; say where it is, not a traceback
        raise _unwritable(show, public, err) from None
    return data


#: Where items start in the pretty-printed document (feedgen writes them last in the channel, indented 4).
_ITEM_START = b"\n    <item>"
_CHANNEL_END = b"  </channel>\n"
#: What an item's bytes depend on besides its inputs: this code's declared versions and its libraries'.
_FRAGMENT_CODE = " ".join([GENERATOR, CACHE_VERSION, *library_versions("feedgen", "lxml", "cmarkgfm", "nh3")])


def _image_sizes(images: Sequence[BuiltImage]) -> list[feed_ext.ImageSize]:
    """podcast:images entries, or none when the sizes are not served over https (Podcasting 2.0 requires it
    of every URL in a podcast: tag, so a site at an http address, e.g. an imported show, goes without)."""
    if not all(i.url.startswith("https://") for i in images):
        return []
    return [feed_ext.ImageSize(url=i.url, width=i.width) for i in images]


def item_keys(show: model.Show, public: Sequence[BuiltEpisode]) -> list[str]:
    """One key per item: a digest of everything its <item> is made from. That is the show (every field),
    the build's record of the episode (every field, its episode's included: `BuiltEpisode.fingerprint`) and
    this code's versions, so a field added anywhere is in the key with nobody listing it. Each fingerprint
    is worked out once per object, so an unchanged show's keys cost a hash each, not a dump."""
    base = hashlib.sha256(f"{_FRAGMENT_CODE}\0{show.fingerprint}\0".encode()).digest()
    return [hashlib.sha256(base + b.fingerprint.encode()).hexdigest() for b in public]


def _cut(data: bytes, n: int) -> tuple[bytes, list[bytes], bytes] | None:
    """A serialised document as (channel up to its items, each of its `n` items, the rest), every item as it
    appears in any whole feed; None when an item's own text holds the marker an item starts with."""
    end = data.rindex(_CHANNEL_END)
    if data.count(_ITEM_START) != n:
        return None
    if n == 0:
        return data[:end], [], data[end:]
    starts = [data.index(_ITEM_START)]
    while len(starts) < n:
        starts.append(data.index(_ITEM_START, starts[-1] + 1))
    items = [data[a + 1 : b + 1] for a, b in zip(starts, [*starts[1:], end - 1], strict=True)]
    return data[: starts[0] + 1], items, data[end:]


def _with_fragments(
    fg: FeedGenerator, show: model.Show, public: Sequence[BuiltEpisode], fragments: FeedFragments
) -> bytes:
    """The same bytes as a whole render, with unchanged items taken from `fragments` (only new ones rendered,
    in the same document as the channel, which is then cut apart)."""
    keys = item_keys(show, public)
    found = [fragments.get(k) for k in keys]
    missing = [i for i, f in enumerate(found) if f is None]
    parts = _cut(_serialise(fg, show, public, [public[i] for i in missing]), len(missing))
    if parts is None:  # an item's text holds the marker: the whole feed, rendered, and nothing kept
        return _serialise(fg, show, public, public)
    head, made, tail = parts
    for i, frag in zip(missing, made, strict=True):
        fragments.put(keys[i], frag)
        found[i] = frag
    return b"".join([head, *(f for f in found if f is not None), tail])


#: Characters no XML 1.0 document may contain (C0 controls other than tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _unwritable(show: model.Show, public: Sequence[BuiltEpisode], err: ValueError) -> FeedError:
    """The first show or episode field holding a character XML cannot carry, as a one-line error."""
    fields: list[tuple[str, str, str | None]] = [
        (model.SHOW_FILE, name, value)
        for name, value in (
            ("title", show.title),
            ("description", show.description),
            ("author", show.author),
            ("copyright", show.copyright),
            ("owner.name", show.owner.name),
        )
    ]
    for built in public:
        ep = built.episode
        where = model.show_rel(show.root, ep.source)
        fields += [(where, "title", ep.title), (where, "summary", ep.summary), (where, "notes", ep.notes)]
        fields += [(where, f"persons[{i}]", p.name) for i, p in enumerate(ep.persons)]
        fields += [(where, f"chapters[{i}]", c.title) for i, c in enumerate(ep.chapters)]
    for file, field, value in fields:
        found = _NOT_XML.search(value or "")
        if found:
            return FeedError(
                f"contains the control character {found.group()!r}, which a feed cannot carry",
                file=file,
                field=field,
                hint="delete it; such characters are often pasted in invisibly",
            )
    return FeedError(f"the feed cannot be written: {err}")


def _person(p: model.Person) -> feed_ext.Person:
    return feed_ext.Person(name=p.name, role=p.role, group=p.group, href=p.href, img=p.img)


def _item(show: model.Show, built: BuiltEpisode) -> etree._Element:
    """One <item>, made by feedgen and our extensions. An extension attribute is set only when the episode
    has something for it: the entry extensions default to empty, and empty lists per item were most of
    the objects a big feed made."""
    ep = built.episode
    text = built.feed_text
    fe = feed_ext.new_entry()
    fe.title(ep.title)
    fe.link(href=built.page_url)
    fe.guid(built.guid, permalink=False)
    fe.pubDate(ep.date)
    fe.description(CDATA(text.description))
    fe.content(text.content, type="CDATA")
    audio = built.audio
    enclosure = audio.url if audio.external else urls.enclosure_url(show, audio.url)
    fe.enclosure(enclosure, str(audio.size), audio.mime)

    it = fe.podcast
    it.itunes_duration(hms(audio.duration))
    it.itunes_summary(built.summary)
    it.itunes_episode_type(ep.type)
    if ep.number is not None:
        it.itunes_episode(ep.number)
    if ep.season is not None:
        it.itunes_season(ep.season)
    extra = fe.itunes_extra
    extra.explicit = show.explicit if ep.explicit is None else ep.explicit
    if ep.image is not None:
        extra.image = built.image_url

    p20 = fe.podcast20
    p20.season = ep.season
    p20.episode = ep.number
    if built.transcripts:
        language = show.language
        p20.transcripts = [
            feed_ext.Transcript(t.url, t.mime, language, "captions") for t in built.transcripts
        ]
    p20.chapters_url = built.chapters_url
    if ep.persons:
        p20.persons = [feed_ext.Person(p.name, p.role, p.group, p.href, p.img) for p in ep.persons]
    _podcast20_item(p20, built)

    if ep.chapters:
        images = dict(built.chapter_images) if built.chapter_images else {}
        fe.psc.chapters = [
            feed_ext.PscChapter(c.start, c.title, c.url, images.get(c.image) if c.image else None)
            for c in ep.chapters
        ]
    return fe.rss_entry()


# --------------------------------------------------------------------------- Podcasting 2.0 (issue 13)


def _value(v: model.Value | None) -> feed_ext.Value | None:
    if v is None:
        return None
    recipients = tuple(
        feed_ext.ValueRecipient(
            address=r.address,
            split=r.split,
            type=r.type,
            name=r.name,
            custom_key=r.custom_key,
            custom_value=r.custom_value,
            fee=r.fee,
        )
        for r in v.recipients
    )
    return feed_ext.Value(recipients=recipients, type=v.type, method=v.method, suggested=v.suggested)


def _location(loc: model.Location | None) -> list[feed_ext.Location]:
    if loc is None:
        return []
    return [feed_ext.Location(name=loc.name, geo=loc.geo, osm=loc.osm, country=loc.country, rel=loc.rel)]


def _license(lic: model.License | None) -> feed_ext.License | None:
    return None if lic is None else feed_ext.License(identifier=lic.identifier, url=lic.url)


def _social(socials: Sequence[model.SocialInteract]) -> list[feed_ext.SocialInteract]:
    return [
        feed_ext.SocialInteract(
            protocol=s.protocol,
            uri=s.uri,
            account_id=s.account_id,
            account_url=s.account_url,
            priority=s.priority,
        )
        for s in socials
    ]


def trailers(show: model.Show, public: Sequence[BuiltEpisode]) -> list[feed_ext.Trailer]:
    """podcast:trailer entries: the show's explicit list, then every public episode of type trailer."""
    out = [
        feed_ext.Trailer(
            title=t.title,
            url=t.url,
            pubdate=format_datetime(t.date),
            length=t.length,
            type=t.type,
            season=t.season,
        )
        for t in show.trailer
    ]
    for built in public:
        ep = built.episode
        # podcast: URLs must be https; an imported episode still on an old http host gets no trailer tag
        if ep.type == "trailer" and built.audio.url.startswith("https://"):
            out.append(
                feed_ext.Trailer(
                    title=ep.title,
                    url=built.audio.url,
                    pubdate=format_datetime(ep.date),
                    length=built.audio.size,
                    type=built.audio.mime,
                    season=ep.season,
                )
            )
    return out


def _podcast20_channel(p20: feed_ext.Podcast20, show: model.Show, public: Sequence[BuiltEpisode]) -> None:
    """The channel's Podcasting 2.0 tags from show.yaml (txt, value, podroll, medium, license, ...)."""
    p20.txt = [feed_ext.Txt(text=t.text, purpose=t.purpose) for t in show.txt]
    p20.value = _value(show.value)
    p20.podroll = [
        feed_ext.RemoteItem(feed_guid=r.feed_guid, feed_url=r.feed_url, title=r.title) for r in show.podroll
    ]
    p20.medium = show.medium
    p20.license = _license(show.license)
    p20.locations = _location(show.location)
    p20.trailers = trailers(show, public)
    freq = show.update_frequency
    if freq is not None:
        p20.update_frequency = feed_ext.UpdateFrequency(
            text=freq.text,
            rrule=freq.rrule,
            complete=freq.complete,
            dtstart=freq.dtstart.isoformat() if freq.dtstart else None,
        )
    p20.social_interacts = _social(show.social_interact)
    if show.block is True:
        p20.blocks = [feed_ext.Block()]
    elif isinstance(show.block, tuple):
        p20.blocks = [feed_ext.Block(id=slug) for slug in show.block]


def _podcast20_item(p20: feed_ext.Podcast20Entry, built: BuiltEpisode) -> None:
    """An item's Podcasting 2.0 tags from its front matter; its value block replaces the show's."""
    ep = built.episode
    p20.season_name = ep.season_name
    p20.episode_display = ep.episode_display
    if ep.value is not None:
        p20.value = _value(ep.value)
    if ep.license is not None:
        p20.license = _license(ep.license)
    if ep.funding:
        p20.funding = tuple(feed_ext.Funding(url=f.url, text=f.text) for f in ep.funding)
    if ep.soundbites:
        p20.soundbites = tuple(
            feed_ext.Soundbite(start=b.start, duration=b.duration, title=b.title or "") for b in ep.soundbites
        )
    if ep.txt:
        p20.txt = tuple(feed_ext.Txt(text=t.text, purpose=t.purpose) for t in ep.txt)
    if ep.location is not None:
        p20.locations = _location(ep.location)
    if ep.social_interact:
        p20.social_interacts = _social(ep.social_interact)
    if built.images:
        p20.images = _image_sizes(built.images)
    if built.alternates:
        p20.alternate_enclosures = tuple(
            feed_ext.AlternateEnclosure(
                type=a.mime,
                length=a.size,
                sources=(feed_ext.AlternateSource(uri=a.url, content_type=a.mime),),
                bitrate=a.bitrate,
                codecs=a.codecs,
                title=a.title,
                default=a.default,
                integrity=a.integrity,
            )
            for a in built.alternates
        )


# --------------------------------------------------------------------------- RFC 5005 archives

#: Stands in for an archive page's own URL while its content hash (and so its name) is worked out.
_SELF_PLACEHOLDER = "archive/0000000000000000-self.xml"


def archive_pages(
    public: Sequence[BuiltEpisode], size: int
) -> tuple[list[list[BuiltEpisode]], list[BuiltEpisode]]:
    """(archive pages oldest first, feed.xml's items), every list newest first.

    Pages are `size` items counted from the oldest episode and only full pages are archived, so a new
    episode never moves an item between pages: feed.xml holds the newest `size` to `2 * size - 1`.
    """
    oldest_first = list(reversed(public))
    full = max(0, (len(oldest_first) - size) // size)
    pages = [oldest_first[i * size : (i + 1) * size][::-1] for i in range(full)]
    return pages, oldest_first[full * size :][::-1]


def _archives(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    *,
    artwork_url: str,
    size: int,
    images: Sequence[BuiltImage] = (),
    fragments: FeedFragments | None = None,
) -> list[Output]:
    pages, current = archive_pages(public, size)
    outputs: list[Output] = []
    placeholder = urls.url(show, _SELF_PLACEHOLDER)
    first = prev = ""
    for page in pages:
        links = [("first", first or placeholder), ("last", show.feed_url), ("current", show.feed_url)]
        if prev:
            links.append(("prev-archive", prev))
        draft = _document(
            show,
            page,
            artwork_url=artwork_url,
            self_url=placeholder,
            history=links,
            archive=True,
            images=images,
        )
        key = urls.archive_key(hashlib.sha256(draft).hexdigest())
        url = urls.url(show, key)
        data = draft.replace(placeholder.encode(), url.encode())
        outputs.append(Output(key, data, Kind.ASSET, FEED_MIME, immutable=True))
        first, prev = first or url, url
    links = [("first", first), ("last", show.feed_url), ("prev-archive", prev)] if pages else []
    feed = _document(
        show, current, artwork_url=artwork_url, history=links, images=images, fragments=fragments
    )
    return [*outputs, Output(urls.FEED_KEY, feed, Kind.FEED, FEED_MIME)]


def render(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    *,
    artwork_url: str,
    images: Sequence[BuiltImage] = (),
    fragments: FeedFragments | None = None,
) -> list[Output]:
    """feed.xml as a build output (uploaded last, as one PUT), and its archive pages when the show pages.

    `fragments` (cache.FeedFragments) lets unchanged items be reused; the bytes are the same either way.
    """
    if show.feed.archive_after:
        size = show.feed.archive_after
        return _archives(show, public, artwork_url=artwork_url, size=size, images=images, fragments=fragments)
    feed = build_feed(show, public, artwork_url=artwork_url, images=images, fragments=fragments)
    return [Output(urls.FEED_KEY, feed, Kind.FEED, FEED_MIME)]
