"""Content rules that `check`, `build` and the audio stage share, so they refuse the same things (pure, layer 0).

Each rule returns plain `RuleProblem`s (field, message, hint); the caller wraps them in its own error
type and adds the file they came from. Nothing here imports the rest of the pipeline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleProblem:
    field: str  # "chapters[2]"
    message: str  # "starts at 01:06:40, but the audio ends at 01:00:00"
    hint: str = ""


def clock(seconds: float) -> str:
    """Seconds -> 'HH:MM:SS' (with milliseconds only when there are some)."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}" + (f".{ms:03d}" if ms else "")


def chapter_problems(starts: Sequence[float], duration: float) -> list[RuleProblem]:
    """Every problem with a list of chapter start times: ascending, the first at 0, all inside the audio."""
    problems: list[RuleProblem] = []
    previous: float | None = None
    for i, start in enumerate(starts):
        field = f"chapters[{i}]"
        if not math.isfinite(start) or start < 0:
            problems.append(RuleProblem(field, f"start {start} is not a time in the audio"))
            continue
        if i == 0 and round(start, 3) != 0:
            problems.append(
                RuleProblem(
                    field,
                    f"the first chapter starts at {clock(start)}, not 00:00:00",
                    "add a chapter at 00:00:00, such as 'Intro'",
                )
            )
        if previous is not None and start <= previous:
            problems.append(
                RuleProblem(
                    field,
                    f"starts at {clock(start)}, not after the chapter before it ({clock(previous)})",
                    "list chapters in time order",
                )
            )
        if start >= duration:
            problems.append(
                RuleProblem(
                    field,
                    f"starts at {clock(start)}, but the audio ends at {clock(duration)}",
                    "remove the chapter or fix its time",
                )
            )
        previous = start
    return problems


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` breaks S3's bucket naming rules (the strictest of S3, R2, B2, MinIO), or None."""
    if not 3 <= len(name) <= 63:
        return f"it is {len(name)} characters long (S3 needs 3 to 63)"
    if not _BUCKET_RE.match(name):
        return "S3 allows only lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "S3 does not allow '..', '.-' or '-.' in a bucket name"
    if re.match(r"^\d+\.\d+\.\d+\.\d+$", name):
        return "S3 does not allow a bucket name that looks like an IP address"
    if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3")):
        return "S3 reserves that prefix or suffix"
    return None
