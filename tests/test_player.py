"""The listener's player (pipeline/templates/player.js) in real headless Chromium, on a build of the sample show.

The sample's first episode gets a longer transcript here (one paragraph per speaker turn, many cues), so
the transcript has something to follow and scroll.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline import build
from pipeline.serve import Server
from tests.conftest import NOW, copy_sample_show

pytest_plugins = ["tests._browser_fixtures"]  # browser, page, page_without_js, axe, screenshot

pytestmark = pytest.mark.browser

KNEES = "why-your-knees-hurt-when-you-run"
COMING = "coming-back-after-a-running-injury"
CHAPTERS = [
    "Welcome",
    "Kneecap tracking and runner's knee",
    "Patellar tendinopathy",
    "The iliotibial band",
    "Prevention and when to see a physio",
]
SPEAKERS = ("Maya Okafor", "Sam Lee")


def long_transcript() -> str:
    """28 half-second cues in 14 speaker turns over the episode's first 14 seconds."""
    out = ["WEBVTT", ""]
    for i in range(28):
        start, end = i * 0.5, i * 0.5 + 0.5
        speaker = SPEAKERS[(i // 2) % 2]
        words = (
            f"Line {i} about knees, tendons and the iliotibial band, said slowly and clearly for the test."
        )
        out += [f"00:00:{start:06.3f} --> 00:00:{end:06.3f}", f"<v {speaker}>{words}", ""]
    return "\n".join(out)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("player")
    show_yaml = copy_sample_show(root / "show")
    (show_yaml.parent / "episodes" / KNEES / "transcript.vtt").write_text(long_transcript(), encoding="utf-8")
    result = build.build(show_yaml, now=NOW, out_dir=root / "out", cache_dir=root / "cache")
    server = Server(result.out_dir, port=0).start()
    yield server
    server.stop()


def episode(site: Any) -> str:
    return f"{site.url}episodes/{KNEES}/"


def open_episode(page: Any, url: str) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1", timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('.pl-mark').length === 4", timeout=5_000)


def audio(page: Any, expr: str) -> Any:
    return page.evaluate(f"() => {{ const a = document.querySelector('audio'); return {expr}; }}")


def wait_audio(page: Any, condition: str, timeout: int = 10_000) -> None:
    page.wait_for_function(
        f"() => {{ const a = document.querySelector('audio'); return {condition}; }}", timeout=timeout
    )


def assert_clean(page: Any) -> None:
    assert page.log.problems() == []
    assert page.log.external_requests == []


def test_controls_replace_the_native_ones_and_are_all_labelled(page: Any, site: Any) -> None:
    open_episode(page, episode(site))
    assert audio(page, "a.hasAttribute('controls')") is False
    assert not page.locator("audio").is_visible()
    player = page.get_by_role("group", name="Audio player")
    for role, name in (
        ("button", "Play"),
        ("button", "Back 15 seconds"),
        ("button", "Forward 30 seconds"),
        ("combobox", "Playback speed"),
        ("slider", "Position"),
    ):
        assert player.get_by_role(role, name=name).count() == 1, name
    slider = player.get_by_role("slider", name="Position")
    seconds = round(audio(page, "a.duration"))
    assert slider.get_attribute("aria-valuetext") == f"0 seconds of {seconds} seconds"
    assert page.locator(".pl-total").inner_text() == f"0:{seconds:02d}"
    page.evaluate("() => { document.querySelector('audio').currentTime = 7 }")
    page.wait_for_function("() => document.querySelector('.pl-now').textContent === '0:07'")
    assert slider.get_attribute("aria-valuetext") == f"7 seconds of {seconds} seconds"
    assert_clean(page)


def test_skip_and_speed_change_the_audio_and_speed_is_remembered(page: Any, site: Any) -> None:
    open_episode(page, episode(site))
    page.evaluate("() => { document.querySelector('audio').currentTime = 8 }")
    page.get_by_role("button", name="Back 15 seconds").click()
    wait_audio(page, "a.currentTime === 0")
    page.get_by_role("button", name="Forward 30 seconds").click()  # clamped to the end of a 15 s clip
    wait_audio(page, "a.currentTime > 14")
    page.evaluate("() => { document.querySelector('audio').currentTime = 3 }")
    page.get_by_role("button", name="Forward 30 seconds").click()
    wait_audio(page, "a.currentTime > 14")

    page.get_by_role("combobox", name="Playback speed").select_option("1.5")
    assert audio(page, "[a.playbackRate, a.defaultPlaybackRate]") == [1.5, 1.5]
    assert page.evaluate("() => [...document.querySelectorAll('.pl-speed option')].map(o => o.value)") == [
        "0.75",
        "1",
        "1.25",
        "1.5",
        "1.75",
        "2",
    ]
    page.reload(wait_until="load")
    wait_audio(page, "a.readyState >= 1")
    assert audio(page, "a.playbackRate") == 1.5
    assert page.get_by_role("combobox", name="Playback speed").input_value() == "1.5"
    assert_clean(page)


def test_chapter_marks_seek_and_the_current_chapter_is_named(page: Any, site: Any) -> None:
    open_episode(page, episode(site))
    marks = page.locator(".pl-mark")
    assert marks.evaluate_all("els => els.map(m => m.title)") == CHAPTERS[1:]
    lefts = marks.evaluate_all("els => els.map(m => parseFloat(m.style.left))")
    assert lefts == sorted(lefts) and 0 < lefts[0] < lefts[-1] < 100
    assert page.locator(".pl-chapter").inner_text() == "Chapter 1 of 5: Welcome"
    marks.nth(2).click()  # "The iliotibial band", at 6 s
    wait_audio(page, "a.currentTime >= 6 && !a.paused")
    page.wait_for_function(
        "() => document.querySelector('.pl-chapter').textContent === 'Chapter 4 of 5: The iliotibial band'",
        timeout=5_000,
    )
    # the lock screen hears about it too
    meta = page.evaluate(
        "() => { const m = navigator.mediaSession.metadata;"
        " return {title: m.title, artist: m.artist, album: m.album, art: m.artwork.map(a => a.src)} }"
    )
    assert meta["title"] == "Why your knees hurt when you run"
    assert meta["artist"] == "The Stride Clinic"
    assert meta["album"] == "The iliotibial band"
    assert len(meta["art"]) == 1 and urlsplit(meta["art"][0]).netloc == urlsplit(site.url).netloc
    assert page.evaluate("() => navigator.mediaSession.playbackState") == "playing"
    assert_clean(page)


def test_resume_is_offered_after_a_reload(page: Any, site: Any) -> None:
    open_episode(page, episode(site))
    assert page.locator(".pl-resume-row").is_hidden()
    page.evaluate("() => { const a = document.querySelector('audio'); a.currentTime = 9; a.play(); }")
    wait_audio(page, "a.currentTime >= 9.2")
    page.evaluate("() => document.querySelector('audio').pause()")
    at = audio(page, "Math.floor(a.currentTime)")
    page.reload(wait_until="load")
    wait_audio(page, "a.readyState >= 1")
    offer = page.get_by_role("button", name=f"Resume at 0:{at:02d}")
    offer.wait_for(timeout=5_000)
    assert audio(page, "a.currentTime") == 0
    offer.click()
    wait_audio(page, f"a.currentTime >= {at} && !a.paused")
    assert page.locator(".pl-resume-row").is_hidden()
    assert_clean(page)


@pytest.mark.parametrize("fragment", ["#t=00:07", "#t=7", "#t=0:00:07"])
def test_a_time_link_starts_there(page: Any, site: Any, fragment: str) -> None:
    open_episode(page, episode(site) + fragment)
    wait_audio(page, "a.currentTime === 7")
    assert audio(page, "a.paused")  # no autoplay: playing waits for the listener
    assert page.locator(".pl-now").inner_text() == "0:07"
    assert page.locator(".pl-resume-row").is_hidden()
    assert_clean(page)


def test_the_transcript_follows_the_audio_and_stops_when_scrolled_away(page: Any, site: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 700})
    open_episode(page, episode(site))
    # Opening the transcript brings the cue being heard into view.
    page.evaluate("() => { document.querySelector('audio').currentTime = 11.1 }")
    page.wait_for_function("() => document.querySelector('.cue.is-current')?.dataset.start === '11'")
    page.locator("#transcript summary").click()
    page.wait_for_function("() => document.querySelector('.transcript-body').scrollTop > 0")
    body = page.locator(".transcript-body")
    assert page.locator(".transcript-para").count() == 14
    assert page.locator(".cue").count() == 28

    def current() -> Any:
        return page.evaluate(
            "() => { const c = document.querySelector('.cue.is-current');"
            " return c && [c.dataset.start, c.closest('.transcript-para').getAttribute('aria-current')] }"
        )

    page.evaluate("() => { document.querySelector('audio').currentTime = 1 }")
    page.wait_for_function("() => document.querySelector('.cue.is-current')?.dataset.start === '1'")
    assert current() == ["1", "time"]
    page.evaluate("() => { document.querySelector('audio').currentTime = 11.1 }")
    page.wait_for_function("() => document.querySelector('.cue.is-current')?.dataset.start === '11'")
    followed = body.evaluate("b => b.scrollTop")
    assert followed > 0  # scrolled to keep the cue in view
    assert page.evaluate(
        "() => { const b = document.querySelector('.transcript-body').getBoundingClientRect(),"
        " c = document.querySelector('.cue.is-current').getBoundingClientRect();"
        " return c.top >= b.top && c.bottom <= b.bottom }"
    )
    # Playing moves the highlight forward on its own.
    page.evaluate("() => { const a = document.querySelector('audio'); a.currentTime = 4; a.play(); }")
    page.wait_for_function("() => parseFloat(document.querySelector('.cue.is-current').dataset.start) >= 5")
    page.evaluate("() => document.querySelector('audio').pause()")

    # The listener scrolls away: the box stays where they put it, and offers to follow again.
    page.evaluate("() => { document.querySelector('audio').currentTime = 12.1 }")
    page.wait_for_function("() => document.querySelector('.cue.is-current')?.dataset.start === '12'")
    body.hover()
    page.mouse.wheel(0, -5000)
    page.wait_for_function("() => document.querySelector('.transcript-body').scrollTop === 0")
    follow = page.get_by_role("button", name="Follow the audio")
    follow.wait_for(timeout=5_000)
    page.evaluate("() => { document.querySelector('audio').currentTime = 13.1 }")
    page.wait_for_function("() => document.querySelector('.cue.is-current')?.dataset.start === '13'")
    assert body.evaluate("b => b.scrollTop") == 0
    follow.click()
    page.wait_for_function("() => document.querySelector('.transcript-body').scrollTop > 0")
    assert follow.is_hidden()

    # A click on the words seeks there.
    page.locator(".cue[data-start='3']").click()
    wait_audio(page, "a.currentTime >= 3 && !a.paused")
    assert_clean(page)


def test_the_transcript_is_searchable(page: Any, site: Any) -> None:
    open_episode(page, episode(site))
    page.locator("#transcript summary").click()
    search = page.get_by_role("searchbox", name="Search the transcript")
    search.fill("line 12")
    assert page.locator(".transcript-para:not([hidden])").count() == 1
    assert page.locator(".transcript-para:not([hidden]) mark").all_inner_texts() == ["Line", "12", "Line"]
    assert page.get_by_role("status").inner_text() == "1 of 14 paragraphs"
    search.fill("")
    assert page.locator(".transcript-para:not([hidden])").count() == 14
    assert page.locator(".transcript mark").count() == 0
    assert page.locator(".cue").count() == 28  # the cues are back as they were
    assert_clean(page)


def test_keyboard_controls_and_visible_focus(page: Any, site: Any) -> None:
    open_episode(page, episode(site))
    page.locator("h1").click()  # focus is on the page, not in a control
    page.keyboard.press("k")
    wait_audio(page, "!a.paused")
    page.keyboard.press("Space")
    wait_audio(page, "a.paused")
    page.evaluate("() => { document.querySelector('audio').currentTime = 2 }")
    page.keyboard.press("ArrowRight")
    wait_audio(page, "a.currentTime === 7")
    page.keyboard.press("ArrowLeft")
    wait_audio(page, "a.currentTime === 2")
    page.keyboard.press("l")
    wait_audio(page, "a.currentTime > 14")
    page.keyboard.press("j")
    wait_audio(page, "a.currentTime < 0.1 || (a.currentTime > 0 && a.currentTime < 1)")
    # the slider takes arrows too, and a text field keeps its keys
    page.get_by_role("slider", name="Position").focus()
    page.keyboard.press("ArrowRight")
    wait_audio(page, "a.currentTime >= 5")
    search = page.get_by_role("searchbox", name="Search the transcript")
    page.locator("#transcript summary").click()
    search.click()
    page.keyboard.type("kl j")
    assert search.input_value() == "kl j"
    assert audio(page, "a.paused")

    # Tab reaches the controls, and the focused one shows a ring.
    page.get_by_role("button", name="Back 15 seconds").focus()
    page.keyboard.press("Tab")
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.getAttribute('aria-label'), s.outlineStyle, parseFloat(s.outlineWidth)] }"
    )
    assert ring[0] == "Play" and ring[1] != "none" and ring[2] >= 2
    page.keyboard.press("Enter")
    wait_audio(page, "!a.paused")
    assert page.get_by_role("button", name="Pause").count() == 1
    assert_clean(page)


def test_without_javascript_the_native_player_still_plays(page_without_js: Any, site: Any) -> None:
    page = page_without_js
    page.goto(episode(site), wait_until="load")
    assert page.locator("audio[controls]").count() == 1
    assert page.locator("audio").is_visible()
    assert page.locator(".pl").count() == 0
    src = page.locator("audio source").first.get_attribute("src")  # the main file first, then the alternates
    response = page.request.get(f"{episode(site)}{src}", headers={"Range": "bytes=0-99"})
    assert response.status == 206 and len(response.body()) == 100
    download = page.locator("a[download]").first
    assert download.get_attribute("href") == src

    # The browser's own play button plays it (Playwright's evaluate reads the element; page scripts stay off).
    # (wait_for_function polls inside the page, which cannot run scripts now: poll from here.)
    def state() -> list[Any]:
        return page.evaluate(
            "() => { const a = document.querySelector('audio'); return [a.readyState, a.currentTime, a.paused] }"
        )

    def until(check: Any) -> list[Any]:
        deadline = time.monotonic() + 10
        while not check(now := state()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return now

    assert until(lambda s: s[0] >= 1)[0] >= 1
    page.locator("audio").scroll_into_view_if_needed()
    box = page.locator("audio").bounding_box()
    page.mouse.click(box["x"] + 22, box["y"] + box["height"] / 2)
    _ready, at, paused = until(lambda s: s[1] > 0.3)
    assert at > 0.3 and not paused
    # the transcript is plain readable text
    page.locator("#transcript summary").click()
    assert (
        page.locator(".transcript-para")
        .first.inner_text()
        .startswith("00:00\nMaya Okafor\nLine 0 about knees")
    )
    assert page.locator(".ts-search").count() == 0


def test_index_cards_play_in_place(page: Any, site: Any) -> None:
    page.goto(site.url, wait_until="load")
    assert page.locator("audio").count() == 0  # nothing loads until asked
    play = page.get_by_role("button", name="Play Coming back after a running injury")
    play.click()
    dock = page.get_by_role("region", name="Now playing")
    dock.wait_for()
    wait_audio(page, "!a.paused && a.currentTime > 0.2")
    assert audio(page, "new URL(a.currentSrc).pathname").endswith(f"/{COMING}.mp3")
    assert page.url == site.url
    assert dock.get_by_role("link", name="Coming back after a running injury").get_attribute("href") == (
        f"episodes/{COMING}/"
    )
    pause = page.get_by_role("button", name="Pause Coming back after a running injury")
    assert pause.get_attribute("aria-pressed") == "true"
    pause.click()
    wait_audio(page, "a.paused")
    # another card switches the same player to its episode
    page.get_by_role("button", name="Play Why your knees hurt when you run").click()
    wait_audio(page, f"!a.paused && new URL(a.currentSrc).pathname.endsWith('/{KNEES}.mp3')")
    assert page.locator("audio").count() == 1
    assert dock.get_by_role("button", name="Forward 30 seconds").count() == 1
    assert page.evaluate("() => navigator.mediaSession.metadata.title") == "Why your knees hurt when you run"
    assert page.url == site.url
    assert_clean(page)


def test_axe_finds_no_serious_violation(page: Any, site: Any, axe: Any) -> None:
    open_episode(page, episode(site))
    page.locator("#transcript summary").click()
    page.evaluate("() => { const a = document.querySelector('audio'); a.currentTime = 6; }")
    page.get_by_role("searchbox", name="Search the transcript").fill("knees")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert axe(page) == [], f"episode page, {scheme}"
    page.goto(site.url, wait_until="load")
    page.get_by_role("button", name="Play Coming back after a running injury").click()
    page.get_by_role("region", name="Now playing").wait_for()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert axe(page) == [], f"index with the player, {scheme}"


@pytest.mark.parametrize("width", [390, 1280])
def test_screenshots(page: Any, site: Any, screenshot: Any, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    open_episode(page, episode(site))
    page.locator("#transcript summary").click()
    page.evaluate("() => { const a = document.querySelector('audio'); a.currentTime = 6.2; }")
    page.wait_for_function("() => document.querySelector('.cue.is-current')")
    shots: list[Path] = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
        shots.append(screenshot(page, f"player-episode-{width}-{scheme}"))
    page.goto(site.url, wait_until="load")
    page.get_by_role("button", name="Play Coming back after a running injury").click()
    page.get_by_role("region", name="Now playing").wait_for()
    page.evaluate("() => document.querySelector('audio').pause()")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
        shots.append(screenshot(page, f"player-index-{width}-{scheme}"))
    assert all(p.stat().st_size > 10_000 for p in shots)
    assert_clean(page)
