"""The built feed, read back by real podcast parsers; its content rules, golden bytes, CLI and CI workflow."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import email.utils
import io
import json
import os
import re
import shlex
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import feedparser
import podcastparser
import pytest
import yaml
from click.testing import CliRunner
from lxml import etree

from benchmarks import synth
from pipeline import audio, build, feed, model, notes, transcript
from pipeline.cli import cli
from pipeline.errors import ExitCode
from pipeline.manifest import Kind
from tests.conftest import NOW, REPO, copy_sample_show

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "psc": "http://podlove.org/simple-chapters",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
GOLDEN = REPO / "tests" / "golden"
GOLDEN_FEED = GOLDEN / "feed.xml"
GOLDEN_SIDECARS = GOLDEN / "feed_sidecars"
WORKFLOW = REPO / ".github" / "workflows" / "feed.yml"
#: podcast:guid's namespace UUID (Podcasting 2.0 docs/tags/guid.md), restated here rather than imported.
GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
PROFILES = ("apple", "spotify", "podcastindex")
FIRST = "why-your-knees-hurt-when-you-run"  # episode 1: chapters, a transcript, a person


# --------------------------------------------------------------------------- the truth, read from the sources


def front_matter(folder: Path) -> dict[str, object]:
    """An episode.md's front matter as plain strings (YAML's base loader: nothing interpreted)."""
    text = (folder / "episode.md").read_text()
    data = yaml.load(text.split("---\n")[1], Loader=yaml.BaseLoader)
    data["slug"] = folder.name
    data["date"] = dt.datetime.fromisoformat(data["date"])
    return data


def show_settings(show_yaml: Path) -> dict[str, object]:
    return yaml.load(show_yaml.read_text(), Loader=yaml.BaseLoader)


def public_sources(show_yaml: Path, now: dt.datetime = NOW) -> list[dict[str, object]]:
    """The episodes a listener should see, in the stated feed order: date descending, then slug descending."""
    eps = [front_matter(f) for f in sorted((show_yaml.parent / "episodes").iterdir()) if f.is_dir()]
    eps = [e for e in eps if e.get("draft") != "true" and e["date"] <= now]
    return sorted(eps, key=lambda e: (e["date"], e["slug"]), reverse=True)


def seconds(stamp: str) -> float:
    """'00:03' or '01:02:03' -> seconds."""
    total = 0.0
    for part in stamp.split(":"):
        total = total * 60 + float(part)
    return total


def source_chapters(ep: dict[str, object]) -> list[tuple[float, str]]:
    return [(seconds(line.split(" ", 1)[0]), line.split(" ", 1)[1]) for line in ep.get("chapters", [])]


def hms(duration: float) -> str:
    total = round(duration)
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}"


def episode_guid(show_guid: str, slug: str) -> str:
    return str(uuid.uuid5(uuid.UUID(show_guid), slug))


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class Built:
    result: build.BuildResult
    xml: bytes
    show_yaml: Path

    @property
    def root(self) -> etree._Element:
        return etree.fromstring(self.xml)

    @property
    def out(self) -> Path:
        return self.result.out_dir

    @property
    def base(self) -> str:
        return self.result.show.base_url

    def items(self) -> list[etree._Element]:
        return self.root.xpath("/rss/channel/item")

    def item(self, slug: str) -> etree._Element:
        (item,) = [i for i in self.items() if i.findtext("link").endswith(f"/episodes/{slug}/")]
        return item

    def key(self, url: str) -> str:
        assert url.startswith(self.base), url
        return url[len(self.base) :]

    def media(self, url: str) -> Path:
        """The built audio file the build publishes at this enclosure URL's key."""
        (out,) = [o for o in self.result.outputs if o.key == self.key(url)]
        assert out.kind is Kind.MEDIA and isinstance(out.data, Path)
        return out.data


def build_show(show_yaml: Path, cache: Path, now: dt.datetime = NOW) -> Built:
    """`podcast feed`'s build: the audio stage, then feed.xml and its sidecar files (no pages)."""
    result = build.build(show_yaml, now=now, cache_dir=cache, feed_only=True)
    return Built(result, (result.out_dir / "feed.xml").read_bytes(), show_yaml)


def sample_copy(dest: Path, edit: Callable[[Path], None] | None = None) -> Path:
    show_yaml = copy_sample_show(dest)
    if edit:
        edit(show_yaml.parent)
    return show_yaml


def add_episode(
    root: Path,
    slug: str,
    front: str,
    *,
    audio_from: str | None = "coming-back-after-a-running-injury",
    notes: str = "Notes for this episode.\n",
) -> None:
    folder = root / "episodes" / slug
    folder.mkdir(parents=True)
    if audio_from:
        shutil.copyfile(root / "episodes" / audio_from / "audio.mp3", folder / "audio.mp3")
        front += "audio: audio.mp3\n"
    (folder / "episode.md").write_text(f"---\n{front}---\n{notes}")


def seed_cache(cache: Path, show_yaml: Path) -> None:
    """Start a copy's own .podcast-cache from the shared one: encoded audio is keyed by content, so it is reused."""
    shutil.copytree(cache, show_yaml.parent / build.CACHE_DIR, dirs_exist_ok=True)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One audio cache for the module: each sample copy encodes nothing twice."""
    return tmp_path_factory.mktemp("audio-cache")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> Built:
    return build_show(sample_copy(tmp_path_factory.mktemp("sample") / "show"), cache)


# --------------------------------------------------------------------------- feedparser and podcastparser


def test_feedparser_reads_the_sample_feed_fully(sample: Built) -> None:
    parsed = feedparser.parse(sample.xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    settings = show_settings(sample.show_yaml)
    pinned = settings["guid"]
    channel = parsed.feed
    assert channel.title == settings["title"]
    assert channel.link == settings["url"]
    assert channel.language == settings["language"]
    assert channel.rights == settings["copyright"]
    assert channel.subtitle.startswith("Running injuries, explained by a sports-medicine physician.")
    assert channel.image.href == sample.result.artwork_url
    assert channel.author_detail == {"name": "Maya Okafor", "email": "hello@stride-clinic.example.com"}
    assert {
        "rel": "self",
        "href": settings["url"] + "feed.xml",
        "type": "application/rss+xml",
    } in channel.links
    assert [t.term for t in channel.tags] == ["Health & Fitness", "Medicine", "Sports", "Running"]
    assert channel.itunes_type == "episodic"
    assert channel.podcast_guid == pinned

    expected = public_sources(sample.show_yaml)
    assert [e.title for e in parsed.entries] == [ep["title"] for ep in expected]
    for entry, ep in zip(parsed.entries, expected, strict=True):
        assert entry.link == f"{settings['url']}episodes/{ep['slug']}/"
        assert entry.id == episode_guid(pinned, ep["slug"])
        assert entry.guidislink is False
        (enclosure,) = entry.enclosures
        built_file = sample.media(enclosure.href)
        info = audio.probe(built_file)
        assert int(enclosure.length) == os.path.getsize(built_file) == info.size
        assert enclosure.type == info.mime == "audio/mpeg"
        assert entry.itunes_duration == hms(info.duration)
        assert entry.published == email.utils.format_datetime(ep["date"])
        assert dt.datetime(*entry.published_parsed[:6], tzinfo=dt.UTC) == ep["date"]
        assert entry.itunes_episode == ep["number"] and entry.itunes_season == ep["season"]
        assert entry.itunes_episodetype == "full"
    assert channel.updated == parsed.entries[0].published


def test_podcastparser_reads_episodes_enclosures_durations_and_chapters(sample: Built) -> None:
    parsed = podcastparser.parse(sample.result.show.feed_url, io.BytesIO(sample.xml))
    assert parsed["title"] == "The Stride Clinic"
    assert parsed["explicit"] is False
    assert parsed["itunes_categories"] == [["Health & Fitness", "Medicine"], ["Sports", "Running"]]
    assert parsed["cover_url"] == sample.result.artwork_url
    pinned = show_settings(sample.show_yaml)["guid"]
    expected = public_sources(sample.show_yaml)
    assert len(parsed["episodes"]) == len(expected) == 3
    for episode, ep in zip(parsed["episodes"], expected, strict=True):
        assert episode["title"] == ep["title"]
        assert episode["guid"] == episode_guid(pinned, ep["slug"])
        assert episode["published"] == int(ep["date"].timestamp())
        (enclosure,) = episode["enclosures"]
        built_file = sample.media(enclosure["url"])
        assert enclosure["file_size"] == os.path.getsize(built_file)
        assert enclosure["mime_type"] == "audio/mpeg"
        assert episode["total_time"] == round(audio.probe(built_file).duration)
        assert episode["number"] == int(ep["number"]) and episode["season"] == int(ep["season"])
        chapters = source_chapters(ep)
        if chapters:
            assert [(c["start"], c["title"]) for c in episode["chapters"]] == chapters
        else:
            assert "chapters" not in episode


# --------------------------------------------------------------------------- a generated 50-episode show


@dataclass(frozen=True)
class TwoBuilds:
    first: Built
    second: Built


@pytest.fixture(scope="module")
def fifty(tmp_path_factory: pytest.TempPathFactory) -> TwoBuilds:
    """synth's 50-episode show (real MP3s, ~600-word notes), built in two folders with one audio cache."""
    tmp = tmp_path_factory.mktemp("fifty")
    show_yaml = synth.make_show(tmp / "a" / "show", 50, audio_seconds=6.0)
    shutil.copytree(show_yaml.parent, tmp / "b" / "show")
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    first = build_show(show_yaml, tmp / "cache", later)
    second = build_show(tmp / "b" / "show" / "show.yaml", tmp / "cache", later)
    return TwoBuilds(first, second)


def test_fifty_episodes_read_fully_by_feedparser(fifty: TwoBuilds) -> None:
    built = fifty.first
    parsed = feedparser.parse(built.xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == 50
    assert [e.title.split(" about ")[0] for e in parsed.entries] == [f"Episode {n}" for n in range(50, 0, -1)]
    for entry in parsed.entries:
        (enclosure,) = entry.enclosures
        built_file = built.media(enclosure.href)
        assert int(enclosure.length) == os.path.getsize(built_file)
        assert enclosure.type == "audio/mpeg"
        assert entry.itunes_duration == hms(audio.probe(built_file).duration) == "00:00:06"
        assert entry.guidislink is False and entry.id


def test_fifty_episodes_read_fully_by_podcastparser(fifty: TwoBuilds) -> None:
    built = fifty.first
    parsed = podcastparser.parse(built.result.show.feed_url, io.BytesIO(built.xml))
    episodes = parsed["episodes"]
    assert len(episodes) == 50
    for episode in episodes:
        (enclosure,) = episode["enclosures"]
        assert enclosure["file_size"] == os.path.getsize(built.media(enclosure["url"]))
        assert enclosure["mime_type"] == "audio/mpeg"
        assert episode["total_time"] == 6
        assert [(c["start"], c["title"]) for c in episode["chapters"]] == [(0, "Intro"), (5, "Main part")]
        assert episode["guid"]


def test_fifty_guids_are_unique_and_stable_across_builds(fifty: TwoBuilds) -> None:
    def guids(built: Built) -> list[str]:
        return [g.text for g in built.root.xpath("/rss/channel/item/guid")]

    first, second = guids(fifty.first), guids(fifty.second)
    assert len(set(first)) == 50
    pinned = show_settings(fifty.first.show_yaml)["guid"]
    assert first == [episode_guid(pinned, f"episode-{n:05d}") for n in range(50, 0, -1)]
    assert second == first
    assert fifty.second.xml == fifty.first.xml


def test_fifty_episode_feed_has_no_validator_errors(fifty: TwoBuilds) -> None:
    result = CliRunner().invoke(
        cli, ["validate", str(fifty.first.out / "feed.xml"), "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.stdout)
    assert report["items"] == 50 and report["counts"]["error"] == 0


# --------------------------------------------------------------------------- rules of content


def test_drafts_never_appear(tmp_path: Path, cache: Path) -> None:
    def drafts(root: Path) -> None:
        add_episode(
            root,
            "notes-for-later",
            "title: Notes for later\ndate: 2025-03-20T07:00:00+00:00\ndraft: true\n",
            audio_from=None,
        )
        add_episode(
            root,
            "recorded-but-not-ready",
            "title: Recorded but not ready\n"
            "date: 2025-03-21T07:00:00+00:00\nnumber: 9\ndraft: true\nchapters:\n  - 00:00 Start\n",
        )

    built = build_show(sample_copy(tmp_path / "show", drafts), cache)
    titles = [t.text for t in built.root.xpath("/rss/channel/item/title")]
    assert titles == [ep["title"] for ep in public_sources(built.show_yaml)]
    assert "Recorded but not ready" not in titles and "Notes for later" not in titles
    assert b"recorded-but-not-ready" not in built.xml and b"notes-for-later" not in built.xml
    assert not (built.out / "episodes" / "recorded-but-not-ready").exists()


def test_a_scheduled_episode_appears_once_its_date_has_passed(tmp_path: Path, cache: Path) -> None:
    def scheduled(root: Path) -> None:
        add_episode(
            root,
            "tapering-for-a-marathon",
            "title: Tapering for a marathon\ndate: 2025-07-01T07:00:00+00:00\nnumber: 4\nseason: 1\n",
        )

    show_yaml = sample_copy(tmp_path / "show", scheduled)
    before = build_show(show_yaml, cache, dt.datetime(2025, 7, 1, 6, 59, 59, tzinfo=dt.UTC))
    assert b"Tapering for a marathon" not in before.xml
    assert len(before.items()) == 3
    assert before.root.findtext("channel/lastBuildDate") == "Tue, 18 Mar 2025 07:00:00 +0000"

    after = build_show(show_yaml, cache, dt.datetime(2025, 7, 1, 7, 0, tzinfo=dt.UTC))
    assert len(after.items()) == 4
    first = after.items()[0]
    assert first.findtext("title") == "Tapering for a marathon"
    assert first.findtext("pubDate") == "Tue, 01 Jul 2025 07:00:00 +0000"
    assert after.root.findtext("channel/lastBuildDate") == first.findtext("pubDate")


def test_items_are_newest_first_then_by_slug_descending(tmp_path: Path, cache: Path) -> None:
    """The rule: pubDate descending; two episodes at the same time go by slug, descending (z before a)."""

    def same_day(root: Path) -> None:
        for n, slug in ((4, "aaa-listener-questions"), (5, "zzz-listener-questions")):
            add_episode(
                root, slug, f"title: Questions {slug[:3]}\ndate: 2025-03-25T07:00:00+00:00\nnumber: {n}\n"
            )

    built = build_show(sample_copy(tmp_path / "show", same_day), cache)
    links = [i.findtext("link").rsplit("/", 2)[1] for i in built.items()]
    assert links == [
        "zzz-listener-questions",
        "aaa-listener-questions",
        "coming-back-after-a-running-injury",
        "shin-splints-are-a-load-problem",
        "why-your-knees-hurt-when-you-run",
    ]
    assert links == [ep["slug"] for ep in public_sources(built.show_yaml)]
    dates = [email.utils.parsedate_to_datetime(i.findtext("pubDate")) for i in built.items()]
    assert dates == sorted(dates, reverse=True)


def test_last_build_date_is_the_newest_item_never_the_clock(
    sample: Built, tmp_path: Path, cache: Path
) -> None:
    channel = sample.root.find("channel")
    newest = sample.items()[0].findtext("pubDate")
    assert channel.findtext("lastBuildDate") == newest == "Tue, 18 Mar 2025 07:00:00 +0000"
    assert channel.findtext("pubDate") == newest
    a_year_later = build_show(sample_copy(tmp_path / "show"), cache, NOW + dt.timedelta(days=365))
    assert a_year_later.xml == sample.xml


def test_a_feed_with_nothing_public_yet_has_no_clock_date(tmp_path: Path, cache: Path) -> None:
    """feedgen stamps lastBuildDate with the clock unless told otherwise; an empty feed must not carry it."""
    show_yaml = sample_copy(tmp_path / "show")
    before_launch = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    built = build_show(show_yaml, cache, before_launch)
    assert built.items() == []
    channel = built.root.find("channel")
    assert channel.find("lastBuildDate") is None and channel.find("pubDate") is None
    assert build_show(show_yaml, cache, before_launch).xml == built.xml


def test_explicit_is_true_or_false(sample: Built, tmp_path: Path, cache: Path) -> None:
    assert sample.root.xpath("/rss/channel/itunes:explicit/text()", namespaces=NS) == ["false"]
    assert sample.root.xpath("//item/itunes:explicit/text()", namespaces=NS) == ["false"] * 3

    def explicit_show(root: Path) -> None:
        show = root / "show.yaml"
        show.write_text(show.read_text().replace("explicit: false", "explicit: true"))
        md = root / "episodes" / "shin-splints-are-a-load-problem" / "episode.md"
        md.write_text(md.read_text().replace("number: 2\n", "number: 2\nexplicit: false\n"))

    built = build_show(sample_copy(tmp_path / "show", explicit_show), cache)
    assert built.root.xpath("/rss/channel/itunes:explicit/text()", namespaces=NS) == ["true"]
    per_item = {
        i.findtext("link").rsplit("/", 2)[1]: i.findtext("itunes:explicit", namespaces=NS)
        for i in built.items()
    }
    assert per_item == {
        "coming-back-after-a-running-injury": "true",
        "shin-splints-are-a-load-problem": "false",
        "why-your-knees-hurt-when-you-run": "true",
    }
    assert podcastparser.parse(built.result.show.feed_url, io.BytesIO(built.xml))["explicit"] is True


def test_podcast_guid_is_the_pinned_one_even_after_a_url_change(
    sample: Built, tmp_path: Path, cache: Path
) -> None:
    pinned = show_settings(sample.show_yaml)["guid"]
    assert sample.root.xpath("/rss/channel/podcast:guid/text()", namespaces=NS) == [pinned]
    # The pinned value is what the namespace rule gives for the URL the show was first published at.
    assert pinned == str(uuid.uuid5(GUID_NAMESPACE, "stride-clinic.example.com/feed.xml"))

    def moved(root: Path) -> None:
        show = root / "show.yaml"
        show.write_text(
            show.read_text().replace("https://stride-clinic.example.com/", "https://runclinic.example.org/")
        )

    built = build_show(sample_copy(tmp_path / "show", moved), cache)
    assert built.root.xpath("/rss/channel/atom:link/@href", namespaces=NS) == [
        "https://runclinic.example.org/feed.xml"
    ]
    assert built.root.xpath("/rss/channel/podcast:guid/text()", namespaces=NS) == [pinned]
    assert [g.text for g in built.root.xpath("//item/guid")] == [
        g.text for g in sample.root.xpath("//item/guid")
    ]


def test_transcript_tags_point_at_valid_vtt_and_srt_files(sample: Built) -> None:
    item = sample.item(FIRST)
    tags = item.findall("podcast:transcript", NS)
    assert [(t.get("type"), t.get("language"), t.get("rel")) for t in tags] == [
        ("text/vtt", "en", "captions"),
        ("application/x-subrip", "en", "captions"),
    ]
    source_text = (sample.show_yaml.parent / "episodes" / FIRST / "transcript.vtt").read_text()
    source = transcript.parse(source_text, "vtt")
    assert len(source) == 5
    for tag, fmt in zip(tags, ("vtt", "srt"), strict=True):
        key = sample.key(tag.get("url"))
        assert key == f"episodes/{FIRST}/transcript.{fmt}"
        text = (sample.out / key).read_text(encoding="utf-8")
        assert transcript.parse(text, fmt) == source
    srt = (sample.out / f"episodes/{FIRST}/transcript.srt").read_text()
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,000\n")
    assert "Welcome to The Stride Clinic." in srt
    assert (sample.out / f"episodes/{FIRST}/transcript.vtt").read_text().startswith("WEBVTT\n")
    # Episodes without a transcript get no tag.
    assert sample.item("shin-splints-are-a-load-problem").find("podcast:transcript", NS) is None


def test_chapters_tag_points_at_a_valid_json_chapters_file(sample: Built) -> None:
    ep = front_matter(sample.show_yaml.parent / "episodes" / FIRST)
    (tag,) = sample.item(FIRST).findall("podcast:chapters", NS)
    assert tag.get("type") == "application/json+chapters"
    key = sample.key(tag.get("url"))
    assert key == f"episodes/{FIRST}/chapters.json"
    doc = json.loads((sample.out / key).read_text())
    assert doc["version"] == "1.2.0"
    starts = [c["startTime"] for c in doc["chapters"]]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert [(c["startTime"], c["title"]) for c in doc["chapters"]] == source_chapters(ep)
    assert sample.item("coming-back-after-a-running-injury").find("podcast:chapters", NS) is None


def test_psc_chapters_are_inside_the_item(sample: Built) -> None:
    ep = front_matter(sample.show_yaml.parent / "episodes" / FIRST)
    (wrapper,) = sample.item(FIRST).findall("psc:chapters", NS)
    assert wrapper.get("version") == "1.2"
    marks = [(c.get("start"), c.get("title")) for c in wrapper.findall("psc:chapter", NS)]
    assert marks == [(f"{hms(s)}.000", t) for s, t in source_chapters(ep)]
    assert [w.getparent().tag for w in sample.root.xpath("//psc:chapters", namespaces=NS)] == ["item", "item"]
    assert sample.item("coming-back-after-a-running-injury").find("psc:chapters", NS) is None


def test_enclosure_length_is_the_exact_size_of_the_published_file(sample: Built) -> None:
    for item in sample.items():
        (enclosure,) = item.findall("enclosure")
        key = sample.key(enclosure.get("url"))
        slug = item.findtext("link").rsplit("/", 2)[1]
        assert re.fullmatch(rf"episodes/{slug}/[0-9a-f]{{16}}/{slug}\.mp3", key)
        built_file = sample.media(enclosure.get("url"))
        assert int(enclosure.get("length")) == os.path.getsize(built_file)
        assert built_file.read_bytes()[:3] == b"ID3"  # tagged MP3


def test_notes_are_html_and_description_keeps_within_apples_limit(sample: Built) -> None:
    for item in sample.items():
        description = item.findtext("description")
        content = item.findtext("content:encoded", namespaces=NS)
        assert len(description.encode()) <= 4000
        assert content.startswith("<p>") and "<script" not in content
    long_item = sample.item(FIRST)
    assert long_item.findtext("description").endswith(
        f'<p><a href="{sample.base}episodes/{FIRST}/">Full show notes</a></p>'
    )
    assert "<h2>Prevention: what actually works</h2>" in long_item.findtext("content:encoded", namespaces=NS)


def test_feed_headings_are_clean_and_description_is_summary_sized(sample: Built) -> None:
    """Issue 10 trap 14: no heading anchors in the feed; description is what apps list, content the notes."""
    for item in sample.items():
        description = item.findtext("description")
        content = item.findtext("content:encoded", namespaces=NS)
        for text in (description, content):
            assert 'class="anchor"' not in text and "<h2 id=" not in text
        assert description != content
        assert description.startswith("<p>") and description.endswith("Full show notes</a></p>")
        assert len(notes.plain_text(description)) <= notes.SUMMARY_CHARS + len("Full show notes") + 2
        assert item.findtext("itunes:summary", namespaces=NS) in notes.plain_text(description)
        assert "<h2>" in content


def test_the_feed_renders_no_notes_it_reads_the_build_record(
    sample: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """4,500 episodes: the notes rendered once into each BuiltEpisode are what the feed prints; it renders none."""
    show = sample.result.show
    folder = tmp_path / "episode"
    folder.mkdir()
    shutil.copyfile(sample.show_yaml.parent / "episodes" / FIRST / "audio.flac", folder / "audio.flac")
    template = sample.result.public[0]
    public = []
    for i in range(4500, 0, -1):
        ep = model.Episode.model_validate(
            {
                "slug": f"episode-{i}",
                "dir": folder,
                "source": folder / "episode.md",
                "title": f"Episode {i}",
                "notes": f"Notes for **episode {i}**.\n",
                "date": dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i),
                "audio": "audio.flac",
            },
            context={"base": folder},
        )
        public.append(
            dataclasses.replace(
                template,
                episode=ep,
                guid=f"guid-{i}",
                transcripts=(),
                chapters_url=None,
                rendered=notes.render_notes(ep.notes),
            )
        )
    rendered: list[str] = []

    def counting(markdown: str) -> notes.Notes:
        rendered.append(markdown)
        return real(markdown)

    real = notes.render_notes
    monkeypatch.setattr(notes, "render_notes", counting)
    first = feed.build_feed(show, public, artwork_url=sample.result.artwork_url)
    second = feed.build_feed(show, public, artwork_url=sample.result.artwork_url)
    assert rendered == []
    assert second == first
    assert (
        feedparser.parse(first).entries[-1].content[0].value == "<p>Notes for <strong>episode 1</strong>.</p>"
    )


# --------------------------------------------------------------------------- golden bytes


def _compare_golden(path: Path, actual: bytes, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.is_file(), f"{path} is missing: run `pytest tests/test_feed.py --update-golden`"
    expected = path.read_bytes()
    if actual != expected:
        diff = difflib.unified_diff(
            expected.decode().splitlines(), actual.decode().splitlines(), "golden", "built", lineterm="", n=1
        )
        pytest.fail(
            f"{path.relative_to(REPO)} differs from this build (review, then `pytest --update-golden`; "
            "changed enclosure sizes or hashes mean a different ffmpeg/LAME build):\n"
            + "\n".join(list(diff)[:60])
        )


def test_feed_is_byte_identical_to_the_golden_file(sample: Built, update_golden: bool) -> None:
    _compare_golden(GOLDEN_FEED, sample.xml, update_golden)


SIDECARS = [
    f"episodes/{FIRST}/chapters.json",
    f"episodes/{FIRST}/transcript.vtt",
    f"episodes/{FIRST}/transcript.srt",
    "episodes/shin-splints-are-a-load-problem/chapters.json",
]


@pytest.mark.parametrize("key", SIDECARS)
def test_sidecar_files_are_byte_identical_to_golden(sample: Built, update_golden: bool, key: str) -> None:
    _compare_golden(GOLDEN_SIDECARS / key, (sample.out / key).read_bytes(), update_golden)


def test_two_builds_in_different_folders_are_byte_identical(sample: Built, tmp_path: Path) -> None:
    """A fresh copy with its own empty audio cache (so audio is encoded again) builds the same bytes."""
    other = build_show(sample_copy(tmp_path / "elsewhere" / "show"), tmp_path / "fresh-cache")
    assert other.result.encoded == 3
    assert other.xml == sample.xml
    for key in SIDECARS:
        assert (other.out / key).read_bytes() == (sample.out / key).read_bytes()


# --------------------------------------------------------------------------- the CLI: validate and feed


@pytest.mark.parametrize(
    "profiles", [(), *((p,) for p in PROFILES), PROFILES], ids=lambda p: "+".join(p) or "all"
)
def test_validate_finds_no_errors_in_the_sample_feed(sample: Built, profiles: tuple[str, ...]) -> None:
    args = ["validate", str(sample.out / "feed.xml"), "--now", NOW.isoformat()]
    args += [a for p in profiles for a in ("--profile", p)]
    text = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert text.exit_code == ExitCode.OK, text.output
    assert " 0 errors, " in text.stdout.splitlines()[-1]
    assert "in 3 episodes" in text.stdout.splitlines()[-1]
    as_json = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert as_json.exit_code == ExitCode.OK
    report = json.loads(as_json.stdout)
    assert report["ok"] is True and report["items"] == 3 and report["counts"]["error"] == 0
    assert all(f["severity"] != "error" for f in report["findings"])


def test_validate_github_format_is_workflow_commands(sample: Built) -> None:
    feed_path = str(sample.out / "feed.xml")
    result = CliRunner().invoke(
        cli, ["validate", feed_path, "--format", "github", "--now", NOW.isoformat()], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.OK
    *annotations, summary = result.stdout.splitlines()
    assert annotations, "the sample's long notes give at least one warning to annotate"
    for line in annotations:
        assert re.fullmatch(
            rf"::(warning|notice) file={re.escape(feed_path)},line=\d+,title=PC\d{{3}}::.+", line
        ), line
    assert summary.startswith(f"{feed_path}: 0 errors")


def test_podcast_feed_writes_only_the_feed_and_its_sidecars(
    sample: Built, tmp_path: Path, cache: Path
) -> None:
    show_yaml = sample_copy(tmp_path / "show")
    seed_cache(cache, show_yaml)
    out = show_yaml.parent / "build"
    stale_page = out / "episodes" / FIRST / "index.html"
    stale_page.parent.mkdir(parents=True)
    stale_page.write_text("<p>the page from the last full build</p>")
    result = CliRunner().invoke(
        cli, ["feed", "--show", str(show_yaml), "--now", NOW.isoformat()], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.strip() == f"Feed written to {out / 'feed.xml'} (3 episodes)."
    assert (out / "feed.xml").read_bytes() == sample.xml
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert files >= {"feed.xml", *SIDECARS, sample.key(sample.result.artwork_url)}
    assert [f for f in files if f.endswith(".html")] == [stale_page.relative_to(out).as_posix()]
    assert stale_page.read_text() == "<p>the page from the last full build</p>"
    assert not (out / "sitemap.xml").exists()


CONTROL_CHARACTERS = [
    (
        "episodes/coming-back-after-a-running-injury/episode.md",
        "title: Coming back after a running injury",
        'title: "Coming back\\x0c after a running injury"',
        "title",
    ),
    (
        "show.yaml",
        "copyright: Maya Okafor, CC BY 4.0",
        'copyright: "Maya Okafor\\x0b, CC BY 4.0"',
        "copyright",
    ),
]


@pytest.mark.parametrize(
    ("file", "old", "new", "field"), CONTROL_CHARACTERS, ids=["episode-title", "show-copyright"]
)
def test_a_control_character_is_one_error_line_not_a_traceback(
    tmp_path: Path, cache: Path, file: str, old: str, new: str, field: str
) -> None:
    """XML cannot carry most C0 control characters; one pasted into a title must not crash the build."""
    show_yaml = sample_copy(tmp_path / "show")
    seed_cache(cache, show_yaml)
    path = show_yaml.parent / file
    path.write_text(path.read_text().replace(old, new))
    result = CliRunner().invoke(cli, ["--quiet", "feed", "--show", str(show_yaml), "--now", NOW.isoformat()])
    assert result.exit_code == ExitCode.ERROR
    assert "Traceback" not in result.output
    line, *rest = result.stderr.splitlines()  # caught when the show loads: one problem, then the tally
    assert rest in ([], ["Aborted: 1 problem in 1 file."])
    assert line.startswith(f"Error: {file}: {field}: contains the control character ")
    assert not (show_yaml.parent / "build" / "feed.xml").exists()


# --------------------------------------------------------------------------- the CI workflow for hosts


def test_workflow_is_valid_and_runs_check_feed_and_validate() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert set(triggers) == {"push", "pull_request"}
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [s["uses"].split("@")[0] for s in steps if "uses" in s]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert str(setup["with"]["python-version"]) == "3.11"
    runs = [s["run"].strip() for s in steps if "run" in s]
    assert runs == [
        "pip install .",
        "podcast check",
        "podcast feed",
        "podcast validate build/feed.xml --format github",
    ]
    assert "pip install git+https://github.com/" in WORKFLOW.read_text().replace('"', "")


def test_workflow_commands_pass_on_the_sample_show(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run the workflow's podcast commands, as written, in a checkout of the sample show."""
    show_yaml = sample_copy(tmp_path / "checkout")
    seed_cache(cache, show_yaml)
    monkeypatch.chdir(show_yaml.parent)
    monkeypatch.delenv("PODCAST_SHOW", raising=False)
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["feed"]["steps"]
    commands = [shlex.split(s["run"]) for s in steps if s.get("run", "").startswith("podcast ")]
    assert [c[1] for c in commands] == ["check", "feed", "validate"]
    for argv in commands:
        result = CliRunner().invoke(cli, argv[1:], catch_exceptions=False)
        assert result.exit_code == ExitCode.OK, f"{shlex.join(argv)}:\n{result.output}"
    assert "::error" not in result.stdout
    assert " 0 errors, " in result.stdout.splitlines()[-1]
