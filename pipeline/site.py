"""The companion site: episode pages, index pages, sitemap, robots.txt, 404 and static files (Jinja2 lives here)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import hashlib
import math
import multiprocessing
import multiprocessing.process
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlsplit

import jinja2
from markupsafe import Markup

from pipeline import __version__, model, notes, transcript, urls
from pipeline.artifacts import BuiltEpisode
from pipeline.cache import CACHE_VERSION, PagePacks, library_versions
from pipeline.cache import key as cache_key
from pipeline.errors import ContentError, PipelineError
from pipeline.images import SHARE_CARD_SIZE
from pipeline.manifest import Kind, Output

TEMPLATES = Path(__file__).resolve().parent / "templates"

HTML = "text/html; charset=utf-8"
#: Static files taken from the templates folder (a host's copy wins), published under static/.
STATIC_FILES = {"style.css": "text/css; charset=utf-8", "player.js": "text/javascript; charset=utf-8"}
#: Pages other than episode and index pages: output key -> (template, content type).
EXTRA_PAGES = {
    urls.NOT_FOUND_KEY: ("404.html", HTML),
    urls.SITEMAP_KEY: ("sitemap.xml", "application/xml; charset=utf-8"),
    urls.ROBOTS_KEY: ("robots.txt", "text/plain; charset=utf-8"),
}

#: Cold renders of at least this many episode pages are shared between worker processes.
PARALLEL_MIN_PAGES = 400
MAX_WORKERS = 8
FORMAT_LABELS = {"audio/mpeg": ("MP3", "mp3"), "audio/mp4": ("M4A", "m4a")}
TRANSCRIPT_LABELS = {"vtt": "WebVTT", "srt": "SRT"}
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

# --------------------------------------------------------------------------- colours

LIGHT_FLOOR = "#f3f1ec"  # the darkest light-scheme surface in style.css (--surface-2)
DARK_CEILING = "#2a2926"  # lighter than the lightest dark-scheme surface in style.css
AA = 4.6  # WCAG AA asks 4.5:1; a hair more so a browser's colour rounding cannot fail it


def _channels(colour: str) -> tuple[float, float, float]:
    h = colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb / #rrggbb colour."""
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(a: str, b: str, t: float) -> str:
    """sRGB mix as #rrggbb: t=0 is a, t=1 is b."""
    return "#" + "".join(
        f"{round((x * (1 - t) + y * t) * 255):02x}" for x, y in zip(_channels(a), _channels(b), strict=True)
    )


def theme_colours(colour: str) -> dict[str, str]:
    """The theme colour plus readable companions: text on it, and a link accent for each colour scheme."""
    colour = mix(colour, colour, 0)  # #abc -> #aabbcc

    def accent(toward: str, against: str) -> str:
        for step in range(41):
            candidate = mix(colour, toward, step / 40)
            if contrast(candidate, against) >= AA:
                return candidate
        return toward

    on = "#ffffff" if contrast(colour, "#ffffff") >= contrast(colour, "#000000") else "#000000"
    return {
        "color": colour,
        "on_color": on,
        "accent_light": accent("#000000", LIGHT_FLOOR),
        "accent_dark": accent("#ffffff", DARK_CEILING),
    }


# --------------------------------------------------------------------------- small formatting helpers

_VIDEO: list[tuple[re.Pattern[str], str, Callable[[str, re.Match[str]], str]]] = [
    (
        re.compile(r"^https?://(?:www\.|m\.)?youtube\.com/watch\?"),
        "YouTube",
        lambda u, m: parse_qs(urlsplit(u).query).get("v", [""])[0],
    ),
    (re.compile(r"^https?://youtu\.be/([\w-]{6,})"), "YouTube", lambda u, m: m.group(1)),
    (
        re.compile(r"^https?://(?:www\.)?youtube\.com/(?:embed|shorts|live)/([\w-]{6,})"),
        "YouTube",
        lambda u, m: m.group(1),
    ),
    (
        re.compile(r"^https?://(?:www\.|player\.)?vimeo\.com/(?:video/)?(\d+)"),
        "Vimeo",
        lambda u, m: m.group(1),
    ),
]
#: Privacy-friendly embeds: no cookies before play (YouTube), do-not-track (Vimeo).
_EMBED = {
    "YouTube": "https://www.youtube-nocookie.com/embed/{id}",
    "Vimeo": "https://player.vimeo.com/video/{id}?dnt=1",
}


def video_embed(url: str | None) -> dict[str, Any] | None:
    """A YouTube or Vimeo URL -> a privacy-friendly embed; any other URL -> a plain link; None -> None."""
    if not url:
        return None
    for pattern, provider, video_id in _VIDEO:
        m = pattern.match(url)
        vid = video_id(url, m) if m else ""
        if vid and re.fullmatch(r"[\w-]{6,}", vid):
            return {"kind": "embed", "provider": provider, "src": _EMBED[provider].format(id=vid), "url": url}
    return {"kind": "link", "provider": None, "src": None, "url": url}


def duration_iso(seconds: float) -> str:
    """ISO 8601 duration in whole seconds: 'PT1H2M3S', 'PT42M10S', 'PT5S'."""
    s = round(seconds)
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{sec}S"


def duration_label(seconds: float) -> str:
    """A listener's duration: '42 min', '1 h 5 min' (at least 1 min)."""
    minutes = max(1, round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def human_size(n: int) -> str:
    """'4.2 MB' from 100 kB on, else whole kB."""
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{math.ceil(n / 1000)} kB"


def human_date(d: dt.datetime) -> str:
    """'4 March 2025' (English month names, whatever the locale)."""
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def seconds_attr(seconds: float) -> str:
    """Seconds for a data attribute or media fragment: '90', '92.5' (never exponent notation)."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def relative_url(from_key: str, to_key: str) -> str:
    """The link from the page stored at `from_key` to the object at `to_key`, relative to the page.

    A folder's index.html is linked as the folder ("../other/"), so links stay clean; the result is
    URL-quoted the way urls.url quotes keys.
    """
    if to_key == "index.html" or to_key.endswith("/index.html"):
        to_key = to_key[: -len("index.html")]
    here = from_key.split("/")[:-1]
    there = to_key.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    link = "../" * (len(here) - common) + "/".join(there[common:])
    return quote(link, safe="/-._~") or "./"


def footer_note(show: model.Show, public: Sequence[BuiltEpisode]) -> str:
    """'© 2025 Maya Okafor, CC BY 4.0': the copyright line, dated by the newest episode (never the clock)."""
    year = str(public[0].episode.date.year) if public else ""
    text = show.copyright or show.author
    if re.match(r"^(?:©|\(c\)|copyright\b)", text, re.IGNORECASE):
        return text
    if not re.search(r"\b(?:19|20)\d\d\b", text) and year:
        text = f"{year} {text}"
    return f"© {text}"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SiteRender:
    """What one render made: every output, and which page keys were rendered or reused from the cache."""

    outputs: tuple[Output, ...]
    rendered: tuple[str, ...]  # keys whose page was rendered this time (cache misses), in output order
    reused: tuple[str, ...]  # keys served from the page cache without Markdown or Jinja work


_BROWSER_ORDER = ("audio/mpeg", "audio/mp4", "audio/ogg", "audio/flac")  # what browsers play most widely


def _audio_sources(
    link: Callable[[str, str], str], key: str, b: BuiltEpisode, main_href: str
) -> list[dict[str, str]]:
    """<source> elements: the main file first (the default, at `main_href`), then alternates in order of
    browser support."""
    rank = {mime: i for i, mime in enumerate(_BROWSER_ORDER)}
    alts = sorted(b.alternates, key=lambda a: rank.get(a.mime, len(rank)))
    out = [{"url": main_href, "type": b.audio.mime}]
    return out + [{"url": link(key, a.key), "type": f'{a.mime}; codecs="{a.codecs}"'} for a in alts]


def _clips(link: Callable[[str, str], str], key: str, b: BuiltEpisode) -> list[dict[str, Any]]:
    """Soundbite clips: each playable on its own, with a share link to the page at its start (#t=MM:SS)."""
    out = []
    for c in b.clips:
        total = int(c.start)
        h, m, sec = total // 3600, total % 3600 // 60, total % 60
        at = f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"
        out.append(
            {
                "title": c.title,
                "url": link(key, c.key),
                "mime": c.mime,
                "at": at,
                "share_url": f"{b.page_url}#t={at}",
                "start": seconds_attr(c.start),
                "seconds": round(c.duration),
            }
        )
    return out


def p20_context(show: model.Show, ep: model.Episode | None) -> dict[str, Any]:
    """Podcasting 2.0 facts a listener sees (templates _value, _podroll, _location); `ep` None: the index."""
    loc = (ep.location if ep else None) or show.location
    location = None
    if loc is not None:
        lat_lon = loc.geo.removeprefix("geo:").split(";")[0].split(",")[:2] if loc.geo else None
        location = {
            "name": loc.name,
            "label": "Made in" if loc.rel == "creator" else "About",
            "map_url": f"https://www.openstreetmap.org/?mlat={lat_lon[0]}&mlon={lat_lon[1]}"
            if lat_lon
            else None,
        }
    out: dict[str, Any] = {"location": location}
    if ep is None:
        out["podroll"] = [
            {"title": r.title or r.feed_url or r.feed_guid, "url": r.feed_url} for r in show.podroll
        ]
        out["p20"] = None
        return out
    value = ep.value or show.value
    p20: dict[str, Any] = {"funding": [{"url": f.url, "text": f.text} for f in ep.funding], "value": None}
    if value is not None:
        fees = sum(r.split for r in value.recipients if r.fee)
        shares = sum(r.split for r in value.recipients if not r.fee) or 1
        p20["value"] = {
            "type": value.type.capitalize(),
            "recipients": [
                {
                    "name": r.name or r.address,
                    "percent": f"{r.split if r.fee else r.split * (100 - fees) / shares:.4g}%",
                }
                for r in value.recipients
            ],
        }
    out["p20"] = p20
    return out


def render(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    *,
    asset_keys: Mapping[Path, str],
    artwork_key: str,
    templates: Path | None = None,
    cache: PagePacks | None = None,
    workers: int | None = None,
) -> list[Output]:
    """Every page of the site as Outputs (PAGE: html, sitemap, robots; ASSET: static/style.css, player.js).

    `public` holds the published episodes, newest first. `asset_keys` maps local files (artwork, logo,
    host photo, episode images) to their keys in the build folder; pages link to them relatively, so the
    site works from any base URL and in the local preview. `templates` is the host's override folder
    (any template or static file of the same name wins). With `cache`, a page whose inputs are unchanged
    comes back from it without any Markdown or Jinja work, and new pages are handed to it; saving it is
    the caller's job (this module writes no files). Notes come from each BuiltEpisode's record (rendered
    at most once per build). See render_site.
    """
    return list(
        render_site(
            show,
            public,
            asset_keys=asset_keys,
            artwork_key=artwork_key,
            templates=templates,
            cache=cache,
            workers=workers,
        ).outputs
    )


def render_site(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    *,
    asset_keys: Mapping[Path, str],
    artwork_key: str,
    templates: Path | None = None,
    cache: PagePacks | None = None,
    workers: int | None = None,
) -> SiteRender:
    """Like render, and says which pages were rendered and which came from the cache.

    A page is kept under a key derived from its typed inputs: the episode's build record (every field but
    the build's own bookkeeping), its neighbours, its transcript's bytes, the show, the asset keys, the
    template and static sources, CACHE_VERSION and the versions of the libraries that shape the bytes.
    Cold renders of many episode pages are shared between processes (this one and N-1 workers): by
    default the CPUs (up to MAX_WORKERS) once PARALLEL_MIN_PAGES pages need rendering; `workers=N` asks
    for N whatever the count, `workers=1` for none. The output never depends on it.
    """
    config = _Config(
        show=show,
        asset_keys=dict(asset_keys),
        artwork_key=artwork_key,
        templates=templates if templates is not None and templates.is_dir() else None,
        footer=footer_note(show, public),
    )
    return _render_all(_Site(config), cache, public, workers)


def _render_all(
    site: _Site,
    cache: PagePacks | None,
    public: Sequence[BuiltEpisode],
    workers: int | None,
) -> SiteRender:
    # A page cache that holds no page (a cold build) can serve none: then nobody looks pages up, and each
    # page's key is worked out by the process that renders it, in parallel with the others.
    plan = _Plan(site, public, keyed=cache is not None and not cache.empty())
    outputs: dict[str, Output] = {}
    rendered: list[str] = []
    cards: dict[str, _Card] = {}  # by card key (notes text + notes code)

    def take(key: str, data: bytes, content_type: str, fresh: bool, h: str) -> None:
        outputs[key] = Output(key, data, Kind.PAGE, content_type)
        if fresh:
            rendered.append(key)
            if cache is not None:
                cache.put(h, data)

    def reuse(key: str, h: str) -> bool:
        hit = cache.get(h) if cache is not None else None
        if hit is not None:
            take(key, hit, HTML, False, h)
        return hit is not None

    episodes = [job for job in plan.episode_jobs() if not reuse(job.key, job.hash)]
    indexes = [job for job in plan.index_jobs() if not reuse(job.key, job.hash)]
    n = worker_count(workers)
    keys = cache is not None  # pages are only keyed to be kept
    extras: list[tuple[str, bytes, str, bool, str]] = []

    def make_extras() -> None:
        for key, (template, content_type) in EXTRA_PAGES.items():
            context = site.extra_context(key, public)
            h = cache_key(site.fingerprint, key, context)
            hit = cache.get(h) if cache is not None else None
            if hit is not None:
                extras.append((key, hit, content_type, False, h))
            else:
                extras.append((key, site.render_template(template, context), content_type, True, h))

    results: Iterable[tuple[_EpisodeJob | _IndexJob, bytes, _Card | None, str]]
    if n >= 2 and len(episodes) >= (2 if workers else PARALLEL_MIN_PAGES):
        # The sitemap (every page's URL) and the other extra pages are made while the workers start.
        results = _render_parallel(site, episodes, indexes, n, keys, aside=make_extras)
    else:
        results = ((job, *_render_one(site, job), job.hash) for job in episodes)
    for job, data, card, h in results:
        if keys and not h:
            h = plan.episode_hash(job) if isinstance(job, _EpisodeJob) else plan.index_hash(job)
        take(job.key, data, HTML, True, h)
        if isinstance(job, _EpisodeJob) and card is not None:
            cards[job.card_key] = card

    # Index pages the workers did not make take their cards from this render, the card cache, or the notes.
    for index_job in indexes:
        if index_job.key in outputs:
            continue
        for b, ck in zip(index_job.items, index_job.card_keys, strict=True):
            if ck not in cards:
                kept = _Card.from_json(cache.card(ck)) if cache is not None else None
                cards[ck] = kept if kept is not None else _Card.of(b.notes)
        data = site.index_page(
            index_job.page,
            index_job.pages,
            index_job.items,
            [cards[ck] for ck in index_job.card_keys],
            index_job.total,
        )
        take(index_job.key, data, HTML, True, index_job.hash or (plan.index_hash(index_job) if keys else ""))
    if cache is not None:  # every public episode's card is kept, for the index page its next edit re-renders
        for ck in plan.card_keys:
            if ck in cards:
                cache.put_card(ck, cards[ck].to_json())
            else:
                cache.card(ck)

    if not extras:
        make_extras()
    for key, data, content_type, made, h in extras:
        take(key, data, content_type, made, h)

    static = [
        Output(urls.static_key(name), site.static[name], Kind.ASSET, content_type)
        for name, content_type in STATIC_FILES.items()
    ]
    order = [
        *(urls.page_key(b.episode) for b in public),
        *(urls.index_key(p) for p in range(1, plan.pages + 1)),
        *EXTRA_PAGES,
    ]
    fresh = set(rendered)
    return SiteRender(
        outputs=(*static, *(outputs[k] for k in order)),
        rendered=tuple(k for k in order if k in fresh),
        reused=tuple(k for k in order if k not in fresh),
    )


# --------------------------------------------------------------------------- planning: keys and input hashes


@dataclass(frozen=True)
class _Config:
    """Everything a renderer needs besides the episodes; small and picklable (spawned workers get it)."""

    show: model.Show
    asset_keys: dict[Path, str]
    artwork_key: str
    templates: Path | None
    footer: str


@dataclass(frozen=True)
class _Neighbour:
    title: str
    slug: str


@dataclass(frozen=True)
class _EpisodeJob:
    key: str
    hash: str  # "" when the plan was not keyed (see _Plan): then whoever renders the page keys it
    position: int  # in `public`, newest first
    card_key: str
    built: BuiltEpisode
    older: _Neighbour | None
    newer: _Neighbour | None


@dataclass(frozen=True)
class _IndexJob:
    key: str
    hash: str  # "" when the plan was not keyed
    page: int
    pages: int
    total: int
    first: int  # the position of items[0] in `public`
    items: tuple[BuiltEpisode, ...]
    card_keys: tuple[str, ...]  # the items' card keys


@dataclass(frozen=True)
class _Card:
    """What the index shows of an episode's notes."""

    reading_minutes: int
    summary: str  # the notes' own summary (front matter `summary` wins on the page)

    @classmethod
    def of(cls, rendered: notes.Notes) -> _Card:
        return cls(rendered.reading_minutes, rendered.summary)

    def to_json(self) -> list[object]:
        return [self.reading_minutes, self.summary]

    @classmethod
    def from_json(cls, value: object) -> _Card | None:
        """The card kept in the cache, or None for anything not shaped like one (a miss, not a crash)."""
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and isinstance(value[1], str)
        ):
            return cls(value[0], value[1])
        return None


#: Fields of the build record that say how the build went, not what a page shows.
_BOOKKEEPING = frozenset({"reused", "path", "rendered"})


def _typed(value: object) -> object:
    """The plain (JSON-able) form of a typed input, field by field, for a cache key.

    Dataclasses give every field (new fields count without anyone listing them) except the build's own
    bookkeeping; pydantic models their JSON dump; paths their text.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _typed(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in _BOOKKEEPING
        }
    dump = getattr(value, "model_dump_json", None)
    if dump is not None:
        return dump()
    if isinstance(value, tuple | list):
        return [_typed(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class _Plan:
    """Which pages exist and the key of each one's inputs, computed without any Markdown or Jinja work.

    `keyed=False` (nothing can be reused) leaves the jobs' keys empty: record(), episode_hash() and
    index_hash() work them out for whoever renders the page (a worker process has its own copy of the plan).
    """

    def __init__(self, site: _Site, public: Sequence[BuiltEpisode], *, keyed: bool = True) -> None:
        self.site = site
        self.public = public
        self.keyed = keyed
        self.pages = max(1, math.ceil(len(public) / site.show.page_size))
        self.records: list[str | None] = [None] * len(public)  # each episode's record key, once worked out
        self.card_keys = [cache_key(site.notes_version, b.episode.notes) for b in public]

    def record(self, i: int) -> str:
        found = self.records[i]
        if found is None:
            found = self.records[i] = _record_key(self.public[i])
        return found

    def episode_hash(self, job: _EpisodeJob) -> str:
        return _episode_key(self.site, job, self.record(job.position))

    def index_hash(self, job: _IndexJob) -> str:
        return _index_key(self.site, job, [self.record(job.first + j) for j in range(len(job.items))])

    def episode_jobs(self) -> Iterable[_EpisodeJob]:
        public = self.public
        for i, b in enumerate(public):
            ep = b.episode
            older = public[i + 1].episode if i + 1 < len(public) else None
            newer = public[i - 1].episode if i > 0 else None
            o = _Neighbour(older.title, older.slug) if older else None
            n = _Neighbour(newer.title, newer.slug) if newer else None
            job = _EpisodeJob(urls.page_key(ep), "", i, self.card_keys[i], b, o, n)
            yield dataclasses.replace(job, hash=self.episode_hash(job)) if self.keyed else job

    def index_jobs(self) -> Iterable[_IndexJob]:
        size = self.site.show.page_size
        total = len(self.public)
        for page in range(1, self.pages + 1):
            first = (page - 1) * size
            items = tuple(self.public[first : first + size])
            job = _IndexJob(
                urls.index_key(page),
                "",
                page,
                self.pages,
                total,
                first,
                items,
                tuple(self.card_keys[first : first + size]),
            )
            yield dataclasses.replace(job, hash=self.index_hash(job)) if self.keyed else job


def _record_key(b: BuiltEpisode) -> str:
    """The key of an episode's build record (every field but the bookkeeping)."""
    return cache_key(_typed(b))


def _episode_key(site: _Site, job: _EpisodeJob, record: str) -> str:
    """An episode page's key: its record's key, its transcript's bytes, its image and its neighbours."""
    ep = job.built.episode
    return cache_key(
        site.fingerprint,
        "episode",
        record,
        _transcript_digest(ep),
        site.image_key(ep),
        dataclasses.astuple(job.older) if job.older else None,
        dataclasses.astuple(job.newer) if job.newer else None,
    )


def _index_key(site: _Site, job: _IndexJob, records: Sequence[str]) -> str:
    """An index page's key: its place among the pages and its items' record keys."""
    return cache_key(site.fingerprint, "index", job.page, job.pages, job.total, list(records))


def _transcript_digest(ep: model.Episode) -> str | None:
    if ep.transcript is None:
        return None
    return hashlib.sha256(ep.transcript.read_bytes()).hexdigest()


def _notes_version() -> str:
    """What rendered notes (and so the index cards) depend on besides their text."""
    return cache_key(CACHE_VERSION, __version__, library_versions("cmarkgfm", "nh3"))


def _code_version() -> str:
    """What every page depends on besides its inputs and templates: one declared constant, library versions."""
    return cache_key(_notes_version(), library_versions("jinja2", "markupsafe"))


# --------------------------------------------------------------------------- rendering


class _Site:
    """A Jinja2 environment for one show (host overrides first) and the context every page shares."""

    def __init__(self, config: _Config) -> None:
        self.config = config
        self.show = show = config.show
        loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(TEMPLATES)]
        if config.templates is not None:
            loaders.insert(0, jinja2.FileSystemLoader(config.templates))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            autoescape=jinja2.select_autoescape(["html", "xml"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self.env.globals["icon"] = self._icons()
        self.static = {name: self._static_bytes(name) for name in STATIC_FILES}
        self.static_version = {
            name: hashlib.sha256(data).hexdigest()[:10] for name, data in self.static.items()
        }
        self.theme = theme_colours(show.theme.color)
        self.description_html = Markup(notes.render_inline(show.description))
        self.description = notes.shorten(notes.plain_text(self.description_html))
        self.base_path = urlsplit(show.base_url).path or "/"
        self._sizes: dict[Path, tuple[int, int] | None] = {}
        self._shared: dict[str, dict[str, Any]] = {}
        self.notes_version = _notes_version()
        self.fingerprint = cache_key(
            _code_version(),
            self._template_sources(),
            show.model_dump_json(),
            config.artwork_key,
            sorted(
                (str(p), k)
                for p, k in config.asset_keys.items()
                if p in (show.theme.logo, show.host.photo if show.host else None, show.artwork)
            ),
            config.footer,
            self.static_version,
        )

    # ----------------------------------------------------------------- templates

    def _template_sources(self) -> list[tuple[str, str]]:
        """(name, sha256) of every template the pages may use, the host's copy where there is one."""
        found: dict[str, Path] = {}
        for folder in (TEMPLATES, self.config.templates):
            if folder is None:
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    found[path.relative_to(folder).as_posix()] = path
        return [(name, hashlib.sha256(found[name].read_bytes()).hexdigest()) for name in sorted(found)]

    def _icons(self) -> Callable[..., Markup]:
        """The icon macro of _icons.html (the host's copy if there is one), memoised per (name, size)."""
        try:
            macro = self.env.get_template("_icons.html").module.icon  # type: ignore[attr-defined]
        except jinja2.TemplateError as err:
            raise ContentError(
                f"cannot load the icons: {err}", file=self._template_file("_icons.html")
            ) from None
        made: dict[tuple[str, int], Markup] = {}

        def icon(name: str, size: int = 20) -> Markup:
            if (name, size) not in made:
                made[name, size] = Markup(macro(name, size))
            return made[name, size]

        return icon

    def _template_file(self, name: str) -> str:
        host = self.config.templates
        if host is not None and (host / name).is_file():
            return model.show_rel(self.show.root, host / name)
        return f"{name} (built-in template)"

    def _static_bytes(self, name: str) -> bytes:
        host = self.config.templates
        path = host / name if host is not None and (host / name).is_file() else TEMPLATES / name
        return path.read_bytes()

    def compile(self) -> None:
        """Compile the page templates now (before worker processes fork, so they inherit them compiled).

        A broken template is left for render_template to report, with its file and line.
        """
        for name in ("episode.html", "index.html"):
            with contextlib.suppress(jinja2.TemplateError):
                self.env.get_template(name)

    def render_template(self, name: str, context: dict[str, Any]) -> bytes:
        """Render one template; a host's broken template is a ContentError naming the file and line."""
        try:
            return self.env.get_template(name).render(context).encode()
        except jinja2.TemplateSyntaxError as err:
            raise ContentError(
                f"line {err.lineno}: {err.message}",
                file=self._template_file(err.name or name),
                hint="fix the template, or delete it to use the built-in one",
            ) from None
        except jinja2.TemplateNotFound as err:
            raise ContentError(
                f"includes {err.name!r}, which does not exist",
                file=self._template_file(name),
                hint="templates/ may only override templates of the same name",
            ) from None
        except jinja2.TemplateError as err:
            file, line = self._where(err, name)
            raise ContentError(
                f"{f'line {line}: ' if line else ''}cannot render: {err}",
                file=file,
                hint="the names a template can use are listed at the top of base.html",
            ) from None

    def _where(self, err: Exception, name: str) -> tuple[str, int | None]:
        """The host template (and line) a render error happened in, from Jinja's rewritten traceback."""
        host = self.config.templates
        found: tuple[str, int | None] = (self._template_file(name), None)
        tb = err.__traceback__
        while tb is not None:
            path = Path(tb.tb_frame.f_code.co_filename)
            if host is not None and path.parent == host and path.is_file():
                found = (model.show_rel(self.show.root, path), tb.tb_lineno)
            tb = tb.tb_next
        return found

    # ----------------------------------------------------------------- shared context

    def image_key(self, ep: model.Episode) -> str:
        if ep.image is not None and ep.image in self.config.asset_keys:
            return self.config.asset_keys[ep.image]
        return self.config.artwork_key

    def image_size(self, path: Path | None) -> tuple[int, int] | None:
        if path is None:
            return None
        if path not in self._sizes:
            from pipeline import images  # Pillow's one home, imported only when a page needs an image's size

            self._sizes[path] = images.image_size(path)
        return self._sizes[path]

    def _image(self, url: str, alt: str, path: Path | None) -> dict[str, Any]:
        size = self.image_size(path)
        return {
            "url": url,
            "alt": alt,
            "width": size[0] if size else None,
            "height": size[1] if size else None,
        }

    def link(self, from_key: str, to_key: str) -> str:
        """A page's link to another object: relative, except on the 404 page (served at any path)."""
        if from_key == urls.NOT_FOUND_KEY:
            if to_key == "index.html" or to_key.endswith("/index.html"):
                to_key = to_key[: -len("index.html")]
            return self.base_path + quote(to_key, safe="/-._~")
        return relative_url(from_key, to_key)

    def shared(self, key: str) -> dict[str, Any]:
        """The names every page needs (see base.html), for a page stored at `key`."""
        # Its links lead to index.html, static/, artwork/ and assets/, never into episodes/ or page/
        # where pages live, so they depend only on how deep the page is (the 404 page links by path).
        cache_key = key if key == urls.NOT_FOUND_KEY else str(key.count("/"))
        if cache_key not in self._shared:
            self._shared[cache_key] = self._shared_for(key)
        return dict(self._shared[cache_key])

    def _shared_for(self, key: str) -> dict[str, Any]:
        show, cfg = self.show, self.config
        logo_path = show.theme.logo if show.theme.logo in cfg.asset_keys else None
        logo_key = cfg.asset_keys[logo_path] if logo_path else cfg.artwork_key
        icon_path = logo_path or show.artwork
        host = show.host
        photo_key = cfg.asset_keys.get(host.photo) if host and host.photo else None
        cta = show.call_to_action
        return {
            "lang": show.language,
            "show": show,
            "og_type": "website",
            "og_image": self._image(urls.url(show, cfg.artwork_key), f"{show.title} cover art", show.artwork),
            "og_audio": None,
            "jsonld": None,
            "feed_url": show.feed_url,
            "index_url": self.link(key, "index.html"),
            "css_url": self.link(key, urls.static_key("style.css"))
            + "?v="
            + self.static_version["style.css"],
            "js_url": self.link(key, urls.static_key("player.js")) + "?v=" + self.static_version["player.js"],
            "icon_url": self.link(key, logo_key),
            "icon_type": IMAGE_TYPES.get(icon_path.suffix.lower(), "image/jpeg"),
            # The show's name is printed next to the logo inside the same link, so the image is decorative.
            "logo": self._image(self.link(key, logo_key), "", icon_path),
            "theme": self.theme,
            "subscribe": [{"label": link.label, "url": link.url} for link in show.subscribe],
            "host": {
                "name": host.name,
                "bio_html": Markup(notes.render_inline(host.bio)) if host.bio.strip() else Markup(""),
                "photo": {"url": self.link(key, photo_key), "alt": f"Photo of {host.name}"}
                if photo_key
                else None,
                "links": [{"label": link.label, "url": link.url} for link in host.links],
            }
            if host
            else None,
            "cta": {"text_html": Markup(notes.render_inline(cta.text)), "url": cta.url, "label": cta.label}
            if cta
            else None,
            "funding": [{"url": f.url, "text": f.text} for f in show.funding],
            "footer_note": cfg.footer,
            **p20_context(show, None),
        }

    # ----------------------------------------------------------------- pages

    def episode_page(self, job: _EpisodeJob, rendered: notes.Notes) -> bytes:
        """One episode's page (context documented in base.html)."""
        b, show = job.built, self.show
        ep, key = b.episode, job.key
        ctx = self.shared(key)
        summary = notes.shorten(ep.summary) if ep.summary else rendered.summary
        if b.audio.external:  # an imported episode still at the old host: its URL byte for byte
            audio_href = b.audio.url
        elif show.publish.enclosure_prefix:
            audio_href = urls.enclosure_url(show, b.audio.url)
        else:
            audio_href = self.link(key, b.audio.key)
        label, ext = FORMAT_LABELS.get(b.audio.mime, (b.audio.mime.rsplit("/", 1)[-1].upper(), "audio"))
        image_alt = f"Cover art for {ep.title}" if ep.image is not None else f"{show.title} cover art"
        image_path = ep.image if ep.image is not None else show.artwork
        host = show.host
        host_photo = ctx["host"]["photo"] if ctx["host"] else None
        ctx.update(
            {
                "page_title": f"{ep.title} · {show.title}",
                "description": summary,
                "canonical_url": b.page_url,
                "og_type": "article",
                "og_image": {
                    "url": b.share_card_url,
                    "alt": f"{ep.title}: {show.title}",
                    "width": SHARE_CARD_SIZE[0],
                    "height": SHARE_CARD_SIZE[1],
                }
                if b.share_card_url
                else self._image(b.image_url, image_alt, image_path),
                "og_audio": {"url": b.audio.url, "type": b.audio.mime},
                "jsonld": self._episode_jsonld(b, summary),
                "episode": {
                    "slug": ep.slug,  # the player remembers the position per episode
                    "title": ep.title,
                    "number": ep.number,
                    "season": ep.season,
                    "type": ep.type,
                    "explicit": show.explicit if ep.explicit is None else ep.explicit,
                    "date_iso": ep.date.isoformat(),
                    "date_human": human_date(ep.date),
                    "reading_minutes": rendered.reading_minutes,
                },
                "notes_html": Markup(rendered.html),
                "headings": rendered.headings,
                "image": self._image(self.link(key, self.image_key(ep)), image_alt, image_path),
                "audio": {
                    "url": audio_href,
                    "mime": b.audio.mime,
                    "size_human": human_size(b.audio.size),
                    "format_label": label,
                    "download_name": f"{ep.slug}.{ext}",
                    "duration_hms": transcript.clock(b.audio.duration),
                    "duration_label": duration_label(b.audio.duration),
                    "duration_iso": duration_iso(b.audio.duration),
                    "sources": _audio_sources(self.link, key, b, audio_href),
                },
                "clips": _clips(self.link, key, b),
                "waveform": {"peaks": b.peaks, "url": self.link(key, urls.peaks_key(ep, b.audio.sha256))}
                if b.peaks
                else None,
                "video": video_embed(ep.video),
                "chapters": [
                    {
                        "title": ch.title,
                        "url": ch.url,
                        "clock": transcript.clock(ch.start),
                        "seconds": seconds_attr(ch.start),
                        "href": f"{audio_href}#t={seconds_attr(ch.start)}",
                    }
                    for ch in ep.chapters
                ],
                "transcript": self._transcript(b, audio_href),
                **p20_context(show, ep),
                "persons": [
                    {
                        "name": p.name,
                        "role_label": p.role[:1].upper() + p.role[1:],
                        "href": p.href,
                        # Person.img points outside the site: pages load nothing from elsewhere, so initials stand in,
                        # except for the show's host, whose photo is one of the site's own files.
                        "img": host_photo["url"] if host_photo and host and p.name == host.name else None,
                    }
                    for p in ep.persons
                ],
                "prev": {
                    "title": job.older.title,
                    "url": self.link(key, f"episodes/{job.older.slug}/index.html"),
                }
                if job.older
                else None,
                "next": {
                    "title": job.newer.title,
                    "url": self.link(key, f"episodes/{job.newer.slug}/index.html"),
                }
                if job.newer
                else None,
            }
        )
        return self.render_template("episode.html", ctx)

    def _episode_jsonld(self, b: BuiltEpisode, summary: str) -> dict[str, Any]:
        show, ep = self.show, b.episode
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "PodcastEpisode",
            "url": b.page_url,
            "name": ep.title,
            "datePublished": ep.date.isoformat(),
            "description": summary,
            "duration": duration_iso(b.audio.duration),
            "image": b.image_url,
            "inLanguage": show.language,
            "associatedMedia": {
                "@type": "AudioObject",
                "contentUrl": b.audio.url,
                "encodingFormat": b.audio.mime,
                "contentSize": str(b.audio.size),
                "duration": duration_iso(b.audio.duration),
            },
            "partOfSeries": {
                "@type": "PodcastSeries",
                "name": show.title,
                "url": urls.index_url(show),
                "webFeed": show.feed_url,
            },
        }
        if ep.number is not None:
            data["episodeNumber"] = ep.number
        if ep.season is not None:
            data["partOfSeason"] = {"@type": "PodcastSeason", "seasonNumber": ep.season}
        return data

    def _transcript(self, b: BuiltEpisode, audio_href: str) -> dict[str, Any] | None:
        ep = b.episode
        if ep.transcript is None:
            return None
        rel = model.show_rel(self.show.root, ep.transcript)
        try:
            text = ep.transcript.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise ContentError("is not UTF-8 text", file=rel, hint="save the transcript as UTF-8") from None
        fmt: Literal["vtt", "srt"] = "srt" if ep.transcript.suffix.lower() == ".srt" else "vtt"
        cues = transcript.parse(text, fmt, file=rel)
        paras = transcript.paragraphs(cues)
        return {
            "paragraphs": [
                {
                    "speaker": p.speaker,
                    "clock": transcript.clock(p.start),
                    "seconds": seconds_attr(p.start),
                    "href": f"{audio_href}#t={seconds_attr(p.start)}",
                    "text": p.text,
                    "cues": _paragraph_cues(p, paras[i + 1].start if i + 1 < len(paras) else None, cues),
                }
                for i, p in enumerate(paras)
            ],
            "files": [
                {
                    "label": TRANSCRIPT_LABELS.get(t.fmt, t.fmt.upper()),
                    "url": self.link(urls.page_key(ep), urls.transcript_key(ep, t.fmt)),
                }
                for t in b.transcripts
            ],
        }

    def index_page(
        self, page: int, pages: int, items: Sequence[BuiltEpisode], cards: Sequence[_Card], total: int
    ) -> bytes:
        """Index page `page` of `pages` (1-based), listing `items` (newest first)."""
        show = self.show
        key = urls.index_key(page)
        ctx = self.shared(key)
        description = self.description
        episodes = []
        for b, card in zip(items, cards, strict=True):
            ep = b.episode
            episodes.append(
                {
                    "title": ep.title,
                    "url": self.link(key, urls.page_key(ep)),
                    "number": ep.number,
                    "season": ep.season,
                    "type": ep.type,
                    "explicit": show.explicit if ep.explicit is None else ep.explicit,
                    "date_iso": ep.date.isoformat(),
                    "date_human": human_date(ep.date),
                    "reading_minutes": card.reading_minutes,
                    "duration_hms": transcript.clock(b.audio.duration),
                    "duration_label": duration_label(b.audio.duration),
                    "duration_iso": duration_iso(b.audio.duration),
                    "summary": notes.shorten(ep.summary) if ep.summary else card.summary,
                }
            )
        ctx.update(
            {
                "page_title": show.title if page == 1 else f"Episodes, page {page} of {pages} · {show.title}",
                "description": description,
                "canonical_url": urls.index_url(show, page),
                "jsonld": {
                    "@context": "https://schema.org",
                    "@type": "PodcastSeries",
                    "name": show.title,
                    "description": description,
                    "url": urls.index_url(show),
                    "webFeed": show.feed_url,
                    "image": urls.url(show, self.config.artwork_key),
                    "inLanguage": show.language,
                    "author": {"@type": "Person", "name": show.author},
                }
                if page == 1
                else None,
                "show_description_html": self.description_html,
                "artwork": self._image(
                    self.link(key, self.config.artwork_key), f"{show.title} cover art", show.artwork
                ),
                "episodes": episodes,
                "total": total,
                "pagination": {
                    "page": page,
                    "pages": pages,
                    "prev_url": self.link(key, urls.index_key(page - 1)) if page > 1 else None,
                    "next_url": self.link(key, urls.index_key(page + 1)) if page < pages else None,
                }
                if pages > 1
                else None,
            }
        )
        return self.render_template("index.html", ctx)

    def extra_context(self, key: str, public: Sequence[BuiltEpisode]) -> dict[str, Any]:
        """The context of 404.html, sitemap.xml or robots.txt (cheap to make: the cache key is its hash)."""
        show = self.show
        if key == urls.SITEMAP_KEY:
            size = show.page_size
            pages = max(1, math.ceil(len(public) / size))
            entries = []
            for page in range(1, pages + 1):
                newest = public[(page - 1) * size].episode.date.date().isoformat() if public else None
                entries.append({"loc": urls.index_url(show, page), "lastmod": newest})
            entries += [{"loc": b.page_url, "lastmod": b.episode.date.date().isoformat()} for b in public]
            return {"urls": entries}
        if key == urls.ROBOTS_KEY:
            return {"sitemap_url": urls.url(show, urls.SITEMAP_KEY)}
        ctx = self.shared(key)
        ctx.update(
            {
                "page_title": f"Page not found · {show.title}",
                "description": f"This page is not here. Every episode of {show.title} is listed on the front page.",
                "canonical_url": urls.url(show, key),
            }
        )
        return ctx


# --------------------------------------------------------------------------- episode pages, in parallel when many


def _render_one(site: _Site, job: _EpisodeJob) -> tuple[bytes, _Card]:
    rendered = job.built.notes  # rendered here (in a worker, its own share), unless the build has already
    return site.episode_page(job, rendered), _Card.of(rendered)


@dataclass(frozen=True)
class _Chunk:
    """One share of the work: consecutive episode pages, and the index pages that list only those episodes."""

    episodes: tuple[_EpisodeJob, ...]
    indexes: tuple[_IndexJob, ...]


#: A chunk's pages: (bytes, card, key) per episode page, (bytes, key) per index page; a key is "" when the
#: job had none and none was asked for.
_ChunkResult = tuple[list[tuple[bytes, _Card, str]], list[tuple[bytes, str]]]


def _chunks(
    episodes: Sequence[_EpisodeJob], indexes: Sequence[_IndexJob], page_size: int, n: int
) -> list[_Chunk]:
    """Split the work at index-page boundaries, about 32 chunks per process: the last chunk one process takes
    while the other has none left is idle time for that other, so chunks stay small (sending one costs
    next to nothing)."""
    target = max(10, math.ceil(len(episodes) / (n * 32)))
    groups: dict[int, list[_EpisodeJob]] = {}
    for job in episodes:
        groups.setdefault(job.position // page_size + 1, []).append(job)
    by_page = {job.page: job for job in indexes}
    chunks: list[_Chunk] = []
    these: list[_EpisodeJob] = []
    lists: list[_IndexJob] = []
    for page, group in groups.items():
        these.extend(group)
        index_job = by_page.get(page)
        if index_job is not None and len(group) == len(index_job.items):
            lists.append(index_job)
        if len(these) >= target:
            chunks.append(_Chunk(tuple(these), tuple(lists)))
            these, lists = [], []
    if these:
        chunks.append(_Chunk(tuple(these), tuple(lists)))
    return chunks


def _render_chunk(site: _Site, chunk: _Chunk, keys: bool) -> _ChunkResult:
    """Render a chunk; with `keys`, also key the pages whose job has no key yet (a cold render's)."""
    cards: dict[str, _Card] = {}
    records: dict[int, str] = {}  # by position in `public`

    def record(i: int, b: BuiltEpisode) -> str:
        if i not in records:
            records[i] = _record_key(b)
        return records[i]

    pages: list[tuple[bytes, _Card, str]] = []
    for job in chunk.episodes:
        data, card = _render_one(site, job)
        cards[job.card_key] = card
        h = job.hash or (_episode_key(site, job, record(job.position, job.built)) if keys else "")
        pages.append((data, card, h))
    lists = []
    for ij in chunk.indexes:
        data = site.index_page(ij.page, ij.pages, ij.items, [cards[ck] for ck in ij.card_keys], ij.total)
        if not ij.hash and keys:
            h = _index_key(site, ij, [record(ij.first + j, b) for j, b in enumerate(ij.items)])
        else:
            h = ij.hash
        lists.append((data, h))
    return pages, lists


def _claim(counter: Any, total: int) -> int | None:
    """The next chunk nobody has taken (every process takes them one by one from a shared counter)."""
    with counter.get_lock():
        i = int(counter.value)
        if i >= total:
            return None
        counter.value = i + 1
    return i


def _worker(
    start: _Site | _Config, chunks: Sequence[_Chunk], keys: bool, counter: Any, conn: Connection
) -> None:
    """A worker process: take chunks until none are left, sending each one's pages back as it goes.

    A forked worker gets the parent's environment (templates compiled) and the chunks as they are, with
    nothing pickled; a spawned one gets the config and the chunks pickled, and builds its own environment.
    """
    try:
        site = start if isinstance(start, _Site) else _Site(start)
        while (i := _claim(counter, len(chunks))) is not None:
            conn.send((i, _render_chunk(site, chunks[i], keys)))
    except PipelineError as err:
        conn.send((-1, err))
    finally:
        conn.close()


def _drain(conn: Connection, into: dict[int, _ChunkResult], errors: list[PipelineError]) -> None:
    """Receive one worker's results (in a thread of the parent, while the parent renders its own share)."""
    try:
        while True:
            i, result = conn.recv()
            if i < 0:
                errors.append(result)
            else:
                into[i] = result
    except (EOFError, OSError):
        pass  # the worker is done (or died: the parent renders whatever it did not send)
    finally:
        conn.close()


def _render_parallel(
    site: _Site,
    episodes: Sequence[_EpisodeJob],
    indexes: Sequence[_IndexJob],
    n: int,
    keys: bool,
    aside: Callable[[], None] | None = None,
) -> Iterable[tuple[_EpisodeJob | _IndexJob, bytes, _Card | None, str]]:
    """Episode pages (and the index pages they complete) rendered by this process and n-1 workers, in order,
    each with its key (see _render_chunk).

    This process renders its share too (so two processes use two cores, not three), and each process
    renders the notes of its own pages and keys them. `aside` is other work for this process, done once
    the workers have started (the workers take more chunks meanwhile), so it adds nothing to the serial part.
    """
    chunks = _chunks(episodes, indexes, site.show.page_size, n)
    context = _pool_context()
    fork = context.get_start_method() == "fork"
    site.compile()  # once, before forking, so no worker compiles the templates again
    counter = context.Value("i", 0)
    results: dict[int, _ChunkResult] = {}
    errors: list[PipelineError] = []
    workers: list[tuple[multiprocessing.process.BaseProcess, threading.Thread]] = []
    if fork:
        gc.freeze()  # the parent's objects stay out of the children's collections: no copy-on-write for them
    try:
        pipes: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        for _ in range(min(n, len(chunks)) - 1):
            recv, send = context.Pipe(duplex=False)
            proc: multiprocessing.process.BaseProcess = context.Process(
                target=_worker, args=(site if fork else site.config, chunks, keys, counter, send), daemon=True
            )
            proc.start()
            send.close()
            pipes.append((proc, recv))
    finally:
        if fork:
            gc.unfreeze()
    for proc, recv in pipes:
        thread = threading.Thread(target=_drain, args=(recv, results, errors), daemon=True)
        thread.start()
        workers.append((proc, thread))
    done = False
    try:
        if aside is not None:
            aside()
        while not errors and (i := _claim(counter, len(chunks))) is not None:
            results[i] = _render_chunk(site, chunks[i], keys)
        for _proc, thread in workers:
            thread.join()  # the worker has sent everything; it exits on its own core while this one goes on
        if errors:
            raise errors[0]
        for i, chunk in enumerate(chunks):
            pages, lists = results[i] if i in results else _render_chunk(site, chunk, keys)
            for job, (data, card, h) in zip(chunk.episodes, pages, strict=True):
                yield job, data, card, h
            for index_job, (data, h) in zip(chunk.indexes, lists, strict=True):
                yield index_job, data, None, h
        done = True
    finally:
        for proc, _thread in workers:
            if not done and proc.is_alive():
                proc.terminate()
            proc.join()


def _pool_context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    """fork while this process has one thread (fast, and needs no importable __main__); spawn otherwise.

    `podcast serve` rebuilds while its server threads run, and forking a threaded process can leave a
    lock held forever in the child.
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def worker_count(requested: int | None) -> int:
    """Processes for a cold render: as asked, else the CPUs this process may use (at most MAX_WORKERS)."""
    if requested is not None:
        return max(1, requested)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def _paragraph_cues(
    para: transcript.Paragraph, next_start: float | None, cues: Sequence[transcript.Cue]
) -> list[dict[str, str]]:
    """The cues of one paragraph as {seconds, text}, so the player can mark the one being heard.

    Empty when they do not add up to the paragraph's text (then the page shows the text alone).
    """
    out = [
        {"seconds": seconds_attr(c.start), "text": " ".join(c.text.split())}
        for c in cues
        if c.start >= para.start and (next_start is None or c.start < next_start) and c.text.split()
    ]
    return out if " ".join(c["text"] for c in out) == para.text else []
