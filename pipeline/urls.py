"""The only mapping from show and episodes to object keys, public URLs and GUIDs (pure)."""

from __future__ import annotations

from urllib.parse import quote

from pipeline import model
from pipeline.ids import podcast_guid as podcast_guid  # the one derivation; callers use urls.podcast_guid
from pipeline.model import Episode, Show

FEED_KEY = "feed.xml"
SITEMAP_KEY = "sitemap.xml"
ROBOTS_KEY = "robots.txt"
NOT_FOUND_KEY = "404.html"

_HASH_CHARS = 16


def url(show: Show, key: str) -> str:
    """The public URL of an object key."""
    return show.base_url + quote(key, safe="/-._~")


def page_key(ep: Episode) -> str:
    return f"episodes/{ep.slug}/index.html"


def page_url(show: Show, ep: Episode) -> str:
    return show.base_url + f"episodes/{ep.slug}/"


def index_key(page: int) -> str:
    """Index page N (1-based): index.html, page/2/index.html, ..."""
    return "index.html" if page <= 1 else f"page/{page}/index.html"


def index_url(show: Show, page: int = 1) -> str:
    return show.base_url if page <= 1 else show.base_url + f"page/{page}/"


def audio_key(ep: Episode, digest: str, ext: str) -> str:
    """Content-addressed: a corrected file gets a new URL, so apps that cache by URL fetch it."""
    return f"episodes/{ep.slug}/{digest[:_HASH_CHARS]}/{ep.slug}.{ext}"


def alternate_key(ep: Episode, digest: str, ext: str) -> str:
    """An alternate encoding (podcast:alternateEnclosure), content-addressed like the main file."""
    return audio_key(ep, digest, ext)


def clip_key(ep: Episode, digest: str, index: int, ext: str) -> str:
    """Soundbite clip N (1-based) of an episode, content-addressed."""
    return f"episodes/{ep.slug}/clips/{digest[:_HASH_CHARS]}/{ep.slug}-clip-{index}.{ext}"


def artwork_size_key(ep: Episode | None, digest: str, width: int) -> str:
    """One size of the artwork (podcast:images srcset): a JPEG `width` pixels square."""
    folder = "artwork" if ep is None else f"episodes/{ep.slug}"
    return f"{folder}/{digest[:_HASH_CHARS]}/cover-{width}.jpg"


def image_key(ep: Episode | None, digest: str, ext: str) -> str:
    """Artwork, content-addressed like audio: the show's under artwork/, an episode's in its folder."""
    folder = "artwork" if ep is None else f"episodes/{ep.slug}"
    return f"{folder}/{digest[:_HASH_CHARS]}/cover.{ext}"


def asset_key(ep: Episode | None, digest: str, name: str) -> str:
    """Any other content-addressed file (a host photo, a chapter image, a logo)."""
    folder = "assets" if ep is None else f"episodes/{ep.slug}"
    return f"{folder}/{digest[:_HASH_CHARS]}/{name}"


def peaks_key(ep: Episode, audio_digest: str) -> str:
    """The waveform JSON beside the audio it describes (same folder, so it changes when the audio does)."""
    return f"episodes/{ep.slug}/{audio_digest[:_HASH_CHARS]}/peaks.json"


def share_card_key(ep: Episode, digest: str, ext: str) -> str:
    """The episode's Open Graph image, content-addressed (a new title or cover gives a new URL)."""
    return f"episodes/{ep.slug}/{digest[:_HASH_CHARS]}/share.{ext}"


def chapters_key(ep: Episode) -> str:
    return f"episodes/{ep.slug}/chapters.json"


def transcript_key(ep: Episode, fmt: str) -> str:
    return f"episodes/{ep.slug}/transcript.{fmt}"


def archive_key(digest: str) -> str:
    """An RFC 5005 archive page of the feed, named by its content so it never changes once written."""
    return f"archive/{digest[:_HASH_CHARS]}.xml"


def static_key(name: str) -> str:
    return f"static/{name}"


def show_guid(show: Show) -> str:
    """The pinned podcast:guid, or the one derived from today's feed URL."""
    return show.guid or podcast_guid(show.feed_url)


def episode_guid(show: Show, ep: Episode) -> str:
    """Stable forever: derived from the show's GUID and the episode's slug, unless front matter pins one.

    The derivation lives in the model, which refuses a pinned GUID equal to another episode's.
    """
    return model.episode_guid(show, ep)


def enclosure_url(show: Show, raw_url: str) -> str:
    """The enclosure URL listeners' apps fetch: `raw_url` behind `publish.enclosure_prefix`, if any.

    Prefix services (OP3, Podtrac) take the original URL without its https:// (an http:// one keeps its
    scheme, as OP3 asks); `{podcast_guid}` in the prefix becomes the show's podcast:guid.
    """
    prefix = show.publish.enclosure_prefix
    if not prefix:
        return raw_url
    rest = raw_url.removeprefix("https://")
    return prefix.replace("{podcast_guid}", show_guid(show)) + rest
