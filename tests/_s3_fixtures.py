"""A real SeaweedFS S3 server for tests: one per pytest session (per xdist worker), on free loopback ports."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests._ci import weed_path

REGION = "us-east-1"
START_TIMEOUT = 30.0  # seconds; a cold start takes about 2 s here
STOP_TIMEOUT = 10.0
GRPC_OFFSET = 10000  # every SeaweedFS service also listens on its HTTP port + 10000 for gRPC
# Ports are drawn below the kernel's ephemeral range (32768+), so neither a port nor its +10000 twin
# is likely to be taken by an outgoing connection; each xdist worker draws from its own band.
PORT_LOW, PORT_HIGH = 11000, 22000
SERVICES = ("s3", "master", "volume", "filer", "admin")
READY_BUCKET = "fixture-ready-probe"


def _worker_index() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits) if digits else 0


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, *, rng: random.Random | None = None) -> list[int]:
    """`count` distinct loopback ports p where both p and p + 10000 are free, from this worker's band."""
    rng = rng or random.Random()
    bands = 16
    width = (PORT_HIGH - PORT_LOW) // bands
    low = PORT_LOW + (_worker_index() % bands) * width
    chosen: list[int] = []
    for port in rng.sample(range(low, low + width), width):
        taken = {p for c in chosen for p in (c, c + GRPC_OFFSET)}
        if port in taken or port + GRPC_OFFSET in taken:
            continue
        if _port_free(port) and _port_free(port + GRPC_OFFSET):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise RuntimeError(f"no {count} free port pairs in {low}-{low + width}")


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies without stopping us (Linux; best effort)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def public_read_policy(bucket: str) -> str:
    """A bucket policy that lets anyone GET (not list, not write) every object in `bucket`."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["s3:GetObject"],
                    "Resource": [f"arn:aws:s3:::{bucket}/*"],
                }
            ],
        }
    )


@dataclass
class SeaweedServer:
    """A `weed mini` process with S3 credentials enforced; restartable on the same ports and data dir."""

    weed: str
    root: Path
    access_key: str = field(default_factory=lambda: "AK" + uuid.uuid4().hex[:18].upper())
    secret_key: str = field(default_factory=lambda: uuid.uuid4().hex + uuid.uuid4().hex[:8], repr=False)
    region: str = REGION
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _buckets: int = 0
    _admin: Any = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def public_base_url(self, bucket: str) -> str:
        """Where anonymous clients fetch the objects of a public bucket: `<this><key>`."""
        return f"{self.endpoint_url}/{bucket}/"

    def command(self) -> list[str]:
        p = self.ports
        return [
            self.weed,
            f"-logdir={self.root / 'logs'}",  # glog files; weed's default is /tmp
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.port={p['s3']}",
            f"-master.port={p['master']}",
            f"-volume.port={p['volume']}",
            f"-filer.port={p['filer']}",
            # The admin server starts even with the UI off, on 23646 (+10000) unless told otherwise.
            f"-admin.port={p['admin']}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            # Like AWS: a PUT to a missing bucket is NoSuchBucket, not a silently created bucket.
            "-s3.autoCreateBucket=false",
            # Every bucket is a collection with volumes of its own; mini sizes volumes at 1 GiB, which
            # leaves only (free disk / 1 GiB) of them, and a session creates many buckets.
            "-master.volumeSizeLimitMB=64",
        ]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start (or restart) the server on the same ports and data dir; return when S3 answers."""
        if self.running:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        if not self.ports:
            self.ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Ready = ListBuckets answers and a small write goes through.

        After a restart (above all after SIGKILL) weed answers ListBuckets at once but may hold the first
        writes for seconds while its parts reconnect; tests that restart the server expect writes to work.
        """
        client = self.client(connect_timeout=0.5, read_timeout=1, max_attempts=1)
        deadline = time.monotonic() + START_TIMEOUT
        last = ""
        listed = False
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"weed exited with {self.process.returncode}:\n{self.log_tail()}")  # type: ignore[union-attr]
            try:
                if not listed:
                    names = {b["Name"] for b in client.list_buckets()["Buckets"]}
                    listed = True
                    if READY_BUCKET not in names:
                        client.create_bucket(Bucket=READY_BUCKET)
                client.put_object(Bucket=READY_BUCKET, Key="probe", Body=b"ready")
                return
            except Exception as err:  # not up yet: connection refused, 503 while the filer starts, timeouts
                last = f"{type(err).__name__}: {err}"
                time.sleep(0.1)
        self.stop(graceful=False)
        raise RuntimeError(
            f"SeaweedFS did not answer ListBuckets in {START_TIMEOUT:.0f} s ({last}):\n{self.log_tail()}"
        )

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the server by its PID: SIGTERM then wait (graceful), or SIGKILL at once (a crash)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        if graceful:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        else:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def client(self, *, connect_timeout: float = 5, read_timeout: float = 30, max_attempts: int = 3):
        """A boto3 S3 client with the server's credentials, for arranging and checking tests."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"mode": "standard", "max_attempts": max_attempts},
                s3={"addressing_style": "path"},
            ),
        )

    @property
    def admin(self) -> Any:
        """A shared boto3 client with the server's credentials (survives restarts)."""
        if self._admin is None:
            self._admin = self.client()
        return self._admin

    def make_bucket(self, stem: str = "test", *, public: bool = True) -> str:
        """Create a bucket with a fresh name; `public` lets anonymous clients GET its objects."""
        self._buckets += 1
        name = f"{stem}-{self._buckets}-{uuid.uuid4().hex[:8]}".lower()
        self.admin.create_bucket(Bucket=name)
        if public:
            self.admin.put_bucket_policy(Bucket=name, Policy=public_read_policy(name))
        return name

    def delete_bucket(self, name: str) -> None:
        """Delete a bucket and everything in it (frees its volumes); quiet when the server is down."""
        if not self.running:
            return
        with contextlib.suppress(ClientError):  # already gone: nothing to free
            self.admin.delete_bucket(Bucket=name)  # weed allows deleting a non-empty bucket


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """One SeaweedFS per session (per xdist worker). Tests that stop it must `start()` it again."""
    weed = weed_path()  # skips locally, fails under CI
    server = SeaweedServer(weed=weed, root=tmp_path_factory.mktemp("seaweedfs"))
    for attempt in range(3):
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2 or "address already in use" not in server.log_tail().lower():
                raise
            server.ports = {}  # another process grabbed a port between our check and weed's bind
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: SeaweedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SeaweedServer:
    """The standard AWS chain sees exactly the server's credentials: env vars, no profile, no config files."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role probe on this machine
    if not s3_server.running:  # a previous test stopped it and failed before restarting
        s3_server.start()
    return s3_server


@pytest.fixture
def bucket(s3_env: SeaweedServer) -> Iterator[str]:
    """A fresh, publicly readable bucket on the session's server; deleted afterwards."""
    name = s3_env.make_bucket()
    yield name
    s3_env.delete_bucket(name)
