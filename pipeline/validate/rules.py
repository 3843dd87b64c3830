"""The PC rule catalogue (ids, severities, profiles, hints) and the Finding/Report records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pipeline.errors import ExitCode, PipelineError


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
    _rule(
        "PC238",
        E,
        "podcastindex",
        "C23 P20",
        "podcast:value is malformed",
        "Give <podcast:value> type and method and one or more <podcast:valueRecipient type address split>; "
        "node addresses are 66 hex digits, splits whole numbers, fees at most 100 in total",
    ),
    _rule(
        "PC239",
        W,
        "podcastindex",
        "C23 P20",
        "podcast:medium is not a known medium",
        "Use one of podcast, music, video, film, audiobook, newsletter, blog, publisher, course, "
        "their L list variants, or mixed",
    ),
    _rule(
        "PC240",
        W,
        "podcastindex",
        "C23 P20",
        "podcast:license is malformed",
        "Write a lower-case license id (cc-by-4.0) of at most 128 characters; a custom license needs url",
    ),
    _rule(
        "PC241",
        W,
        "podcastindex",
        "C23 P20",
        "podcast:location is malformed",
        "Name the place (at most 128 characters); geo is geo:LAT,LON, osm N/W/R and a number, "
        "country two letters, rel subject or creator",
    ),
    _rule(
        "PC242",
        E,
        "podcastindex",
        "C23 P20",
        "podcast:trailer is malformed",
        "Give <podcast:trailer> a url, an RFC 2822 pubdate and a title of at most 128 characters; "
        "length and season are whole numbers",
    ),
    _rule(
        "PC243",
        W,
        "podcastindex",
        "C23 P20",
        "podcast:socialInteract is malformed",
        "Use a protocol from socialprotocols.txt with the uri of the root post "
        "(protocol disabled takes no uri); priority is a whole number",
    ),
    _rule(
        "PC244",
        E,
        "podcastindex",
        "C23 P20",
        "podcast:block is malformed",
        "Write yes or no, and an id only from the namespace's serviceslugs.txt (e.g. spotify)",
    ),
    _rule(
        "PC245",
        W,
        "podcastindex",
        "C23 P20",
        "podcast:images or podcast:image is malformed",
        'Write srcset as "URL WIDTHw" entries separated by commas; podcast:image needs href, width a number',
    ),
    _rule(
        "PC246",
        E,
        "podcastindex",
        "C23 P20",
        "A single-use podcast: tag appears more than once",
        "Keep one of each: guid, locked, medium, podroll, updateFrequency, license, images, value per "
        "channel or item",
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
    _rule(
        "PC508",
        E,
        "all",
        "C24 RFC 5005",
        "An archive page of the feed cannot be read",
        "Publish every page the feed's prev-archive links name, at that URL (RFC 5005)",
    ),
    _rule(
        "PC509",
        E,
        "all",
        "C24 RFC 5005",
        "The archive chain's links disagree",
        "Each archive page needs <fh:archive/>, a prev-archive link to the next older page (none on the "
        "oldest), and the same first and current links as the feed",
    ),
    _rule(
        "PC510",
        E,
        "all",
        "C24 RFC 5005",
        "An item appears in more than one document of the archive chain",
        "Put each episode in exactly one of feed.xml and its archive pages",
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
