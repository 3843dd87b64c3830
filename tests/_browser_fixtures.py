"""Browser test harness: Debian's Chromium via Playwright, per-page problem logs, axe-core, screenshots, a server.

Use from a test module with `pytest_plugins = ["tests._browser_fixtures"]` (or import the fixtures).
Nothing here downloads a browser: Chromium is /usr/bin/chromium. Without it (or without axe-core) tests
skip with the reason, except under CI (env CI set), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pipeline.serve import Server
from tests._ci import unavailable

__all__ = ["unavailable"]  # re-exported: the smoke test checks skip-vs-fail through this module

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
    responses: list[tuple[str, int]] = field(default_factory=list)  # (url, status) of every response
    #: Requests the browser itself cancelled (net::ERR_ABORTED): a media element seeking elsewhere, or a
    #: navigation leaving the page while its audio was still loading. Not failures of the page.
    cancelled: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [*self.console_errors, *self.failed_requests]


def _record(page: Any, log: PageLog) -> None:
    def on_console(msg: Any) -> None:
        if msg.type == "error":
            log.console_errors.append(f"console: {msg.text}")

    def on_response(response: Any) -> None:
        log.responses.append((response.url, response.status))
        if response.status >= 400:
            log.failed_requests.append(f"HTTP {response.status}: {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda err: log.console_errors.append(f"page error: {err}"))

    def on_failed(request: Any) -> None:
        line = f"failed: {request.url} ({request.failure})"
        (log.cancelled if "net::ERR_ABORTED" in str(request.failure) else log.failed_requests).append(line)

    page.on("requestfailed", on_failed)
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


# --------------------------------------------------------------------------- the preview server


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(folder) -> a started pipeline.serve.Server (Range support) for `folder` on 127.0.0.1; `.url`."""
    servers: list[Server] = []

    def start(root: Path) -> Server:
        server = Server(root, port=0).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
