"""Human wording of numbers: sizes, durations, plurals (layer 0, imports nothing of the package).

The one place the CLI and library modules format a size, a duration or a count for people to read,
so `48.2 MB` and `1:02:03` look the same wherever they are printed.
"""

from __future__ import annotations

__all__ = ["duration", "plural", "size"]


def size(n: float) -> str:
    """Bytes in decimal units: `512 B`, `48.2 MB`; GB is the largest unit (`1234.5 GB`)."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns at GB


def duration(seconds: float) -> str:
    """Whole seconds as `M:SS` under an hour (`12:34`), `H:MM:SS` from an hour (`1:02:03`)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 episode`, `3 episodes`; `many` for an irregular plural (`plural(2, "entry", "entries")`)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
