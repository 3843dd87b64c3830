"""Telling apps a feed changed: Podping (through the Podcast Index hub) and WebSub hubs (urllib only).

A notification is a courtesy, never part of the publish: every failure comes back as a result with an
error, for the caller to print as a warning.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from pipeline import __version__

TIMEOUT = 10.0  # seconds per hub; a slow hub must not hold up a publish for long
USER_AGENT = f"podcast-pipeline/{__version__}"

Kind = Literal["podping", "websub"]


@dataclass(frozen=True)
class Ping:
    """One notification to send: a Podping GET or a WebSub POST, for `feed_url`."""

    kind: Kind
    hub: str
    feed_url: str


@dataclass(frozen=True)
class Result:
    """What a hub answered: its HTTP status, or why nothing usable came back."""

    ping: Ping
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def pings(feed_url: str, *, podping: bool, podping_hub: str, websub: Sequence[str]) -> list[Ping]:
    """The notifications a changed feed calls for, Podping first, then each WebSub hub in order."""
    out = [Ping("podping", podping_hub, feed_url)] if podping else []
    out += [Ping("websub", hub, feed_url) for hub in dict.fromkeys(websub)]
    return out


def _request(ping: Ping) -> urllib.request.Request:
    headers = {"User-Agent": USER_AGENT}
    if ping.kind == "podping":
        # https://podcastindex-org.github.io/docs-api/#get-/hub/pubnotify : GET ?url=<feed url>
        sep = "&" if "?" in ping.hub else "?"
        return urllib.request.Request(
            ping.hub + sep + urllib.parse.urlencode({"url": ping.feed_url}), headers=headers
        )
    # WebSub §7: a form-encoded POST of hub.mode=publish and hub.url (the topic) to the hub.
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": ping.feed_url}).encode()
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return urllib.request.Request(ping.hub, data=body, headers=headers, method="POST")


def send(ping: Ping, *, timeout: float = TIMEOUT) -> Result:
    """Send one notification; any failure (refused, timeout, HTTP 4xx/5xx) is a Result with an error."""
    if not ping.hub.startswith(("https://", "http://")):
        return Result(ping, None, f"{ping.hub!r} is not an http(s) URL")
    try:
        with urllib.request.urlopen(_request(ping), timeout=timeout) as response:
            response.read(4096)
            return Result(ping, int(response.status))
    except urllib.error.HTTPError as err:
        return Result(ping, err.code, f"HTTP {err.code} {err.reason}")
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        return Result(ping, None, str(getattr(reason, "strerror", None) or reason))


def notify(to_send: Sequence[Ping], *, timeout: float = TIMEOUT) -> tuple[Result, ...]:
    """Send every notification at once (on threads) and return the results in the order given."""
    if not to_send:
        return ()
    with ThreadPoolExecutor(max_workers=min(8, len(to_send))) as pool:
        return tuple(pool.map(lambda p: send(p, timeout=timeout), to_send))
