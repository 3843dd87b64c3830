"""Reading a feed: a file or a capped, time-limited HTTP GET, with sniffing for "not a feed at all"."""

from __future__ import annotations

import codecs
import http.client
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from pipeline.errors import UnreadableFeed

USER_AGENT = "podcast-pipeline-validate/0.1 (+https://podcastindex.org/namespace/1.0)"
_CHUNK = 64 * 1024


def _build_opener() -> urllib.request.OpenerDirector:
    """urllib with only http(s): a redirect to ftp: or file: fails instead of being followed."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _build_opener()


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
    req = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})})
    deadline = time.monotonic() + timeout * 3
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, {k.lower(): v for k, v in err.headers.items()}, url=err.geturl() or "")
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
        return Response(error=_describe_network_error(err))
    with resp:
        out = Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, url=resp.geturl() or "")
        if method != "HEAD" and cap:
            try:
                out.body, out.truncated = _read_capped(resp, cap, deadline)
            except (OSError, http.client.HTTPException) as err:
                out.error = _describe_network_error(err)
        return out


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
            size = path.stat().st_size
            if size > max_bytes:
                raise UnreadableFeed(f"is {size} bytes, over the {max_bytes}-byte limit", file=source)
            data = path.read_bytes()
        except FileNotFoundError:
            raise UnreadableFeed("no such file", file=source) from None
        except PermissionError:
            raise UnreadableFeed("permission denied", file=source) from None
        except OSError as err:
            raise UnreadableFeed(f"cannot read: {err.strerror or err}", file=source) from None
    sniff(data, source)
    return data


def _fetch_feed(url: str, *, max_bytes: int, timeout: float) -> bytes:
    req = urllib.request.Request(
        url, headers={"User-Agent": USER_AGENT, "Accept": "application/rss+xml, */*"}
    )
    deadline = time.monotonic() + timeout * 3
    try:
        resp = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        with err:
            raise UnreadableFeed(f"the server answered HTTP {err.code} {err.reason}", file=url) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
        raise UnreadableFeed(f"cannot fetch: {_describe_network_error(err)}", file=url) from None
    with resp:
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise UnreadableFeed(f"the feed is {declared} bytes, over the {max_bytes}-byte limit", file=url)
        try:
            data, truncated = _read_capped(resp, max_bytes, deadline)
        except (OSError, http.client.HTTPException) as err:
            raise UnreadableFeed(f"download failed: {_describe_network_error(err)}", file=url) from None
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
