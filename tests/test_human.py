from __future__ import annotations

import pytest

from pipeline import human


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (48_200_000, "48.2 MB"),
        (999_949_999, "999.9 MB"),
        (1_000_000_000, "1.0 GB"),
        (1_234_500_000_000, "1234.5 GB"),
    ],
)
def test_size(n: float, text: str) -> None:
    assert human.size(n) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (59.9, "0:59"), (754, "12:34"), (3599, "59:59"), (3600, "1:00:00"), (3723, "1:02:03")],
)
def test_duration(seconds: float, text: str) -> None:
    assert human.duration(seconds) == text


def test_plural() -> None:
    assert human.plural(0, "episode") == "0 episodes"
    assert human.plural(1, "episode") == "1 episode"
    assert human.plural(3, "episode") == "3 episodes"
    assert human.plural(1, "entry", "entries") == "1 entry"
    assert human.plural(2, "entry", "entries") == "2 entries"
