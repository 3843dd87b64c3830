"""Browser test harness: Debian's Chromium via Playwright, per-page problem logs, axe-core, a Range-capable server.

Use from a test module with `pytest_plugins = ["tests._browser_fixtures"]` (or import the fixtures).
Nothing here downloads a browser: Chromium is /usr/bin/chromium. Without it (or without axe-core) tests
skip with the reason, except under CI (env CI set), where they fail.
"""

from __future__ import annotations

import mimetypes
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / ".cache/npm/node_modules/axe-core/axe.min.js"
ARTIFACTS = REPO / "test-artifacts"
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
#: Answer for any request that would leave the machine (tests use 127.0.0.1 only); it is recorded.
STUB_PAGE = "<!doctype html><title>stub</title>"

MIME_TYPES = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".vtt": "text/vtt", ".srt": "application/x-subrip",
              ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".xml": "application/xml",
              ".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8"}


def unavailable(reason: str) -> None:
    """Skip with `reason`, or fail under CI, where a missing browser must not pass silently."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


# --------------------------------------------------------------------------- Chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (Debian's /usr/bin/chromium, never a downloaded one)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class PageLog:
    """What went wrong while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.failed_requests]


def _record(page: Any, log: PageLog) -> None:
    def on_console(msg: Any) -> None:
        if msg.type == "error":
            log.console_errors.append(f"console: {msg.text}")

    def on_response(response: Any) -> None:
        if response.status >= 400:
            log.failed_requests.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda err: log.console_errors.append(f"page error: {err}"))
    page.on("requestfailed", lambda req: log.failed_requests.append(f"failed: {req.url} ({req.failure})"))
    page.on("response", on_response)


def _keep_local(context: Any, log: PageLog) -> None:
    def handle(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            log.external_requests.append(url)
            route.fulfill(status=200, content_type="text/html", body=STUB_PAGE)

    context.route("**/*", handle)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (own context, 1280x900) whose problems are in `page.log` (a PageLog).

    Requests to anything but 127.0.0.1 never leave the machine: they get a stub answer and are listed
    in `page.log.external_requests`.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.log = PageLog()
    _record(tab, tab.log)
    _keep_local(context, tab.log)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page_without_js(browser: Any) -> Iterator[Any]:
    """Like `page`, with JavaScript disabled (progressive enhancement checks)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    tab = context.new_page()
    tab.log = PageLog()
    _record(tab, tab.log)
    _keep_local(context, tab.log)
    try:
        yield tab
    finally:
        context.close()


# --------------------------------------------------------------------------- axe-core


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core on the page; one line per violation of the given impacts (empty means clean)."""
    if not AXE.exists():
        unavailable(f"axe-core is not installed at {AXE} (npm install --prefix .cache/npm axe-core@4)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] not in impacts:
            continue
        for node in violation["nodes"]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"{violation['id']} ({violation['impact']}) at {node['target']}: {summary}")
    return lines


def save_screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (gitignored); returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def axe() -> Any:
    """axe(page) -> one line per serious/critical axe-core violation on the page (see axe_violations)."""
    return axe_violations


@pytest.fixture
def screenshot() -> Any:
    """screenshot(page, name) -> Path under test-artifacts/ (see save_screenshot)."""
    return save_screenshot


# --------------------------------------------------------------------------- a static server with Range


@dataclass
class Served:
    """A running server: its base URL and every request it answered as (method, path, range, status)."""

    url: str
    requests: list[tuple[str, str, str | None, int]]


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeHandler(BaseHTTPRequestHandler):
    """Serves files under `root` with single byte ranges (206/416), index.html for folders, 404.html."""

    root: Path
    log: list[tuple[str, str, str | None, int]]
    server_version = "podcast-test"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def _resolve(self) -> Path | None:
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _serve(self, body: bool) -> None:
        target = self._resolve()
        status = HTTPStatus.OK
        if target is None:
            status, target = HTTPStatus.NOT_FOUND, self.root / "404.html"
            if not target.is_file():
                self._finish(status, b"not found", "text/plain", body)
                return
        data = target.read_bytes()
        ctype = MIME_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        wanted = self.headers.get("Range")
        if wanted and status == HTTPStatus.OK:
            m = _RANGE_RE.match(wanted.strip())
            size = len(data)
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:
                    start, end = max(0, size - int(m.group(2))), size - 1
                if start >= size or end < start:
                    self._finish(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, b"", ctype, body,
                                 {"Content-Range": f"bytes */{size}"})
                    return
                self._finish(HTTPStatus.PARTIAL_CONTENT, data[start : end + 1], ctype, body,
                             {"Content-Range": f"bytes {start}-{end}/{size}"})
                return
        self._finish(status, data, ctype, body)

    def _finish(self, status: HTTPStatus, data: bytes, ctype: str, body: bool,
                extra: dict[str, str] | None = None) -> None:
        self.log.append((self.command, urlsplit(self.path).path, self.headers.get("Range"), int(status)))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(folder) -> Served: start a Range-capable HTTP server for `folder` on 127.0.0.1."""
    servers: list[ThreadingHTTPServer] = []

    def start(root: Path) -> Served:
        log: list[tuple[str, str, str | None, int]] = []
        handler = type("Handler", (RangeHandler,), {"root": root.resolve(), "log": log})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Served(url=f"http://127.0.0.1:{server.server_address[1]}/", requests=log)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
