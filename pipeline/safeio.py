"""Reading files a user names, bounded: regular files only, never more than a byte cap (layer 0).

The one mechanism behind every "read this file" of the pipeline's inputs (show.yaml, episode.md, images,
transcripts, `validate FILE`, audio probing): a FIFO or device is refused before anything blocks on
it, and a read stops at a byte cap instead of trusting the size stat() reports (/dev/zero says 0).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotRegularFile(ValueError):
    """The path is a folder, FIFO, socket or device: reading it could block or never end."""

    def __init__(self) -> None:
        super().__init__("is not a regular file (a folder, FIFO or device cannot be read as one)")


class TooLarge(ValueError):
    """The file holds more than the cap allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"is too large (over {limit:,} bytes, the limit)")
        self.limit = limit


def require_regular(path: Path | str) -> os.stat_result:
    """stat() of a regular file (symlinks followed); NotRegularFile otherwise, OSError when missing."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile()
    return st


def read_capped(path: Path | str, limit: int) -> bytes:
    """All bytes of a regular file of at most `limit` bytes.

    Opened non-blocking (a FIFO cannot hang the open), checked on the open descriptor (no race with a
    swapped path), and read with a byte cap. Raises NotRegularFile, TooLarge, or OSError (missing,
    unreadable) for the caller to name.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile()
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise TooLarge(limit)
    return b"".join(chunks)
