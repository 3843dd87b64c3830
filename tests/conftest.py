"""Shared fixtures: a temp copy of the sample show, the clock, and the --update-golden option."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_FILES = ("show.yaml", "cover.jpg", "host.jpg", "episodes")

#: A fixed "now" after every sample episode's date, so tests never depend on the clock.
NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/ from the current output instead of comparing.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def copy_sample_show(dest: Path) -> Path:
    """A copy of the repo's sample show in `dest`; returns the path of its show.yaml."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name)
        else:
            shutil.copy2(src, dest / name)
    return dest / "show.yaml"


@pytest.fixture
def sample_show(tmp_path: Path) -> Path:
    """show.yaml of a fresh temp copy of the sample show (tests may change anything in it)."""
    return copy_sample_show(tmp_path / "show")


@pytest.fixture
def now() -> dt.datetime:
    return NOW
