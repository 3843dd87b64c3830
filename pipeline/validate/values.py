"""Value checks (pure, table-driven): dates, durations, languages, media types, limits, tag tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from pipeline.ids import ATOM, CONTENT, ITUNES, PODCAST, PSC


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
    return text is not None and text.strip().isdigit() and int(text) > 0


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
