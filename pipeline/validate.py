"""Feed rules that judge any podcast feed, ours or another host's: the PC rule catalogue, checks, reports."""

from __future__ import annotations

import codecs
import functools
import http.client
import io
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from pipeline.categories import APPLE_CATEGORIES, legacy_replacement, suggest
from pipeline.errors import ExitCode, PipelineError, UnreadableFeed
from pipeline.progress import NullReporter, Reporter

# --- namespaces -------------------------------------------------------------------------------------------

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
PODCAST_ALIAS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
ATOM = "http://www.w3.org/2005/Atom"
PSC = "http://podlove.org/simple-chapters"
SPOTIFY = "https://www.spotify.com/ns/rss"

#: The prefix each namespace conventionally uses; a feed binding the prefix elsewhere is misspelt.
KNOWN_NAMESPACES: dict[str, tuple[str, ...]] = {
    "itunes": (ITUNES,),
    "podcast": (PODCAST, PODCAST_ALIAS),
    "content": (CONTENT,),
    "atom": (ATOM,),
    "psc": (PSC,),
    "spotify": (SPOTIFY,),
}

#: UUIDv5 namespace for `podcast:guid` (Podcasting 2.0 guid.md).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """The `podcast:guid` for a feed URL: UUIDv5 of the URL without its scheme and trailing slashes."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


# --- the rule catalogue --------------------------------------------------------------------------------


class Severity(StrEnum):
    """How bad a finding is: errors fail CI, warnings and info don't."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


APPLE, SPOTIFY_P, PODCASTINDEX = "apple", "spotify", "podcastindex"
#: Directory profiles a rule can belong to. PSP-1 rules are mapped onto the closest of these.
PROFILES: frozenset[str] = frozenset({APPLE, SPOTIFY_P, PODCASTINDEX})


@dataclass(frozen=True)
class Rule:
    """One checkable requirement, with a stable id like PC210."""

    id: str
    severity: Severity
    profiles: frozenset[str]
    title: str
    hint: str
    ref: str = ""  #: row of the research checklist (features.md §2) this rule implements


def _rule(rid: str, sev: str, profiles: str, ref: str, title: str, hint: str) -> Rule:
    names = PROFILES if profiles == "all" else frozenset(profiles.split())
    return Rule(rid, Severity(sev), names, title, hint, ref)


E, W, I = "error", "warning", "info"  # noqa: E741

_CATALOGUE = (
    # PC1xx: the document
    _rule(
        "PC101",
        E,
        "all",
        "D1",
        "Feed is not well-formed XML",
        "Fix the XML at the reported line; put show-notes HTML inside <![CDATA[ ]]> and use &#160; not &nbsp;",
    ),
    _rule(
        "PC102",
        E,
        "all",
        "D1",
        'Root element is not <rss version="2.0">',
        'Podcast directories read RSS 2.0: the root must be <rss version="2.0">',
    ),
    _rule(
        "PC103",
        E,
        "all",
        "D1",
        "Feed does not have exactly one <channel>",
        "Put all show tags and <item>s in one <channel> directly under <rss>",
    ),
    _rule(
        "PC104",
        E,
        "all",
        "D1",
        "Feed is not UTF-8",
        'Write the feed as UTF-8 with <?xml version="1.0" encoding="UTF-8"?>',
    ),
    _rule(
        "PC105",
        E,
        "all",
        "D2 D3",
        "Namespace URI is misspelt",
        'Copy the namespace URI exactly, e.g. xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"',
    ),
    _rule(
        "PC106",
        E,
        "all",
        "D2 D3",
        "Namespace prefix used but not declared",
        'Declare the prefix on <rss>, e.g. xmlns:podcast="https://podcastindex.org/namespace/1.0"',
    ),
    _rule(
        "PC107",
        E,
        "apple podcastindex",
        "D4",
        "Tag name has the wrong letter case",
        "Tag names are case-sensitive: use the exact spelling from the spec",
    ),
    _rule(
        "PC108",
        W,
        "apple podcastindex",
        "D5",
        "Text value longer than 255 characters",
        "Shorten the value to 255 characters or fewer",
    ),
    _rule(
        "PC109",
        W,
        "apple podcastindex",
        "D5",
        "Text value has leading or trailing whitespace",
        "Trim spaces and line breaks around the value",
    ),
    _rule(
        "PC110",
        W,
        "all",
        "D6",
        "Feed mixes http and https URLs",
        "Serve everything over https and use https URLs throughout",
    ),
    _rule(
        "PC111", I, "all", "D6", "Feed uses plain http URLs", "Prefer https URLs for media, artwork and links"
    ),
    _rule(
        "PC112",
        E,
        "podcastindex",
        "D6",
        "A podcast: URL is not https",
        "Podcasting 2.0 requires https for every URL in a podcast: tag",
    ),
    _rule(
        "PC113",
        W,
        "all",
        "D9",
        "Feed is larger than 4 MB",
        "Limit the feed to recent episodes or page it (RFC 5005); apps time out on huge feeds",
    ),
    _rule(
        "PC114",
        E,
        "all",
        "C2 I11",
        "Raw markup inside a text element",
        "Escape the HTML or wrap it in <![CDATA[ ]]>; tags must not be XML children of the element",
    ),
    # PC2xx: the channel
    _rule("PC201", E, "all", "C1", "Show has no <title>", "Add a non-empty <title> to the <channel>"),
    _rule(
        "PC202",
        W,
        "apple",
        "C1",
        "Show title looks keyword-stuffed",
        "Use the show's name only; Apple rejects titles stuffed with keywords",
    ),
    _rule(
        "PC203",
        E,
        "all",
        "C2",
        "Show has no <description>",
        "Add a <description> to the <channel> saying what the show is about",
    ),
    _rule(
        "PC204",
        E,
        "apple",
        "C2",
        "Show description is longer than 4000 bytes",
        "Shorten the show description to 4000 bytes or fewer",
    ),
    _rule(
        "PC205",
        E,
        "apple spotify",
        "C3",
        "Show has no <itunes:image href>",
        'Add <itunes:image href="https://…/cover.jpg"/> with 1400–3000 px square JPEG or PNG artwork',
    ),
    _rule(
        "PC206",
        W,
        "apple",
        "C3",
        "Show artwork URL does not end in .jpg or .png",
        "Serve artwork at a URL ending in .jpg or .png",
    ),
    _rule(
        "PC207",
        E,
        "apple podcastindex",
        "C7",
        "Show <language> missing or not an ISO 639 code",
        "Add <language> with an ISO 639 code, optionally with a region: en, en-us, pt-BR",
    ),
    _rule(
        "PC208",
        E,
        "apple",
        "C8",
        "Show has no <itunes:category>",
        'Add <itunes:category text="…"/> from Apple\'s category list',
    ),
    _rule(
        "PC209",
        E,
        "apple",
        "C8 D4",
        "Category is not on Apple's list",
        "Use a category exactly as Apple spells it (case and '&' included)",
    ),
    _rule(
        "PC210",
        E,
        "apple",
        "C8",
        "Subcategory does not belong to its parent category",
        "Nest only one of the parent's own subcategories inside it",
    ),
    _rule(
        "PC211",
        W,
        "apple",
        "C9",
        "Category is a pre-2019 Apple category",
        "Replace the retired category with its current equivalent",
    ),
    _rule(
        "PC212",
        E,
        "apple",
        "C10",
        "Show has no <itunes:explicit>",
        "Add <itunes:explicit>false</itunes:explicit> (or true)",
    ),
    _rule(
        "PC213",
        W,
        "apple",
        "C11",
        "itunes:explicit uses legacy yes/no/clean",
        "Write true or false; yes/no/clean are from Apple's old spec",
    ),
    _rule(
        "PC214",
        E,
        "apple",
        "C10",
        "itunes:explicit is not true or false",
        "Write exactly true or false (lower case)",
    ),
    _rule(
        "PC215",
        E,
        "spotify",
        "C12",
        "No owner email (<itunes:owner><itunes:email>)",
        "Add <itunes:owner><itunes:email>you@example.com</itunes:email></itunes:owner>; Spotify verifies it",
    ),
    _rule(
        "PC216",
        W,
        "apple",
        "C12",
        "No owner email (<itunes:owner><itunes:email>)",
        "Add <itunes:owner> with an <itunes:email> so Apple can reach you",
    ),
    _rule(
        "PC217",
        W,
        "apple podcastindex",
        "C13",
        "Show has no <itunes:author>",
        "Add <itunes:author> with the host or company name",
    ),
    _rule(
        "PC218",
        E,
        "all",
        "C14",
        "Show <link> missing or not an http(s) URL",
        "Add <link> with the show's website URL (RSS 2.0 requires it)",
    ),
    _rule(
        "PC219",
        W,
        "podcastindex",
        "C15",
        'No <atom:link rel="self">',
        'Add <atom:link href="FEED URL" rel="self" type="application/rss+xml"/>',
    ),
    _rule(
        "PC220",
        W,
        "podcastindex",
        "C15",
        "Self link disagrees with the feed",
        "Make the self link the feed's canonical URL, with type application/rss+xml",
    ),
    _rule(
        "PC221",
        E,
        "apple",
        "C16",
        "itunes:type is not episodic or serial",
        "Write <itunes:type>episodic</itunes:type> or serial",
    ),
    _rule(
        "PC222",
        E,
        "apple",
        "C16",
        "Serial show has an episode without <itunes:episode>",
        "Number every episode of a serial show with <itunes:episode>",
    ),
    _rule(
        "PC223",
        W,
        "apple",
        "C17",
        "itunes:complete is present but not yes",
        "Remove <itunes:complete> unless the show has ended; then write yes",
    ),
    _rule(
        "PC224",
        W,
        "podcastindex",
        "C18",
        "Show has no <podcast:guid>",
        "Add <podcast:guid> with the UUIDv5 of the feed URL, and never change it",
    ),
    _rule(
        "PC225",
        E,
        "podcastindex",
        "C18",
        "podcast:guid is not a UUIDv5",
        "Use a UUIDv5 derived from the feed URL (namespace ead4c236-bf58-58c6-a2c6-a6b28d128cb6)",
    ),
    _rule(
        "PC226",
        W,
        "podcastindex",
        "C18",
        "podcast:guid is not derived from the feed URL",
        "Fine if the feed moved (keep the guid); otherwise use the UUIDv5 of the feed URL",
    ),
    _rule(
        "PC227",
        W,
        "podcastindex",
        "C19",
        "Show has no <podcast:locked>",
        'Add <podcast:locked owner="you@example.com">yes</podcast:locked> to stop other hosts importing it',
    ),
    _rule(
        "PC228",
        E,
        "podcastindex",
        "C19",
        "podcast:locked is malformed",
        "Write yes or no; the optional owner attribute is an email address",
    ),
    _rule(
        "PC229",
        W,
        "podcastindex",
        "C20",
        "podcast:funding is malformed",
        "Give each <podcast:funding> a url and a link text of 128 characters or fewer",
    ),
    _rule(
        "PC230",
        W,
        "podcastindex apple",
        "C21",
        "podcast:txt is too long",
        "Keep <podcast:txt> under 4000 characters and its purpose under 128",
    ),
    _rule(
        "PC231",
        E,
        "podcastindex",
        "C22",
        "podcast:podroll is malformed",
        'List at least one <podcast:remoteItem feedGuid="…"/> in <podcast:podroll>',
    ),
    _rule(
        "PC232",
        W,
        "podcastindex",
        "C23",
        "podcast:updateFrequency is malformed",
        "Keep the text under 128 characters and give rrule as an RFC 5545 rule, e.g. FREQ=WEEKLY",
    ),
    _rule(
        "PC233",
        I,
        "podcastindex",
        "C24",
        "Copyright text repeats the word, symbol or a year",
        "PSP-1 suggests <copyright> hold only the owner's name",
    ),
    _rule(
        "PC234",
        I,
        "apple",
        "C25",
        "Feed announces a move with <itunes:new-feed-url>",
        "Keep the old URL answering 301 to the new one until directories have moved",
    ),
    _rule(
        "PC235",
        E,
        "apple spotify",
        "C26",
        "Feed has no episode with an enclosure",
        "Publish at least one <item> with an audio <enclosure>",
    ),
    _rule(
        "PC236",
        I,
        "spotify",
        "C27",
        "spotify: tag is malformed",
        "spotify:limit needs a positive recentCount; spotify:countryOfOrigin lists ISO 3166 codes",
    ),
    _rule(
        "PC237",
        W,
        "all",
        "I9",
        "Channel date is not an RFC 2822 date",
        "Write dates like Tue, 03 Nov 2015 19:18:00 GMT",
    ),
    # PC3xx: items
    _rule("PC301", E, "all", "I1", "Episode has no <title>", "Give every <item> a non-empty <title>"),
    _rule(
        "PC302",
        W,
        "apple",
        "I1",
        "Episode title repeats the episode number",
        "Drop the number from <title>; apps show <itunes:episode> themselves",
    ),
    _rule(
        "PC303",
        E,
        "all",
        "I2",
        "Episode has no <enclosure>",
        'Add <enclosure url="…" length="BYTES" type="audio/mpeg"/> to the item',
    ),
    _rule(
        "PC304",
        E,
        "all",
        "I2",
        "Enclosure lacks url, length or type",
        "Give the enclosure all three attributes: url, length (bytes) and type",
    ),
    _rule(
        "PC305",
        E,
        "apple",
        "I3",
        "Two episodes share an enclosure URL",
        "Give each episode its own media URL; Apple ignores duplicates",
    ),
    _rule(
        "PC306",
        E,
        "all",
        "I4",
        "Enclosure length is not a positive byte count",
        "Set length to the media file's exact size in bytes",
    ),
    _rule(
        "PC307",
        E,
        "apple",
        "I5",
        "Enclosure type is not one Apple accepts",
        "Use audio/mpeg, audio/x-m4a, video/mp4, video/quicktime, video/x-m4v or application/pdf",
    ),
    _rule("PC308", W, "apple", "I5", "Enclosure type audio/mp4", "Apple lists audio/x-m4a for .m4a files"),
    _rule(
        "PC309",
        W,
        "apple",
        "I5",
        "Enclosure type does not match the file extension",
        "Declare the type of the file actually served (.mp3 is audio/mpeg, .m4a is audio/x-m4a)",
    ),
    _rule(
        "PC310",
        W,
        "apple",
        "I6",
        "Enclosure file name is not plain ASCII",
        "Use only a-z, A-Z, 0-9, '-', '_' and '.' in media file names",
    ),
    _rule(
        "PC311",
        E,
        "all",
        "I7",
        "Episode has more than one <enclosure>",
        "Keep one enclosure per item; offer other formats with <podcast:alternateEnclosure>",
    ),
    _rule("PC312", E, "all", "I8", "Episode has no <guid>", "Give every item a <guid> that never changes"),
    _rule("PC313", E, "all", "I8", "Two episodes share a <guid>", "Make every item's guid unique"),
    _rule(
        "PC314",
        E,
        "all",
        "I9",
        "Episode has no <pubDate>",
        "Add <pubDate> in RFC 2822 form: Tue, 03 Nov 2015 19:18:00 GMT",
    ),
    _rule(
        "PC315",
        E,
        "all",
        "I9",
        "Episode pubDate is not an RFC 2822 date",
        "Write dates like Tue, 03 Nov 2015 19:18:00 GMT (24-hour time, English names)",
    ),
    _rule(
        "PC316",
        W,
        "all",
        "I9",
        "Episode pubDate is in the future",
        "Leave scheduled episodes out of the public feed until their date",
    ),
    _rule(
        "PC317",
        W,
        "apple",
        "I10",
        "Episode has no <itunes:duration>",
        "Add <itunes:duration> in seconds (or HH:MM:SS)",
    ),
    _rule(
        "PC318",
        W,
        "apple",
        "I10",
        "itunes:duration is malformed",
        "Write the duration as whole seconds or HH:MM:SS",
    ),
    _rule(
        "PC319",
        W,
        "apple",
        "I11",
        "Episode notes longer than 4000 bytes",
        "Shorten the notes in description/content:encoded to 4000 bytes",
    ),
    _rule(
        "PC320",
        W,
        "apple",
        "I11",
        "Episode notes contain script, object, iframe or embed",
        "Remove active content from show notes; apps strip or reject it",
    ),
    _rule(
        "PC321",
        W,
        "apple spotify",
        "I11",
        "Episode has no description",
        "Add show notes in <description> (and optionally content:encoded)",
    ),
    _rule(
        "PC322",
        E,
        "apple",
        "I12",
        "itunes:episodeType is not full, trailer or bonus",
        "Write full, trailer or bonus",
    ),
    _rule(
        "PC323",
        E,
        "apple",
        "I13",
        "itunes:episode or itunes:season is not a positive integer",
        "Write a whole number from 1 up",
    ),
    _rule(
        "PC324",
        W,
        "apple",
        "I14",
        "Episode artwork URL does not end in .jpg or .png",
        "Serve episode artwork at a URL ending in .jpg or .png",
    ),
    _rule("PC325", W, "apple", "I15", "Episode itunes:explicit is not true or false", "Write true or false"),
    _rule(
        "PC326",
        E,
        "podcastindex apple",
        "I16",
        "podcast:transcript is malformed",
        "Give url and a type of text/vtt, application/x-subrip, application/json, text/html or text/plain",
    ),
    _rule(
        "PC327",
        W,
        "podcastindex",
        "I16",
        'Transcript rel="captions" has no timecodes',
        'Use rel="captions" only with a timed format (text/vtt, application/x-subrip, application/json)',
    ),
    _rule(
        "PC328",
        E,
        "podcastindex",
        "I17",
        "podcast:chapters is malformed",
        'Write <podcast:chapters url="…" type="application/json+chapters"/>',
    ),
    _rule(
        "PC329",
        W,
        "podcastindex",
        "I18",
        "podcast:person name empty or longer than 128 characters",
        "Give each person a name of 1 to 128 characters",
    ),
    _rule(
        "PC330",
        W,
        "podcastindex",
        "I18",
        "podcast:person role or group is not in the taxonomy",
        "Use a role and group from the Podcasting 2.0 taxonomy (e.g. host, guest; cast)",
    ),
    _rule(
        "PC331",
        E,
        "podcastindex",
        "I19",
        "podcast:season/episode is not a number",
        "podcast:season is a whole number; podcast:episode is a decimal such as 3 or 3.5",
    ),
    _rule(
        "PC332",
        W,
        "podcastindex",
        "I19",
        "podcast:season name or episode display too long",
        "Keep season name to 128 and episode display to 32 characters",
    ),
    _rule(
        "PC333",
        W,
        "podcastindex",
        "I20",
        "podcast:soundbite is malformed",
        "Give startTime and duration in seconds inside the episode, 15–120 s long, title ≤ 128 chars",
    ),
    _rule(
        "PC334",
        E,
        "podcastindex",
        "I21",
        "podcast:alternateEnclosure is malformed",
        'Give type and length, and at least one <podcast:source uri="…"/>',
    ),
    _rule(
        "PC335",
        E,
        "spotify",
        "I22",
        "psc:chapters is outside an <item>",
        "Put <psc:chapters> inside the <item> it belongs to",
    ),
    _rule(
        "PC336",
        E,
        "spotify",
        "I22",
        "psc:chapter is malformed",
        "Give each chapter a title and a start in normal play time (00:01:02.500), in ascending order",
    ),
    # PC4xx: online checks of media, artwork, transcripts and chapters
    _rule(
        "PC401",
        E,
        "apple spotify",
        "D7",
        "URL cannot be fetched publicly",
        "Make the file public (no login, no 404) at exactly this URL",
    ),
    _rule(
        "PC402",
        E,
        "apple",
        "D8",
        "Server does not answer HEAD requests",
        "Enable HTTP HEAD on the media/artwork server (Apple requires it)",
    ),
    _rule(
        "PC403",
        E,
        "apple",
        "D8",
        "Server ignores byte-range requests",
        "Enable Range requests (answer 'Range: bytes=0-1' with 206 Partial Content)",
    ),
    _rule(
        "PC404",
        E,
        "all",
        "I4",
        "Enclosure length differs from the served size",
        "Set the enclosure length to the file's exact size in bytes",
    ),
    _rule(
        "PC405",
        E,
        "apple",
        "I5",
        "Enclosure type differs from the served Content-Type",
        "Serve the file with the type declared in the feed (or fix the declared type)",
    ),
    _rule(
        "PC406",
        E,
        "apple",
        "C6",
        "Artwork served with the wrong Content-Type",
        "Serve artwork as image/jpeg or image/png, matching its extension",
    ),
    _rule("PC407", E, "apple spotify", "C3", "Artwork is not square", "Crop the artwork to a square"),
    _rule(
        "PC408",
        E,
        "apple",
        "C3",
        "Artwork is not 1400–3000 px",
        "Export the artwork between 1400×1400 and 3000×3000 pixels",
    ),
    _rule(
        "PC409",
        E,
        "apple",
        "C3",
        "Artwork is not RGB",
        "Save artwork in RGB colour without transparency (no CMYK, alpha, greyscale or palette)",
    ),
    _rule(
        "PC410",
        E,
        "apple",
        "C3",
        "Artwork is not really a JPEG or PNG",
        "Save artwork as JPEG or PNG, with the matching file extension",
    ),
    _rule("PC411", W, "apple", "C4", "Artwork is not 72 dpi", "Save the artwork at 72 dpi"),
    _rule("PC412", W, "spotify", "C5", "Artwork is larger than 512 KB", "Compress the artwork below 512 KB"),
    _rule(
        "PC413",
        E,
        "apple",
        "C3",
        "Artwork cannot be read as an image",
        "Serve a valid JPEG or PNG under 10 MB",
    ),
    _rule(
        "PC414",
        W,
        "apple",
        "I14",
        "Episode artwork breaks the artwork rules",
        "Episode artwork follows the show artwork rules: square RGB JPEG/PNG, 1400–3000 px",
    ),
    _rule(
        "PC415",
        W,
        "podcastindex apple",
        "I16",
        "Transcript served with a different Content-Type",
        "Serve the transcript with the type its podcast:transcript tag declares",
    ),
    _rule(
        "PC416",
        W,
        "podcastindex",
        "I17",
        "Chapters file served with the wrong Content-Type",
        "Serve the chapters file as application/json+chapters",
    ),
    _rule(
        "PC417",
        E,
        "podcastindex",
        "I17",
        "Chapters file is not valid JSON chapters",
        'Serve {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "…"}]} in ascending startTime',
    ),
    # PC5xx: cross-build invariants (compare with the previously published feed)
    _rule(
        "PC501",
        E,
        "all",
        "I8 §2.5",
        "A published episode disappeared",
        "Keep published items in the feed (restore the item, or remove it deliberately)",
    ),
    _rule(
        "PC502",
        E,
        "all",
        "I8 §2.5",
        "A published episode's guid changed",
        "Restore the old guid; apps see a new guid as a new episode and re-download it",
    ),
    _rule(
        "PC503",
        E,
        "all",
        "§2.5",
        "A published episode's pubDate changed",
        "Restore the original pubDate; apps re-sort or re-notify when it changes",
    ),
    _rule(
        "PC504",
        E,
        "podcastindex",
        "C18 §2.5",
        "The show's podcast:guid changed",
        "Restore the original podcast:guid; it must never change, even when the feed moves",
    ),
    _rule(
        "PC505",
        W,
        "all",
        "M6 §2.5",
        "A published episode's enclosure URL changed",
        "Keep published media URLs; apps may download the episode again",
    ),
    _rule(
        "PC506",
        E,
        "all",
        "M6",
        "Media changed but its URL did not",
        "Give changed media a new URL; apps and directories cache files by URL",
    ),
    _rule(
        "PC507",
        E,
        "apple",
        "C25 §2.5",
        "Feed URL changed without <itunes:new-feed-url>",
        "Add <itunes:new-feed-url> with the new URL and redirect the old one with 301",
    ),
)

#: Every rule by id. Ids are stable: never renumber, only add.
RULES: dict[str, Rule] = {r.id: r for r in _CATALOGUE}


# --- findings and reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One broken rule at one place in the feed."""

    rule: str
    severity: Severity
    message: str
    where: str  #: "document", "channel", "item 3 (guid …)"
    line: int | None
    hint: str


@dataclass(frozen=True)
class Report:
    """What `validate` found in one feed."""

    source: str
    findings: tuple[Finding, ...]
    items: int

    @property
    def has_errors(self) -> bool:
        """True when any finding is an error (CI should fail)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present: {"error": 1, "warning": 0, "info": 2}."""
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    @property
    def exit_code(self) -> ExitCode:
        """ERROR when there is an error-severity finding, else OK (warnings don't fail)."""
        return ExitCode.ERROR if self.has_errors else ExitCode.OK

    def rule_ids(self) -> set[str]:
        """The ids of every rule that fired."""
        return {f.rule for f in self.findings}


# --- reading input ----------------------------------------------------------------------------------------

USER_AGENT = "podcast-pipeline-validate/0.1 (+https://podcastindex.org/namespace/1.0)"
_CHUNK = 64 * 1024


def _build_opener() -> urllib.request.OpenerDirector:
    """urllib with only http(s): a redirect to ftp: or file: fails instead of being followed."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _build_opener()


def _is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _describe_network_error(err: BaseException) -> str:
    """One line saying why a URL couldn't be fetched."""
    reason: object = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return "host not found (DNS lookup failed)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP response ({type(reason).__name__})"
    text = str(getattr(reason, "strerror", None) or reason) or type(reason).__name__
    return text.splitlines()[0] if text else "network error"


@dataclass
class _Response:
    status: int = 0  # 0: no HTTP answer at all
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    error: str | None = None

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def media_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()


def _read_capped(resp: object, cap: int, deadline: float) -> tuple[bytes, bool]:
    """Read at most `cap` bytes; (body, True) if more was on offer. Stops at the deadline."""
    chunks: list[bytes] = []
    total = 0
    read = getattr(resp, "read1", None) or resp.read  # type: ignore[attr-defined]
    while total <= cap:
        if time.monotonic() > deadline:
            raise TimeoutError("the response did not finish in time")
        chunk = read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)[:cap], True


def _http(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    cap: int = 0,
    timeout: float = 10.0,
) -> _Response:
    """One HTTP request that never raises: network failures come back as `error`, HTTP errors as `status`."""
    req = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})})
    deadline = time.monotonic() + timeout * 3
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        with err:
            return _Response(err.code, {k.lower(): v for k, v in err.headers.items()})
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
        return _Response(error=_describe_network_error(err))
    with resp:
        out = _Response(resp.status, {k.lower(): v for k, v in resp.headers.items()})
        if method != "HEAD" and cap:
            try:
                out.body, out.truncated = _read_capped(resp, cap, deadline)
            except (OSError, http.client.HTTPException) as err:
                out.error = _describe_network_error(err)
        return out


_HTML_START = re.compile(
    rb"^(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL
)


def _head_text(data: bytes) -> bytes:
    """The first bytes of the document as ASCII-compatible bytes, whatever the BOM said."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) : 4096].decode(codec, "ignore").encode("ascii", "ignore")
    return data[:4096]


def _sniff(data: bytes, source: str) -> None:
    """Refuse input that isn't a feed at all: empty, not XML, an HTML page."""
    head = _head_text(data).lstrip()
    if not head.strip():
        raise UnreadableFeed(
            "the feed is empty", file=source, hint="expected RSS XML starting with <?xml or <rss"
        )
    if not head.startswith(b"<"):
        raise UnreadableFeed("not XML", file=source, hint="expected RSS XML starting with <?xml or <rss")
    if _HTML_START.match(head):
        raise UnreadableFeed(
            "an HTML page, not a feed",
            file=source,
            hint="point at the feed's own URL (often /feed.xml or /rss)",
        )


def read_source(source: str, *, max_bytes: int = 20 * 2**20, timeout: float = 10.0) -> bytes:
    """The bytes of a feed from a file path or an http(s) URL, refusing anything that can't be a feed.

    Raises UnreadableFeed (one line, with a hint) for a missing or empty file, input that isn't XML, an
    HTML page, an HTTP error status, a refused connection, a DNS failure, a timeout, or more than
    `max_bytes` (the download is stopped there, so an endless response can't exhaust memory).
    `timeout` applies to each network operation; the whole download gets three times that.
    """
    if _is_url(source):
        data = _fetch_feed(source, max_bytes=max_bytes, timeout=timeout)
    elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        raise UnreadableFeed("only http(s) URLs and file paths can be validated", file=source)
    else:
        path = Path(source)
        try:
            if path.is_dir():
                raise UnreadableFeed("is a folder, not a feed file", file=source)
            size = path.stat().st_size
            if size > max_bytes:
                raise UnreadableFeed(f"is {size} bytes, over the {max_bytes}-byte limit", file=source)
            data = path.read_bytes()
        except FileNotFoundError:
            raise UnreadableFeed("no such file", file=source) from None
        except PermissionError:
            raise UnreadableFeed("permission denied", file=source) from None
        except OSError as err:
            raise UnreadableFeed(f"cannot read: {err.strerror or err}", file=source) from None
    _sniff(data, source)
    return data


def _fetch_feed(url: str, *, max_bytes: int, timeout: float) -> bytes:
    req = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/rss+xml, */*"}
    )
    deadline = time.monotonic() + timeout * 3
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        with err:
            raise UnreadableFeed(f"the server answered HTTP {err.code} {err.reason}", file=url) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
        raise UnreadableFeed(f"cannot fetch: {_describe_network_error(err)}", file=url) from None
    with resp:
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise UnreadableFeed(f"the feed is {declared} bytes, over the {max_bytes}-byte limit", file=url)
        try:
            data, truncated = _read_capped(resp, max_bytes, deadline)
        except (OSError, http.client.HTTPException) as err:
            raise UnreadableFeed(f"download failed: {_describe_network_error(err)}", file=url) from None
    if truncated:
        raise UnreadableFeed(f"the feed is larger than {max_bytes} bytes; stopped reading", file=url)
    return data


def _parser() -> etree.XMLParser:
    """A parser that never touches the network, never expands entities and refuses huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


# --- value checks (pure, table-driven) ------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


ISO_639_1 = frozenset(
    _words(
        "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz "
        "ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik "
        "in io is it iu iw ja ji jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh "
        "mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru "
        "rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug "
        "uk ur uz ve vi vo wa wo xh yi yo za zh zu"
    )
)
_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:-[a-zA-Z0-9]{2,8})*$")

_MONTHS = {m: i for i, m in enumerate(_words("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec"), 1)}
_DAYS = _words("Mon Tue Wed Thu Fri Sat Sun")
_ZONES = {
    "UT": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}
_RFC2822 = re.compile(
    r"^(?:(?P<dow>[A-Z][a-z]{2}),\s*)?(?P<d>\d{1,2})\s+(?P<mon>[A-Z][a-z]{2})\s+(?P<y>\d{4})\s+"
    r"(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?\s+(?P<z>[+-]\d{4}|[A-Z]{1,3})$"
)


@functools.lru_cache(maxsize=256)
def _zone(zone: str) -> timezone | None:
    if zone[0] in "+-":
        sign = -1 if zone[0] == "-" else 1
        return timezone(timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * sign)
    if zone in _ZONES:
        return timezone(timedelta(hours=_ZONES[zone]))
    if len(zone) == 1 and zone != "J":
        return UTC  # RFC 2822 §4.3: military zones are read as -0000
    return None


def parse_rfc2822(text: str) -> tuple[datetime | None, str]:
    """(aware datetime, "") for a valid RFC 2822 date, else (None, what is wrong)."""
    m = _RFC2822.match(text.strip())
    if not m:
        return None, f"'{text.strip()[:60]}' is not RFC 2822 (Tue, 03 Nov 2015 19:18:00 GMT)"
    if m["mon"] not in _MONTHS:
        return None, f"'{m['mon']}' is not an English month abbreviation"
    tz = _zone(m["z"])
    if tz is None:
        return None, f"'{m['z']}' is not a time zone RFC 2822 knows"
    try:
        when = datetime(
            int(m["y"]), _MONTHS[m["mon"]], int(m["d"]), int(m["H"]), int(m["M"]), int(m["S"] or 0), tzinfo=tz
        )
    except ValueError as err:
        return None, f"'{text.strip()}' is not a real time ({err})"
    if m["dow"] and m["dow"] not in _DAYS:
        return None, f"'{m['dow']}' is not an English day abbreviation"
    # a weekday that doesn't match the date is tolerated, as apps do: Apple's own example has one
    return when, ""


_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?|(?:\d+:)?[0-5]?\d:[0-5]\d(?:\.\d+)?)$")
#: Normal Play Time as psc uses it: [[HH:]MM:]SS[.mmm]; plain seconds may exceed 59.
_NPT = re.compile(r"^(?:(?:(\d+):)?([0-5]?\d):([0-5]?\d)|(\d+))(?:\.(\d{1,3}))?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SAFE_FILE = re.compile(r"^[A-Za-z0-9._-]+$")
# explicit letter classes: several times faster than re.IGNORECASE over 4 KB of notes per item
_ACTIVE_HTML = re.compile(
    r"<\s*([sS][cC][rR][iI][pP][tT]|[oO][bB][jJ][eE][cC][tT]|[iI][fF][rR][aA][mM][eE]|[eE][mM][bB][eE][dD])\b"
)
_YEAR = re.compile(r"\b(19|20)\d{2}\b")

APPLE_MEDIA_TYPES = frozenset(
    {"audio/mpeg", "audio/x-m4a", "video/mp4", "video/quicktime", "video/x-m4v", "application/pdf"}
)
#: File extension -> the enclosure types that fit it.
EXTENSION_TYPES: dict[str, frozenset[str]] = {
    ".mp3": frozenset({"audio/mpeg", "audio/mp3"}),
    ".m4a": frozenset({"audio/x-m4a", "audio/mp4", "audio/m4a"}),
    ".aac": frozenset({"audio/aac", "audio/x-aac"}),
    ".mp4": frozenset({"video/mp4", "audio/mp4"}),
    ".m4v": frozenset({"video/x-m4v", "video/mp4"}),
    ".mov": frozenset({"video/quicktime"}),
    ".pdf": frozenset({"application/pdf"}),
    ".ogg": frozenset({"audio/ogg"}),
    ".opus": frozenset({"audio/ogg", "audio/opus"}),
}
#: Served Content-Types a server may use for the declared type without anything being wrong.
SAME_TYPE: dict[str, frozenset[str]] = {
    "audio/mpeg": frozenset({"audio/mpeg", "audio/mp3", "audio/mpeg3"}),
    "audio/x-m4a": frozenset({"audio/x-m4a", "audio/mp4", "audio/m4a"}),
    "audio/mp4": frozenset({"audio/x-m4a", "audio/mp4", "audio/m4a"}),
    "application/x-subrip": frozenset({"application/x-subrip", "application/srt", "text/srt"}),
}
TRANSCRIPT_TYPES = frozenset(
    {"text/vtt", "application/x-subrip", "application/srt", "application/json", "text/html", "text/plain"}
)
UNTIMED_TRANSCRIPTS = frozenset({"text/html", "text/plain"})
CHAPTERS_TYPE = "application/json+chapters"
CHAPTERS_SERVED = frozenset({CHAPTERS_TYPE, "application/json"})
ART_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

#: Podcasting 2.0 taxonomy (taxonomy.json), lower-cased as the spec compares them.
PERSON_GROUPS = frozenset(
    {
        "creative direction",
        "cast",
        "writing",
        "audio production",
        "audio post-production",
        "administration",
        "visuals",
        "community",
        "misc.",
        "video production",
        "video post-production",
    }
)
PERSON_ROLES = frozenset(
    r.lower()
    for r in (
        "Director",
        "Assistant Director",
        "Executive Producer",
        "Senior Producer",
        "Producer",
        "Associate Producer",
        "Development Producer",
        "Creative Director",
        "Host",
        "Co-Host",
        "Guest Host",
        "Guest",
        "Voice Actor",
        "Narrator",
        "Announcer",
        "Reporter",
        "Author",
        "Editorial Director",
        "Co-Writer",
        "Writer",
        "Songwriter",
        "Guest Writer",
        "Story Editor",
        "Managing Editor",
        "Script Editor",
        "Script Coordinator",
        "Researcher",
        "Editor",
        "Fact Checker",
        "Translator",
        "Translater",
        "Transcriber",
        "Logger",
        "Studio Coordinator",
        "Technical Director",
        "Technical Manager",
        "Audio Engineer",
        "Remote Recording Engineer",
        "Post Production Engineer",
        "Audio Editor",
        "Sound Designer",
        "Foley Artist",
        "Composer",
        "Theme Music",
        "Music Production",
        "Music Contributor",
        "Production Coordinator",
        "Booking Coordinator",
        "Production Assistant",
        "Content Manager",
        "Marketing Manager",
        "Sales Representative",
        "Sales Manager",
        "Graphic Designer",
        "Cover Art Designer",
        "Social Media Manager",
        "Consultant",
        "Intern",
        "Camera Operator",
        "Lighting Designer",
        "Camera Grip",
        "Assistant Camera",
        "Assistant Editor",
    )
)

#: Tag names as the specs spell them, to catch wrong letter case (D4).
KNOWN_TAGS: dict[str, frozenset[str]] = {
    ITUNES: frozenset(
        {
            "author",
            "block",
            "category",
            "complete",
            "duration",
            "email",
            "episode",
            "episodeType",
            "explicit",
            "image",
            "keywords",
            "name",
            "new-feed-url",
            "owner",
            "season",
            "subtitle",
            "summary",
            "title",
            "type",
            "isClosedCaptioned",
            "order",
            "applepodcastsverify",
        }
    ),
    PODCAST: frozenset(
        {
            "guid",
            "locked",
            "funding",
            "person",
            "txt",
            "season",
            "episode",
            "transcript",
            "chapters",
            "soundbite",
            "location",
            "license",
            "trailer",
            "medium",
            "images",
            "alternateEnclosure",
            "source",
            "integrity",
            "value",
            "valueRecipient",
            "valueTimeSplit",
            "remoteItem",
            "podroll",
            "updateFrequency",
            "liveItem",
            "contentLink",
            "socialInteract",
            "block",
            "publisher",
            "podping",
            "chat",
            "image",
        }
    ),
}
_RRULE_KEYS = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
    }
)
_FREQS = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})

SHORT_TEXT_LIMIT = 255
NOTES_LIMIT = 4000
FEED_SIZE_WARN = 4 * 2**20
ART_MIN, ART_MAX = 1400, 3000
ART_MAX_BYTES_WARN = 512 * 1024
IMAGE_FETCH_CAP = 10 * 2**20
CHAPTERS_FETCH_CAP = 2 * 2**20


def _rrule_problem(rrule: str) -> str:
    parts: dict[str, str] = {}
    for part in rrule.split(";"):
        key, sep, value = part.partition("=")
        if not sep or key.upper() not in _RRULE_KEYS or not value:
            return f"'{part}' is not an RFC 5545 rule part"
        parts[key.upper()] = value
    if parts.get("FREQ", "").upper() not in _FREQS:
        return "rrule needs FREQ=DAILY, WEEKLY, MONTHLY…"
    for key in ("COUNT", "INTERVAL"):
        if key in parts and not (parts[key].isdigit() and int(parts[key]) > 0):
            return f"{key} must be a positive whole number"
    return ""


def _npt_seconds(text: str) -> float | None:
    m = _NPT.match(text.strip())
    if not m:
        return None
    hours, minutes, secs, plain, millis = m.groups()
    whole = int(plain) if plain is not None else int(hours or 0) * 3600 + int(minutes) * 60 + int(secs)
    return whole + int((millis or "0").ljust(3, "0")) / 1000


def _duration_seconds(text: str) -> float | None:
    if not _DURATION.match(text):
        return None
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return (
        value if value is not None and value == value and value not in (float("inf"), float("-inf")) else None
    )


def _positive_int(text: str | None) -> bool:
    return bool(text) and text.strip().isdigit() and int(text) > 0  # type: ignore[union-attr]


def _over_notes_limit(text: str) -> bool:
    """True when the UTF-8 form of `text` exceeds NOTES_LIMIT bytes (encoding only when it could matter)."""
    n = len(text)
    if n > NOTES_LIMIT:
        return True
    if n * 4 <= NOTES_LIMIT or text.isascii():
        return False
    return len(text.encode("utf-8")) > NOTES_LIMIT


def _norm_ns(uri: str) -> str:
    bare = re.sub(r"^[a-z]+://", "", uri.strip().lower())
    return re.sub(r"^www\.", "", bare).rstrip("/#")


def _file_name(url: str) -> str:
    """The last path segment of a URL, without query or fragment (string ops: this runs per item)."""
    path = url.partition("?")[0].partition("#")[0]
    head, sep, name = path.rpartition("/")
    return "" if not sep or head.endswith(("/", ":")) else name


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _ext(url: str) -> str:
    return _suffix(_file_name(url))


def _clip(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _q(tag: str, ns: str) -> str:
    return f"{{{ns}}}{tag}"


# Clark-notation names used in the checks
_I = {name: _q(name, ITUNES) for name in KNOWN_TAGS[ITUNES]}
_P = {name: _q(name, PODCAST) for name in KNOWN_TAGS[PODCAST]}
_CONTENT_ENCODED = _q("encoded", CONTENT)
_ATOM_LINK = _q("link", ATOM)
_PSC_CHAPTERS = _q("chapters", PSC)
_PSC_CHAPTER = _q("chapter", PSC)
_NOTES_TAGS = ("description", _CONTENT_ENCODED, _I["summary"])
_ITEM_SHORT = ("title", _I["title"], _I["author"], _I["subtitle"], "guid")
_CHANNEL_SHORT = ("title", _I["author"], _I["subtitle"])
_MARKUP_FREE = ("title", "description", _CONTENT_ENCODED, _I["summary"], _I["subtitle"], _I["title"])
_URL_ATTRS = ("url", "href", "img", "uri", "feedUrl", "srcset")


# --- the offline checker --------------------------------------------------------------------------------


class _ItemWhere:
    """'item 3 (guid …)', built only when a finding needs it (the item loop runs for every item)."""

    __slots__ = ("guid", "index", "title")

    def __init__(self, index: int, guid: str, title: str) -> None:
        self.index, self.guid, self.title = index, guid, title

    def __str__(self) -> str:
        if self.guid:
            return f"item {self.index} (guid {_clip(self.guid, 50)})"
        return f"item {self.index} ({_clip(self.title, 50)!r})" if self.title else f"item {self.index}"


Where = str | _ItemWhere


@dataclass
class _ItemInfo:
    """What the cross-build and online checks need to know about one item."""

    where: Where
    line: int | None
    guid: str | None
    title: str
    pubdate: datetime | None
    pubdate_text: str | None
    url: str | None
    length: str | None


@dataclass
class _Job:
    """One online check: a URL of some kind, plus what the feed says about it."""

    kind: str  # enclosure | art | episode-art | transcript | chapters
    url: str
    where: Where
    line: int | None
    length: str | None = None
    type: str | None = None
    also: int = 0  # how many more places use the same URL


class _Checker:
    """Runs the offline rules over one parsed feed and collects findings."""

    def __init__(self, active: frozenset[str], source: str, now: datetime, *, online: bool = False) -> None:
        self.active = active
        self.source = source
        self.now = now
        self.online = online
        self.findings: list[Finding] = []
        self.items: list[_ItemInfo] = []
        self.jobs: list[_Job] = []
        self.job_index: dict[tuple[str, str], _Job] = {}
        self.http_urls = 0
        self.https_urls = 0
        self.first_http: tuple[str, Where, int | None] | None = None
        self.self_url: str | None = None
        self.podcast_guid: str | None = None
        self.new_feed_url: str | None = None

    # emission
    def add(self, rid: str, message: str, where: Where, line: int | None) -> None:
        if rid in self.active:
            rule = RULES[rid]
            self.findings.append(Finding(rid, rule.severity, message, str(where), line, rule.hint))

    def job(self, kind: str, url: str, where: Where, line: int | None, **extra: str | None) -> None:
        if not self.online:
            return
        key = (kind, url)
        if key in self.job_index:
            self.job_index[key].also += 1
            return
        new = _Job(kind, url, where, line, **extra)  # type: ignore[arg-type]
        self.job_index[key] = new
        self.jobs.append(new)

    def url(self, url: str, where: Where, line: int | None, *, podcast_tag: str | None = None) -> None:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "https":
            self.https_urls += 1
        elif scheme == "http":
            self.http_urls += 1
            if self.first_http is None:
                self.first_http = (url, where, line)
        if podcast_tag and scheme == "http":
            self.add("PC112", f"podcast:{podcast_tag} URL {url} is http, not https", where, line)

    # document
    def document(self, root: etree._Element, data: bytes) -> etree._Element | None:
        docinfo = root.getroottree().docinfo
        encoding = (docinfo.encoding or "UTF-8").upper().replace("_", "-")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "UTF-16"
        if encoding not in ("UTF-8", "UTF8"):
            self.add("PC104", f"the feed is encoded as {encoding}, not UTF-8", "document", 1)
        if len(data) > FEED_SIZE_WARN:
            self.add("PC113", f"the feed is {len(data) / 2**20:.1f} MB", "document", None)
        if root.tag != "rss":
            name = root.tag if isinstance(root.tag, str) else "?"
            atom = " (an Atom feed)" if name == _q("feed", ATOM) else ""
            self.add(
                "PC102",
                f"the root element is <{etree.QName(name).localname}>{atom}, not <rss>",
                "document",
                root.sourceline,
            )
            return None
        if root.get("version") != "2.0":
            self.add(
                "PC102",
                f'<rss version="{root.get("version") or ""}"> should be version="2.0"',
                "document",
                root.sourceline,
            )
        channels = root.findall("channel")
        if len(channels) != 1:
            self.add(
                "PC103",
                f"found {len(channels)} <channel> elements under <rss>",
                "document",
                channels[1].sourceline if len(channels) > 1 else root.sourceline,
            )
        self.namespaces(root)
        return channels[0] if channels else None

    def namespaces(self, root: etree._Element) -> None:
        first: dict[str, etree._Element] = {}
        for el in root.iter(etree.Element):
            tag = el.tag
            if tag not in first:
                first[tag] = el
        exact = {uri for uris in KNOWN_NAMESPACES.values() for uri in uris}
        normal = {_norm_ns(uri): uris[0] for uris in KNOWN_NAMESPACES.values() for uri in uris}
        reported: set[str] = set()
        for tag, el in first.items():
            if not tag.startswith("{"):
                continue
            uri, local = tag[1:].split("}", 1)
            if uri not in exact and _norm_ns(uri) in normal and uri not in reported:
                reported.add(uri)
                self.add(
                    "PC105",
                    f"namespace '{uri}' should be exactly '{normal[_norm_ns(uri)]}'",
                    _where_of(el),
                    el.sourceline,
                )
            known = KNOWN_TAGS.get(uri)
            if known and local not in known:
                fixed = next((k for k in known if k.lower() == local.lower()), None)
                if fixed:
                    self.add("PC107", f"<{local}> should be spelt <{fixed}>", _where_of(el), el.sourceline)
        for prefix, uri in (root.nsmap or {}).items():
            wanted = KNOWN_NAMESPACES.get(prefix or "")
            if wanted and uri not in wanted and uri not in reported and _norm_ns(uri) not in normal:
                reported.add(uri)
                self.add(
                    "PC105",
                    f"prefix '{prefix}' is bound to '{uri}', not '{wanted[0]}'",
                    "document",
                    root.sourceline,
                )
        for el in root.iter(_PSC_CHAPTERS):
            parent = el.getparent()
            if parent is None or parent.tag != "item":
                self.add(
                    "PC335",
                    "<psc:chapters> sits outside an <item>; apps ignore it there",
                    _where_of(el),
                    el.sourceline,
                )

    # shared element checks
    def short_text(self, el: etree._Element, name: str, where: Where) -> None:
        text = el.text or ""
        if len(text) > SHORT_TEXT_LIMIT:
            self.add("PC108", f"{name} is {len(text)} characters long", where, el.sourceline)
        if text and text != text.strip():
            self.add(
                "PC109",
                f"{name} '{_clip(text, 40)}' has spaces or line breaks around it",
                where,
                el.sourceline,
            )

    def markup_free(self, kids: dict[str, list[etree._Element]], where: Where) -> None:
        for tag in _MARKUP_FREE:
            for el in kids.get(tag, ()):
                if len(el):
                    child = el[0].tag if isinstance(el[0].tag, str) else "comment"
                    self.add(
                        "PC114",
                        f"<{_prefixed(el.tag)}> contains a raw <{etree.QName(child).localname}> element",
                        where,
                        el.sourceline,
                    )

    def persons(self, els: Iterable[etree._Element], where: Where) -> None:
        for el in els:
            name = (el.text or "").strip()
            if not name or len(name) > 128:
                self.add("PC329", f"podcast:person name is {len(name)} characters", where, el.sourceline)
            role, group = el.get("role"), el.get("group")
            if role is not None and role.strip().lower() not in PERSON_ROLES:
                self.add(
                    "PC330", f"podcast:person role '{role}' is not in the taxonomy", where, el.sourceline
                )
            if group is not None and group.strip().lower() not in PERSON_GROUPS:
                self.add(
                    "PC330", f"podcast:person group '{group}' is not in the taxonomy", where, el.sourceline
                )

    def podcast_urls(self, kids: dict[str, list[etree._Element]], where: Where) -> None:
        for tag, els in kids.items():
            if not tag.startswith("{" + PODCAST):
                continue
            local = tag.rsplit("}", 1)[1]
            for el in els:
                for attr in _URL_ATTRS:
                    value = el.get(attr)
                    if value:
                        self.url(value, where, el.sourceline, podcast_tag=local)

    def explicit(self, el: etree._Element, where: Where, *, channel: bool) -> None:
        value = (el.text or "").strip()
        if value in ("true", "false"):
            return
        if not channel:
            self.add("PC325", f"itunes:explicit is '{value}'", where, el.sourceline)
        elif value.lower() in ("yes", "no", "clean"):
            self.add(
                "PC213",
                f"itunes:explicit is '{value}' (write {'true' if value.lower() == 'yes' else 'false'})",
                where,
                el.sourceline,
            )
        else:
            self.add("PC214", f"itunes:explicit is '{value}'", where, el.sourceline)

    # channel
    def channel(self, ch: etree._Element) -> None:
        where, line = "channel", ch.sourceline
        kids = _children(ch)
        first = {tag: els[0] for tag, els in kids.items()}

        title = first.get("title")
        if title is None or not (title.text or "").strip():
            self.add("PC201", "the channel has no title", where, line)
        else:
            self._stuffed(title, where)
        for tag in _CHANNEL_SHORT:
            for el in kids.get(tag, ()):
                self.short_text(el, _prefixed(tag), where)
        for el in kids.get(_I["owner"], ()):
            for name in el.iterchildren(_I["name"]):
                self.short_text(name, "itunes:name", where)
        self.markup_free(kids, where)

        desc = first.get("description")
        if desc is None or not (desc.text or "").strip():
            self.add("PC203", "the channel has no description", where, line)
        elif _over_notes_limit(desc.text or ""):
            self.add(
                "PC204", f"the description is {len((desc.text or '').encode())} bytes", where, desc.sourceline
            )

        image = first.get(_I["image"])
        href = (image.get("href") or "").strip() if image is not None else ""
        if not href:
            self.add("PC205", "no <itunes:image href> for the show artwork", where, line)
        else:
            self.url(href, where, image.sourceline)  # type: ignore[union-attr]
            if _ext(href) not in (".jpg", ".png"):
                self.add("PC206", f"artwork URL {href} does not end in .jpg or .png", where, image.sourceline)  # type: ignore[union-attr]
            self.job("art", href, where, image.sourceline)  # type: ignore[union-attr]

        lang = first.get("language")
        code = (lang.text or "").strip() if lang is not None else ""
        if not code:
            self.add("PC207", "the channel has no <language>", where, line)
        else:
            m = _LANGUAGE.match(code)
            if not m or (len(m[1]) == 2 and m[1].lower() not in ISO_639_1):
                better = code.replace("_", "-") if "_" in code else None
                extra = f" (write '{better}')" if better and _LANGUAGE.match(better) else ""
                self.add("PC207", f"language '{code}' is not an ISO 639 code{extra}", where, lang.sourceline)  # type: ignore[union-attr]

        self.categories(kids.get(_I["category"], []), where, line)

        explicit = first.get(_I["explicit"])
        if explicit is None:
            self.add("PC212", "the channel has no <itunes:explicit>", where, line)
        else:
            self.explicit(explicit, where, channel=True)

        owner = first.get(_I["owner"])
        email_el = owner.find(_I["email"]) if owner is not None else None
        email = (email_el.text or "").strip() if email_el is not None else ""
        if not _EMAIL.match(email):
            what = (
                f"owner email '{email}' is not an email address"
                if email
                else "no <itunes:owner><itunes:email>"
            )
            for rid in ("PC215", "PC216"):
                self.add(rid, what, where, (owner if owner is not None else ch).sourceline)

        author = first.get(_I["author"])
        if author is None or not (author.text or "").strip():
            self.add("PC217", "the channel has no <itunes:author>", where, line)

        link = first.get("link")
        link_text = (link.text or "").strip() if link is not None else ""
        if not link_text.lower().startswith(("http://", "https://")):
            self.add(
                "PC218",
                f"<link> is '{_clip(link_text)}'" if link_text else "the channel has no <link>",
                where,
                (link if link is not None else ch).sourceline,
            )
        else:
            self.url(link_text, where, link.sourceline)  # type: ignore[union-attr]

        self.self_link(kids.get(_ATOM_LINK, []), where, line)

        itype = first.get(_I["type"])
        if itype is not None and (itype.text or "").strip() not in ("episodic", "serial"):
            self.add("PC221", f"itunes:type is '{(itype.text or '').strip()}'", where, itype.sourceline)

        complete = first.get(_I["complete"])
        if complete is not None and (complete.text or "").strip().lower() != "yes":
            self.add(
                "PC223", f"itunes:complete is '{(complete.text or '').strip()}'", where, complete.sourceline
            )

        self.p20_channel(kids, first, where, line)

        copyright_el = first.get("copyright")
        if copyright_el is not None:
            text = copyright_el.text or ""
            if "copyright" in text.lower() or "©" in text or "(c)" in text.lower() or _YEAR.search(text):
                self.add("PC233", f"copyright is '{_clip(text)}'", where, copyright_el.sourceline)

        new_url = first.get(_I["new-feed-url"])
        if new_url is not None:
            target = (new_url.text or "").strip()
            self.new_feed_url = target
            note = "" if _is_url(target) else " (not an http(s) URL)"
            self.add("PC234", f"the feed says it moved to '{_clip(target)}'{note}", where, new_url.sourceline)

        for tag, els in kids.items():
            if tag.startswith("{" + SPOTIFY):
                for el in els:
                    self._spotify(el, where)

        for tag in ("pubDate", "lastBuildDate"):
            el = first.get(tag)
            if el is not None:
                when, problem = parse_rfc2822(el.text or "")
                if when is None:
                    self.add("PC237", f"{tag}: {problem}", where, el.sourceline)

        self.podcast_urls(kids, where)

    def _stuffed(self, title: etree._Element, where: Where) -> None:
        text = title.text or ""
        separators = sum(text.count(s) for s in "|,#/•·")
        words = [w.lower() for w in re.findall(r"\w{3,}", text)]
        repeated = max((words.count(w) for w in set(words)), default=0)
        if separators >= 3 or repeated >= 3:
            self.add("PC202", f"title '{_clip(text)}' looks like a keyword list", where, title.sourceline)

    def categories(self, cats: list[etree._Element], where: Where, line: int | None) -> None:
        if not cats:
            self.add("PC208", "the channel has no <itunes:category>", where, line)
            return
        for cat in cats:
            top = cat.get("text") or ""
            subs = [s.get("text") or "" for s in cat.iterchildren(_I["category"])]
            legacy, repl = legacy_replacement(top)
            if legacy:
                better = f" (use '{repl}')" if repl else ""
                self.add("PC211", f"'{top}' is a retired Apple category{better}", where, cat.sourceline)
                continue
            if top not in APPLE_CATEGORIES:
                guess = suggest(top)
                hint = f" (did you mean '{guess}'?)" if guess else ""
                self.add(
                    "PC209", f"itunes:category '{top}' is not an Apple category{hint}", where, cat.sourceline
                )
                continue
            for sub in subs:
                legacy, repl = legacy_replacement(top, sub)
                if legacy:
                    better = f" (use '{repl}')" if repl else ""
                    self.add(
                        "PC211", f"'{top} > {sub}' is a retired Apple category{better}", where, cat.sourceline
                    )
                elif sub not in APPLE_CATEGORIES[top]:
                    guess = suggest(sub, APPLE_CATEGORIES[top]) if APPLE_CATEGORIES[top] else None
                    hint = f" (did you mean '{guess}'?)" if guess else ""
                    self.add("PC210", f"'{sub}' is not a subcategory of '{top}'{hint}", where, cat.sourceline)

    def self_link(self, links: list[etree._Element], where: Where, line: int | None) -> None:
        selfs = [el for el in links if el.get("rel") == "self"]
        if not selfs:
            self.add("PC219", 'no <atom:link rel="self"> naming the feed URL', where, line)
            return
        el = selfs[0]
        href = (el.get("href") or "").strip()
        self.self_url = href or None
        if href:
            self.url(href, where, el.sourceline)
        if el.get("type") not in (None, "application/rss+xml"):
            self.add(
                "PC220",
                f"self link type is '{el.get('type')}', not application/rss+xml",
                where,
                el.sourceline,
            )
        if not _is_url(href):
            self.add("PC220", f"self link href '{_clip(href)}' is not an http(s) URL", where, el.sourceline)
        elif _is_url(self.source) and href.rstrip("/") != self.source.rstrip("/"):
            self.add(
                "PC220",
                f"self link {href} differs from the URL the feed was read from ({self.source})",
                where,
                el.sourceline,
            )

    def p20_channel(
        self,
        kids: dict[str, list[etree._Element]],
        first: dict[str, etree._Element],
        where: Where,
        line: int | None,
    ) -> None:
        guid = first.get(_P["guid"])
        if guid is None:
            self.add("PC224", "the channel has no <podcast:guid>", where, line)
        else:
            text = (guid.text or "").strip()
            self.podcast_guid = text
            try:
                parsed = uuid.UUID(text)
            except ValueError:
                parsed = None
            if parsed is None or parsed.version != 5:
                self.add("PC225", f"podcast:guid '{_clip(text)}' is not a UUIDv5", where, guid.sourceline)
            else:
                feed_url = self.self_url or (self.source if _is_url(self.source) else None)
                if feed_url and str(parsed) != podcast_guid(feed_url):
                    self.add(
                        "PC226",
                        f"podcast:guid {parsed} is not the UUIDv5 of {feed_url} ({podcast_guid(feed_url)})",
                        where,
                        guid.sourceline,
                    )
        locked = first.get(_P["locked"])
        if locked is None:
            self.add("PC227", "the channel has no <podcast:locked>", where, line)
        else:
            value = (locked.text or "").strip()
            owner = locked.get("owner")
            if value not in ("yes", "no"):
                self.add("PC228", f"podcast:locked is '{value}', not yes or no", where, locked.sourceline)
            if owner is not None and not _EMAIL.match(owner.strip()):
                self.add(
                    "PC228",
                    f"podcast:locked owner '{owner}' is not an email address",
                    where,
                    locked.sourceline,
                )
        for el in kids.get(_P["funding"], ()):
            text = (el.text or "").strip()
            if not (el.get("url") or "").strip():
                self.add("PC229", "podcast:funding has no url", where, el.sourceline)
            if len(text) > 128:
                self.add(
                    "PC229", f"podcast:funding text is {len(text)} characters (max 128)", where, el.sourceline
                )
        for el in kids.get(_P["txt"], ()):
            text, purpose = el.text or "", el.get("purpose") or ""
            if len(text) > 4000 or len(purpose) > 128:
                self.add(
                    "PC230",
                    f"podcast:txt is {len(text)} characters, purpose {len(purpose)}",
                    where,
                    el.sourceline,
                )
        for el in kids.get(_P["podroll"], ()):
            remotes = list(el.iterchildren(_P["remoteItem"]))
            if not remotes:
                self.add("PC231", "podcast:podroll lists no <podcast:remoteItem>", where, el.sourceline)
            for remote in remotes:
                if not (remote.get("feedGuid") or "").strip():
                    self.add("PC231", "podcast:remoteItem has no feedGuid", where, remote.sourceline)
        for el in kids.get(_P["updateFrequency"], ()):
            text, rrule = el.text or "", el.get("rrule")
            if len(text) > 128:
                self.add(
                    "PC232", f"podcast:updateFrequency text is {len(text)} characters", where, el.sourceline
                )
            problem = _rrule_problem(rrule) if rrule is not None else ""
            if problem:
                self.add("PC232", f"podcast:updateFrequency rrule: {problem}", where, el.sourceline)
        self.persons(kids.get(_P["person"], ()), where)

    def _spotify(self, el: etree._Element, where: Where) -> None:
        local = etree.QName(el).localname
        if local == "limit":
            count = el.get("recentCount") or ""
            if not _positive_int(count):
                self.add("PC236", f"spotify:limit recentCount is '{count}'", where, el.sourceline)
        elif local == "countryOfOrigin":
            codes = (el.text or "").split()
            if not codes or any(not re.fullmatch(r"[a-zA-Z]{2}", c) for c in codes):
                self.add(
                    "PC236", f"spotify:countryOfOrigin is '{_clip(el.text or '')}'", where, el.sourceline
                )

    # items
    def all_items(self, ch: etree._Element, *, serial: bool) -> None:
        guids: dict[str, str] = {}
        enclosures: dict[str, str] = {}
        with_enclosure = 0
        for index, item in enumerate(ch.iterchildren("item"), 1):
            with_enclosure += self.item(index, item, guids, enclosures, serial=serial)
        if with_enclosure == 0:
            self.add(
                "PC235", f"none of the {len(self.items)} items has an enclosure", "channel", ch.sourceline
            )

    def item(
        self,
        index: int,
        item: etree._Element,
        guids: dict[str, str],
        enclosures: dict[str, str],
        *,
        serial: bool,
    ) -> int:
        kids = _children(item)
        first = {tag: els[0] for tag, els in kids.items()}
        line = item.sourceline
        guid_el = first.get("guid")
        guid = (guid_el.text or "").strip() if guid_el is not None else ""
        title_el = first.get("title")
        title = (title_el.text or "").strip() if title_el is not None else ""
        where = _ItemWhere(index, guid, title)

        if not title:
            self.add("PC301", "the item has no title", where, line)
        for tag in _ITEM_SHORT:
            for el in kids.get(tag, ()):
                self.short_text(el, _prefixed(tag), where)
        self.markup_free(kids, where)

        if not guid:
            self.add("PC312", "the item has no guid", where, line)
        elif guid in guids:
            self.add(
                "PC313", f"guid '{_clip(guid)}' is also used by {guids[guid]}", where, guid_el.sourceline
            )  # type: ignore[union-attr]
        else:
            guids[guid] = f"item {index}"

        url, length = self._enclosure(kids.get("enclosure", []), where, line, index, enclosures)

        pub = first.get("pubDate")
        when: datetime | None = None
        pub_text = None
        if pub is None:
            self.add("PC314", "the item has no pubDate", where, line)
        else:
            pub_text = (pub.text or "").strip()
            when, problem = parse_rfc2822(pub_text)
            if when is None:
                self.add("PC315", f"pubDate {problem}", where, pub.sourceline)
            elif when > self.now:
                self.add("PC316", f"pubDate {pub_text} is in the future", where, pub.sourceline)

        duration = first.get(_I["duration"])
        seconds: float | None = None
        if duration is None:
            self.add("PC317", "the item has no itunes:duration", where, line)
        else:
            seconds = _duration_seconds((duration.text or "").strip())
            if seconds is None:
                self.add(
                    "PC318", f"itunes:duration is '{_clip(duration.text or '')}'", where, duration.sourceline
                )

        self._notes(kids, where, line)
        self._itunes_item(kids, first, where, line, title, serial=serial)
        self._p20_item(kids, where, seconds)
        self.podcast_urls(kids, where)
        for el in kids.get(_PSC_CHAPTERS, ()):
            self._psc(el, where)

        self.items.append(_ItemInfo(where, line, guid or None, title, when, pub_text, url, length))
        return 1 if "enclosure" in kids else 0

    def _enclosure(
        self, encs: list[etree._Element], where: Where, line: int | None, index: int, seen: dict[str, str]
    ) -> tuple[str | None, str | None]:
        if not encs:
            self.add("PC303", "the item has no enclosure", where, line)
            return None, None
        if len(encs) > 1:
            self.add("PC311", f"the item has {len(encs)} enclosures", where, encs[1].sourceline)
        enc = encs[0]
        eline = enc.sourceline
        url, length, mtype = enc.get("url"), enc.get("length"), enc.get("type")
        ext = ""
        missing = [
            name
            for name, value in (("url", url), ("length", length), ("type", mtype))
            if not (value or "").strip()
        ]
        if missing:
            self.add("PC304", f"the enclosure has no {', '.join(missing)}", where, eline)
        if url:
            url = url.strip()
            self.url(url, where, eline)
            if url in seen:
                self.add("PC305", f"enclosure URL {url} is also used by {seen[url]}", where, eline)
            else:
                seen[url] = f"item {index}"
            name = _file_name(url)
            ext = _suffix(name)
            if not url.isascii() or (name and not _SAFE_FILE.match(name)):
                self.add(
                    "PC310",
                    f"enclosure file name '{_clip(unquote(name), 50)}' has characters other than "
                    "a-z, 0-9, '-', '_' and '.'",
                    where,
                    eline,
                )
        if length is not None and length.strip() and not _positive_int(length):
            self.add("PC306", f"enclosure length is '{_clip(length)}'", where, eline)
        if mtype:
            mtype = mtype.strip()
            if mtype == "audio/mp4":
                self.add("PC308", "enclosure type is audio/mp4; Apple lists audio/x-m4a", where, eline)
            elif mtype not in APPLE_MEDIA_TYPES:
                self.add("PC307", f"enclosure type '{mtype}' is not one Apple accepts", where, eline)
            fitting = EXTENSION_TYPES.get(ext)
            if fitting and mtype not in fitting:
                self.add("PC309", f"enclosure type {mtype} does not fit a {ext} file", where, eline)
        if url and _is_url(url):
            self.job(
                "enclosure", url, where, eline, length=(length or "").strip(), type=(mtype or "").strip()
            )
        return url, (length or "").strip() or None

    def _notes(self, kids: dict[str, list[etree._Element]], where: Where, line: int | None) -> None:
        present = False
        for tag in _NOTES_TAGS:
            for el in kids.get(tag, ()):
                text = el.text or ""
                if text.strip():
                    present = True
                if _over_notes_limit(text):
                    self.add("PC319", f"{_prefixed(tag)} is {len(text.encode())} bytes", where, el.sourceline)
                if "<" in text:
                    m = _ACTIVE_HTML.search(text)
                    if m:
                        self.add("PC320", f"{_prefixed(tag)} contains <{m[1].lower()}>", where, el.sourceline)
        if not present:
            self.add("PC321", "the item has no description or content:encoded", where, line)

    def _itunes_item(
        self,
        kids: dict[str, list[etree._Element]],
        first: dict[str, etree._Element],
        where: Where,
        line: int | None,
        title: str,
        *,
        serial: bool,
    ) -> None:
        etype = first.get(_I["episodeType"])
        if etype is not None and (etype.text or "").strip() not in ("full", "trailer", "bonus"):
            self.add(
                "PC322", f"itunes:episodeType is '{(etype.text or '').strip()}'", where, etype.sourceline
            )
        number: str | None = None
        for name in ("episode", "season"):
            el = first.get(_I[name])
            if el is not None:
                value = (el.text or "").strip()
                if not _positive_int(value):
                    self.add("PC323", f"itunes:{name} is '{_clip(value)}'", where, el.sourceline)
                elif name == "episode":
                    number = str(int(value))
        if serial and _I["episode"] not in first:
            self.add("PC222", "this serial show's item has no itunes:episode", where, line)
        if number and title and _repeats_number(title, number):
            self.add(
                "PC302",
                f"title '{_clip(title)}' repeats episode number {number}",
                where,
                first["title"].sourceline,
            )
        image = first.get(_I["image"])
        if image is not None:
            href = (image.get("href") or "").strip()
            if _ext(href) not in (".jpg", ".png"):
                self.add(
                    "PC324",
                    f"episode artwork URL '{_clip(href)}' does not end in .jpg or .png",
                    where,
                    image.sourceline,
                )
            if href:
                self.url(href, where, image.sourceline)
                if _is_url(href):
                    self.job("episode-art", href, where, image.sourceline)
        explicit = first.get(_I["explicit"])
        if explicit is not None:
            self.explicit(explicit, where, channel=False)

    def _p20_item(self, kids: dict[str, list[etree._Element]], where: Where, seconds: float | None) -> None:
        for el in kids.get(_P["transcript"], ()):
            url, mtype, rel = (el.get("url") or "").strip(), (el.get("type") or "").strip(), el.get("rel")
            if not url or not mtype:
                self.add("PC326", "podcast:transcript needs both url and type", where, el.sourceline)
            elif mtype not in TRANSCRIPT_TYPES:
                self.add(
                    "PC326",
                    f"podcast:transcript type '{mtype}' is not a transcript format",
                    where,
                    el.sourceline,
                )
            if rel == "captions" and mtype in UNTIMED_TRANSCRIPTS:
                self.add(
                    "PC327",
                    f'rel="captions" on a {mtype} transcript, which has no timecodes',
                    where,
                    el.sourceline,
                )
            if url and _is_url(url):
                self.job("transcript", url, where, el.sourceline, type=mtype)
        for el in kids.get(_P["chapters"], ()):
            url, mtype = (el.get("url") or "").strip(), (el.get("type") or "").strip()
            if not url:
                self.add("PC328", "podcast:chapters has no url", where, el.sourceline)
            if mtype != CHAPTERS_TYPE:
                self.add(
                    "PC328", f"podcast:chapters type is '{mtype}', not {CHAPTERS_TYPE}", where, el.sourceline
                )
            if url and _is_url(url):
                self.job("chapters", url, where, el.sourceline, type=mtype)
        self.persons(kids.get(_P["person"], ()), where)
        for el in kids.get(_P["season"], ()):
            text, name = (el.text or "").strip(), el.get("name") or ""
            if not text.isdigit():
                self.add(
                    "PC331", f"podcast:season is '{_clip(text)}', not a whole number", where, el.sourceline
                )
            if len(name) > 128:
                self.add("PC332", f"podcast:season name is {len(name)} characters", where, el.sourceline)
        for el in kids.get(_P["episode"], ()):
            text, display = (el.text or "").strip(), el.get("display") or ""
            if not re.fullmatch(r"\d+(\.\d+)?", text):
                self.add("PC331", f"podcast:episode is '{_clip(text)}', not a number", where, el.sourceline)
            if len(display) > 32:
                self.add(
                    "PC332", f"podcast:episode display is {len(display)} characters", where, el.sourceline
                )
        for el in kids.get(_P["soundbite"], ()):
            self._soundbite(el, where, seconds)
        for el in kids.get(_P["alternateEnclosure"], ()):
            problems = [f"no {a}" for a in ("type", "length") if not (el.get(a) or "").strip()]
            if el.get("length") and not el.get("length", "").strip().isdigit():
                problems.append(f"length '{el.get('length')}'")
            sources = list(el.iterchildren(_P["source"]))
            if not any((s.get("uri") or "").strip() for s in sources):
                problems.append("no <podcast:source uri>")
            for integrity in el.iterchildren(_P["integrity"]):
                if integrity.get("type") not in ("sri", "pgp-signature") or not integrity.get("value"):
                    problems.append("an integrity without type sri|pgp-signature and a value")
            if problems:
                self.add(
                    "PC334", f"podcast:alternateEnclosure has {', '.join(problems)}", where, el.sourceline
                )

    def _soundbite(self, el: etree._Element, where: Where, seconds: float | None) -> None:
        start, length = _number(el.get("startTime")), _number(el.get("duration"))
        title = (el.text or "").strip()
        problem = ""
        if start is None or length is None or start < 0 or length <= 0:
            problem = f"startTime '{el.get('startTime')}' and duration '{el.get('duration')}' must be seconds"
        elif seconds is not None and start + length > seconds + 1:
            problem = f"ends at {start + length:g} s, after the episode ({seconds:g} s)"
        elif not 15 <= length <= 120:
            problem = f"is {length:g} s long (15–120 s recommended)"
        elif len(title) > 128:
            problem = f"title is {len(title)} characters"
        if problem:
            self.add("PC333", f"podcast:soundbite {problem}", where, el.sourceline)

    def _psc(self, wrapper: etree._Element, where: Where) -> None:
        last = -1.0
        for el in wrapper.iterchildren(_PSC_CHAPTER):
            start = el.get("start") or ""
            value = _npt_seconds(start)
            if value is None:
                self.add(
                    "PC336",
                    f"psc:chapter start '{_clip(start)}' is not normal play time",
                    where,
                    el.sourceline,
                )
                continue
            if not (el.get("title") or "").strip():
                self.add("PC336", f"psc:chapter at {start} has no title", where, el.sourceline)
            if value < last:
                self.add(
                    "PC336", f"psc:chapter at {start} starts before the one above it", where, el.sourceline
                )
            last = max(last, value)

    def finish(self) -> None:
        if self.http_urls and self.https_urls:
            url, where, line = self.first_http  # type: ignore[misc]
            self.add(
                "PC110",
                f"{self.http_urls} http and {self.https_urls} https URLs; first http: {url}",
                where,
                line,
            )
        if self.http_urls:
            url, where, line = self.first_http  # type: ignore[misc]
            self.add("PC111", f"{self.http_urls} URLs use plain http, e.g. {url}", where, line)


def _children(parent: etree._Element) -> dict[str, list[etree._Element]]:
    kids: dict[str, list[etree._Element]] = {}
    for child in parent:
        tag = child.tag
        if isinstance(tag, str):
            if tag in kids:
                kids[tag].append(child)
            else:
                kids[tag] = [child]
    return kids


_PREFIXES = {
    ITUNES: "itunes",
    PODCAST: "podcast",
    CONTENT: "content",
    ATOM: "atom",
    PSC: "psc",
    SPOTIFY: "spotify",
}


def _prefixed(tag: str) -> str:
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        return f"{_PREFIXES.get(uri, uri)}:{local}"
    return tag


def _where_of(el: etree._Element) -> str:
    """'channel', 'item N' or 'document' for an element found outside the item loop."""
    node: etree._Element | None = el
    while node is not None and node.tag not in ("item", "channel"):
        node = node.getparent()
    if node is None:
        return "document"
    if node.tag == "channel":
        return "channel"
    parent = node.getparent()
    index = 1 + sum(1 for _ in node.itersiblings("item", preceding=True)) if parent is not None else 1
    return f"item {index}"


_NUMBER_IN_TITLE = tuple(
    re.compile(p)
    for p in (
        r"(?i)\b(?:episode|ep\.?|folge|e)\s*0*(\d+)\b",
        r"#\s*0*(\d+)\b",
        r"(?i)\bs\d+\s*e0*(\d+)\b",
        r"^\s*0*(\d+)\s*[:.\-–—|)]",
    )
)


def _repeats_number(title: str, number: str) -> bool:
    """True when the title spells out episode `number` ("Episode 12:", "#12", "S2E12", "12. …")."""
    if number not in title:
        return False
    return any(m[1] == number for pattern in _NUMBER_IN_TITLE for m in pattern.finditer(title))


# --- online checks ----------------------------------------------------------------------------------------

Problem = tuple[str, str]


def _reachable(url: str, timeout: float) -> tuple[list[Problem], _Response | None, _Response | None]:
    """HEAD then a 2-byte Range GET: (problems, head, range) — head is None when HEAD isn't supported."""
    head: _Response | None = _http(url, method="HEAD", timeout=timeout)
    assert head is not None
    if head.error:
        return [("PC401", f"{url} cannot be fetched: {head.error}")], None, None
    if head.status in (401, 403, 407):
        return [("PC401", f"{url} needs authentication (HTTP {head.status})")], None, None
    problems: list[Problem] = []
    if head.status in (405, 501):
        problems.append(("PC402", f"{url} answers HEAD with HTTP {head.status}"))
        head = None
    elif head.status >= 400:
        return [("PC401", f"{url} answers HTTP {head.status}")], None, None
    rng = _http(url, headers={"Range": "bytes=0-1"}, cap=64, timeout=timeout)
    if rng.error or rng.status >= 400:
        reason = rng.error or f"HTTP {rng.status}"
        if head is None:
            return [("PC401", f"{url} cannot be fetched: {reason}")], None, None
        problems.append(("PC403", f"{url} fails a 'Range: bytes=0-1' request ({reason})"))
        return problems, head, None
    if rng.status != 206:
        problems.append(("PC403", f"{url} answers 'Range: bytes=0-1' with HTTP {rng.status}, not 206"))
    return problems, head, rng


def _range_total(rng: _Response | None) -> int | None:
    if rng is None or rng.status != 206:
        return None
    m = re.match(r"bytes\s+\d+-\d+/(\d+)", rng.header("content-range"))
    return int(m[1]) if m else None


def _check_enclosure(job: _Job, timeout: float) -> list[Problem]:
    problems, head, rng = _reachable(job.url, timeout)
    if head is None and rng is None:
        return problems
    served: list[tuple[str, int]] = []
    if head is not None and head.header("content-length").isdigit():
        served.append(("Content-Length", int(head.header("content-length"))))
    total = _range_total(rng)
    if total is not None:
        served.append(("Content-Range total", total))
    if job.length and job.length.isdigit():
        wrong = [f"{name} {value}" for name, value in served if value != int(job.length)]
        if wrong:
            problems.append(
                ("PC404", f"enclosure length {job.length} but the server says {', '.join(wrong)}")
            )
    served_type = (head.media_type if head is not None else "") or (rng.media_type if rng is not None else "")
    if job.type and served_type and served_type not in SAME_TYPE.get(job.type, frozenset({job.type})):
        problems.append(
            ("PC405", f"enclosure type {job.type} but the server sends Content-Type {served_type}")
        )
    return problems


def _check_art(job: _Job, timeout: float) -> list[Problem]:
    problems, head, rng = _reachable(job.url, timeout)
    if head is None and rng is None:
        return problems
    full = _http(job.url, cap=IMAGE_FETCH_CAP, timeout=timeout)
    if full.error or full.status >= 400:
        return [*problems, ("PC401", f"{job.url} cannot be fetched: {full.error or f'HTTP {full.status}'}")]
    art = _image_problems(job.url, full)
    if job.kind == "episode-art":
        art = [("PC414", message) for _, message in art]
    return problems + art


def _image_problems(url: str, resp: _Response) -> list[Problem]:
    from PIL import Image, UnidentifiedImageError  # Pillow only for --online artwork checks

    out: list[Problem] = []
    ext = _ext(url)
    served = resp.media_type
    if served not in ("image/jpeg", "image/png"):
        out.append(
            ("PC406", f"artwork is served as '{served or 'no Content-Type'}', not image/jpeg or image/png")
        )
    elif ext in ART_TYPES and ART_TYPES[ext] != served:
        out.append(("PC406", f"a {ext} file served as {served}"))
    if resp.truncated:
        return [*out, ("PC413", f"artwork is larger than {IMAGE_FETCH_CAP // 2**20} MB; not checked further")]
    if len(resp.body) > ART_MAX_BYTES_WARN:
        out.append(("PC412", f"artwork is {len(resp.body) // 1024} KB"))
    try:
        with Image.open(io.BytesIO(resp.body)) as img:
            fmt, (w, h), mode, info = img.format, img.size, img.mode, dict(img.info)
            if w * h <= 4 * ART_MAX * ART_MAX:
                img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        return [*out, ("PC413", f"artwork cannot be decoded as an image ({type(err).__name__})")]
    real = {"JPEG": "image/jpeg", "PNG": "image/png"}.get(fmt or "")
    if real is None:
        out.append(("PC410", f"artwork is really {fmt or 'an unknown format'}, not JPEG or PNG"))
    elif ext in ART_TYPES and ART_TYPES[ext] != real:
        out.append(("PC410", f"artwork named {ext} is really {fmt}"))
    if w != h:
        out.append(("PC407", f"artwork is {w}×{h}, not square"))
    if not (ART_MIN <= w <= ART_MAX and ART_MIN <= h <= ART_MAX):
        out.append(("PC408", f"artwork is {w}×{h} px (needs 1400–3000)"))
    transparent = mode in ("RGBA", "LA", "PA") or "transparency" in info
    if mode != "RGB" or transparent:
        what = {
            "RGBA": "has an alpha channel",
            "LA": "is greyscale with alpha",
            "CMYK": "is CMYK",
            "L": "is greyscale",
            "P": "uses a palette",
            "1": "is black and white",
        }.get(mode, f"is {mode}")
        out.append(
            ("PC409", f"artwork {what}" + (" with transparency" if transparent and mode == "P" else ""))
        )
    dpi = info.get("dpi")
    if dpi and any(abs(float(d) - 72) > 0.5 for d in dpi[:2]):
        out.append(("PC411", f"artwork is {float(dpi[0]):g} dpi"))
    return out


def _check_transcript(job: _Job, timeout: float) -> list[Problem]:
    resp = _http(job.url, method="HEAD", timeout=timeout)
    if resp.status in (405, 501):
        resp = _http(job.url, cap=1, timeout=timeout)
    if resp.error or resp.status >= 400:
        return [("PC401", f"{job.url} cannot be fetched: {resp.error or f'HTTP {resp.status}'}")]
    served = resp.media_type
    if job.type and served not in SAME_TYPE.get(job.type, frozenset({job.type})):
        return [("PC415", f"transcript declared {job.type} but served as '{served or 'no Content-Type'}'")]
    return []


def _check_chapters(job: _Job, timeout: float) -> list[Problem]:
    resp = _http(job.url, cap=CHAPTERS_FETCH_CAP, timeout=timeout)
    if resp.error or resp.status >= 400:
        return [("PC401", f"{job.url} cannot be fetched: {resp.error or f'HTTP {resp.status}'}")]
    out: list[Problem] = []
    if resp.media_type not in CHAPTERS_SERVED:
        out.append(("PC416", f"chapters served as '{resp.media_type or 'no Content-Type'}'"))
    problem = "larger than 2 MB" if resp.truncated else _chapters_problem(resp.body)
    if problem:
        out.append(("PC417", f"chapters file {problem}"))
    return out


def _chapters_problem(body: bytes) -> str:
    """What is wrong with a JSON chapters document, or ""."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        return f"is not JSON ({str(err).splitlines()[0][:80]})"
    if not isinstance(doc, dict):
        return "is not a JSON object"
    if not isinstance(doc.get("version"), str):
        return "has no version string"
    chapters = doc.get("chapters")
    if not isinstance(chapters, list):
        return "has no chapters array"
    last = -1.0
    for i, chapter in enumerate(chapters, 1):
        if not isinstance(chapter, dict):
            return f"chapter {i} is not an object"
        start = chapter.get("startTime")
        if isinstance(start, bool) or not isinstance(start, int | float) or start < 0:
            return f"chapter {i} has no numeric startTime"
        if start < last:
            return f"chapter {i} starts at {start}, before the chapter above it"
        last = float(start)
        end = chapter.get("endTime")
        if end is not None and (isinstance(end, bool) or not isinstance(end, int | float) or end < start):
            return f"chapter {i} has an endTime before its startTime"
    return ""


_ONLINE: dict[str, Callable[[_Job, float], list[Problem]]] = {
    "enclosure": _check_enclosure,
    "art": _check_art,
    "episode-art": _check_art,
    "transcript": _check_transcript,
    "chapters": _check_chapters,
}


def _run_online(checker: _Checker, *, timeout: float, workers: int, reporter: Reporter) -> None:
    jobs = checker.jobs
    if not jobs:
        return
    task = reporter.task("checking media URLs", len(jobs), unit="url")
    results: list[list[Problem]] = [[] for _ in jobs]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs)))) as pool:
        futures = {pool.submit(_ONLINE[job.kind], job, timeout): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            task.advance(1)
    task.close()
    for job, problems in zip(jobs, results, strict=True):
        suffix = f" (used {job.also + 1} times)" if job.also else ""
        for rid, message in problems:
            checker.add(rid, message + suffix, job.where, job.line)


# --- cross-build checks ----------------------------------------------------------------------------------


def _cross_build(checker: _Checker, previous: bytes) -> None:
    try:
        root = etree.fromstring(previous, _parser())
    except etree.XMLSyntaxError as err:
        raise UnreadableFeed(f"the previous feed is not XML ({err.msg})", field="previous") from None
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        raise UnreadableFeed("the previous feed has no <rss><channel>", field="previous")
    prev = _Checker(frozenset(), "previous", checker.now)
    prev.channel(channel)
    prev.all_items(channel, serial=False)

    current = {info.guid: info for info in checker.items if info.guid}
    previous_guids = {info.guid for info in prev.items if info.guid}
    fresh = [info for info in checker.items if info.guid and info.guid not in previous_guids]
    for old in prev.items:
        if not old.guid:
            continue
        now = current.get(old.guid)
        if now is None:
            twin = next(
                (n for n in fresh if (old.url and n.url == old.url) or (old.title and n.title == old.title)),
                None,
            )
            if twin is not None:
                checker.add(
                    "PC502",
                    f"guid changed from '{_clip(old.guid)}' to '{_clip(twin.guid or '')}'",
                    twin.where,
                    twin.line,
                )
            else:
                checker.add(
                    "PC501",
                    f"'{_clip(old.title)}' (guid {_clip(old.guid)}) was published and is gone",
                    f"previous item (guid {_clip(old.guid, 50)})",
                    None,
                )
            continue
        if old.pubdate_text is not None and now.pubdate_text is not None:
            same = (
                old.pubdate == now.pubdate
                if old.pubdate and now.pubdate
                else old.pubdate_text == now.pubdate_text
            )
            if not same:
                checker.add(
                    "PC503",
                    f"pubDate changed from '{old.pubdate_text}' to '{now.pubdate_text}'",
                    now.where,
                    now.line,
                )
        if old.url and now.url:
            if old.url != now.url and old.length == now.length:
                checker.add(
                    "PC505",
                    f"enclosure URL changed from {old.url} to {now.url} (same size)",
                    now.where,
                    now.line,
                )
            elif old.url == now.url and old.length and now.length and old.length != now.length:
                checker.add(
                    "PC506",
                    f"{now.url} now has {now.length} bytes (was {old.length}) at the same URL",
                    now.where,
                    now.line,
                )
    if prev.podcast_guid and prev.podcast_guid != checker.podcast_guid:
        checker.add(
            "PC504",
            f"podcast:guid changed from {prev.podcast_guid} to {checker.podcast_guid or 'nothing'}",
            "channel",
            None,
        )
    if (
        prev.self_url
        and checker.self_url
        and prev.self_url != checker.self_url
        and checker.new_feed_url != checker.self_url
    ):
        checker.add(
            "PC507",
            f"the feed URL moved from {prev.self_url} to {checker.self_url} without "
            f"<itunes:new-feed-url>{checker.self_url}</itunes:new-feed-url>",
            "channel",
            None,
        )


# --- the entry point -----------------------------------------------------------------------------------


def active_rules(profiles: Iterable[str] | None) -> frozenset[str]:
    """Rule ids that apply to the given profiles (all rules when None)."""
    if profiles is None:
        return frozenset(RULES)
    wanted = set(profiles)
    unknown = wanted - PROFILES
    if unknown:
        raise PipelineError(
            f"unknown profile '{sorted(unknown)[0]}'",
            field="profile",
            hint=f"choose from {', '.join(sorted(PROFILES))}",
        )
    return frozenset(rid for rid, rule in RULES.items() if rule.profiles & wanted)


def _parse_errors(checker: _Checker, err: etree.XMLSyntaxError, parser: etree.XMLParser) -> None:
    # the parser's own log: the exception's log is lxml's per-thread log and keeps earlier documents' errors
    seen_prefixes: set[str] = set()
    seen: set[tuple[int, int, str]] = set()
    reported = 0
    entries = list(parser.error_log)
    for entry in entries:
        key = (entry.line, entry.column, entry.message)
        if key in seen:
            continue
        seen.add(key)
        m = re.match(r"Namespace prefix (\S+) (?:on|for) (\S+) is not defined", entry.message)
        if m:
            if m[1] not in seen_prefixes:
                seen_prefixes.add(m[1])
                checker.add(
                    "PC106", f"prefix '{m[1]}' (on <{m[1]}:{m[2]}>) is not declared", "document", entry.line
                )
            continue
        if reported < 20:
            reported += 1
            checker.add(
                "PC101",
                f"{entry.message.strip()} (line {entry.line}, column {entry.column})",
                "document",
                entry.line,
            )
    if not entries:
        checker.add("PC101", str(err.msg), "document", err.lineno)


def validate(
    data: bytes,
    *,
    source: str,
    profiles: Iterable[str] | None = None,
    previous: bytes | None = None,
    online: bool = False,
    timeout: float = 10.0,
    now: datetime | None = None,
    workers: int = 8,
    reporter: Reporter | None = None,
) -> Report:
    """Judge one feed's bytes against the rule catalogue and return every finding.

    `source` names the feed in findings (a path or the URL it came from). `profiles` limits the rules to
    apple/spotify/podcastindex. `previous` (the last published feed) adds the cross-build rules (PC5xx).
    `online` fetches every enclosure, artwork, transcript and chapters URL (PC4xx) on `workers` threads.
    `now` is the clock for "pubDate in the future" (default: the current time).
    Raises UnreadableFeed when the bytes can't be a feed at all (empty, not XML, an HTML page).
    """
    active = active_rules(profiles)
    _sniff(data, source)
    checker = _Checker(active, source, now or datetime.now(UTC), online=online)
    parser = _parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        _parse_errors(checker, err, parser)
        return _report(checker, items=0)
    if isinstance(root.tag, str) and etree.QName(root).localname.lower() == "html":
        raise UnreadableFeed(
            "an HTML page, not a feed",
            file=source,
            hint="point at the feed's own URL (often /feed.xml or /rss)",
        )
    channel = checker.document(root, data)
    items = 0
    if channel is not None:
        checker.channel(channel)
        itype = channel.find(_I["type"])
        checker.all_items(channel, serial=itype is not None and (itype.text or "").strip() == "serial")
        items = len(checker.items)
        checker.finish()
        if previous is not None:
            _cross_build(checker, previous)
        if online:
            _run_online(checker, timeout=timeout, workers=workers, reporter=reporter or NullReporter())
    return _report(checker, items=items)


def _report(checker: _Checker, *, items: int) -> Report:
    order = sorted(checker.findings, key=lambda f: (f.line is None, f.line or 0, f.rule, f.where, f.message))
    return Report(checker.source, tuple(order), items)


# --- output formats (return strings; the CLI prints them) ----------------------------------------------------


def _summary(report: Report) -> str:
    c = report.counts
    n = report.items
    parts = [
        f"{c['error']} error{'s' * (c['error'] != 1)}",
        f"{c['warning']} warning{'s' * (c['warning'] != 1)}",
        f"{c['info']} info",
    ]
    return f"{report.source}: {', '.join(parts)} in {n} episode{'s' * (n != 1)}"


def format_text(report: Report) -> str:
    """Findings for people: one line each (`source:line: severity ID where: message`), a fix hint, a summary."""
    lines = []
    for f in report.findings:
        at = f"{report.source}:{f.line}" if f.line else report.source
        lines.append(f"{at}: {f.severity.value} {f.rule} {f.where}: {f.message}")
        lines.append(f"    fix: {f.hint}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def format_json(report: Report) -> str:
    """Findings for machines: a stable JSON document (sorted keys, findings in report order)."""
    doc = {
        "source": report.source,
        "items": report.items,
        "counts": report.counts,
        "ok": not report.has_errors,
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "title": RULES[f.rule].title,
                "message": f.message,
                "where": f.where,
                "line": f.line,
                "hint": f.hint,
            }
            for f in report.findings
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report: Report) -> str:
    """GitHub Actions workflow commands: `::error file=…,line=…,title=PC101::message (fix: hint)`."""
    lines = []
    for f in report.findings:
        props = []
        if not _is_url(report.source):
            props.append(f"file={_gh_prop(report.source)}")
            if f.line:
                props.append(f"line={f.line}")
        props.append(f"title={_gh_prop(f.rule)}")
        lines.append(
            f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::"
            f"{_gh_data(f'{f.where}: {f.message} (fix: {f.hint})')}"
        )
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def format_rules(profiles: Iterable[str] | None = None) -> str:
    """The rule catalogue as a table (id, severity, profiles, title), for `podcast validate --rules`."""
    active = active_rules(profiles)
    lines = [f"{'rule':<6} {'severity':<8} {'profiles':<28} title"]
    for rid, rule in RULES.items():
        if rid in active:
            lines.append(
                f"{rid:<6} {rule.severity.value:<8} {','.join(sorted(rule.profiles)):<28} {rule.title}"
            )
    return "\n".join(lines) + "\n"
