"""Reading a feed: a file or a capped, time-limited HTTP GET, with sniffing for "not a feed at all"."""

from __future__ import annotations

import codecs
import contextlib
import functools
import http.client
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from pipeline.errors import UnreadableFeed
from pipeline.safeio import NotRegularFile, TooLarge, read_capped

USER_AGENT = "podcast-pipeline-validate/0.1 (+https://podcastindex.org/namespace/1.0)"
_CHUNK = 64 * 1024


class _Deadline:
    """One request's overall time budget: at the deadline its sockets are shut down, so a server that
    trickles a byte every half second (each recv within the socket timeout) cannot outlast it."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.001, self.at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.expired:
                self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


class _WatchedHTTP(http.client.HTTPConnection):
    """A connection whose socket the request's one deadline shuts down (HTTPS below shares this)."""

    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        self.timeout = min(self.timeout or self._deadline.remaining(), self._deadline.remaining())
        super().connect()
        self._deadline.watch(self.sock)


class _WatchedHTTPS(_WatchedHTTP, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedHTTP, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedHTTPS, deadline=self._deadline), req)


def _build_opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """urllib with only http(s) (a redirect to ftp: or file: fails instead of being followed), every
    connection, redirects included, under the request's one deadline."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        _HTTPHandler(deadline),
        _HTTPSHandler(deadline),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _open(req: urllib.request.Request, timeout: float, deadline: _Deadline) -> Any:
    """urllib's open, with every connection (redirects too) under the request's one deadline."""
    opener = _build_opener(deadline)
    return opener.open(req, timeout=min(timeout, deadline.remaining()))


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def _describe_network_error(err: BaseException) -> str:
    """One line saying why a URL couldn't be fetched."""
    reason: object = err.reason if isinstance(err, urllib.error.URLError) else err
    if isinstance(reason, socket.gaierror):
        return "host not found (DNS lookup failed)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error ({reason.reason or reason})"
    if isinstance(reason, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP response ({type(reason).__name__})"
    text = str(getattr(reason, "strerror", None) or reason) or type(reason).__name__
    return text.splitlines()[0] if text else "network error"


@dataclass
class Response:
    status: int = 0  # 0: no HTTP answer at all
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    error: str | None = None
    url: str = ""  # where the answer came from, after redirects (an analytics prefix's, say)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def media_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()


def _read_capped(resp: object, cap: int, deadline: float) -> tuple[bytes, bool]:
    """Read at most `cap` bytes; (body, True) if more was on offer. Stops at the deadline."""
    chunks: list[bytes] = []
    total = 0
    read = getattr(resp, "read1", None) or resp.read  # type: ignore[attr-defined]
    while total <= cap:
        if time.monotonic() > deadline:
            raise TimeoutError("the response did not finish in time")
        chunk = read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)[:cap], True


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    cap: int = 0,
    timeout: float = 10.0,
) -> Response:
    """One HTTP request that never raises: network failures come back as `error`, HTTP errors as `status`."""
    try:
        req = urllib.request.Request(
            url, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})}
        )
    except ValueError:
        return Response(error="not a valid URL")
    deadline = _Deadline(timeout * 3)
    try:
        try:
            resp = _open(req, timeout, deadline)
        except urllib.error.HTTPError as err:
            with err:
                return Response(
                    err.code, {k.lower(): v for k, v in err.headers.items()}, url=err.geturl() or ""
                )
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
            return Response(error=_timed_out(deadline) or _describe_network_error(err))
        with resp:
            out = Response(
                resp.status, {k.lower(): v for k, v in resp.headers.items()}, url=resp.geturl() or ""
            )
            if method != "HEAD" and cap:
                try:
                    out.body, out.truncated = _read_capped(resp, cap, deadline.at)
                except (OSError, http.client.HTTPException, ValueError) as err:
                    out.error = _timed_out(deadline) or _describe_network_error(err)
            return out
    finally:
        deadline.cancel()


def _timed_out(deadline: _Deadline) -> str | None:
    return "timed out (no complete answer in time)" if deadline.expired else None


_HTML_START = re.compile(
    rb"^(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL
)


def _head_text(data: bytes) -> bytes:
    """The first bytes of the document as ASCII-compatible bytes, whatever the BOM said."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) : 4096].decode(codec, "ignore").encode("ascii", "ignore")
    return data[:4096]


def sniff(data: bytes, source: str) -> None:
    """Refuse input that isn't a feed at all: empty, not XML, an HTML page."""
    head = _head_text(data).lstrip()
    if not head.strip():
        raise UnreadableFeed(
            "the feed is empty", file=source, hint="expected RSS XML starting with <?xml or <rss"
        )
    if not head.startswith(b"<"):
        raise UnreadableFeed("not XML", file=source, hint="expected RSS XML starting with <?xml or <rss")
    if _HTML_START.match(head):
        raise UnreadableFeed(
            "an HTML page, not a feed",
            file=source,
            hint="point at the feed's own URL (often /feed.xml or /rss)",
        )


def read_source(source: str, *, max_bytes: int = 20 * 2**20, timeout: float = 10.0) -> bytes:
    """The bytes of a feed from a file path or an http(s) URL, refusing anything that can't be a feed.

    Raises UnreadableFeed (one line, with a hint) for a missing or empty file, input that isn't XML, an
    HTML page, an HTTP error status, a refused connection, a DNS failure, a timeout, or more than
    `max_bytes` (the download is stopped there, so an endless response can't exhaust memory).
    `timeout` applies to each network operation; the whole download gets three times that.
    """
    if is_url(source):
        data = _fetch_feed(source, max_bytes=max_bytes, timeout=timeout)
    elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source):
        raise UnreadableFeed("only http(s) URLs and file paths can be validated", file=source)
    else:
        path = Path(source)
        try:
            if path.is_dir():
                raise UnreadableFeed("is a folder, not a feed file", file=source)
            data = read_capped(path, max_bytes)
        except NotRegularFile as err:
            raise UnreadableFeed(str(err), file=source, hint="save the feed to a file first") from None
        except TooLarge:
            raise UnreadableFeed(f"is over the {max_bytes}-byte limit", file=source) from None
        except FileNotFoundError:
            raise UnreadableFeed("no such file", file=source) from None
        except PermissionError:
            raise UnreadableFeed("permission denied", file=source) from None
        except OSError as err:
            raise UnreadableFeed(f"cannot read: {err.strerror or err}", file=source) from None
    sniff(data, source)
    return data


def _fetch_feed(url: str, *, max_bytes: int, timeout: float) -> bytes:
    try:
        req = urllib.request.Request(
            url, headers={"User-Agent": USER_AGENT, "Accept": "application/rss+xml, */*"}
        )
    except ValueError:
        raise UnreadableFeed("is not a valid URL", file=url, hint="write https://host/path") from None
    deadline = _Deadline(timeout * 3)
    try:
        try:
            resp = _open(req, timeout, deadline)
        except urllib.error.HTTPError as err:
            with err:
                raise UnreadableFeed(f"the server answered HTTP {err.code} {err.reason}", file=url) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
            why = _timed_out(deadline) or _describe_network_error(err)
            raise UnreadableFeed(f"cannot fetch: {why}", file=url) from None
        with resp:
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise UnreadableFeed(
                    f"the feed is {declared} bytes, over the {max_bytes}-byte limit", file=url
                )
            try:
                data, truncated = _read_capped(resp, max_bytes, deadline.at)
            except (OSError, http.client.HTTPException, ValueError) as err:
                why = _timed_out(deadline) or _describe_network_error(err)
                raise UnreadableFeed(f"download failed: {why}", file=url) from None
    finally:
        deadline.cancel()
    if truncated:
        raise UnreadableFeed(f"the feed is larger than {max_bytes} bytes; stopped reading", file=url)
    return data


def xml_parser() -> etree.XMLParser:
    """A parser that never touches the network, never expands entities and refuses huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )
