"""What a build produces (`Output`), the published manifest, and the diff that orders an upload plan."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pipeline.errors import PipelineError, StorageError

MANIFEST_KEY = ".podcast/manifest.json"
MANIFEST_VERSION = 1


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


@dataclass(frozen=True)
class ObjectEntry:
    """One published object as the manifest records it."""

    key: str
    size: int  # bytes
    sha256: str  # hex digest of the bytes
    content_type: str


@dataclass(frozen=True)
class EpisodeEntry:
    """One episode as it was published in the feed: what must never silently change."""

    guid: str
    slug: str
    enclosure_url: str
    pub_date: str  # RFC 3339, e.g. "2024-05-01T09:00:00+01:00"
    title: str
    # Object keys of the episode's other media (alternates, soundbite clips): kept one more publish, like the
    # enclosure, once the feed stops pointing at them. Absent from older manifests (and from JSON when empty).
    media: tuple[str, ...] = ()


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted(mapping.items())))


@dataclass(frozen=True)
class Manifest:
    """Everything a target holds from earlier publishes, stored at MANIFEST_KEY next to the feed."""

    version: int
    channel_guid: str | None
    feed_url: str | None
    objects: Mapping[str, ObjectEntry] = field(default_factory=dict)  # by key
    episodes: Mapping[str, EpisodeEntry] = field(default_factory=dict)  # by guid

    def __post_init__(self) -> None:
        object.__setattr__(self, "objects", _frozen(self.objects))
        object.__setattr__(self, "episodes", _frozen(self.episodes))

    def to_json(self) -> bytes:
        """Deterministic bytes: sorted keys, no timestamps; the same manifest always gives the same bytes."""
        doc = {
            "version": self.version,
            "channel_guid": self.channel_guid,
            "feed_url": self.feed_url,
            "objects": {
                key: {"size": e.size, "sha256": e.sha256, "content_type": e.content_type}
                for key, e in self.objects.items()
            },
            "episodes": {
                guid: {
                    "slug": e.slug,
                    "enclosure_url": e.enclosure_url,
                    "pub_date": e.pub_date,
                    "title": e.title,
                    **({"media": list(e.media)} if e.media else {}),
                }
                for guid, e in self.episodes.items()
            },
        }
        return json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes, source: str) -> Manifest:
        """Parse a stored manifest; `source` names where it came from (e.g. the target + MANIFEST_KEY).

        Raises StorageError (one line, naming `source`) for anything that is not a manifest we can trust.
        """
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as err:
            raise _corrupt(source, f"not JSON ({err})") from None
        if not isinstance(doc, dict):
            raise _corrupt(source, "not a JSON object")
        version = doc.get("version")
        if type(version) is not int or version < 1:
            raise _corrupt(source, "no valid version number")
        if version > MANIFEST_VERSION:
            raise StorageError(
                f"written by a newer version of this tool (manifest version {version}, we read {MANIFEST_VERSION})",
                file=source,
                hint="upgrade podcast-pipeline before publishing to this target",
            )
        return cls(
            version=version,
            channel_guid=_optional_str(doc, "channel_guid", source),
            feed_url=_optional_str(doc, "feed_url", source),
            objects={
                key: ObjectEntry(
                    key=key,
                    size=_field(entry, "size", int, source, f"objects.{key}"),
                    sha256=_field(entry, "sha256", str, source, f"objects.{key}"),
                    content_type=_field(entry, "content_type", str, source, f"objects.{key}"),
                )
                for key, entry in _section(doc, "objects", source).items()
            },
            episodes={
                guid: EpisodeEntry(
                    guid=guid,
                    slug=_field(entry, "slug", str, source, f"episodes.{guid}"),
                    enclosure_url=_field(entry, "enclosure_url", str, source, f"episodes.{guid}"),
                    pub_date=_field(entry, "pub_date", str, source, f"episodes.{guid}"),
                    title=_field(entry, "title", str, source, f"episodes.{guid}"),
                    media=_keys(entry, "media", source, f"episodes.{guid}"),
                )
                for guid, entry in _section(doc, "episodes", source).items()
            },
        )


def _corrupt(source: str, why: str, where: str = "") -> StorageError:
    return StorageError(
        f"the published manifest is corrupt: {where + ': ' if where else ''}{why}",
        file=source,
        hint="restore it from a backup, or delete it to republish everything (identity checks are then skipped)",
    )


def _optional_str(doc: Mapping[str, Any], name: str, source: str) -> str | None:
    value = doc.get(name)
    if value is not None and not isinstance(value, str):
        raise _corrupt(source, f"{name} is not a string")
    return value


def _section(doc: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise _corrupt(source, f"{name} is not a mapping of entries")
    return value


def _keys(entry: Mapping[str, Any], name: str, source: str, where: str) -> tuple[str, ...]:
    """An optional list of object keys (missing in manifests written before it existed)."""
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _corrupt(source, f"{name} is not a list of keys", where)
    return tuple(value)


def _field(entry: Mapping[str, Any], name: str, kind: type, source: str, where: str) -> Any:
    value: Any = entry.get(name)
    right_type = type(value) is kind  # computed apart: a type() test would narrow `value` to object
    if not right_type or (kind is int and value < 0):
        raise _corrupt(source, f"{name} is missing or not a {kind.__name__}", where)
    if name == "sha256" and (len(value) != 64 or value.strip("0123456789abcdef")):
        raise _corrupt(source, "sha256 is not a hex digest", where)
    return value


def digest_output(o: Output) -> ObjectEntry:
    """Size and sha256 of an output; files are hashed in chunks, never read whole."""
    if isinstance(o.data, Path):
        try:
            with o.data.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256")
                size = f.tell()
        except OSError as err:
            raise PipelineError(f"cannot read built file for {o.key}: {err.strerror}", file=o.data) from err
        return ObjectEntry(o.key, size, digest.hexdigest(), o.content_type)
    return ObjectEntry(o.key, len(o.data), hashlib.sha256(o.data).hexdigest(), o.content_type)


@dataclass(frozen=True)
class UploadPlan:
    """What a publish must upload, in safe order, and what it can leave alone."""

    uploads: tuple[Output, ...]  # ordered by Kind (MEDIA, ASSET, PAGE, FEED), then by key
    unchanged: tuple[str, ...]  # keys whose published bytes and type already match, sorted
    stale: tuple[str, ...]  # keys in the remote manifest but not in this build (prune candidates), sorted
    bytes_to_upload: int
    entries: Mapping[str, ObjectEntry] = field(
        default_factory=dict
    )  # every output's entry: the new manifest's objects

    @property
    def is_noop(self) -> bool:
        """True when nothing needs uploading (a property: `if plan.is_noop:`)."""
        return not self.uploads


def plan(
    outputs: Sequence[Output],
    remote: Manifest | None,
    *,
    entries: Mapping[str, ObjectEntry] | None = None,
) -> UploadPlan:
    """Diff a build against the published manifest by content hash.

    `entries` may supply already-known digests by key (e.g. from the build cache); any output without
    one is hashed here. With no remote manifest, everything is uploaded. An output is unchanged only
    if the manifest has the same size, sha256 and content type for its key.
    """
    by_key: dict[str, Output] = {}
    for o in outputs:
        if o.key in by_key:
            raise PipelineError(f"two build outputs have the same key {o.key!r}")
        by_key[o.key] = o
    known = entries or {}
    digests = {
        key: (known[key] if key in known and known[key].content_type == o.content_type else digest_output(o))
        for key, o in by_key.items()
    }
    published = remote.objects if remote is not None else {}
    uploads: list[Output] = []
    unchanged: list[str] = []
    for key, o in by_key.items():
        if published.get(key) == digests[key]:
            unchanged.append(key)
        else:
            uploads.append(o)
    uploads.sort(key=lambda o: (o.kind, o.key))
    return UploadPlan(
        uploads=tuple(uploads),
        unchanged=tuple(sorted(unchanged)),
        stale=tuple(sorted(set(published) - set(by_key))),
        bytes_to_upload=sum(digests[o.key].size for o in uploads),
        entries=_frozen(digests),
    )


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def check_identity(
    old: Manifest,
    new_episodes: Mapping[str, EpisodeEntry],
    new_channel_guid: str | None,
    *,
    new_feed_url: str | None = None,
    enclosures: bool = True,
) -> list[str]:
    """Why this publish would break what listeners already have; empty when it is safe.

    With `enclosures=False` a changed enclosure URL is not reported: a corrected or re-tagged file gets a
    new content-addressed URL on purpose, so apps that cache by URL fetch it (the GUID stays).

    Compares the published manifest with the episodes (by GUID) about to be published: a channel GUID
    or feed URL that changes, an episode that vanishes, and an enclosure URL or publication date that
    changes are each one line. Title and notes edits are fine. The caller refuses unless --force.
    """
    problems: list[str] = []
    if old.channel_guid and new_channel_guid and old.channel_guid != new_channel_guid:
        problems.append(
            f"the channel's podcast:guid would change from {old.channel_guid} to {new_channel_guid} "
            "(apps would treat it as a new show)"
        )
    if old.feed_url and new_feed_url and old.feed_url != new_feed_url:
        problems.append(
            f"the feed URL would change from {old.feed_url} to {new_feed_url} "
            "(subscribers keep polling the old one; redirect it first)"
        )
    published = sorted(old.episodes.values(), key=lambda e: (e.pub_date, e.slug, e.guid))
    for was in published:
        now = new_episodes.get(was.guid)
        name = f"episode {was.slug!r} (guid {was.guid})"
        if now is None:
            problems.append(
                f"{name} was published and is missing from this build (draft, future date, "
                "deleted, or its slug/guid changed)"
            )
            continue
        if enclosures and now.enclosure_url != was.enclosure_url:
            problems.append(
                f"{name}: enclosure URL would change from {was.enclosure_url} to {now.enclosure_url} "
                "(apps may download it again or lose the listening position)"
            )
        old_date, new_date = _instant(was.pub_date), _instant(now.pub_date)
        same_date = old_date == new_date if old_date and new_date else was.pub_date == now.pub_date
        if not same_date:
            problems.append(f"{name}: publication date would change from {was.pub_date} to {now.pub_date}")
    return problems
