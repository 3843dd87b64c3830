"""Issue 13 part B: alternate encodings (podcast:alternateEnclosure with SRI integrity), soundbite clips,
artwork sizes (podcast:images), all built for real from the sample show and read back by partytime, lxml,
mutagen, ffmpeg's probe, feedparser and podcastparser.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import re
from pathlib import Path

import feedparser
import podcastparser
import pytest
from lxml import etree
from mutagen.flac import FLAC, Picture
from mutagen.oggopus import OggOpus
from PIL import Image

from pipeline import alternates, audio, build, urls
from tests.conftest import REPO, copy_sample_show
from tests.test_p20 import NOW, NS, partytime

KNEES = "why-your-knees-hurt-when-you-run"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> build.BuildResult:
    show_yaml = copy_sample_show(tmp_path_factory.mktemp("p20b") / "show")
    return build.build(show_yaml, now=NOW)


def _sri(data: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_every_alternate_is_built_and_its_integrity_is_the_sha256_of_its_bytes(
    built: build.BuildResult,
) -> None:
    assert built.public
    for b in built.public:
        (alt,) = b.alternates  # the sample show offers one alternate: Opus, 32 kbps mono, "Low data"
        data = (built.out_dir / alt.key).read_bytes()
        assert alt.integrity == _sri(data)
        assert alt.size == len(data)
        assert (alt.mime, alt.codecs, alt.title, alt.default) == ("audio/ogg", "opus", "Low data", False)
        assert 28_000 <= alt.bitrate <= 40_000  # the encoder's rate, not inflated by the cover art
        opus = OggOpus(built.out_dir / alt.key)
        assert opus.info.channels == 1
        assert abs(opus.info.length - b.audio.duration) < 0.1
        assert opus.tags["TITLE"] == [b.episode.title]
        assert opus.tags["ALBUM"] == [built.show.title]
        pic = Picture(base64.b64decode(opus.tags["METADATA_BLOCK_PICTURE"][0]))
        assert pic.mime == "image/jpeg" and pic.type == 3
        for i, ch in enumerate(b.episode.chapters, start=1):
            assert opus.tags[f"CHAPTER{i:03d}NAME"] == [ch.title]
        assert urls.alternate_key(b.episode, alt.sha256, "opus") == alt.key


def test_two_builds_give_byte_identical_alternates_and_clips(
    built: build.BuildResult, tmp_path: Path
) -> None:
    again = build.build(copy_sample_show(tmp_path / "show"), now=NOW)
    first = {b.episode.slug: b for b in built.public}
    for b in again.public:
        before = first[b.episode.slug]
        assert [a.key for a in b.alternates] == [a.key for a in before.alternates]
        for a, old in zip(b.alternates, before.alternates, strict=True):
            assert (again.out_dir / a.key).read_bytes() == (built.out_dir / old.key).read_bytes()
        for c, old_c in zip(b.clips, before.clips, strict=True):
            assert (again.out_dir / c.key).read_bytes() == (built.out_dir / old_c.key).read_bytes()
    assert (again.out_dir / urls.FEED_KEY).read_bytes() == (built.out_dir / urls.FEED_KEY).read_bytes()


def test_partytime_and_lxml_read_back_the_alternate_enclosure(built: build.BuildResult) -> None:
    by_link = {b.page_url: b for b in built.public}
    pt = partytime(built.out_dir / urls.FEED_KEY)
    for item in pt["items"]:
        alt = by_link[item["link"]].alternates[0]
        assert item["alternativeEnclosures"] == [
            {
                "type": "audio/ogg",
                "length": alt.size,
                "source": [{"uri": alt.url, "contentType": "audio/ogg"}],
                "default": False,
                "integrity": {"type": "sri", "value": alt.integrity},
                "bitrate": alt.bitrate,
                "title": "Low data",
                "codecs": "opus",
            }
        ]
    doc = etree.parse(str(built.out_dir / urls.FEED_KEY))
    for item in doc.iterfind("channel/item"):
        (el,) = item.findall("podcast:alternateEnclosure", NS)
        b = by_link[item.findtext("link")]
        assert [s.get("uri") for s in el.findall("podcast:source", NS)] == [b.alternates[0].url]
        (integrity,) = el.findall("podcast:integrity", NS)
        assert integrity.get("type") == "sri"
        assert integrity.get("value") == _sri((built.out_dir / b.alternates[0].key).read_bytes())
        # the main enclosure is untouched: still the MP3
        assert item.find("enclosure").get("url") == b.audio.url  # type: ignore[union-attr]


def test_feedparser_and_podcastparser_still_read_every_item(built: build.BuildResult) -> None:
    data = (built.out_dir / urls.FEED_KEY).read_bytes()
    fp = feedparser.parse(data)
    assert not fp.bozo
    assert len(fp.entries) == len(built.public)
    assert [e.enclosures[0].href for e in fp.entries] == [b.audio.url for b in built.public]
    pp = podcastparser.parse(built.show.feed_url, io.BytesIO(data))
    assert [e["enclosures"][0]["url"] for e in pp["episodes"]] == [b.audio.url for b in built.public]


def test_the_page_offers_the_main_file_first_then_the_alternates(built: build.BuildResult) -> None:
    for b in built.public:
        html = (built.out_dir / urls.page_key(b.episode)).read_text()
        sources = re.findall(r'<source src="([^"]+)" type="([^"]+)">', html)
        assert [s[0].rsplit("/", 1)[-1] for s in sources] == [
            f"{b.episode.slug}.mp3",
            f"{b.episode.slug}.opus",
        ]
        assert sources[1][1] == "audio/ogg; codecs=&#34;opus&#34;"


def test_each_soundbite_has_a_clip_of_its_length_listed_on_the_page(built: build.BuildResult) -> None:
    (knees,) = [b for b in built.public if b.episode.slug == KNEES]
    (sb,) = knees.episode.soundbites
    (clip,) = knees.clips
    path = built.out_dir / clip.key
    info = audio.probe(path)
    assert info.container == "mp3"
    assert abs(info.duration - sb.duration) < 0.1
    assert abs(clip.duration - sb.duration) < 0.1
    assert clip.title == sb.title
    from mutagen.id3 import ID3

    assert str(ID3(path)["TIT2"]) == sb.title
    html = (built.out_dir / urls.page_key(knees.episode)).read_text()
    assert 'id="clips"' in html
    assert f'href="{clip.key.removeprefix(f"episodes/{KNEES}/")}"' in html  # the clip on its own
    assert f'href="#t=00:00" data-seek="{sb.start:g}"' in html  # or in the page's player
    assert f'href="{knees.page_url}#t=00:00"' in html
    for b in built.public:
        if not b.episode.soundbites:
            assert b.clips == ()
            assert 'id="clips"' not in (built.out_dir / urls.page_key(b.episode)).read_text()


def test_podcast_images_lists_real_artwork_sizes_and_itunes_image_is_unchanged(
    built: build.BuildResult,
) -> None:
    doc = etree.parse(str(built.out_dir / urls.FEED_KEY))
    channel = doc.find("channel")
    assert channel is not None
    srcset = channel.find("podcast:images", NS).get("srcset")  # type: ignore[union-attr]
    entries = [e.split() for e in srcset.split(", ")]  # type: ignore[union-attr]
    widths = [int(w.removesuffix("w")) for _u, w in entries]
    assert widths == [1400, 600, 300]  # the 1400 px cover is never scaled up to 3000
    for url, w in entries:
        key = url.removeprefix(built.show.base_url)
        with Image.open(built.out_dir / key) as im:
            assert im.size == (int(w[:-1]), int(w[:-1])) and im.format == "JPEG"
    itunes = channel.find("{http://www.itunes.com/dtds/podcast-1.0.dtd}image")
    assert itunes is not None and itunes.get("href") == built.artwork_url
    for item in doc.iterfind("channel/item"):
        assert item.find("podcast:images", NS).get("srcset") == srcset  # type: ignore[union-attr]


def test_a_flac_and_an_aac_alternate_carry_tags_and_chapters(tmp_path: Path) -> None:
    show_yaml = copy_sample_show(tmp_path / "show")
    text = show_yaml.read_text().replace(
        "    - format: opus\n      bitrate: 32\n      channels: 1\n      title: Low data\n",
        "    - format: flac\n      title: Lossless\n    - format: m4a\n      default: true\n",
    )
    show_yaml.write_text(text)
    result = build.build(show_yaml, now=NOW, feed_only=True)
    (knees,) = [b for b in result.public if b.episode.slug == "shin-splints-are-a-load-problem"]
    flac_alt, aac_alt = knees.alternates
    flac = FLAC(result.out_dir / flac_alt.key)
    assert flac.tags is not None and flac.tags["TITLE"] == [knees.episode.title]
    assert flac.tags["CHAPTER001NAME"] == [knees.episode.chapters[0].title]
    assert flac.pictures and flac.pictures[0].mime == "image/jpeg"
    aac = audio.probe(result.out_dir / aac_alt.key)
    assert (aac.container, aac.codec) == ("m4a", "aac")
    assert aac_alt.default and not flac_alt.default
    for alt in knees.alternates:
        assert alt.integrity == _sri((result.out_dir / alt.key).read_bytes())
    doc = etree.parse(str(result.out_dir / urls.FEED_KEY))
    types = [
        (e.get("type"), e.get("default"))
        for e in doc.iterfind("channel/item[1]/podcast:alternateEnclosure", NS)
    ]
    assert types == [("audio/flac", None), ("audio/mp4", "true")]


def test_sri_form() -> None:
    digest = hashlib.sha256(b"abc").hexdigest()
    assert alternates.sri(digest) == _sri(b"abc") == "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_the_sample_show_offers_one_opus_alternate() -> None:
    assert "format: opus" in (REPO / "show.yaml").read_text()


def test_reused_item_fragments_give_the_bytes_of_a_cold_render(
    built: build.BuildResult, tmp_path: Path
) -> None:
    from pipeline import feed
    from pipeline.cache import FeedFragments

    public = list(built.public)
    sizes = built.public[0].images
    cold = feed.build_feed(built.show, public, artwork_url=built.artwork_url, images=sizes)
    store = FeedFragments(tmp_path / "items.bin")
    assert (
        feed.build_feed(built.show, public, artwork_url=built.artwork_url, images=sizes, fragments=store)
        == cold
    )
    assert (store.hits, store.misses) == (0, len(public))
    store.save()
    # a later build: a fresh cache object from disk, one item changed
    again = FeedFragments(tmp_path / "items.bin")
    changed = dataclasses.replace(
        public[1], episode=public[1].episode.model_copy(update={"title": "A new title"})
    )
    now = [public[0], changed, *public[2:]]
    warm = feed.build_feed(built.show, now, artwork_url=built.artwork_url, images=sizes, fragments=again)
    assert (again.hits, again.misses) == (len(public) - 1, 1)
    assert warm == feed.build_feed(built.show, now, artwork_url=built.artwork_url, images=sizes)
    assert b"<title>A new title</title>" in warm


def test_a_truncated_fragment_file_is_a_miss_not_a_broken_feed(
    built: build.BuildResult, tmp_path: Path
) -> None:
    from pipeline import feed
    from pipeline.cache import FeedFragments

    store = FeedFragments(tmp_path / "items.bin")
    feed.build_feed(built.show, built.public, artwork_url=built.artwork_url, fragments=store)
    store.save()
    data = (tmp_path / "items.bin").read_bytes()
    (tmp_path / "items.bin").write_bytes(data[: len(data) - 100])
    broken = FeedFragments(tmp_path / "items.bin")
    out = feed.build_feed(built.show, built.public, artwork_url=built.artwork_url, fragments=broken)
    assert out == feed.build_feed(built.show, built.public, artwork_url=built.artwork_url)


def test_manifest_episode_media_round_trips_and_old_manifests_load() -> None:
    from pipeline.errors import StorageError
    from pipeline.manifest import EpisodeEntry, Manifest

    entry = {
        "slug": "a",
        "enclosure_url": "https://x/a.mp3",
        "pub_date": "2024-05-01T09:00:00+00:00",
        "title": "A",
    }
    old = json.dumps(
        {"version": 1, "channel_guid": None, "feed_url": None, "episodes": {"g": entry}}
    ).encode()
    loaded = Manifest.from_json(old, "old")
    assert loaded.episodes["g"].media == ()
    assert b'"media"' not in loaded.to_json()  # an episode without other media writes what it always did
    ep = EpisodeEntry(guid="g", **entry, media=("episodes/a/x/a.opus", "episodes/a/y/clip-1.mp3"))
    again = Manifest.from_json(Manifest(1, None, None, episodes={"g": ep}).to_json(), "new")
    assert again.episodes["g"] == ep
    bad = json.dumps({"version": 1, "episodes": {"g": {**entry, "media": "a.opus"}}}).encode()
    with pytest.raises(StorageError, match="media is not a list of keys"):
        Manifest.from_json(bad, "bad")


def test_podcast_images_only_over_https(tmp_path: Path) -> None:
    from pipeline import feed
    from pipeline.artifacts import BuiltImage

    def sizes(base: str) -> list[BuiltImage]:
        return [BuiltImage(tmp_path / f"{w}.jpg", f"a/{w}.jpg", f"{base}/a/{w}.jpg", w) for w in (600, 300)]

    assert [(i.url, i.width) for i in feed._image_sizes(sizes("https://x.example"))] == [
        ("https://x.example/a/600.jpg", 600),
        ("https://x.example/a/300.jpg", 300),
    ]
    assert feed._image_sizes(sizes("http://x.example")) == []  # the validator's PC112: http in a podcast: tag
