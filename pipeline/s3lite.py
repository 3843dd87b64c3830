"""A small S3 client: SigV4-signed GET, HEAD and single PUT over a socket, stdlib only.

boto3 and botocore cost ~0.3 s to import and about 1 ms of CPU per request here; an unchanged
`podcast publish` needs only one manifest GET and a handful of HEADs, and a cold one thousands of small
PUTs the server answers in about as long. (Even `http.client` costs ~15 ms of imports, so the HTTP/1.1
here is its own: the few lines S3 answers need.) It serves those paths only, and only in the plain case:
static credentials in the environment, a known region, no profile, proxy, endpoint override or other AWS
setting it would have to interpret (`LiteReader.open` returns None for anything else). A PUT's signature
covers the body's sha256, which the caller already knows (the plan's digests), so AWS S3 refuses bytes
that differ. Every request that does not get a plain answer (200, or 404 for "no such key") raises `Unsure`:
the caller then asks boto3, which has the retries and the worded errors. So this module never words an
error for people and never puts a credential in any message it raises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

#: AWS_* variables whose meaning this reader takes on as botocore does; any other one (an endpoint
#: override, FIPS or dual-stack endpoints, a CA bundle, a profile...) sends the caller to boto3.
_PLAIN_AWS_VARS = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CA_BUNDLE",  # the certificates an https endpoint is checked against, taken as botocore does
        "AWS_DEFAULT_REGION",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_PAGER",
        "AWS_DEFAULT_OUTPUT",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
    }
)
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
#: Settings of the config file's [default] profile that change nothing for a GET with static credentials.
_PLAIN_CONFIG_KEYS = frozenset({"region", "output", "cli_pager", "max_attempts", "retry_mode"})
_DNS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


_MAX_HEADER_LINE = 16 * 1024
_SEND_CHUNK = 8 * 1024 * 1024
_MAX_HEADERS = 200


class Unsure(Exception):
    """The request got no plain answer (refused, timed out, 403, 5xx, a redirect...): ask boto3 instead."""


@dataclass(frozen=True)
class Head:
    size: int
    content_type: str | None
    etag: str | None  # without quotes
    cache_control: str | None


def _plain_config(env: Mapping[str, str]) -> bool:
    """True when the AWS config file is absent or its [default] profile sets only harmless keys."""
    path = Path(env.get("AWS_CONFIG_FILE") or Path.home() / ".aws" / "config").expanduser()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return True
    except (OSError, UnicodeDecodeError):
        return False
    section = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].rstrip()
        if not line.strip():
            continue
        if line.startswith("["):
            section = line.strip("[] \t")
            continue
        if section != "default":
            continue
        if line[0].isspace():
            return False  # a nested block (`s3 =` followed by indented settings)
        key = line.split("=", 1)[0].strip()
        if key not in _PLAIN_CONFIG_KEYS:
            return False
    return True


class LiteReader:
    """GET, HEAD and PUT of objects under one bucket and prefix, signed with AWS Signature Version 4."""

    def __init__(
        self,
        *,
        scheme: str,
        host: str,
        port: int,
        netloc: str,
        base_path: str,
        region: str,
        access_key: str,
        secret_key: str,
        token: str | None,
        ca_bundle: str | None,
        prefix: str,
        timeout: float,
    ) -> None:
        self._scheme = scheme
        self._host = host  # to connect to (and the TLS server name)
        self._port = port
        self._netloc = netloc  # host[:port], as the Host header says it
        self._base_path = base_path  # "/bucket" (path style) or "" (virtual host)
        self._region = region
        self._access_key = access_key
        self._secret_key = secret_key
        self._token = token
        self._ca_bundle = ca_bundle
        self._prefix = prefix
        self._timeout = timeout
        self._sock: socket.socket | None = None
        self._file: Any = None  # the socket's buffered reader

    def __repr__(self) -> str:
        return f"LiteReader({self._scheme}://{self._netloc}{self._base_path})"

    @classmethod
    def open(
        cls,
        bucket: str,
        prefix: str,
        *,
        region: str | None,
        endpoint_url: str | None,
        profile: str | None,
        timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> LiteReader | None:
        """A reader for this target when its setting is the plain case (see the module docstring), else None.

        `prefix` is the key prefix as S3Storage keeps it ("show/" or ""); addressing follows S3Storage's
        client: path style under `endpoint_url`, virtual-hosted on AWS itself."""
        env = os.environ if env is None else env
        if profile or any(k.startswith("AWS_") and k not in _PLAIN_AWS_VARS for k in env):
            return None
        if any(env.get(k) for k in _PROXY_VARS):
            return None
        access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        region = region or env.get("AWS_DEFAULT_REGION")
        if not access or not secret or not region or not _plain_config(env):
            return None
        if endpoint_url:
            parts = urlsplit(endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
                return None
            if parts.path.strip("/") or parts.username or parts.password or not parts.hostname:
                return None
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                return None
            scheme, host, netloc = parts.scheme, parts.hostname, parts.netloc
            base = "/" + quote(bucket, safe="")
        else:
            if not _DNS_BUCKET.match(bucket):
                return None  # dots or other names botocore may address another way
            scheme, host, port, base = "https", f"{bucket}.s3.{region}.amazonaws.com", 443, ""
            netloc = host
        token = env.get("AWS_SESSION_TOKEN") or None
        return cls(
            scheme=scheme,
            host=host,
            port=port,
            netloc=netloc,
            base_path=base,
            region=region,
            access_key=access,
            secret_key=secret,
            token=token,
            ca_bundle=env.get("AWS_CA_BUNDLE") or None,
            prefix=prefix,
            timeout=timeout,
        )

    # -- requests ---------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """The object's bytes, None for 404; Unsure for any other answer."""
        status, _headers, body = self._request("GET", key)
        if status == 404:
            return None
        return body

    def head(self, key: str) -> Head | None:
        """Size, type, ETag and cache control, None for 404; Unsure for any other answer."""
        status, headers, _ = self._request("HEAD", key)
        if status == 404:
            return None
        try:
            size = int(headers["content-length"])
        except (KeyError, ValueError) as err:
            raise Unsure("HEAD without a Content-Length") from err
        etag = headers.get("etag")
        return Head(
            size, headers.get("content-type"), etag.strip('"') if etag else None, headers.get("cache-control")
        )

    def close(self) -> None:
        if self._sock is not None:
            self._file.close()
            self._sock.close()
            self._sock = self._file = None

    def _connect(self) -> None:
        sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
        if self._scheme == "https":
            import ssl

            context = ssl.create_default_context(cafile=self._ca_bundle)
            sock = context.wrap_socket(sock, server_hostname=self._host)
        self._sock, self._file = sock, sock.makefile("rb")

    def put(
        self,
        key: str,
        data: bytes | Path,
        *,
        size: int,
        sha256: str,
        content_type: str,
        cache_control: str,
        progress: Callable[[float], None] | None = None,
    ) -> str | None:
        """Store one object with a single PUT whose signature covers `sha256`, so the server refuses bytes
        that differ from it (a file that changed on disk, a body cut short): the answer's 200 is the
        target's own word that it holds exactly these bytes. A file goes by sendfile (no copy through Python),
        `progress` told every 8 MiB. Returns the ETag; Unsure for any other answer."""
        extra = {"content-type": content_type, "cache-control": cache_control, "content-length": str(size)}
        status, headers, _ = self._request(
            "PUT", key, body=data, sha256=sha256, extra=extra, progress=progress
        )
        if status != 200:
            raise Unsure(f"PUT {key}: HTTP {status}")
        etag = headers.get("etag")
        return etag.strip('"') if etag else None

    def _request(
        self,
        method: str,
        key: str,
        *,
        body: bytes | Path = b"",
        sha256: str = _EMPTY_SHA256,
        extra: Mapping[str, str] | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        path = f"{self._base_path}/{quote(self._prefix + key, safe='/~')}"
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more, fresh
            reused = self._sock is not None
            try:
                if self._sock is None:
                    self._connect()
                assert self._sock is not None
                signed = self._signed(method, path, sha256, extra or {})
                head = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in signed.items())]
                message = ("\r\n".join(head) + "\r\n\r\n").encode()
                if isinstance(body, Path):
                    self._sock.sendall(message)
                    with body.open("rb") as f:
                        sent = 0
                        while chunk := self._sock.sendfile(f, sent, _SEND_CHUNK):
                            sent += chunk
                            if progress is not None:
                                progress(chunk)
                else:
                    self._sock.sendall(message + body if len(body) < 65536 else message)
                    if len(body) >= 65536:
                        self._sock.sendall(body)
                status, headers, answer = self._response(method)
            except (OSError, ValueError, Unsure) as err:
                self.close()
                if attempt == 1 and reused and not isinstance(err, TimeoutError):
                    continue
                raise Unsure(f"{method} {key}: {type(err).__name__}") from None
            if headers.get("connection", "").lower() == "close":
                self.close()
            if status not in (200, 404):
                raise Unsure(f"{method} {key}: HTTP {status}")
            return status, headers, answer
        raise Unsure(f"{method} {key}: no answer")  # pragma: no cover (the loop returns or raises)

    def _line(self) -> str:
        line: bytes = self._file.readline(_MAX_HEADER_LINE + 1)
        if not line or len(line) > _MAX_HEADER_LINE:
            raise Unsure("the connection closed, or a header line too long")
        return line.decode("latin-1").rstrip("\r\n")

    def _response(self, method: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body of one HTTP/1.1 response with a known length."""
        version, _, rest = self._line().partition(" ")
        if not version.startswith("HTTP/1."):
            raise Unsure("not an HTTP/1.x answer")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        while line := self._line():
            name, sep, value = line.partition(":")
            if not sep or len(headers) >= _MAX_HEADERS:
                raise Unsure("a malformed header")
            headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, headers, b""
        if "transfer-encoding" in headers or "content-length" not in headers:
            raise Unsure("a body without a Content-Length")  # S3 sends one; anything else: boto3
        length = int(headers["content-length"])
        body: bytes = self._file.read(length)
        if len(body) != length:
            raise Unsure("the body ended early")
        return status, headers, body

    def _signed(self, method: str, path: str, sha256: str, extra: Mapping[str, str]) -> dict[str, str]:
        """The headers of a SigV4-signed request (no query string) whose body has this sha256; every
        header is signed."""
        now = dt.datetime.now(dt.UTC)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        headers = {"host": self._netloc, "x-amz-content-sha256": sha256, "x-amz-date": stamp, **extra}
        if self._token:
            headers["x-amz-security-token"] = self._token
        names = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                "",
                *(f"{name}:{headers[name].strip()}" for name in names),
                "",
                ";".join(names),
                sha256,
            ]
        )
        scope = f"{day}/{self._region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = ("AWS4" + self._secret_key).encode()
        for part in (day, self._region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self._access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return headers
