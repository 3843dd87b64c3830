"""What the build made of each episode, as plain data the feed and site renderers read (layer 2)."""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pipeline.model import Episode
from pipeline.notes import FeedText, Notes, feed_text, render_notes


@dataclass(frozen=True)
class Loudness:
    """EBU R128 measurement of a delivered file."""

    integrated: float  # LUFS
    lra: float  # LU
    true_peak: float  # dBTP

    @classmethod
    def from_json(cls, data: object) -> Loudness | None:
        """The typed value from its JSON form; None for anything not shaped like one (a miss, not a crash)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(float(data["integrated"]), float(data["lra"]), float(data["true_peak"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class EpisodeRecord:
    """What `podcast list` reads back from build.json about one built episode."""

    duration: float
    size: int
    mime: str
    key: str
    loudness: Loudness | None

    @classmethod
    def from_json(cls, data: object) -> EpisodeRecord | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                duration=float(data["duration"]),
                size=int(data["size"]),
                mime=str(data["mime"]),
                key=str(data["key"]),
                loudness=Loudness.from_json(data.get("loudness")),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class BuiltAudio:
    """The delivery file of one episode and what listeners' apps are told about it."""

    path: Path | None  # the tagged file in the build cache; None when hosted elsewhere (`audio_url:`)
    key: str  # object key (content-addressed); "" when hosted elsewhere
    url: str  # for `audio_url:` that URL, byte for byte
    size: int  # exact bytes: the enclosure length
    mime: str  # the real MIME type of the built file
    duration: float  # seconds
    sha256: str
    loudness: Loudness | None
    reused: bool = field(
        compare=False
    )  # True when nothing had to be encoded or tagged (not a fact of the file)

    @property
    def external(self) -> bool:
        """True for an episode whose enclosure is still at another host (`audio_url:`): nothing to publish."""
        return self.path is None


@dataclass(frozen=True)
class BuiltAlternate:
    """One alternate encoding of an episode (podcast:alternateEnclosure, a <source> on the page)."""

    path: Path
    key: str
    url: str
    size: int  # exact bytes
    mime: str  # "audio/ogg", "audio/mp4", "audio/flac", "audio/mpeg"
    codecs: str  # RFC 6381: "opus", "mp4a.40.2", "flac", "mp3"
    bitrate: int  # bits per second (average)
    duration: float
    sha256: str  # hex digest of the exact bytes
    integrity: str  # SRI: "sha256-" + base64 of the digest
    title: str | None
    default: bool


@dataclass(frozen=True)
class BuiltClip:
    """One soundbite's clip file, cut from the delivered audio."""

    path: Path
    key: str
    url: str
    size: int
    mime: str
    start: float  # seconds into the episode
    duration: float  # seconds, as probed from the clip
    title: str


@dataclass(frozen=True)
class BuiltImage:
    """One size of an artwork (podcast:images srcset)."""

    path: Path
    key: str
    url: str
    width: int


@dataclass(frozen=True)
class Transcript:
    url: str
    mime: str  # "text/vtt", "application/x-subrip"
    fmt: str  # "vtt", "srt"


@dataclass(frozen=True)
class BuiltEpisode:
    """One published episode: the model plus every URL and measurement the renderers need."""

    episode: Episode
    guid: str
    page_url: str
    audio: BuiltAudio
    image_url: str  # the episode's artwork URL, or the show's
    chapters_url: str | None
    transcripts: tuple[Transcript, ...]
    chapter_images: tuple[tuple[Path, str], ...] = ()  # chapter image file -> its URL
    alternates: tuple[BuiltAlternate, ...] = ()  # in show.yaml's order
    clips: tuple[BuiltClip, ...] = ()  # one per soundbite, in front matter's order
    images: tuple[BuiltImage, ...] = ()  # the item artwork's sizes, largest first
    peaks: tuple[float, ...] | None = None  # waveform bar heights, 0 to 1 (the loudest is 1)
    share_card_url: str | None = None  # the 1200x630 Open Graph image
    rendered: Notes | None = field(
        default=None, compare=False, repr=False
    )  # notes the build rendered already

    @cached_property
    def notes(self) -> Notes:
        """The episode's notes rendered at most once (feed, pages and tags read this; a reused build reads none)."""
        return self.rendered if self.rendered is not None else render_notes(self.episode.notes)

    @cached_property
    def feed_text(self) -> FeedText:
        """The notes as the feed carries them, made once from `notes`: a summary-sized description and
        the full notes with clean headings for content:encoded."""
        return feed_text(self.notes, self.summary, self.page_url)

    @property
    def summary(self) -> str:
        """The episode's summary, or the first paragraph of its notes."""
        return self.episode.summary or self.notes.summary

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of every fact of this record, worked out once per object: the episode's own fingerprint and
        every other compared field, nested records field by field (see `facts`), so a field added to any of
        them is in it with nobody listing it. What the feed files an item's rendered bytes under."""
        return hashlib.sha256(repr(facts(self)).encode()).hexdigest()


#: The types `facts` passes through as they are (their repr is their value, in every process).
_ATOMS = frozenset({str, int, float, bool, type(None)})


def facts(value: object) -> object:
    """A record as plain, stably printable values: a dataclass as (type, value...) over its compared
    fields (`compare=False` marks what is not a fact, like `reused`), an Episode as its fingerprint. Anything
    else whose repr might not be stable from one process to the next is refused, so it cannot slip into a key.
    Every public episode's record passes here once per build, so the common cases are tested first.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is tuple or kind is list:
        items: Sequence[Any] = value  # type: ignore[assignment]
        if items and set(map(type, items)) == {float}:  # peaks: ~160 floats, packed rather than printed
            return ("floats", hashlib.sha256(array("d", items).tobytes()).hexdigest())
        return tuple([v if type(v) in _ATOMS else facts(v) for v in items])
    if isinstance(value, Path | str | int | float):
        return value
    if isinstance(value, Episode):
        return value.fingerprint
    fields = getattr(kind, "__dataclass_fields__", None)
    if fields is not None and not isinstance(value, type):
        # the type, then the values in field order (a class's fields are part of its code); plain values
        # are taken as they are here, not through a call each
        out: list[object] = [kind.__name__]
        for name, f in fields.items():
            if f.compare:
                v = getattr(value, name)
                out.append(v if type(v) in _ATOMS else facts(v))
        return tuple(out)
    raise TypeError(f"{kind.__name__} has no stable form for a cache key")
