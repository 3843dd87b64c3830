"""`podcast serve`: the Range-capable file server, the rebuild-on-change preview, and the real command."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import build, serve
from pipeline.errors import ContentErrors, PipelineError
from pipeline.progress import NullReporter
from tests.conftest import NOW, REPO, copy_sample_show

SHIN = "shin-splints-are-a-load-problem"
DEADLINE = 30.0  # seconds: generous bounds for polling on a busy machine; polls return as soon as they can

# --------------------------------------------------------------------------- a folder to serve


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def request(url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> Reply:
    """One raw HTTP request: the path goes out exactly as written (no client-side normalising)."""
    host, port = url.split("//", 1)[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


AUDIO = bytes(range(100))
NOT_FOUND_PAGE = b"<!doctype html><title>Not here</title><h1>Nothing at this address</h1>\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small build folder (never changed by the tests that serve it), with things beside it not to serve."""
    tmp_path = tmp_path_factory.mktemp("site")
    root = tmp_path / "build"
    files = {
        "index.html": b"<!doctype html><title>Index</title>\n",
        "404.html": NOT_FOUND_PAGE,
        "feed.xml": b"<rss/>",
        "sitemap.xml": b"<urlset/>",
        "static/style.css": b"body{}",
        "episodes/knees/index.html": b"<!doctype html><title>Knees</title>\n",
        "episodes/knees/abc/knees.mp3": AUDIO,
        "episodes/knees/chapters.json": b"{}",
        "episodes/knees/transcript.vtt": b"WEBVTT\n",
        "episodes/no-page/readme.txt": b"a folder without an index page",
        "empty.mp3": b"",
        ".podcast/build.json": b'{"secret": true}',
    }
    for key, data in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    (tmp_path / "secret.txt").write_text("outside the build folder")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "index.html").write_text("outside index")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[serve.Server]:
    srv = serve.Server(site, port=0).start()
    yield srv
    srv.stop()


# --------------------------------------------------------------------------- plain requests


def test_binds_loopback_on_a_free_port_when_asked_for_port_0(server: serve.Server) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert int(server.url.rstrip("/").rsplit(":", 1)[1]) > 0


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/episodes/knees/abc/knees.mp3", "audio/mpeg", AUDIO),
        ("/index.html", "text/html; charset=utf-8", b"<!doctype html><title>Index</title>\n"),
        ("/feed.xml", "application/rss+xml; charset=utf-8", b"<rss/>"),
        ("/sitemap.xml", "application/xml; charset=utf-8", b"<urlset/>"),
        ("/static/style.css", "text/css; charset=utf-8", b"body{}"),
        ("/episodes/knees/chapters.json", "application/json+chapters", b"{}"),
        ("/episodes/knees/transcript.vtt", "text/vtt; charset=utf-8", b"WEBVTT\n"),
    ],
)
def test_get_sends_the_file_with_length_and_type(
    server: serve.Server, path: str, content_type: str, body: bytes
) -> None:
    reply = request(server.url, path)
    assert reply.status == 200
    assert reply.body == body
    assert reply.headers["content-length"] == str(len(body))
    assert reply.headers["content-type"] == content_type
    assert reply.headers["accept-ranges"] == "bytes"


def test_head_sends_the_headers_only(server: serve.Server) -> None:
    reply = request(server.url, "/episodes/knees/abc/knees.mp3", "HEAD")
    assert (reply.status, reply.body) == (200, b"")
    assert reply.headers["content-length"] == "100"
    assert reply.headers["content-type"] == "audio/mpeg"


def test_an_empty_file_is_served_empty(server: serve.Server) -> None:
    reply = request(server.url, "/empty.mp3")
    assert (reply.status, reply.body, reply.headers["content-length"]) == (200, b"", "0")


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-1", 0, 1),  # what a browser's player asks first
        ("bytes=10-19", 10, 19),
        ("bytes=95-", 95, 99),  # open-ended
        ("bytes=90-1000", 90, 99),  # clipped to the file
        ("bytes=-10", 90, 99),  # suffix: the last ten bytes
        ("bytes=-500", 0, 99),  # a suffix longer than the file is the whole file
        ("bytes=99-99", 99, 99),
    ],
)
def test_range_is_206_with_content_range(server: serve.Server, header: str, start: int, end: int) -> None:
    reply = request(server.url, "/episodes/knees/abc/knees.mp3", headers={"Range": header})
    assert reply.status == 206
    assert reply.body == AUDIO[start : end + 1]
    assert reply.headers["content-range"] == f"bytes {start}-{end}/100"
    assert reply.headers["content-length"] == str(end - start + 1)
    assert reply.headers["content-type"] == "audio/mpeg"


def test_head_with_a_range_is_206_without_a_body(server: serve.Server) -> None:
    reply = request(server.url, "/episodes/knees/abc/knees.mp3", "HEAD", headers={"Range": "bytes=-10"})
    assert (reply.status, reply.body) == (206, b"")
    assert reply.headers["content-range"] == "bytes 90-99/100"


@pytest.mark.parametrize(
    "header", ["bytes=100-200", "bytes=100-", "bytes=-0", "bytes=20-10", "bytes=-", "items=0-1"]
)
def test_an_unsatisfiable_range_is_416(server: serve.Server, header: str) -> None:
    reply = request(server.url, "/episodes/knees/abc/knees.mp3", headers={"Range": header})
    assert reply.status == 416
    assert reply.headers["content-range"] == "bytes */100"
    assert reply.body == b""


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-1", 100, (0, 1)),
        (" bytes=5-", 10, (5, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=0-0", 1, (0, 0)),
        ("bytes=0-", 0, None),  # nothing to send from an empty file
        ("bytes=10-", 10, None),
        ("bytes=abc", 10, None),
        ("bytes=0-1,4-5", 10, None),  # several ranges: not supported, refused rather than misread
    ],
)
def test_parse_range(header: str, size: int, expected: tuple[int, int] | None) -> None:
    assert serve.parse_range(header, size) == expected


# --------------------------------------------------------------------------- folders, 404, what is never served


def test_a_folder_serves_its_index_page(server: serve.Server) -> None:
    assert request(server.url, "/").body == b"<!doctype html><title>Index</title>\n"
    reply = request(server.url, "/episodes/knees/")
    assert (reply.status, reply.body) == (200, b"<!doctype html><title>Knees</title>\n")
    assert reply.headers["content-type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/episodes/knees", "/episodes/knees/"),
        ("/episodes/knees?t=30", "/episodes/knees/?t=30"),
    ],
)
def test_a_folder_without_its_slash_is_redirected(server: serve.Server, path: str, location: str) -> None:
    """Pages link relatively (`abc/knees.mp3`), which only resolves under the folder's own URL."""
    reply = request(server.url, path)
    assert (reply.status, reply.headers["location"]) == (301, location)


@pytest.mark.parametrize(
    "path", ["/missing.html", "/episodes/nope/", "/episodes/no-page/", "/episodes/no-page"]
)
def test_missing_is_404_with_the_404_page(server: serve.Server, path: str) -> None:
    reply = request(server.url, path)
    assert reply.status == 404
    assert reply.body == NOT_FOUND_PAGE
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["content-length"] == str(len(NOT_FOUND_PAGE))


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/episodes/../../secret.txt",
        "/episodes/%2E%2E/%2E%2E/secret.txt",
        "/..",
        "/../",
        "/../outside",
        "/../outside/",
        "/link.txt",
        "/%00",
        "/a%00b",
    ],
)
def test_nothing_outside_the_folder_is_served_or_revealed(server: serve.Server, path: str) -> None:
    reply = request(server.url, path)
    assert reply.status == 404, reply  # not 200, and not a 301 that would confirm a folder exists out there
    assert reply.body == NOT_FOUND_PAGE
    assert request(server.url, "/").status == 200  # and the server is still answering


@pytest.mark.parametrize(
    "path",
    [
        "/.podcast/build.json",
        "/.podcast/",
        "/.podcast",
        "/episodes/../.podcast/build.json",
        "/%2Epodcast/build.json",
    ],
)
def test_dot_folders_are_never_served(server: serve.Server, path: str) -> None:
    for method in ("GET", "HEAD"):
        reply = request(server.url, path, method)
        assert reply.status == 404, (method, reply)
        assert b"secret" not in reply.body


def test_a_port_in_use_is_one_clear_error(server: serve.Server, site: Path) -> None:
    port = int(server.url.rstrip("/").rsplit(":", 1)[1])
    with pytest.raises(PipelineError) as err:
        serve.Server(site, port=port)
    assert str(err.value).startswith(f"cannot listen on 127.0.0.1:{port}: ")
    assert "--port" in str(err.value)


# --------------------------------------------------------------------------- the preview: build, serve, rebuild


@pytest.fixture(scope="module")
def built_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample show, built once (so previews here start from a warm cache)."""
    show = copy_sample_show(tmp_path_factory.mktemp("built") / "show")
    build.build(show, now=NOW)
    return show


@pytest.fixture
def show(built_sample: Path, tmp_path: Path) -> Path:
    shutil.copytree(built_sample.parent, tmp_path / "show")
    return tmp_path / "show" / "show.yaml"


def wait_for(condition: object, what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def test_preview_rebuilds_when_notes_change_and_keeps_the_last_good_build(show: Path) -> None:
    preview = serve.Preview(show, now=NOW, out_dir=None, port=0, reporter=NullReporter())
    rebuilt: list[int] = []
    errors: list[PipelineError] = []
    runner = threading.Thread(
        target=preview.run,
        kwargs={"watch": True, "on_rebuild": rebuilt.append, "on_error": errors.append},
        daemon=True,
    )
    runner.start()
    try:
        page = f"/episodes/{SHIN}/"
        first = request(preview.server.url, page)
        assert first.status == 200 and b"Shin splints are a load problem" in first.body
        assert b"Tendons remember everything" not in first.body

        md = show.parent / "episodes" / SHIN / "episode.md"
        md.write_text(md.read_text().replace("## Resources", "Tendons remember everything.\n\n## Resources"))
        wait_for(
            lambda: b"Tendons remember everything" in request(preview.server.url, page).body,
            "the edited notes on the served page",
        )
        # The rebuild writes each page into the served folder (atomically) before it reports: on a busy
        # machine a request can see the new page a moment before on_rebuild runs, so wait for the report too.
        wait_for(lambda: rebuilt, "the rebuild's report")
        assert rebuilt[-1] > 0 and errors == []

        # A broken edit is reported, and the last good build stays served.
        good = md.read_text()
        md.write_text(good.replace("title: Shin splints are a load problem", "title:"))
        wait_for(lambda: errors, "the error of the broken edit")
        (problem,) = errors[0].problems if isinstance(errors[0], ContentErrors) else [errors[0]]
        assert str(problem).startswith(f"episodes/{SHIN}/episode.md: title: "), str(problem)
        assert b"Tendons remember everything" in request(preview.server.url, page).body
    finally:
        preview.stop()
        runner.join(timeout=DEADLINE)
    assert not runner.is_alive()
    with pytest.raises(OSError):
        request(preview.server.url, "/")  # stopped means the port is closed


# --------------------------------------------------------------------------- the real command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "terminate"])
def test_python_m_pipeline_serve_answers_and_stops_cleanly(show: Path, stop: signal.Signals) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "serve",
            "--show",
            str(show),
            "--now",
            NOW.isoformat(),
            "--port",
            str(port),
        ],
        cwd=show.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:

        def answering() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited early ({proc.returncode}): {proc.communicate()}")
            try:
                return request(url, "/").status == 200
            except OSError:
                return False

        wait_for(answering, "the server to answer")
        page = request(url, f"/episodes/{SHIN}/")
        assert page.status == 200 and b"Shin splints are a load problem" in page.body
        audio_src = page.body.split(b"<audio", 1)[1].split(b'src="', 1)[1].split(b'"', 1)[0].decode()
        audio = request(url, f"/episodes/{SHIN}/{audio_src}", headers={"Range": "bytes=0-1"})
        assert (audio.status, len(audio.body), audio.headers["content-type"]) == (206, 2, "audio/mpeg")
    finally:
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0, (out, err)
    assert f"Serving {show.parent / 'build'} at {url} (Ctrl-C to stop)" in out
    assert err.strip().splitlines()[-1] == "Stopped."
    assert "Traceback" not in out + err
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT from our requests is fine
        s.bind(("127.0.0.1", port))  # nobody listens there any more
