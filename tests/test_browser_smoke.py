"""The browser harness itself: skip vs CI failure, the Range server, local-only pages, and an axe that can fail.

The site's own browser tests build the sample show for real: tests/test_site.py.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["tests._browser_fixtures"]  # browser, page, axe, serve


def test_missing_browser_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch):
    from tests._browser_fixtures import unavailable

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        unavailable("no chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no chromium"):
        unavailable("no chromium")


def test_the_server_answers_byte_ranges(tmp_path: Path, serve: Any):
    (tmp_path / "a.bin").write_bytes(bytes(range(100)))
    served = serve(tmp_path)

    def get(rng: str | None) -> tuple[int, bytes, str | None]:
        req = urllib.request.Request(served.url + "a.bin", headers={"Range": rng} if rng else {})
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, resp.read(), resp.headers.get("Content-Range")
        except urllib.error.HTTPError as err:
            return err.code, b"", err.headers.get("Content-Range")

    assert get(None) == (200, bytes(range(100)), None)
    assert get("bytes=10-19") == (206, bytes(range(10, 20)), "bytes 10-19/100")
    assert get("bytes=90-") == (206, bytes(range(90, 100)), "bytes 90-99/100")
    assert get("bytes=-5") == (206, bytes(range(95, 100)), "bytes 95-99/100")
    assert get("bytes=95-500") == (206, bytes(range(95, 100)), "bytes 95-99/100")
    assert get("bytes=100-") == (416, b"", "bytes */100")


@pytest.mark.browser
def test_pages_never_reach_outside_and_problems_are_logged(tmp_path: Path, serve: Any, page: Any):
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><title>t</title><img src="https://example.com/pixel.png" alt="">'
        '<img src="missing.png" alt=""><script>console.error("boom")</script>'
    )
    served = serve(tmp_path)
    page.goto(served.url, wait_until="load")
    assert page.log.external_requests == ["https://example.com/pixel.png"]  # answered by a stub, not the net
    assert f"HTTP 404: {served.url}missing.png" in page.log.failed_requests
    assert "console: boom" in page.log.console_errors
    assert (served.url, 200) in page.log.responses
    assert page.log.cancelled == []


@pytest.mark.browser
def test_axe_reports_what_it_should(tmp_path: Path, serve: Any, page: Any, axe: Any):
    (tmp_path / "bad.html").write_text(
        '<!doctype html><html><title>t</title><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<p style="color:#bbb;background:#fff">faint</p>'
    )
    (tmp_path / "good.html").write_text(
        '<!doctype html><html lang="en"><title>t</title><main><h1>Fine</h1><p>Readable.</p></main>'
    )
    served = serve(tmp_path)
    page.goto(served.url + "bad.html", wait_until="load")
    found = {line.split(" ", 1)[0] for line in axe(page)}
    assert {"image-alt", "color-contrast", "html-has-lang"} <= found
    page.goto(served.url + "good.html", wait_until="load")
    assert axe(page) == []
