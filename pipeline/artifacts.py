"""What the build made of each episode, as plain data the feed and site renderers read (layer 2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.model import Episode


@dataclass(frozen=True)
class BuiltAudio:
    """The delivery file of one episode and what listeners' apps are told about it."""

    path: Path  # the tagged file in the build cache
    key: str  # object key (content-addressed)
    url: str
    size: int  # exact bytes: the enclosure length
    mime: str  # the real MIME type of the built file
    duration: float  # seconds
    sha256: str
    loudness: dict[str, float] | None  # {"integrated": LUFS, "lra": LU, "true_peak": dBTP}
    reused: bool  # True when nothing had to be encoded or tagged


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
