"""The page templates in real Chromium: a hand-built context, a real MP3, a Range-capable server, axe-core.

Until pipeline/site.py lands, this module renders pipeline/templates/ directly with Jinja2. The context
builder here (`episode_context`, `index_context`, `theme_colours`, `video_embed`) is the reference for
the context site.py must pass (documented at the top of base.html).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import imageio_ffmpeg
import jinja2
import pytest
from markupsafe import Markup

from pipeline import transcript as tr
from pipeline.notes import render_inline, render_notes

pytest_plugins = ["tests._browser_fixtures"]  # browser, page, page_without_js, serve, axe, screenshot
pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "pipeline" / "templates"
BASE = "https://stride-clinic.example.com/"
AUDIO_SECONDS = 5

# --------------------------------------------------------------------------- colours (belongs in site.py)

LIGHT_FLOOR = "#f3f1ec"  # the darkest light surface in style.css
DARK_CEILING = "#2a2926"  # lighter than the lightest dark surface in style.css


def _channels(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _channels(hex_colour)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, t: float) -> str:
    """sRGB mix: t=0 is a, t=1 is b."""
    return "#" + "".join(f"{round((x * (1 - t) + y * t) * 255):02x}" for x, y in zip(_channels(a), _channels(b), strict=True))


def theme_colours(colour: str) -> dict[str, str]:
    """The theme colour plus readable companions: text on it, and link accents for each scheme."""

    def accent(toward: str, against: str) -> str:
        for step in range(41):
            candidate = mix(colour, toward, step / 40)
            if contrast(candidate, against) >= 4.6:  # a hair above 4.5 so rounding in browsers cannot fail it
                return candidate
        return toward

    colour = mix(colour, colour, 0)  # normalise #abc to #aabbcc
    on = "#ffffff" if contrast(colour, "#ffffff") >= contrast(colour, "#000000") else "#000000"
    return {
        "color": colour,
        "on_color": on,
        "accent_light": accent("#000000", LIGHT_FLOOR),
        "accent_dark": accent("#ffffff", DARK_CEILING),
    }


# --------------------------------------------------------------------------- small helpers (belong in site.py)

_VIDEO = [
    (re.compile(r"^https?://(?:www\.|m\.)?youtube\.com/watch\?"), "YouTube", lambda u: parse_qs(urlsplit(u).query).get("v", [""])[0]),
    (re.compile(r"^https?://youtu\.be/([\w-]{6,})"), "YouTube", None),
    (re.compile(r"^https?://(?:www\.)?youtube\.com/(?:embed|shorts|live)/([\w-]{6,})"), "YouTube", None),
    (re.compile(r"^https?://(?:www\.)?vimeo\.com/(\d+)"), "Vimeo", None),
]
_EMBED = {
    "YouTube": "https://www.youtube-nocookie.com/embed/{id}",
    "Vimeo": "https://player.vimeo.com/video/{id}?dnt=1",
}


def video_embed(url: str | None) -> dict[str, Any] | None:
    if not url:
        return None
    for pattern, provider, get_id in _VIDEO:
        m = pattern.match(url)
        vid = (get_id(url) if get_id else m.group(1)) if m else ""
        if vid and re.fullmatch(r"[\w-]{6,}", vid):
            return {"kind": "embed", "provider": provider, "src": _EMBED[provider].format(id=vid), "url": url}
    return {"kind": "link", "provider": None, "src": None, "url": url}


def duration_iso(seconds: float) -> str:
    s = round(seconds)
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{sec}S"


def duration_label(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def human_size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{math.ceil(n / 1000)} kB"


def human_date(d: dt.datetime) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


# --------------------------------------------------------------------------- the test site

HOSTILE_NOTES = """
## Things a hostile notes file tries

<script>window.__pwned = "script"</script>

<img src="../../cover.jpg" alt="cover again" width="120" onerror="window.__pwned='onerror'" onload="window.__pwned='onload'">

[a javascript link](javascript:window.__pwned='md-link')

<a id="js-link" href="JaVaScRiPt:window.__pwned='mixed-case'">a mixed-case javascript link</a>

<iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>

<svg onload="window.__pwned='svg'"><circle r="5"></circle></svg>

<style>body { display: none !important; }</style>

<details open ontoggle="window.__pwned='ontoggle'"><summary>details</summary>inside</details>

<div style="position:fixed;inset:0;background:red" onmouseover="window.__pwned='hover'">hover me</div>

<input name="q" value="a stray form field"> <input type="password">
"""

NOTES = """Runner's knee, patellar tendinopathy and the iliotibial band: what each one feels like, why it
happens, and the warm-ups, shoes and strength work that keep you running.[^1]

## What hurts, and where

| Where it hurts | Likely cause | What helps |
|:--|:--|:--|
| Around the kneecap | Patellofemoral pain | Hip and quad strength |
| Below the kneecap | Patellar tendinopathy | Slow heavy loading |
| Outside of the knee | Iliotibial band | Cadence, hip strength |

> Pain is information, not an instruction to stop everything.

## A plan for the next four weeks

1. Cut your weekly distance by a third.
2. Add two strength sessions: **split squats**, *step-downs* and calf raises.
3. Raise your cadence by 5%: short, quick steps load the knee less.

Listen from [the warm-up section](#t=00:00:03) or read the [strength guide](https://stride-clinic.example.com/guide/).

## Resources

- [The return-to-run plan](https://stride-clinic.example.com/resources/return-to-run/)
- `cadence = steps / minute`

- [x] Warm up for ten minutes
- [ ] Book a gait analysis

[^1]: This episode is general information, not medical advice.
""" + HOSTILE_NOTES

VTT = """WEBVTT

00:00.000 --> 00:01.500
<v Dr. Maya Okafor>Welcome to The Stride Clinic. Today: knees.

00:01.500 --> 00:03.000
<v Sam Whitfield>Thanks for having me, Maya.

00:03.000 --> 00:05.000
<v Dr. Maya Okafor>Let's start with the warm-up.
"""


@dataclass
class Episode:
    slug: str
    title: str
    date: dt.datetime
    number: int
    notes: str
    chapters: tuple[tuple[float, str, str | None], ...] = ()
    transcript: str | None = None
    persons: tuple[dict[str, Any], ...] = ()
    video: str | None = None


EPISODES = (  # oldest first, like model.load_episodes
    Episode("shin-splints-are-a-load-problem", "Shin splints are a load problem",
            dt.datetime(2025, 3, 4, 7, tzinfo=dt.UTC), 1,
            "Shin splints are the bone and its lining complaining that the load went up faster than they could adapt."),
    Episode("why-your-knees-hurt-when-you-run", "Why your knees hurt when you run",
            dt.datetime(2025, 3, 11, 7, tzinfo=dt.UTC), 2, NOTES,
            chapters=((0, "Welcome", None), (2, "What hurts, and where", "https://stride-clinic.example.com/guide/"),
                      (3, "The warm-up", None)),
            transcript=VTT,
            persons=({"name": "Sam Whitfield", "role_label": "Guest", "href": "https://stride-clinic.example.com/sam/", "img": None},
                     {"name": "Dr. Maya Okafor", "role_label": "Host", "href": None, "img": "../../host.jpg"})),
    Episode("coming-back-after-a-running-injury", "Coming back after a running injury",
            dt.datetime(2025, 3, 18, 7, tzinfo=dt.UTC), 3,
            "Physical therapist **Sam Whitfield** joins me to talk about the part of an injury nobody plans for: the return.",
            video="https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
)
MAIN = EPISODES[1]


def make_mp3(path: Path) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
           "-i", f"sine=frequency=440:duration={AUDIO_SECONDS}", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "64k",
           "-map_metadata", "-1", "-fflags", "+bitexact", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def common_context(colour: str, up: str, canonical: str, title: str, description: str) -> dict[str, Any]:
    """Names every page needs; `up` is the relative path from the page to the site root."""
    show = SimpleNamespace(title="The Stride Clinic", author="Dr. Maya Okafor")
    return {
        "lang": "en",
        "show": show,
        "page_title": title,
        "description": description,
        "canonical_url": canonical,
        "og_type": "website",
        "og_image": {"url": BASE + "cover.jpg", "alt": "The Stride Clinic cover art", "width": 1400, "height": 1400},
        "og_audio": None,
        "jsonld": None,
        "feed_url": BASE + "feed.xml",
        "index_url": up or "./",
        "css_url": up + "static/style.css",
        "js_url": up + "static/player.js",
        "icon_url": up + "cover.jpg",
        "icon_type": "image/jpeg",
        "logo": {"url": up + "cover.jpg", "alt": "The Stride Clinic logo", "width": 80, "height": 80},
        "theme": theme_colours(colour),
        "subscribe": [{"label": "Apple Podcasts", "url": "https://podcasts.apple.com/podcast/id0000000000"},
                      {"label": "Spotify", "url": "https://open.spotify.com/show/0000000000000000000000"}],
        "host": {
            "name": "Dr. Maya Okafor",
            "bio_html": Markup(render_inline(
                "Maya is a sports-medicine physician who has treated runners for **fifteen years**. "
                "She runs the trails outside Bristol most mornings.")),
            "photo": {"url": up + "host.jpg", "alt": "Photo of Dr. Maya Okafor"},
            "links": [{"label": "Clinic website", "url": "https://stride-clinic.example.com/about/"}],
        },
        "cta": {"text_html": Markup(render_inline("Got a running question? **Send it in** for a listener Q&A.")),
                "url": "https://stride-clinic.example.com/ask/", "label": "Ask Maya a question"},
        "funding": [{"url": "https://stride-clinic.example.com/support/", "text": "Support the show"}],
        "footer_note": "© 2025 Maya Okafor, CC BY 4.0",
    }


def episode_context(ep: Episode, colour: str, audio: Path, older: Episode | None, newer: Episode | None) -> dict[str, Any]:
    notes = render_notes(ep.notes)
    page_url = f"{BASE}episodes/{ep.slug}/"
    audio_href = f"{audio.parent.name}/{audio.name}"
    size = audio.stat().st_size
    ctx = common_context(colour, "../../", page_url, f"{ep.title} · The Stride Clinic", notes.summary)
    cues = tr.parse(ep.transcript, "vtt") if ep.transcript else ()
    ctx.update({
        "og_type": "article",
        "og_audio": {"url": page_url + audio_href, "type": "audio/mpeg"},
        "jsonld": {
            "@context": "https://schema.org",
            "@type": "PodcastEpisode",
            "url": page_url,
            "name": ep.title,
            "datePublished": ep.date.date().isoformat(),
            "description": notes.summary,
            "episodeNumber": ep.number,
            "duration": duration_iso(AUDIO_SECONDS),
            "associatedMedia": {"@type": "MediaObject", "contentUrl": page_url + audio_href,
                                "encodingFormat": "audio/mpeg", "contentSize": str(size)},
            "partOfSeries": {"@type": "PodcastSeries", "name": "The Stride Clinic", "url": BASE,
                             "webFeed": BASE + "feed.xml"},
            "image": BASE + "cover.jpg",
        },
        "episode": {"title": ep.title, "number": ep.number, "season": 1, "type": "full", "explicit": False,
                    "date_iso": ep.date.isoformat(), "date_human": human_date(ep.date),
                    "reading_minutes": notes.reading_minutes},
        "notes_html": Markup(notes.html),
        "headings": notes.headings,
        "image": {"url": "../../cover.jpg", "alt": f"Cover art for {ep.title}", "width": 1400, "height": 1400},
        "audio": {"url": audio_href, "mime": "audio/mpeg", "size_human": human_size(size), "format_label": "MP3",
                  "download_name": f"{ep.slug}.mp3", "duration_hms": tr.clock(AUDIO_SECONDS),
                  "duration_label": duration_label(AUDIO_SECONDS), "duration_iso": duration_iso(AUDIO_SECONDS)},
        "video": video_embed(ep.video),
        "chapters": [{"title": title, "url": url, "clock": tr.clock(start), "seconds": f"{start:g}",
                      "href": f"{audio_href}#t={start:g}"} for start, title, url in ep.chapters],
        "transcript": {
            "paragraphs": [{"speaker": p.speaker, "clock": tr.clock(p.start), "seconds": f"{p.start:g}",
                            "href": f"{audio_href}#t={p.start:g}", "text": p.text} for p in tr.paragraphs(cues)],
            "files": [{"label": "WebVTT", "url": "transcript.vtt"}, {"label": "SRT", "url": "transcript.srt"}],
        } if cues else None,
        "persons": list(ep.persons),
        "prev": {"title": older.title, "url": f"../{older.slug}/"} if older else None,
        "next": {"title": newer.title, "url": f"../{newer.slug}/"} if newer else None,
    })
    return ctx


def index_context(colour: str, page: int, pages: int, items: list[Episode]) -> dict[str, Any]:
    up = "" if page == 1 else "../../"
    canonical = BASE if page == 1 else f"{BASE}page/{page}/"
    ctx = common_context(colour, up, canonical, "The Stride Clinic", "Running injuries, explained.")
    ctx.update({
        "show_description_html": Markup(render_inline(
            "Running injuries, explained by a sports-medicine physician. Each week Dr. Maya Okafor takes "
            "one thing that hurts runners and gives you a plan to keep running.")),
        "artwork": {"url": up + "cover.jpg", "alt": "The Stride Clinic cover art", "width": 1400, "height": 1400},
        "episodes": [{
            "title": ep.title, "url": f"{up}episodes/{ep.slug}/", "number": ep.number, "season": 1, "type": "full",
            "explicit": False, "date_iso": ep.date.isoformat(), "date_human": human_date(ep.date),
            "reading_minutes": render_notes(ep.notes).reading_minutes, "duration_hms": tr.clock(AUDIO_SECONDS),
            "duration_label": duration_label(AUDIO_SECONDS), "duration_iso": duration_iso(AUDIO_SECONDS),
            "summary": render_notes(ep.notes).summary,
        } for ep in items],
        "total": len(EPISODES),
        "pagination": {"page": page, "pages": pages,
                       "prev_url": None if page == 1 else ("../../" if page == 2 else f"../{page - 1}/"),
                       "next_url": None if page == pages else f"{up}page/{page + 1}/"} if pages > 1 else None,
    })
    return ctx


def build_site(root: Path, colour: str, page_size: int = 2) -> dict[str, str]:
    """Render every page into `root` the way site.py will lay them out; returns {key: html}."""
    env = environment()
    root.mkdir(parents=True, exist_ok=True)
    for name in ("cover.jpg", "host.jpg"):
        shutil.copy2(REPO / name, root / name)
    (root / "static").mkdir(exist_ok=True)
    for name in ("style.css", "player.js"):
        shutil.copy2(TEMPLATES / name, root / "static" / name)
    mp3 = root / "source.mp3"
    make_mp3(mp3)
    digest = hashlib.sha256(mp3.read_bytes()).hexdigest()[:16]
    out: dict[str, str] = {}
    for i, ep in enumerate(EPISODES):
        folder = root / "episodes" / ep.slug
        audio = folder / digest / f"{ep.slug}.mp3"
        audio.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(mp3, audio)
        if ep.transcript:
            cues = tr.parse(ep.transcript, "vtt")
            (folder / "transcript.vtt").write_text(tr.to_vtt(cues))
            (folder / "transcript.srt").write_text(tr.to_srt(cues))
        older = EPISODES[i - 1] if i > 0 else None
        newer = EPISODES[i + 1] if i + 1 < len(EPISODES) else None
        out[f"episodes/{ep.slug}/index.html"] = env.get_template("episode.html").render(
            episode_context(ep, colour, audio, older, newer))
    newest_first = list(reversed(EPISODES))
    pages = math.ceil(len(newest_first) / page_size)
    for page in range(1, pages + 1):
        key = "index.html" if page == 1 else f"page/{page}/index.html"
        items = newest_first[(page - 1) * page_size : page * page_size]
        out[key] = env.get_template("index.html").render(index_context(colour, page, pages, items))
    out["404.html"] = env.get_template("404.html").render(
        common_context(colour, "/", BASE + "404.html", "Page not found · The Stride Clinic", "Page not found."))
    out["sitemap.xml"] = env.get_template("sitemap.xml").render(
        urls=[{"loc": BASE, "lastmod": "2025-03-18"}] + [{"loc": f"{BASE}episodes/{e.slug}/", "lastmod": e.date.date().isoformat()} for e in EPISODES])
    out["robots.txt"] = env.get_template("robots.txt").render(sitemap_url=BASE + "sitemap.xml")
    for key, text in out.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text(text, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- fixtures

THEMES = {"default": "#b4381f", "pale-yellow": "#f5d547"}  # a pale theme colour must still pass contrast


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One built test site per theme colour."""
    out = {}
    for name, colour in THEMES.items():
        root = tmp_path_factory.mktemp(f"site-{name}")
        build_site(root, colour)
        out[name] = root
    return out


@pytest.fixture
def site(sites: dict[str, Path], serve: Any) -> Any:
    """The default-theme site, served on 127.0.0.1."""
    return serve(sites["default"])


def open_page(page: Any, url: str) -> None:
    """Open a page and wait until it and (on episode pages) the audio's metadata have loaded."""
    page.goto(url, wait_until="load")
    page.wait_for_function("() => { const a = document.querySelector('audio'); return !a || a.readyState >= 1 }",
                           timeout=10_000)


def assert_clean(page: Any) -> None:
    assert page.log.problems() == []
    assert page.log.external_requests == []


def main_url(served: Any) -> str:
    return f"{served.url}episodes/{MAIN.slug}/"


# --------------------------------------------------------------------------- the episode page


def test_episode_page_structure_and_metadata(page: Any, site: Any):
    open_page(page, main_url(site))
    assert page.title() == "Why your knees hurt when you run · The Stride Clinic"
    assert page.locator("h1").all_inner_texts() == ["Why your knees hurt when you run"]
    for landmark in ("header", "nav", "main", "footer", "aside"):
        assert page.locator(landmark).count() >= 1, landmark
    assert page.get_by_text("1 min read").count() == 1
    assert page.locator("audio[controls][preload=metadata]").count() == 1
    assert page.locator("audio").get_attribute("aria-label") == "Episode audio: Why your knees hurt when you run"
    download = page.locator("a[download]").first
    assert download.get_attribute("href").endswith(f"/{MAIN.slug}.mp3")
    assert page.locator("#notes table th").all_inner_texts() == ["Where it hurts", "Likely cause", "What helps"]
    assert page.locator("#notes .footnotes li").count() == 1
    assert page.locator("#notes h2#what-hurts-and-where a.anchor").get_attribute("href") == "#what-hurts-and-where"
    assert page.locator(".people .person-name").all_inner_texts() == ["Sam Whitfield", "Dr. Maya Okafor"]
    assert page.locator(".pager a[rel=prev] .pager-title").inner_text() == "Shin splints are a load problem"
    assert page.locator(".pager a[rel=next] .pager-title").inner_text() == "Coming back after a running injury"
    assert page.locator("#subscribe a").all_inner_texts() == ["RSS feed", "Apple Podcasts", "Spotify"]
    for img in page.locator("img").all():
        assert img.get_attribute("alt") is not None
    # head metadata
    page_url = f"{BASE}episodes/{MAIN.slug}/"
    audio_url = page_url + page.locator("audio source").get_attribute("src")
    head = {
        "canonical": page.locator("link[rel=canonical]").get_attribute("href"),
        "alternate": page.locator("link[rel=alternate][type='application/rss+xml']").get_attribute("href"),
        "og:type": page.locator("meta[property='og:type']").get_attribute("content"),
        "og:title": page.locator("meta[property='og:title']").get_attribute("content"),
        "og:image": page.locator("meta[property='og:image']").get_attribute("content"),
        "og:audio": page.locator("meta[property='og:audio']").get_attribute("content"),
        "twitter:card": page.locator("meta[name='twitter:card']").get_attribute("content"),
        "twitter:title": page.locator("meta[name='twitter:title']").get_attribute("content"),
    }
    assert head == {
        "canonical": page_url,
        "alternate": BASE + "feed.xml",
        "og:type": "article",
        "og:title": MAIN.title,
        "og:image": BASE + "cover.jpg",
        "og:audio": audio_url,
        "twitter:card": "summary",
        "twitter:title": MAIN.title,
    }
    description = page.locator("meta[name=description]").get_attribute("content")
    assert description.startswith("Runner's knee, patellar tendinopathy") and len(description) <= 300
    data = json.loads(page.locator("script[type='application/ld+json']").inner_text())
    assert (data["@type"], data["partOfSeries"]["@type"], data["duration"]) == ("PodcastEpisode", "PodcastSeries", "PT5S")
    assert data["associatedMedia"]["contentUrl"] == audio_url
    assert_clean(page)


def test_audio_loads_with_range_requests_and_plays(page: Any, site: Any):
    open_page(page, main_url(site))
    page.evaluate("() => document.querySelector('audio').play()")
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.5", timeout=10_000)
    mp3 = [r for r in site.requests if r[1].endswith(".mp3")]
    assert any(status == 206 and rng for _, _, rng, status in mp3), mp3
    assert page.evaluate("() => document.querySelector('audio').duration") == pytest.approx(AUDIO_SECONDS, abs=0.2)
    assert_clean(page)


def test_chapters_become_labelled_buttons_that_seek_and_play(page: Any, site: Any):
    open_page(page, main_url(site))
    buttons = page.locator("[data-chapters] button.chapter-seek")
    assert buttons.count() == 3
    assert [b.get_attribute("aria-label") for b in buttons.all()] == [
        "Play from 00:00 — Welcome",
        "Play from 00:02 — What hurts, and where",
        "Play from 00:03 — The warm-up",
    ]
    page.get_by_role("button", name="Play from 00:03 — The warm-up").click()
    page.wait_for_function("() => { const a = document.querySelector('audio'); return !a.paused && a.currentTime >= 3.1 }",
                           timeout=10_000)
    assert page.evaluate("() => location.hash") == "#t=00:00:03"
    page.wait_for_function("() => document.querySelector('[data-chapters] [aria-current]')", timeout=5_000)
    current = page.locator("[data-chapters] [aria-current] .chapter-title").inner_text()
    assert current == "The warm-up"
    # transcript timestamps seek too
    page.locator("#transcript summary").click()
    page.locator("#transcript a.ts", has_text="00:01").click()
    page.wait_for_function("() => { const t = document.querySelector('audio').currentTime; return t >= 1.5 && t < 3 }",
                           timeout=10_000)
    assert_clean(page)


def test_a_time_fragment_in_the_page_url_sets_the_start(page: Any, site: Any):
    open_page(page, main_url(site) + "#t=00:00:02")
    page.wait_for_function("() => document.querySelector('audio').currentTime === 2", timeout=10_000)
    assert page.evaluate("() => document.querySelector('audio').paused")  # no autoplay on arrival
    page.locator("#notes a[href='#t=00:00:03']").click()  # an in-page #t= link in the notes
    page.wait_for_function("() => document.querySelector('audio').currentTime >= 3", timeout=10_000)
    assert page.evaluate("() => location.hash") == "#t=00:00:03"
    page.evaluate("() => { const a = document.querySelector('audio'); a.pause(); a.currentTime = 0; }")
    page.locator("#notes a[href='#t=00:00:03']").click()  # the same time again: no hashchange, still seeks
    page.wait_for_function("() => document.querySelector('audio').currentTime >= 3", timeout=10_000)
    page.evaluate("() => { location.hash = '#t=1'; }")  # typed or edited in the address bar
    page.wait_for_function("() => { const t = document.querySelector('audio').currentTime; return t >= 1 && t < 3 }",
                           timeout=10_000)
    assert_clean(page)


def test_without_javascript_chapters_are_links_into_the_audio(page_without_js: Any, site: Any):
    page = page_without_js
    open_page(page, main_url(site))
    links = page.locator("[data-chapters] a.chapter-seek")
    assert links.count() == 3
    href = links.nth(2).get_attribute("href")
    assert re.fullmatch(rf"[0-9a-f]{{16}}/{MAIN.slug}\.mp3#t=3", href)
    assert links.nth(2).inner_text().split() == ["00:03", "The", "warm-up"]
    assert page.locator("#transcript details p").count() == 3
    response = page.request.get(main_url(site) + href.split("#")[0], headers={"Range": "bytes=0-99"})
    assert response.status == 206 and len(response.body()) == 100
    assert_clean(page)


def test_hostile_notes_are_inert_in_the_dom(page: Any, site: Any):
    open_page(page, main_url(site))
    page.locator("#notes").hover()
    page.get_by_text("a mixed-case javascript link").click()
    page.get_by_text("a javascript link", exact=True).click()
    page.get_by_text("hover me").hover()
    found = page.evaluate("""() => {
        const notes = document.querySelector('#notes');
        const bad = [];
        for (const el of notes.querySelectorAll('*')) {
            for (const attr of el.attributes) {
                if (attr.name.startsWith('on') || attr.name === 'style' || attr.name === 'srcdoc') bad.push(el.tagName + ' ' + attr.name);
                if (/^\\s*(javascript|data|vbscript):/i.test(attr.value)) bad.push(el.tagName + ' ' + attr.name + '=' + attr.value);
            }
        }
        return {
            pwned: window.__pwned || null,
            bad,
            scripts: notes.querySelectorAll('script, style, iframe, svg, object, embed').length,
            pageScripts: [...document.scripts].map(s => s.type || 'classic'),
            bodyVisible: getComputedStyle(document.body).display !== 'none',
        };
    }""")
    assert found == {"pwned": None, "bad": [], "scripts": 0, "pageScripts": ["application/ld+json", "classic"],
                     "bodyVisible": True}
    assert page.url == main_url(site)  # the neutered links went nowhere
    assert_clean(page)


def test_video_becomes_a_privacy_friendly_lazy_embed(page: Any, site: Any):
    open_page(page, f"{site.url}episodes/{EPISODES[2].slug}/")
    frame = page.locator("#video iframe")
    assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert frame.get_attribute("loading") == "lazy"
    assert frame.get_attribute("title") == f"Video: {EPISODES[2].title}"
    assert page.log.problems() == []
    assert {urlsplit(u).hostname for u in page.log.external_requests} <= {"www.youtube-nocookie.com"}


def test_video_helper_urls():
    assert video_embed("https://youtu.be/dQw4w9WgXcQ")["src"] == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert video_embed("https://vimeo.com/76979871")["src"] == "https://player.vimeo.com/video/76979871?dnt=1"
    assert video_embed("https://example.com/talk.mp4") == {
        "kind": "link", "provider": None, "src": None, "url": "https://example.com/talk.mp4"}


# --------------------------------------------------------------------------- index, 404, sitemap


def test_index_lists_newest_first_and_paginates(page: Any, site: Any):
    open_page(page, site.url)
    assert page.locator("h1").all_inner_texts() == ["The Stride Clinic"]
    assert page.locator(".episode-card-title").all_inner_texts() == [
        "Coming back after a running injury", "Why your knees hurt when you run"]
    first = page.locator(".episode-card").first
    assert first.locator(".badge").inner_text().lower() == "episode 3"
    assert "18 March 2025" in first.inner_text() and "1 min listen" in first.inner_text()
    assert page.locator("#subscribe a").all_inner_texts() == ["RSS feed", "Apple Podcasts", "Spotify"]
    page.locator(".pagination a[rel=next]").click()
    page.wait_for_load_state("load")
    assert page.url == f"{site.url}page/2/"
    assert page.locator(".episode-card-title").all_inner_texts() == ["Shin splints are a load problem"]
    page.locator(".episode-card-title a").click()  # the card's link works from page 2 as well
    page.wait_for_load_state("load")
    assert page.url == f"{site.url}episodes/{EPISODES[0].slug}/"
    assert_clean(page)


def test_missing_page_gets_the_404_page(page: Any, site: Any):
    response = page.goto(f"{site.url}no/such/page/", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This page is not here"
    # The document's own 404 is the point; everything the page loads must still be there.
    assert page.log.failed_requests == [f"HTTP 404: {site.url}no/such/page/"]
    assert page.log.console_errors == ["console: Failed to load resource: the server responded with a status of 404 (Not Found)"]
    assert [r for r in site.requests if r[1] != "/no/such/page/" and r[3] != 200] == []
    assert {r[1] for r in site.requests} >= {"/static/style.css", "/static/player.js", "/cover.jpg"}


def test_sitemap_and_robots(sites: dict[str, Path]):
    import xml.etree.ElementTree as ET

    root = ET.fromstring((sites["default"] / "sitemap.xml").read_bytes())
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    assert [loc.text for loc in root.findall("s:url/s:loc", ns)][:2] == [BASE, f"{BASE}episodes/{EPISODES[0].slug}/"]
    assert (sites["default"] / "robots.txt").read_text() == f"User-agent: *\nAllow: /\n\nSitemap: {BASE}sitemap.xml\n"


def test_rendering_is_deterministic(tmp_path: Path, sites: dict[str, Path]):
    again = build_site(tmp_path / "again", THEMES["default"])
    for key, text in again.items():
        assert (sites["default"] / key).read_text(encoding="utf-8") == text, key


# --------------------------------------------------------------------------- accessibility and design


PAGES = {"episode": f"episodes/{MAIN.slug}/", "index": "", "404": "no/such/page/"}


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violations(page: Any, sites: dict[str, Path], serve: Any, axe: Any, theme: str,
                                         scheme: str):
    served = serve(sites[theme])
    page.emulate_media(color_scheme=scheme)
    for name, path in PAGES.items():
        page.goto(served.url + path, wait_until="load")
        if name == "episode":
            page.locator("#transcript summary").click()  # check the transcript's contents too
        assert axe(page) == [], f"{name} page, {theme} theme, {scheme} scheme"


def test_theme_colour_helpers_reach_aa():
    for colour in ("#b4381f", "#f5d547", "#ffffff", "#000000", "#3a7", "#0057b8", "#777777"):
        t = theme_colours(colour)
        assert contrast(t["on_color"], t["color"]) >= 4.5, colour
        assert contrast(t["accent_light"], LIGHT_FLOOR) >= 4.5, colour
        assert contrast(t["accent_dark"], DARK_CEILING) >= 4.5, colour


def test_keyboard_focus_is_visible_and_skip_link_works(page: Any, site: Any):
    open_page(page, main_url(site))
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
        return {text: el.textContent, outline: style.outlineStyle, width: parseFloat(style.outlineWidth), top: box.top};
    }""")
    assert focused["text"] == "Skip to content"
    assert focused["outline"] != "none" and focused["width"] >= 2 and focused["top"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_responsive_layout_and_screenshots(page: Any, site: Any, screenshot: Any, width: int, scheme: str):
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=scheme)
    for name, path in PAGES.items():
        open_page(page, site.url + path)
        if name == "episode":
            page.locator("#transcript summary").click()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow == 0, f"{name} page scrolls sideways at {width}px"
        screenshot(page, f"{name}-{width}-{scheme}")


# --------------------------------------------------------------------------- the harness itself


def test_missing_browser_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch):
    from tests._browser_fixtures import unavailable

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        unavailable("no chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no chromium"):
        unavailable("no chromium")


def test_range_server(tmp_path: Path, serve: Any):
    import urllib.error
    import urllib.request

    (tmp_path / "a.bin").write_bytes(bytes(range(100)))
    served = serve(tmp_path)

    def get(rng: str | None) -> tuple[int, bytes, str | None]:
        req = urllib.request.Request(served.url + "a.bin", headers={"Range": rng} if rng else {})
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, resp.read(), resp.headers.get("Content-Range")
        except urllib.error.HTTPError as err:
            return err.code, b"", err.headers.get("Content-Range")

    assert get(None) == (200, bytes(range(100)), None)
    assert get("bytes=10-19") == (206, bytes(range(10, 20)), "bytes 10-19/100")
    assert get("bytes=90-") == (206, bytes(range(90, 100)), "bytes 90-99/100")
    assert get("bytes=-5") == (206, bytes(range(95, 100)), "bytes 95-99/100")
    assert get("bytes=95-500") == (206, bytes(range(95, 100)), "bytes 95-99/100")
    assert get("bytes=100-") == (416, b"", "bytes */100")
    assert get(None)[0] == 200 and served.requests[-1] == ("GET", "/a.bin", None, 200)
