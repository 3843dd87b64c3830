"""`python -m benchmarks [AREA ...] [OPTIONS ...]` runs every benchmark script (or the named areas) in turn.

Area names come first; everything from the first option on is handed to each script as it is, so options
that take a value work (`python -m benchmarks site --sizes 10000`). Install the baselines' packages with
`pip install -e '.[bench]'`.
"""

from __future__ import annotations

import importlib
import sys

AREAS = ("audio", "build", "encode", "feed", "validate", "site", "publish", "import", "transcribe")


def split(args: list[str]) -> tuple[list[str], list[str]]:
    """(areas, options): the leading area names, then the rest untouched."""
    areas: list[str] = []
    for i, arg in enumerate(args):
        if arg.startswith("-"):
            return areas, args[i:]
        if arg not in AREAS:
            raise SystemExit(f"benchmarks: no area {arg!r} (areas: {', '.join(AREAS)})")
        areas.append(arg)
    return areas, []


def main(argv: list[str] | None = None) -> int:
    areas, flags = split(list(sys.argv[1:] if argv is None else argv))
    for area in areas or list(AREAS):
        print(f"\n=== benchmarks.bench_{area} {' '.join(flags)}".rstrip(), flush=True)
        module = importlib.import_module(f"benchmarks.bench_{area}")
        module.main(flags)
    return 0


if __name__ == "__main__":
    sys.exit(main())
