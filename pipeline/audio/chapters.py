"""Chapters: marks with their ends, the rules a chapter list must follow, and the clock form they are shown in."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipeline.errors import AudioError


@dataclass(frozen=True)
class ChapterMark:
    """One chapter. `end` may be left None; close_chapters()/write_tags() derive it from the next start."""

    start: float  # seconds
    title: str
    end: float | None = None  # seconds
    url: str | None = None
    image: bytes | None = None  # JPEG or PNG bytes


def clock(seconds: float) -> str:
    """HH:MM:SS, with milliseconds when there are any ("00:01:05.250"), for chapter messages."""
    whole = int(seconds)
    ms = round((seconds - whole) * 1000)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{text}.{ms:03d}" if ms else text


def check_chapters(starts: Sequence[float], duration: float) -> list[AudioError]:
    """Every problem with a list of chapter start times: ascending, the first at 0, all inside the audio.

    Each problem is an AudioError whose field is "chapters[i]"; callers add the file they came from.
    """
    problems: list[AudioError] = []
    previous: float | None = None
    for i, start in enumerate(starts):
        field = f"chapters[{i}]"
        if not math.isfinite(start) or start < 0:
            problems.append(AudioError(f"start {start} is not a time in the audio", field=field))
            continue
        if i == 0 and round(start, 3) != 0:
            problems.append(
                AudioError(
                    f"the first chapter starts at {clock(start)}, not 00:00:00",
                    field=field,
                    hint="add a chapter at 00:00:00, such as 'Intro'",
                )
            )
        if previous is not None and start <= previous:
            problems.append(
                AudioError(
                    f"starts at {clock(start)}, not after the chapter before it ({clock(previous)})",
                    field=field,
                    hint="list chapters in time order",
                )
            )
        if start >= duration:
            problems.append(
                AudioError(
                    f"starts at {clock(start)}, but the audio ends at {clock(duration)}",
                    field=field,
                    hint="remove the chapter or fix its time",
                )
            )
        previous = start
    return problems


def close_chapters(marks: Sequence[ChapterMark], duration: float) -> tuple[ChapterMark, ...]:
    """Check the chapters against the audio's duration and fill in each missing end (next start, or the end)."""
    problems = check_chapters([m.start for m in marks], duration)
    if problems:
        raise problems[0]
    closed = []
    for i, mark in enumerate(marks):
        end = mark.end if mark.end is not None else (marks[i + 1].start if i + 1 < len(marks) else duration)
        if not mark.start < end <= duration + 0.001:
            raise AudioError(
                f"ends at {clock(end)}, outside {clock(mark.start)}..{clock(duration)}",
                field=f"chapters[{i}]",
            )
        closed.append(replace(mark, end=end))
    return tuple(closed)
