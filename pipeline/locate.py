"""Where and when: the show.yaml in a folder or the nearest one above it, and command-line dates (layer 0).

Kept apart from model.py so that a command which only needs to know where the show is (an unchanged
`podcast publish`) does not load pydantic and YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pipeline.errors import ContentError

SHOW_FILE = "show.yaml"


def find_show(start: Path) -> Path:
    """The show.yaml in `start` or the nearest folder above it (the way git finds .git).

    Raises ContentError naming where it looked when there is none.
    """
    here = Path(start).resolve()
    looked = [here, *here.parents]
    for folder in looked:
        candidate = folder / SHOW_FILE
        if candidate.is_file():
            return candidate
    where = f"{here} and the {len(looked) - 1} folders above it" if len(looked) > 1 else str(here)
    raise ContentError(
        f"not found in {where}",
        file=SHOW_FILE,
        hint="cd into your show's folder, pass --show PATH, or run `podcast init FOLDER` to start one",
    )


def enclosing_show(folder: Path) -> Path | None:
    """The show.yaml of a show that `folder` would sit inside (in a parent folder), or None."""
    here = Path(folder).resolve()
    for parent in here.parents:
        if (parent / SHOW_FILE).is_file():
            return parent / SHOW_FILE
    return None


_DATE_ONLY_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(Z|[+-]\d{2}:?\d{2})?$")


def date_without_time_hint(text: str) -> str | None:
    """The message for a date with no time of day ('2026-12-05', '2026-12-05+00:00'), or None.

    Python reads '2026-12-05+00:00' as midnight with no zone, so without this its fix would be wrong.
    """
    m = _DATE_ONLY_RE.match(text.strip())
    if m is None:
        return None
    zone = m.group(2) or ""
    zone = "+00:00" if zone in ("", "Z") else zone
    has = "time" if m.group(2) else "time and time zone"
    return f"{text.strip()!r} has no {has} (write {m.group(1)}T09:00:00{zone})"


def parse_datetime(text: str) -> dt.datetime:
    """An ISO 8601 date and time with a zone (a command-line --date or --now); ValueError names the fix."""
    if (hint := date_without_time_hint(text)) is not None:
        raise ValueError(hint)
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time (write 2025-03-04T07:00:00+00:00)") from None
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone (write {when.isoformat(timespec='seconds')}+00:00)")
    return when
