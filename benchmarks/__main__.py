"""`python -m benchmarks [--quick] [AREA ...]` runs every benchmark script (or the named ones) in turn."""

from __future__ import annotations

import importlib
import sys

AREAS = ("audio", "build", "encode", "feed", "validate", "site", "publish", "import", "transcribe")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    flags = [a for a in args if a.startswith("-")]
    areas = [a for a in args if not a.startswith("-")] or list(AREAS)
    for area in areas:
        print(f"\n=== benchmarks.bench_{area} {' '.join(flags)}".rstrip(), flush=True)
        module = importlib.import_module(f"benchmarks.bench_{area}")
        module.main(flags)
    return 0


if __name__ == "__main__":
    sys.exit(main())
