"""`podcast serve`: the build folder on 127.0.0.1 with HTTP Range support, rebuilt when sources change."""

from __future__ import annotations

import datetime as dt
import email.utils
import mimetypes
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pipeline import build, model
from pipeline.errors import PipelineError
from pipeline.progress import Reporter

CHUNK = 256 * 1024
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".json": "application/json",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")  # 18 digits: past any file, never a huge int
#: Longer URL paths, or longer names in them, name nothing a build writes: 414 / 404 without touching disk.
MAX_PATH = 2048
MAX_SEGMENT = 255


def content_type(path: Path) -> str:
    if path.name == "chapters.json":
        return "application/json+chapters"
    if path.name == "sitemap.xml":
        return "application/xml; charset=utf-8"
    return TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """'bytes=a-b' -> inclusive (start, end) clipped to the file, or None when unsatisfiable."""
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):  # suffix range: the last N bytes
        n = int(m.group(2))
        if n == 0:
            return None
        return max(size - n, 0), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class _Handler(BaseHTTPRequestHandler):
    root: Path
    server_version = "podcast-serve"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _resolve(self) -> tuple[Path | None, bool]:
        """(the file a URL names or None, whether it names a folder without its trailing slash)."""
        try:
            return self._lookup()
        except (
            OSError,
            ValueError,
        ):  # a NUL byte, a name too long, a file gone mid-rebuild: nothing we serve
            return None, False

    def _lookup(self) -> tuple[Path | None, bool]:
        url_path = unquote(urlsplit(self.path).path)
        if any(len(part) > MAX_SEGMENT for part in url_path.split("/")):
            return None, False
        root = self.root.resolve()
        try:
            candidate = (root / url_path.lstrip("/")).resolve()
        except (OSError, ValueError):  # a NUL byte, a name too long: nothing we serve
            return None, False
        if not candidate.is_relative_to(root):
            return None, False
        if any(part.startswith(".") for part in candidate.relative_to(root).parts):
            return None, False  # build metadata (.podcast/) is never served, nor its existence revealed
        if candidate.is_dir():
            index = candidate / "index.html"
            # Pages use relative links, so /episodes/x must become /episodes/x/ before its page is served.
            return (index, not url_path.endswith("/")) if index.is_file() else (None, False)
        return (candidate if candidate.is_file() else None), False

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, *, body: bool) -> None:
        if len(self.path) > MAX_PATH:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        path, add_slash = self._resolve()
        if add_slash:
            url = urlsplit(self.path)
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", url.path + "/" + (f"?{url.query}" if url.query else ""))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path is None:
            missing = self.root / "404.html"
            data = missing.read_bytes() if missing.is_file() else b"Not found"
            self.send_response(HTTPStatus.NOT_FOUND)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)
            return
        try:
            st = path.stat()
        except OSError:  # replaced or removed by a rebuild since _resolve
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        size = st.st_size
        start, end = 0, size - 1
        status = HTTPStatus.OK
        header = self.headers.get("Range")
        if header:
            rng = parse_range(header, size)
            if rng is None:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = rng
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", content_type(path))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1 if size else 0))
        self.send_header("Last-Modified", email.utils.formatdate(st.st_mtime, usegmt=True))
        self.send_header("Cache-Control", "no-cache")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if not body or size == 0:
            return
        try:
            with path.open("rb") as fh:
                fh.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = fh.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the player moved on (seeking cancels requests); not an error
        except OSError:
            self.close_connection = True  # the file went away mid-send (a rebuild): end this response


class Server:
    """A threaded HTTP server for one folder, bound to 127.0.0.1 only."""

    def __init__(self, root: Path, port: int = 8000, host: str = "127.0.0.1") -> None:
        handler = type("Handler", (_Handler,), {"root": Path(root)})
        try:
            self.httpd = ThreadingHTTPServer((host, port), handler)
        except OSError as err:
            raise PipelineError(
                f"cannot listen on {host}:{port}: {err.strerror}", hint="pick another port with --port"
            ) from None
        self.httpd.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> Server:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def source_signature(root: Path, ignore: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every source file: what the watcher compares between polls."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and (rel / d).as_posix() not in ignore
        )
        for name in sorted(filenames):
            try:
                st = (Path(dirpath) / name).stat()
            except FileNotFoundError:  # an editor's temp file, gone between listing and stat
                continue
            out.append(((rel / name).as_posix(), st.st_size, st.st_mtime_ns))
    return tuple(out)


def watch_sources(
    root: Path,
    ignore: tuple[str, ...],
    rebuild: Callable[[], None],
    stop: threading.Event,
    interval: float = 0.5,
    since: tuple[tuple[str, int, int], ...] | None = None,
) -> Iterator[None]:
    """Poll the sources; call `rebuild` after each change. Yields after every poll (for tests and Ctrl-C).

    `since` is the signature the last build was made from (taken before it started, so an edit made
    while it ran, or before the watcher started, is not missed).
    """
    last = source_signature(root, ignore) if since is None else since
    while not stop.is_set():
        stop.wait(interval)
        current = source_signature(root, ignore)
        if current != last:
            last = current
            rebuild()
        yield None


def _sigterm_as_interrupt() -> Callable[[], None]:
    """Raise KeyboardInterrupt on SIGTERM (main thread only); returns the function that restores the handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


class Preview:
    """`podcast serve`: build once, serve the build folder, rebuild when a source changes."""

    def __init__(
        self, show_path: Path, *, now: dt.datetime, out_dir: Path | None, port: int, reporter: Reporter
    ) -> None:
        self.show_path, self.now, self.out_dir, self.reporter = show_path, now, out_dir, reporter
        show = model.load_show(show_path)
        self.root = show.root
        out = Path(out_dir) if out_dir else show.root / build.BUILD_DIR
        self.ignore = (*(model.show_rel(show.root, p) for p in (out, show.publish_dir)), build.CACHE_DIR)
        self.baseline = source_signature(self.root, self.ignore)  # before building: no edit slips through
        self.first = build.build(show_path, now=now, out_dir=out_dir, reporter=reporter)
        self.server = Server(self.first.out_dir, port=port).start()
        self.stopping = threading.Event()

    def run(
        self, *, watch: bool, on_rebuild: Callable[[int], None], on_error: Callable[[PipelineError], None]
    ) -> None:
        """Block until stop(): poll sources and rebuild on change (errors keep the last good build).

        In the main thread, SIGTERM (a service manager's or `kill`'s stop) ends it as Ctrl-C does.
        """
        restore = _sigterm_as_interrupt()
        try:
            self._run(watch=watch, on_rebuild=on_rebuild, on_error=on_error)
        finally:
            restore()

    def _run(
        self, *, watch: bool, on_rebuild: Callable[[int], None], on_error: Callable[[PipelineError], None]
    ) -> None:
        if not watch:
            self.stopping.wait()
            return

        def rebuild() -> None:
            try:
                result = build.build(
                    self.show_path, now=self.now, out_dir=self.out_dir, reporter=self.reporter
                )
                on_rebuild(result.written)
            except PipelineError as err:
                on_error(err)

        for _ in watch_sources(self.root, self.ignore, rebuild, self.stopping, since=self.baseline):
            pass

    def stop(self) -> None:
        self.stopping.set()
        self.server.stop()
