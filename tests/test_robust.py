"""Issue 14 items 3-5: check agrees with build at the edges, every input is bounded, links cannot escape.

Real parts throughout: FIFOs made with os.mkfifo, /dev/zero, symlinks, a loopback server that trickles
its status line, a loopback TCP server that accepts and never answers (the S3 endpoint), and the
`podcast serve` server spoken to over raw sockets.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import struct
import wave
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline import build, check
from pipeline.errors import PipelineError

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)

SHOW_YAML = """\
title: Tiny
description: A tiny show for the robustness tests.
author: Someone
owner:
  name: Someone
  email: someone@example.com
language: en
categories:
  - Technology
artwork: cover.jpg
url: https://tiny.example.com/
guid: 2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8
"""

EPISODE_MD = """\
---
title: One
date: 2025-01-02T03:04:05+00:00
audio: audio.wav
{extra}---
Notes for one.
"""


def _tiny_wav(path: Path, seconds: float = 3.0) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        frames = int(8000 * seconds)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(3000 * math.sin(i / 8000 * 2 * math.pi * 440))) for i in range(frames)
            )
        )


def make_tiny_show(
    dest: Path, assets: Path, front: str = "", notes: str | None = None, date: str | None = None
) -> Path:
    """A one-episode show in dest (cover and audio copied from `assets`); returns its show.yaml."""
    ep = dest / "episodes" / "one"
    ep.mkdir(parents=True)
    shutil.copyfile(assets / "cover.jpg", dest / "cover.jpg")
    shutil.copyfile(assets / "audio.wav", ep / "audio.wav")
    (dest / "show.yaml").write_text(SHOW_YAML, encoding="utf-8")
    text = EPISODE_MD.format(extra=front)
    if date is not None:
        text = text.replace("date: 2025-01-02T03:04:05+00:00", f"date: {date}")
    if notes is not None:
        text = text.replace("Notes for one.\n", notes)
    (ep / "episode.md").write_text(text, encoding="utf-8", errors="surrogatepass")
    return dest / "show.yaml"


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("assets")
    Image.new("RGB", (1400, 1400), (40, 44, 52)).save(folder / "cover.jpg", "JPEG", quality=60)
    _tiny_wav(folder / "audio.wav")
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One encode cache for the module: the tiny audio is encoded once, every later build reuses it."""
    return tmp_path_factory.mktemp("cache")


def _verdicts(show_path: Path, cache: Path) -> tuple[bool, bool, str]:
    """(check says clean, build succeeds, what each said); any other exception fails the test."""
    report = check.check(show_path, now=NOW)
    try:
        build.build(show_path, now=NOW, cache_dir=cache, out_dir=show_path.parent / "build")
    except PipelineError as err:
        return report.ok, False, f"check: {[p.text for p in report.errors]} build: {err}"
    return report.ok, True, f"check: {[p.text for p in report.errors]} build: ok"


# --------------------------------------------------------------------------- item 3: check agrees with build


def test_the_tiny_show_checks_and_builds(tmp_path: Path, assets: Path, cache: Path) -> None:
    ok_check, ok_build, said = _verdicts(make_tiny_show(tmp_path / "s", assets), cache)
    assert ok_check and ok_build, said


def test_one_image_as_episode_and_chapter_image_builds(tmp_path: Path, assets: Path, cache: Path) -> None:
    front = "image: art.jpg\nchapters:\n  - {start: '00:00', title: Start, image: art.jpg}\n"
    show = make_tiny_show(tmp_path / "s", assets, front)
    shutil.copyfile(assets / "cover.jpg", show.parent / "episodes/one/art.jpg")
    ok_check, ok_build, said = _verdicts(show, cache)
    assert ok_check and ok_build, said


def _yaml(value: object) -> str:
    """A value as a YAML flow scalar (JSON is YAML; \\u escapes carry any code point, surrogates too)."""
    return json.dumps(value)


_EDGE_TEXT = st.text(
    alphabet=st.sampled_from(
        [
            "a",
            " ",
            "\t",
            "\n",
            "\x00",
            "\x07",
            "\x7f",
            "\x85",
            "\ud800",
            "\ufffe",
            "\uffff",
            "<",
            "&",
            '"',
            "é",
            "\U0001f600",
        ]
    ),
    max_size=12,
)
_RAW = st.sampled_from(
    [
        ".inf",
        "-.inf",
        ".nan",
        "1e400",
        "0x10",
        "~",
        "null",
        "true",
        "[]",
        "{}",
        "''",
        "'x'",
        "-1",
        "0",
        "99999999999999999999999",
    ]
)
_DATES = st.datetimes(
    min_value=dt.datetime(1, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; the zone comes next
    max_value=dt.datetime(9999, 12, 31, 23, 59, 59),  # noqa: DTZ001
).flatmap(
    lambda d: st.sampled_from([-12, -1, 0, 1, 14]).map(
        lambda h: d.replace(tzinfo=dt.timezone(dt.timedelta(hours=h))).isoformat()
    )
)
_NUMBERS = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, 65535, 65536]))
_TIMES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True)
    .map(_yaml)
    .map(lambda s: s.replace("Infinity", ".inf").replace("NaN", ".nan")),
    st.sampled_from(
        ["'00:00:01'", "'99:59:59'", "'1000000:00:00'", "'00:60:00'", "'-00:01'", "'00:00:00.1234567890'"]
    ),
)
_URLS = st.one_of(
    st.sampled_from(
        [
            "https://www.youtube.com/watch?v=abc",
            'https://x.example/"><script>',
            "https://x.example/a b",
            "http://[::1/",
            "http://host:99999/",
            "https://",
            "javascript:alert(1)",
            "https://x.example/" + "a" * 3000,
        ]
    ).map(_yaml),
    _EDGE_TEXT.map(lambda t: _yaml("https://x.example/" + t)),
)

#: Front-matter fields and generated values at the edges of their types (each a YAML line's value).
FIELDS: dict[str, st.SearchStrategy[str]] = {
    "date": st.one_of(_DATES, _DATES.map(_yaml), _RAW),
    "number": st.one_of(_NUMBERS.map(str), _RAW),
    "season": st.one_of(_NUMBERS.map(str), _RAW),
    "title": st.one_of(_EDGE_TEXT.map(_yaml), st.just(_yaml("t" * 256)), _RAW),
    "summary": st.one_of(_EDGE_TEXT.map(_yaml), _RAW),
    "type": st.one_of(st.sampled_from(["full", "trailer", "bonus", "Full", "x"]), _RAW),
    "explicit": st.one_of(st.sampled_from(["true", "false", "yes", "'no'"]), _RAW),
    "video": st.one_of(_URLS, _RAW),
    "guid": st.one_of(_EDGE_TEXT.map(_yaml), st.uuids().map(str), _RAW),
    "chapters": st.lists(_TIMES, min_size=1, max_size=3).map(
        lambda ts: "\n" + "".join(f"  - {{start: {t}, title: C{i}}}\n" for i, t in enumerate(ts)).rstrip("\n")
    ),
    "persons": st.lists(_EDGE_TEXT.map(_yaml), max_size=2).map(lambda xs: "[" + ", ".join(xs) + "]"),
    "image": st.sampled_from(["art.jpg", "missing.jpg", "../cover.jpg", "/etc/passwd", "art.gif", "''"]),
    "transcript": st.sampled_from(["t.vtt", "missing.vtt", "t.txt"]),
}


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(st.sampled_from(sorted(FIELDS)), st.none(), min_size=1, max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: FIELDS[k] for k in keys})
    ),
    notes=st.one_of(st.none(), _EDGE_TEXT),
)
def test_check_and_build_agree_at_the_edges(
    tmp_path_factory: pytest.TempPathFactory,
    assets: Path,
    cache: Path,
    fields: dict[str, str],
    notes: str | None,
) -> None:
    front = "".join(f"{k}: {v}\n" for k, v in fields.items() if k != "date")
    root = tmp_path_factory.mktemp("edge")
    notes_text = None if notes is None else notes + "\n"
    show = make_tiny_show(root, assets, front, notes=notes_text, date=fields.get("date"))
    folder = show.parent / "episodes/one"
    shutil.copyfile(assets / "cover.jpg", folder / "art.jpg")
    (folder / "t.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n", encoding="utf-8")
    ok_check, ok_build, said = _verdicts(show, cache)
    assert ok_check == ok_build, said
