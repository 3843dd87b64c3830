"""The feedgen extensions: real feeds built with feedgen, parsed with lxml and read by real podcast parsers."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import feedparser
import podcastparser
import pytest
from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from pipeline import feed_ext as fx
from pipeline.errors import FeedError
from pipeline.validate import podcast_guid, validate

NS = {"itunes": fx.ITUNES_NS, "podcast": fx.PODCAST_NS, "psc": fx.PSC_NS}
FEED_URL = "https://podcast.example.com/feed.xml"
WHEN = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)


def new_feed() -> FeedGenerator:
    fg = FeedGenerator()
    fx.install(fg)
    fg.title("Knees and Trails")
    fg.link(href="https://podcast.example.com/", rel="alternate")
    fg.link(href=FEED_URL, rel="self", type="application/rss+xml")
    fg.description("A show about running without pain.")
    fg.language("en")
    fg.lastBuildDate(WHEN)
    return fg


def new_entry(fg: FeedGenerator, n: int = 1) -> FeedEntry:
    fe = fg.add_entry(order="append")
    fe.title(f"Episode title {n}")
    fe.id(f"knees-and-trails-{n}")
    fe.description("Notes.")
    fe.enclosure(f"https://media.example.com/episodes/{n}.mp3", "4823190", "audio/mpeg")
    fe.pubDate(WHEN)
    return fe


def parse(fg: FeedGenerator) -> etree._Element:
    return etree.fromstring(fg.rss_str())


def xp(root: etree._Element, path: str) -> list:
    return root.xpath(path, namespaces=NS)


# --- Podcasting 2.0 ---------------------------------------------------------------------------------------


def test_channel_podcast_tags() -> None:
    fg = new_feed()
    p = fg.podcast20
    p.guid = podcast_guid(FEED_URL)
    p.locked, p.locked_owner = True, "jane@example.com"
    p.funding = [
        fx.Funding("https://podcast.example.com/support", "Support the show"),
        fx.Funding("https://pay.example.com/jane"),
    ]
    p.persons = [
        fx.Person(
            "Jane Runner",
            role="host",
            group="cast",
            href="https://example.com/jane",
            img="https://example.com/jane.jpg",
        )
    ]
    p.txt = [fx.Txt("c0ffee-1234", purpose="applepodcastsverify"), fx.Txt("plain note")]
    root = parse(fg)
    assert xp(root, "/rss/channel/podcast:guid/text()") == [podcast_guid(FEED_URL)]
    (locked,) = xp(root, "/rss/channel/podcast:locked")
    assert locked.text == "yes" and locked.get("owner") == "jane@example.com"
    funding = xp(root, "/rss/channel/podcast:funding")
    assert [(f.get("url"), f.text) for f in funding] == [
        ("https://podcast.example.com/support", "Support the show"),
        ("https://pay.example.com/jane", None),
    ]
    (person,) = xp(root, "/rss/channel/podcast:person")
    assert person.text == "Jane Runner"
    assert list(person.attrib.items()) == [
        ("role", "host"),
        ("group", "cast"),
        ("href", "https://example.com/jane"),
        ("img", "https://example.com/jane.jpg"),
    ]
    txt = xp(root, "/rss/channel/podcast:txt")
    assert [(t.get("purpose"), t.text) for t in txt] == [
        ("applepodcastsverify", "c0ffee-1234"),
        (None, "plain note"),
    ]
    assert root.nsmap["podcast"] == "https://podcastindex.org/namespace/1.0"


def test_locked_no_and_without_owner() -> None:
    fg = new_feed()
    fg.podcast20.locked = False
    (locked,) = xp(parse(fg), "/rss/channel/podcast:locked")
    assert locked.text == "no" and locked.attrib == {}


def test_item_podcast_tags() -> None:
    fg = new_feed()
    fe = new_entry(fg)
    p = fe.podcast20
    p.season, p.season_name = 2, "Trails"
    p.episode, p.episode_display = 3.0, "Ep. 3"
    p.transcripts = [
        fx.Transcript("https://example.com/3.vtt", "text/vtt", language="en", rel="captions"),
        fx.Transcript("https://example.com/3.json", "application/json"),
    ]
    p.chapters_url = "https://example.com/3/chapters.json"
    p.persons = [fx.Person("Dr. Ortho", role="guest"), fx.Person("Jane Runner")]
    item = xp(parse(fg), "/rss/channel/item")[0]
    (season,) = xp(item, "podcast:season")
    assert (season.text, season.get("name")) == ("2", "Trails")
    (episode,) = xp(item, "podcast:episode")
    assert (episode.text, episode.get("display")) == (
        "3",
        "Ep. 3",
    )  # a whole decimal is written as 3, not 3.0
    transcripts = xp(item, "podcast:transcript")
    assert [list(t.attrib.items()) for t in transcripts] == [
        [("url", "https://example.com/3.vtt"), ("type", "text/vtt"), ("language", "en"), ("rel", "captions")],
        [("url", "https://example.com/3.json"), ("type", "application/json")],
    ]
    (chapters,) = xp(item, "podcast:chapters")
    assert chapters.attrib == {
        "url": "https://example.com/3/chapters.json",
        "type": "application/json+chapters",
    }
    assert [(p.text, p.get("role")) for p in xp(item, "podcast:person")] == [
        ("Dr. Ortho", "guest"),
        ("Jane Runner", None),
    ]


def test_a_fractional_episode_number_stays_decimal() -> None:
    fg = new_feed()
    new_entry(fg).podcast20.episode = 3.5
    assert xp(parse(fg), "//item/podcast:episode/text()") == ["3.5"]


def test_nothing_set_writes_no_podcast_tags() -> None:
    fg = new_feed()
    new_entry(fg)
    root = parse(fg)
    assert xp(root, "//podcast:*") == [] and xp(root, "//psc:*") == []
    assert xp(root, "//itunes:explicit") == [] and xp(root, "//itunes:image") == []


@pytest.mark.parametrize(
    ("setup", "field"),
    [
        (lambda fg, fe: setattr(fg.podcast20, "funding", [fx.Funding("")]), "podcast:funding url"),
        (lambda fg, fe: setattr(fg.podcast20, "persons", [fx.Person(" ")]), "podcast:person"),
        (lambda fg, fe: setattr(fg.podcast20, "txt", [fx.Txt("")]), "podcast:txt"),
        (
            lambda fg, fe: setattr(fe.podcast20, "transcripts", [fx.Transcript("https://e.example/t", "")]),
            "podcast:transcript type",
        ),
        (lambda fg, fe: setattr(fe.psc, "chapters", [fx.PscChapter(0, "")]), "psc:chapter title"),
    ],
)
def test_empty_required_values_are_feed_errors(setup, field: str) -> None:
    fg = new_feed()
    setup(fg, new_entry(fg))
    with pytest.raises(FeedError) as info:
        fg.rss_str()
    assert info.value.field == field


# --- Podlove Simple Chapters ------------------------------------------------------------------------------------


def test_psc_chapters_inside_the_item() -> None:
    fg = new_feed()
    fe = new_entry(fg)
    fe.psc.chapters = [
        fx.PscChapter(0, "Intro"),
        fx.PscChapter(190.5, "Shoes", href="https://example.com/shoes"),
        fx.PscChapter(3723.25, "Outro", image="https://example.com/outro.jpg"),
    ]
    root = parse(fg)
    (wrapper,) = xp(root, "/rss/channel/item/psc:chapters")
    assert wrapper.get("version") == "1.2"
    assert [list(c.attrib.items()) for c in wrapper] == [
        [("start", "00:00:00.000"), ("title", "Intro")],
        [("start", "00:03:10.500"), ("title", "Shoes"), ("href", "https://example.com/shoes")],
        [("start", "01:02:03.250"), ("title", "Outro"), ("image", "https://example.com/outro.jpg")],
    ]
    assert root.nsmap["psc"] == "http://podlove.org/simple-chapters"
    assert xp(root, "/rss/channel/psc:chapters") == []


def test_psc_chapters_out_of_order_are_refused() -> None:
    fg = new_feed()
    new_entry(fg).psc.chapters = [fx.PscChapter(60, "Later"), fx.PscChapter(0, "Earlier")]
    with pytest.raises(FeedError, match="ascending"):
        fg.rss_str()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00.000"), (59.9996, "00:01:00.000"), (3600, "01:00:00.000"), (36000.001, "10:00:00.001")],
)
def test_npt(seconds: float, text: str) -> None:
    assert fx.npt(seconds) == text


def test_npt_rejects_negative_times() -> None:
    with pytest.raises(FeedError):
        fx.npt(-1)


# --- itunes fixes --------------------------------------------------------------------------------------------


def test_feedgen_alone_cannot_write_what_apple_wants() -> None:
    # why ItunesExtra exists: these are feedgen's own behaviours
    fg = FeedGenerator()
    fg.load_extension("podcast")
    with pytest.raises(ValueError):
        fg.podcast.itunes_explicit("false")
    fg.podcast.itunes_image("https://podcast.example.com/cover.jpeg")  # silently dropped
    assert fg.podcast.itunes_image() is None
    fe = fg.add_entry()
    with pytest.raises(ValueError):
        fe.podcast.itunes_image("https://podcast.example.com/cover.jpg?v=2")


@pytest.mark.parametrize(("value", "text"), [(True, "true"), (False, "false")])
def test_itunes_explicit_true_false_on_channel_and_item(value: bool, text: str) -> None:
    fg = new_feed()
    fg.itunes_extra.explicit = value
    new_entry(fg).itunes_extra.explicit = not value
    root = parse(fg)
    assert xp(root, "/rss/channel/itunes:explicit/text()") == [text]
    assert xp(root, "/rss/channel/item/itunes:explicit/text()") == [str(not value).lower()]


def test_itunes_image_takes_any_url() -> None:
    fg = new_feed()
    fg.itunes_extra.image = "https://podcast.example.com/cover.jpeg"
    new_entry(fg).itunes_extra.image = "https://podcast.example.com/ep1.jpg?v=2"
    root = parse(fg)
    assert xp(root, "/rss/channel/itunes:image/@href") == ["https://podcast.example.com/cover.jpeg"]
    assert xp(root, "/rss/channel/item/itunes:image/@href") == ["https://podcast.example.com/ep1.jpg?v=2"]


def test_the_fix_replaces_feedgens_value_instead_of_duplicating_it() -> None:
    fg = new_feed()
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_image("https://podcast.example.com/old.jpg")
    fg.itunes_extra.explicit = False
    fg.itunes_extra.image = "https://podcast.example.com/new.png"
    fe = new_entry(fg)
    fe.podcast.itunes_explicit("yes")
    fe.itunes_extra.explicit = True
    root = parse(fg)
    assert xp(root, "/rss/channel/itunes:explicit/text()") == ["false"]
    assert xp(root, "/rss/channel/itunes:image/@href") == ["https://podcast.example.com/new.png"]
    assert xp(root, "/rss/channel/item/itunes:explicit/text()") == ["true"]


def test_feedgens_other_itunes_tags_still_work_alongside() -> None:
    fg = new_feed()
    fg.podcast.itunes_type("serial")
    fg.podcast.itunes_category("Health & Fitness", "Fitness")
    fe = new_entry(fg)
    fe.podcast.itunes_episode_type("trailer")
    fe.podcast.itunes_duration("1805")
    root = parse(fg)
    assert xp(root, "/rss/channel/itunes:type/text()") == ["serial"]
    assert xp(root, "/rss/channel/itunes:category/@text") == ["Health & Fitness"]
    assert xp(root, "//item/itunes:episodeType/text()") == ["trailer"]


# --- registration --------------------------------------------------------------------------------------------------


def test_install_registers_every_key_on_feed_and_entries() -> None:
    fg = FeedGenerator()
    early = fg.add_entry()  # entries added before install get the extensions too
    fx.install(fg)
    late = fg.add_entry()
    for key, (channel_cls, entry_cls) in fx.EXTENSIONS.items():
        assert isinstance(getattr(fg, key), channel_cls)
        assert isinstance(getattr(early, key), entry_cls)
        assert isinstance(getattr(late, key), entry_cls)
    assert fg.podcast.__class__.__module__ == "feedgen.ext.podcast"  # the `podcast` key stays feedgen's own


def test_manual_registration_under_another_key() -> None:
    fg = FeedGenerator()
    fg.register_extension("p20", fx.Podcast20, fx.Podcast20Entry)
    fg.title("t")
    fg.link(href="https://e.example/")
    fg.description("d")
    fg.p20.guid = "abc"
    assert xp(etree.fromstring(fg.rss_str()), "//podcast:guid/text()") == ["abc"]


# --- the whole thing: a feed our validator and real podcast apps' parsers accept ---------------------------------


def full_feed() -> FeedGenerator:
    fg = new_feed()
    fg.podcast.itunes_author("Jane Runner")
    fg.podcast.itunes_owner("Jane Runner", "jane@example.com")
    fg.podcast.itunes_category("Sports", "Running")
    fg.podcast.itunes_type("episodic")
    fg.itunes_extra.explicit = False
    fg.itunes_extra.image = "https://podcast.example.com/cover.jpg"
    fg.podcast20.guid = podcast_guid(FEED_URL)
    fg.podcast20.locked, fg.podcast20.locked_owner = True, "jane@example.com"
    fg.podcast20.funding = [fx.Funding("https://podcast.example.com/support", "Support the show")]
    fg.podcast20.persons = [fx.Person("Jane Runner", role="host", group="cast")]
    for n in (1, 2):
        fe = new_entry(fg, n)
        fe.podcast.itunes_duration(str(1800 + n))
        fe.podcast.itunes_episode(n)
        fe.podcast.itunes_episode_type("full")
        fe.itunes_extra.explicit = n == 2
        fe.itunes_extra.image = f"https://podcast.example.com/episodes/{n}.jpg"
        fe.podcast20.episode = n
        fe.podcast20.transcripts = [
            fx.Transcript(f"https://podcast.example.com/{n}.vtt", "text/vtt", "en", "captions")
        ]
        fe.podcast20.chapters_url = f"https://podcast.example.com/{n}/chapters.json"
        fe.psc.chapters = [fx.PscChapter(0, "Intro"), fx.PscChapter(95.5, "Main")]
    return fg


def test_a_feed_built_with_the_extensions_passes_the_validator() -> None:
    data = full_feed().rss_str()
    report = validate(data, source=FEED_URL, now=datetime(2025, 1, 1, tzinfo=UTC))
    assert report.findings == (), [f"{f.rule} {f.message}" for f in report.findings]


def test_podcast_apps_parsers_read_the_extensions() -> None:
    data = full_feed().rss_str()
    podcast = podcastparser.parse(FEED_URL, io.BytesIO(data))
    assert podcast["explicit"] is False
    assert podcast["cover_url"] == "https://podcast.example.com/cover.jpg"
    first = podcast["episodes"][0]
    assert first["chapters"] == [{"start": 0, "title": "Intro"}, {"start": 95, "title": "Main"}]
    assert [e["explicit"] for e in podcast["episodes"]] == [False, True]
    entry = feedparser.parse(data).entries[0]
    assert entry["podcast_transcript"]["url"] == "https://podcast.example.com/1.vtt"
    assert entry["podcast_chapters"]["type"] == "application/json+chapters"
    assert [c["title"] for c in entry["psc_chapters"]["chapters"]] == ["Intro", "Main"]


def test_output_is_deterministic() -> None:
    assert full_feed().rss_str() == full_feed().rss_str()


# --- Podcasting 2.0 tags added by issue 13 ----------------------------------------------------------------------

NODE = "03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a"


def _value() -> fx.Value:
    return fx.Value(
        recipients=(
            fx.ValueRecipient(address=NODE, split=90, name="Host"),
            fx.ValueRecipient(address="app@getalby.com", split=10, type="lnaddress", fee=True, name="App"),
        ),
        suggested=0.00000005,
    )


def test_new_channel_tags_in_spec_form() -> None:
    fg = new_feed()
    p = fg.podcast20
    p.value = _value()
    p.podroll = [
        fx.RemoteItem("917393e3-1b1e-5cef-ace4-edaa54e1f810", "https://f.example/pc20.xml", title="PC20")
    ]
    p.medium = "podcast"
    p.license = fx.License("CC-BY-4.0")
    p.locations = [
        fx.Location("Austin", geo="geo:30.2672,-97.7431", osm="R113314", country="US", rel="creator")
    ]
    p.trailers = [
        fx.Trailer(
            "Coming soon", "https://m.example/t.mp3", "Thu, 01 Apr 2021 08:00:00 EST", 12345, "audio/mpeg", 4
        )
    ]
    p.update_frequency = fx.UpdateFrequency(
        "Weekly", rrule="FREQ=WEEKLY", complete=True, dtstart="2024-01-01T00:00:00"
    )
    p.social_interacts = [
        fx.SocialInteract("activitypub", "https://s.example/@a/1", "@a", "https://s.example/@a", 1)
    ]
    p.blocks = [fx.Block(), fx.Block(False, "spotify")]
    p.images = [
        fx.ImageSize("https://i.example/600.jpg", 600),
        fx.ImageSize("https://i.example/1400.jpg", 1400),
    ]
    new_entry(fg)
    root = parse(fg)
    (value,) = xp(root, "/rss/channel/podcast:value")
    assert dict(value.attrib) == {"type": "lightning", "method": "keysend", "suggested": "0.00000005000"}
    assert [dict(r.attrib) for r in value] == [
        {"name": "Host", "type": "node", "address": NODE, "split": "90"},
        {"name": "App", "type": "lnaddress", "address": "app@getalby.com", "split": "10", "fee": "true"},
    ]
    (remote,) = xp(root, "/rss/channel/podcast:podroll/podcast:remoteItem")
    assert list(remote.attrib) == ["feedGuid", "feedUrl", "title"]
    assert xp(root, "/rss/channel/podcast:medium/text()") == ["podcast"]
    assert xp(root, "/rss/channel/podcast:license/text()") == ["cc-by-4.0"]  # the spec wants lower case
    (loc,) = xp(root, "/rss/channel/podcast:location")
    assert (loc.text, loc.get("geo"), loc.get("osm"), loc.get("country"), loc.get("rel")) == (
        "Austin",
        "geo:30.2672,-97.7431",
        "R113314",
        "US",
        "creator",
    )
    (trailer,) = xp(root, "/rss/channel/podcast:trailer")
    assert (
        list(trailer.attrib) == ["pubdate", "url", "length", "type", "season"]
        and trailer.text == "Coming soon"
    )
    (freq,) = xp(root, "/rss/channel/podcast:updateFrequency")
    assert dict(freq.attrib) == {"complete": "true", "dtstart": "2024-01-01T00:00:00", "rrule": "FREQ=WEEKLY"}
    (social,) = xp(root, "/rss/channel/podcast:socialInteract")
    assert list(social.attrib) == ["priority", "protocol", "uri", "accountId", "accountUrl"]
    assert [(b.get("id"), b.text) for b in xp(root, "/rss/channel/podcast:block")] == [
        (None, "yes"),
        ("spotify", "no"),
    ]
    (images,) = xp(root, "/rss/channel/podcast:images")
    assert images.get("srcset") == "https://i.example/1400.jpg 1400w, https://i.example/600.jpg 600w"
    assert [(i.get("href"), i.get("width")) for i in xp(root, "/rss/channel/podcast:image")] == [
        ("https://i.example/1400.jpg", "1400"),
        ("https://i.example/600.jpg", "600"),
    ]
    report = validate(fg.rss_str(), source="feed.xml", now=WHEN)
    assert not [f for f in report.findings if f.rule in {f"PC2{n}" for n in range(29, 47)}], report.findings


def test_new_item_tags_in_spec_form() -> None:
    fg = new_feed()
    fe = new_entry(fg)
    p = fe.podcast20
    p.value = _value()
    p.funding = [fx.Funding("https://f.example/ep", "Fund this one")]
    p.soundbites = [fx.Soundbite(73.5, 60, "The one stretch")]
    p.txt = [fx.Txt("true", "ai-content")]
    p.license = fx.License("my-license", "https://l.example/")
    p.social_interacts = [fx.SocialInteract("disabled")]
    p.alternate_enclosures = [
        fx.AlternateEnclosure(
            "audio/opus",
            1000,
            (fx.AlternateSource("https://m.example/1.opus", "audio/opus"),),
            bitrate=32000,
            codecs="opus",
            title="Opus",
            integrity="sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        )
    ]
    root = parse(fg)
    item = "/rss/channel/item"
    assert xp(root, f"{item}/podcast:value/podcast:valueRecipient/@split") == ["90", "10"]
    assert xp(root, f"{item}/podcast:funding/@url") == ["https://f.example/ep"]
    (bite,) = xp(root, f"{item}/podcast:soundbite")
    assert (bite.get("startTime"), bite.get("duration"), bite.text) == ("73.5", "60", "The one stretch")
    assert xp(root, f"{item}/podcast:txt[@purpose='ai-content']/text()") == ["true"]
    assert xp(root, f"{item}/podcast:license/@url") == ["https://l.example/"]
    (social,) = xp(root, f"{item}/podcast:socialInteract")
    assert dict(social.attrib) == {"protocol": "disabled"}
    (alt,) = xp(root, f"{item}/podcast:alternateEnclosure")
    assert dict(alt.attrib) == {
        "type": "audio/opus",
        "length": "1000",
        "bitrate": "32000",
        "codecs": "opus",
        "title": "Opus",
    }
    assert xp(root, f"{item}/podcast:alternateEnclosure/podcast:source/@uri") == ["https://m.example/1.opus"]
    assert xp(root, f"{item}/podcast:alternateEnclosure/podcast:integrity/@type") == ["sri"]


@pytest.mark.parametrize(
    ("setup", "field"),
    [
        (lambda fg, fe: setattr(fg.podcast20, "value", fx.Value(recipients=())), "podcast:value"),
        (
            lambda fg, fe: setattr(fg.podcast20, "value", fx.Value((fx.ValueRecipient("", 1),))),
            "podcast:valueRecipient address",
        ),
        (lambda fg, fe: setattr(fg.podcast20, "podroll", [fx.RemoteItem("")]), "podcast:remoteItem feedGuid"),
        (lambda fg, fe: setattr(fg.podcast20, "locations", [fx.Location("")]), "podcast:location"),
        (
            lambda fg, fe: setattr(fg.podcast20, "trailers", [fx.Trailer("", "https://t", "x")]),
            "podcast:trailer",
        ),
        (lambda fg, fe: setattr(fe.podcast20, "soundbites", [fx.Soundbite(0, 0)]), "podcast:soundbite"),
        (
            lambda fg, fe: setattr(
                fe.podcast20, "alternate_enclosures", [fx.AlternateEnclosure("audio/opus", 1, ())]
            ),
            "podcast:alternateEnclosure",
        ),
        (lambda fg, fe: setattr(fg.history, "links", [("first", "")]), "atom:link rel=first"),
    ],
)
def test_new_tags_refuse_empty_required_values(setup, field: str) -> None:
    fg = new_feed()
    setup(fg, new_entry(fg))
    with pytest.raises(FeedError) as info:
        fg.rss_str()
    assert info.value.field == field


def test_feed_history_writes_nothing_unless_used_and_marks_archives() -> None:
    fg = new_feed()
    new_entry(fg)
    assert b"purl.org/syndication/history" not in fg.rss_str()
    fg.history.links = [("prev-archive", "https://p.example/archive/1.xml")]
    fg.history.archive = True
    root = parse(fg)
    assert root.xpath(
        "/rss/channel/atom:link[@rel='prev-archive']/@href", namespaces={"atom": fx.ATOM_NS}
    ) == ["https://p.example/archive/1.xml"]
    assert root.find(f"channel/{{{fx.FH_NS}}}archive") is not None
