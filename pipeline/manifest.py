"""What a build produces (`Output`), the published manifest, and the diff that orders an upload plan."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path


class Kind(IntEnum):
    """What an output is; the value is its upload order (media first, feed last)."""

    MEDIA = 0  # built audio, content-addressed
    ASSET = 1  # artwork, chapters JSON, transcripts, CSS, scripts
    PAGE = 2  # HTML pages, sitemap, robots.txt
    FEED = 3  # feed.xml: one PUT, last


@dataclass(frozen=True)
class Output:
    """One file a listener or browser will fetch, keyed by its path as served."""

    key: str  # "episodes/knees/index.html"
    data: bytes | Path  # rendered bytes, or a built file on disk
    kind: Kind
    content_type: str
    immutable: bool = False  # content-addressed: may be cached forever
