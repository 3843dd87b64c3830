"""Moving bytes under keys: the `Storage` protocol, a local-folder and an S3 implementation, and the target lock."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import io
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import quote

from pipeline import rules
from pipeline.errors import PipelineError, StorageError, TargetLocked
from pipeline.progress import NullReporter, Reporter, Task

if TYPE_CHECKING:
    from concurrent.futures import Future

    import botocore.exceptions as bce

# An unchanged publish imports this module and makes a few requests: what only a write, a lock or boto3
# needs (uuid, socket, shutil, concurrent.futures, urllib.request, logging) is imported where it is used.

LOCK_KEY = ".podcast/lock.json"
MiB = 1024 * 1024

_NULL_REPORTER = NullReporter()
_TMP_SUFFIX = ".podcast-tmp"
_LOCK_SETTLE_READS = 5  # an unreadable lock is read this many more times before it is called unreadable
_LOCK_SETTLE_WAIT = 0.1  # seconds between those reads
T = TypeVar("T")


@dataclass(frozen=True)
class ObjectInfo:
    """What the target knows about one stored object."""

    key: str  # relative to the storage root/prefix, as passed to `put`
    size: int  # bytes
    content_type: str | None  # None for local folders (the file system keeps none)
    etag: str | None  # S3 ETag without quotes; None for local folders
    cache_control: str | None = None  # filled by `head` on S3; None from `list` and for local folders


@dataclass(frozen=True)
class PutItem:
    """One object to upload with `put_many`."""

    key: str
    data: bytes | Path  # bytes in memory, or a file that is streamed (never read whole when large)
    content_type: str
    cache_control: str
    #: The bytes' sha256 (hex) when the caller knows it (a publish's plan does): on S3 a small object then
    #: goes up in one PUT signed over it, without boto3 (see `S3Storage._put_lite`).
    sha256: str | None = None


@dataclass(frozen=True)
class LockInfo:
    """Who holds a target's lock, as stored in `.podcast/lock.json`."""

    owner: str  # free text from the caller, e.g. "podcast publish (alice)"
    host: str
    pid: int
    created: str  # RFC 3339, UTC, whole seconds
    token: str  # random; tells this lock apart from a later one by the same owner

    @classmethod
    def new(cls, owner: str) -> LockInfo:
        import socket
        import uuid

        created = datetime.now(UTC).isoformat(timespec="seconds")
        return cls(owner, socket.gethostname(), os.getpid(), created, uuid.uuid4().hex)

    def to_json(self) -> bytes:
        fields = {
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "created": self.created,
            "token": self.token,
        }
        return json.dumps(fields, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> LockInfo | None:
        """The lock in `data`, or None when it is not a lock file we can read."""
        try:
            raw = json.loads(data)
            info = cls(
                str(raw["owner"]), str(raw["host"]), int(raw["pid"]), str(raw["created"]), str(raw["token"])
            )
            datetime.fromisoformat(info.created)
        except (ValueError, KeyError, TypeError):
            return None
        return info

    def age(self, now: datetime | None = None) -> float:
        """Seconds since the lock was taken (negative if the holder's clock is ahead)."""
        created = datetime.fromisoformat(self.created)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return ((now or datetime.now(UTC)) - created).total_seconds()


def human_age(seconds: float) -> str:
    """'45 s', '12 min', '3 h 5 min', '2 d 4 h': how long ago, for messages."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


class Lock:
    """A held target lock. `release()` deletes it (only if it is still ours); usable as a context manager."""

    def __init__(self, backend: _BaseStorage, info: LockInfo, replaced: LockInfo | None) -> None:
        self._backend = backend
        self.info = info
        self.replaced = replaced  # the stale or broken lock this one replaced, for a warning
        self.released = False

    @property
    def owner(self) -> str:
        return self.info.owner

    def holder(self) -> LockInfo | None:
        """Whoever holds the target's lock now (None when there is no lock)."""
        data = self._backend.get(LOCK_KEY)
        return None if data is None else LockInfo.from_json(data)

    def check(self) -> None:
        """Raise TargetLocked if someone broke this lock since it was taken (call before the feed PUT)."""
        holder = self.holder()
        if holder is None or holder.token != self.info.token:
            raise TargetLocked(
                "our publish lock was removed or taken over by another publish",
                file=self._backend.description,
                hint="another publish may be running; run publish again when it has finished",
            )

    def release(self) -> bool:
        """Delete the lock if it is still ours. Returns False when it was gone or someone else's."""
        if self.released:
            return False
        self.released = True
        holder = self.holder()
        if holder is None or holder.token != self.info.token:
            return False
        self._backend.delete([LOCK_KEY])
        return True

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            self.release()
            return
        with contextlib.suppress(PipelineError):  # the target is failing already; show the first error
            self.release()

    def __repr__(self) -> str:
        return f"Lock(owner={self.info.owner!r}, host={self.info.host!r}, created={self.info.created!r})"


class Storage(Protocol):
    """Bytes under keys in one target. Keys are relative ('episodes/a/index.html'); no podcast knowledge."""

    description: str  # "s3://bucket/prefix" or "folder public/": names the target in messages, no secrets
    reporter: Reporter  # where the target reports waiting (an S3 retry after a timeout)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Size, type and ETag of an object, or None when it does not exist."""
        ...

    def head_many(self, keys: Sequence[str]) -> list[ObjectInfo | None]:
        """`head` of each key (concurrently where a HEAD is a request), in the order given."""
        ...

    def put(
        self,
        key: str,
        data: bytes | Path,
        *,
        content_type: str,
        cache_control: str,
        reporter: Reporter = _NULL_REPORTER,
    ) -> None:
        """Store one object (replacing any), atomically: readers see the old or the new object, never half."""
        ...

    def put_many(self, items: Sequence[PutItem], *, reporter: Reporter = _NULL_REPORTER) -> None:
        """Store many objects concurrently; return when all are stored, or raise the first failure."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Delete objects; keys that do not exist are ignored."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key."""
        ...

    def acquire_lock(self, owner: str, *, break_lock: bool = False, stale_after: float | None = 3600) -> Lock:
        """Take the target's lock or raise TargetLocked naming the holder and its age."""
        ...

    def ensure_ready(self, *, create: bool = False) -> None:
        """Check the target is reachable and usable (one cheap call); create it only when `create`."""
        ...

    def close(self) -> None:
        """Release connections (safe to call twice; the storage reconnects if used again)."""
        ...

    # Checking the target against what was recorded (issue 14). `cheap_stat` is True when a `head` costs a
    # system call rather than a request, so a publish can afford one for every published object.
    cheap_stat: bool

    def holds(self, info: ObjectInfo, data: bytes | Path, sha256: str) -> bool:
        """True when the stored object `info` (from `list` or `head`) has exactly these bytes, as far as
        the target can tell (a folder hashes its file; S3 compares the ETag with one computed from `data`)."""
        ...

    def temp_files(self) -> tuple[str, ...]:
        """Temporary files a killed write left behind (paths relative to the root); none on S3."""
        ...

    def sweep_temp_files(self) -> tuple[str, ...]:
        """Delete `temp_files()` (call it holding the lock); returns what was removed."""
        ...


def _check_key(key: str) -> str:
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\0" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise StorageError(
            f"invalid object key {key!r}", hint="keys are relative paths like 'episodes/a/b.mp3'"
        )
    return key


def _size(data: bytes | Path) -> int:
    if isinstance(data, bytes | bytearray | memoryview):
        return len(data)
    try:
        return data.stat().st_size
    except OSError as err:
        raise StorageError(f"cannot read the file to upload: {err.strerror}", file=data) from err


class _LockedTask:
    """Serialises one Task shared by upload threads."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self._lock = threading.Lock()

    def advance(self, amount: float) -> None:
        with self._lock:
            self._task.advance(amount)

    def close(self) -> None:
        with self._lock:
            self._task.close()


class _BaseStorage:
    """What both targets share: key checks, the concurrent `put_many` and the lock protocol."""

    description: str
    workers: int
    #: Where a target says what it is waiting for (an S3 retry after a timeout); the CLI sets its own.
    reporter: Reporter = _NULL_REPORTER

    # -- implemented by each target ------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        raise NotImplementedError

    def head(self, key: str) -> ObjectInfo | None:
        raise NotImplementedError

    def _head_one(self, key: str) -> ObjectInfo | None:
        return self.head(key)

    def delete(self, keys: Sequence[str]) -> None:
        raise NotImplementedError

    def _is_large(self, size: int) -> bool:
        raise NotImplementedError

    def _put_one(self, item: PutItem, size: int, progress: Callable[[float], None] | None) -> None:
        raise NotImplementedError

    def _create_exclusive(self, key: str, data: bytes) -> bool:
        """Create `key` only if it does not exist; False when it exists."""
        raise NotImplementedError

    def _read_tagged(self, key: str) -> tuple[bytes | None, object]:
        """The object's bytes and a version tag for `_replace_if`."""
        raise NotImplementedError

    def _replace_if(self, key: str, data: bytes, tag: object) -> bool:
        """Overwrite `key` only if it is still at version `tag`; False when it changed."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------
    def head_many(self, keys: Sequence[str]) -> list[ObjectInfo | None]:
        """`head` of each key, `workers` at a time, in the order given."""
        if len(keys) <= 1:
            return [self._head_one(key) for key in keys]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="storage-head") as pool:
            return list(pool.map(self._head_one, keys))

    def put(
        self,
        key: str,
        data: bytes | Path,
        *,
        content_type: str,
        cache_control: str,
        reporter: Reporter = _NULL_REPORTER,
    ) -> None:
        """Store one object. Large files report progress as a task labelled with the key."""
        item = PutItem(_check_key(key), data, content_type, cache_control)
        size = _size(data)
        if not self._is_large(size):
            self._put_one(item, size, None)
            return
        task = _LockedTask(reporter.task(key, size, "B"))  # advanced from the transfer's threads
        try:
            self._put_one(item, size, task.advance)
        finally:
            task.close()

    def put_many(self, items: Sequence[PutItem], *, reporter: Reporter = _NULL_REPORTER) -> None:
        """Store `items` with a thread pool; one progress task (bytes) covers the batch.

        Small objects go `workers` at a time; large files go one at a time (each uploads its parts
        concurrently), so memory stays flat. On the first failure no new uploads start; the ones in
        flight settle, then that failure is raised. Returns only when every object is stored.
        """
        items = list(items)
        if not items:
            return
        sizes = [_size(item.data) for item in items]
        for item in items:
            _check_key(item.key)
        n = len(items)
        task = _LockedTask(reporter.task(f"upload {n} object{'s' if n != 1 else ''}", sum(sizes), "B"))
        stop = threading.Event()
        failures: list[BaseException] = []
        failures_lock = threading.Lock()

        def fail(err: BaseException) -> None:
            with failures_lock:
                failures.append(err)
            stop.set()

        def upload(item: PutItem, size: int, progress: Callable[[float], None] | None) -> None:
            if stop.is_set():
                return
            try:
                self._put_one(item, size, progress)
            except BaseException as err:
                fail(err)
                return
            if progress is None:
                task.advance(size)

        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="storage-put")
        futures: list[Future[None]] = []
        try:
            large = []
            for item, size in zip(items, sizes, strict=True):
                if self._is_large(size):
                    large.append((item, size))
                else:
                    futures.append(pool.submit(upload, item, size, None))
            for item, size in large:
                upload(item, size, task.advance)
            for future in futures:
                future.result()
        finally:
            stop.set()  # when interrupted: start nothing new
            pool.shutdown(wait=True, cancel_futures=True)
            task.close()
        if failures:
            raise failures[0]

    def acquire_lock(self, owner: str, *, break_lock: bool = False, stale_after: float | None = 3600) -> Lock:
        """Take `.podcast/lock.json` for `owner`.

        If another lock is there, raise TargetLocked naming its owner, host and age, unless `break_lock`
        is set or the lock is older than `stale_after` seconds (None: never stale); then replace it and
        record it in `Lock.replaced`. The lock is read back to confirm we won any race.
        """
        info = LockInfo.new(owner)
        payload = info.to_json()
        replaced: LockInfo | None = None
        for _attempt in range(3):
            if self._create_exclusive(LOCK_KEY, payload):
                break
            data, tag = self._read_tagged(LOCK_KEY)
            if data is None:
                continue  # released between our two calls: try again
            held = LockInfo.from_json(data)
            if held is None:
                data, tag, held = self._settled_lock(data, tag)
                if data is None:
                    continue
            stale = held is not None and stale_after is not None and held.age() > stale_after
            if not (break_lock or stale):
                raise self._locked_error(held)
            if self._replace_if(LOCK_KEY, payload, tag):
                replaced = held
                break
        else:
            raise self._locked_error(None, "the lock changed hands while we tried to take it")
        current = self.get(LOCK_KEY)
        if current != payload:
            raise self._locked_error(
                None if current is None else LockInfo.from_json(current),
                "another publish took the lock at the same moment",
            )
        return Lock(self, info, replaced)

    def _settled_lock(self, data: bytes, tag: object) -> tuple[bytes | None, object, LockInfo | None]:
        """An unreadable lock read again a few times: a writer that is not atomic (an older version of this
        tool, or an S3 service without conditional writes) may be halfway through it. (bytes, tag, lock)."""
        held = None
        for _ in range(_LOCK_SETTLE_READS):
            time.sleep(_LOCK_SETTLE_WAIT)
            data_now, tag = self._read_tagged(LOCK_KEY)
            if data_now is None:
                return None, None, None
            data = data_now
            held = LockInfo.from_json(data)
            if held is not None:
                break
        return data, tag, held

    def _locked_error(self, held: LockInfo | None, why: str = "") -> TargetLocked:
        hint = "wait for that publish to finish; if it crashed, pass --break-lock"
        if held is None:
            what = why or f"locked, but the lock file {LOCK_KEY} is unreadable"
            return TargetLocked(what, file=self.description, hint=hint)
        what = (
            f"locked by {held.owner} on {held.host} (pid {held.pid}) since {held.created}, "
            f"{human_age(held.age())} ago"
        )
        if why:
            what = f"{why}: {what}"
        return TargetLocked(what, file=self.description, hint=hint)


# ---------------------------------------------------------------------------------------------
# Local folder
# ---------------------------------------------------------------------------------------------

# errno -> (what went wrong, how to fix it); anything else falls back to the OS's words.
_OS_ERRORS: dict[int, tuple[str, str]] = {
    errno.EACCES: (
        "permission denied",
        "make the folder writable for this user, or publish to another folder",
    ),
    errno.EPERM: (
        "operation not permitted (the folder is read-only or immutable)",
        "make the folder writable for this user, or publish to another folder",
    ),
    errno.EROFS: ("the file system is read-only", "remount it read-write, or publish to another folder"),
    errno.ENOTDIR: (
        "part of the path is a file, not a folder",
        "move that file away, or publish to another folder",
    ),
    errno.EEXIST: (
        "part of the path is a file, not a folder",
        "move that file away, or publish to another folder",
    ),
    errno.EISDIR: ("a folder is in the way", "move that folder away, or publish to another folder"),
    errno.ENOSPC: ("no space left on the device", "free some space, then publish again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space, then publish again"),
    errno.ENAMETOOLONG: ("the file name is too long", "use shorter slugs"),
}


def _random_hex() -> str:
    """8 random hex digits for a temp file's name."""
    return os.urandom(4).hex()


#: `.<name>.<8 hex>.podcast-tmp`: what `LocalStorage._write_atomic` (and the `ensure_ready` probe) writes first.
_TMP_PATTERN = re.compile(r"^\..+\.[0-9a-f]{8}" + re.escape(_TMP_SUFFIX) + "$")


class LocalStorage(_BaseStorage):
    """A folder on disk laid out exactly as served. Writes are atomic (temp file + rename)."""

    cheap_stat = True

    def __init__(self, root: str | Path, *, fsync: bool = False, workers: int = 8) -> None:
        self.root = Path(root)
        self.fsync = fsync  # flush each file to disk before it replaces the old one
        self.workers = workers
        self.description = f"folder {str(self.root).rstrip('/')}/"

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def _os_error(self, err: OSError, action: str, key: str | None) -> StorageError:
        reason, hint = _OS_ERRORS.get(err.errno or 0, (err.strerror or str(err), ""))
        where = f" {key}" if key else ""
        return StorageError(f"cannot {action}{where}: {reason}", file=self.description, hint=hint)

    def _is_large(self, size: int) -> bool:
        return False  # files are streamed by the kernel (copyfile/sendfile); progress per file is enough

    def _write_atomic(self, key: str, data: bytes | Path, *, exclusive: bool = False) -> bool:
        path = self._path(key)
        if isinstance(data, Path):
            try:
                with data.open("rb"):
                    pass
            except OSError as err:
                raise StorageError(f"cannot read the file to upload: {err.strerror}", file=data) from err
        tmp = path.with_name(f".{path.name}.{_random_hex()}{_TMP_SUFFIX}")
        target = path if exclusive else tmp
        opened = False
        problem: StorageError | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            problem = self._os_error(err, "write", key)
            raise problem from None
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            opened = True
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, Path):
                    from shutil import copyfileobj

                    with data.open("rb") as src:
                        copyfileobj(src, out, 1024 * 1024)
                else:
                    out.write(data)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            if not exclusive:
                os.replace(tmp, path)
        except OSError as err:
            if exclusive and not opened and isinstance(err, FileExistsError):
                return False
            problem = self._os_error(err, "write", key)
        if problem is not None:
            if opened:
                target.unlink(missing_ok=True)
            raise problem
        return True

    def _put_one(self, item: PutItem, size: int, progress: Callable[[float], None] | None) -> None:
        self._write_atomic(item.key, item.data)
        if progress is not None:
            progress(size)

    def get(self, key: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as err:
            problem = self._os_error(err, "read", key)
        raise problem

    def head(self, key: str) -> ObjectInfo | None:
        """The file's size (content type and ETag are None: a folder keeps neither)."""
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as err:
            problem = self._os_error(err, "read", key)
            raise problem from None
        if not path.is_file():
            return None
        return ObjectInfo(key, st.st_size, None, None)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every file whose key starts with `prefix`, sorted by key (temp files of a running write excluded)."""
        base = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not base.is_dir():
            return
        found: list[ObjectInfo] = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith(_TMP_SUFFIX):
                    continue
                full = Path(dirpath, name)
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    try:
                        size = full.stat().st_size
                    except FileNotFoundError:
                        continue
                    found.append(ObjectInfo(key, size, None, None))
        yield from sorted(found, key=lambda info: info.key)

    def delete(self, keys: Sequence[str]) -> None:
        """Delete files, then any folders left empty (up to the root)."""
        root = self.root.resolve()
        for key in keys:
            path = self._path(key)
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                problem = self._os_error(err, "delete", key)
                raise problem from None
            parent = path.parent
            while parent.resolve() != root:
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent

    def ensure_ready(self, *, create: bool = False) -> None:
        """Check the folder is writable (a real probe write).

        A missing folder is created when its parent exists (the default `public/` next to show.yaml) or
        when `create` is set (then with all missing parents); a missing parent is otherwise an error,
        since it usually means a mistyped path.
        """
        if self.root.exists() and not self.root.is_dir():
            raise StorageError(
                "is a file, not a folder", file=self.description, hint="point publish.path at a folder"
            )
        if not self.root.is_dir():
            if not create and not self.root.parent.is_dir():
                raise StorageError(
                    f"neither the folder nor its parent {self.root.parent} exists",
                    file=self.description,
                    hint="create it, or pass --create-bucket",
                )
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                problem = self._os_error(err, "create the folder", None)
                raise problem from None
        probe = self.root / f".probe.{_random_hex()}{_TMP_SUFFIX}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.close(fd)
            probe.unlink(missing_ok=True)  # a concurrent publish's sweep may have removed it already
        except OSError as err:
            problem = self._os_error(err, "write", None)
            raise problem from None

    def close(self) -> None:
        """Nothing to release for a folder."""

    def _create_exclusive(self, key: str, data: bytes) -> bool:
        """Write the whole lock to a temp file, then hard-link it into place (fails if the lock exists).

        The lock appears complete or not at all, so a concurrent publish reads "held", never a half-written
        (unreadable) lock. Where hard links are not supported, falls back to an exclusive create.
        """
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{_random_hex()}{_TMP_SUFFIX}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
        except OSError as err:
            tmp.unlink(missing_ok=True)
            problem = self._os_error(err, "write", key)
            raise problem from None
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                problem = self._os_error(err, "write", key)
                raise problem from None
            return self._write_atomic(key, data, exclusive=True)  # no hard links here
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def holds(self, info: ObjectInfo, data: bytes | Path, sha256: str) -> bool:
        """Hash the stored file (in chunks) and compare with `sha256`."""
        path = self._path(info.key)
        try:
            with path.open("rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest() == sha256
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return False
        except OSError as err:
            problem = self._os_error(err, "read", info.key)
        raise problem

    def temp_files(self) -> tuple[str, ...]:
        """Every `.*.<8 hex>.podcast-tmp` file under the folder, sorted."""
        if not self.root.is_dir():
            return ()
        return tuple(
            sorted(
                Path(dirpath, name).relative_to(self.root).as_posix()
                for dirpath, _dirs, files in os.walk(self.root)
                for name in files
                if name.endswith(_TMP_SUFFIX) and _TMP_PATTERN.match(name)
            )
        )

    def sweep_temp_files(self) -> tuple[str, ...]:
        """Delete the temp files a killed publish left (hold the lock: a running write owns its own)."""
        removed: tuple[str, ...] = ()
        for rel in self.temp_files():
            try:
                (self.root / rel).unlink()
            except FileNotFoundError:
                continue
            except OSError as err:
                problem = self._os_error(err, "delete", rel)
                raise problem from None
            removed += (rel,)
        return removed

    def _read_tagged(self, key: str) -> tuple[bytes | None, object]:
        data = self.get(key)
        return data, data

    def _replace_if(self, key: str, data: bytes, tag: object) -> bool:
        if self.get(key) != tag:
            return False
        self._write_atomic(key, data)
        return True


# ---------------------------------------------------------------------------------------------
# S3 and S3-compatible services
# ---------------------------------------------------------------------------------------------

_BUCKET_HINT = "create it, or pass --create-bucket"
_CREDENTIALS_HINT = (
    "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS profile "
    "(credentials come only from the standard AWS chain)"
)
_PERMISSION_HINT = "the credentials work but lack permission here; check the bucket policy or IAM policy"
_RETRY_HINT = "publish again later; it resumes where it stopped"

# S3 error code -> (message, hint). {what} is the key or bucket, {bucket} the bucket, {action} the verb.
_S3_ERRORS: dict[str, tuple[str, str]] = {
    "NoSuchBucket": ("bucket '{bucket}' does not exist", _BUCKET_HINT),
    "InvalidAccessKeyId": ("the server does not know this access key id", _CREDENTIALS_HINT),
    "SignatureDoesNotMatch": ("the secret access key does not match the access key id", _CREDENTIALS_HINT),
    "AccessDenied": ("access denied: cannot {action} {what}", _PERMISSION_HINT),
    "AllAccessDisabled": ("access to bucket '{bucket}' is disabled", _PERMISSION_HINT),
    "403": ("access denied: cannot {action} {what} (wrong credentials, or no permission)", _CREDENTIALS_HINT),
    "InvalidToken": ("the session token is invalid", "refresh the credentials (e.g. aws sso login)"),
    "ExpiredToken": ("the credentials have expired", "refresh the credentials (e.g. aws sso login)"),
    "TokenRefreshRequired": ("the credentials have expired", "refresh the credentials (e.g. aws sso login)"),
    "RequestExpired": ("the request expired", "check this computer's clock"),
    "RequestTimeTooSkewed": (
        "this computer's clock differs too much from the server's",
        "set the clock (NTP), then publish again",
    ),
    "InvalidBucketName": (
        "'{bucket}' is not a valid bucket name",
        "use 3-63 lowercase letters, digits, dots and hyphens",
    ),
    "PermanentRedirect": (
        "bucket '{bucket}' is in another region",
        "set publish.region to the bucket's region",
    ),
    "AuthorizationHeaderMalformed": (
        "bucket '{bucket}' is in another region",
        "set publish.region to the bucket's region",
    ),
    "301": ("bucket '{bucket}' is in another region", "set publish.region to the bucket's region"),
    "BucketAlreadyExists": (
        "bucket name '{bucket}' is taken by another account",
        "choose another bucket name",
    ),
    "EntityTooLarge": ("{what} is larger than the server accepts", "check the server's upload size limit"),
    "SlowDown": ("the server asks us to slow down", _RETRY_HINT),
    "ServiceUnavailable": ("the server is unavailable", _RETRY_HINT),
    "503": ("the server is unavailable", _RETRY_HINT),
    "InternalError": ("the server failed ({code})", _RETRY_HINT),
    "500": ("the server failed ({code})", _RETRY_HINT),
    "NotImplemented": ("the server does not support this request", "use an S3 service that supports it"),
}


def _load_aws() -> SimpleNamespace:
    """boto3, botocore and s3transfer, imported on first S3 use: they cost ~0.2 s, which local targets skip.

    Each S3Storage keeps the result (`S3Storage._aws`); nothing is kept at module level."""
    _quiet_aws_loggers()
    import boto3
    import botocore.exceptions as bce
    from boto3.s3.transfer import TransferConfig, create_transfer_manager
    from botocore.config import Config
    from s3transfer.subscribers import BaseSubscriber

    class Progress(BaseSubscriber):  # type: ignore[misc]
        def __init__(self, advance: Callable[[float], None]) -> None:
            self._advance = advance

        def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
            self._advance(bytes_transferred)

    # botocore failures that never reached a response, most specific first.
    errors: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str, str], ...] = (
        (
            bce.NoCredentialsError,
            "no AWS credentials found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / publish.profile, or use an instance role",
        ),
        (
            bce.PartialCredentialsError,
            "the AWS credentials are incomplete (an access key id without its secret?)",
            _CREDENTIALS_HINT,
        ),
        (
            bce.ProfileNotFound,
            "AWS profile '{profile}' does not exist",
            "check publish.profile or AWS_PROFILE against ~/.aws/config",
        ),
        (bce.NoRegionError, "no AWS region set", "set publish.region or AWS_DEFAULT_REGION"),
        (
            (bce.UnauthorizedSSOTokenError, bce.SSOTokenLoadError, bce.TokenRetrievalError),
            "the AWS SSO session has expired or is missing",
            "run aws sso login",
        ),
        (bce.CredentialRetrievalError, "the AWS credentials could not be loaded", _CREDENTIALS_HINT),
        (
            bce.SSLError,
            "TLS failed talking to {endpoint}",
            "check endpoint_url (http vs https) and certificates",
        ),
        (
            (bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ProxyConnectionError),
            "cannot reach {endpoint}",
            "check endpoint_url and that the server is running and reachable",
        ),
        (
            bce.ReadTimeoutError,
            "{endpoint} accepted the connection but did not answer in time",
            "check endpoint_url and the server; " + _RETRY_HINT,
        ),
        (
            (
                bce.ConnectionClosedError,
                bce.ResponseStreamingError,
                bce.IncompleteReadError,
                bce.HTTPClientError,
                bce.ConnectionError,
            ),
            "the connection to {endpoint} failed mid-request",
            "check the server and network; " + _RETRY_HINT,
        ),
    )
    return SimpleNamespace(
        boto3=boto3,
        bce=bce,
        Config=Config,
        TransferConfig=TransferConfig,
        create_transfer_manager=create_transfer_manager,
        Progress=Progress,
        errors=errors,
    )


_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_SINGLE_PUT_LIMIT = 5 * 1024**3  # S3's largest object for one PutObject
_PRECONDITION = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_UNSUPPORTED = frozenset({"NotImplemented", "501"})
_KEY_PATTERN = re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA)[A-Z0-9]{12,}\b")


def _quiet_aws_loggers() -> None:
    """botocore at DEBUG logs request headers and signing material that name the access key id."""
    import logging

    for name in ("botocore", "boto3", "s3transfer"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


class S3Failure(Exception):
    """The cause chained to an S3 StorageError: what the service said, with credentials scrubbed."""


class _Secrets:
    """Known credential values, for scrubbing; prints as nothing."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, *values: str | None) -> None:
        self._values.update(v for v in values if v and len(v) >= 4)

    def scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "***")
        return _KEY_PATTERN.sub("***", text)

    def __repr__(self) -> str:
        return "<secrets hidden>"


def _env_seconds(name: str) -> float | None:
    """A positive number of seconds from the environment, or None when unset or not a number."""
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value < 3600 else None


class S3Storage(_BaseStorage):
    """An S3 bucket (AWS, R2, B2, MinIO, SeaweedFS...) under an optional key prefix.

    Credentials come only from the standard AWS chain (env vars, `profile`, instance role). One
    thread-safe client is shared by all uploads. Objects below `multipart_threshold` go up with one
    PutObject; larger files are streamed in `multipart_chunksize` parts by boto3's transfer manager.
    """

    cheap_stat = False  # a HEAD is a request: a publish checks only a handful every time

    def __init__(
        self,
        bucket: str,
        prefix: str | None = None,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        workers: int = 16,
        multipart_threshold: int = 32 * MiB,
        multipart_chunksize: int = 16 * MiB,
        multipart_concurrency: int = 4,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.prefix = (prefix or "").strip("/") + "/" if (prefix or "").strip("/") else ""
        self.region = region
        self.endpoint_url = endpoint_url
        self.profile = profile
        self.workers = workers
        self.multipart_threshold = multipart_threshold
        self.multipart_chunksize = multipart_chunksize
        self.multipart_concurrency = multipart_concurrency
        # Bounded: a server that accepts connections and never answers fails a request in at most
        # max_attempts * (connect_timeout + read_timeout) seconds. PODCAST_S3_TIMEOUT caps both.
        cap = _env_seconds("PODCAST_S3_TIMEOUT")
        self.connect_timeout = min(connect_timeout or 5.0, cap or 5.0)
        self.read_timeout = min(read_timeout or 20.0, cap or 20.0)
        self.max_attempts = max(1, min(max_attempts, 5))
        self.description = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._secrets = _Secrets()
        self._client_lock = threading.Lock()
        self._client_obj: Any = None
        self._aws_ns: SimpleNamespace | None = None
        # The boto3-free PUT (s3lite): one connection per upload thread; off for good after any answer
        # that is not a plain 200, so boto3's retries and error messages decide from then on.
        self._lite_local = threading.local()
        self._lite_readers: list[Any] = []
        self._lite_on: bool | None = None  # None: not tried yet
        self._observers: list[Callable[[str, str, dict[str, Any]], None]] = []

    def __repr__(self) -> str:
        endpoint = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3Storage({self.description!r}{endpoint})"

    def observe(self, callback: Callable[[str, str, dict[str, Any]], None]) -> None:
        """Call `callback(operation, key with prefix, params)` before each request, by either transport
        (boto3 or the small PUT client): what a test or a diagnosis sees of the conversation."""
        self._observers.append(callback)

    def _tell(self, model: Any = None, params: dict[str, Any] | None = None, **_: Any) -> None:
        """boto3's before-parameter-build event, passed on to the observers."""
        for callback in self._observers:
            callback(model.name, str((params or {}).get("Key", "")), dict(params or {}))

    # -- the client and error translation ------------------------------------------------------
    def _aws(self) -> SimpleNamespace:
        """The AWS libraries, imported on this target's first use and kept with it."""
        if self._aws_ns is None:
            self._aws_ns = _load_aws()
        return self._aws_ns

    def _client(self) -> Any:
        with self._client_lock:
            if self._client_obj is None:
                self._client_obj, _ = self._call("connect", None, self._make_client)
            return self._client_obj

    def _make_client(self) -> Any:
        aws = self._aws()
        session = aws.boto3.session.Session(profile_name=self.profile, region_name=self.region)
        credentials = session.get_credentials()
        if credentials is None:
            raise aws.bce.NoCredentialsError()
        frozen = credentials.get_frozen_credentials()
        self._secrets.add(frozen.access_key, frozen.secret_key, frozen.token)
        config = aws.Config(
            signature_version="s3v4",
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            max_pool_connections=self.workers + self.multipart_concurrency,
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            # Newer botocore adds CRC checksums to every PUT; several S3-compatible services reject them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            client = session.client("s3", endpoint_url=self.endpoint_url, config=config)
        except ValueError as err:
            raise StorageError(
                f"endpoint_url {self.endpoint_url!r} is not a valid URL",
                file=self.description,
                hint="write it like https://s3.example.com",
            ) from err
        client.meta.events.register("before-sign.s3.PutObject", _drop_expect_header)
        client.meta.events.register("needs-retry.s3", self._note_retry)
        client.meta.events.register("before-parameter-build.s3", self._tell)
        _resolve_endpoint_once_per_bucket(client)
        return client

    def _note_retry(self, attempts: int = 0, caught_exception: BaseException | None = None, **_: Any) -> None:
        """Progress while a silent or failing endpoint is retried (botocore's retry handler decides)."""
        if caught_exception is not None and attempts < self.max_attempts:
            self.reporter.warn(
                f"{self._endpoint} did not answer ({type(caught_exception).__name__}); "
                f"trying again ({attempts + 1} of {self.max_attempts})"
            )

    @property
    def _endpoint(self) -> str:
        if self.endpoint_url:
            return self.endpoint_url
        return f"the S3 endpoint for region {self.region}" if self.region else "the S3 endpoint"

    def _call(
        self, action: str, key: str | None, fn: Callable[[], T], *, expect: frozenset[str] = frozenset()
    ) -> tuple[T | None, str | None]:
        """Run one S3 request: (result, None), or (None, code) for an expected error code.

        Any other failure becomes one StorageError. It is raised outside the `except` block, with a
        scrubbed S3Failure as its cause, so no botocore exception (whose response may carry the access
        key id) is anywhere in its __cause__/__context__ chain, even under --debug.
        """
        bce = self._aws().bce
        try:
            return fn(), None
        except bce.ClientError as err:
            code = _error_code(err)
            if code in expect:
                return None, code
            problem = self._translate_client_error(err, code, action, key)
        except bce.BotoCoreError as err:
            problem = self._translate_botocore_error(err, action, key)
        except OSError as err:  # reading the local file being uploaded
            problem = StorageError(
                f"cannot {action} {key or 'bucket'}: {err.strerror or err}", file=self.description
            )
            problem.__cause__ = err
        problem.__suppress_context__ = True
        raise problem

    def _translate_client_error(
        self, err: bce.ClientError, code: str, action: str, key: str | None
    ) -> StorageError:
        response: dict[str, Any] = getattr(err, "response", {}) or {}
        meta = response.get("ResponseMetadata", {})
        message = str(response.get("Error", {}).get("Message", "")) or code
        status = meta.get("HTTPStatusCode")
        if code == "403" and action in ("write", "delete"):
            code_key = "AccessDenied"
        elif code == "404" and key is None:
            code_key = "NoSuchBucket"
        else:
            code_key = code
        invalid = rules.bucket_name_problem(self.bucket)
        if invalid and code_key in ("NoSuchBucket", "InvalidBucketName", "AccessDenied", "403", "400"):
            code_key = "InvalidBucketName"  # some servers answer "no such bucket" for a name they refuse
        template = _S3_ERRORS.get(code_key)
        what = key if key is not None else f"bucket '{self.bucket}'"
        if template is None:
            text, hint = f"cannot {action} {what}: {message} ({code})", ""
        else:
            text = template[0].format(what=what, bucket=self.bucket, action=action, code=code)
            hint = (
                f"{invalid}; rename the bucket"
                if code_key == "InvalidBucketName" and invalid
                else template[1]
            )
        problem = StorageError(self._secrets.scrub(text), file=self.description, hint=hint)
        problem.__cause__ = S3Failure(
            self._secrets.scrub(
                f"{err.operation_name} {self.prefix}{key or ''} -> HTTP {status} {code}: {message} "
                f"(request id {meta.get('RequestId', '?')})"
            )
        )
        return problem

    def _translate_botocore_error(self, err: bce.BotoCoreError, action: str, key: str | None) -> StorageError:
        match = next(
            ((text, hint) for types, text, hint in self._aws().errors if isinstance(err, types)), None
        )
        if match is None:
            text, hint = f"cannot {action} {key or 'bucket ' + repr(self.bucket)}: {err}", ""
        else:
            text, hint = match[0].format(endpoint=self._endpoint, profile=self.profile or ""), match[1]
        problem = StorageError(self._secrets.scrub(text), file=self.description, hint=hint)
        problem.__cause__ = S3Failure(self._secrets.scrub(f"{type(err).__name__}: {err}"))
        return problem

    def _full(self, key: str) -> str:
        return self.prefix + _check_key(key)

    # -- Storage --------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such key."""
        client = self._client()
        full = self._full(key)

        def fetch() -> bytes:
            body: bytes = client.get_object(Bucket=self.bucket, Key=full)["Body"].read()
            return body

        data, _code = self._call("read", key, fetch, expect=_MISSING)
        return data

    def head(self, key: str) -> ObjectInfo | None:
        """Size, content type, cache control and ETag of an object, or None when there is no such key."""
        client = self._client()
        full = self._full(key)
        response, _code = self._call(
            "read", key, lambda: client.head_object(Bucket=self.bucket, Key=full), expect=_MISSING
        )
        if response is None:
            return None
        return ObjectInfo(
            key,
            int(response["ContentLength"]),
            response.get("ContentType"),
            _strip_etag(response.get("ETag")),
            response.get("CacheControl"),
        )

    def _is_large(self, size: int) -> bool:
        return size >= self.multipart_threshold

    def _lite(self) -> Any:
        """This thread's s3lite client, or None when the setting is not the plain case or it failed once."""
        if self._lite_on is False:
            return None
        reader = getattr(self._lite_local, "reader", None)
        if reader is None:
            from pipeline import s3lite

            reader = s3lite.LiteReader.open(
                self.bucket,
                self.prefix,
                region=self.region,
                endpoint_url=self.endpoint_url,
                profile=self.profile,
                timeout=self.read_timeout,
            )
            if reader is None:
                self._lite_on = False
                return None
            self._lite_on = True
            self._lite_local.reader = reader
            with self._client_lock:
                self._lite_readers.append(reader)
        return reader

    def _head_one(self, key: str) -> ObjectInfo | None:
        """A HEAD without boto3 where the setting allows (see `_lite`); boto3's `head` otherwise or after
        any answer but 200/404."""
        lite = self._lite()
        if lite is not None:
            from pipeline import s3lite

            full = self._full(key)
            for callback in self._observers:
                callback("HeadObject", full, {"Key": full, "transport": "s3lite"})
            try:
                got = lite.head(key)
            except s3lite.Unsure:
                self._lite_on = False
            else:
                if got is None:
                    return None
                return ObjectInfo(key, got.size, got.content_type, got.etag, got.cache_control)
        return self.head(key)

    def _put_lite(self, item: PutItem, size: int, progress: Callable[[float], None] | None = None) -> bool:
        """One PUT without boto3, signed over `item.sha256` (AWS S3 refuses a body that does not match it;
        the 200 for a body of `size` bytes is the target's word that it stored them). False when it was
        not sent or not plainly accepted: then boto3 sends it, and any error is worded there. A large file
        goes the same way, as one PUT by sendfile (nothing read through Python, nothing hashed again), up
        to S3's 5 GiB limit for one PUT; `progress` hears of it as it goes."""
        if item.sha256 is None or size > _SINGLE_PUT_LIMIT:
            return False
        lite = self._lite()
        if lite is None:
            return False
        from pipeline import s3lite

        for callback in self._observers:
            callback("PutObject", self._full(item.key), {"Key": self._full(item.key), "transport": "s3lite"})
        try:
            lite.put(
                item.key,
                item.data,
                size=size,
                sha256=item.sha256,
                content_type=item.content_type,
                cache_control=item.cache_control,
                progress=progress,
            )
        except s3lite.Unsure:
            self._lite_on = False
            return False
        return True

    def _put_one(self, item: PutItem, size: int, progress: Callable[[float], None] | None) -> None:
        if self._is_large(size):
            if self._put_lite(item, size, progress):
                return
        elif self._put_lite(item, size):
            if progress is not None:
                progress(size)
            return
        client = self._client()
        full = self._full(item.key)
        extra = {"ContentType": item.content_type, "CacheControl": item.cache_control}
        if self._is_large(size):
            self._upload_large(client, item, full, extra, progress)
            return
        if isinstance(item.data, Path):
            try:
                body = item.data.open("rb")
            except OSError as err:
                raise StorageError(f"cannot read the file to upload: {err.strerror}", file=item.data) from err
            with body:
                self._call(
                    "write",
                    item.key,
                    lambda: client.put_object(Bucket=self.bucket, Key=full, Body=body, **extra),
                )
        else:
            self._call(
                "write",
                item.key,
                lambda: client.put_object(Bucket=self.bucket, Key=full, Body=bytes(item.data), **extra),
            )
        if progress is not None:
            progress(size)

    def _upload_large(
        self,
        client: Any,
        item: PutItem,
        full: str,
        extra: dict[str, str],
        progress: Callable[[float], None] | None,
    ) -> None:
        aws = self._aws()
        config = aws.TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.multipart_concurrency,
            use_threads=True,
            preferred_transfer_client="classic",
        )
        subscribers = [aws.Progress(progress)] if progress is not None else []

        def upload() -> None:
            source: str | io.BytesIO = (
                str(item.data) if isinstance(item.data, Path) else io.BytesIO(item.data)
            )
            with aws.create_transfer_manager(client, config) as manager:
                manager.upload(source, self.bucket, full, extra_args=extra, subscribers=subscribers).result()

        if isinstance(item.data, Path) and not os.access(item.data, os.R_OK):
            raise StorageError("cannot read the file to upload", file=item.data)
        self._call("write", item.key, upload)

    def delete(self, keys: Sequence[str]) -> None:
        """Delete objects, 1000 per request; keys that do not exist are ignored."""
        client = self._client()
        fulls = [self._full(key) for key in keys]
        for start in range(0, len(fulls), 1000):
            batch = fulls[start : start + 1000]
            request = {"Objects": [{"Key": k} for k in batch], "Quiet": True}
            response, _ = self._call(
                "delete",
                batch[0][len(self.prefix) :],
                functools.partial(client.delete_objects, Bucket=self.bucket, Delete=request),
            )
            errors = (response or {}).get("Errors") or []
            if errors:
                first = errors[0]
                key = str(first.get("Key", ""))[len(self.prefix) :]
                code = str(first.get("Code", "?"))
                text = _S3_ERRORS.get(code, (f"cannot delete {{what}}: {code}", ""))[0].format(
                    what=key, bucket=self.bucket, action="delete", code=code
                )
                raise StorageError(
                    f"{text} ({len(errors)} of {len(batch)} deletes failed)",
                    file=self.description,
                    hint=_S3_ERRORS.get(code, ("", ""))[1],
                )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, sorted by key (one request per 1000 objects)."""
        client = self._client()
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix + prefix}
        while True:
            response, _ = self._call(
                "list", prefix or None, functools.partial(client.list_objects_v2, **dict(params))
            )
            assert response is not None
            for entry in response.get("Contents", []):
                key = entry["Key"][len(self.prefix) :]
                if key and not key.endswith("/"):
                    yield ObjectInfo(key, int(entry["Size"]), None, _strip_etag(entry.get("ETag")))
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return
            params["ContinuationToken"] = token

    def ensure_ready(self, *, create: bool = False) -> None:
        """One ListObjectsV2 (max 1 key) to prove reachability, credentials and the bucket; create on request."""
        client = self._client()
        _, code = self._call(
            "list",
            None,
            lambda: client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1),
            expect=frozenset({"NoSuchBucket"}),
        )
        if code is None:
            return
        if not create:
            raise StorageError(
                f"bucket '{self.bucket}' does not exist", file=self.description, hint=_BUCKET_HINT
            )
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1" and not self.endpoint_url:
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self._call(
            "create",
            None,
            lambda: client.create_bucket(**params),
            expect=frozenset({"BucketAlreadyOwnedByYou"}),
        )

    def create_bucket(self, *, public_read: bool) -> bool:
        """Create the bucket (True), or find it already ours (False); a new one gets `public_read_policy`.

        The policy lets anyone GET objects under the prefix, nothing else: listeners need no credentials,
        and nobody can list or write the bucket.
        """
        client = self._client()
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1" and not self.endpoint_url:
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        _, code = self._call(
            "create",
            None,
            lambda: client.create_bucket(**params),
            expect=frozenset({"BucketAlreadyOwnedByYou"}),
        )
        if code is not None:
            return False
        if public_read:
            policy = public_read_policy(self.bucket, self.prefix)
            self._call("create", None, lambda: client.put_bucket_policy(Bucket=self.bucket, Policy=policy))
        return True

    def public_url(self, key: str) -> str:
        """The bucket's own URL for `key`: path style under endpoint_url, or the AWS virtual-host URL."""
        path = quote(self._full(key), safe="/-._~")
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{path}"
        region = self.region or "us-east-1"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com/{path}"

    def close(self) -> None:
        """Close the client's connections."""
        with self._client_lock:
            for reader in self._lite_readers:
                reader.close()
            self._lite_readers.clear()
            self._lite_local = threading.local()
            if self._client_obj is not None:
                self._client_obj.close()
                self._client_obj = None

    # -- lock primitives ------------------------------------------------------------------------
    def _create_exclusive(self, key: str, data: bytes) -> bool:
        client = self._client()
        full = self._full(key)
        _, code = self._call(
            "write",
            key,
            lambda: client.put_object(
                Bucket=self.bucket,
                Key=full,
                Body=data,
                IfNoneMatch="*",
                ContentType="application/json",
                CacheControl="no-store",
            ),
            expect=_PRECONDITION | _UNSUPPORTED,
        )
        if code in _UNSUPPORTED:  # no conditional writes: check, write, then the caller reads back
            if self.head(key) is not None:
                return False
            self._put_lock(key, data)
            return True
        return code is None

    def _read_tagged(self, key: str) -> tuple[bytes | None, object]:
        client = self._client()
        full = self._full(key)

        def fetch() -> tuple[bytes, str | None]:
            response = client.get_object(Bucket=self.bucket, Key=full)
            return response["Body"].read(), response.get("ETag")

        result, _ = self._call("read", key, fetch, expect=_MISSING)
        return (None, None) if result is None else result

    def _replace_if(self, key: str, data: bytes, tag: object) -> bool:
        if not isinstance(tag, str):
            self._put_lock(key, data)
            return True
        client = self._client()
        full = self._full(key)
        _, code = self._call(
            "write",
            key,
            lambda: client.put_object(
                Bucket=self.bucket,
                Key=full,
                Body=data,
                IfMatch=tag,
                ContentType="application/json",
                CacheControl="no-store",
            ),
            expect=_PRECONDITION | _MISSING | _UNSUPPORTED,
        )
        if code in _UNSUPPORTED:
            self._put_lock(key, data)
            return True
        return code is None

    def _put_lock(self, key: str, data: bytes) -> None:
        self.put(key, data, content_type="application/json", cache_control="no-store")

    # -- checking the target --------------------------------------------------------------------
    def expected_etag(self, data: bytes | Path) -> tuple[str, int]:
        """(ETag, parts) this storage's upload of `data` gets: the MD5 of a single PUT, or for a multipart
        upload the MD5 of the parts' MD5s with "-<parts>"; parts is 0 for a single PUT."""
        size = _size(data)
        if not self._is_large(size):
            if isinstance(data, Path):
                with data.open("rb") as f:
                    return hashlib.file_digest(f, "md5").hexdigest(), 0
            return hashlib.md5(data, usedforsecurity=False).hexdigest(), 0
        digests = []
        source: io.BufferedIOBase = data.open("rb") if isinstance(data, Path) else io.BytesIO(bytes(data))
        with source:
            while chunk := source.read(self.multipart_chunksize):
                digests.append(hashlib.md5(chunk, usedforsecurity=False).digest())
        combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
        return f"{combined}-{len(digests)}", len(digests)

    def holds(self, info: ObjectInfo, data: bytes | Path, sha256: str) -> bool:
        """Compare the object's ETag with the one `data` gets here. Without an ETag, or with a multipart
        ETag of another part count (stored by another tool), only the size can be compared."""
        if info.size != _size(data):
            return False
        if not info.etag:
            return True
        try:
            etag, parts = self.expected_etag(data)
        except OSError as err:
            where = data if isinstance(data, Path) else None
            raise StorageError(f"cannot read the built file: {err.strerror}", file=where) from err
        if "-" in info.etag:
            theirs = info.etag.rpartition("-")[2]
            if theirs != str(parts):
                return True  # another part size: the ETag says nothing about the bytes
        elif parts:
            # One PUT of a large file (how a publish sends one whose sha256 it knows): the ETag is the MD5
            # of all its bytes, whatever its size.
            return info.etag == _md5_of(data)
        return info.etag == etag

    def temp_files(self) -> tuple[str, ...]:
        """None: S3 PUTs are atomic, a killed upload leaves no object."""
        return ()

    def sweep_temp_files(self) -> tuple[str, ...]:
        """Nothing to sweep on S3."""
        return ()


def _md5_of(data: bytes | Path) -> str:
    if isinstance(data, Path):
        with data.open("rb") as f:
            return hashlib.file_digest(f, "md5").hexdigest()
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _drop_expect_header(request: Any, **kwargs: Any) -> None:
    """Send single-PUT bodies at once, without `Expect: 100-continue`.

    The wait for "100 Continue" costs a round trip per small object, and after a zero-byte PUT with
    that header SeaweedFS leaves the kept-alive connection hanging until the read timeout.
    """
    if "Expect" in request.headers:
        del request.headers["Expect"]


def _resolve_endpoint_once_per_bucket(client: Any) -> None:
    """Let botocore's endpoint cache work across object keys.

    botocore evaluates S3's endpoint rule set (about a third of a small PUT's CPU) with the object key
    among its inputs, so its cache misses for every new key, although no S3 rule reads `Key`. Dropping
    it lets one evaluation per bucket and operation serve every object (~20% faster batches). This
    reaches into a private botocore attribute; if that ever moves, we silently keep the slow path.
    """
    resolver = getattr(client, "_ruleset_resolver", None)
    provider_params = getattr(resolver, "_get_provider_params", None)
    if resolver is None or provider_params is None:
        return

    def without_key(*args: Any, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = provider_params(*args, **kwargs)
        if isinstance(params, dict):
            params.pop("Key", None)
        return params

    resolver._get_provider_params = without_key


def _error_code(err: bce.ClientError) -> str:
    response: dict[str, Any] = getattr(err, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", "") or "")
    if not code:
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(status) if status else "Unknown"
    return code


def _strip_etag(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None


class NoPlainAnswer(Exception):
    """A `LiteS3` request got no plain answer: ask the target again through `S3Storage` (boto3)."""


class LiteS3:
    """GET and HEAD on an S3 target without boto3 (`s3lite`), for the checks of an unchanged publish.

    Only `get`, `head` and `temp_files` of `Storage`; any answer but 200 or 404 raises NoPlainAnswer, and
    the caller asks `S3Storage`, whose retries and error messages then decide.
    """

    cheap_stat = False

    def __init__(self, description: str, reader: Any) -> None:
        self.description = description
        self._reader = reader  # an s3lite.LiteReader

    def __repr__(self) -> str:
        return f"LiteS3({self.description!r})"

    def get(self, key: str) -> bytes | None:
        from pipeline import s3lite

        try:
            data: bytes | None = self._reader.get(_check_key(key))
        except s3lite.Unsure as err:
            raise NoPlainAnswer(str(err)) from None
        return data

    def head(self, key: str) -> ObjectInfo | None:
        from pipeline import s3lite

        try:
            got = self._reader.head(_check_key(key))
        except s3lite.Unsure as err:
            raise NoPlainAnswer(str(err)) from None
        return (
            None if got is None else ObjectInfo(key, got.size, got.content_type, got.etag, got.cache_control)
        )

    def temp_files(self) -> tuple[str, ...]:
        return ()  # S3 PUTs are atomic

    def close(self) -> None:
        self._reader.close()


def open_lite(
    kind: str,
    *,
    bucket: str | None = None,
    prefix: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    **_: object,
) -> LiteS3 | None:
    """A boto3-free reader for an S3 target whose setting is the plain case (static credentials in the
    environment, a known region, no profile; see `s3lite`), else None. No I/O."""
    if kind != "s3" or not bucket:
        return None
    from pipeline import s3lite

    like = S3Storage(bucket, prefix, region=region, endpoint_url=endpoint_url, profile=profile)
    reader = s3lite.LiteReader.open(
        bucket,
        like.prefix,
        region=region,
        endpoint_url=endpoint_url,
        profile=profile,
        timeout=like.read_timeout,
    )
    return None if reader is None else LiteS3(like.description, reader)


# kind -> factory; the `publish:` section of show.yaml names the kind.
_OPENERS: dict[str, Callable[..., Storage]] = {
    "local": lambda path, **_: LocalStorage(path),
    "s3": lambda bucket, prefix, region, endpoint_url, profile, **_: S3Storage(
        bucket, prefix, region=region, endpoint_url=endpoint_url, profile=profile
    ),
}

_REQUIRED = {"local": ("path", "publish.path"), "s3": ("bucket", "publish.bucket")}


def open_storage(
    kind: str,
    *,
    path: str | Path | None = None,
    bucket: str | None = None,
    prefix: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> Storage:
    """A Storage for a `publish:` target: kind "local" needs `path`, kind "s3" needs `bucket`. No I/O."""
    opener = _OPENERS.get(kind)
    if opener is None:
        raise StorageError(
            f"unknown publish target kind {kind!r}",
            field="publish.kind",
            hint=f"use one of: {', '.join(sorted(_OPENERS))}",
        )
    options = {
        "path": path,
        "bucket": bucket,
        "prefix": prefix,
        "region": region,
        "endpoint_url": endpoint_url,
        "profile": profile,
    }
    name, setting = _REQUIRED[kind]
    if not options[name]:
        raise StorageError(
            f"a {kind} target needs {setting}", field=setting, hint=f"set {setting} in show.yaml"
        )
    return opener(**options)


# --------------------------------------------------------------------------- what listeners get


def public_read_policy(bucket: str, prefix: str = "") -> str:
    """A bucket policy letting anyone GET the objects under `prefix` (never list, never write)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PodcastPublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/{prefix}*"],
                }
            ],
        },
        indent=2,
    )


@dataclass(frozen=True)
class AnonymousResponse:
    """What a client without credentials got for the first byte of a URL."""

    url: str
    status: int | None  # None when no HTTP answer came (refused, timed out, TLS)
    size: int | None = None  # the object's full size (Content-Range total, else Content-Length)
    content_type: str | None = None
    error: str | None = None


def anonymous_get(url: str, *, timeout: float = 10.0) -> AnonymousResponse:
    """GET the first byte of `url` with no credentials (Range: bytes=0-0), the way a podcast app would."""
    if not url.startswith(("https://", "http://")):
        return AnonymousResponse(url, None, error="not an http(s) URL")
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Range": "bytes=0-0", "User-Agent": "podcast-publish"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
            headers = response.headers
            response.read(1)
    except urllib.error.HTTPError as err:
        return AnonymousResponse(url, err.code, content_type=err.headers.get("Content-Type"))
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        return AnonymousResponse(url, None, error=str(reason))
    size: int | None = None
    match = re.match(r"bytes\s+\d+-\d+/(\d+)", headers.get("Content-Range", ""))
    if match:
        size = int(match[1])
    elif status == 200 and (headers.get("Content-Length") or "").isdigit():
        size = int(headers["Content-Length"])
    media = (headers.get("Content-Type") or "").split(";")[0].strip() or None
    return AnonymousResponse(url, status, size, media)
