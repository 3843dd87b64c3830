"""The show as code: frozen `Show` and `Episode` models, loaded and validated from show.yaml and episode.md."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
import os
import re
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, Self
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipeline import categories as cats
from pipeline import ids, images, rules
from pipeline.errors import ContentError, ContentErrors, PipelineError
from pipeline.ids import KNOWN_LICENSES, SERVICE_SLUGS
from pipeline.locate import SHOW_FILE as SHOW_FILE
from pipeline.locate import date_without_time_hint as date_without_time_hint
from pipeline.locate import enclosing_show as enclosing_show
from pipeline.locate import find_show as find_show
from pipeline.locate import parse_datetime as parse_datetime
from pipeline.safeio import read_capped

EPISODES_DIR = "episodes"
NOTES_FILE = "episode.md"

#: Audio a source recording may be in (the build encodes it to the delivery format).
AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
}
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
AUTO_TRANSCRIPT = "transcript.vtt"  # used when the front matter names no transcript
TRANSCRIPT_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip"}

MAX_NOTES_BYTES = 1_000_000  # an episode.md larger than this is a mistake, not show notes
MAX_SHOW_BYTES = 256_000
MAX_IMAGE_BYTES = 50_000_000
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
COLOR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
TIME_RE = re.compile(r"^(?:(\d{1,6}):)?(\d{1,2}):(\d{1,2}(?:\.\d{1,9})?)$")
#: The longest recording a chapter can point into (a start past the audio's end is the audio check's job).
MAX_TIMESTAMP = 1000 * 3600.0
#: Episode dates (in UTC) a feed, a page and a sitemap can all carry.
MIN_YEAR, MAX_YEAR = 1900, 9998
#: Episode and season numbers: MP4 tags hold them in 16 bits.
MAX_NUMBER = 65535
PERSON_ROLES = ("host", "co-host", "guest", "guest host", "producer", "editor", "composer", "narrator")


# --------------------------------------------------------------------------- field helpers


#: Characters a URL may not hold as written: they would break out of an HTML attribute or an XML value.
_URL_BAD_RE = re.compile(r"[\s\"'<>\\^`{|}\x00-\x1f\x7f]")
_HOST_RE = re.compile(r"^(?:[^\W_](?:[\w-]*[^\W_])?\.)*[^\W_](?:[\w-]*[^\W_])?$|^\[[0-9A-Fa-f:.]+\]$")
MAX_URL_CHARS = 2000


def _https_url(value: str) -> str:
    """An absolute http(s) URL with a host, and nothing in it that needs escaping in HTML or XML."""
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"is not a URL: it is {len(value):,} characters long (at most {MAX_URL_CHARS:,})")
    if m := _URL_BAD_RE.search(value):
        raise ValueError(
            f"{_describe(value)} is not a URL: it contains {m.group()!r} "
            "(percent-encode it, e.g. %20 for a space, or remove it)"
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in 0-65535
    except ValueError:
        raise ValueError(f"{_describe(value)} is not a valid URL (check the host and port)") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{_describe(value)} is not an http(s) URL (write https://host/...)")
    host = parts.netloc.rpartition("@")[2]
    host = host if host.startswith("[") else host.rpartition(":")[0] or host if ":" in host else host
    if not host or not _HOST_RE.match(host):
        raise ValueError(f"{_describe(value)} is not an http(s) URL: {host!r} is not a host name")
    return value


def _site_url(value: str) -> str:
    _https_url(value)
    return value if value.endswith("/") else value + "/"


def _prefix_url(value: str) -> str:
    """An enclosure prefix: a site URL whose only template is {podcast_guid} (OP3's per-show form)."""
    _https_url(value.replace("{podcast_guid}", "00000000-0000-0000-0000-000000000000"))
    return value if value.endswith("/") else value + "/"


Url = Annotated[str, AfterValidator(_https_url)]
SiteUrl = Annotated[str, AfterValidator(_site_url)]
PrefixUrl = Annotated[str, AfterValidator(_prefix_url)]
Text = Annotated[str, Field(min_length=1)]


def _file(info: ValidationInfo, value: Any, kinds: Mapping[str, str], what: str) -> Path:
    """Resolve a path written in a file relative to that file's folder; it must exist with a known type."""
    base: Path = (info.context or {}).get("base", Path.cwd())
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError(f"expected a file name for the {what}")
    raw = Path(str(value))
    if raw.is_absolute() or ".." in raw.parts:
        raise ValueError(f"{str(value)!r} must be a file inside the folder (no absolute paths or '..')")
    path = base / raw
    if path.suffix.lower() not in kinds:
        raise ValueError(
            f"{str(value)!r} is not a supported {what} type (expected {', '.join(sorted(kinds))})"
        )
    root: Path = (info.context or {}).get("root", base)
    problem = source_file_problem(path, root)
    if problem == "not found":
        present = sorted(p.name for p in base.glob("*") if p.is_file() and p.suffix.lower() in kinds)
        fix = f" (this folder has {', '.join(map(repr, present))})" if present else ""
        raise ValueError(f"{what} file {str(value)!r} not found{fix}")
    if problem:
        raise ValueError(f"{what} file {str(value)!r} {problem}")
    touched = (info.context or {}).get("touched")
    if touched is not None:  # loading keeps the stat of every file a validated episode was judged on
        touched.append(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{what} file {str(value)!r} is empty")
    if what == "image":
        try:
            data = read_capped(path, MAX_IMAGE_BYTES)
        except (OSError, ValueError) as err:
            raise ValueError(f"image file {str(value)!r} {getattr(err, 'strerror', None) or err}") from None
        if why := images.decode_problem(data):
            raise ValueError(f"{str(value)!r} {why}")
    return path


def source_file_problem(path: Path, root: Path) -> str | None:
    """Why a file the show names cannot be read as one of its sources, or None when it can.

    The one rule for every referenced file (artwork, audio, transcript, images, episode.md): it is a
    regular file (a FIFO or a device would hang or never end) and, with every symlink followed, it
    resolves inside the show folder, so a link cannot publish or echo a file from elsewhere.
    """
    try:
        st = path.stat()
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return "not found"
    except (OSError, RuntimeError) as err:
        return f"cannot be read ({getattr(err, 'strerror', None) or err})"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a folder, FIFO or device cannot be a source)"
    if not real.is_relative_to(root.resolve()):
        return "resolves outside the show folder (copy the file into the folder instead of linking to it)"
    return None


def parse_timestamp(value: str | int | float) -> float:
    """'01:02:03.5', '02:03' or seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a time like 00:01:30")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_TIMESTAMP:
            raise ValueError(
                f"{value!r} is not a time (write HH:MM:SS, at most {MAX_TIMESTAMP / 3600:g} hours)"
            )
        return seconds
    m = TIME_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"{value!r} is not a time (write HH:MM:SS or MM:SS)")
    hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{value!r} is not a time (minutes and seconds must be under 60)")
    return parse_timestamp(hours * 3600 + minutes * 60 + seconds)


def format_timestamp(seconds: float) -> str:
    """Seconds -> 'HH:MM:SS' (with milliseconds only when there are some)."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}" + (f".{ms:03d}" if ms else "")


#: Code points XML 1.0 cannot carry (C0 controls but tab/newline/CR, surrogates, U+FFFE, U+FFFF), plus DEL.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class _Frozen(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=True, use_attribute_docstrings=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, v: Any) -> Any:
        # XML 1.0 (the feed) cannot carry them, and no editor puts them there on purpose.
        if isinstance(v, str) and (m := _CONTROL_RE.search(v)):
            kind = "control character" if ord(m.group()) < 0x80 else "character"
            raise ValueError(
                f"contains the {kind} U+{ord(m.group()):04X} at position {m.start() + 1} (delete it)"
            )
        return v

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of this value's JSON dump (every field, so a new one is in it with nobody listing it), worked
        out once per object: the feed's item keys read each episode's on every render, 10,000 for a big show."""
        return hashlib.sha256(self.__pydantic_serializer__.to_json(self)).hexdigest()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's copy, less the original's fingerprint (pydantic copies `__dict__`, where it is kept,
        and a copy with `update` is another value)."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("fingerprint", None)
        return copy


# --------------------------------------------------------------------------- the show


class Owner(_Frozen):
    name: Text
    """The person or company that owns the show (itunes:owner)."""
    email: str
    """Contact address directories use to verify ownership."""

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not EMAIL_RE.match(v):
            raise ValueError(f"{v!r} is not an email address")
        return v


class Category(_Frozen):
    top: str
    sub: str | None = None

    def __str__(self) -> str:
        return f"{self.top} > {self.sub}" if self.sub else self.top


class Link(_Frozen):
    label: Text
    """Link text."""
    url: Url
    """An http(s) URL."""


class Host(_Frozen):
    name: Text
    """The host's name, shown on every page."""
    bio: str = ""
    """A short biography in Markdown."""
    photo: Path | None = None
    """A JPEG or PNG portrait, relative to show.yaml."""
    links: tuple[Link, ...] = ()
    """Links to the host's site or profiles."""

    @field_validator("photo", mode="before")
    @classmethod
    def _photo(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _file(info, v, IMAGE_TYPES, "image")


class CallToAction(_Frozen):
    text: Text
    """A sentence or two in Markdown."""
    url: Url
    """Where the button goes."""
    label: Text = "Learn more"
    """The button's text."""


class Funding(_Frozen):
    url: Url
    """The support page."""
    text: Annotated[str, Field(min_length=1, max_length=128)] = "Support the show"
    """Link text (at most 128 characters)."""


class Person(_Frozen):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    """The person's name."""
    role: str = "guest"
    """One of: host, co-host, guest, guest host, producer, editor, composer, narrator."""
    group: str = "cast"
    """podcast:person group (taxonomy), usually cast."""
    href: Url | None = None
    """A page about the person."""
    img: Url | None = None
    """A picture of the person (URL)."""

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("role")
    @classmethod
    def _role(cls, v: str) -> str:
        if v.lower() not in PERSON_ROLES:
            raise ValueError(f"{v!r} is not a role (expected one of {', '.join(PERSON_ROLES)})")
        return v.lower()


class Theme(_Frozen):
    color: str = "#b4381f"
    """Accent colour for the site, as CSS hex (#rrggbb)."""
    logo: Path | None = None
    """A small logo image shown in the site header, relative to show.yaml."""

    @field_validator("color")
    @classmethod
    def _color(cls, v: str) -> str:
        if not COLOR_RE.match(v):
            raise ValueError(f"{v!r} is not a hex colour like #b4381f")
        return v.lower()

    @field_validator("logo", mode="before")
    @classmethod
    def _logo(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _file(info, v, IMAGE_TYPES, "image")


class Alternate(_Frozen):
    format: Literal["opus", "m4a", "mp3", "flac"]
    """opus (Ogg Opus), m4a (AAC), mp3, or flac (lossless, for archives)."""
    bitrate: Annotated[int, Field(ge=6, le=320, strict=True)] | None = None
    """kbps (not for flac); default: 32 for opus mono, 64 for AAC, the main file's for mp3."""
    channels: Literal[1, 2] | None = None
    """1 or 2; default: the main file's."""
    title: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    """What apps call it, e.g. "Low data" (at most 32 characters)."""
    default: bool = False
    """Apps that understand alternates should play this one by default."""

    @model_validator(mode="after")
    def _lossless(self) -> Alternate:
        if self.format == "flac" and self.bitrate is not None:
            raise ValueError("flac is lossless and takes no bitrate (remove bitrate)")
        return self


class AudioSettings(_Frozen):
    format: Literal["mp3", "m4a"] = "mp3"
    """Delivery format: MP3 (default) or AAC in M4A."""
    bitrate: Annotated[int, Field(ge=32, le=320, strict=True)] | None = None
    """kbps; default 128 for stereo, 96 for mono."""
    channels: Literal[1, 2] | None = None
    """1 or 2; default: keep the source's."""
    sample_rate: Literal[44100, 48000] = 44100
    """Hz."""
    loudness: Annotated[float, Field(ge=-30, le=-10)] | None = None
    """Integrated loudness target in LUFS; `podcast init` writes -16 (Apple's target, mono or stereo alike). Unset means no normalisation."""
    true_peak: Annotated[float, Field(ge=-9, le=0)] = -1.0
    """True-peak ceiling in dBTP when normalising."""
    id3_version: Literal[3, 4] = 4
    """ID3v2.4 (default) or 2.3 for old players."""
    alternates: tuple[Alternate, ...] = ()
    """Extra encodings offered beside the main file (podcast:alternateEnclosure): format, bitrate, channels, title, default."""

    @field_validator("alternates")
    @classmethod
    def _alternates(cls, v: tuple[Alternate, ...]) -> tuple[Alternate, ...]:
        if sum(a.default for a in v) > 1:
            raise ValueError("more than one alternate says default: true (apps play one default)")
        seen: set[tuple[str, int | None, int | None]] = set()
        for i, a in enumerate(v):
            key = (a.format, a.bitrate, a.channels)
            if key in seen:
                raise ValueError(
                    f"alternate {i + 1} repeats an earlier one ({a.format} {a.bitrate or ''} kbps)"
                )
            seen.add(key)
        return v


bucket_name_problem = rules.bucket_name_problem  # re-exported: the one S3 bucket-name rule


class PublishTarget(_Frozen):
    target: Literal["local", "s3"] = "local"
    """Where `podcast publish` puts the site: a local folder or S3-compatible storage."""
    path: Path | None = None
    """Local target folder, relative to show.yaml (default public/)."""
    bucket: str | None = None
    """Bucket name (target s3)."""
    prefix: str = ""
    """Key prefix inside the bucket, e.g. "podcast/"."""
    region: str | None = None
    """Bucket region (e.g. us-east-1, or auto for R2)."""
    endpoint_url: Url | None = None
    """For R2, B2, MinIO, SeaweedFS...; unset for AWS S3."""
    profile: str | None = None
    """AWS profile name; credentials always come from the standard AWS chain, never from this file."""
    public_base_url: SiteUrl | None = None
    """The URL the target's objects are served from; defaults to the show's url."""
    public_read: bool = True
    """Listeners fetch objects without credentials: publish checks one anonymously before the feed goes
    up, and --create-bucket gives a new bucket a public-read policy. false for a CDN that reads the
    bucket privately (no anonymous check, no policy)."""
    enclosure_prefix: PrefixUrl | None = None
    """An analytics prefix put in front of every enclosure URL (without its https://), e.g.
    https://op3.dev/e,pg={podcast_guid}/ or https://dts.podtrac.com/redirect.mp3/."""

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, v: Any, info: ValidationInfo) -> Path | None:
        if v is None:
            return None
        base: Path = (info.context or {}).get("base", Path.cwd())
        return base / str(v)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str | None) -> str | None:
        if v is not None and (why := bucket_name_problem(v)):
            raise ValueError(f"{_describe(v)} is not a valid bucket name: {why}")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        v = v.strip("/")
        if v and not re.match(r"^[A-Za-z0-9._/-]+$", v):
            raise ValueError(f"{v!r} may only use ASCII letters, digits, '.', '_', '-' and '/'")
        return v + "/" if v else ""

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> PublishTarget:
        if self.target == "s3" and not self.bucket:
            raise ValueError("target s3 needs a bucket")
        return self


# --------------------------------------------------------------------------- Podcasting 2.0 (issue 13)

Medium = ids.Medium  # the one list: pipeline/ids.py (the validator checks feeds against it too)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NODE_PUBKEY_RE = re.compile(r"^(02|03)[0-9a-f]{64}$")
GEO_RE = re.compile(r"^geo:-?\d{1,2}(\.\d+)?,-?\d{1,3}(\.\d+)?(,-?\d+(\.\d+)?)?(;[a-z0-9=.-]+)*$", re.I)
OSM_RE = re.compile(r"^[NWR]\d+(#\d+)?$")
RRULE_RE = re.compile(
    r"^(?:[A-Z]+=[A-Za-z0-9,+-:]+;)*FREQ=(?:SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)(?:;[A-Z]+=[A-Za-z0-9,+-:]+)*$"
)
Short = Annotated[str, Field(min_length=1, max_length=128)]


def _aware(v: Any, example: str = "2025-01-01T09:00:00+00:00") -> Any:
    """A date-time with a time zone (strings in ISO 8601); a naive value is a ValueError."""
    if isinstance(v, str):
        try:
            v = dt.datetime.fromisoformat(v.strip())
        except ValueError:
            raise ValueError(f"{v!r} is not a date and time (write {example})") from None
    if isinstance(v, dt.datetime) and v.tzinfo is None:
        raise ValueError(f"'{v}' has no time zone (write {example})")
    return v


class Txt(_Frozen):
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    """Free text (podcast:txt), at most 4000 characters, e.g. Apple's verification code."""
    purpose: Short | None = None
    """What the text is for, e.g. applepodcastsverify, verify, ai-content."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, v: Any) -> Any:
        return {"text": v} if isinstance(v, str) else v


class ValueRecipient(_Frozen):
    name: Short | None = None
    """Who receives this split (shown in apps)."""
    type: Literal["node", "lnaddress"] = "node"
    """node (a Lightning node public key) or lnaddress (a Lightning address like name@wallet.example)."""
    address: Text
    """The node's hex public key, or the Lightning address."""
    split: Annotated[int, Field(ge=0, strict=True)]
    """Shares of each payment (fee recipients: a percentage taken off the top)."""
    custom_key: str | None = None
    """Custom record key sent with the payment (e.g. 696969 for a wallet's sub-account)."""
    custom_value: str | None = None
    """Custom record value for custom_key."""
    fee: bool = False
    """A fee (e.g. the app's or host's cut) rather than a share."""

    @model_validator(mode="after")
    def _address(self) -> ValueRecipient:
        if self.type == "node" and not NODE_PUBKEY_RE.match(self.address):
            raise ValueError(
                f"address {_short(self.address)!r} is not a Lightning node public key "
                "(66 hex digits starting 02 or 03; for an address like name@wallet.example set type: lnaddress)"
            )
        if self.type == "lnaddress" and not EMAIL_RE.match(self.address):
            raise ValueError(
                f"address {_short(self.address)!r} is not a Lightning address (name@wallet.example)"
            )
        if (self.custom_key is None) != (self.custom_value is None):
            raise ValueError("custom_key and custom_value go together (set both or neither)")
        if self.fee and self.split > 100:
            raise ValueError(f"a fee split is a percentage, got {self.split} (at most 100)")
        return self


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "..."


class Value(_Frozen):
    type: Literal["lightning", "hive", "webmonetization"] = "lightning"
    """The payment layer (podcast:value type)."""
    method: Literal["keysend", "amp", "lnaddress", "ILP"] = "keysend"
    """How payments travel (keysend for Lightning)."""
    suggested: Annotated[float, Field(gt=0)] | None = None
    """Suggested amount per minute, in the currency's main unit (e.g. 0.00000005 BTC)."""
    recipients: Annotated[tuple[ValueRecipient, ...], Field(min_length=1)]
    """Who gets paid: name, type (node/lnaddress), address, split, custom_key, custom_value, fee."""

    @model_validator(mode="after")
    def _splits(self) -> Value:
        if not any(r.split > 0 for r in self.recipients if not r.fee):
            raise ValueError("the splits of the non-fee recipients add up to 0 (give someone a share)")
        fees = sum(r.split for r in self.recipients if r.fee)
        if fees > 100:
            raise ValueError(f"fee splits add up to {fees}% (at most 100)")
        return self


class RemoteFeed(_Frozen):
    feed_guid: str
    """The recommended show's podcast:guid (find it on podcastindex.org)."""
    feed_url: Url | None = None
    """Its feed URL, for apps that cannot look the GUID up."""
    title: Short | None = None
    """Its title, shown under "Shows we like" and by apps."""

    @field_validator("feed_guid")
    @classmethod
    def _guid(cls, v: str) -> str:
        if not UUID_RE.match(v.lower()):
            raise ValueError(
                f"{v!r} is not a podcast:guid (a UUID like 917393e3-1b1e-5cef-ace4-edaa54e1f810)"
            )
        return v.lower()


class License(_Frozen):
    identifier: Short
    """An SPDX-style license id in lower case (cc-by-4.0), or a custom license's short name."""
    url: Url | None = None
    """The license text; required for a license that is not well known."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, v: Any) -> Any:
        return {"identifier": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _known(self) -> License:
        if self.identifier.lower() not in KNOWN_LICENSES and self.url is None:
            raise ValueError(
                f"{self.identifier!r} is not a well-known license id (add url: pointing at its text, "
                "or use an id like cc-by-4.0)"
            )
        return self


class Location(_Frozen):
    name: Short
    """A human-readable place, e.g. "Bristol, UK"."""
    geo: str | None = None
    """Latitude and longitude as a geo URI (RFC 5870): geo:51.4545,-2.5879."""
    osm: str | None = None
    """OpenStreetMap id: N, W or R then the number (R5746665)."""
    country: str | None = None
    """ISO 3166-1 alpha-2 country code (GB, US)."""
    rel: Literal["subject", "creator"] | None = None
    """subject (what the show is about, the default) or creator (where it is made)."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("geo")
    @classmethod
    def _geo(cls, v: str | None) -> str | None:
        if v is not None and not GEO_RE.match(v):
            raise ValueError(
                f"{v!r} is not a geo URI (write geo:LATITUDE,LONGITUDE, e.g. geo:51.4545,-2.5879)"
            )
        return v

    @field_validator("osm")
    @classmethod
    def _osm(cls, v: str | None) -> str | None:
        if v is not None and not OSM_RE.match(v):
            raise ValueError(f"{v!r} is not an OpenStreetMap id (N, W or R and the number, e.g. R5746665)")
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z]{2}", v):
            raise ValueError(f"{v!r} is not a two-letter country code (e.g. GB)")
        return v.upper() if v else v


class Trailer(_Frozen):
    title: Short
    """The trailer's title."""
    url: Url
    """The trailer's audio or video file."""
    date: dt.datetime
    """When it was published, with a time zone."""
    length: Annotated[int, Field(ge=1, strict=True)] | None = None
    """Its size in bytes."""
    type: str | None = None
    """Its MIME type, e.g. audio/mpeg."""
    season: Annotated[int, Field(ge=1, strict=True)] | None = None
    """The season it introduces."""

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        return _aware(v)


class UpdateFrequency(_Frozen):
    text: Short
    """How often new episodes come, in words: "Every Tuesday"."""
    rrule: str | None = None
    """The schedule as an iCalendar RRULE (RFC 5545), e.g. FREQ=WEEKLY;BYDAY=TU."""
    complete: bool = False
    """True when no more episodes are planned."""
    dtstart: dt.datetime | None = None
    """When the schedule starts (needed with COUNT in the rrule)."""

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, v: str | None) -> str | None:
        if v is not None and not RRULE_RE.match(v.upper()):
            raise ValueError(f"{v!r} is not an RRULE (write e.g. FREQ=WEEKLY;BYDAY=TU)")
        return v.upper() if v else v

    @field_validator("dtstart", mode="before")
    @classmethod
    def _dtstart(cls, v: Any) -> Any:
        return _aware(v)

    @model_validator(mode="after")
    def _count(self) -> UpdateFrequency:
        if self.rrule and "COUNT=" in self.rrule and self.dtstart is None:
            raise ValueError("an rrule with COUNT needs dtstart (when the count begins)")
        return self


class SocialInteract(_Frozen):
    protocol: Literal["activitypub", "twitter", "lightning", "atproto", "hive", "matrix", "nostr", "disabled"]
    """Where the comments live (disabled: no public comments wanted)."""
    uri: str | None = None
    """The root post of the discussion (required unless protocol is disabled)."""
    account_id: str | None = None
    """The account that made the root post, e.g. @maya@podcastindex.social."""
    account_url: Url | None = None
    """That account's public page."""
    priority: Annotated[int, Field(ge=1, strict=True)] | None = None
    """Lower numbers are shown first when there are several."""

    @model_validator(mode="after")
    def _uri(self) -> SocialInteract:
        if self.protocol != "disabled" and not self.uri:
            raise ValueError(f"protocol {self.protocol} needs the uri of the root post")
        if self.protocol == "disabled" and (self.uri or self.account_id or self.account_url):
            raise ValueError("protocol disabled takes no uri or account (it only says: no comments)")
        return self


class Soundbite(_Frozen):
    start: float
    """Where the clip starts: HH:MM:SS or seconds."""
    duration: Annotated[float, Field(gt=0)]
    """Its length in seconds (15-120 recommended), or MM:SS."""
    title: Short | None = None
    """What is said in it (at most 128 characters)."""

    @field_validator("start", "duration", mode="before")
    @classmethod
    def _time(cls, v: Any) -> float:
        return parse_timestamp(v)


def _block(v: Any) -> Any:
    if isinstance(v, list | tuple):
        for slug in v:
            if str(slug).lower() not in SERVICE_SLUGS:
                guess = difflib.get_close_matches(str(slug).lower(), sorted(SERVICE_SLUGS), n=1)
                hint = f"did you mean {guess[0]!r}?" if guess else "see the namespace's serviceslugs.txt"
                raise ValueError(f"{str(slug)!r} is not a platform slug ({hint})")
        return tuple(str(s).lower() for s in v)
    return v


def _one_slug(v: Any) -> Any:
    """`block: spotify` means the list [spotify]."""
    return [v] if isinstance(v, str) and v.strip().lower() not in ("true", "false", "yes", "no") else v


Block = Annotated[bool | tuple[str, ...], BeforeValidator(_one_slug), AfterValidator(_block)]


class FeedSettings(_Frozen):
    archive_after: Annotated[int, Field(ge=1, strict=True)] | None = None
    """Page the feed (RFC 5005): archive pages of N items counted from the oldest; feed.xml keeps the newest N to 2N-1."""


PODPING_HUB = "https://api.podcastindex.org/api/1.0/hub/pubnotify"


class Notify(_Frozen):
    podping: bool = False
    """After a publish that changed the feed, tell Podping (through the Podcast Index hub) at once."""
    podping_hub: Url = PODPING_HUB
    """The Podcast Index `pubnotify` endpoint (GET ?url=FEED_URL); only tests point it elsewhere."""
    websub: tuple[Url, ...] = ()
    """WebSub hubs to ping (POST hub.mode=publish); the feed names each as <atom:link rel="hub">."""


class BuildSettings(_Frozen):
    remote_cache: bool = False
    """Keep encoded and tagged media in the publish target's bucket too (under cache_prefix), so shard builds
    (`podcast build --shard K/N`) on other machines and later builds reuse them (target s3 only)."""
    cache_prefix: str = "podcast-cache/"
    """Where in the bucket the shared cache lives (keys are content hashes of inputs and tool versions)."""

    @field_validator("cache_prefix")
    @classmethod
    def _cache_prefix(cls, v: str) -> str:
        v = v.strip("/")
        if not v or not re.match(r"^[A-Za-z0-9._/-]+$", v):
            raise ValueError(f"{v!r} must be non-empty ASCII letters, digits, '.', '_', '-' and '/'")
        return v + "/"


class Show(_Frozen):
    root: Path
    title: Annotated[str, Field(min_length=1, max_length=255)]
    """The show's name."""
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    """What the show is about (plain text or light Markdown; up to 4000 characters)."""
    author: Text
    """Shown as the show's author in apps (itunes:author)."""
    owner: Owner
    """name and email (itunes:owner)."""
    language: str
    """ISO 639 code, optionally with region: en, en-US, de."""
    categories: Annotated[tuple[Category, ...], Field(min_length=1, max_length=3)]
    """Apple categories, "Top" or "Top > Sub" (2019 list)."""
    explicit: bool = False
    """Whether the show contains explicit content (itunes:explicit true/false)."""
    type: Literal["episodic", "serial"] = "episodic"
    """episodic (newest first) or serial (in order; every episode needs a number)."""
    artwork: Path
    """Square JPEG or PNG, 1400-3000 px, relative to show.yaml."""
    url: SiteUrl
    """The show's website (where pages and the feed are served)."""
    copyright: str | None = None
    """Copyright line for the feed, e.g. "2025 Your Name, CC BY 4.0"."""
    guid: str | None = None
    """The pinned podcast:guid; `podcast check` prints the value to pin."""
    locked: bool = True
    """podcast:locked: other hosts may not import the feed."""
    host: Host | None = None
    """The host shown on every episode page: name, bio, photo, links."""
    call_to_action: CallToAction | None = None
    """A call-to-action block on every episode page: text, url, label."""
    funding: tuple[Funding, ...] = ()
    """Support links (podcast:funding and on the pages): url, text."""
    subscribe: tuple[Link, ...] = ()
    """Directory links (Apple Podcasts, Spotify, ...) shown on every page."""
    persons: tuple[Person, ...] = ()
    """podcast:person entries for the whole show: name, role, group, href, img."""
    theme: Theme = Theme()
    """Site colour and logo."""
    page_size: Annotated[int, Field(ge=1, le=500, strict=True)] = 20
    """Episodes per index page."""
    audio: AudioSettings = AudioSettings()
    """Delivery format and loudness for the built audio."""
    publish: PublishTarget = PublishTarget()
    """Where `podcast publish` sends the built site."""
    build: BuildSettings = BuildSettings()
    """How the build works: `remote_cache` shares encoded media through the publish bucket."""
    moved_from: Url | None = None
    """The feed URL at the host this show was imported from (`podcast import` writes it)."""
    new_feed_url: Url | None = None
    """When the show moves away: the new feed's URL, carried as itunes:new-feed-url so apps follow."""
    # Podcasting 2.0 (issue 13)
    txt: tuple[Txt, ...] = ()
    """podcast:txt entries: text, purpose (e.g. applepodcastsverify)."""
    value: Value | None = None
    """podcast:value: Lightning payments split between recipients (episodes may override it)."""
    podroll: tuple[RemoteFeed, ...] = ()
    """Shows you recommend (podcast:podroll, "Shows we like" on the site): feed_guid, feed_url, title."""
    medium: Medium | None = None
    """podcast:medium: podcast, music, video, film, audiobook, newsletter, blog, course, ..."""
    license: License | None = None
    """podcast:license: an id like cc-by-4.0, or {identifier, url}."""
    location: Location | None = None
    """podcast:location: name, geo, osm, country, rel."""
    trailer: tuple[Trailer, ...] = ()
    """podcast:trailer entries beyond the show's trailer-type episodes (which are listed automatically)."""
    update_frequency: UpdateFrequency | None = None
    """podcast:updateFrequency: text, rrule, complete, dtstart."""
    social_interact: tuple[SocialInteract, ...] = ()
    """podcast:socialInteract for the show: protocol, uri, account_id, account_url, priority."""
    block: Block = False
    """podcast:block: true hides the show from every platform, or a list of platform slugs to hide it from."""
    feed: FeedSettings = FeedSettings()
    """Feed layout: archive_after pages a big catalogue into RFC 5005 archives."""
    notify: Notify = Notify()
    """Who hears about a new feed at once: podping (true/false) and websub (hub URLs). Off by default."""

    @field_validator("language")
    @classmethod
    def _language(cls, v: str) -> str:
        if not LANG_RE.match(v):
            raise ValueError(f"{v!r} is not a language code (write e.g. en or en-US)")
        return v

    @field_validator("categories", mode="before")
    @classmethod
    def _categories(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list | tuple):
            return v
        out: list[Any] = []
        problems: list[str] = []
        for i, item in enumerate(v):
            if not isinstance(item, str):
                out.append(item)
                continue
            top, _, sub = (part.strip() for part in item.partition(">"))
            if top not in cats.APPLE_CATEGORIES:
                legacy, repl = cats.legacy_replacement(top, sub or None)
                guess = repl if legacy else cats.suggest_path(top, sub or None)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                problems.append(f"[{i}] {top!r} is not an Apple category{hint}")
            elif sub and sub not in cats.APPLE_CATEGORIES[top]:
                guess = cats.suggest_path(top, sub)
                hint = f" (did you mean {guess!r}?)" if guess else ""
                problems.append(f"[{i}] {sub!r} is not a subcategory of {top!r}{hint}")
            out.append({"top": top, "sub": sub or None})
        if problems:
            raise ValueError("; ".join(problems))
        return out

    @field_validator("artwork", mode="before")
    @classmethod
    def _artwork(cls, v: Any, info: ValidationInfo) -> Path:
        return _file(info, v, IMAGE_TYPES, "image")

    @field_validator("guid")
    @classmethod
    def _guid(cls, v: str | None) -> str | None:
        if v is not None and not re.match(
            r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", v
        ):
            raise ValueError(f"{v!r} is not a UUID")
        return v

    @property
    def base_url(self) -> str:
        """Every public URL starts here: the target's public URL, or the show's site."""
        return self.publish.public_base_url or self.url

    @property
    def feed_url(self) -> str:
        return self.base_url + "feed.xml"

    @property
    def publish_dir(self) -> Path:
        """The local publish folder (default public/ next to show.yaml)."""
        return self.publish.path or self.root / "public"


# --------------------------------------------------------------------------- episodes


class Chapter(_Frozen):
    start: float
    """HH:MM:SS (or seconds) from the start of the audio."""
    title: Annotated[str, Field(min_length=1, max_length=255)]
    """The chapter's title."""
    url: Url | None = None
    """A link shown with the chapter."""
    image: Path | None = None
    """Chapter artwork (JPEG/PNG in the episode folder)."""

    @model_validator(mode="before")
    @classmethod
    def _from_line(cls, v: Any) -> Any:
        if isinstance(v, str):
            stamp, _, title = v.strip().partition(" ")
            return {"start": stamp, "title": title}
        return v

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, v: Any) -> float:
        return parse_timestamp(v)

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _file(info, v, IMAGE_TYPES, "image")


Status = Literal["draft", "scheduled", "ready"]


class Episode(_Frozen):
    slug: str
    dir: Path
    source: Path
    notes: str = ""
    title: Annotated[str, Field(min_length=1, max_length=255)]
    """The episode's title, without the episode number."""
    date: dt.datetime
    """Publication time with a time zone: 2024-05-01T09:00:00+01:00. A future date schedules the episode."""
    audio: Path | None = None
    """The source recording in this folder: .wav, .flac, .aiff, .m4a or .mp3 (a draft may leave it out)."""
    number: Annotated[int, Field(ge=1, le=MAX_NUMBER, strict=True)] | None = None
    """Episode number (itunes:episode)."""
    season: Annotated[int, Field(ge=1, le=MAX_NUMBER, strict=True)] | None = None
    """Season number (itunes:season)."""
    type: Literal["full", "trailer", "bonus"] = "full"
    """Episode type for apps: full, trailer or bonus."""
    explicit: bool | None = None
    """Overrides the show's explicit flag for this episode."""
    summary: Annotated[str, Field(max_length=4000)] | None = None
    """A short plain-text summary; defaults to the notes' first paragraph."""
    image: Path | None = None
    """Episode artwork (JPEG/PNG); defaults to the show's."""
    chapters: tuple[Chapter, ...] = ()
    """List of "HH:MM:SS Title" lines, or {start, title, url, image} mappings."""
    transcript: Path | None = None
    """A .vtt or .srt file in this folder; default: transcript.vtt when the folder has one."""
    persons: tuple[Person, ...] = ()
    """Guests and crew: names, or {name, role, href, img}."""
    video: Url | None = None
    """A YouTube or Vimeo URL embedded on the episode page (other URLs become a link)."""
    draft: bool = False
    """Drafts are never built into the feed or the site."""
    guid: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    """Only to keep a GUID imported from another host; never change it once published."""
    audio_url: Url | None = None
    """Instead of `audio:`: the enclosure still at the old host (an imported episode), kept byte for byte."""
    audio_length: Annotated[int, Field(ge=0, strict=True)] | None = None
    """With `audio_url:`: the enclosure's size in bytes, as the old feed gave it."""
    audio_type: Annotated[str, Field(pattern=r"^(audio|video)/[A-Za-z0-9.+-]+$")] | None = None
    """With `audio_url:`: the enclosure's MIME type, e.g. audio/mpeg."""
    audio_duration: Annotated[float, Field(ge=0)] | None = None
    """With `audio_url:`: the duration (HH:MM:SS or seconds), as itunes:duration gave it."""
    # Podcasting 2.0 (issue 13)
    season_name: Short | None = None
    """The season's name (podcast:season name), e.g. "Knees"; needs season."""
    episode_display: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    """How apps show the number (podcast:episode display), e.g. "Part 1"; needs number."""
    value: Value | None = None
    """podcast:value for this episode (e.g. a split with the guest); replaces the show's."""
    funding: tuple[Funding, ...] = ()
    """podcast:funding for this episode: url, text."""
    soundbites: tuple[Soundbite, ...] = ()
    """Highlights (podcast:soundbite): start, duration, title."""
    txt: tuple[Txt, ...] = ()
    """podcast:txt entries for this episode: text, purpose."""
    license: License | None = None
    """podcast:license of this episode, if it differs from the show's."""
    location: Location | None = None
    """podcast:location of this episode: name, geo, osm, country, rel."""
    social_interact: tuple[SocialInteract, ...] = ()
    """Where this episode's comments live (podcast:socialInteract)."""

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        if isinstance(v, bool | int | float):
            raise ValueError(f"{v!r} is not a date and time (write 2024-05-01T09:00:00+01:00)")
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            raise ValueError(f"'{v}' has no time and time zone (write {v}T09:00:00+00:00)")
        if isinstance(v, str):
            if (hint := date_without_time_hint(v)) is not None:
                raise ValueError(hint)
            try:
                v = dt.datetime.fromisoformat(v.strip())
            except ValueError:
                raise ValueError(f"{v!r} is not a date and time (write 2024-05-01T09:00:00+01:00)") from None
        if isinstance(v, dt.datetime) and v.tzinfo is None:
            raise ValueError(
                f"'{v.isoformat(sep=' ')}' has no time zone (write {v.isoformat(timespec='seconds')}+00:00)"
            )
        if isinstance(v, dt.datetime):
            try:
                utc = v.astimezone(dt.UTC)  # feeds, pages and the schedule all work in UTC
            except (OverflowError, ValueError):
                utc = None
            if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
                raise ValueError(
                    f"'{v.isoformat()}' is out of range (a date between {MIN_YEAR} and {MAX_YEAR}, in UTC)"
                )
        return v

    @field_validator("audio", mode="before")
    @classmethod
    def _audio(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _file(info, v, AUDIO_TYPES, "audio")

    @field_validator("audio_duration", mode="before")
    @classmethod
    def _audio_duration(cls, v: Any) -> float | None:
        return None if v is None else parse_timestamp(v)

    @model_validator(mode="after")
    def _audio_unless_draft(self) -> Episode:
        if self.audio is not None and self.audio_url is not None:
            raise ValueError(
                "audio: and audio_url: are both set (keep audio: once the recording is in this folder)"
            )
        if self.audio_url is None:
            extra = [
                k for k in ("audio_length", "audio_type", "audio_duration") if getattr(self, k) is not None
            ]
            if extra:
                raise ValueError(f"{extra[0]}: only goes with audio_url: (delete it, or add audio_url:)")
        elif self.audio_length is None or self.audio_type is None:
            raise ValueError(
                "audio_url: needs audio_length: and audio_type: (the enclosure's bytes and MIME type)"
            )
        if self.audio is None and self.audio_url is None and not self.draft:
            raise ValueError(
                "audio: is required unless the episode is a draft (name the recording in this folder)"
            )
        return self

    @field_validator("image", mode="before")
    @classmethod
    def _image(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _file(info, v, IMAGE_TYPES, "image")

    @field_validator("transcript", mode="before")
    @classmethod
    def _transcript(cls, v: Any, info: ValidationInfo) -> Path | None:
        return None if v is None else _file(info, v, TRANSCRIPT_TYPES, "transcript")

    @field_validator("chapters")
    @classmethod
    def _chapters(cls, v: tuple[Chapter, ...]) -> tuple[Chapter, ...]:
        if v and v[0].start != 0:
            raise ValueError("the first chapter must start at 00:00:00")
        for i in range(1, len(v)):
            if v[i].start <= v[i - 1].start:
                raise ValueError(f"chapter {i + 1} ({v[i].title!r}) does not start after chapter {i}")
        return v

    @model_validator(mode="after")
    def _p20_needs(self) -> Episode:
        if self.season_name is not None and self.season is None:
            raise ValueError("season_name: needs season (the number it names)")
        if self.episode_display is not None and self.number is None:
            raise ValueError("episode_display: needs number (podcast:episode carries both)")
        return self

    def status(self, now: dt.datetime) -> Status:
        """draft, scheduled (date still in the future) or ready."""
        if self.draft:
            return "draft"
        return "scheduled" if self.date > now else "ready"

    def is_public(self, now: dt.datetime) -> bool:
        return self.status(now) == "ready"


# --------------------------------------------------------------------------- loading


def _known_keys(model: type[BaseModel], internal: Iterable[str] = ()) -> list[str]:
    return [k for k in model.model_fields if k not in set(internal)]


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


#: pydantic error types -> wording a host understands.
FRIENDLY = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_strict": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected text",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long (at most {max_length} characters)",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "has too many items (at most {max_length})",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "model_type": "expected a mapping of fields (key: value lines)",
    "model_attributes_type": "expected a mapping of fields (key: value lines)",
    "dict_type": "expected a mapping of fields (key: value lines)",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "datetime_type": "expected a date and time with time zone",
}


def _errors_from(exc: ValidationError, file: str, model: type[BaseModel]) -> list[PipelineError]:
    problems: list[PipelineError] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = _field_path(loc)
        kind = err["type"]
        msg = err["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            known = _known_keys(parent, ("root", "slug", "dir", "source", "notes")) if parent else []
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else ""
            problems.append(
                ContentError(
                    f"{loc[-1]!r} is not a setting", file=file, field=_field_path(loc[:-1]) or None, hint=hint
                )
            )
            continue
        if kind == "missing":
            problems.append(ContentError("is required but missing", file=file, field=field))
            continue
        ctx = err.get("ctx") or {}
        if kind in FRIENDLY:
            msg = FRIENDLY[kind].format(**ctx)
        elif kind == "literal_error":
            msg = "expected " + str(ctx.get("expected", "")).replace("'", "'")
        if kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error":
            msg = f"{msg}, got {_describe(err.get('input'))}"
        # "[0] 'Tech' is not ..." from the categories validator carries its own index
        if msg.startswith("[") and "]" in msg:
            parts = msg.split("; ")
            for part in parts:
                idx, _, rest = part.partition("] ")
                text, _, hint = rest.partition(" (did you mean ")
                problems.append(
                    ContentError(
                        text,
                        file=file,
                        field=f"{field}{idx}]",
                        hint=f"did you mean {hint.removesuffix(')')}" if hint else "",
                    )
                )
            continue
        text, sep, hint = (
            msg.rpartition(" (") if kind == "value_error" and msg.endswith(")") else (msg, "", "")
        )
        problems.append(ContentError(text, file=file, field=field or None, hint=hint[:-1] if sep else ""))
    return problems


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The nested model class at a location path, to list its known keys."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) else None  # type: ignore[attr-defined]
        if field is None:
            return None
        ann = field.annotation
        found = None
        stack = [ann]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                found = t
                break
            stack.extend(typing.get_args(t))
        if found is None:
            return None
        current = found
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _read_text(path: Path, rel: str, limit: int) -> str:
    try:
        data = read_capped(path, limit)
    except FileNotFoundError:
        raise ContentError("file not found", file=rel) from None
    except ValueError as err:
        raise ContentError(f"file {err}", file=rel) from None
    except OSError as err:
        raise ContentError(
            f"cannot be read: {err.strerror}", file=rel, hint="check its permissions"
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ContentError(
            f"is not UTF-8 text (bad byte at offset {err.start})", file=rel, hint="save the file as UTF-8"
        ) from None


#: Digits a YAML number may have: more is never a count or a setting (and Python refuses over 4300).
MAX_NUMBER_DIGITS = 20


class _StrictLoader(yaml.SafeLoader):
    """safe_load's rules, bounded: no aliases (a 600-byte alias bomb expands to gigabytes), no duplicate
    keys (last-wins hides a typo'd or pasted-twice field), no numbers longer than MAX_NUMBER_DIGITS."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not supported; write the value out in full",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (key_node.tag, key_node.value)
                if key in first:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key_node.value!r} (it is already set above; keep one)",
                        key_node.start_mark,
                    )
                first[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_NUMBER_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number with {digits:,} digits is too long", node.start_mark
            )
        value: int = super().construct_yaml_int(node)
        return value


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def parse_yaml(text: str) -> Any:
    """YAML text -> data with the bounded loader (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass


def _parse_yaml(text: str, rel: str, field: str | None = None, line_offset: int = 0) -> Any:
    try:
        return parse_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1 + line_offset}" if mark else "YAML"
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ContentError(f"{where}: invalid YAML: {problem}", file=rel, field=field) from None


def show_rel(root: Path, path: Path) -> str:
    """A path as the user sees it: relative to the show root when inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def load_show(path: Path) -> Show:
    """Load and validate show.yaml (every problem at once, as ContentErrors)."""
    path = Path(path)
    if path.is_dir():
        path = path / SHOW_FILE
    root = path.parent.resolve()
    rel = path.name
    if not path.is_file():
        raise ContentError(
            "file not found",
            file=rel,
            hint=f"looked for {path}; pass --show PATH or run `podcast init`"
            if path.parent != Path()
            else "run `podcast init` to start a show",
        )
    text = _read_text(path, rel, MAX_SHOW_BYTES)
    data = _parse_yaml(text, rel)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContentError("expected a mapping of settings (key: value lines)", file=rel)
    if "root" in data:
        raise ContentError("'root' is not a setting", file=rel)
    try:
        return Show.model_validate({**data, "root": root}, context={"base": root, "root": root})
    except ValidationError as exc:
        raise ContentErrors(_errors_from(exc, rel, Show)) from None


def validate_episode(data: dict[str, Any], folder: Path, rel: str) -> Episode:
    """An Episode from already-parsed fields (as `podcast import` writes them), or every problem at once."""
    try:
        return Episode.model_validate(data, context={"base": folder})
    except ValidationError as exc:
        raise ContentErrors(_errors_from(exc, rel, Episode)) from None


def split_front_matter(text: str, rel: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, Markdown body, body's first line number) from an episode.md text."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError(
            "has no front matter",
            file=rel,
            hint="start the file with a '---' line, the YAML fields, then another '---'",
        )
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            break
    else:
        raise ContentError("front matter is not closed", file=rel, hint="add a '---' line after the fields")
    data = _parse_yaml("".join(lines[1:i]), rel, line_offset=1)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ContentError("front matter must be a mapping of fields (key: value lines)", file=rel)
    return data, "".join(lines[i + 1 :]).strip("\n") + "\n", i + 2


INTERNAL_EPISODE_KEYS = ("slug", "dir", "source", "notes")


#: The stat of one file or folder an episode was loaded from: (path, mode, size, mtime_ns, inode).
StatStamp = tuple[str, int, int, int, int]


class ParseCache(Protocol):
    """Where loading keeps each episode.md's parsed front matter and body, and the validated Episode.

    The build passes one (pipeline.cache.ParseCache, kept under .podcast-cache/). A front matter entry is
    trusted while the file's stat is unchanged, and its fields are validated again. An episode entry is the
    validated Episode with the stat of everything it was judged on (episode.md, its folder, each file its
    fields name); loading trusts it only while every one of those stats is unchanged (`episode_stamp`).
    """

    def get(self, path: Path, st: os.stat_result) -> tuple[dict[str, Any], str] | None: ...

    def put(self, path: Path, st: os.stat_result, data: dict[str, Any], body: str) -> None: ...

    def episode(self, path: str, fresh: Callable[[tuple[StatStamp, ...]], bool]) -> object | None: ...

    def put_episode(self, path: Path, stamp: tuple[StatStamp, ...], episode: object) -> None: ...


#: The modules whose code decides what a loaded Episode is (their source is part of parser_versions).
_MODEL_CODE = (
    "model.py",
    "categories.py",
    "ids.py",
    "images.py",
    "rules.py",
    "errors.py",
    "locate.py",
    "safeio.py",
)


def parser_versions() -> str:
    """What a parsed or validated episode depends on besides its files (part of a parse cache's version):
    the libraries' versions and the digest of the model's own code, so an edited model never reads back an
    Episode validated by the old one."""
    import hashlib

    import pydantic

    code = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _MODEL_CODE:
        try:
            code.update((here / name).read_bytes())
        except OSError:
            code.update(b"?")
        code.update(b"\0")
    return f"pydantic=={pydantic.VERSION} pyyaml=={yaml.__version__} model=={code.hexdigest()[:16]}"


def _stamp(path: str, *, folder: bool = False) -> StatStamp | None:
    """The lstat of a regular file (or, with folder, a real folder); None for a link, anything else, or none."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not (stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)):
        return None  # a symlink is judged afresh every load: where it points can change under the same stat
    return (path, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino)


#: A file changed this recently may change again within its mtime's granularity with the same size: an
#: episode judged on it is not kept (the next load validates it again), as git treats "racily clean" files.
RACY_NS = 2_000_000_000


def episode_stamp(
    folder: Path, touched: Iterable[Path] = (), *, now_ns: int | None = None
) -> tuple[StatStamp, ...] | None:
    """The stats a validated episode in `folder` may be trusted by: the folder itself (its mtime moves when
    a file in it is added, removed or renamed, such as a transcript.vtt appearing), episode.md and each file
    its fields named. None when one of them is a symlink, sits in a subfolder or changed within RACY_NS of
    `now_ns`: that episode is validated on every load."""
    out: list[StatStamp] = []
    for path, is_folder in ((folder, True), (folder / NOTES_FILE, False), *((p, False) for p in touched)):
        if not is_folder and path.parent != folder:
            return None
        one = _stamp(str(path), folder=is_folder)
        if one is None or (now_ns is not None and one[3] > now_ns - RACY_NS):
            return None
        out.append(one)
    return tuple(dict.fromkeys(out))


def _fresh(stamp: tuple[StatStamp, ...]) -> bool:
    """Whether every stat in the stamp is still what it was (any failed lstat or change: not fresh)."""
    for one in stamp:
        if not (isinstance(one, tuple) and len(one) == 5 and isinstance(one[0], str)):
            return False
        if _stamp(one[0], folder=stat.S_ISDIR(one[1])) != one:
            return False
    return bool(stamp)


def _cached_episode(folder: Path, cache: ParseCache) -> Episode | None:
    """The episode loaded last time from `folder`, if every stat it was judged on is unchanged."""
    found = cache.episode(os.path.join(folder, NOTES_FILE), _fresh)
    return found if isinstance(found, Episode) and found.dir == folder else None


def _front_matter(source: Path, rel: str, cache: ParseCache | None) -> tuple[dict[str, Any], str]:
    """episode.md's front matter and body, from the cache when the file's stat says it is unchanged."""
    if cache is None:
        data, body, _ = split_front_matter(_read_text(source, rel, MAX_NOTES_BYTES), rel)
        return data, body
    st = source.stat()
    hit = cache.get(source, st) if st.st_size <= MAX_NOTES_BYTES else None
    if hit is not None:
        return hit
    data, body, _ = split_front_matter(_read_text(source, rel, MAX_NOTES_BYTES), rel)
    if st.st_mtime_ns <= time.time_ns() - RACY_NS:  # a file written moments ago is read again next time
        cache.put(source, st, data, body)
    return data, body


def load_episode(show_root: Path, folder: Path, *, parse_cache: ParseCache | None = None) -> Episode:
    """Load one episode folder (episode.md + files beside it); `parse_cache` spares re-parsing unchanged files."""
    slug = folder.name
    if not SLUG_RE.match(slug):
        raise ContentError(
            f"folder name {slug!r} is not a valid slug",
            file=show_rel(show_root, folder),
            hint="use lowercase ASCII letters, digits and single hyphens, e.g. knee-pain",
        )
    before: tuple[StatStamp, ...] | None = None
    if parse_cache is not None:
        if (cached := _cached_episode(folder, parse_cache)) is not None:
            return cached
        before = episode_stamp(folder, now_ns=time.time_ns())  # taken before reading: an edit after it shows
    rel = show_rel(show_root, folder / NOTES_FILE)
    source = folder / NOTES_FILE
    if not source.is_file():
        raise ContentError(
            "episode folder has no episode.md",
            file=show_rel(show_root, folder),
            hint="run `podcast new TITLE` or add the file",
        )
    problem = source_file_problem(source, show_root)
    if problem and problem != "not found":
        raise ContentError(f"file {problem}", file=rel)
    data, body = _front_matter(source, rel, parse_cache)
    for key in INTERNAL_EPISODE_KEYS:
        if key in data:
            raise ContentError(
                f"{key!r} is not a setting",
                file=rel,
                hint="the slug is the folder name" if key == "slug" else "",
            )
    if data.get("transcript") is None and (folder / AUTO_TRANSCRIPT).is_file():
        # `podcast transcribe` writes transcript.vtt and sets nothing else: a file by that name is used
        # when the front matter names none.
        data = {**data, "transcript": AUTO_TRANSCRIPT}
    touched: list[Path] = []
    try:
        episode = Episode.model_validate(
            {**data, "slug": slug, "dir": folder, "source": source, "notes": body},
            context={"base": folder, "root": show_root.resolve(), "touched": touched},
        )
    except ValidationError as exc:
        raise ContentErrors(_errors_from(exc, rel, Episode)) from None
    if parse_cache is not None and before is not None:
        after = episode_stamp(folder, touched, now_ns=time.time_ns())
        if after is not None and after[:2] == before:
            parse_cache.put_episode(source, after, episode)
    return episode


def episode_folders(root: Path) -> list[Path]:
    base = root / EPISODES_DIR
    if base.exists() and not base.is_dir():
        raise ContentError(
            "is a file; it must be the folder that holds one folder per episode", file=EPISODES_DIR
        )
    if not base.is_dir():
        return []
    with os.scandir(base) as entries:  # the entry's own type: no stat per folder (a link is still followed)
        names = sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir())
    return [
        base / name for name in names
    ]  # sorted as names: comparing 10,000 Paths costs a tenth of a second


def load_each_episode(
    root: Path, *, parse_cache: ParseCache | None = None
) -> tuple[list[Episode], list[PipelineError]]:
    """Every episode folder that loads, and every problem of those that don't."""
    episodes: list[Episode] = []
    problems: list[PipelineError] = []
    try:
        folders = episode_folders(root)
    except PipelineError as err:
        return [], [err]
    for folder in folders:
        try:
            episodes.append(load_episode(root, folder, parse_cache=parse_cache))
        except ContentErrors as many:
            problems.extend(many.problems)
        except PipelineError as one:
            problems.append(one)
    return episodes, problems


def load_episodes(show: Show) -> tuple[Episode, ...]:
    """Every episode, sorted oldest first by (date, slug); all problems reported at once."""
    episodes, problems = load_each_episode(show.root)
    problems.extend(_cross_episode_problems(show, episodes))
    if problems:
        raise ContentErrors(problems)
    return tuple(sorted(episodes, key=lambda e: (e.date, e.slug)))


def _cross_episode_problems(show: Show, episodes: list[Episode]) -> list[PipelineError]:
    problems: list[PipelineError] = []
    seen: dict[tuple[int, int], str] = {}
    guids: dict[str, str] = {}
    base = show_guid_base(show)
    # derived GUIDs first, so a clash is reported on the episode whose pinned `guid:` causes it
    for ep in sorted(episodes, key=lambda e: (e.guid is not None, e.slug)):
        if ep.number is not None and ep.type == "full":
            key = (ep.season or 1, ep.number)  # no season reads as season 1 in apps
            if key in seen:
                problems.append(
                    ContentError(
                        f"episode {ep.number} is also used by {seen[key]}",
                        file=show_rel(show.root, ep.source),
                        field="number",
                        hint="each full episode needs its own number",
                    )
                )
            seen[key] = ep.slug
        guid = episode_guid(show, ep, base=base)
        if guid in guids:
            problems.append(
                ContentError(
                    f"GUID {guid} is also {guids[guid]}'s",
                    file=show_rel(show.root, ep.source),
                    field="guid",
                    hint="every episode needs its own GUID; remove or change the pinned one",
                )
            )
        else:
            guids[guid] = ep.slug
        if show.type == "serial" and ep.number is None and not ep.draft:
            problems.append(
                ContentError(
                    "a serial show needs a number on every episode",
                    file=show_rel(show.root, ep.source),
                    field="number",
                )
            )
    return problems


def episode_guid(show: Show, ep: Episode, *, base: uuid.UUID | None = None) -> str:
    """The episode's feed GUID: pinned in its front matter, or derived from the show's GUID and its slug
    (`base` is show_guid_base(show), for a caller asking for many)."""
    return ep.guid or str(uuid.uuid5(base or show_guid_base(show), ep.slug))


def show_guid_base(show: Show) -> uuid.UUID:
    """The show's GUID, which every derived episode GUID is made from."""
    return uuid.UUID(show.guid or ids.podcast_guid(show.feed_url))


def load(path: Path, *, parse_cache: ParseCache | None = None) -> tuple[Show, tuple[Episode, ...]]:
    """show.yaml and every episode; raises ContentErrors listing every problem in every file."""
    show, episodes, problems = load_all(path, parse_cache=parse_cache)
    if problems or show is None:
        raise ContentErrors(problems)
    return show, tuple(sorted(episodes, key=lambda e: (e.date, e.slug)))


def load_all(
    path: Path, *, parse_cache: ParseCache | None = None
) -> tuple[Show | None, list[Episode], list[PipelineError]]:
    """Whatever loads, and every problem: the show (or None), the good episodes, all errors."""
    path = Path(path)
    problems: list[PipelineError] = []
    show: Show | None = None
    try:
        show = load_show(path)
    except ContentErrors as many:
        problems.extend(many.problems)
    except PipelineError as one:
        problems.append(one)
    root = show.root if show else (path if path.is_dir() else path.parent).resolve()
    if show is None and not (root / SHOW_FILE).is_file() and not path.is_file():
        raise problems[0]  # no show here at all: one line says so; episode errors would only be noise
    episodes, episode_problems = load_each_episode(root, parse_cache=parse_cache)
    problems.extend(episode_problems)
    if show is not None:
        problems.extend(_cross_episode_problems(show, episodes))
    return show, episodes, problems


def public_episodes(episodes: Iterable[Episode], now: dt.datetime) -> tuple[Episode, ...]:
    """The episodes listeners see: not drafts, date reached; newest first (date, then slug, descending)."""
    return tuple(
        sorted((e for e in episodes if e.is_public(now)), key=lambda e: (e.date, e.slug), reverse=True)
    )


# --------------------------------------------------------------------------- reference docs

_INTERNAL = {"root", "slug", "dir", "source", "notes"}


def _type_name(ann: Any) -> str:
    import types
    import typing

    origin = typing.get_origin(ann)
    if origin is Annotated:
        return _type_name(typing.get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in typing.get_args(ann) if a is not type(None)]
        return " or ".join(parts)
    if origin is Literal:
        return " / ".join(str(a) for a in typing.get_args(ann))
    if origin is tuple:
        inner = typing.get_args(ann)[0]
        return "list of text" if inner is Category else f"list of {_type_name(inner)}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "mapping"
    names = {
        str: "text",
        int: "integer",
        float: "number",
        bool: "true/false",
        Path: "file",
        dt.datetime: "date-time",
    }
    return names.get(ann, getattr(ann, "__name__", str(ann)))


def _nested(ann: Any) -> type[BaseModel] | None:
    import typing

    stack = [ann]
    while stack:
        t = stack.pop()
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
        stack.extend(typing.get_args(t))
    return None


def field_reference(model_cls: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every user-facing field, nested fields as `a.b`."""
    rows: list[tuple[str, str, str, str]] = []
    for name, info in model_cls.model_fields.items():
        if name in _INTERNAL:
            continue
        key = prefix + name
        default = "required" if info.is_required() else repr(info.default).replace("PosixPath", "")
        if isinstance(info.default, BaseModel) or info.default == ():
            default = "" if info.default == () else "see below"
        rows.append((key, _type_name(info.annotation), default, (info.description or "").replace("\n", " ")))
        sub = _nested(info.annotation)
        if sub is not None and sub is not model_cls and sub is not Category:
            rows.extend(
                field_reference(sub, key + ("[]." if "list of" in _type_name(info.annotation) else "."))
            )
    return rows


def reference_markdown() -> str:
    """The README's show.yaml and front-matter reference, generated from the models (kept in sync by cog)."""
    out = []
    for title, cls in (("show.yaml", Show), ("Episode front matter (episodes/<slug>/episode.md)", Episode)):
        out.append(f"#### {title}\n\n| key | type | default | meaning |\n| --- | --- | --- | --- |")
        for key, typ, default, desc in field_reference(cls):
            default = "" if default in ("None",) else default
            out.append(f"| `{key}` | {typ} | {default.replace('|', '/')} | {desc.replace('|', '/')} |")
        out.append("")
    return "\n".join(out)
