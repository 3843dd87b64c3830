"""Loudness: the EBU R128 meter (ffmpeg's ebur128) and normalising passes (a gain, plus a true-peak limiter)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.audio.ffmpeg import run_ffmpeg
from pipeline.audio.files import REEXPORT_HINT, temp_beside
from pipeline.audio.probing import probe
from pipeline.errors import AudioError
from pipeline.progress import NullReporter, Reporter


@dataclass(frozen=True)
class Loudness:
    """An EBU R128 measurement of a whole file."""

    integrated: float  # LUFS
    lra: float  # loudness range, LU
    true_peak: float  # dBTP
    threshold: float  # relative gate of the integrated measurement, LUFS


@dataclass(frozen=True)
class LoudnessTarget:
    """What a normalised file must measure: its integrated loudness and the true-peak ceiling."""

    integrated: float  # LUFS
    true_peak: float  # dBTP


# Normalising is a gain, plus a true-peak limiter when the gained peaks would pass the ceiling, and is checked on
# the delivered file: a limiter costs loudness on peaky speech and lossy codecs shift loudness and peaks again
# (MP3 drops high-frequency energy; AAC can overshoot), so a file that misses gets a corrective pass.
LOSSY_TP_MARGIN = 0.5  # dB under the ceiling the first pass limits to: decoders peak above the limiter
LOUDNESS_TOLERANCE = (
    0.3  # LU off the target a delivered file may be (the spec allows 1; the meter reads 0.1s)
)
CORRECTIVE_PASSES = 2
_PEAK_GUARD = 0.1  # dB under the ceiling a delivered true peak must read (the meter rounds to 0.1)
_PEAK_AIM = 0.2  # dB under the ceiling that a corrective pass aims the delivered true peak at
_LIMITED_RESPONSE = 0.6  # LU delivered per dB of gain, assumed while the limiter works (plain gain: 1)
_OVERSAMPLE = 4  # the limiter runs at 4x the delivery rate, so it holds true (inter-sample) peaks too
# Lookahead limiter: attack (= lookahead) and release in ms, no auto-level, lookahead delay compensated.
_LIMITER = "alimiter=limit={limit:.6f}:attack=5:release=50:level=false:latency=true"


# The meter: ffmpeg's ebur128 filter (BS.1770 loudness, true peak from 4x oversampling), whose summary gives
# each figure to 0.1: the meter the delivery spec is checked with, and several times faster than loudnorm's.
_METER = "ebur128=peak=true:framelog=quiet"
_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+(?P<integrated>\S+) LUFS\s+Threshold:\s+(?P<threshold>\S+) LUFS"
    r"\s+Loudness range:\s+LRA:\s+(?P<lra>\S+) LU.*?True peak:\s+Peak:\s+(?P<true_peak>\S+) dBFS",
    re.S,
)


def measure(
    path: Path, filters: Sequence[str], duration: float, reporter: Reporter, *, label: str = ""
) -> Loudness:
    """Measure `path` after `filters` (e.g. a downmix), reporting progress over its `duration` in seconds."""
    task = reporter.task(label or f"Measuring loudness of {path.name}", duration, unit="s")
    try:
        run = run_ffmpeg(
            ["-i", str(path), "-map", "0:a:0", "-af", ",".join([*filters, _METER]), "-f", "null", "-"],
            file=path,
            doing="measure loudness",
            task=task,
            loglevel="info",
        )
    finally:
        task.close()
    text = "\n".join(run.stderr)
    match = _SUMMARY.search(text, text.rfind("Summary:") + 1)
    if match is None:
        raise AudioError("ffmpeg did not report a loudness measurement", file=path, hint=REEXPORT_HINT)
    figures = {name: float(value) for name, value in match.groupdict().items()}
    loudness = Loudness(
        integrated=figures["integrated"],
        lra=figures["lra"],
        true_peak=figures["true_peak"],
        threshold=figures["threshold"],
    )
    if not math.isfinite(loudness.integrated) or loudness.integrated <= -70.0:
        raise AudioError(
            "the audio is silent, so its loudness cannot be normalised",
            file=path,
            hint="check the recording, or remove `loudness` from the show's audio settings",
        )
    return loudness


def measure_loudness(path: Path, *, reporter: Reporter = NullReporter()) -> Loudness:  # noqa: B008
    """EBU R128 integrated loudness, loudness range and true peak of a whole file (ffmpeg ebur128, 0.1 steps)."""
    path = Path(path)
    info = probe(path)
    return measure(path, [], info.duration, reporter)


# --------------------------------------------------------------------------------------------------
# normalising passes
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Aim:
    """What one normalising pass applies to the source."""

    gain: float  # dB
    limit: float | None  # dBTP the limiter holds peaks to; None when the gained peaks fit (no limiter)


@dataclass(frozen=True)
class Attempt:
    """One normalising pass and what its delivered file measures."""

    path: Path
    aim: Aim
    peak: float  # expected true peak before the codec: the limit, or the source's peak plus the gain
    delivered: Loudness


#: Encodes the source into the given file through the given level filters; the label is for progress.
EncodePass = Callable[[Path, list[str], str], None]


def _aim(gain: float, limit: float, source: Loudness) -> Aim:
    gain, limit = round(gain, 2), round(limit, 2)
    return Aim(gain, None if source.true_peak + gain <= limit else limit)


def _level_filters(aim: Aim, sample_rate: int) -> list[str]:
    chain = [f"volume={aim.gain:.2f}dB"]
    if aim.limit is not None:
        chain += [
            f"aresample={_OVERSAMPLE * sample_rate}",
            _LIMITER.format(limit=10 ** (aim.limit / 20)),
            f"aresample={sample_rate}",
        ]
    return chain


def _peak_limit(target: LoudnessTarget) -> float:
    """The highest true peak a delivered file may measure here: just under the ceiling, as other meters differ."""
    return target.true_peak - _PEAK_GUARD


def _on_target(target: LoudnessTarget, attempt: Attempt) -> bool:
    got = attempt.delivered
    near = abs(got.integrated - target.integrated) <= LOUDNESS_TOLERANCE
    return near and got.true_peak <= _peak_limit(target)


def _rank(target: LoudnessTarget, attempt: Attempt) -> tuple[bool, float]:
    """Sort key, best first: under the ceiling above all, then nearest the target (or else least over the ceiling)."""
    got = attempt.delivered
    over = got.true_peak - _peak_limit(target)
    return (over > 0, over if over > 0 else abs(got.integrated - target.integrated))


def _next_aim(target: LoudnessTarget, source: Loudness, tried: Sequence[Attempt]) -> Aim:
    """The gain and limit for the next pass, from what the passes so far missed by.

    The gain moves by the loudness miss divided by how strongly the delivered loudness answers the gain: as
    measured over the last two passes when their gains differ, else 1 for a plain gain or _LIMITED_RESPONSE
    while the limiter works (it takes back part of any extra gain). The limit is set so the delivered peak
    lands _PEAK_AIM under the ceiling, lowered by any overshoot the codec added last time (a codec that
    lowered the peak is not relied on to do so again).
    """
    last = tried[-1]
    got = last.delivered
    response = 1.0 if last.aim.limit is None else _LIMITED_RESPONSE
    if len(tried) > 1:
        before = tried[-2]
        moved = last.aim.gain - before.aim.gain
        if abs(moved) >= 0.1:
            response = min(1.0, max(0.25, (got.integrated - before.delivered.integrated) / moved))
    step = max(-6.0, min(6.0, (target.integrated - got.integrated) / response))
    overshoot = max(0.0, got.true_peak - last.peak)
    limit = max(-20.0, min(0.0, target.true_peak - _PEAK_AIM - overshoot))
    return _aim(last.aim.gain + step, limit, source)


def normalise(
    src: Path,
    dst: Path,
    tmp: Path,
    *,
    target: LoudnessTarget,
    sample_rate: int,
    duration: float,
    measured: Loudness,
    encode_pass: EncodePass,
    reporter: Reporter,
) -> tuple[Attempt, int]:
    """Encode `src` into `tmp` at the loudness target, checked on the delivered file: (the pass kept, passes run).

    The first pass applies the gain that the source's measurement calls for, with the limiter
    LOSSY_TP_MARGIN under the ceiling when the peaks need it; its encoded file is measured. A file that
    misses the target or the ceiling is followed by a corrective pass aimed by what it missed, up to
    CORRECTIVE_PASSES; the best file is kept (under the ceiling first, then nearest the target). Each decision
    follows from measurements of files made from the input alone, so the same input gives the same bytes.
    Corrective passes write beside `dst`; only the kept file remains, as `tmp`.
    """
    aim = _aim(target.integrated - measured.integrated, target.true_peak - LOSSY_TP_MARGIN, measured)
    tried: list[Attempt] = []
    best: Attempt | None = None
    try:
        for n in range(1 + CORRECTIVE_PASSES):
            out = tmp if n == 0 else temp_beside(dst, ".part")
            try:
                level = _level_filters(aim, sample_rate)
                label = f"{'Encoding' if n == 0 else 'Correcting loudness of'} {src.name}"
                encode_pass(out, level, label)
                got = measure(out, [], duration, reporter, label=f"Checking loudness of {src.name}")
            except BaseException:
                if out != tmp:
                    out.unlink(missing_ok=True)
                raise
            peak = measured.true_peak + aim.gain if aim.limit is None else aim.limit
            attempt = Attempt(out, aim, peak, got)
            tried.append(attempt)
            if best is None or _rank(target, attempt) < _rank(target, best):
                best, loser = attempt, best
            else:
                loser = attempt
            if loser is not None and loser.path != tmp:
                loser.path.unlink(missing_ok=True)
            if _on_target(target, attempt):
                break
            aim = _next_aim(target, measured, tried)
        assert best is not None
        if best.path != tmp:
            os.replace(best.path, tmp)
    finally:
        if best is not None and best.path != tmp:
            best.path.unlink(missing_ok=True)
    return replace(best, path=tmp), len(tried)
