"""The build's caches (layer 2): content digests by stat, the keys every cached result is filed under, the
rendered pages (PagePacks) and the model's parsed episode files (ParseCache)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


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
        pages.mkdir(parents=True, exist_ok=True)
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
            _replace(pages / name, b"".join(chunks))
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
    """Parsed episode.md front matter and body by path, trusted while size, mtime and inode are unchanged.

    model.load hands it each file's stat (model.ParseCache is the interface); a hit skips reading and YAML
    parsing, and the fields are validated all the same. The YAML values (datetimes among them) are kept
    with pickle, in one file under the build's own cache folder, which only this code writes: a file from
    another CACHE_VERSION or other parser versions, or one that does not read back, is a miss for every
    entry. `save` keeps the entries this load used (a deleted episode drops out), written atomically.
    """

    def __init__(self, path: Path, versions: str) -> None:
        self.path = path
        self.version = f"{CACHE_VERSION} {versions}"
        self._entries: dict[str, tuple[int, int, int, dict[str, object], str]] = {}
        self._used: dict[str, tuple[int, int, int, dict[str, object], str]] = {}
        self.hits = self.misses = 0
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
        ):
            return
        if (
            isinstance(doc, dict)
            and doc.get("version") == self.version
            and isinstance(doc.get("entries"), dict)
        ):
            self._entries = doc["entries"]

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

    def save(self) -> None:
        """Write the entries this load used, unless they are exactly what the file holds."""
        if self._used == self._entries:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"version": self.version, "entries": dict(sorted(self._used.items()))}
        _replace(self.path, pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
        self._entries = self._used
