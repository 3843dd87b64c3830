"""Waveform peaks of a delivered file: ffmpeg decodes it to 8 kHz mono 16-bit, streamed, and each pixel keeps
its lowest and highest sample.

The JSON is the format BBC's audiowaveform writes (version 2, 8-bit, min/max pairs), so peaks.js and other
waveform viewers read it as it is; `levels()` turns it into the bar heights the page's SVG draws.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
from array import array
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from pipeline.audio.ffmpeg import FFMPEG_HINT, STDERR_LINES, ffmpeg_exe, ffmpeg_message
from pipeline.errors import AudioError

#: Bump when a change here gives different peaks from the same audio (part of the cache key).
PEAKS_VERSION = "1"
#: The decode rate: a waveform needs no more (and 8 kHz keeps a 1-hour episode's decode to ~1 s of CPU).
PEAKS_RATE = 8000
#: Pixels in the JSON (about 8 kB); the page draws BARS bars from them.
PEAKS_PIXELS = 800
BARS = 160
_CHUNK = 1 << 16  # bytes read from ffmpeg at a time: memory stays flat for any length of audio


@dataclass(frozen=True)
class Peaks:
    """Min/max pairs per pixel, 8-bit (-128..127), `samples_per_pixel` samples at `sample_rate` each."""

    sample_rate: int
    samples_per_pixel: int
    data: tuple[int, ...]  # min0, max0, min1, max1, ...

    @property
    def length(self) -> int:
        return len(self.data) // 2

    def to_json(self) -> bytes:
        """audiowaveform's JSON (version 2), compact and with a fixed key order: the same bytes every time."""
        doc = {
            "version": 2,
            "channels": 1,
            "sample_rate": self.sample_rate,
            "samples_per_pixel": self.samples_per_pixel,
            "bits": 8,
            "length": self.length,
            "data": list(self.data),
        }
        return (json.dumps(doc, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Peaks | None:
        """The peaks a to_json wrote; None for anything else (a damaged cache file is a miss, not a crash)."""
        try:
            doc = json.loads(raw)
            data = tuple(int(v) for v in doc["data"])
            peaks = cls(int(doc["sample_rate"]), int(doc["samples_per_pixel"]), data)
        except (ValueError, KeyError, TypeError):
            return None
        if doc.get("version") != 2 or len(data) != 2 * int(doc["length"]) or peaks.samples_per_pixel < 1:
            return None
        return peaks

    def levels(self, bars: int = BARS) -> tuple[float, ...]:
        """Bar heights from 0 to 1 (the loudest bar is 1), rounded to 3 places; fewer bars for a short file."""
        n = self.length
        bars = min(bars, n)
        if bars == 0:
            return ()
        heights = []
        for k in range(bars):
            lo, hi = k * n // bars, (k + 1) * n // bars
            heights.append(
                max(max(-self.data[2 * i], self.data[2 * i + 1]) for i in range(lo, max(hi, lo + 1)))
            )
        top = max(heights)
        if top <= 0:
            return tuple(0.0 for _ in heights)
        return tuple(round(h / top, 3) for h in heights)


def compute_peaks(path: Path, duration: float, pixels: int = PEAKS_PIXELS) -> Peaks:
    """Decode `path` once with ffmpeg (8 kHz mono s16le on a pipe) into about `pixels` min/max pairs.

    `duration` (seconds, from probing) fixes the samples per pixel before decoding starts, so each pixel is
    finished as soon as its samples arrive and only one chunk is ever held.
    """
    spp = max(1, math.ceil(duration * PEAKS_RATE / max(1, pixels)))
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-i", str(path)]
    cmd += [
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        str(PEAKS_RATE),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "pipe:1",
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr: deque[bytes] = deque(maxlen=STDERR_LINES)
    errors = proc.stderr
    drain = threading.Thread(target=lambda: stderr.extend(errors), daemon=True)
    drain.start()
    data: list[int] = []
    pending = b""
    step = 2 * spp  # bytes per pixel
    try:
        while chunk := proc.stdout.read(_CHUNK):
            pending += chunk
            whole = len(pending) - len(pending) % step
            if whole:
                _pixels(pending[:whole], spp, data)
                pending = pending[whole:]
        if len(pending) >= 2:
            _pixels(pending[: len(pending) - len(pending) % 2], spp, data)
        rc = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        drain.join()
    if rc != 0:
        lines = [line.decode(errors="replace").rstrip("\n") for line in stderr]
        raise AudioError(
            f"ffmpeg could not decode the waveform: {ffmpeg_message(lines)}", file=path, hint=FFMPEG_HINT
        )
    return Peaks(PEAKS_RATE, spp, tuple(data))


def _pixels(raw: bytes, spp: int, out: list[int]) -> None:
    """Append the 8-bit min/max of each run of `spp` little-endian 16-bit samples in `raw` (the last may be short)."""
    samples = array("h")
    samples.frombytes(raw)
    if sys.byteorder == "big":
        samples.byteswap()
    for start in range(0, len(samples), spp):
        run = samples[start : start + spp]
        out.append(min(run) >> 8)
        out.append(max(run) >> 8)
