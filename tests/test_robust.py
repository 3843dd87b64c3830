"""Issue 14 items 3-5: check agrees with build at the edges, every input is bounded, links cannot escape.

Real parts throughout: FIFOs made with os.mkfifo, /dev/zero, symlinks, a loopback server that trickles
its status line, a loopback TCP server that accepts and never answers (the S3 endpoint), and the
`podcast serve` server spoken to over raw sockets.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline import build, check, model, notes, serve
from pipeline.cli import cli
from pipeline.errors import ContentErrors, ExitCode, PipelineError

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
    # cover.jpg: the name both an episode image's key and a chapter image's key end in
    front = "image: cover.jpg\nchapters:\n  - {start: '00:00', title: Start, image: cover.jpg}\n"
    show = make_tiny_show(tmp_path / "s", assets, front)
    shutil.copyfile(assets / "cover.jpg", show.parent / "episodes/one/cover.jpg")
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
# The cases issue 14 found (check clean, build refused or crashed) always run, before the generated ones.
@example(fields={"date": "9999-12-31T23:00:00-12:00"}, notes=None)
@example(fields={"date": "0001-01-01T00:00:00+01:00"}, notes=None)
@example(fields={"chapters": "\n  - {start: 0, title: A}\n  - {start: .inf, title: B}"}, notes=None)
@example(fields={"chapters": "\n  - {start: 0, title: A}\n  - {start: .nan, title: B}"}, notes=None)
@example(fields={"number": "1" * 30}, notes=None)
@example(fields={"number": "9" * 5000}, notes=None)
@example(fields={"summary": '"Knees \\ufffe"'}, notes=None)
@example(fields={"title": "T"}, notes="Notes \uffff")
@example(
    fields={"image": "cover.jpg", "chapters": "\n  - {start: 0, title: A, image: cover.jpg}"}, notes=None
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
    shutil.copyfile(assets / "cover.jpg", folder / "cover.jpg")
    (folder / "t.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n", encoding="utf-8")
    ok_check, ok_build, said = _verdicts(show, cache)
    assert ok_check == ok_build, said


# --------------------------------------------------------------------------- item 4: every input is bounded

#: ~600 bytes; fully expanded, 9^9 (387 million) items.
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _run(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process, so a hang is a bounded failure instead of a stuck suite."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_alias_bomb_in_podcast_add_notes_is_refused_at_once(tmp_path: Path, assets: Path) -> None:
    assert len(ALIAS_BOMB) < 700
    show = make_tiny_show(tmp_path / "s", assets)
    notes = tmp_path / "notes.md"
    notes.write_text("---\ntitle: Bomb\n" + ALIAS_BOMB + "---\nBody\n", encoding="utf-8")
    started = time.monotonic()
    result = _run("add", str(assets / "audio.wav"), str(notes), "--show", str(show), "--now", NOW.isoformat())
    assert time.monotonic() - started < 30
    assert result.returncode != 0
    assert "aliases (*" in _one_line(result)


def test_yaml_aliases_and_long_numbers_are_refused_by_the_loader() -> None:
    with pytest.raises(Exception, match=r"aliases \(\*a\) are not supported"):
        model.parse_yaml("a: &a 1\nb: *a\n")
    with pytest.raises(Exception, match="duplicate key 'b'"):
        model.parse_yaml("b: 1\nc: 2\nb: 3\n")
    with pytest.raises(Exception, match="5,000 digits"):
        model.parse_yaml("n: " + "7" * 5000 + "\n")
    assert model.parse_yaml("n: 123\nm: {x: [1, 2]}\n") == {"n": 123, "m": {"x": [1, 2]}}


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "audio.mp3"
    os.mkfifo(path)
    yield path


def test_validate_refuses_a_fifo_and_devices_in_one_line(fifo: Path) -> None:
    for source in (str(fifo), "/dev/zero", "/dev/urandom"):
        result = _run("validate", source, timeout=30)
        assert (
            result.returncode == ExitCode.UNREADABLE
            if hasattr(ExitCode, "UNREADABLE")
            else result.returncode != 0
        )
        assert "is not a regular file" in _one_line(result), source


def test_probe_refuses_a_fifo_and_a_device_in_one_line(fifo: Path) -> None:
    for source in (str(fifo), "/dev/zero"):
        result = _run("probe", source, timeout=30)
        assert result.returncode != 0
        assert "FIFO or device" in _one_line(result), source


def test_a_fifo_named_by_a_show_is_refused_by_check_not_read(tmp_path: Path, assets: Path) -> None:
    show = make_tiny_show(tmp_path / "s", assets, "transcript: t.vtt\n")
    os.mkfifo(show.parent / "episodes/one/t.vtt")
    result = _run("check", "--show", str(show), "--now", NOW.isoformat(), timeout=30)
    assert result.returncode == ExitCode.ERROR
    assert "transcript: transcript file 't.vtt' is not a regular file" in result.stderr
    assert "Traceback" not in result.stderr


class _Loopback:
    """A real TCP server on 127.0.0.1 whose connection handler is given; threads are daemons, bounded by close()."""

    def __init__(self, handle: Callable[[socket.socket, threading.Event], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handle = handle
        self.conns: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.handle, args=(conn, self.closed), daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        self.sock.close()
        for conn in self.conns:
            conn.close()


def _trickle(conn: socket.socket, closed: threading.Event) -> None:
    """Read the request, then send a valid feed response one byte every half second."""
    try:
        conn.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<rss version='2.0'></rss>":
            if closed.wait(0.5):
                return
            conn.sendall(bytes([byte]))
    except OSError:
        pass


def _silent(conn: socket.socket, closed: threading.Event) -> None:
    """Accept, read whatever comes, never answer."""
    try:
        while not closed.is_set() and conn.recv(65536):
            pass
    except OSError:
        pass


def test_a_trickling_server_cannot_outlast_the_validate_deadline() -> None:
    server = _Loopback(_trickle)
    try:
        started = time.monotonic()
        result = _run("validate", f"http://127.0.0.1:{server.port}/feed.xml", "--timeout", "1", timeout=60)
        took = time.monotonic() - started
    finally:
        server.close()
    assert took < 15, took  # 3 x --timeout for the whole request, plus the interpreter's start
    assert result.returncode != 0
    assert "timed out" in _one_line(result)


def test_an_s3_endpoint_that_never_answers_fails_publish_in_bounded_time(
    tmp_path: Path, assets: Path
) -> None:
    server = _Loopback(_silent)
    show = make_tiny_show(tmp_path / "s", assets)
    with show.open("a", encoding="utf-8") as fh:
        fh.write(
            f"publish:\n  target: s3\n  bucket: tiny-bucket\n  region: us-east-1\n  endpoint_url: http://127.0.0.1:{server.port}\n"
        )
    env = {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret-example",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "PODCAST_S3_TIMEOUT": "1",
    }
    try:
        started = time.monotonic()
        result = _run("publish", "--show", str(show), "--now", NOW.isoformat(), timeout=120, env=env)
        took = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode != 0
    line = _one_line(result)
    assert "did not answer in time" in line, line
    assert "trying again (2 of" in result.stderr, result.stderr  # progress before the one line
    assert took < 60, took


def _raw_request(port: int, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        status = conn.recv(65536).split(b"\r\n", 1)[0]
    return int(status.split()[1])


def test_serve_answers_malformed_requests_with_4xx_and_no_traceback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "feed.xml").write_bytes(b"<rss/>" * 100)
    server = serve.Server(site, port=0).start()
    port = server.httpd.server_address[1]
    try:
        cases = {
            b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n": range(400, 500),
            b"GET /" + b"b" * 300 + b"/feed.xml HTTP/1.1\r\nHost: x\r\n\r\n": range(400, 500),
            b"GET /" + b"/".join([b"c" * 250] * 12) + b" HTTP/1.1\r\nHost: x\r\n\r\n": range(400, 500),
            b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nRange: bytes=" + b"9" * 5000 + b"-\r\n\r\n": range(
                416, 417
            ),
            b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nRange: bytes=-" + b"9" * 40 + b"\r\n\r\n": range(416, 417),
            b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nRange: bytes=5-2\r\n\r\n": range(416, 417),
            b"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n": range(400, 500),
            b"GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n": range(400, 500),
        }
        for request, expected in cases.items():
            assert _raw_request(port, request) in expected, request[:80]
        assert _raw_request(port, b"GET /feed.xml HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n") == 206
    finally:
        server.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err, err


def test_serve_refuses_a_port_outside_1_to_65535_at_parse_time(tmp_path: Path) -> None:
    for port in ("0", "65536", "-1"):
        result = CliRunner().invoke(cli, ["serve", "--show", str(tmp_path / "show.yaml"), "--port", port])
        assert result.exit_code == 2, result.output
        assert "--port" in result.output


# --------------------------------------------------------------------------- item 5: links and escaping


def test_a_symlinked_transcript_outside_the_show_is_refused_and_not_echoed(
    tmp_path: Path, assets: Path
) -> None:
    secret = tmp_path / "secret.vtt"
    secret.write_text("WEBVTT\n\nroot:x:0:0:the-secret-line\n", encoding="utf-8")
    show = make_tiny_show(tmp_path / "s", assets, "transcript: t.vtt\n")
    os.symlink(secret, show.parent / "episodes/one/t.vtt")
    result = _run("check", "--show", str(show), "--now", NOW.isoformat())
    assert result.returncode == ExitCode.ERROR
    assert "transcript: transcript file 't.vtt' resolves outside the show folder" in result.stderr
    assert "the-secret-line" not in result.stderr + result.stdout


def test_an_audio_symlink_outside_the_show_is_never_published(tmp_path: Path, assets: Path) -> None:
    show = make_tiny_show(tmp_path / "s", assets)
    audio = show.parent / "episodes/one/audio.wav"
    audio.unlink()
    os.symlink(assets / "audio.wav", audio)
    with pytest.raises(ContentErrors) as caught:
        build.build(show, now=NOW, cache_dir=tmp_path / "cache")
    assert any(p.field == "audio" and "outside the show folder" in str(p) for p in caught.value.problems)
    assert not (show.parent / "public").exists()


def test_a_symlink_inside_the_show_is_fine(tmp_path: Path, assets: Path, cache: Path) -> None:
    show = make_tiny_show(tmp_path / "s", assets, "image: art.jpg\n")
    os.symlink(show.parent / "cover.jpg", show.parent / "episodes/one/art.jpg")
    ok_check, ok_build, said = _verdicts(show, cache)
    assert ok_check and ok_build, said


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("url", 'https://x.example/"><script>alert(1)</script>/'),
        ("url", "https://x.example/a b/"),
        ("url", "https:///no-host/"),
        ("url", "ftp://x.example/"),
        ("url", "http://x.example:99999/"),
    ],
)
def test_urls_are_validated_at_load(tmp_path: Path, assets: Path, setting: str, value: str) -> None:
    show = make_tiny_show(tmp_path / "s", assets)
    show.write_text(
        show.read_text(encoding="utf-8").replace(
            "url: https://tiny.example.com/", f"{setting}: {json.dumps(value)}"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ContentErrors) as caught:
        model.load_show(show)
    assert [p.field for p in caught.value.problems] == [setting]


def test_the_feed_description_escapes_the_page_url() -> None:
    rendered = notes.render_notes("Some notes.")
    html = notes.feed_text(
        rendered, "Fish & <chips>", 'https://x.example/"><script>alert(1)</script>'
    ).description
    assert "<script>" not in html and '"><' not in html
    assert "&amp;" in html and 'href="https://x.example/&quot;&gt;&lt;script&gt;' in html


def test_build_outputs_are_copies_never_hard_links(tmp_path: Path, assets: Path, cache: Path) -> None:
    show = make_tiny_show(tmp_path / "s", assets, "image: art.jpg\n")
    art = show.parent / "episodes/one/art.jpg"
    shutil.copyfile(assets / "cover.jpg", art)
    build.build(show, now=NOW, cache_dir=cache)
    built = [p for p in (show.parent / "build").rglob("*") if p.is_file()]
    assert built
    assert all(p.stat().st_nlink == 1 for p in built), [p for p in built if p.stat().st_nlink > 1]
    assert art.stat().st_nlink == 1 and (show.parent / "cover.jpg").stat().st_nlink == 1
    before = art.read_bytes()
    for p in built:
        if p.suffix == ".jpg":
            p.write_bytes(b"edited in build/")
    assert art.read_bytes() == before


def test_an_invalid_bucket_name_says_invalid_and_why(tmp_path: Path, assets: Path) -> None:
    show = make_tiny_show(tmp_path / "s", assets)
    for name, why in (
        ("My_Bucket", "lowercase"),
        ("ab", "3 to 63"),
        ("192.168.1.1", "IP address"),
        ("a..b", "'..'"),
    ):
        show.write_text(SHOW_YAML + f"publish:\n  target: s3\n  bucket: {name}\n", encoding="utf-8")
        with pytest.raises(ContentErrors) as caught:
            model.load_show(show)
        (problem,) = caught.value.problems
        assert problem.field == "publish.bucket"
        assert "is not a valid bucket name" in str(problem) and why in str(problem), str(problem)


def _no_such_bucket(conn: socket.socket, closed: threading.Event) -> None:
    """Answer every request as a server that knows no such bucket (some do so for a name they refuse)."""
    body = b"<?xml version='1.0'?><Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"
    try:
        while not closed.is_set():
            request = conn.recv(65536)
            if not request:
                return
            head = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n"
            conn.sendall(head % len(body) + (b"" if request.startswith(b"HEAD") else body))
    except OSError:
        pass


def test_storage_reports_an_invalid_bucket_name_as_invalid_not_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline import storage
    from pipeline.errors import StorageError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.setenv("PODCAST_S3_TIMEOUT", "2")
    server = _Loopback(_no_such_bucket)
    try:
        for name, said in (("Bad_Name", "is not a valid bucket name"), ("good-name", "does not exist")):
            target = storage.S3Storage(
                name, endpoint_url=f"http://127.0.0.1:{server.port}", region="us-east-1"
            )
            with pytest.raises(StorageError) as caught:
                target.get("feed.xml")
            assert said in str(caught.value), str(caught.value)
            if name == "Bad_Name":
                assert "lowercase" in str(caught.value)
    finally:
        server.close()
