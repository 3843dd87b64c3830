"""The build's caches (layer 2): content digests by stat, and the keys every cached result is filed under."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

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
                loaded = json.loads(path.read_text())
            except (ValueError, OSError):
                loaded = {}
            self.entries = loaded if isinstance(loaded, dict) else {}  # a wrong-shaped file is a miss

    def digest(self, file: Path) -> str:
        if file in self._seen:
            return self._seen[file]
        st = file.stat()
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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries, sort_keys=True))
            os.replace(tmp, self.path)
            self.dirty = False


#: The one declared version of every cached result's code: bump it when a change to the build's own code
#: (feed, notes, pages, tags, encode recipe) would give different bytes from the same inputs.
CACHE_VERSION = "1"

_KEY_JSON = json.JSONEncoder(
    sort_keys=True, default=str
)  # what json.dumps(part, sort_keys=True, default=str) builds


def key(*parts: object) -> str:
    """sha256 over the JSON form of each part: a cache key derived from the inputs themselves."""
    h = hashlib.sha256()
    for part in parts:
        h.update(_KEY_JSON.encode(part).encode())
        h.update(b"\0")
    return h.hexdigest()


class MediaCache:
    """Derived media files (alternate encodes, soundbite clips) filed by key, each with a JSON record beside it.

    A file counts as cached only when both it and its record exist; a record that cannot be read is a miss.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, kind: str, digest: str, ext: str) -> Path:
        return self.folder / kind / f"{digest}.{ext}"

    def get(self, kind: str, digest: str, ext: str) -> tuple[Path, dict[str, object]] | None:
        """(file, its record) when both are there, else None."""
        file = self.path(kind, digest, ext)
        try:
            record = json.loads(file.with_suffix(".json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not file.is_file():
            return None
        return file, record

    def put(self, kind: str, digest: str, ext: str, record: Mapping[str, object]) -> None:
        """Record the file already written at path(kind, digest, ext)."""
        meta = self.path(kind, digest, ext).with_suffix(".json")
        tmp = meta.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, sort_keys=True))
        os.replace(tmp, meta)


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            for k, v in keep.items():
                fh.write(f"{k} {len(v)}\n".encode())
                fh.write(v)
        os.replace(tmp, self.path)
