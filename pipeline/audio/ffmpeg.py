"""The ffmpeg runner: finding the binary, running it with bounded output, and its version."""

from __future__ import annotations

import re
import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from pipeline.errors import AudioError
from pipeline.progress import Task

FFMPEG_HINT = "the file may be damaged or use a codec ffmpeg cannot decode; export it again as WAV or FLAC"
STDERR_LINES = 4000  # the most stderr lines kept from one run (the message is read from its end)

# Lines ffmpeg prints after the real problem; the message we show is the last line that is not one of these.
_FFMPEG_NOISE = re.compile(
    r"^(Conversion failed!|Error opening (input|output) files?|Error while (filtering|decoding)|"
    r"Exiting normally|Terminating thread|Task finished with error code|\[out#|Nothing was written)"
)
_FFMPEG_PREFIX = re.compile(r"^(\[[^\]]*@ 0x[0-9a-f]+\] ?)+")


def ffmpeg_exe() -> str:
    """The ffmpeg binary imageio-ffmpeg provides (it remembers what it found, so each call is cheap)."""
    try:
        exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        raise AudioError(
            f"ffmpeg is not available: {err}", hint="reinstall the imageio-ffmpeg package"
        ) from err
    return exe


def ffmpeg_version() -> str:
    """The ffmpeg release ("7.0.2"), from `ffmpeg -version`; runs ffmpeg, so callers keep the answer."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    )
    first = proc.stdout.splitlines()[0] if proc.stdout else "unknown"
    match = re.match(r"ffmpeg version (\S+)", first)
    return match.group(1) if match else first


@dataclass(frozen=True)
class Run:
    """What one ffmpeg run left behind."""

    stderr: list[str]
    out_time: float | None  # seconds written, from -progress


def ffmpeg_message(lines: Sequence[str]) -> str:
    """The line of ffmpeg's stderr that names the problem (not the "Conversion failed!" that follows it)."""
    cleaned = [_FFMPEG_PREFIX.sub("", line).strip() for line in lines]
    cleaned = [line for line in cleaned if line]
    for line in reversed(cleaned):
        if not _FFMPEG_NOISE.match(line):
            return line
    return cleaned[-1] if cleaned else "ffmpeg failed without a message"


def run_ffmpeg(
    args: Sequence[str],
    *,
    file: Path,
    doing: str,
    task: Task | None = None,
    loglevel: str = "error",
) -> Run:
    """Run ffmpeg with machine-readable progress; raise AudioError with its last meaningful line on failure."""
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", loglevel, "-progress", "pipe:1"]
    stderr: deque[str] = deque(maxlen=STDERR_LINES)
    proc = subprocess.Popen(
        [*cmd, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None and proc.stderr is not None
    errors = proc.stderr
    drain = threading.Thread(target=lambda: stderr.extend(errors), daemon=True)
    drain.start()
    out_time: float | None = None
    try:
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                out_time = int(value) / 1e6
                if task is not None:
                    task.update(max(0.0, out_time))
        rc = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join()
    lines = [line.rstrip("\n") for line in stderr]
    if rc != 0:
        raise AudioError(f"ffmpeg could not {doing}: {ffmpeg_message(lines)}", file=file, hint=FFMPEG_HINT)
    return Run(lines, out_time)


def run_ffmpeg_with_input(args: Sequence[str], stdin_text: str, *, file: Path, doing: str) -> None:
    """Run ffmpeg feeding `stdin_text` to it (e.g. an ffmetadata file as pipe:0)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", "-loglevel", "error", *args]
    proc = subprocess.run(
        cmd, input=stdin_text, capture_output=True, text=True, errors="replace", check=False
    )
    if proc.returncode != 0:
        raise AudioError(f"ffmpeg could not {doing}: {ffmpeg_message(proc.stderr.splitlines())}", file=file)


def scan_duration(path: Path) -> float:
    """Exact duration by letting ffmpeg walk every packet (no decoding); for files whose headers don't say."""
    run = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-c", "copy", "-f", "null", "-"], file=path, doing="read"
    )
    return run.out_time or 0.0
