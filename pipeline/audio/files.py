"""Opening audio files with errors that name them, temporary files beside a target, and content digests."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
from pathlib import Path

from pipeline.errors import AudioError

DIGEST_CHUNK = 1 << 20  # 1 MiB reads for file_digest
SUPPORTED_HINT = "expected an MP3, M4A, WAV, FLAC or AIFF recording"
REEXPORT_HINT = "the file looks damaged or cut short; copy or export it again"


def open_audio(path: Path) -> io.BufferedReader:
    """Open an audio file for reading; AudioError naming the file when it is missing, a folder, a FIFO or
    device (which would hang or never end), or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # a FIFO cannot hang it
    except FileNotFoundError as err:
        raise AudioError("audio file not found", file=path, hint="check the `audio:` path") from err
    except IsADirectoryError as err:
        raise AudioError("is a folder, not an audio file", file=path, hint=SUPPORTED_HINT) from err
    except OSError as err:
        raise AudioError(f"cannot read audio file: {err.strerror}", file=path) from err
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        what = "is a folder, not an audio file" if path.is_dir() else "is a FIFO or device, not an audio file"
        raise AudioError(what, file=path, hint=SUPPORTED_HINT)
    os.set_blocking(fd, True)
    return open(fd, "rb")


def temp_beside(dst: Path, suffix: str) -> Path:
    """A new empty file in `dst`'s folder (so a rename onto `dst` is atomic), hidden by a leading dot."""
    fd, name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=suffix)
    os.close(fd)
    return Path(name)


def same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def file_digest(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks so memory stays flat for any size."""
    digest = hashlib.sha256()
    buffer = bytearray(DIGEST_CHUNK)
    view = memoryview(buffer)
    with open_audio(Path(path)) as fh:
        while n := fh.readinto(view):
            digest.update(view[:n])
    return digest.hexdigest()
