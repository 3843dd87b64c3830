"""The RSS feed: show + built episodes -> feed.xml bytes, through feedgen and our extensions."""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedgen.feed import FeedGenerator
from lxml.etree import CDATA

from pipeline import __version__, feed_ext, model, notes, urls
from pipeline.artifacts import BuiltEpisode
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


def build_feed(show: model.Show, public: Sequence[BuiltEpisode], *, artwork_url: str) -> bytes:
    """The feed document. `public` is newest first; the same input gives the same bytes."""
    fg = FeedGenerator()
    feed_ext.install(fg)
    fg.title(show.title)
    # feedgen's RSS <link> is the last link set: the self link first, the website last.
    fg.link(href=show.feed_url, rel="self", type="application/rss+xml")
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
        fg._FeedGenerator__rss_lastBuildDate = None  # type: ignore[attr-defined]
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

    for built in public:
        _add_item(fg, show, built)
    try:
        return fg.rss_str(pretty=True, xml_declaration=True, encoding="UTF-8")
    except ValueError as err:  # lxml refuses text XML cannot carry; say where it is, not a traceback
        raise _unwritable(show, public, err) from None


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


def _add_item(fg: FeedGenerator, show: model.Show, built: BuiltEpisode) -> None:
    ep = built.episode
    description, content = item_description(built)
    fe = fg.add_entry(order="append")
    fe.title(ep.title)
    fe.link(href=built.page_url)
    fe.guid(built.guid, permalink=False)
    fe.pubDate(ep.date)
    fe.description(CDATA(description))
    fe.content(content, type="CDATA")
    fe.enclosure(built.audio.url, str(built.audio.size), built.audio.mime)

    it = fe.podcast
    it.itunes_duration(hms(built.audio.duration))
    it.itunes_summary(built.summary)
    it.itunes_episode_type(ep.type)
    if ep.number is not None:
        it.itunes_episode(ep.number)
    if ep.season is not None:
        it.itunes_season(ep.season)
    fe.itunes_extra.explicit = show.explicit if ep.explicit is None else ep.explicit
    if ep.image is not None:
        fe.itunes_extra.image = built.image_url

    p20 = fe.podcast20
    p20.season = ep.season
    p20.episode = ep.number
    p20.transcripts = [
        feed_ext.Transcript(url=t.url, type=t.mime, language=show.language, rel="captions")
        for t in built.transcripts
    ]
    p20.chapters_url = built.chapters_url
    p20.persons = [_person(p) for p in ep.persons]

    images = dict(built.chapter_images)
    fe.psc.chapters = [
        feed_ext.PscChapter(
            start=c.start, title=c.title, href=c.url, image=images.get(c.image) if c.image else None
        )
        for c in ep.chapters
    ]


def render(show: model.Show, public: Sequence[BuiltEpisode], *, artwork_url: str) -> list[Output]:
    """feed.xml as a build output (uploaded last, as one PUT)."""
    return [Output(urls.FEED_KEY, build_feed(show, public, artwork_url=artwork_url), Kind.FEED, FEED_MIME)]
