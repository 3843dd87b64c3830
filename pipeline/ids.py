"""XML namespace URIs and derived identifiers (layer 0: no pipeline imports).

The one home for the namespace constants the feed writer and the validator share, and for the
Podcasting 2.0 `podcast:guid` derivation (UUIDv5 of the feed URL without scheme and trailing slashes).
"""

from __future__ import annotations

import re
import uuid

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
PODCAST_ALIAS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
ATOM = "http://www.w3.org/2005/Atom"
PSC = "http://podlove.org/simple-chapters"
SPOTIFY = "https://www.spotify.com/ns/rss"
FH = "http://purl.org/syndication/history/1.0"  # RFC 5005 feed paging and archiving

#: The prefix each namespace conventionally uses; a feed binding the prefix elsewhere is misspelt.
KNOWN_NAMESPACES: dict[str, tuple[str, ...]] = {
    "itunes": (ITUNES,),
    "podcast": (PODCAST, PODCAST_ALIAS),
    "content": (CONTENT,),
    "atom": (ATOM,),
    "psc": (PSC,),
    "spotify": (SPOTIFY,),
    "fh": (FH,),
}

#: UUIDv5 namespace for `podcast:guid` (Podcasting 2.0 docs/tags/guid.md).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def podcast_guid(feed_url: str) -> str:
    """The `podcast:guid` for a feed URL: UUIDv5 of the URL without its scheme and trailing slashes."""
    bare = _SCHEME.sub("", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
