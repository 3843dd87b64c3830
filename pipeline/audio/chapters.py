"""Chapters: marks with their ends, checked by the one chapter rule in pipeline.rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipeline import rules
from pipeline.errors import AudioError
from pipeline.rules import clock


@dataclass(frozen=True)
class ChapterMark:
    """One chapter. `end` may be left None; close_chapters()/write_tags() derive it from the next start."""

    start: float  # seconds
    title: str
    end: float | None = None  # seconds
    url: str | None = None
    image: bytes | None = None  # JPEG or PNG bytes


def check_chapters(starts: Sequence[float], duration: float) -> list[AudioError]:
    """The one chapter rule (pipeline.rules.chapter_problems), as AudioErrors whose field is "chapters[i]".

    Callers add the file they came from.
    """
    return [
        AudioError(p.message, field=p.field, hint=p.hint) for p in rules.chapter_problems(starts, duration)
    ]


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
