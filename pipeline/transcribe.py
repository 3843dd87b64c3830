"""Offline transcripts: an episode's source audio -> transcript.vtt beside episode.md (faster-whisper lives here only).

The result is cached by the audio's content hash and the model's identity under
.podcast-cache/transcripts/, so re-running after a `--force` or on a fresh clone of the same audio costs
nothing. Sources are read, never written: the only file written into an episode folder is a new
transcript.vtt, and only when none exists (or `force=True`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline import model, transcript
from pipeline.errors import ContentError, PipelineError
from pipeline.progress import NullReporter, Reporter

CACHE_DIR = ".podcast-cache"
CACHE_SUB = "transcripts"
OUTPUT_NAME = "transcript.vtt"
DEFAULT_MODEL = "small.en"
#: Model sizes faster-whisper knows by name (downloaded once into the Hugging Face cache).
MODEL_SIZES = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large",
    "distil-small.en",
    "distil-medium.en",
    "distil-large-v2",
    "distil-large-v3",
    "turbo",
)
INSTALL_HINT = "install the extra: pip install 'podcast-pipeline[transcribe]'"

Status = Literal["written", "cached", "skipped"]


class TranscribeError(PipelineError):
    """The transcriber or its model is missing or failed."""


@dataclass(frozen=True)
class Result:
    """What happened to one episode."""

    slug: str
    status: Status  # written (transcribed now), cached (written from the cache), skipped (one exists)
    path: Path
    cues: int
    audio_seconds: float
    elapsed: float  # seconds spent transcribing (0 when cached or skipped)

    @property
    def realtime_factor(self) -> float | None:
        """Audio seconds per second of work (2.0 means twice as fast as real time); None when not run."""
        return self.audio_seconds / self.elapsed if self.elapsed > 0 else None


# --------------------------------------------------------------------------- the model


def _is_model_folder(path: Path) -> bool:
    return (path / "model.bin").is_file()


def resolve_model(name: str) -> str:
    """Check `name` (a size like "small.en" or a CTranslate2 model folder); returns what to load.

    Raises TranscribeError with a one-line hint for a folder that is not a model or an unknown name.
    """
    path = Path(name).expanduser()
    if path.exists():
        if not _is_model_folder(path):
            raise TranscribeError(
                "is not a CTranslate2 Whisper model folder (no model.bin)",
                file=path,
                hint="name a model size such as small.en, or a folder made by ct2-transformers-converter",
            )
        return str(path)
    if name in MODEL_SIZES:
        return name
    raise TranscribeError(
        f"unknown model {name!r}",
        field="--model",
        hint=f"name a size ({', '.join(MODEL_SIZES[:8])}, ...) or a local CTranslate2 model folder",
    )


def model_identity(name: str) -> str:
    """A stable name for a model in cache keys: the size, or a folder's path with model.bin's size and time."""
    source = resolve_model(name)
    path = Path(source)
    if path.is_dir():
        st = (path / "model.bin").stat()
        return f"dir:{path.resolve()}:{st.st_size}:{int(st.st_mtime)}"
    return source


Segments = Iterable[Any]
#: audio file -> (segments iterator, audio duration in seconds)
Engine = Callable[[Path], tuple[Segments, float]]


def load_engine(name: str, *, cpu_threads: int = 0) -> Engine:
    """Load faster-whisper with `name` (a size like "small.en" or a CTranslate2 model folder).

    Raises TranscribeError with a one-line hint when faster-whisper is not installed, the name is not a
    model, or a named size is not downloaded and cannot be fetched.
    """
    source = resolve_model(name)
    try:
        from faster_whisper import WhisperModel  # type: ignore[import-untyped]
    except ImportError:
        raise TranscribeError("faster-whisper is not installed", hint=INSTALL_HINT) from None
    try:
        whisper = WhisperModel(
            source, device="cpu", compute_type="int8", cpu_threads=cpu_threads or (os.cpu_count() or 1)
        )
    except Exception as exc:  # network, disk or format trouble inside huggingface_hub / ctranslate2
        raise TranscribeError(
            f"could not load the model {name!r} ({type(exc).__name__})",
            field="--model",
            hint="download it once with network access (it is cached), or pass --model with a local model folder",
        ) from None

    def run(audio: Path) -> tuple[Segments, float]:
        segments, info = whisper.transcribe(
            str(audio), beam_size=1, vad_filter=False, condition_on_previous_text=False
        )
        return segments, float(info.duration)

    return run


def engine_version() -> str:
    try:
        return importlib.metadata.version("faster-whisper")
    except importlib.metadata.PackageNotFoundError:
        return "none"


# --------------------------------------------------------------------------- transcribing


def audio_digest(path: Path) -> str:
    """sha256 of the audio file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cues_from_segments(segments: Segments, on_progress: Callable[[float], None]) -> list[transcript.Cue]:
    """Whisper segments -> cues whose times only go forward (no speakers; empty segments dropped)."""
    cues: list[transcript.Cue] = []
    last = 0.0
    for seg in segments:
        start = max(float(seg.start), last)
        end = max(float(seg.end), start)
        on_progress(end)
        text = " ".join(str(seg.text).split())
        if not text:
            continue
        cues.append(transcript.Cue(start=round(start, 3), end=round(end, 3), text=text))
        last = end
    return cues


def transcribe_file(audio: Path, engine: Engine, reporter: Reporter, label: str) -> tuple[str, int, float]:
    """Transcribe one audio file: (VTT text, cue count, audio seconds)."""
    segments, duration = engine(audio)
    task = reporter.task(label, duration, unit="s")
    try:
        cues = cues_from_segments(segments, task.update)
        task.update(duration)
    finally:
        task.close()
    if not cues:
        raise TranscribeError("no speech was recognised", file=audio, hint="check the audio has speech in it")
    return transcript.to_vtt(cues), len(cues), duration


def transcribe(
    show: model.Show,
    slugs: Sequence[str] = (),
    *,
    model_name: str = DEFAULT_MODEL,
    force: bool = False,
    cache_dir: Path | None = None,
    reporter: Reporter | None = None,
    engine: Engine | None = None,
) -> list[Result]:
    """Write transcript.vtt for the named episodes (default: every episode with audio and no transcript).

    An episode that already has a transcript (the front matter's `transcript:` or a transcript.vtt in its
    folder) is skipped unless `force`; with `force` only transcript.vtt itself is replaced.
    """
    reporter = reporter or NullReporter()
    episodes, problems = model.load_each_episode(show.root)
    if problems:
        raise problems[0]
    by_slug = {ep.slug: ep for ep in episodes}
    for slug in slugs:
        if slug not in by_slug:
            raise ContentError(
                f"no episode {slug!r}",
                file=f"{model.EPISODES_DIR}/{slug}",
                hint="run `podcast list` for the slugs",
            )
    chosen = [by_slug[s] for s in dict.fromkeys(slugs)] if slugs else [ep for ep in episodes if ep.audio]
    cache = (cache_dir or show.root / CACHE_DIR) / CACHE_SUB
    results: list[Result] = []
    identity = model_identity(model_name)  # checks the name before any work
    for ep in chosen:
        if ep.audio is None:
            raise ContentError(
                "has no audio to transcribe", file=model.show_rel(show.root, ep.source), field="audio"
            )
        out = ep.dir / OUTPUT_NAME
        existing = ep.transcript if ep.transcript is not None else (out if out.exists() else None)
        if existing is not None and not (force and existing == out):
            if force:
                reporter.warn(
                    f"{model.show_rel(show.root, existing)}: kept (--force replaces only {OUTPUT_NAME}); "
                    f"remove the transcript: field to use a new one"
                )
            results.append(Result(ep.slug, "skipped", existing, 0, 0.0, 0.0))
            continue
        key = hashlib.sha256(
            f"{audio_digest(ep.audio)}\0{identity}\0{engine_version()}".encode()
        ).hexdigest()[:32]
        cached = cache / f"{key}.vtt"
        if cached.is_file():
            text = cached.read_text(encoding="utf-8")
            cues = len(transcript.parse(text, "vtt", file=cached))
            _write(out, text)
            results.append(Result(ep.slug, "cached", out, cues, 0.0, 0.0))
            continue
        if engine is None:
            engine = load_engine(model_name)
        started = time.perf_counter()
        text, cues, seconds = transcribe_file(ep.audio, engine, reporter, ep.slug)
        elapsed = time.perf_counter() - started
        cache.mkdir(parents=True, exist_ok=True)
        _write(cached, text)
        _write(out, text)
        results.append(Result(ep.slug, "written", out, cues, seconds, elapsed))
    return results


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
