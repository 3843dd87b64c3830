"""Apps hear about a changed feed: Podping and WebSub hubs, stubbed on 127.0.0.1, record what they got."""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline import build, notify
from pipeline.cli import cli
from pipeline.errors import ExitCode
from tests.conftest import NOW

NOW_ISO = NOW.isoformat()
FEED_URL = "https://stride-clinic.example.com/feed.xml"


@dataclass
class Hub:
    """A loopback HTTP server that records every request and answers `status`."""

    status: int = 200
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(
        default_factory=list
    )  # method, path, headers, body
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hub.seen.append(
                    (self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(hub.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _record

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def hubs() -> Iterator[tuple[Hub, Hub]]:
    podping, websub = Hub(), Hub()
    podping.start()
    websub.start()
    yield podping, websub
    podping.stop()
    websub.stop()


@pytest.fixture
def show(warm_show: Path) -> Path:
    """The sample show with its encodes already cached (tests/conftest.py)."""
    return warm_show


def ask_for_notifications(show_yaml: Path, podping_hub: str, *websub: str) -> None:
    hubs = "".join(f"    - {url}\n" for url in websub)
    show_yaml.write_text(
        show_yaml.read_text().rstrip("\n")
        + f"\nnotify:\n  podping: true\n  podping_hub: {podping_hub}/api/1.0/hub/pubnotify\n  websub:\n{hubs}"
    )


def publish_cli(show_yaml: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["publish", "--show", str(show_yaml), "--now", NOW_ISO, *extra], catch_exceptions=False
    )


def edit_notes(show_yaml: Path) -> None:
    md = show_yaml.parent / "episodes" / "why-your-knees-hurt-when-you-run" / "episode.md"
    md.write_text(md.read_text() + "\nOne more thing: rest days are training too.\n")


def test_one_notification_per_changed_feed_and_none_for_a_no_op_or_dry_run(
    show: Path, hubs: tuple[Hub, Hub]
) -> None:
    podping, websub = hubs
    ask_for_notifications(show, podping.url, websub.url + "/hub")
    first = publish_cli(show)
    assert first.exit_code == ExitCode.OK, first.output
    assert [(m, p) for m, p, _, _ in podping.seen] == [
        ("GET", "/api/1.0/hub/pubnotify?" + urllib.parse.urlencode({"url": FEED_URL}))
    ]
    [(method, path, headers, body)] = websub.seen
    assert (method, path) == ("POST", "/hub")
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert urllib.parse.parse_qs(body.decode()) == {"hub.mode": ["publish"], "hub.url": [FEED_URL]}
    assert f"Notified podping hub {podping.url}/api/1.0/hub/pubnotify (HTTP 200)." in first.stderr
    assert f"Notified websub hub {websub.url}/hub (HTTP 200)." in first.stderr

    assert publish_cli(show).exit_code == ExitCode.OK  # unchanged: the target already has this feed
    edit_notes(show)
    assert publish_cli(show, "--dry-run").exit_code == ExitCode.OK
    assert (len(podping.seen), len(websub.seen)) == (1, 1)

    assert publish_cli(show).exit_code == ExitCode.OK  # the feed changed
    assert (len(podping.seen), len(websub.seen)) == (2, 2)


def test_a_failing_hub_is_a_warning_and_the_publish_succeeds(show: Path, hubs: tuple[Hub, Hub]) -> None:
    podping, websub = hubs
    podping.status = 503
    closed = Hub()
    closed.start()
    dead = closed.url
    closed.stop()  # nothing listens there any more: connection refused
    ask_for_notifications(show, podping.url, dead + "/hub", websub.url + "/hub")
    result = publish_cli(show)
    assert result.exit_code == ExitCode.OK, result.output
    assert (show.parent / "public" / "feed.xml").exists()
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert warnings[0] == (
        f"Warning: podping hub {podping.url}/api/1.0/hub/pubnotify was not notified: HTTP 503 Service "
        "Unavailable (the feed is published)"
    )
    assert warnings[1].startswith(f"Warning: websub hub {dead}/hub was not notified: ")
    assert len(warnings) == 2
    assert len(websub.seen) == 1  # the working hub still heard


def test_the_feed_names_its_hubs_and_podping(show: Path, hubs: tuple[Hub, Hub]) -> None:
    podping, websub = hubs
    plain = build.build(show, now=NOW)
    feed = (plain.out_dir / "feed.xml").read_text()
    assert 'rel="hub"' not in feed and "podcast:podping" not in feed  # off unless show.yaml asks
    ask_for_notifications(show, podping.url, websub.url + "/a", websub.url + "/b")
    feed = (build.build(show, now=NOW).out_dir / "feed.xml").read_text()
    assert f'<atom:link href="{websub.url}/a" rel="hub"/>' in feed
    assert f'<atom:link href="{websub.url}/b" rel="hub"/>' in feed
    assert '<podcast:podping usesPodping="true"/>' in feed
    assert podping.seen == [] and websub.seen == []  # a build never notifies


def test_pings_are_podping_first_then_each_websub_hub_once() -> None:
    got = notify.pings(FEED_URL, podping=True, podping_hub="https://p.example/h", websub=["https://w/1"] * 2)
    assert got == [
        notify.Ping("podping", "https://p.example/h", FEED_URL),
        notify.Ping("websub", "https://w/1", FEED_URL),
    ]
    assert notify.pings(FEED_URL, podping=False, podping_hub="https://p.example/h", websub=[]) == []
