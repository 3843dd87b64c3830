"""Shared fixtures: a temp copy of the sample show, the clock, the --update-golden option, and no skips under CI."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from tests._ci import on_ci

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


#: Skips that stay skips under CI: a property of the machine, not a missing dependency. Reason prefixes.
CI_ALLOWED_SKIPS = (
    # root in a container without CAP_LINUX_IMMUTABLE (or on a filesystem without chattr +i support)
    "cannot make a folder read-only for root here",
)


def _ci_verdict(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI, turn a skip into a failure unless its reason is allowed: a skipped test proves nothing."""
    if not (on_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(CI_ALLOWED_SKIPS):
        return
    report.outcome = "failed"
    report.longrepr = f"skipped under CI, which counts as a failure: {reason} ({report.nodeid})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    _ci_verdict(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    report = yield
    _ci_verdict(report)
    return report


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


@pytest.fixture(scope="session")
def encoded_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample show's audio, encoded once per session by real ffmpeg; warm_show copies start from it."""
    from pipeline import build

    show_yaml = copy_sample_show(tmp_path_factory.mktemp("warm") / "show")
    build.build(show_yaml, now=NOW)
    return show_yaml.parent / build.CACHE_DIR / "encoded"


@pytest.fixture
def warm_show(sample_show: Path, encoded_cache: Path) -> Path:
    """show.yaml of a temp copy of the sample show whose encodes are already cached (tags still run)."""
    from pipeline import build

    shutil.copytree(encoded_cache, sample_show.parent / build.CACHE_DIR / "encoded")
    return sample_show


@pytest.fixture
def now() -> dt.datetime:
    return NOW
