"""Waveforms and share cards (issue 15 items 4 and 5): peaks decoded once per delivered file, an inline SVG
waveform in currentColor, a 1200x630 Open Graph card per episode, all deterministic and cached."""

from __future__ import annotations

import io
import itertools
import json
import re
import struct
import wave
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from pipeline import audio, build, images
from pipeline.errors import AudioError
from pipeline.progress import ListReporter
from tests.conftest import NOW, copy_sample_show

pytest_plugins = ["tests._browser_fixtures"]  # browser, page, page_without_js, axe, screenshot

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
KNEES = "why-your-knees-hurt-when-you-run"
LONG_TITLE = (
    "An extraordinarily long episode title about kneecaps, patellar tendons, iliotibial bands, shin splints,"
    " plantar fasciitis, the physiology of load and recovery, and every other question a runner asks a physio"
    " in the waiting room before the appointment even starts"
)


class Steps(ListReporter):
    """The build's step messages: it says when it decodes a waveform or draws a share card."""

    def visual(self) -> list[str]:
        return [s for s in self.steps if s.startswith(("Waveform ", "Share card "))]


def run_build(show_yaml: Path, root: Path, name: str = "out", cache: str = "cache") -> tuple[Any, Steps]:
    steps = Steps()
    result = build.build(show_yaml, now=NOW, out_dir=root / name, cache_dir=root / cache, reporter=steps)
    return result, steps


def built_files(out: Path, pattern: str) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob(pattern))}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("visuals")
    show_yaml = copy_sample_show(root / "show")
    result, _ = run_build(show_yaml, root)
    return root, result


def page_html(result: Any, slug: str = KNEES) -> str:
    return (result.out_dir / "episodes" / slug / "index.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- peaks


def write_wav(path: Path, frames: list[int], rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(frames)}h", *frames))


def test_peaks_are_the_min_and_max_of_each_pixel(tmp_path: Path):
    # One second of silence, then one second of a +-16000 square wave, at the decode rate (no resampling).
    frames = [0] * 8000 + [16000 if (i // 5) % 2 else -16000 for i in range(8000)]
    src = tmp_path / "steps.wav"
    write_wav(src, frames)
    peaks = audio.compute_peaks(src, duration=2.0, pixels=800)
    assert (peaks.sample_rate, peaks.samples_per_pixel, peaks.length) == (8000, 20, 800)
    assert set(peaks.data[:800]) == {0}  # the silent half
    assert set(peaks.data[800::2]) == {-16000 >> 8} and set(peaks.data[801::2]) == {16000 >> 8}
    levels = peaks.levels(160)
    assert len(levels) == 160 and levels[:80] == (0.0,) * 80 and levels[80:] == (1.0,) * 80


def test_peaks_json_is_audiowaveform_v2_and_deterministic(tmp_path: Path):
    src = REPO / "episodes" / KNEES / "audio.flac"
    duration = audio.probe(src).duration
    first = audio.compute_peaks(src, duration)
    again = audio.compute_peaks(src, duration)
    assert first.to_json() == again.to_json()
    doc = json.loads(first.to_json())
    assert doc["version"] == 2 and doc["channels"] == 1 and doc["bits"] == 8
    assert doc["length"] * 2 == len(doc["data"]) and abs(doc["length"] - audio.PEAKS_PIXELS) <= 2
    assert all(-128 <= v <= 127 for v in doc["data"])
    assert audio.Peaks.from_json(first.to_json()) == first
    assert audio.Peaks.from_json(b'{"version": 2, "data": [1]}') is None  # a damaged cache file is a miss
    levels = first.levels()
    assert max(levels) == 1.0 and min(levels) >= 0.0 and len(set(levels)) > 10


def test_undecodable_audio_names_the_file(tmp_path: Path):
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"ID3" + b"\x00" * 64 + b"not audio at all" * 100)
    with pytest.raises(AudioError) as info:
        audio.compute_peaks(bad, duration=1.0)
    assert info.value.file == bad
    assert "waveform" in str(info.value) and "\n" not in str(info.value)


def test_build_writes_peaks_beside_the_audio_once(sample: tuple[Path, Any], tmp_path: Path):
    _, result = sample
    for b in result.public:
        assert b.peaks is not None and len(b.peaks) == audio.peaks.BARS
        audio_folder = (result.out_dir / b.audio.key).parent
        doc = json.loads((audio_folder / "peaks.json").read_text())
        assert audio.Peaks.from_json(json.dumps(doc).encode()) is not None
    # Same inputs, a fresh cache: byte-identical peaks and cards.
    show_yaml = copy_sample_show(tmp_path / "show")
    fresh, steps = run_build(show_yaml, tmp_path)
    assert len(steps.visual()) == 2 * len(fresh.public)
    assert built_files(fresh.out_dir, "peaks.json") == built_files(result.out_dir, "peaks.json")
    assert built_files(fresh.out_dir, "share.jpg") == built_files(result.out_dir, "share.jpg")
    # Second build on that cache: nothing decoded or drawn, the same files published.
    again, steps = run_build(show_yaml, tmp_path)
    assert steps.visual() == []
    assert [b.peaks for b in again.public] == [b.peaks for b in fresh.public]
    assert built_files(again.out_dir, "peaks.json") == built_files(fresh.out_dir, "peaks.json")


def test_cached_peaks_are_what_the_page_draws(tmp_path: Path):
    """The second build reads the cache file instead of decoding: a changed cache entry shows on the page."""
    show_yaml = copy_sample_show(tmp_path / "show")
    first, _ = run_build(show_yaml, tmp_path)
    entries = sorted((tmp_path / "cache" / "peaks").glob("*.json"))
    assert len(entries) == len(first.public)
    flat = audio.Peaks(8000, 100, (-64, 64) * 160).to_json()
    for entry in entries:
        entry.write_bytes(flat)
    again, steps = run_build(show_yaml, tmp_path)
    assert not [s for s in steps.steps if s.startswith("Waveform ")]
    assert all(b.peaks == (1.0,) * 160 for b in again.public)
    assert "h3v36.00h-3z" in page_html(again)


def test_page_has_an_inline_svg_waveform_in_current_color(sample: tuple[Path, Any]):
    _, result = sample
    html = page_html(result)
    svg = re.search(r'<svg class="waveform"[^>]*>.*?</svg>', html, re.S)
    assert svg, "no waveform SVG on the episode page"
    tag = svg.group(0)
    assert 'aria-hidden="true"' in tag and 'fill="currentColor"' in tag
    assert tag.count("h3v") == audio.peaks.BARS
    url = re.search(r'data-peaks="([^"]+)"', tag)
    assert url is not None
    peaks_file = (result.out_dir / "episodes" / KNEES / url.group(1)).resolve()
    assert peaks_file.is_file() and peaks_file.name == "peaks.json"
    # The player sits above it: the SVG follows the <audio> inside .player, so it works without JavaScript.
    player = html[html.index('<div class="player"') :]
    assert player.index("</audio>") < player.index('<svg class="waveform"') < player.index("player-actions")


# --------------------------------------------------------------------------- share cards


def uniform_columns(img: Image.Image, box: tuple[int, int, int, int], tolerance: int = 14) -> bool:
    """Every pixel column of `box` is one colour (give or take JPEG noise): no text reaches into it."""
    region = img.crop(box).convert("RGB")
    w, h = region.size
    px = region.load()
    assert px is not None
    for x in range(w):
        column = [px[x, y] for y in range(h)]
        for c in range(3):
            values = [p[c] for p in column]  # type: ignore[index]
            if max(values) - min(values) > tolerance:
                return False
    return True


def check_card(data: bytes, text: images.CardText, name: str) -> images.CardLayout:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"share-card-{name}.jpg").write_bytes(data)
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.size == images.SHARE_CARD_SIZE == (1200, 630)
    layout = images.share_card_layout(text)
    left, top, right, bottom = layout.column
    for line in layout.lines:
        x0, y0, x1, y1 = line.box
        assert left <= x0 and x1 <= right and top <= y0 and y1 <= bottom, (
            f"{line.role} {line.text!r} leaves the column"
        )
    titles = layout.role("title")
    for a, b in itertools.pairwise(titles):
        assert a.box[3] <= b.box[1] + 2, "title lines overlap"
    footer = layout.role("footer")
    if footer:
        assert titles[-1].box[3] < footer[0].box[1], "the title runs into the footer"
    # Nothing drawn in the right margin or under the column (beyond the artwork's shadow).
    assert uniform_columns(img, (right + 2, 0, 1200, 630)), "text spills into the right margin"
    assert uniform_columns(img, (left, bottom + 2, right, 630)), "text spills under the column"
    return layout


def test_share_card_for_a_short_title_keeps_every_word(tmp_path: Path):
    text = images.CardText(
        "The Stride Clinic", "Why your knees hurt", "Episode 1 · Season 1", "stride.example"
    )
    layout = check_card(images.share_card(REPO / "cover.jpg", text, "#b4381f", "#ffffff"), text, "short")
    assert not layout.truncated and layout.title_size == 72
    assert " ".join(line.text for line in layout.role("title")) == text.title


def test_share_card_for_a_very_long_title_shrinks_then_ellipsizes(tmp_path: Path):
    text = images.CardText(
        "The Stride Clinic: " + "a very long show name " * 6, LONG_TITLE, "Episode 1234", "x" * 90
    )
    data = images.share_card(REPO / "cover.jpg", text, "#f4d35e", "#000000")
    layout = check_card(data, text, "long-title")
    assert layout.truncated and layout.title_size == min(images._TITLE_SIZES)
    assert layout.role("title")[-1].text.endswith("\u2026")
    assert len(layout.role("show")) == 2 and layout.role("show")[-1].text.endswith("\u2026")
    # One enormous word is broken, not left to run off the card.
    word = images.CardText("Show", "Supercalifragilistic" * 8)
    check_card(images.share_card(REPO / "cover.jpg", word, "#1d3557", "#ffffff"), word, "long-word")


def test_share_card_bytes_are_deterministic():
    text = images.CardText("The Stride Clinic", "Shin splints are a load problem", "Episode 2")
    first = images.share_card(REPO / "cover.jpg", text, "#b4381f", "#ffffff")
    assert first == images.share_card(REPO / "cover.jpg", text, "#b4381f", "#ffffff")
    assert first != images.share_card(REPO / "cover.jpg", text, "#1d3557", "#ffffff")


def test_og_and_twitter_image_point_at_the_share_card(sample: tuple[Path, Any]):
    _, result = sample
    for b in result.public:
        html = page_html(result, b.episode.slug)
        meta = dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html))
        assert b.share_card_url and meta["og:image"] == b.share_card_url == meta["twitter:image"]
        assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
        assert meta["twitter:card"] == "summary_large_image"
        key = b.share_card_url.removeprefix(result.show.base_url)
        card = result.out_dir / key
        assert re.fullmatch(rf"episodes/{b.episode.slug}/[0-9a-f]{{16}}/share\.jpg", key)
        check_card(card.read_bytes(), _card_text(result, b), f"sample-{b.episode.slug}")
    # The index keeps the square show artwork.
    index = (result.out_dir / "index.html").read_text()
    assert 'name="twitter:card" content="summary"' in index


def _card_text(result: Any, b: Any) -> images.CardText:
    ep = b.episode
    parts = [f"Episode {ep.number}" if ep.number else None, f"Season {ep.season}" if ep.season else None]
    host = result.show.base_url.split("/")[2]
    return images.CardText(result.show.title, ep.title, " · ".join(p for p in parts if p) or None, host)


def test_share_card_is_redrawn_only_when_its_inputs_change(tmp_path: Path):
    show_yaml = copy_sample_show(tmp_path / "show")
    first, _ = run_build(show_yaml, tmp_path)
    urls_before = {b.episode.slug: b.share_card_url for b in first.public}
    md = show_yaml.parent / "episodes" / KNEES / "episode.md"
    text = md.read_text(encoding="utf-8")
    front, body = text.split("---\n", 2)[1:]
    data = yaml.safe_load(front)
    data["title"] = "Knees, again"
    md.write_text("---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n" + body, encoding="utf-8")
    again, steps = run_build(show_yaml, tmp_path)
    # The new title is in the audio's tags too, so its delivered file (and the peaks' key) changed as well.
    assert steps.visual() == [f"Waveform {KNEES}", f"Share card {KNEES}"]
    after = {b.episode.slug: b.share_card_url for b in again.public}
    assert after[KNEES] != urls_before[KNEES]
    assert {k: v for k, v in after.items() if k != KNEES} == {
        k: v for k, v in urls_before.items() if k != KNEES
    }


# --------------------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def served(sample: tuple[Path, Any]) -> Any:
    from pipeline.serve import Server

    _, result = sample
    server = Server(result.out_dir, port=0).start()
    yield server
    server.stop()


def _open(browser: Any, url: str, scheme: str, js: bool = True) -> Any:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=scheme, java_script_enabled=js
    )
    page = context.new_page()
    page.goto(url, wait_until="load")
    return context, page


WAVE_STYLE = """() => {
  const svg = document.querySelector('svg.waveform'), path = svg.querySelector('path');
  const r = svg.getBoundingClientRect();
  return {inBar: !!svg.closest('.pl-bar'), w: r.width, h: r.height, fill: getComputedStyle(path).fill,
          color: getComputedStyle(svg).color, opacity: getComputedStyle(svg).opacity};
}"""


@pytest.mark.browser
def test_waveform_in_chromium_light_and_dark(browser: Any, served: Any, axe: Any):
    url = f"{served.url}episodes/{KNEES}/"
    seen = {}
    for scheme in ("light", "dark"):
        context, page = _open(browser, url, scheme)
        try:
            page.wait_for_function("() => document.querySelector('.player.is-enhanced .pl-bar svg.waveform')")
            style = page.evaluate(WAVE_STYLE)
            assert style["inBar"] and style["w"] > 300 and style["h"] >= 30, style
            assert style["fill"] == style["color"], "the waveform is not drawn in currentColor"
            assert 0 < float(style["opacity"]) < 1
            seen[scheme] = style["color"]
            assert axe(page) == []
            ARTIFACTS.mkdir(exist_ok=True)
            page.locator(".hero").screenshot(path=str(ARTIFACTS / f"visuals-episode-{scheme}.png"))
            page.screenshot(path=str(ARTIFACTS / f"visuals-episode-{scheme}-page.png"), full_page=True)
        finally:
            context.close()
    assert seen["light"] != seen["dark"], "the waveform does not follow the colour scheme"


@pytest.mark.browser
def test_waveform_without_javascript(browser: Any, served: Any):
    context, page = _open(browser, f"{served.url}episodes/{KNEES}/", "light", js=False)
    try:
        style = page.evaluate(WAVE_STYLE)
        assert not style["inBar"] and style["w"] > 300 and style["h"] >= 30, style
        assert style["fill"] == style["color"]
        page.locator(".hero").screenshot(path=str(ARTIFACTS / "visuals-episode-nojs.png"))
    finally:
        context.close()


def test_docs_screenshot_is_committed():
    """The README shows the episode page (docs/episode-page.png, taken from the Chromium test above)."""
    shot = REPO / "docs" / "episode-page.png"
    assert shot.is_file()
    with Image.open(shot) as img:
        assert img.format == "PNG" and img.width >= 800
    assert "docs/episode-page.png" in (REPO / "README.md").read_text(encoding="utf-8")
