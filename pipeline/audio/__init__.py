"""The audio stage: probe, encode, normalise and tag audio files; the only package that runs ffmpeg or imports mutagen.

One module per job, as mutagen keeps one per container:

- `ffmpeg`: finding and running the ffmpeg binary (bounded stderr, progress), and its version
- `files`: opening audio files with errors that name them, temporary files beside a target, digests
- `containers`: the MP3, WAV, AIFF, FLAC and MP4 header readers
- `probing`: what a file is and how long it plays, from its content (`AudioInfo`)
- `loudness`: the EBU R128 meter and the normalising passes (`Loudness`)
- `encoding`: delivery formats, `EncodeSettings`, `encode`, the recipe version
- `chapters`: `ChapterMark` and the rules a chapter list follows
- `tags`: `TagSpec` and writing ID3 (CHAP/CTOC chapters) and MP4 tags
- `peaks`: the waveform of a delivered file (`Peaks`, `compute_peaks`), decoded at 8 kHz
- `cover`: artwork as a JPEG for tags (Pillow)

This module re-exports the public names; the rest of the pipeline imports only these.
"""

from __future__ import annotations

from pipeline.audio.chapters import ChapterMark, check_chapters, close_chapters
from pipeline.audio.encoding import (
    OPUS_MIME,
    RECIPE_VERSION,
    EncodeResult,
    EncodeSettings,
    cut_clip,
    encode,
    plan_encode,
    probe_delivered,
    tool_versions,
)
from pipeline.audio.files import file_digest
from pipeline.audio.loudness import Loudness, measure_loudness
from pipeline.audio.peaks import PEAKS_PIXELS, PEAKS_RATE, PEAKS_VERSION, Peaks, compute_peaks
from pipeline.audio.probing import AudioInfo, probe
from pipeline.audio.tags import TagSpec, write_tags
from pipeline.images import cover_jpeg

__all__ = [
    "OPUS_MIME",
    "PEAKS_PIXELS",
    "PEAKS_RATE",
    "PEAKS_VERSION",
    "RECIPE_VERSION",
    "AudioInfo",
    "ChapterMark",
    "EncodeResult",
    "EncodeSettings",
    "Loudness",
    "Peaks",
    "TagSpec",
    "check_chapters",
    "close_chapters",
    "compute_peaks",
    "cover_jpeg",
    "cut_clip",
    "encode",
    "file_digest",
    "measure_loudness",
    "plan_encode",
    "probe",
    "probe_delivered",
    "tool_versions",
    "write_tags",
]
