"""XML namespace URIs and derived identifiers (layer 0: no pipeline imports).

The one home for the namespace constants the feed writer and the validator share, and for the
Podcasting 2.0 `podcast:guid` derivation (UUIDv5 of the feed URL without scheme and trailing slashes).
"""

from __future__ import annotations

import re
import uuid
from typing import Literal, get_args

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

# --- Podcasting 2.0 vocabularies (the model checks show.yaml against them, the validator any feed) ----------

#: podcast:medium values (docs/tags/medium.md): each medium, its "L" list variant, and "mixed".
Medium = Literal[
    "podcast",
    "music",
    "video",
    "film",
    "audiobook",
    "newsletter",
    "blog",
    "publisher",
    "course",
    "podcastL",
    "musicL",
    "videoL",
    "filmL",
    "audiobookL",
    "newsletterL",
    "blogL",
    "publisherL",
    "courseL",
    "mixed",
]
MEDIUMS: tuple[str, ...] = get_args(Medium)
#: socialprotocols.txt of the namespace repository.
SOCIAL_PROTOCOLS = ("activitypub", "twitter", "lightning", "atproto", "hive", "matrix", "nostr", "disabled")
#: serviceslugs.txt of the namespace repository (podcast:block id).
SERVICE_SLUGS = frozenset(
    [
        "acast",
        "amazon",
        "anchor",
        "apple",
        "audible",
        "audioboom",
        "backtracks",
        "bitcoin",
        "blubrry",
        "buzzsprout",
        "captivate",
        "castos",
        "castopod",
        "facebook",
        "fireside",
        "fyyd",
        "google",
        "gpodder",
        "hypercatcher",
        "kasts",
        "libsyn",
        "mastodon",
        "megafono",
        "megaphone",
        "omnystudio",
        "overcast",
        "paypal",
        "pinecast",
        "podbean",
        "podcastaddict",
        "podcastguru",
        "podcastindex",
        "podcasts",
        "podchaser",
        "podcloud",
        "podfriend",
        "podiant",
        "podigee",
        "podnews",
        "podomatic",
        "podserve",
        "podverse",
        "redcircle",
        "relay",
        "resonaterecordings",
        "rss",
        "shoutengine",
        "simplecast",
        "slack",
        "soundcloud",
        "spotify",
        "spreaker",
        "tiktok",
        "transistor",
        "twitter",
        "whooshkaa",
        "youtube",
        "zencast",
    ]
)
#: Well-known license identifiers (lower case, from the namespace's licenses.json); others need a url.
KNOWN_LICENSES = frozenset(
    [
        "cc0-1.0",
        "cc-by-1.0",
        "cc-by-2.0",
        "cc-by-2.5",
        "cc-by-3.0",
        "cc-by-4.0",
        "cc-by-sa-1.0",
        "cc-by-sa-2.0",
        "cc-by-sa-2.5",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "cc-by-nd-1.0",
        "cc-by-nd-2.0",
        "cc-by-nd-2.5",
        "cc-by-nd-3.0",
        "cc-by-nd-4.0",
        "cc-by-nc-1.0",
        "cc-by-nc-2.0",
        "cc-by-nc-2.5",
        "cc-by-nc-3.0",
        "cc-by-nc-4.0",
        "cc-by-nc-sa-1.0",
        "cc-by-nc-sa-2.0",
        "cc-by-nc-sa-2.5",
        "cc-by-nc-sa-3.0",
        "cc-by-nc-sa-4.0",
        "cc-by-nc-nd-1.0",
        "cc-by-nc-nd-2.0",
        "cc-by-nc-nd-2.5",
        "cc-by-nc-nd-3.0",
        "cc-by-nc-nd-4.0",
        "cc-pddc",
        "mit",
        "apache-2.0",
        "gpl-3.0",
        "lgpl-3.0",
        "agpl-3.0",
        "mpl-2.0",
        "unlicense",
        "wtfpl",
    ]
)
#: podcast:value type and method slugs in use (docs/tags/value.md and its companion document).
VALUE_TYPES = ("lightning", "hive", "webmonetization")
VALUE_METHODS = ("keysend", "amp", "lnaddress", "ILP")
VALUE_RECIPIENT_TYPES = ("node", "lnaddress", "wallet", "account")

#: UUIDv5 namespace for `podcast:guid` (Podcasting 2.0 docs/tags/guid.md).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def podcast_guid(feed_url: str) -> str:
    """The `podcast:guid` for a feed URL: UUIDv5 of the URL without its scheme and trailing slashes."""
    bare = _SCHEME.sub("", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
