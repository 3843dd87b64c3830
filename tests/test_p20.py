"""Issue 13 part A: every new Podcasting 2.0 tag from show.yaml/front matter, read back by podcast-partytime
(the maintained parser of the namespace) or, where partytime has no reader, by lxml against the spec's rules;
feedparser and podcastparser still read every item; RFC 5005 archive pages hold every item exactly once,
never change once written, and `validate` follows and checks the chain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import feedparser
import podcastparser
import pytest
from lxml import etree

from pipeline import build, feed, model, urls
from pipeline.artifacts import BuiltEpisode
from pipeline.errors import ContentErrors
from pipeline.ids import FH
from pipeline.manifest import Kind, Output
from pipeline.validate import read_source, validate
from tests._ci import unavailable
from tests.conftest import REPO, copy_sample_show

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
START = dt.datetime(2024, 1, 1, 7, tzinfo=dt.UTC)  # episode i of a synthetic catalogue is out on day i
P = "https://podcastindex.org/namespace/1.0"
NS = {"podcast": P, "atom": "http://www.w3.org/2005/Atom", "fh": FH}
PARTYTIME = REPO / ".cache/npm/node_modules/podcast-partytime"
KNEES = "episodes/why-your-knees-hurt-when-you-run/episode.md"
COMING_BACK = "episodes/coming-back-after-a-running-injury/episode.md"
NODE = "03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a"

#: The rest of the namespace, on top of the sample show's subset (show.yaml and episodes/ already carry
#: medium, license, location, updateFrequency, value + an item split, podroll, trailer and a soundbite).
MORE_SHOW = """
txt:
  - text: stride-clinic-verify-2f9c
    purpose: applepodcastsverify
  - free text for anyone
social_interact:
  - protocol: activitypub
    uri: https://podcastindex.social/@maya/110000000000000001
    account_id: "@maya@podcastindex.social"
    priority: 1
block: [google, youtube]
"""
MORE_KNEES = """transcript: transcript.vtt
season_name: The basics
episode_display: Knees, part 1
funding:
  - url: https://stride-clinic.example.com/support/knees/
    text: Sponsor the knee series
txt:
  - text: knees-verify-1234
    purpose: verify
license:
  identifier: stride-clinic-1.0
  url: https://stride-clinic.example.com/license/
location:
  name: Ashton Court, Bristol
  geo: geo:51.4440,-2.6346
  osm: W4330286
  country: GB
social_interact:
  - protocol: activitypub
    uri: https://podcastindex.social/@maya/110000000000000002
    account_id: "@maya@podcastindex.social"
    account_url: https://podcastindex.social/@maya
"""


def _rich(root: Path) -> None:
    (root / "show.yaml").write_text((root / "show.yaml").read_text() + MORE_SHOW)
    knees = root / KNEES
    knees.write_text(knees.read_text().replace("transcript: transcript.vtt\n", MORE_KNEES, 1))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("p20-cache")


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> build.BuildResult:
    show_yaml = copy_sample_show(tmp_path_factory.mktemp("rich") / "show")
    _rich(show_yaml.parent)
    return build.build(show_yaml, now=NOW, cache_dir=cache, feed_only=True)


def _xml(result: build.BuildResult) -> bytes:
    return (result.out_dir / urls.FEED_KEY).read_bytes()


def partytime(path: Path) -> dict[str, Any]:
    """The feed as podcast-partytime's parseFeed sees it (JSON from a small node script)."""
    if shutil.which("node") is None or not (PARTYTIME / "package.json").is_file():
        unavailable("podcast-partytime is not installed (scripts/test.sh installs it into .cache/npm)")
    script = (
        "const {parseFeed} = require(process.argv[1]);"
        "const xml = require('fs').readFileSync(process.argv[2], 'utf8');"
        "process.stdout.write(JSON.stringify(parseFeed(xml)));"
    )
    out = subprocess.run(
        ["node", "-e", script, str(PARTYTIME), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    parsed = json.loads(out.stdout)
    assert isinstance(parsed, dict)
    return parsed


def _item(parsed: dict[str, Any], slug: str) -> dict[str, Any]:
    items = parsed["items"]
    assert isinstance(items, list)
    (found,) = [i for i in items if i["link"].endswith(f"/episodes/{slug}/")]
    return dict(found)


# --------------------------------------------------------------------------- read back by partytime


def test_partytime_reads_every_channel_tag(rich: build.BuildResult) -> None:
    pt = partytime(rich.out_dir / urls.FEED_KEY)
    assert pt["medium"] == "podcast"
    assert pt["license"] == {"identifier": "cc-by-4.0", "url": "https://spdx.org/licenses/CC-BY-4.0.html"}
    assert pt["podcastLocation"] == {"name": "Bristol, UK", "geo": "geo:51.4545,-2.5879"}
    assert pt["value"] == {
        "type": "lightning",
        "method": "keysend",
        "suggested": 5e-08,
        "recipients": [
            {"name": "Dr. Maya Okafor", "type": "node", "address": NODE, "split": 95, "fee": False},
            {
                "name": "Stride Clinic producer",
                "type": "lnaddress",
                "address": "producer@getalby.com",
                "split": 5,
                "fee": False,
            },
        ],
    }
    assert pt["podroll"] == [
        {
            "feedGuid": "6a2b5c8e-0d3f-5b41-9c7e-2f1a8d4e6b90",
            "feedUrl": "https://trail-talk.example.com/feed.xml",
            "title": "Trail Talk",
        }
    ]
    (trailer,) = pt["trailers"]
    assert trailer == {
        "title": "Welcome to The Stride Clinic",
        "url": "https://stride-clinic.example.com/media/trailer.mp3",
        "pubdate": "2025-02-25T07:00:00.000Z",
        "type": "audio/mpeg",
        "length": 245760,
        "season": 1,
    }
    assert pt["podcastTxt"] == [
        {"value": "stride-clinic-verify-2f9c", "purpose": "applepodcastsverify"},
        {"value": "free text for anyone"},
    ]
    assert pt["podcastBlocked"] == "no"  # no unbounded block: only the two platforms are named
    assert pt["podcastBlockedPlatforms"] == {"google": True, "youtube": True}


def test_partytime_reads_every_item_tag_and_the_guest_split(rich: build.BuildResult) -> None:
    pt = partytime(rich.out_dir / urls.FEED_KEY)
    knees = _item(pt, "why-your-knees-hurt-when-you-run")
    assert knees["podcastSeason"] == {"number": 1, "name": "The basics"}
    assert knees["podcastEpisode"] == {"number": 1, "display": "Knees, part 1"}
    assert knees["podcastSoundbites"] == [
        {
            "startTime": 0.5,
            "duration": 14,
            "title": "Runner's knee, patellar tendinopathy and the IT band in one breath",
        }
    ]
    assert knees["license"] == {
        "identifier": "stride-clinic-1.0",
        "url": "https://stride-clinic.example.com/license/",
    }
    assert knees["podcastLocation"] == {
        "name": "Ashton Court, Bristol",
        "osm": "W4330286",
        "geo": "geo:51.4440,-2.6346",
    }
    assert knees["podcastTxt"] == [{"value": "knees-verify-1234", "purpose": "verify"}]
    assert knees["podcastSocialInteraction"] == [
        {
            "platform": "activitypub",
            "id": "@maya@podcastindex.social",
            "url": "https://podcastindex.social/@maya/110000000000000002",
            "profileUrl": "https://podcastindex.social/@maya",
        }
    ]
    guest = _item(pt, "coming-back-after-a-running-injury")
    value = guest["value"]
    assert isinstance(value, dict)
    assert [(r["name"], r["type"], r["split"]) for r in value["recipients"]] == [
        ("Dr. Maya Okafor", "node", 50),
        ("Sam Whitfield", "lnaddress", 50),
    ]
    # an episode without its own value block gets the show's (partytime copies it down, as apps do)
    shins = _item(pt, "shin-splints-are-a-load-problem")
    assert [r["split"] for r in shins["value"]["recipients"]] == [95, 5]


def test_tags_partytime_does_not_read_follow_the_spec(rich: build.BuildResult) -> None:
    """updateFrequency, channel socialInteract and item funding: partytime 5 has no reader; lxml checks them."""
    root = etree.fromstring(_xml(rich))
    (freq,) = root.xpath("/rss/channel/podcast:updateFrequency", namespaces=NS)
    assert (freq.text, dict(freq.attrib)) == ("Every Tuesday", {"rrule": "FREQ=WEEKLY;BYDAY=TU"})
    (social,) = root.xpath("/rss/channel/podcast:socialInteract", namespaces=NS)
    assert dict(social.attrib) == {
        "priority": "1",
        "protocol": "activitypub",
        "uri": "https://podcastindex.social/@maya/110000000000000001",
        "accountId": "@maya@podcastindex.social",
    }
    (fund,) = root.xpath("//item[podcast:season]/podcast:funding", namespaces=NS)
    assert (fund.get("url"), fund.text) == (
        "https://stride-clinic.example.com/support/knees/",
        "Sponsor the knee series",
    )
    # single-use tags are single, and the namespace's own rules hold (our validator reads the spec's rules)
    for tag in ("medium", "podroll", "updateFrequency", "license", "value", "guid", "locked"):
        assert len(root.xpath(f"/rss/channel/podcast:{tag}", namespaces=NS)) == 1, tag
    report = validate(_xml(rich), source="feed.xml", now=NOW)
    assert not report.has_errors
    assert {f.rule for f in report.findings} <= {"PC319", "PC333"}  # long notes; a 14 s soundbite


def test_feedparser_and_podcastparser_still_read_every_item(rich: build.BuildResult) -> None:
    data = _xml(rich)
    fp = feedparser.parse(data)
    assert not fp.bozo, fp.get("bozo_exception")
    assert [e.title for e in fp.entries] == [
        "Coming back after a running injury",
        "Shin splints are a load problem",
        "Why your knees hurt when you run",
    ]
    assert all(len(e.enclosures) == 1 for e in fp.entries)
    pp = podcastparser.parse(rich.show.feed_url, io.BytesIO(data))
    assert len(pp["episodes"]) == 3
    assert all(ep["enclosures"] for ep in pp["episodes"])


def test_the_sample_shows_value_splits_podroll_and_location_on_its_pages(tmp_path: Path, cache: Path) -> None:
    show_yaml = copy_sample_show(tmp_path / "show")
    result = build.build(show_yaml, now=NOW, cache_dir=cache)
    page = (result.out_dir / "episodes/coming-back-after-a-running-injury/index.html").read_text()
    assert '<span class="value-name">Sam Whitfield</span> <span class="value-share">50%</span>' in page
    other = (result.out_dir / "episodes/shin-splints-are-a-load-problem/index.html").read_text()
    assert '<span class="value-name">Dr. Maya Okafor</span> <span class="value-share">95%</span>' in other
    index = (result.out_dir / "index.html").read_text()
    assert "Shows we like" in index and ">Trail Talk</a>" in index
    assert "Made in: " in index and "Bristol, UK" in index


# --------------------------------------------------------------------------- model errors


@pytest.mark.parametrize(
    ("where", "old", "new", "line"),
    [
        (
            "show.yaml",
            f"address: {NODE}",
            "address: not-a-key",
            "show.yaml: value.recipients[0]: address 'not-a-key' is not a Lightning node public key",
        ),
        (
            "show.yaml",
            "split: 95",
            "split: 150\n      fee: true",
            "show.yaml: value.recipients[0]: a fee split is a percentage, got 150",
        ),
        (
            "show.yaml",
            "feed_guid: 6a2b5c8e-0d3f-5b41-9c7e-2f1a8d4e6b90",
            "feed_guid: trail-talk",
            "show.yaml: podroll[0].feed_guid: 'trail-talk' is not a podcast:guid",
        ),
        (
            "show.yaml",
            "license: cc-by-4.0",
            "license: my-own",
            "show.yaml: license: 'my-own' is not a well-known",
        ),
        ("show.yaml", "medium: podcast", "medium: radio", "show.yaml: medium: expected 'podcast'"),
        (
            "show.yaml",
            "geo: geo:51.4545,-2.5879",
            "geo: 51.4545,-2.5879",
            "show.yaml: location.geo: '51.4545",
        ),
        (
            "show.yaml",
            "rrule: FREQ=WEEKLY;BYDAY=TU",
            "rrule: every week",
            "show.yaml: update_frequency.rrule:",
        ),
        (
            "show.yaml",
            "medium: podcast",
            "block: [spotifi]",
            "show.yaml: block: 'spotifi' is not a platform slug",
        ),
        (
            "show.yaml",
            "medium: podcast",
            "block: spotifi",
            "show.yaml: block: 'spotifi' is not a platform slug",
        ),
        (
            "show.yaml",
            "    - format: opus\n      bitrate: 32\n",  # the sample show's one alternate
            "    - format: flac\n      bitrate: 64\n",
            "show.yaml: audio.alternates[0]: flac is lossless and takes no bitrate",
        ),
        (
            "show.yaml",
            "      title: Low data\n",
            "      title: Low data\n      default: true\n    - {format: m4a, default: true}\n",
            "show.yaml: audio.alternates: more than one alternate says default: true",
        ),
        (
            KNEES,
            "    duration: 14\n",
            "    duration: 0\n",
            f"{KNEES}: soundbites[0].duration: must be greater than 0",
        ),
        (KNEES, "season: 1\n", "season_name: Knees\n", f"{KNEES}: season_name: needs season"),
    ],
)
def test_bad_p20_settings_are_one_line_errors(
    tmp_path: Path, where: str, old: str, new: str, line: str
) -> None:
    show_yaml = copy_sample_show(tmp_path / "show")
    path = show_yaml.parent / where
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ContentErrors) as caught:
        model.load(show_yaml)
    lines = [str(p) for p in caught.value.problems]
    assert any(ln.startswith(line) for ln in lines), lines
    assert all("\n" not in ln for ln in lines)


def test_medium_values_are_the_namespace_list() -> None:
    import typing

    from pipeline.ids import MEDIUMS

    assert typing.get_args(model.Medium) == MEDIUMS


# --------------------------------------------------------------------------- RFC 5005 archives


def _many(result: build.BuildResult, count: int) -> list[BuiltEpisode]:
    """`count` distinct public episodes (newest first), made from the sample's built ones."""
    base = sorted(result.public, key=lambda b: b.episode.date)
    out = []
    for i in range(count):
        b = base[i % len(base)]
        ep = b.episode.model_copy(
            update={"slug": f"ep-{i:03d}", "date": START + dt.timedelta(days=i), "number": i + 1}
        )
        out.append(dataclasses.replace(b, episode=ep, guid=f"guid-{i:03d}", page_url=f"{b.page_url}{i}/"))
    return out[::-1]


def _paged(result: build.BuildResult, size: int) -> model.Show:
    return result.show.model_copy(update={"feed": model.FeedSettings(archive_after=size)})


def _write(outputs: list[Output], folder: Path) -> Path:
    for o in outputs:
        target = folder / o.key
        target.parent.mkdir(parents=True, exist_ok=True)
        assert isinstance(o.data, bytes)
        target.write_bytes(o.data)
    return folder / urls.FEED_KEY


def _guids(data: bytes | Path) -> list[str]:
    assert isinstance(data, bytes)
    return [g.text or "" for g in etree.fromstring(data).iter("guid")]


def test_archives_are_off_by_default(rich: build.BuildResult) -> None:
    outputs = feed.render(rich.show, _many(rich, 7), artwork_url="https://x.example/a.jpg")
    assert [o.key for o in outputs] == ["feed.xml"]
    assert isinstance(outputs[0].data, bytes) and b"prev-archive" not in outputs[0].data


def test_every_item_is_in_exactly_one_document_and_pages_are_full(rich: build.BuildResult) -> None:
    public = _many(rich, 23)
    outputs = feed.render(_paged(rich, 5), public, artwork_url="https://x.example/a.jpg")
    pages = [o for o in outputs if o.key != "feed.xml"]
    (main,) = [o for o in outputs if o.key == "feed.xml"]
    assert len(pages) == 3 and all(o.kind is Kind.ASSET and o.immutable for o in pages)
    assert main.kind is Kind.FEED
    assert len(_guids(main.data)) == 8  # newest 5 plus the 3 that do not fill a page
    every = [g for o in outputs for g in _guids(o.data)]
    assert sorted(every) == sorted(b.guid for b in public)
    assert all(len(_guids(o.data)) == 5 for o in pages)
    for o in pages:
        assert o.key.startswith("archive/") and o.key.endswith(".xml")
        assert isinstance(o.data, bytes)
        root = etree.fromstring(o.data)
        assert root.find(f"channel/{{{FH}}}archive") is not None
        (self_link,) = root.xpath("channel/atom:link[@rel='self']/@href", namespaces=NS)
        assert self_link == urls.url(rich.show, o.key)


def test_a_new_episode_rewrites_only_feed_xml_until_a_page_fills(rich: build.BuildResult) -> None:
    show = _paged(rich, 5)
    art = "https://x.example/a.jpg"
    before = {o.key: o.data for o in feed.render(show, _many(rich, 23), artwork_url=art)}
    grown = _many(rich, 24)
    after = {o.key: o.data for o in feed.render(show, grown, artwork_url=art)}
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {"feed.xml"}
    assert set(before) == set(after)
    # two more fill a fourth page: the three old pages stay byte-identical, one page is added
    fuller = {o.key: o.data for o in feed.render(show, _many(rich, 25), artwork_url=art)}
    assert {k for k in fuller if before.get(k) != fuller[k]} - {"feed.xml"} == set(fuller) - set(before)
    assert len(set(fuller) - set(before)) == 1


def test_a_paged_feed_is_read_by_feedparser_and_podcastparser_page_by_page(rich: build.BuildResult) -> None:
    outputs = feed.render(_paged(rich, 4), _many(rich, 13), artwork_url="https://x.example/a.jpg")
    total = 0
    for o in outputs:
        data = o.data
        assert isinstance(data, bytes)
        fp = feedparser.parse(data)
        assert not fp.bozo, fp.get("bozo_exception")
        pp = podcastparser.parse(urls.url(rich.show, o.key), io.BytesIO(data))
        assert len(pp["episodes"]) == len(fp.entries) == len(_guids(data))
        total += len(fp.entries)
    assert total == 13


def test_validate_follows_the_chain_and_finds_it_whole(rich: build.BuildResult, tmp_path: Path) -> None:
    outputs = feed.render(_paged(rich, 3), _many(rich, 11), artwork_url="https://x.example/a.jpg")
    path = _write(outputs, tmp_path)
    report = validate(path.read_bytes(), source=str(path), now=NOW)
    assert not [f for f in report.findings if f.rule in ("PC508", "PC509", "PC510")], report.findings
    assert report.items == 11


def test_validate_reports_a_missing_page_a_broken_link_and_a_duplicate(
    rich: build.BuildResult, tmp_path: Path
) -> None:
    outputs = feed.render(_paged(rich, 3), _many(rich, 11), artwork_url="https://x.example/a.jpg")
    path = _write(outputs, tmp_path)
    pages = sorted((tmp_path / "archive").glob("*.xml"))
    assert len(pages) == 2
    # a duplicated item: copy one of feed.xml's items into the newest page's place
    main = path.read_bytes()
    newest_href = etree.fromstring(main).xpath("channel/atom:link[@rel='prev-archive']/@href", namespaces=NS)[
        0
    ]
    newest = tmp_path / urls.archive_key(newest_href.rsplit("/", 1)[1].removesuffix(".xml"))
    original = newest.read_bytes()
    item = etree.tostring(etree.fromstring(main).find("channel/item"))
    newest.write_bytes(original.replace(b"</channel>", item + b"</channel>"))
    assert "PC510" in validate(main, source=str(path), now=NOW).rule_ids()
    # not marked as an archive
    newest.write_bytes(original.replace(b"<fh:archive/>", b""))
    assert "PC509" in validate(main, source=str(path), now=NOW).rule_ids()
    # missing
    newest.unlink()
    report = validate(main, source=str(path), now=NOW)
    (missing,) = [f for f in report.findings if f.rule == "PC508"]
    assert newest_href in missing.message and "\n" not in missing.message


def test_a_paged_sample_builds_and_the_cli_validates_the_whole_chain(tmp_path: Path, cache: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import cli

    show_yaml = copy_sample_show(tmp_path / "show")
    show_yaml.write_text(show_yaml.read_text() + "feed:\n  archive_after: 1\n")
    result = build.build(show_yaml, now=NOW, cache_dir=cache)
    pages = sorted((result.out_dir / "archive").glob("*.xml"))
    assert len(pages) == 2  # 3 episodes in pages of 1 from the oldest: 2 pages, feed.xml keeps the newest
    assert len(_guids((result.out_dir / "feed.xml").read_bytes())) == 1
    run = CliRunner().invoke(cli, ["validate", str(result.out_dir / "feed.xml")], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert run.output.splitlines()[-1].endswith("0 errors, 2 warnings, 0 info in 3 episodes")
    # a page gone from the build folder is one clear error naming it
    pages[0].unlink()
    run = CliRunner().invoke(cli, ["validate", str(result.out_dir / "feed.xml")])
    assert run.exit_code == 1
    assert any("PC508" in line and pages[0].name in line for line in run.output.splitlines()), run.output


def test_validate_follows_archive_links_over_http(rich: build.BuildResult, tmp_path: Path) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        publish = rich.show.publish.model_copy(update={"public_base_url": base})
        show = _paged(rich, 2).model_copy(update={"publish": publish})
        _write(feed.render(show, _many(rich, 9), artwork_url=base + "a.jpg"), tmp_path)
        url = base + "feed.xml"
        report = validate(read_source(url), source=url, now=NOW)
        assert report.items == 9
        assert not [f for f in report.findings if f.rule in ("PC508", "PC509", "PC510")], report.findings
        for page in (tmp_path / "archive").glob("*.xml"):
            page.unlink()
        report = validate(read_source(url), source=url, now=NOW)
        assert "PC508" in report.rule_ids()
    finally:
        server.shutdown()
        server.server_close()


def test_a_trailer_episode_becomes_a_podcast_trailer_after_the_explicit_ones(
    tmp_path: Path, cache: Path
) -> None:
    show_yaml = copy_sample_show(tmp_path / "show")
    folder = show_yaml.parent / "episodes/meet-the-clinic"
    folder.mkdir()
    shutil.copyfile(
        show_yaml.parent / "episodes/coming-back-after-a-running-injury/audio.mp3", folder / "audio.mp3"
    )
    (folder / "episode.md").write_text(
        "---\ntitle: Meet the clinic\ndate: 2025-02-20T07:00:00+00:00\ntype: trailer\nseason: 1\n"
        "audio: audio.mp3\n---\nA minute about the show.\n"
    )
    result = build.build(show_yaml, now=NOW, cache_dir=cache, feed_only=True)
    (built,) = [b for b in result.public if b.episode.slug == "meet-the-clinic"]
    pt = partytime(result.out_dir / urls.FEED_KEY)
    assert [t["title"] for t in pt["trailers"]] == ["Welcome to The Stride Clinic", "Meet the clinic"]
    auto = pt["trailers"][1]
    assert auto == {
        "title": "Meet the clinic",
        "url": built.audio.url,
        "pubdate": "2025-02-20T07:00:00.000Z",
        "type": built.audio.mime,
        "length": built.audio.size,
        "season": 1,
    }
