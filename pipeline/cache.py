"""The build's caches (layer 2): content digests by stat, the keys every cached result is filed under, the
rendered pages (PagePacks) and the model's parsed episode files (ParseCache)."""

from __future__ import annotations

import dataclasses
import errno
import gc
import hashlib
import io
import json
import operator
import os
import pickle
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pipeline.errors import PipelineError


def file_digest(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so memory stays flat for any size."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError as err:
        raise PipelineError(
            "file not found", file=path, hint="check the path in show.yaml or episode.md"
        ) from err
    except IsADirectoryError as err:
        raise PipelineError("is a folder, not a file", file=path) from err
    except OSError as err:
        raise PipelineError(f"cannot read: {err.strerror}", file=path, hint="check its permissions") from err


class StatCache:
    """Path -> sha256, trusted while size, mtime and inode are unchanged: an unchanged show is not re-hashed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, list[object]] = {}
        self.dirty = False
        self._seen: dict[
            Path, str
        ] = {}  # this build's answers: the show's cover is asked for by every episode
        if path.is_file():
            try:
                loaded = json.loads(path.read_bytes())
            except (ValueError, OSError):
                loaded = {}
            self.entries = loaded if isinstance(loaded, dict) else {}  # a wrong-shaped file is a miss

    def digest(self, file: Path) -> str:
        if file in self._seen:
            return self._seen[file]
        try:
            st = file.stat()
        except OSError as err:
            raise os_error(err, file, "read") from err
        key = os.path.abspath(
            file
        )  # the model's paths are already absolute; realpath costs a syscall per part
        sig = [st.st_size, st.st_mtime_ns, st.st_ino]
        hit = self.entries.get(key)
        if isinstance(hit, list) and len(hit) == 4 and hit[:3] == sig and isinstance(hit[3], str):
            value = str(hit[3])
        else:
            value = file_digest(file)
            self.entries[key] = [*sig, value]
            self.dirty = True
        self._seen[file] = value
        return value

    def save(self) -> None:
        if self.dirty:
            write_atomic(self.path, json.dumps(self.entries, sort_keys=True).encode())
            self.dirty = False


#: The one declared version of every cached result's code: bump it when a change to the build's own code
#: (feed, notes, pages, tags, encode recipe) would give different bytes from the same inputs.
CACHE_VERSION = "1"

_KEY_JSON = json.JSONEncoder(
    sort_keys=True, default=str
)  # what json.dumps(part, sort_keys=True, default=str) builds


def plain(value: object) -> object:
    """The JSON-able dump of a typed value, for keys: dataclasses field by field (fields declared
    `compare=False` are not part of the value), pydantic models by `model_dump_json`, bytes by their sha256, paths
    as strings. A new field of any input is in every key built from it, with nobody listing it."""
    if value is None or isinstance(value, str | int | float):  # most parts: returned as they are
        return value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(type(value), "__dataclass_fields__"):
        out: dict[str, object] = {"__type__": type(value).__name__}
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            if f.compare:
                out[f.name] = plain(getattr(value, f.name))
        return out
    dump = getattr(value, "model_dump_json", None)
    if callable(dump):  # a pydantic model: its own JSON dump (every field, built in Rust)
        return {"__type__": type(value).__name__, "json": dump()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, Path):
        return str(value)
    return value


def key(*parts: object) -> str:
    """sha256 over the JSON form of each part (see `plain`): a cache key derived from the inputs themselves."""
    h = hashlib.sha256()
    for part in parts:
        h.update(_KEY_JSON.encode(plain(part)).encode())
        h.update(b"\0")
    return h.hexdigest()


# --------------------------------------------------------------------------- writing, and OS errors


def os_error(err: OSError, path: Path | str, action: str = "write") -> PipelineError:
    """One line for an OS error on `path`: what went wrong and what to do (the build's every OS error)."""
    code = err.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        what, hint = "disk full", "free some space on that disk, then run the command again"
    elif code == errno.EFBIG:
        what, hint = (
            "file too large for this system's limit",
            "raise the file-size limit (ulimit -f), or free it",
        )
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        what = "permission denied" if code != errno.EROFS else "read-only file system"
        hint = (
            f"make it {'readable' if action == 'read' else 'writable'} for this user, or use another folder"
        )
    elif code in (errno.ENOTDIR, errno.EEXIST) or isinstance(err, NotADirectoryError | FileExistsError):
        what, hint = "a file is in the way of a folder", "move that file away: a folder is needed here"
    elif isinstance(err, IsADirectoryError):
        what, hint = "is a folder, not a file", "move that folder away: a file is needed here"
    elif isinstance(err, FileNotFoundError):
        what, hint = "not found", "check the path"
    else:
        what, hint = (err.strerror or str(err)).lower(), "check the path and its permissions"
    where = err.filename if isinstance(err.filename, str) and err.filename else str(path)
    return PipelineError(f"cannot {action}: {what}", file=where, hint=hint)


def _file_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()  # what open() would give a new file (mkstemp's 0600 would hide pages from a server)


def write_atomic(path: Path, data: bytes | Callable[[Path], None]) -> None:
    """Put `data` at `path` whole or not at all: written to a temporary file beside it, then renamed.

    `data` is the bytes, or a function that writes a given temporary path (a copy, an encode). Every cache
    write goes through here; an OS error becomes one PipelineError naming the path.
    """
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
        tmp = Path(name)
        os.fchmod(fd, _FILE_MODE)
        if callable(data):
            os.close(fd)
            data(tmp)
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise os_error(err, path) from err
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def read_json(path: Path) -> object:
    """A cache file's JSON, or None when it is missing, unreadable or not JSON (a miss, never a crash)."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- encoded and tagged media


@dataclass(frozen=True)
class EncodedEntry:
    """What the encode step delivered (the file itself sits beside its entry)."""

    duration: float
    mime: str
    action: str
    loudness: dict[str, float] | None  # integrated, lra, true_peak

    @classmethod
    def from_json(cls, data: object) -> EncodedEntry | None:
        if not isinstance(data, dict):
            return None
        try:
            loud = data.get("loudness")
            return cls(
                duration=_finite(data["duration"]),
                mime=_str(data["mime"]),
                action=_str(data["action"]),
                loudness=None
                if loud is None
                else {k: _finite(loud[k]) for k in ("integrated", "lra", "true_peak")},
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class TaggedEntry:
    """A delivery file: encoded, tagged, with its exact size and digest."""

    encoded: EncodedEntry
    size: int
    sha256: str

    @classmethod
    def from_json(cls, data: object) -> TaggedEntry | None:
        enc = EncodedEntry.from_json(data)
        if enc is None or not isinstance(data, dict):
            return None
        size, digest = data.get("size"), data.get("sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return None
        if not isinstance(digest, str) or len(digest) != 64:
            return None
        return cls(enc, size, digest)


def _finite(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v or v in (float("inf"), float("-inf")):
        raise ValueError(v)
    return float(v)


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise TypeError(v)
    return v


class RemoteStore(Protocol):
    """The part of a publish target the media cache uses (pipeline.storage.Storage has it)."""

    def get(self, key: str) -> bytes | None: ...
    def head(self, key: str) -> object | None: ...
    def put(self, key: str, data: bytes | Path, *, content_type: str, cache_control: str) -> None: ...


E = TypeVar("E", EncodedEntry, TaggedEntry)
_IMMUTABLE = "public, max-age=31536000, immutable"  # content-addressed: a key's bytes never change


class MediaCache:
    """Encoded files (`encoded/KEY.EXT`) and tagged delivery files (`media/KEY.EXT`), each with a JSON entry
    beside it. An entry that is missing, truncated or wrong-shaped, or whose file is missing or the wrong
    size, is a miss: the work is done again. With a remote store, a local miss is looked up there (and every
    new result is put there) under `remote_prefix`, so shard builds on other machines share the work."""

    ENCODED, TAGGED = "encoded", "media"

    INDEX = "entries.json"

    def __init__(self, root: Path, remote: RemoteStore | None = None, remote_prefix: str = "") -> None:
        self.root, self.remote, self.remote_prefix = root, remote, remote_prefix
        self.remote_hits = self.uploaded = 0
        # Every entry read or written, with the stat of the media file beside it: while that stat holds, the
        # entry is answered from here (one stat) instead of reading its JSON file (10,000 reads a build).
        self.index = Memo(root / self.INDEX)

    def save(self) -> None:
        """Keep the entries this build used for the next one (the JSON files beside the media stay the truth)."""
        self.index.save()

    def _indexed(self, kind: str, k: str, ext: str, media: Path) -> object | None:
        return self.index.get_for(f"{kind}/{k}.{ext}", media)

    def _remember(self, kind: str, k: str, ext: str, media: Path, row: object) -> None:
        self.index.put_for(f"{kind}/{k}.{ext}", media, row)

    def path(self, kind: str, k: str, ext: str) -> Path:
        return self.root / kind / f"{k}.{ext}"

    def encoded(self, k: str, ext: str, *, media: bool = True) -> EncodedEntry | None:
        """The encode's entry, its file fetched from the remote cache if need be; with media=False only the
        entry (a remote entry's file is fetched later, only if tagging needs it)."""
        if not media and self.remote is not None:
            local = EncodedEntry.from_json(read_json(self.path(self.ENCODED, k, ext).with_suffix(".json")))
            if local is not None and self.path(self.ENCODED, k, ext).is_file():
                return local
            raw = self.remote.get(self._remote_key(self.ENCODED, k, ext) + ".json")
            return EncodedEntry.from_json(None if raw is None else _loads(raw))
        return self._get(self.ENCODED, k, ext, EncodedEntry)

    def has(self, kind: str, k: str, ext: str) -> bool:
        """Whether the file and its entry are here on this machine."""
        media = self.path(kind, k, ext)
        return media.is_file() and media.with_suffix(".json").is_file()

    def tagged(self, k: str, ext: str, *, fetch: bool = True) -> TaggedEntry | None:
        """The delivery file's entry; with fetch=False a local miss is not looked up remotely."""
        entry = self._get(self.TAGGED, k, ext, TaggedEntry, fetch=fetch)
        if entry is not None:
            try:
                if self.path(self.TAGGED, k, ext).stat().st_size != entry.size:
                    return None
            except OSError:
                return None
        return entry

    def put_encoded(self, k: str, ext: str, entry: EncodedEntry, upload: bool = True) -> None:
        self._put(self.ENCODED, k, ext, dataclasses.asdict(entry), upload)

    def put_tagged(self, k: str, ext: str, entry: TaggedEntry, upload: bool = True) -> None:
        row = {**dataclasses.asdict(entry.encoded), "size": entry.size, "sha256": entry.sha256}
        self._put(self.TAGGED, k, ext, row, upload)

    def _get(self, kind: str, k: str, ext: str, cls: type[E], *, fetch: bool = True) -> E | None:
        media = self.path(kind, k, ext)
        row = self._indexed(kind, k, ext, media)
        if row is not None and (entry := cls.from_json(row)) is not None:
            return entry
        row = read_json(media.with_suffix(".json"))
        entry = cls.from_json(row)
        if entry is not None and media.is_file():
            self._remember(kind, k, ext, media, row)
            return entry
        if self.remote is None or not fetch:
            return None
        return self._fetch(kind, k, ext, cls)

    def _remote_key(self, kind: str, k: str, ext: str) -> str:
        return f"{self.remote_prefix}{kind}/{k}.{ext}"

    def _fetch(self, kind: str, k: str, ext: str, cls: type[E]) -> E | None:
        """A local miss looked up in the remote cache; a hit is stored locally (media first, then entry)."""
        assert self.remote is not None
        rkey = self._remote_key(kind, k, ext)
        raw = self.remote.get(rkey + ".json")
        entry = cls.from_json(None if raw is None else _loads(raw))
        if entry is None:
            return None
        data = self.remote.get(rkey)
        if data is None:
            return None
        if isinstance(entry, TaggedEntry) and (
            len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256
        ):
            return None  # a damaged remote copy is a miss, never a wrong delivery file
        media = self.path(kind, k, ext)
        write_atomic(media, data)
        write_atomic(media.with_suffix(".json"), raw)  # type: ignore[arg-type]
        self.remote_hits += 1
        return entry

    def _put(self, kind: str, k: str, ext: str, row: dict[str, object], upload: bool) -> None:
        media = self.path(kind, k, ext)
        raw = json.dumps(row, sort_keys=True).encode()
        write_atomic(media.with_suffix(".json"), raw)
        self._remember(kind, k, ext, media, json.loads(raw))
        if self.remote is not None and upload:
            rkey = self._remote_key(kind, k, ext)
            if self.remote.head(rkey + ".json") is None:
                self.remote.put(
                    rkey, media, content_type="application/octet-stream", cache_control=_IMMUTABLE
                )
                # the entry last: it vouches for the media beside it
                self.remote.put(
                    rkey + ".json", raw, content_type="application/json", cache_control=_IMMUTABLE
                )
            self.uploaded += 1


def _loads(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def library_versions(*names: str) -> list[str]:
    """'name==version' for each installed distribution ('name==?' when missing): part of a cache key."""
    import importlib.metadata

    out = []
    for name in names:
        try:
            out.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}==?")
    return out


def _replace(path: Path, data: bytes) -> None:
    """Write a file whole or not at all: a crash leaves the previous version in place."""
    write_atomic(path, data)


# --------------------------------------------------------------------------- page packs


class PagePacks:
    """Rendered pages by key, and small JSON records ("cards") by key, kept in one folder between builds.

    The renderer asks `get(key)` and hands new pages to `put(key, data)`; nothing is written until the
    build calls `save()`. Pages live in append-only pack files (pages/<name>.pack), one per save however many
    pages it adds, because creating a file per page can cost as much as rendering it. pages.txt maps each key
    to its pack, offset and length; cards.json holds the cards. Every file is replaced whole (written aside,
    then renamed), so a crash leaves the previous cache intact; packs no entry names are removed. A save keeps
    only what this build used: the pages and cards it read or made.
    """

    PAGES = "pages.txt"
    CARDS = "cards.json"

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: dict[str, str] = {}  # key -> "pack offset length", as read (checked on use)
        self._cards: dict[str, object] = {}
        self._used: dict[str, tuple[str, int, int]] = {}  # pages read this build
        self._new: dict[str, bytes] = {}  # pages made this build
        self._used_cards: dict[str, object] = {}
        self._fds: dict[str, int | None] = {}
        header = f"v {CACHE_VERSION}"
        try:
            lines = (root / self.PAGES).read_text().splitlines()
            cards = json.loads((root / self.CARDS).read_text())
        except (OSError, ValueError):
            return
        if not lines or lines[0] != header or not isinstance(cards, dict) or cards.get("v") != CACHE_VERSION:
            return  # another version of the code wrote them: start over
        self._index = dict(line.split(" ", 1) for line in lines[1:] if " " in line)
        found = cards.get("cards")
        self._cards = found if isinstance(found, dict) else {}

    # ----------------------------------------------------------------- pages

    def get(self, key: str) -> bytes | None:
        """A kept page's bytes, or None."""
        if key in self._new:
            return self._new[key]
        raw = self._index.get(key)
        if raw is None:
            return None
        pack, _, place = raw.partition(" ")
        offset, _, length = place.partition(" ")
        if not (offset.isdigit() and length.isdigit()) or "/" in pack:
            return None
        entry = (pack, int(offset), int(length))
        data = self._read(entry)
        if data is not None:
            self._used[key] = entry
        return data

    def empty(self) -> bool:
        """True when no page is kept (a first build, or the cache was cleared): no lookup can hit."""
        return not self._index and not self._new

    def put(self, key: str, data: bytes) -> None:
        """Keep a freshly rendered page (in memory until save)."""
        self._new[key] = data
        self._used.pop(key, None)

    def _read(self, entry: tuple[str, int, int]) -> bytes | None:
        pack, offset, length = entry
        if pack not in self._fds:
            try:
                self._fds[pack] = os.open(self.root / "pages" / pack, os.O_RDONLY)
            except OSError:
                self._fds[pack] = None
        fd = self._fds[pack]
        if fd is None:
            return None
        data = os.pread(fd, length, offset)
        return data if len(data) == length else None

    # ----------------------------------------------------------------- cards

    def card(self, key: str) -> object | None:
        """A kept card (any JSON value the renderer stored), or None."""
        if key in self._used_cards:
            return self._used_cards[key]
        value = self._cards.get(key)
        if value is not None:
            self._used_cards[key] = value
        return value

    def put_card(self, key: str, value: object) -> None:
        self._used_cards[key] = value

    # ----------------------------------------------------------------- saving

    def save(self) -> None:
        """Write what this build used; drop everything else, and copy down packs that are mostly stale."""
        pages = self.root / "pages"
        try:
            pages.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise os_error(err, pages) from err
        live: dict[str, int] = {}
        for pack, _, length in self._used.values():
            live[pack] = live.get(pack, 0) + length
        for pack, size in live.items():
            try:
                total = (pages / pack).stat().st_size
            except OSError:
                total = size
            if size * 2 < total:
                for k, entry in list(self._used.items()):
                    if entry[0] == pack:
                        data = self._read(entry)
                        if data is not None:
                            self.put(k, data)
        self.close()
        used = dict(self._used)
        if self._new:
            name = key(sorted(self._new))[:32] + ".pack"
            offset = 0
            chunks = []
            for k in sorted(self._new):
                data = self._new[k]
                used[k] = (name, offset, len(data))
                chunks.append(data)
                offset += len(data)

            def write(tmp: Path) -> None:  # page by page: no second copy of every page in memory
                with tmp.open("wb") as fh:
                    fh.writelines(chunks)

            write_atomic(pages / name, write)
        if self._new or len(used) != len(self._index):
            lines = [f"v {CACHE_VERSION}", *(f"{k} {p} {o} {n}" for k, (p, o, n) in sorted(used.items()))]
            _replace(self.root / self.PAGES, ("\n".join(lines) + "\n").encode())
        cards = dict(sorted(self._used_cards.items()))
        if cards != self._cards or not (self.root / self.CARDS).is_file():
            doc = {"v": CACHE_VERSION, "cards": cards}
            _replace(
                self.root / self.CARDS, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
            )
        keep = {entry[0] for entry in used.values()}
        with os.scandir(pages) as found:
            for item in found:
                if item.name not in keep:
                    Path(item.path).unlink(missing_ok=True)
        self._index = {k: f"{p} {o} {n}" for k, (p, o, n) in used.items()}
        self._cards, self._used, self._new = cards, {}, {}

    def close(self) -> None:
        """Close the packs opened for reading (save closes them too)."""
        for fd in self._fds.values():
            if fd is not None:
                os.close(fd)
        self._fds.clear()


# --------------------------------------------------------------------------- the model's parse cache


class ParseCache:
    """Parsed episode.md files by path, kept between loads under the build's own cache folder.

    Two kinds of entry, both keyed by the file's path. An episode entry (`episode`/`put_episode`) is the
    validated Episode with the stat stamp of every file it was judged on; model.load hands a check of that
    stamp, and only when every stat is unchanged is the Episode used, neither read nor validated again. A
    front matter entry (`get`/`put`) is the parsed YAML and body, trusted while the file's size, mtime and
    inode are unchanged; its fields are validated all the same. It is kept only for a file with no episode
    entry (an episode whose stamp fails is read again: one file). The values (datetimes, Episodes) are kept
    with pickle, in one file that only this code writes: a file from another CACHE_VERSION or other parser
    versions (the model's own code among them), or one that does not read back, is a miss for every entry.
    `save` keeps the entries this load used (a deleted episode drops out), written atomically, and writes
    nothing when they are the ones it read.
    """

    def __init__(self, path: Path, versions: str) -> None:
        self.path = path
        self.version = f"{CACHE_VERSION} {versions}"
        self._entries: dict[str, tuple[int, int, int, dict[str, object], str]] = {}
        self._used: dict[str, tuple[int, int, int, dict[str, object], str]] = {}
        self._episodes: dict[str, tuple[tuple[Any, ...], object]] = {}
        self._used_episodes: dict[str, tuple[tuple[Any, ...], object]] = {}
        self._dirty = False
        self.hits = self.misses = 0
        collecting = gc.isenabled()
        gc.disable()  # a million new objects would set off collections that find nothing to free (half the time)
        try:
            with open(path, "rb") as fh:
                doc = pickle.load(fh)
        except (
            OSError,
            pickle.UnpicklingError,
            EOFError,
            AttributeError,
            ImportError,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
        ):
            return
        finally:
            if collecting:
                gc.enable()
        if (
            isinstance(doc, dict)
            and doc.get("version") == self.version
            and isinstance(doc.get("entries"), dict)
            and isinstance(doc.get("episodes"), dict)
        ):
            self._entries = doc["entries"]
            self._episodes = doc["episodes"]

    def get(self, path: Path, st: os.stat_result) -> tuple[dict[str, Any], str] | None:
        name = os.path.abspath(path)
        hit = self._entries.get(name)
        if (
            isinstance(hit, tuple)
            and len(hit) == 5
            and hit[:3] == (st.st_size, st.st_mtime_ns, st.st_ino)
            and isinstance(hit[3], dict)
            and isinstance(hit[4], str)
        ):
            self._used[name] = hit
            self.hits += 1
            return dict(hit[3]), hit[4]
        self.misses += 1
        return None

    def put(self, path: Path, st: os.stat_result, data: dict[str, Any], body: str) -> None:
        self._used[os.path.abspath(path)] = (st.st_size, st.st_mtime_ns, st.st_ino, dict(data), body)
        self._dirty = True

    def episode(self, path: str, fresh: Callable[[tuple[Any, ...]], bool]) -> object | None:
        """The validated episode last loaded from `path`, if `fresh(stamp)` says its stamp still holds (a
        miss is counted by the front matter lookup that follows it)."""
        name = os.path.abspath(path)
        hit = self._episodes.get(name)
        if not (isinstance(hit, tuple) and len(hit) == 2 and isinstance(hit[0], tuple)) or not fresh(hit[0]):
            return None
        self._used_episodes[name] = hit
        self.hits += 1
        return hit[1]

    def put_episode(self, path: Path, stamp: tuple[Any, ...], episode: object) -> None:
        self._used_episodes[os.path.abspath(path)] = (stamp, episode)
        self._dirty = True

    def save(self) -> None:
        """Write the entries this load used, unless they are exactly the ones the file holds."""
        front = {k: v for k, v in self._used.items() if k not in self._used_episodes}
        if (
            not self._dirty
            and front.keys() == self._entries.keys()
            and (self._used_episodes.keys() == self._episodes.keys())
        ):
            return
        doc = {
            "version": self.version,
            "entries": dict(sorted(front.items())),
            "episodes": dict(sorted(self._used_episodes.items())),
        }
        buf = io.BytesIO()
        _PathPickler(buf).dump(doc)
        _replace(self.path, buf.getvalue())
        self._entries, self._episodes, self._dirty = front, dict(self._used_episodes), False


class _PathPickler(pickle.Pickler):
    """Pickles a Path as its folder joined with its name, each folder once: reading 10,000 episodes back then
    joins short names onto shared folders instead of parsing 30,000 whole paths (a third of a second)."""

    def __init__(self, fh: io.BytesIO) -> None:
        super().__init__(fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._paths: dict[str, Path] = {}

    def reducer_override(self, obj: Any) -> Any:
        if not isinstance(obj, Path):
            return NotImplemented
        text = str(obj)
        seen = self._paths.setdefault(text, obj)
        if seen is not obj:
            return operator.truediv, (seen, "")  # an equal Path met before: one more join, not a parse
        parent = obj.parent
        if parent == obj or not obj.name:
            return NotImplemented
        return operator.truediv, (self._paths.setdefault(str(parent), parent), obj.name)


class Memo:
    """Small JSON values by key in one file, for results that are cheap to keep and costly to re-read one
    file each (10,000 episodes' waveform bars, media entries): loaded once, and `save` writes only the
    entries this build used, and only when they differ from what was read. Whoever stores a value keys it
    by its inputs (or checks the file it describes): a value is never edited, only replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, object] = {}
        self._used: dict[str, object] = {}
        self._dirty = False
        doc = read_json(path)
        if isinstance(doc, dict) and doc.get("v") == CACHE_VERSION and isinstance(doc.get("entries"), dict):
            self._entries = doc["entries"]

    def get(self, k: str) -> object | None:
        value = self._used.get(k)
        if value is None:
            value = self._entries.get(k)
            if value is not None:
                self._used[k] = value
        return value

    def put(self, k: str, value: object) -> None:
        self._used[k] = value
        self._dirty = True

    def get_for(self, k: str, path: Path) -> object | None:
        """The value put_for() kept for `path`, while that file's stat (size, mtime, inode) is unchanged."""
        hit = self.get(k)
        if not (isinstance(hit, list) and len(hit) == 2):
            return None
        return hit[1] if hit[0] == _stat_row(path) else None

    def put_for(self, k: str, path: Path, value: object) -> None:
        """Keep `value`, read from or made for the file at `path`, valid while its stat holds."""
        if (row := _stat_row(path)) is not None:
            self.put(k, [row, value])

    def save(self) -> None:
        if not self._dirty and self._used.keys() == self._entries.keys():
            return
        doc = {"v": CACHE_VERSION, "entries": dict(sorted(self._used.items()))}
        write_atomic(self.path, json.dumps(doc, separators=(",", ":")).encode())
        self._entries, self._dirty = dict(self._used), False


def _stat_row(path: Path) -> list[int] | None:
    """[size, mtime_ns, inode] of a file, None when it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class FileCache:
    """Results derived from content (waveform peaks, share cards): one file per key under `folder`.

    A key comes from `key()` over everything the result depends on, so an entry is never edited, only
    written once (atomically) and then read back as it is.
    """

    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder, self.suffix = folder, suffix

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{self.suffix}"

    def get(self, key: str) -> Path | None:
        """The cached file for `key`, or None when there is none yet."""
        path = self.path(key)
        return path if path.is_file() else None

    def put(self, key: str, data: bytes) -> Path:
        path = self.path(key)
        write_atomic(path, data)
        return path


# --------------------------------------------------------------------------- derived media, feed fragments


class DerivedMedia:
    """Derived media files (alternate encodes, soundbite clips) filed by key, each with a JSON record beside it.

    A file counts as cached only when both it and its record exist; a record that cannot be read is a miss.
    With a remote store (as MediaCache has), a local miss is looked up there under
    `remote_prefix` + `derived/` and every new result is put there (the file first, then its record, so a
    half-uploaded entry is a miss): shard builds on other machines share the work.
    """

    def __init__(self, folder: Path, remote: RemoteStore | None = None, remote_prefix: str = "") -> None:
        self.folder, self.remote, self.remote_prefix = folder, remote, remote_prefix
        self.remote_hits = self.uploaded = 0

    def path(self, kind: str, digest: str, ext: str) -> Path:
        return self.folder / kind / f"{digest}.{ext}"

    def _local(self, kind: str, digest: str, ext: str) -> tuple[Path, dict[str, object]] | None:
        file = self.path(kind, digest, ext)
        record = read_json(file.with_suffix(".json"))
        if not isinstance(record, dict) or not file.is_file():
            return None
        return file, record

    def _remote_key(self, kind: str, digest: str, ext: str) -> str:
        return f"{self.remote_prefix}derived/{kind}/{digest}.{ext}"

    def _remote_record(self, kind: str, digest: str, ext: str) -> tuple[bytes, dict[str, object]] | None:
        assert self.remote is not None
        raw = self.remote.get(self._remote_key(kind, digest, ext) + ".json")
        record = None if raw is None else _loads(raw)
        return (raw, record) if raw is not None and isinstance(record, dict) else None

    def get(
        self, kind: str, digest: str, ext: str, *, fetch: bool = True
    ) -> tuple[Path, dict[str, object]] | None:
        """(file, its record) when both are here, or fetched from the remote store (unless fetch=False)."""
        found = self._local(kind, digest, ext)
        if found is not None or self.remote is None or not fetch:
            return found
        remote = self._remote_record(kind, digest, ext)
        if remote is None:
            return None
        raw, record = remote
        data = self.remote.get(self._remote_key(kind, digest, ext))
        if data is None:
            return None
        size, sha = record.get("size"), record.get("sha256")
        if (size is not None and size != len(data)) or (
            sha is not None and sha != hashlib.sha256(data).hexdigest()
        ):
            return None  # a damaged remote copy is a miss, never a wrong file
        file = self.path(kind, digest, ext)
        write_atomic(file, data)
        write_atomic(file.with_suffix(".json"), raw)
        self.remote_hits += 1
        return file, record

    def record(self, kind: str, digest: str, ext: str) -> dict[str, object] | None:
        """The record alone: this machine's (with its file here), else the remote store's, whose file is
        fetched later by `get`, only if something needs it."""
        found = self._local(kind, digest, ext)
        if found is not None:
            return found[1]
        if self.remote is None:
            return None
        remote = self._remote_record(kind, digest, ext)
        return None if remote is None else remote[1]

    def put(
        self, kind: str, digest: str, ext: str, record: Mapping[str, object], *, upload: bool = True
    ) -> None:
        """Record the file already written at path(kind, digest, ext), and put both in the remote store."""
        file = self.path(kind, digest, ext)
        raw = json.dumps(record, sort_keys=True).encode()
        write_atomic(file.with_suffix(".json"), raw)
        if self.remote is not None and upload:
            rkey = self._remote_key(kind, digest, ext)
            if self.remote.head(rkey + ".json") is None:
                self.remote.put(rkey, file, content_type="application/octet-stream", cache_control=_IMMUTABLE)
                # the record last: it vouches for the file beside it
                self.remote.put(
                    rkey + ".json", raw, content_type="application/json", cache_control=_IMMUTABLE
                )
            self.uploaded += 1


class FeedFragments:
    """Serialised feed items by a key of their typed inputs, so a feed whose items did not change reuses them.

    The feed module asks `get`/`put` and stays pure (it is handed this object); `load` and `save` are the only
    I/O, one file of `<key> <length>\\n<bytes>` records. Entries not used by the last render are dropped on save.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.entries: dict[str, bytes] = {}
        self._used: set[str] = set()
        self.hits = self.misses = 0
        if path is not None:
            self.load()

    def load(self) -> None:
        assert self.path is not None
        try:
            data = self.path.read_bytes()
        except OSError:
            return
        pos, entries = 0, {}
        try:
            while pos < len(data):
                nl = data.index(b"\n", pos)
                k, n = data[pos:nl].split(b" ")
                end = nl + 1 + int(n)
                if end > len(data):
                    return  # a truncated file is a miss, never a half item
                entries[k.decode()] = data[nl + 1 : end]
                pos = end
        except ValueError:
            return
        self.entries = entries

    def get(self, digest: str) -> bytes | None:
        found = self.entries.get(digest)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            self._used.add(digest)
        return found

    def put(self, digest: str, fragment: bytes) -> None:
        self.entries[digest] = fragment
        self._used.add(digest)

    def save(self) -> None:
        if self.path is None:
            return
        keep = {k: v for k, v in self.entries.items() if k in self._used}
        write_atomic(self.path, b"".join(f"{k} {len(v)}\n".encode() + v for k, v in keep.items()))
