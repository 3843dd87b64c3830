"""The companion site, built for real from the sample show and checked in Chromium, by bytes, and by cache use."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import pytest

from pipeline import build, site
from pipeline.cache import PagePacks
from pipeline.errors import ContentError, ContentErrors
from pipeline.manifest import Kind
from pipeline.serve import Server
from tests.conftest import NOW, copy_sample_show

pytest_plugins = ["tests._browser_fixtures"]  # browser, page, page_without_js, axe, screenshot, serve

GOLDEN = Path(__file__).resolve().parent / "golden" / "site"
BASE = "https://stride-clinic.example.com/"
KNEES, SHINS, COMING = (
    "why-your-knees-hurt-when-you-run",
    "shin-splints-are-a-load-problem",
    "coming-back-after-a-running-injury",
)
PUBLISHED = (COMING, SHINS, KNEES)  # newest first
PAGES = (
    "index.html",
    *(f"episodes/{slug}/index.html" for slug in PUBLISHED),
    "404.html",
    "sitemap.xml",
    "robots.txt",
)

HOSTILE_NOTES = """
## Things a hostile notes file tries

<script>window.__pwned = "script"</script>

<img src="../../robots.txt" alt="x" onerror="window.__pwned='onerror'" onload="window.__pwned='onload'">

[a javascript link](javascript:window.__pwned='md-link')

<a href="JaVaScRiPt:window.__pwned='mixed-case'">a mixed-case javascript link</a>

<iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>

<svg onload="window.__pwned='svg'"><circle r="5"></circle></svg>

<style>body { display: none !important; }</style>

<details open ontoggle="window.__pwned='ontoggle'"><summary>details</summary>inside</details>

<div style="position:fixed;inset:0;background:red" onmouseover="window.__pwned='hover'">hover me</div>

Skip to [the return](#t=00:00:05) in the audio.
"""


# --------------------------------------------------------------------------- builds


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the module's builds, so each sample recording is encoded once."""
    return tmp_path_factory.mktemp("cache")


def build_copy(root: Path, cache_dir: Path, edit: Callable[[Path], None] | None = None) -> build.BuildResult:
    """Build a fresh copy of the sample show (changed by `edit(show_root)` first) into root/out."""
    show_yaml = copy_sample_show(root / "show")
    if edit is not None:
        edit(show_yaml.parent)
    return build.build(show_yaml, now=NOW, out_dir=root / "out", cache_dir=cache_dir)


def copy_cache(cache_dir: Path, dest: Path) -> Path:
    """The encoded audio of a cache, without its rendered pages (so a build with it renders every page)."""
    shutil.copytree(cache_dir, dest, ignore=shutil.ignore_patterns("site", "stat.json"))
    return dest


def set_front_matter(episode_md: Path, **fields: str) -> None:
    head, sep, body = episode_md.read_text().partition("\n---\n")
    lines = [line for line in head.splitlines() if line.split(":")[0] not in fields]
    episode_md.write_text("\n".join([*lines, *(f"{k}: {v}" for k, v in fields.items())]) + sep + body)


def add_episode(root: Path, slug: str, **fields: str) -> None:
    folder = root / "episodes" / slug
    folder.mkdir()
    shutil.copy2(root / "episodes" / COMING / "audio.mp3", folder / "audio.mp3")
    head = "\n".join(
        f"{k}: {v}"
        for k, v in {"title": slug.replace("-", " ").capitalize(), "audio": "audio.mp3", **fields}.items()
    )
    (folder / "episode.md").write_text(f"---\n{head}\n---\nNotes for {slug}.\n")


def make_variant(root: Path) -> None:
    """Hostile notes and a video on one episode, a draft, a scheduled episode, a pale theme, two per page."""
    notes = root / "episodes" / COMING / "episode.md"
    notes.write_text(notes.read_text() + HOSTILE_NOTES)
    set_front_matter(notes, video="https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    add_episode(root, "a-draft-episode", date="2025-03-20T07:00:00+00:00", draft="true")
    add_episode(root, "next-weeks-episode", date="2025-06-08T07:00:00+00:00")  # after NOW
    show = root / "show.yaml"
    show.write_text(
        show.read_text()
        .replace('color: "#b4381f"', 'color: "#f5d547"')
        .replace("page_size: 20", "page_size: 2")
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> build.BuildResult:
    """The sample show as it is, built once for the module."""
    return build_copy(tmp_path_factory.mktemp("sample"), cache)


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> build.BuildResult:
    return build_copy(tmp_path_factory.mktemp("variant"), cache, make_variant)


@pytest.fixture(scope="module")
def served(sample: build.BuildResult) -> Any:
    server = Server(sample.out_dir, port=0).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def variant_served(variant: build.BuildResult) -> Any:
    server = Server(variant.out_dir, port=0).start()
    yield server
    server.stop()


def html(result: build.BuildResult, key: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((result.out_dir / key).read_bytes())


def render_site(show: Any, public: Any, *, cache_dir: Path | None = None, **inputs: Any) -> site.SiteRender:
    """site.render_site with the page cache kept in cache_dir, driven as build.py drives it (site writes nothing)."""
    packs = PagePacks(cache_dir) if cache_dir is not None else None
    try:
        result = site.render_site(show, public, cache=packs, **inputs)
        if packs is not None:
            packs.save()
    finally:
        if packs is not None:
            packs.close()
    return result


def site_inputs(result: build.BuildResult) -> dict[str, Any]:
    """The arguments build.py gives site.render, recovered from a build's outputs."""
    keys: dict[Path, str] = {}
    for o in result.outputs:
        if o.kind is Kind.ASSET and isinstance(o.data, Path):
            keys.setdefault(o.data, o.key)
    return {
        "asset_keys": keys,
        "artwork_key": keys[result.show.artwork],
        "templates": result.show.root / "templates",
    }


# --------------------------------------------------------------------------- what the build folder holds


def test_site_outputs_kinds_and_types(sample: build.BuildResult):
    by_key = {o.key: o for o in sample.outputs}
    for key in PAGES:
        assert (sample.out_dir / key).is_file(), key
        assert by_key[key].kind is Kind.PAGE
    assert by_key["index.html"].content_type == "text/html; charset=utf-8"
    assert by_key["sitemap.xml"].content_type == "application/xml; charset=utf-8"
    assert by_key["robots.txt"].content_type == "text/plain; charset=utf-8"
    assert (by_key["static/style.css"].kind, by_key["static/style.css"].content_type) == (
        Kind.ASSET,
        "text/css; charset=utf-8",
    )
    assert by_key["static/player.js"].content_type == "text/javascript; charset=utf-8"
    assert by_key["static/style.css"].data == (site.TEMPLATES / "style.css").read_bytes()


def test_episode_page_content_and_metadata(sample: build.BuildResult):
    doc = html(sample, f"episodes/{KNEES}/index.html")
    built = next(b for b in sample.public if b.episode.slug == KNEES)
    page_url = f"{BASE}episodes/{KNEES}/"
    meta = {
        m.get("property") or m.get("name"): m.get("content") for m in doc.iter("meta") if m.get("content")
    }
    assert doc.findtext(".//title") == "Why your knees hurt when you run · The Stride Clinic"
    assert [h.text_content() for h in doc.iter("h1")] == ["Why your knees hurt when you run"]
    assert (
        meta["description"].startswith("Runner's knee, patellar tendinopathy")
        and len(meta["description"]) <= 300
    )
    assert doc.xpath("//link[@rel='canonical']/@href") == [page_url]
    assert doc.xpath("//link[@rel='alternate'][@type='application/rss+xml']/@href") == [BASE + "feed.xml"]
    assert (meta["og:type"], meta["og:title"], meta["og:url"]) == ("article", built.episode.title, page_url)
    # The episode's share card (tests/test_visuals.py draws and measures it), a large summary card.
    assert built.share_card_url and built.share_card_url.startswith(f"{BASE}episodes/{KNEES}/")
    assert meta["og:image"] == built.share_card_url and meta["og:image:width"] == "1200"
    assert (meta["og:audio"], meta["og:audio:type"]) == (built.audio.url, "audio/mpeg")
    assert (meta["twitter:card"], meta["twitter:title"], meta["twitter:image"]) == (
        "summary_large_image",
        built.episode.title,
        built.share_card_url,
    )
    data = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert (data["@type"], data["name"], data["url"], data["episodeNumber"]) == (
        "PodcastEpisode",
        built.episode.title,
        page_url,
        1,
    )
    assert data["datePublished"] == "2025-03-04T07:00:00+00:00"
    assert re.fullmatch(r"PT1[45]S", data["duration"])  # the built audio is about 15 s long
    assert data["associatedMedia"]["contentUrl"] == built.audio.url
    assert data["partOfSeries"] == {
        "@type": "PodcastSeries",
        "name": "The Stride Clinic",
        "url": BASE,
        "webFeed": BASE + "feed.xml",
    }
    # the player and everything around it; navigation and assets are relative, so any base works
    audio = doc.xpath("//audio")[0]
    assert (audio.get("controls"), audio.get("preload")) == ("", "metadata")
    assert audio.xpath("source/@src") == [built.audio.key.removeprefix(f"episodes/{KNEES}/")]
    assert doc.xpath("//a[@download]/@href")[0] == audio.xpath("source/@src")[0]
    assert "4 min read" in doc.xpath("//ul[@class='facts']")[0].text_content()
    assert [a.get("href") for a in doc.xpath("//ol[@data-chapters]//a[@class='chapter-seek']")][1:3] == [
        f"{audio.xpath('source/@src')[0]}#t={t}" for t in (2, 4)
    ]
    assert doc.xpath("//section[@id='transcript']//details/summary/text()") == ["Read the full transcript"]
    assert doc.xpath("//section[@id='transcript']//a[@download]/@href") == [
        "transcript.vtt",
        "transcript.srt",
    ]
    assert doc.xpath("//div[@id='notes']/h2/@id")[0] == "runner-s-knee-when-the-kneecap-does-not-track"
    assert doc.xpath("//div[@id='notes']//table//th/text()") == ["Habit", "Why it helps"]
    assert doc.xpath("//aside//p[@class='host-name']/text()") == ["Dr. Maya Okafor"]
    assert doc.xpath("//section[@id='host']//img/@src") == [
        f"../../{site_inputs(sample)['asset_keys'][sample.show.root / 'host.jpg']}"
    ]
    assert doc.xpath("//div[@class='cta']//a/@href") == ["https://stride-clinic.example.com/ask/"]
    assert doc.xpath("//ul[@class='funding']//a/@href") == ["https://stride-clinic.example.com/support/"]
    assert doc.xpath("//section[@id='subscribe']//a/text()")[-2:] == ["Apple Podcasts", "Spotify"]
    # the host among the episode's people gets the site's own photo of her; nobody's picture is fetched from elsewhere
    assert doc.xpath("//ul[@class='people']//img/@src") == doc.xpath("//section[@id='host']//img/@src")
    assert all(
        not src.startswith(("http:", "https:", "//")) for src in doc.xpath("//img/@src | //script/@src")
    )
    assert doc.xpath("//a[@rel='next']/@href") == [f"../{SHINS}/"]  # the newer episode
    assert doc.xpath("//a[@rel='prev']") == []  # the oldest has none
    assert doc.xpath("//p[@class='back']/a/@href") == ["../../"]
    assert doc.xpath("//link[@rel='stylesheet']/@href")[0].startswith("../../static/style.css?v=")


def test_index_sitemap_robots(sample: build.BuildResult):
    doc = html(sample, "index.html")
    assert [h.text_content() for h in doc.iter("h1")] == ["The Stride Clinic"]
    assert doc.xpath("//h3[@class='episode-card-title']/a/@href") == [
        f"episodes/{slug}/" for slug in PUBLISHED
    ]
    first = doc.xpath("//article[@class='episode-card']")[0].text_content()
    assert (
        "Episode 3" in first
        and "18 March 2025" in first
        and "1 min read" in first
        and "1 min listen" in first
    )
    assert doc.xpath("//nav[@id='pagination']") == []  # three episodes fit one page of 20
    data = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert (data["@type"], data["webFeed"]) == ("PodcastSeries", BASE + "feed.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    root = ET.fromstring((sample.out_dir / "sitemap.xml").read_bytes())
    assert [e.text for e in root.findall("s:url/s:loc", ns)] == [
        BASE,
        *(f"{BASE}episodes/{s}/" for s in PUBLISHED),
    ]
    assert [e.text for e in root.findall("s:url/s:lastmod", ns)][:2] == ["2025-03-18", "2025-03-18"]
    assert (
        sample.out_dir / "robots.txt"
    ).read_text() == f"User-agent: *\nAllow: /\n\nSitemap: {BASE}sitemap.xml\n"
    not_found = html(sample, "404.html")
    assert not_found.xpath("//link[@rel='stylesheet']/@href")[0].startswith(
        "/static/style.css?v="
    )  # any depth
    assert not_found.xpath("//meta[@name='robots']/@content") == ["noindex"]


#: Content-addressed key segments and the static files' version: digests of other stages' bytes (the tagged
#: audio, the stylesheet), which would make these pages churn whenever those change. Compared as a marker.
DIGESTS = re.compile(rb"\b[0-9a-f]{16}(?=/)|(?<=\?v=)[0-9a-f]{10}\b")


def test_golden_pages(sample: build.BuildResult, update_golden: bool):
    for key in PAGES:
        golden = GOLDEN / key
        actual = DIGESTS.sub(b"<digest>", (sample.out_dir / key).read_bytes())
        if update_golden:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(actual)
            continue
        assert golden.is_file(), f"{golden} is missing: run pytest --update-golden"
        assert actual == golden.read_bytes(), (
            f"{key} differs from tests/golden/site/{key} (pytest --update-golden)"
        )


def test_two_builds_give_byte_identical_pages(sample: build.BuildResult, cache: Path, tmp_path: Path):
    again = build.build(
        sample.show.root / "show.yaml",
        now=NOW,
        out_dir=tmp_path / "out",
        cache_dir=copy_cache(cache, tmp_path / "cache"),
    )
    for key in (*PAGES, "static/style.css", "static/player.js"):
        assert (again.out_dir / key).read_bytes() == (sample.out_dir / key).read_bytes(), key


def test_parallel_render_gives_the_same_pages(sample: build.BuildResult, tmp_path: Path):
    inputs = site_inputs(sample)
    serial = render_site(sample.show, sample.public, workers=1, **inputs)
    parallel = render_site(sample.show, sample.public, workers=2, cache_dir=tmp_path, **inputs)
    assert [(o.key, o.data) for o in parallel.outputs] == [(o.key, o.data) for o in serial.outputs]
    assert parallel.rendered == serial.rendered and parallel.reused == ()


def many(sample: build.BuildResult, n: int) -> tuple[Any, ...]:
    """n published episodes made from the sample's (each its own slug, title and notes), newest first."""
    out = []
    for i in range(n):
        b = sample.public[i % len(sample.public)]
        ep = b.episode.model_copy(
            update={
                "slug": f"{b.episode.slug}-{i}",
                "title": f"{b.episode.title} ({i})",
                "notes": f"{b.episode.notes}\nPart {i}.\n",
            }
        )
        out.append(dataclasses.replace(b, episode=ep))
    return tuple(out)


def test_pages_are_byte_identical_serial_and_parallel(sample: build.BuildResult, tmp_path: Path):
    inputs = site_inputs(sample)
    public = many(sample, 41)  # several chunks, index pages inside and across chunk boundaries
    serial = render_site(sample.show, public, workers=1, **inputs)
    fresh = [dataclasses.replace(b) for b in public]  # records whose notes nobody has rendered yet
    for workers in (2, 3):
        parallel = render_site(
            sample.show, fresh, workers=workers, cache_dir=tmp_path / str(workers), **inputs
        )
        assert [(o.key, o.data) for o in parallel.outputs] == [(o.key, o.data) for o in serial.outputs]
        assert parallel.rendered == serial.rendered and parallel.reused == ()
    # Which process renders which notes is scheduling, not a property: chunks come off a shared counter, and
    # on a busy machine the parent can take every chunk before a forked worker starts (seen under xdist).
    # The bytes above are the property; the work sharing is measured in benchmarks/bench_site.py.
    again = render_site(sample.show, public, workers=2, cache_dir=tmp_path / "2", **inputs)
    assert again.rendered == () and [o.data for o in again.outputs] == [o.data for o in serial.outputs]

    # With another thread running (as under `podcast serve`), workers are spawned, not forked: same bytes.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        spawned = render_site(sample.show, public, workers=2, **inputs)
    finally:
        stop.set()
        thread.join()
    assert [(o.key, o.data) for o in spawned.outputs] == [(o.key, o.data) for o in serial.outputs]


def test_a_cold_render_keeps_its_pages_under_the_keys_a_warm_one_looks_up(
    sample: build.BuildResult, tmp_path: Path
):
    """An empty page cache can serve no page, so nothing is looked up and each page is keyed by the process
    that renders it (a worker, for most of them): the cache it leaves is the one a keyed render leaves."""
    inputs = site_inputs(sample)
    public = many(sample, 41)
    keyed = tmp_path / "keyed"
    packs = PagePacks(keyed)
    packs.put("0" * 64, b"a page of some other show")  # not empty: every page is looked up, so keyed first
    packs.save()
    packs.close()
    render_site(sample.show, public, workers=1, cache_dir=keyed, **inputs)
    for workers in (1, 2):
        cold = tmp_path / f"cold-{workers}"
        made = render_site(
            sample.show, [dataclasses.replace(b) for b in public], workers=workers, cache_dir=cold, **inputs
        )
        assert made.reused == ()
        for name in ("pages.txt", "cards.json"):
            assert (cold / name).read_bytes() == (keyed / name).read_bytes(), (workers, name)


def test_the_page_cache_is_saved_only_by_its_caller(sample: build.BuildResult, tmp_path: Path):
    inputs = site_inputs(sample)
    packs = PagePacks(tmp_path)
    site.render_site(sample.show, sample.public, cache=packs, **inputs)
    assert list(tmp_path.iterdir()) == []  # site rendered, and wrote nothing
    packs.save()
    assert {p.name for p in tmp_path.iterdir()} == {"pages", "pages.txt", "cards.json"}
    assert not list(tmp_path.rglob("*.tmp"))
    assert render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs).rendered == ()


def test_a_new_record_field_value_re_renders_the_page(sample: build.BuildResult, tmp_path: Path):
    """Page keys come from the whole build record, not a hand-kept list of its fields."""
    inputs = site_inputs(sample)
    render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs)
    b = sample.public[1]
    louder = dataclasses.replace(b, audio=dataclasses.replace(b.audio, sha256="0" * 64))
    reused = dataclasses.replace(b, audio=dataclasses.replace(b.audio, reused=not b.audio.reused))
    edited = render_site(
        sample.show, (sample.public[0], louder, sample.public[2]), cache_dir=tmp_path, **inputs
    )
    assert f"episodes/{b.episode.slug}/index.html" in edited.rendered
    render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs)
    same = render_site(
        sample.show, (sample.public[0], reused, sample.public[2]), cache_dir=tmp_path, **inputs
    )
    assert same.rendered == ()  # how the build went (audio reused or not) is not an input of the page


def test_the_parse_cache_skips_unchanged_files_and_still_validates(
    sample_show: Path, cache: Path, tmp_path: Path
):
    from pipeline import model
    from pipeline.cache import ParseCache

    cache_dir = copy_cache(cache, tmp_path / "c")
    build.build(sample_show, now=NOW, out_dir=tmp_path / "out", cache_dir=cache_dir)
    store = cache_dir / build.PARSE_CACHE
    assert store.is_file()
    _, plain = model.load(sample_show)

    def load() -> tuple[ParseCache, tuple[model.Episode, ...]]:
        parsed = ParseCache(store, model.parser_versions())
        _, episodes = model.load(sample_show, parse_cache=parsed)
        parsed.save()
        return parsed, episodes

    parsed, episodes = load()
    assert (parsed.hits, parsed.misses) == (len(plain), 0)
    assert episodes == plain  # a hit gives the very episodes a parse gives

    notes = sample_show.parent / "episodes" / SHINS / "episode.md"
    set_front_matter(notes, title="Shin splints are about load")
    # settled, as an edit is by the next build (a file written moments ago is read again: model.RACY_NS)
    os.utime(notes, ns=(notes.stat().st_atime_ns, notes.stat().st_mtime_ns - 10 * model.RACY_NS))
    parsed, episodes = load()
    assert (parsed.hits, parsed.misses) == (len(plain) - 1, 1)
    assert {e.slug: e.title for e in episodes}[SHINS] == "Shin splints are about load"
    assert load()[0].misses == 0  # the edit was kept

    # The unchanged episode.md now names an audio file that is gone: its folder's stat changed, so that
    # episode is read and validated again (the others are still hits) and the problem is found.
    (sample_show.parent / "episodes" / KNEES / "audio.flac").unlink()
    parsed = ParseCache(store, model.parser_versions())
    with pytest.raises(ContentErrors) as caught:
        model.load(sample_show, parse_cache=parsed)
    assert (parsed.hits, parsed.misses) == (len(plain) - 1, 1)
    assert any(KNEES in str(p) and "audio" in str(p) for p in caught.value.problems)

    # Another parser version (or CACHE_VERSION) makes every entry a miss.
    other = ParseCache(store, "pydantic==0")
    assert other.get(notes, notes.stat()) is None


# --------------------------------------------------------------------------- drafts, scheduled, hostile notes


def test_drafts_and_scheduled_episodes_get_no_page_and_no_link(variant: build.BuildResult):
    assert [b.episode.slug for b in variant.public] == list(PUBLISHED)
    for slug in ("a-draft-episode", "next-weeks-episode"):
        assert not (variant.out_dir / "episodes" / slug).exists()
        for path in variant.out_dir.rglob("*"):
            if path.suffix in (".html", ".xml", ".txt"):
                assert slug not in path.read_text(), f"{path.relative_to(variant.out_dir)} mentions {slug}"


def test_hostile_notes_are_sanitised_in_the_file(variant: build.BuildResult):
    notes = html(variant, f"episodes/{COMING}/index.html").xpath("//div[@id='notes']")[0]
    markup = lxml.html.tostring(notes, encoding="unicode")
    assert not notes.xpath(".//script | .//style | .//iframe | .//svg")
    assert not re.search(r"\son\w+=|javascript:|\sstyle=", markup, re.IGNORECASE)


# --------------------------------------------------------------------------- template overrides


def test_host_templates_override_pages_partials_and_static_files(
    sample_show: Path, cache: Path, tmp_path: Path
):
    templates = sample_show.parent / "templates"
    templates.mkdir()
    (templates / "_host.html").write_text(
        '<section id="host"><p class="custom-host">Hosted by {{ host.name }}</p></section>\n'
    )
    (templates / "style.css").write_text(":root { --brand: rebeccapurple; }\n")
    result = build.build(
        sample_show, now=NOW, out_dir=tmp_path / "out", cache_dir=copy_cache(cache, tmp_path / "c")
    )
    doc = html(result, f"episodes/{KNEES}/index.html")
    assert doc.xpath("//p[@class='custom-host']/text()") == ["Hosted by Dr. Maya Okafor"]
    assert doc.xpath("//h1/text()") == [
        "Why your knees hurt when you run"
    ]  # the rest is the built-in template
    assert (result.out_dir / "static/style.css").read_text() == ":root { --brand: rebeccapurple; }\n"
    version = hashlib.sha256(b":root { --brand: rebeccapurple; }\n").hexdigest()[:10]
    assert doc.xpath("//link[@rel='stylesheet']/@href") == [f"../../static/style.css?v={version}"]


def test_a_broken_host_template_is_one_clear_error(sample_show: Path, cache: Path, tmp_path: Path):
    templates = sample_show.parent / "templates"
    templates.mkdir()
    (templates / "episode.html").write_text(
        '{% extends "base.html" %}\n{% block main %}{% if %}{% endblock %}\n'
    )
    with pytest.raises(ContentError) as caught:
        build.build(
            sample_show, now=NOW, out_dir=tmp_path / "out", cache_dir=copy_cache(cache, tmp_path / "c")
        )
    assert str(caught.value).startswith("templates/episode.html: line 2: ")
    (templates / "episode.html").unlink()
    (templates / "_support.html").write_text(
        '<section id="support">\n<p>{{ no_such_name }}</p>\n</section>\n'
    )
    with pytest.raises(ContentError) as caught:
        build.build(sample_show, now=NOW, out_dir=tmp_path / "out", cache_dir=tmp_path / "c")
    assert str(caught.value).startswith(
        "templates/_support.html: line 2: cannot render: 'no_such_name' is undefined"
    )


# --------------------------------------------------------------------------- incremental rebuilds


def snapshot(out_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(out_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out_dir.rglob("*"))
        if p.is_file()
    }


def cache_entries(cache_dir: Path) -> dict[str, str]:
    """The site cache's index: page input hash -> where the page is kept."""
    lines = (cache_dir / "site" / "pages.txt").read_text().splitlines()[1:]
    return dict(line.split(" ", 1) for line in lines)


def test_a_rebuild_after_one_change_renders_and_writes_only_what_depends_on_it(
    sample_show: Path, cache: Path, tmp_path: Path
):
    cache_dir = copy_cache(cache, tmp_path / "cache")
    out = tmp_path / "out"
    first = build.build(sample_show, now=NOW, out_dir=out, cache_dir=cache_dir)
    before, entries = snapshot(out), cache_entries(cache_dir)
    assert build.build(sample_show, now=NOW, out_dir=out, cache_dir=cache_dir).written == 0
    assert cache_entries(cache_dir) == entries  # a no-op build renders nothing

    notes = sample_show.parent / "episodes" / SHINS / "episode.md"
    notes.write_text(notes.read_text().replace("Shin splints, or medial", "Shin pain, or medial"))
    second = build.build(sample_show, now=NOW, out_dir=out, cache_dir=cache_dir)
    after = snapshot(out)
    changed = {k for k in after if before.get(k) != after[k]}
    rendered = set(cache_entries(cache_dir)) - set(
        entries
    )  # entries are keyed by a hash of the page's inputs
    # Its page and the index (the card's summary changed); the neighbours, sitemap and 404 stay as they were.
    assert {k for k in changed if k.endswith(".html") or k in PAGES} == {
        f"episodes/{SHINS}/index.html",
        "index.html",
    }
    assert len(rendered) == 2
    assert second.written == len(changed)  # the rest: the re-tagged audio (new key), feed, build info
    assert first.written > second.written

    entries, before = cache_entries(cache_dir), after
    set_front_matter(notes, title="Shin splints are about load")
    build.build(sample_show, now=NOW, out_dir=out, cache_dir=cache_dir)
    after = snapshot(out)
    changed = {k for k in after if before.get(k) != after[k] and k.endswith(".html")}
    assert changed == {
        f"episodes/{SHINS}/index.html",
        f"episodes/{KNEES}/index.html",
        f"episodes/{COMING}/index.html",
        "index.html",
    }
    assert len(set(cache_entries(cache_dir)) - set(entries)) == 4


def test_render_site_reports_what_it_rendered(sample: build.BuildResult, tmp_path: Path):
    inputs = site_inputs(sample)
    public = sample.public

    def render(episodes: tuple[Any, ...], **extra: Any) -> site.SiteRender:
        return render_site(sample.show, episodes, cache_dir=tmp_path / "site", **{**inputs, **extra})

    def edited(slug: str, **fields: Any) -> tuple[Any, ...]:
        return tuple(
            dataclasses.replace(b, episode=b.episode.model_copy(update=fields))
            if b.episode.slug == slug
            else b
            for b in public
        )

    assert len(render(public).rendered) == len(PAGES)
    assert render(public).rendered == ()
    assert render(edited(KNEES, notes="## New notes\n\nShorter.\n")).rendered == (
        f"episodes/{KNEES}/index.html",
        "index.html",
    )
    assert render(public).rendered == (f"episodes/{KNEES}/index.html", "index.html")  # back as it was
    assert render(edited(COMING, title="Back again")).rendered == (
        f"episodes/{COMING}/index.html",
        f"episodes/{SHINS}/index.html",
        "index.html",
    )
    render(public)
    # A new episode: its page, its neighbour's (a "next" link), the index, the sitemap.
    newest = dataclasses.replace(
        public[0],
        episode=public[0].episode.model_copy(
            update={"slug": "brand-new", "date": public[0].episode.date.replace(month=4)}
        ),
    )
    assert render((newest, *public)).rendered == (
        "episodes/brand-new/index.html",
        f"episodes/{COMING}/index.html",
        "index.html",
        "sitemap.xml",
    )
    # A template change touches every page it is part of.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_subscribe.html").write_text("<p id='subscribe'>Subscribe</p>\n")
    assert len(render(public, templates=templates).rendered) == len(PAGES)


def test_a_damaged_cache_is_rebuilt_not_trusted(sample: build.BuildResult, tmp_path: Path):
    inputs = site_inputs(sample)
    first = render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs)
    for pack in (tmp_path / "pages").iterdir():
        pack.write_bytes(pack.read_bytes()[:100])  # truncated
    again = render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs)
    assert [o.data for o in again.outputs] == [o.data for o in first.outputs]
    (tmp_path / "pages.txt").write_text("v 1\nnot an entry\n")
    assert render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs).reused == ()
    (tmp_path / "cards.json").write_text("{not json")
    assert render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs).reused == ()
    assert len(render_site(sample.show, sample.public, cache_dir=tmp_path, **inputs).reused) == len(PAGES)


# --------------------------------------------------------------------------- helpers


def test_theme_colours_reach_aa():
    for colour in ("#b4381f", "#f5d547", "#ffffff", "#000000", "#3a7", "#0057b8", "#777777"):
        t = site.theme_colours(colour)
        assert site.contrast(t["on_color"], t["color"]) >= 4.5, colour
        assert site.contrast(t["accent_light"], site.LIGHT_FLOOR) >= 4.5, colour
        assert site.contrast(t["accent_dark"], site.DARK_CEILING) >= 4.5, colour
    assert site.theme_colours("#3a7")["color"] == "#33aa77"


def test_video_embeds_and_links():
    nocookie = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    for url in (
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=10",
        "https://youtube.com/shorts/dQw4w9WgXcQ",
    ):
        assert site.video_embed(url) == {"kind": "embed", "provider": "YouTube", "src": nocookie, "url": url}
    assert (
        site.video_embed("https://vimeo.com/76979871")["src"]
        == "https://player.vimeo.com/video/76979871?dnt=1"
    )
    assert site.video_embed("https://example.com/talk.mp4") == {
        "kind": "link",
        "provider": None,
        "src": None,
        "url": "https://example.com/talk.mp4",
    }
    assert site.video_embed("https://www.youtube.com/watch?v=<script>")["kind"] == "link"
    assert site.video_embed(None) is None


def test_relative_urls():
    page = "episodes/knees/index.html"
    assert site.relative_url(page, "episodes/knees/abc/knees.mp3") == "abc/knees.mp3"
    assert site.relative_url(page, "episodes/shins/index.html") == "../shins/"
    assert site.relative_url(page, "index.html") == "../../"
    assert site.relative_url(page, "static/style.css") == "../../static/style.css"
    assert site.relative_url("index.html", "index.html") == "./"
    assert site.relative_url("index.html", "page/2/index.html") == "page/2/"
    assert site.relative_url("page/3/index.html", "page/2/index.html") == "../2/"
    assert site.relative_url("page/2/index.html", "assets/1/my photo.jpg") == "../../assets/1/my%20photo.jpg"


def test_small_formats():
    assert [site.duration_iso(s) for s in (5, 2530.4, 3723)] == ["PT5S", "PT42M10S", "PT1H2M3S"]
    assert [site.duration_label(s) for s in (5, 2530, 3900)] == ["1 min", "42 min", "1 h 5 min"]
    assert [site.human_size(n) for n in (1234, 4_200_000)] == ["2 kB", "4.2 MB"]
    assert [site.seconds_attr(s) for s in (90, 92.5, 3_600_000.25)] == ["90", "92.5", "3600000.25"]


def test_footer_note_comes_from_the_content_not_the_clock(sample: build.BuildResult):
    show = sample.show
    assert site.footer_note(show, sample.public) == "© 2025 Maya Okafor, CC BY 4.0"
    assert (
        site.footer_note(show.model_copy(update={"copyright": "2019 Stride Media"}), sample.public)
        == "© 2019 Stride Media"
    )
    assert site.footer_note(show.model_copy(update={"copyright": None}), ()) == "© Dr. Maya Okafor"


# --------------------------------------------------------------------------- in Chromium


def open_page(page: Any, url: str) -> Any:
    """Open a page; wait until it, every image (lazy ones made eager) and the audio's metadata have loaded."""
    response = page.goto(url, wait_until="load")
    settle(page)
    return response


def settle(page: Any) -> None:
    """Wait until every image (lazy ones made eager) and the audio's metadata have loaded."""
    page.evaluate(
        "() => document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })"
    )
    page.wait_for_function(
        """() => [...document.images].every(img => img.complete)
        && [...document.querySelectorAll('audio')].every(a => a.readyState >= 1)""",
        timeout=10_000,
    )


def assert_clean(page: Any) -> None:
    assert page.log.problems() == []
    assert page.log.external_requests == []
    assert (
        page.evaluate("() => [...document.images].filter(img => !img.naturalWidth).map(img => img.src)") == []
    )


@pytest.mark.browser
def test_every_page_loads_cleanly_and_links_round_trip(page: Any, served: Any):
    root = served.url
    open_page(page, root)
    assert page.locator(".episode-card-title a").evaluate_all("els => els.map(a => a.href)") == [
        f"{root}episodes/{slug}/" for slug in PUBLISHED
    ]
    assert page.evaluate("() => getComputedStyle(document.body).display") == "flex"  # the stylesheet applies
    assert_clean(page)
    for i, slug in enumerate(PUBLISHED):
        open_page(page, f"{root}episodes/{slug}/")
        assert page.locator("h1").all_inner_texts() == [sample_title(slug)]
        assert page.locator(".back a").evaluate("a => a.href") == root
        assert page.locator("a.brand").evaluate("a => a.href") == root
        newer = page.locator(".pager a[rel=next]").evaluate_all("els => els.map(a => a.href)")
        assert newer == ([f"{root}episodes/{PUBLISHED[i - 1]}/"] if i > 0 else [])
        assert_clean(page)
    page.locator(".back a").click()
    page.wait_for_url(root)
    settle(page)
    response = page.goto(f"{root}no/such/page/", wait_until="load")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This page is not here"
    assert page.log.failed_requests == [f"HTTP 404: {root}no/such/page/"]  # the page itself; its assets load
    assert page.locator("a.button").evaluate("a => a.href") == root


@pytest.mark.browser
def test_keyboard_focus_is_visible_and_the_skip_link_works(page: Any, served: Any):
    open_page(page, f"{served.url}episodes/{SHINS}/")
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
        return {text: el.textContent, outline: style.outlineStyle, width: parseFloat(style.outlineWidth), top: box.top};
    }""")
    assert focused["text"] == "Skip to content"
    assert focused["outline"] != "none" and focused["width"] >= 2 and focused["top"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is inside the page, not back in the header
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def sample_title(slug: str) -> str:
    return {
        KNEES: "Why your knees hurt when you run",
        SHINS: "Shin splints are a load problem",
        COMING: "Coming back after a running injury",
    }[slug]


@pytest.mark.browser
def test_the_player_loads_by_range_plays_and_chapters_seek(page: Any, served: Any):
    open_page(page, f"{served.url}episodes/{KNEES}/#t=00:00:02")  # a shared link to a moment
    page.wait_for_function("() => document.querySelector('audio').currentTime === 2", timeout=10_000)
    assert page.evaluate("() => document.querySelector('audio').paused")  # no autoplay on arrival
    page.evaluate("() => document.querySelector('audio').play()")
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.5", timeout=10_000)
    audio = [status for url, status in page.log.responses if urlsplit(url).path.endswith(f"/{KNEES}.mp3")]
    assert 206 in audio, audio
    chapter = page.get_by_role("button", name="Play from 00:06 — The iliotibial band")
    chapter.click()
    page.wait_for_function(
        "() => { const a = document.querySelector('audio'); return !a.paused && a.currentTime >= 6 }",
        timeout=10_000,
    )
    page.wait_for_function(
        "() => document.querySelector('[data-chapters] [aria-current] .chapter-title')"
        "?.textContent === 'The iliotibial band'",
        timeout=5_000,
    )
    assert page.evaluate("() => location.hash") == "#t=00:00:06"
    page.locator("#transcript summary").click()
    page.locator("#transcript a.ts").first.click()  # transcript timestamps seek too
    page.wait_for_function("() => document.querySelector('audio').currentTime < 3", timeout=10_000)
    assert_clean(page)


@pytest.mark.browser
def test_without_javascript_chapters_are_links_into_the_audio(page_without_js: Any, served: Any):
    page = page_without_js
    page.goto(f"{served.url}episodes/{KNEES}/", wait_until="load")
    links = page.locator("[data-chapters] a.chapter-seek")
    assert links.count() == 5
    href = links.nth(2).get_attribute("href")
    assert re.fullmatch(rf"[0-9a-f]{{16}}/{KNEES}\.mp3#t=4", href)
    response = page.request.get(
        f"{served.url}episodes/{KNEES}/{href.split('#')[0]}", headers={"Range": "bytes=0-99"}
    )
    assert response.status == 206 and len(response.body()) == 100
    assert page.locator("#transcript details p").count() == 1


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots_at_phone_and_desktop_width(page: Any, served: Any, screenshot: Any, width: int):
    page.set_viewport_size({"width": width, "height": 900})
    for name, path in (("index", ""), ("episode", f"episodes/{KNEES}/")):
        open_page(page, served.url + path)
        if name == "episode":
            page.locator("#transcript summary").click()
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways at {width}px"
            assert screenshot(page, f"site-{name}-{width}-{scheme}").stat().st_size > 10_000
    assert_clean(page)


@pytest.mark.browser
def test_axe_finds_no_serious_violations(page: Any, served: Any, axe: Any):
    for path in ("", f"episodes/{KNEES}/", "no/such/page/"):
        page.goto(served.url + path, wait_until="load")
        if path.startswith("episodes"):
            page.locator("#transcript summary").click()  # check the transcript's contents too
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            assert axe(page) == [], f"/{path} in the {scheme} scheme"


@pytest.mark.browser
def test_hostile_notes_are_inert_in_the_browser(page: Any, variant_served: Any, axe: Any):
    url = f"{variant_served.url}episodes/{COMING}/"
    open_page(page, url)
    page.get_by_text("a mixed-case javascript link").click()
    page.get_by_text("a javascript link", exact=True).click()
    page.get_by_text("hover me").hover()
    found = page.evaluate("""() => {
        const notes = document.querySelector('#notes'), bad = [];
        for (const el of notes.querySelectorAll('*')) {
            for (const attr of el.attributes) {
                if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'srcdoc') bad.push(el.tagName + ' ' + attr.name);
                if (/^\\s*(javascript|data|vbscript):/i.test(attr.value)) bad.push(el.tagName + ' ' + attr.name);
            }
        }
        return {pwned: window.__pwned || null, bad,
                inNotes: notes.querySelectorAll('script, style, iframe, svg, object, embed').length,
                pageScripts: [...document.scripts].map(s => s.type || 'classic'),
                bodyShown: getComputedStyle(document.body).display !== 'none'};
    }""")
    assert found == {
        "pwned": None,
        "bad": [],
        "inNotes": 0,
        "pageScripts": ["application/ld+json", "classic"],
        "bodyShown": True,
    }
    assert page.url == url  # the neutered links went nowhere
    # an in-page #t= link in the notes seeks the player instead
    page.locator("#notes a[href='#t=00:00:05']").click()
    page.wait_for_function("() => document.querySelector('audio').currentTime >= 5", timeout=10_000)
    # the video is a privacy-friendly embed behind a click-to-load poster: the only thing the page may
    # load from elsewhere, and only once the poster is pressed
    assert page.locator("#video iframe").count() == 0 and page.log.external_requests == []
    page.locator("#video a.video-load").click()
    frame = page.locator("#video iframe")
    assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    assert frame.get_attribute("title") == "Video: Coming back after a running injury"
    assert page.log.problems() == []
    assert {urlsplit(u).hostname for u in page.log.external_requests} <= {"www.youtube-nocookie.com"}
    for scheme in ("light", "dark"):  # a pale theme colour must still pass contrast
        page.emulate_media(color_scheme=scheme)
        assert axe(page) == [], scheme


@pytest.mark.browser
def test_pagination_walks_to_the_oldest_episode(page: Any, variant_served: Any):
    root = variant_served.url
    open_page(page, root)
    assert page.locator(".episode-card-title").all_inner_texts() == [
        sample_title(COMING),
        sample_title(SHINS),
    ]
    page.locator(".pagination a[rel=next]").click()
    page.wait_for_url(f"{root}page/2/")
    settle(page)
    assert page.locator("h2.section-title").inner_text() == "Episodes, page 2 of 2"
    page.locator(".episode-card-title a").click()
    page.wait_for_url(f"{root}episodes/{KNEES}/")
    settle(page)
    page.locator("a.brand").click()
    page.wait_for_url(root)
    settle(page)
    assert_clean(page)
