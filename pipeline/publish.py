"""Publishing: make the target match a build without ever showing listeners a broken state.

Order (DESIGN.md §4): lock, read the manifest (one GET), plan by content hash, refuse identity changes,
upload media and sidecar files, confirm every new enclosure, upload pages, put feed.xml last in one PUT,
then write the manifest. A failure anywhere before the feed leaves the previous feed live; running the
publish again resumes (content-addressed files already there are not sent twice).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import human, storage
from pipeline.errors import ContentError, ContentErrors, PublishRefused, StorageError, TargetLocked
from pipeline.manifest import (
    MANIFEST_KEY,
    MANIFEST_VERSION,
    EpisodeEntry,
    Kind,
    Manifest,
    ObjectEntry,
    Output,
    UploadPlan,
    check_identity,
    digest_output,
    plan,
)
from pipeline.progress import NullReporter, Reporter

if TYPE_CHECKING:
    # Only annotations: the unchanged-show fast path (`unchanged_publish`) must not load the model
    # (pydantic, YAML); `urls` is imported where a plan needs it.
    from pipeline import model, notify
    from pipeline.artifacts import BuiltEpisode

IMMUTABLE = "public, max-age=31536000, immutable"  # content-addressed: the bytes under a key never change
SHORT = "public, max-age=300"  # feed and pages: apps and browsers see an update within minutes
NO_CACHE = "no-cache"  # the manifest and lock: always revalidated
MANIFEST_TYPE = "application/json"


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    force: bool = False  # publish even if a published GUID, pubDate or enclosure would change or vanish
    prune: bool = False  # delete objects the build no longer has (not media the previous feed referenced)
    break_lock: bool = False
    create_bucket: bool = False
    verify: bool = False  # compare the whole target (listing, sizes, checksums), not only the cheap checks


@dataclass(frozen=True)
class Outcome:
    """What a publish did (or, with --dry-run, would do)."""

    target: str
    dry_run: bool
    episodes: int
    new_episodes: tuple[str, ...]  # slugs not in the previous feed
    changed_episodes: tuple[str, ...]  # slugs whose media or item changed
    uploads: tuple[tuple[str, int], ...]  # (key, bytes) in upload order
    unchanged: int
    skipped_present: int  # content-addressed objects already in the target (a resumed publish)
    deleted: tuple[str, ...]
    kept_for_grace: tuple[str, ...]
    feed_updated: bool
    refusals: tuple[str, ...] = ()
    forced: bool = False
    public_read: ReadCheck | None = None  # the anonymous fetch made before the feed went up
    bucket_policy: str | None = None  # the resource a bucket made by --create-bucket lets anyone GET
    notifications: tuple[notify.Result, ...] = ()  # Podping / WebSub, after a publish that changed the feed
    repaired: tuple[Damage, ...] = ()  # published objects the target had lost or damaged, sent again
    swept: tuple[str, ...] = ()  # temporary files a killed publish had left, removed
    manifest_md5: str | None = None  # of the manifest the target holds afterwards (None: not known)

    @property
    def uploaded_bytes(self) -> int:
        return sum(size for _, size in self.uploads)


def refuse_placeholders(show: model.Show, public: Sequence[BuiltEpisode]) -> None:
    """Text `init`/`new` wrote for the host to replace must not reach listeners: a non-local target
    refuses it (`podcast check` only warns; a local folder is a preview)."""
    if show.publish.target == "local":
        return
    from pipeline import placeholders

    found = placeholders.find(show, [b.episode for b in public])
    if found:
        raise ContentErrors([ContentError(p.message, file=p.file, field=p.field) for p in found])


def open_target(show: model.Show) -> storage.Storage:
    """The Storage named by show.yaml's `publish:` section (no I/O yet)."""
    p = show.publish
    if p.target == "local":
        return storage.open_storage("local", path=show.publish_dir)
    return storage.open_storage(
        "s3",
        bucket=p.bucket,
        prefix=p.prefix,
        region=p.region,
        endpoint_url=p.endpoint_url,
        profile=p.profile,
    )


def episode_entries(public: Sequence[BuiltEpisode]) -> dict[str, EpisodeEntry]:
    return {
        b.guid: EpisodeEntry(
            guid=b.guid,
            slug=b.episode.slug,
            enclosure_url=b.audio.url,
            pub_date=b.episode.date.isoformat(),
            title=b.episode.title,
            media=tuple(sorted([*(a.key for a in b.alternates), *(c.key for c in b.clips)])),
        )
        for b in public
    }


def _cache_control(o: Output) -> str:
    return IMMUTABLE if o.immutable else SHORT


def _parse_manifest(data: bytes | None, target: storage.Storage) -> Manifest | None:
    return (
        None if data is None else Manifest.from_json(data, f"{target.description.rstrip('/')}/{MANIFEST_KEY}")
    )


def _owner() -> str:
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"podcast publish ({user}@{socket.gethostname()})"


def publish(
    show: model.Show,
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    target: storage.Storage,
    *,
    options: Options = Options(),
    reporter: Reporter | None = None,
) -> Outcome:
    """Make `target` serve this build. Raises PublishRefused, TargetLocked or StorageError; never half-done.

    A feed the validator rejects is refused before anything is uploaded; a bucket made by --create-bucket
    gets a public-read policy; after a publish that changed the feed, the hubs show.yaml names are told.
    """
    check_feed(outputs)
    policy = create_bucket(show, target, options)
    outcome = _publish(show, outputs, public, target, options=options, reporter=reporter)
    return dataclasses.replace(outcome, bucket_policy=policy, notifications=announce(show, outcome))


def _publish(
    show: model.Show,
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    target: storage.Storage,
    *,
    options: Options,
    reporter: Reporter | None,
) -> Outcome:
    reporter = reporter or NullReporter()
    refuse_placeholders(show, public)
    target.ensure_ready(create=options.create_bucket and not options.dry_run)
    # Hashed once, used by both plans below. (Hashing on a thread while the S3 client is built was measured
    # slower: both hold the GIL for most of their work.)
    entries = known_entries(outputs, public)
    if options.dry_run:
        return _run(
            show,
            public,
            target,
            options,
            reporter,
            None,
            checked(prepare(show, outputs, public, target, entries), target, outputs, public, options.verify),
        )
    first: Prepared | None = None
    leftovers = target.temp_files()
    if not options.break_lock and target.get(storage.LOCK_KEY) is None:
        # A publish with nothing to do writes nothing, not even the lock.
        first = checked(
            prepare(show, outputs, public, target, entries), target, outputs, public, options.verify
        )
        if _nothing_to_do(first, options) and not first.refusals and not leftovers:
            return _outcome(first, options, target, public, (), 0)
    lock = _take_lock(target, options.break_lock, reporter)
    _HELD.add(lock.info.token)
    try:
        # Lock.__exit__ releases it; when the target fails mid-publish a failing release is swallowed there,
        # so the error that stopped the publish is the one reported.
        with lock:
            # Under the lock the manifest must be the one planned against: another publish may have
            # finished in between (a HEAD compares its ETag; without one it is read again).
            prep = (
                first
                if first is not None and _unchanged_since(target, first)
                else checked(
                    prepare(show, outputs, public, target, entries), target, outputs, public, options.verify
                )
            )
            swept = target.sweep_temp_files() if leftovers else ()
            if swept:
                reporter.warn(
                    f"removed {human.plural(len(swept), 'temporary file')} an interrupted publish left "
                    f"in {target.description}"
                )
            outcome = _run(show, public, target, options, reporter, lock, prep)
            return dataclasses.replace(outcome, swept=swept) if swept else outcome
    finally:
        _HELD.discard(lock.info.token)


def known_entries(outputs: Sequence[Output], public: Sequence[BuiltEpisode]) -> dict[str, ObjectEntry]:
    """Size and sha256 of every output: media from the build's own digests, everything else hashed here."""
    media = {
        b.audio.key: ObjectEntry(b.audio.key, b.audio.size, b.audio.sha256, b.audio.mime)
        for b in public
        if not b.audio.external
    }
    return {
        o.key: media[o.key]
        if o.key in media and media[o.key].content_type == o.content_type
        else digest_output(o)
        for o in outputs
    }


def _unchanged_since(target: storage.Storage, prep: Prepared) -> bool:
    """True when the manifest `prep` planned against is provably still the target's (same ETag)."""
    info = target.head(MANIFEST_KEY)
    if prep.manifest_md5 is None:
        return info is None
    return info is not None and info.etag == prep.manifest_md5  # a single PUT's ETag is its MD5


#: Tokens of the locks this process holds right now (publishes may run on threads).
_HELD: set[str] = set()


def _take_lock(target: storage.Storage, break_lock: bool, reporter: Reporter) -> storage.Lock:
    """The target's lock; a lock left by a publish that died on this machine is taken over with a warning."""
    try:
        lock = target.acquire_lock(_owner(), break_lock=break_lock)
    except TargetLocked:
        abandoned = _abandoned_lock(target)
        if abandoned is None:
            raise
        lock = target.acquire_lock(_owner(), break_lock=True)
        reporter.warn(
            f"took over the lock left by an interrupted publish (pid {abandoned.pid} on "
            f"{abandoned.host}, {storage.human_age(abandoned.age())} ago)"
        )
        return lock
    if lock.replaced is not None:
        held = lock.replaced
        reporter.warn(
            f"broke the lock of {held.owner} on {held.host} (pid {held.pid}), taken "
            f"{storage.human_age(held.age())} ago"
        )
    return lock


def _abandoned_lock(target: storage.Storage) -> storage.LockInfo | None:
    """The target's lock if its holder was a process on this host that no longer runs, else None.

    A release that fails (the server went away mid-publish) leaves the lock behind; without this, the
    re-run that should resume the publish would be refused. Locks from other hosts are never judged.
    """
    data = target.get(storage.LOCK_KEY)
    import socket

    held = None if data is None else storage.LockInfo.from_json(data)
    if held is None or os.name != "posix" or held.host != socket.gethostname():
        return None
    if held.pid == os.getpid():
        return None if held.token in _HELD else held
    try:
        os.kill(held.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return held
    except OSError:  # it exists (under another user)
        return None
    return None


@dataclass(frozen=True)
class Prepared:
    """The remote manifest against this build: the plan and everything it would change."""

    remote: Manifest | None
    plan: UploadPlan
    episodes: dict[str, EpisodeEntry]
    channel_guid: str
    refusals: tuple[str, ...]
    new_slugs: tuple[str, ...]
    changed_slugs: tuple[str, ...]
    manifest_md5: str | None = None  # of the manifest's bytes as read; None when there was none
    damage: tuple[Damage, ...] = ()  # what the target check found (see `checked`)


def prepare(
    show: model.Show,
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    target: storage.Storage,
    entries: Mapping[str, ObjectEntry] | None = None,
) -> Prepared:
    """Read the manifest (one GET) and diff the build against it. Writes nothing.

    `entries` may give the outputs' digests already known (see `known_entries`); the rest are hashed.
    """
    from pipeline import urls

    data = target.get(MANIFEST_KEY)
    remote = _parse_manifest(data, target)
    new_eps = episode_entries(public)
    channel_guid = urls.show_guid(show)
    refusals = (
        tuple(check_identity(remote, new_eps, channel_guid, new_feed_url=show.feed_url, enclosures=False))
        if remote
        else ()
    )
    if entries is None:
        entries = {
            b.audio.key: ObjectEntry(b.audio.key, b.audio.size, b.audio.sha256, b.audio.mime)
            for b in public
            if not b.audio.external
        }
    the_plan = plan(outputs, remote, entries=entries)
    previous = dict(remote.episodes) if remote else {}
    uploading = {o.key for o in the_plan.uploads}
    new_slugs = tuple(b.episode.slug for b in reversed(public) if b.guid not in previous)
    changed = _changed_by_host(public, previous, new_eps, uploading)
    md5 = None if data is None else hashlib.md5(data, usedforsecurity=False).hexdigest()
    return Prepared(remote, the_plan, new_eps, channel_guid, refusals, new_slugs, changed, md5)


def _changed_by_host(
    public: Sequence[BuiltEpisode],
    previous: Mapping[str, EpisodeEntry],
    new_eps: Mapping[str, EpisodeEntry],
    uploading: set[str],
) -> tuple[str, ...]:
    """Slugs of published episodes the host changed (title, date, audio, or a page of their own), oldest
    first. A page rewritten only because a neighbour's previous/next link changed does not count."""
    from pipeline import urls

    order = list(reversed(public))  # oldest first: neighbours are adjacent
    moved = {b.guid for b in order if b.guid not in previous or previous[b.guid] != new_eps[b.guid]}
    out = []
    for i, b in enumerate(order):
        if b.guid not in previous:
            continue
        page_only = urls.page_key(b.episode) in uploading and b.audio.key not in uploading
        near = {n.guid for n in order[max(i - 1, 0) : i + 2] if n is not b}
        if b.guid in moved or b.audio.key in uploading or (page_only and not near & moved):
            out.append(b.episode.slug)
    return tuple(out)


def _nothing_to_do(prep: Prepared, options: Options) -> bool:
    """Nothing to upload, nothing to delete, the same episodes: the target already serves this build."""
    deletions = _prune_sets(prep.plan, prep.remote)[0] if options.prune else []
    return (
        prep.plan.is_noop
        and not deletions
        and prep.remote is not None
        and dict(prep.remote.episodes) == prep.episodes
    )


def _outcome(
    prep: Prepared,
    options: Options,
    target: storage.Storage,
    public: Sequence[BuiltEpisode],
    uploads: Sequence[Output],
    present: int,
) -> Outcome:
    deletions, grace = _prune_sets(prep.plan, prep.remote) if options.prune else ([], [])
    return Outcome(
        target=target.description,
        dry_run=options.dry_run,
        episodes=len(public),
        new_episodes=prep.new_slugs,
        changed_episodes=prep.changed_slugs,
        uploads=tuple((o.key, prep.plan.entries[o.key].size) for o in uploads),
        unchanged=len(prep.plan.unchanged),
        skipped_present=present,
        deleted=tuple(deletions),
        kept_for_grace=tuple(grace),
        feed_updated=any(o.kind is Kind.FEED for o in prep.plan.uploads),
        refusals=prep.refusals,
        forced=bool(prep.refusals) and options.force,
        repaired=prep.damage,
        manifest_md5=prep.manifest_md5 if not options.dry_run else None,
    )


def _run(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    target: storage.Storage,
    options: Options,
    reporter: Reporter,
    lock: storage.Lock | None,
    prep: Prepared,
) -> Outcome:
    remote, the_plan, new_eps, refusals = prep.remote, prep.plan, prep.episodes, prep.refusals
    channel_guid = prep.channel_guid
    deletions, _grace = _prune_sets(the_plan, remote) if options.prune else ([], [])

    def outcome(uploads: Sequence[Output], present: int) -> Outcome:
        return _outcome(prep, options, target, public, uploads, present)

    if options.dry_run:
        return outcome(the_plan.uploads, 0)
    if refusals and not options.force:
        raise PublishRefused(
            f"refusing to publish: {refusals[0]}"
            + (f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""),
            file=target.description,
            hint="run with --dry-run to see every reason; --force publishes anyway",
        )
    if _nothing_to_do(prep, options):
        return outcome((), 0)

    uploads = list(the_plan.uploads)
    for damage in prep.damage:
        reporter.warn(f"{target.description.rstrip('/')}/{damage.key}: {damage.problem}; sending it again")
    present = _already_present(target, uploads, the_plan) - {d.key for d in prep.damage}
    uploads = [o for o in uploads if o.key not in present]
    by_kind = {kind: [o for o in uploads if o.kind is kind] for kind in Kind}
    done: dict[str, ObjectEntry] = dict(remote.objects) if remote else {}

    def still_ours() -> None:
        """Before each step that changes what is live or recorded: a publish that lost its lock (another
        publish ran --break-lock) stops; content-addressed media it stored meanwhile harms nobody."""
        if lock is not None:
            lock.check()

    # 1. media, artwork, chapters, transcripts, CSS: nothing that is live refers to them yet.
    first = by_kind[Kind.MEDIA] + by_kind[Kind.ASSET]
    _put(target, first, reporter, "Uploading media", the_plan.entries)
    done.update({o.key: the_plan.entries[o.key] for o in first})
    done.update({k: the_plan.entries[k] for k in present})
    _checkpoint(target, remote, done, still_ours)
    # 2. every enclosure the new feed points at and the target has not confirmed before: present, right size.
    # One stored just now is confirmed by its PUT's answer (a 200 for exactly its bytes), any other by a
    # HEAD; one the target no longer serves (lost after it was stored or listed) is sent again first.
    stored = {o.key for o in first}
    repaired = _verify_enclosures(target, public, remote, reporter, stored=stored)
    read_check = check_public_read(show, target, public, uploads) if by_kind[Kind.FEED] else None
    # 3. pages, then 4. the feed as one PUT, then 5. the manifest.
    if by_kind[Kind.PAGE]:
        still_ours()
    _put(target, by_kind[Kind.PAGE], reporter, "Uploading pages", the_plan.entries)
    done.update({o.key: the_plan.entries[o.key] for o in by_kind[Kind.PAGE]})
    still_ours()
    for o in by_kind[Kind.FEED]:
        reporter.step(f"Updating {o.key}")
        target.put(o.key, o.data, content_type=o.content_type, cache_control=SHORT)
        done[o.key] = the_plan.entries[o.key]
    if by_kind[Kind.FEED]:
        # 4b. the feed is live: its new enclosures are confirmed once more, and any the target lost since
        # step 2 is sent again, before the manifest records this publish and it reports success.
        repaired += _verify_enclosures(target, public, remote, reporter, feed_live=True)
    if deletions:
        still_ours()
        reporter.step(f"Pruning {human.plural(len(deletions), 'object')}")
        target.delete(list(deletions))
        for key in deletions:
            done.pop(key, None)
    final = Manifest(
        version=MANIFEST_VERSION,
        channel_guid=channel_guid,
        feed_url=show.feed_url,
        objects=done,
        episodes=new_eps,
    )
    manifest_bytes = final.to_json()
    target.put(MANIFEST_KEY, manifest_bytes, content_type=MANIFEST_TYPE, cache_control=NO_CACHE)
    sent = {o.key for o in uploads}
    done_outcome = outcome(uploads + [o for o in _unique(repaired) if o.key not in sent], len(present))
    md5 = hashlib.md5(manifest_bytes, usedforsecurity=False).hexdigest()
    return dataclasses.replace(done_outcome, manifest_md5=md5, public_read=read_check)


def _unique(outputs: Sequence[Output]) -> list[Output]:
    return list({o.key: o for o in outputs}.values())


# --------------------------------------------------------------------------- reach: listeners and apps

ANONYMOUS_TIMEOUT = 10.0  # seconds for the credential-less fetch before the feed goes up
PUBLIC_READ_HINT = (
    "the feed was not updated; let listeners read it: a bucket policy allowing s3:GetObject on the prefix, "
    "public access on R2/B2, or a CDN in front (publish.public_base_url); a CDN that reads the bucket "
    "privately: set publish.public_read: false"
)


@dataclass(frozen=True)
class ReadCheck:
    """What a listener without credentials got for one object the new feed needs."""

    url: str
    ok: bool  # the object answered with the right size and type
    detail: str  # "HTTP 206, 1234 bytes, audio/mpeg", or why it could not be confirmed


def check_feed(outputs: Sequence[Output]) -> None:
    """Refuse (ContentError, nothing uploaded) a built feed with validator errors, the rule ids listed.

    The same rules as `podcast validate` (offline: URL schemes and the podcast:guid rules need no fetch);
    warnings are advice and never stop a publish.
    """
    for o in outputs:
        if o.kind is not Kind.FEED:
            continue
        data = o.data if isinstance(o.data, bytes) else o.data.read_bytes()
        from pipeline import validate

        report = validate.validate(data, source=o.key)
        errors = [f for f in report.findings if f.severity is validate.Severity.ERROR]
        if errors:
            ids = ", ".join(dict.fromkeys(f.rule for f in errors))
            raise ContentError(
                f"the built feed fails validation ({ids}): {errors[0].message}"
                + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
                file=o.key,
                hint=f"nothing was uploaded; `podcast validate` on the built {o.key} lists every finding",
            )


def create_bucket(show: model.Show, target: storage.Storage, options: Options) -> str | None:
    """--create-bucket on S3: a missing bucket is created, public-read on the prefix unless public_read is
    false. Returns the policy's resource when one was set."""
    if not options.create_bucket or options.dry_run or not isinstance(target, storage.S3Storage):
        return None
    public_read = show.publish.public_read
    if not target.create_bucket(public_read=public_read) or not public_read:
        return None
    return f"arn:aws:s3:::{target.bucket}/{target.prefix}*"


def check_public_read(
    show: model.Show,
    target: storage.Storage,
    public: Sequence[BuiltEpisode],
    uploads: Sequence[Output],
) -> ReadCheck | None:
    """Fetch one object the new feed needs as a listener would (no credentials) before the feed goes up.

    An enclosure just uploaded, else the newest enclosure. 401/403 or the wrong size/type raises
    StorageError (the previous feed stays live); no answer at all is returned as unconfirmed, for a warning.
    Only for S3 targets with publish.public_read (a local folder has no URL of its own to ask).
    """
    if not isinstance(target, storage.S3Storage) or not show.publish.public_read or not public:
        return None
    sent = {o.key for o in uploads}
    built = next((b for b in public if b.audio.key in sent), public[0])
    key, size, mime = built.audio.key, built.audio.size, built.audio.mime
    from pipeline import urls

    url = urls.url(show, key) if show.publish.public_base_url else target.public_url(key)
    got = storage.anonymous_get(url, timeout=ANONYMOUS_TIMEOUT)
    if got.status in (401, 403):
        raise StorageError(
            f"listeners cannot read {url}: HTTP {got.status} without credentials",
            file=target.description,
            hint=PUBLIC_READ_HINT,
        )
    if got.status not in (200, 206):
        why = got.error or f"HTTP {got.status}"
        return ReadCheck(url, False, why)
    wrong = []
    if got.size is not None and got.size != size:
        wrong.append(f"{got.size} bytes, expected {size}")
    if got.content_type is not None and got.content_type != mime:
        wrong.append(f"Content-Type {got.content_type}, expected {mime}")
    if wrong:
        raise StorageError(
            f"listeners get the wrong object at {url}: {'; '.join(wrong)}",
            file=target.description,
            hint="the feed was not updated; check publish.public_base_url points at this bucket and prefix",
        )
    return ReadCheck(url, True, f"HTTP {got.status}, {size} bytes, {mime}")


def announce(show: model.Show, outcome: Outcome) -> tuple[notify.Result, ...]:
    """Podping and WebSub after a publish that changed the feed (never a dry run or an unchanged feed)."""
    if outcome.dry_run or not outcome.feed_updated:
        return ()
    from pipeline import notify

    n = show.notify
    return notify.notify(
        notify.pings(show.feed_url, podping=n.podping, podping_hub=n.podping_hub, websub=n.websub)
    )


def _put(
    target: storage.Storage,
    outputs: Sequence[Output],
    reporter: Reporter,
    label: str,
    entries: Mapping[str, ObjectEntry],
) -> None:
    """Upload `outputs`, each with the sha256 the plan knows (so S3 can take it without boto3)."""
    if not outputs:
        return
    reporter.step(f"{label}: {human.plural(len(outputs), 'file')}")
    target.put_many(
        [
            storage.PutItem(
                o.key,
                o.data,
                o.content_type,
                _cache_control(o),
                entries[o.key].sha256 if o.key in entries else None,
            )
            for o in outputs
        ],
        reporter=reporter,
    )


def _already_present(target: storage.Storage, uploads: Sequence[Output], the_plan: UploadPlan) -> set[str]:
    """Content-addressed uploads a previous, interrupted publish already stored (one listing, no HEADs)."""
    wanted = {o.key: the_plan.entries[o.key].size for o in uploads if o.immutable}
    if not wanted:
        return set()
    prefixes = sorted({key.split("/", 1)[0] + "/" for key in wanted})
    found: set[str] = set()
    for prefix in prefixes:
        for info in target.list(prefix):
            if wanted.get(info.key) == info.size:
                found.add(info.key)
    return found


def _checkpoint(
    target: storage.Storage,
    remote: Manifest | None,
    done: dict[str, ObjectEntry],
    still_ours: Callable[[], None],
) -> None:
    """Record uploaded objects while the live feed and episode list stay as they were."""
    if remote is not None and dict(remote.objects) == done:
        return
    still_ours()
    interim = Manifest(
        version=MANIFEST_VERSION,
        channel_guid=remote.channel_guid if remote else None,
        feed_url=remote.feed_url if remote else None,
        objects=done,
        episodes=dict(remote.episodes) if remote else {},
    )
    target.put(MANIFEST_KEY, interim.to_json(), content_type=MANIFEST_TYPE, cache_control=NO_CACHE)


def _verify_enclosures(
    target: storage.Storage,
    public: Sequence[BuiltEpisode],
    remote: Manifest | None,
    reporter: Reporter,
    *,
    feed_live: bool = False,
    stored: set[str] | frozenset[str] = frozenset(),
) -> list[Output]:
    """HEAD every enclosure a previous feed did not already name; re-send (from the build) any that is missing
    or wrong, then HEAD those again. Returns the re-sent ones; raises StorageError if one still fails.

    Only enclosures the previous feed named count as confirmed: a checkpoint manifest also records media an
    interrupted publish stored, which no HEAD has confirmed since (and the target may have lost).
    """
    confirmed = _confirmed_enclosures(remote)
    # an `audio_url:` enclosure is at another host: not ours to check or re-send
    todo = [b for b in public if not b.audio.external and confirmed.get(b.audio.key) != b.audio.sha256]
    if not todo:
        return []
    if not feed_live:
        reporter.step(f"Checking {human.plural(len(todo), 'enclosure')}")
    # Stored by this publish a moment ago: the PUT's 200 said so (never HEAD twice); the rest are asked.
    asked = [b for b in todo if b.audio.key not in stored]
    found = dict(zip((b.audio.key for b in asked), _enclosure_problems(target, asked), strict=True))
    bad = [b for b in todo if found.get(b.audio.key)]
    if not bad:
        return []
    redo = [
        Output(b.audio.key, b.audio.path, Kind.MEDIA, b.audio.mime, immutable=True)
        for b in {b.audio.key: b for b in bad}.values()
        if b.audio.path is not None
    ]
    _put(target, redo, reporter, "Uploading media", {b.audio.key: _audio_entry(b) for b in bad})
    problems = [p for p in _enclosure_problems(target, bad) if p]
    if problems:
        raise StorageError(
            f"enclosure check failed: {problems[0]}",
            file=target.description,
            hint="feed.xml names it already; publish again"
            if feed_live
            else "the feed was not updated; publish again",
        )
    return redo


def _audio_entry(b: BuiltEpisode) -> ObjectEntry:
    return ObjectEntry(b.audio.key, b.audio.size, b.audio.sha256, b.audio.mime)


def _confirmed_enclosures(remote: Manifest | None) -> dict[str, str]:
    """key -> sha256 of the enclosures the target's previous feed named (confirmed before it went up)."""
    if remote is None:
        return {}
    tails: set[str] = set()  # each "/"-separated tail of each enclosure URL: one of them is its key
    for ep in remote.episodes.values():
        parts = (ep.enclosure_url or "").split("/")
        tails.update("/".join(parts[i:]) for i in range(1, len(parts)))
    return {key: entry.sha256 for key, entry in remote.objects.items() if key in tails}


def _enclosure_problems(target: storage.Storage, todo: Sequence[BuiltEpisode]) -> list[str | None]:
    """For each enclosure (HEADs, the target's worker count at a time): None when served whole and as its
    type, else what is wrong."""

    def problem(b: BuiltEpisode, info: storage.ObjectInfo | None) -> str | None:
        if info is None:
            return f"{b.audio.key} is missing"
        if info.size != b.audio.size:
            return f"{b.audio.key} is {info.size} bytes, expected {b.audio.size}"
        if info.content_type is not None and info.content_type.split(";")[0] != b.audio.mime:
            return f"{b.audio.key} is served as {info.content_type}, expected {b.audio.mime}"
        return None

    infos = target.head_many([b.audio.key for b in todo])
    return [problem(b, info) for b, info in zip(todo, infos, strict=True)]


def _prune_sets(the_plan: UploadPlan, remote: Manifest | None) -> tuple[list[str], list[str]]:
    """(delete, keep): stale objects, except media the previous feed still pointed at (kept one more publish):
    each episode's enclosure, and its alternates and clips as the manifest recorded them."""
    if remote is None:
        return [], []
    referenced = set()
    other_media: set[str] = set()
    for ep in remote.episodes.values():
        if ep.enclosure_url:
            referenced.add(ep.enclosure_url)
        other_media.update(ep.media)
    delete, keep = [], []
    for key in the_plan.stale:
        if key == MANIFEST_KEY or key.startswith(".podcast/"):
            continue
        if key in other_media or any(url.endswith("/" + key) for url in referenced):
            keep.append(key)
        else:
            delete.append(key)
    return delete, keep


@dataclass(frozen=True)
class Status:
    """What differs between a build and the target, for `podcast status`."""

    target: str
    published: bool
    to_upload: tuple[tuple[str, int], ...]
    unchanged: int
    stale: tuple[str, ...]
    refusals: tuple[str, ...]
    new_episodes: tuple[str, ...]
    changed_episodes: tuple[str, ...]
    damaged: tuple[Damage, ...] = ()  # published objects the target no longer serves as recorded
    verified: bool = False  # the whole target was compared (--verify), not only the cheap checks

    @property
    def in_sync(self) -> bool:
        return not self.to_upload


def status(
    show: model.Show,
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    target: storage.Storage,
    *,
    verify: bool = False,
) -> Status:
    """Compare a build with the target's manifest (one GET) and the target itself (the cheap checks, or
    with `verify` the whole listing and checksums). Read-only: repairs are for `publish`."""
    target.ensure_ready()
    prep = checked(prepare(show, outputs, public, target), target, outputs, public, verify)
    return Status(
        target.description,
        prep.remote is not None,
        tuple((o.key, prep.plan.entries[o.key].size) for o in prep.plan.uploads),
        len(prep.plan.unchanged),
        tuple(k for k in prep.plan.stale if not k.startswith(".podcast/")),
        prep.refusals,
        prep.new_slugs,
        prep.changed_slugs,
        prep.damage,
        verify,
    )


# --------------------------------------------------------------------------- the target is checked, not trusted

#: On a target where every check is a request (S3), a publish HEADs the feed and this many of the newest
#: episodes' enclosures every time: a handful of requests, so a no-op stays fast. `--verify` checks all.
CHEAP_ENCLOSURES = 3
_CHECK_WORKERS = 8


@dataclass(frozen=True)
class Damage:
    """A published object the target no longer serves as the manifest records it."""

    key: str
    problem: str  # "missing", "12 bytes, expected 3400", "its bytes differ from the published ones"


def checked(
    prep: Prepared,
    target: storage.Storage,
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    verify: bool = False,
) -> Prepared:
    """`prep` with what the target has lost or damaged planned again, in the safe order.

    The objects checked are the ones the plan leaves alone because the manifest says they are there.
    A folder stats every one (and with `verify` hashes each file); S3 HEADs the feed and the newest
    enclosures (with `verify`, one listing compares every size and ETag). Writes nothing.
    """
    if prep.remote is None or not prep.plan.unchanged:
        return prep
    damage = _target_damage(prep, target, outputs, public, verify)
    if not damage:
        return prep
    lost = {d.key for d in damage}
    trusted = dataclasses.replace(
        prep.remote, objects={k: e for k, e in prep.remote.objects.items() if k not in lost}
    )
    the_plan = plan(outputs, trusted, entries=prep.plan.entries)
    return dataclasses.replace(prep, remote=trusted, plan=the_plan, damage=damage)


def _target_damage(
    prep: Prepared,
    target: storage.Storage,
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    verify: bool,
) -> tuple[Damage, ...]:
    recorded = prep.plan.entries
    by_key = {o.key: o for o in outputs}
    unchanged = [key for key in prep.plan.unchanged if key in by_key]
    infos: list[storage.ObjectInfo | None]
    if verify:
        listing = {info.key: info for info in target.list("")}
        keys = unchanged
        infos = [listing.get(key) for key in keys]
    else:
        if target.cheap_stat:
            keys = unchanged
        else:
            newest = sorted(public, key=lambda b: (b.episode.date, b.episode.slug), reverse=True)
            wanted = {o.key for o in outputs if o.kind is Kind.FEED}
            wanted.update(b.audio.key for b in newest[:CHEAP_ENCLOSURES])
            keys = [key for key in unchanged if key in wanted]
        if target.cheap_stat:
            infos = [target.head(key) for key in keys]
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=_CHECK_WORKERS) as pool:
                infos = list(pool.map(target.head, keys))

    def problem(key: str, info: storage.ObjectInfo | None) -> Damage | None:
        want = recorded[key]
        if info is None:
            return Damage(key, "missing")
        if info.size != want.size:
            return Damage(key, f"{info.size} bytes, expected {want.size}")
        if verify and not target.holds(info, by_key[key].data, want.sha256):
            return Damage(key, "its bytes differ from the published ones")
        return None

    if not verify:
        found = [problem(key, info) for key, info in zip(keys, infos, strict=True)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=_CHECK_WORKERS) as pool:
            found = list(pool.map(problem, keys, infos))
    return tuple(d for d in found if d is not None)


# --------------------------------------------------------------------------- an unchanged show: no model, no build

CACHE_DIR = ".podcast-cache"  # build.CACHE_DIR (publish does not import build; a test keeps them equal)
BUILD_DIR = "build"  # build.BUILD_DIR, likewise
NOOP_RECORD = "publish-noop.json"
_RECORD_VERSION = 1
_PACKAGE = Path(__file__).resolve().parent  # the tool's own files: an upgrade or an edit invalidates a record
_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION")


def _show_file(show_path: Path) -> Path:
    return show_path / "show.yaml" if show_path.is_dir() else show_path


def _record_path(show_path: Path) -> Path:
    return _show_file(show_path).parent / CACHE_DIR / NOOP_RECORD


def _read_record(show_path: Path) -> dict[str, Any] | None:
    try:
        raw = json.loads(_record_path(show_path).read_bytes())
    except (OSError, ValueError):
        return None
    return raw if isinstance(raw, dict) and raw.get("version") == _RECORD_VERSION else None


def _stamp(bases: Sequence[Path], skip: Sequence[str]) -> str:
    """sha256 over (path, size, mtime_ns, inode) of every file under `bases`; hidden folders, __pycache__
    and the folders in `skip` are left out. Stat data only: nothing is read."""
    h = hashlib.sha256()
    skipped = set(skip)
    for base in bases:
        for dirpath, dirs, files in os.walk(os.path.abspath(base)):
            dirs[:] = sorted(
                d
                for d in dirs
                if not d.startswith(".") and d != "__pycache__" and os.path.join(dirpath, d) not in skipped
            )
            for name in sorted(files):
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                h.update(f"{full}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
    return h.hexdigest()


def _out_dir(show_path: Path, out_dir: Path | None) -> str:
    return os.path.abspath(out_dir if out_dir is not None else _show_file(show_path).parent / BUILD_DIR)


def source_stamp(show_path: Path, out_dir: Path | None = None) -> str:
    """The stat fingerprint of a show's sources (show.yaml, episodes/**, artwork: everything in its folder
    but the build, the cache and a local target inside it) and of this tool's code. Take it before a build."""
    record = _read_record(show_path) or {}
    skip = [str(p) for p in record.get("skip", []) if isinstance(p, str)]
    root = _show_file(show_path).parent
    skip += [_out_dir(show_path, out_dir), os.path.abspath(root / "public")]
    return _stamp([root, _PACKAGE], skip)


def unchanged_publish(show_path: Path, out_dir: Path | None, now: Any, stamp: str) -> Outcome | None:
    """The outcome of a publish with nothing to do, found without loading the model or building, or None
    when that cannot be shown (then publish the usual way).

    It holds when the sources' stat `stamp` and the build folder match the last publish's record, the clock
    has not reached the next scheduled episode, the target's manifest is byte for byte the one that publish
    left (one GET), and the cheap checks pass (every published object stat'ed on a folder; the feed and
    newest enclosures HEAD'ed on S3). No lock is taken: nothing is written.
    """
    record = _read_record(show_path)
    try:
        if (
            record is None
            or record.get("sources") != stamp
            or record.get("out_dir") != _out_dir(show_path, out_dir)
            or record.get("env") != {k: os.environ.get(k) for k in _ENV}
        ):
            return None
        import datetime as dt

        if now < dt.datetime.fromisoformat(record["now"]):
            return None
        if record.get("next_change") and now >= dt.datetime.fromisoformat(record["next_change"]):
            return None
        if record.get("build") != _stamp([Path(record["out_dir"])], []):
            return None
        target = storage.open_storage(**record["target"])
        checks = {str(k): int(v) for k, v in record["checks"].items()}
        outcome = Outcome(
            target=str(record["description"]),
            dry_run=False,
            episodes=int(record["episodes"]),
            new_episodes=(),
            changed_episodes=(),
            uploads=(),
            unchanged=int(record["unchanged"]),
            skipped_present=0,
            deleted=(),
            kept_for_grace=(),
            feed_updated=False,
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a record of another shape: the usual way
    lite = storage.open_lite(**record["target"])
    if lite is not None:  # the plain S3 case: a few requests without importing boto3 (~0.3 s)
        try:
            return outcome if _serves_record(lite, record, checks) else None
        except storage.NoPlainAnswer:
            pass  # refused, timed out, 403...: boto3 asks again, and words the error if there is one
        finally:
            lite.close()
    return outcome if _serves_record(target, record, checks) else None


def _serves_record(target: Any, record: Mapping[str, Any], checks: Mapping[str, int]) -> bool:
    """True when the target holds the manifest the record names, byte for byte, and each checked key at
    its recorded size. `target` is a Storage, or a `storage.LiteS3` (its HEADs go one after another on
    one kept-alive connection, faster than starting threads for a handful)."""
    if target.temp_files():
        return False
    data = target.get(MANIFEST_KEY)
    if data is None or hashlib.md5(data, usedforsecurity=False).hexdigest() != record.get("manifest_md5"):
        return False
    keys = sorted(checks)
    if target.cheap_stat or isinstance(target, storage.LiteS3):
        infos = [target.head(k) for k in keys]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=_CHECK_WORKERS) as pool:
            infos = list(pool.map(target.head, keys))
    return not any(info is None or info.size != checks[k] for k, info in zip(keys, infos, strict=True))


def _output_size(o: Output) -> int:
    return o.data.stat().st_size if isinstance(o.data, Path) else len(o.data)


def remember_publish(
    show_path: Path,
    out_dir: Path | None,
    stamp: str,
    show: model.Show,
    episodes: Sequence[model.Episode],
    outputs: Sequence[Output],
    public: Sequence[BuiltEpisode],
    target: storage.Storage,
    outcome: Outcome,
    now: Any,
) -> None:
    """After a publish that left the target serving this build, record what `unchanged_publish` checks.
    A record that cannot be written is no error (the next publish just takes the usual way)."""
    path = _record_path(show_path)
    if outcome.dry_run or (outcome.refusals and not outcome.forced):
        return
    skip = []
    if show.publish.target == "local":
        skip.append(os.path.abspath(show.publish_dir))
        params: dict[str, Any] = {"kind": "local", "path": str(show.publish_dir)}
    else:
        p = show.publish
        params = {
            "kind": "s3",
            "bucket": p.bucket,
            "prefix": p.prefix,
            "region": p.region,
            "endpoint_url": p.endpoint_url,
            "profile": p.profile,
        }
    if outcome.manifest_md5 is None:
        return
    built = {o.key for o in outputs}
    if target.cheap_stat:
        wanted = built
    else:
        newest = sorted(public, key=lambda b: (b.episode.date, b.episode.slug), reverse=True)
        wanted = {o.key for o in outputs if o.kind is Kind.FEED}
        wanted.update(b.audio.key for b in newest[:CHEAP_ENCLOSURES])
    future = [ep.date for ep in episodes if ep.date > now]
    record = {
        "version": _RECORD_VERSION,
        "sources": stamp,
        "skip": skip,
        "out_dir": _out_dir(show_path, out_dir),
        "build": _stamp([Path(_out_dir(show_path, out_dir))], []),
        "env": {k: os.environ.get(k) for k in _ENV},
        "now": now.isoformat(),
        "next_change": min(future).isoformat() if future else None,
        "target": params,
        "description": target.description,
        "manifest_md5": outcome.manifest_md5,
        "checks": {o.key: _output_size(o) for o in outputs if o.key in wanted},
        "episodes": len(public),
        "unchanged": len(built),
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        return
