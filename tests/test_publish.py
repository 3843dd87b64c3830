"""Publishing against a real SeaweedFS and a real folder: safe order, resume after a crash, refusals, locks."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from click.testing import CliRunner, Result

from pipeline import build, human, publish
from pipeline import cli as cli_module
from pipeline.cli import cli
from pipeline.errors import ExitCode, PublishRefused, TargetLocked
from pipeline.manifest import MANIFEST_KEY, EpisodeEntry, Kind, Manifest, Output
from pipeline.progress import ListReporter, NullTask, Task
from pipeline.storage import LOCK_KEY, S3Storage
from tests.conftest import NOW

# Imported here (to subclass the server), so mark it for pytest's assertion rewriting first, as the
# modules that load it with `pytest_plugins` expect.
pytest.register_assert_rewrite("tests._s3_fixtures")
from tests import _s3_fixtures  # noqa: E402
from tests._ci import weed_path  # noqa: E402
from tests._s3_fixtures import SERVICES, SeaweedServer, free_ports, public_read_policy  # noqa: E402

# The fixture module's s3_env and bucket, here running on the s3_server defined below.
s3_env = _s3_fixtures.s3_env
bucket = _s3_fixtures.bucket

REPO = Path(__file__).resolve().parent.parent
NOW_ISO = NOW.isoformat()
PREFIX = "podcast/"
KNEES = "why-your-knees-hurt-when-you-run"
SHINS = "shin-splints-are-a-load-problem"
RETURN = "coming-back-after-a-running-injury"
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_ADDRESSED = re.compile(r"/[0-9a-f]{16}/[^/]+$")  # .../<hash>/<name>: the key changes with the bytes


# --------------------------------------------------------------------------- the server, over TLS too


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key) that tests trust through SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@dataclass
class ListenerServer(SeaweedServer):
    """The fixture's SeaweedFS, also serving S3 over HTTPS on another port for listeners.

    Publishing talks to the plain-HTTP endpoint; feeds point at the HTTPS one, because the Podcasting 2.0
    rules (`podcast validate`, PC112) require https for podcast: URLs.
    """

    cert_file: Path | None = None
    key_file: Path | None = None

    def command(self) -> list[str]:
        return [
            *super().command(),
            f"-s3.port.https={self.ports['https']}",
            f"-s3.cert.file={self.cert_file}",
            f"-s3.key.file={self.key_file}",
        ]

    def listener_url(self, bucket: str, prefix: str = PREFIX) -> str:
        return f"https://127.0.0.1:{self.ports['https']}/{bucket}/{prefix}"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ListenerServer]:
    """Overrides the plugin's server for this module: one SeaweedFS per session, with an HTTPS port."""
    weed = weed_path()  # skips locally, fails under CI
    root = tmp_path_factory.mktemp("seaweedfs-publish")
    cert_file, key_file = self_signed_cert(root)
    server = ListenerServer(weed=weed, root=root, cert_file=cert_file, key_file=key_file)
    for attempt in range(3):
        server.ports = dict(zip((*SERVICES, "https"), free_ports(len(SERVICES) + 1), strict=True))
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2 or "address already in use" not in server.log_tail().lower():
                raise
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- shows


@pytest.fixture
def show(warm_show: Path) -> Path:
    """The sample show with its encodes already cached (tests/conftest.py)."""
    return warm_show


_PUBLISH_BLOCK = re.compile(r"^publish:.*\n(?:[ \t]+.*\n|[ \t]*\n)*", re.MULTILINE)


def set_publish(show_yaml: Path, **settings: str) -> None:
    """Replace show.yaml's `publish:` section."""
    text = _PUBLISH_BLOCK.sub("", show_yaml.read_text())
    body = "".join(f"  {k}: {v}\n" for k, v in settings.items())
    show_yaml.write_text(text.rstrip("\n") + "\npublish:\n" + body)


def episode_md(show_yaml: Path, slug: str) -> Path:
    return show_yaml.parent / "episodes" / slug / "episode.md"


def edit_notes(show_yaml: Path, slug: str, text: str = "One more thing: rest days are training too.") -> None:
    md = episode_md(show_yaml, slug)
    md.write_text(md.read_text() + f"\n{text}\n")


def replace_audio(show_yaml: Path, slug: str, frequency: int = 523) -> None:
    """A corrected recording (a different tone) in place of the episode's source audio."""
    folder = show_yaml.parent / "episodes" / slug
    source = next(p for p in folder.iterdir() if p.name.startswith("audio."))
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={frequency}:duration=10",
            "-ac",
            "2",
            "-ar",
            "44100",
            "-b:a",
            "128k",
            str(source),
        ],
        check=True,
    )


def add_episodes(show_yaml: Path, n: int) -> list[str]:
    """n more episodes; all share the sample's MP3 source (one encode), but each is tagged, so each differs."""
    episodes = show_yaml.parent / "episodes"
    source = episodes / RETURN / "audio.mp3"
    slugs = []
    for i in range(1, n + 1):
        slug = f"listener-question-{i:02d}"
        (episodes / slug).mkdir()
        shutil.copyfile(source, episodes / slug / "audio.mp3")
        date = dt.datetime(2025, 4, 1, 7, tzinfo=dt.UTC) + dt.timedelta(days=i)
        (episodes / slug / "episode.md").write_text(
            f"---\ntitle: Listener question {i}\ndate: {date.isoformat()}\naudio: audio.mp3\n---\n"
            f"A listener asks about run number {i}.\n"
        )
        slugs.append(slug)
    return slugs


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # what S3 reports as the ETag of a single PUT


def data_of(o: Output) -> bytes:
    return o.data.read_bytes() if isinstance(o.data, Path) else bytes(o.data)


def built(show_yaml: Path) -> dict[str, Output]:
    """The build outputs by key (the same build the CLI makes: deterministic)."""
    return {o.key: o for o in build.build(show_yaml, now=NOW).outputs}


# --------------------------------------------------------------------------- the CLI


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """The CLI in-process; a stray exception (not a PipelineError) fails the test with its traceback."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env=env)


def publish_cli(show_yaml: Path, *extra: str) -> Result:
    return run("publish", "--show", show_yaml, "--now", NOW_ISO, *extra)


def publish_json(show_yaml: Path, *extra: str) -> dict[str, Any]:
    result = publish_cli(show_yaml, "--format", "json", *extra)
    assert result.exit_code == ExitCode.OK, result.output
    return json.loads(result.stdout)


def uploaded(outcome: dict[str, Any]) -> set[str]:
    keys = [u["key"] for u in outcome["uploaded"]]
    assert len(keys) == len(set(keys)), "an object was uploaded twice in one publish"
    return set(keys)


def error_line(result: Result) -> str:
    """The one error line of a failed command (progress steps may precede it on stderr)."""
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == errors[0]
    return errors[0]


# --------------------------------------------------------------------------- an S3 target per test


@dataclass
class Target:
    """A fresh public bucket on the session's SeaweedFS and a sample show that publishes there."""

    server: ListenerServer
    bucket: str
    show: Path
    prefix: str = PREFIX
    env: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.rstrip('/')}"

    @property
    def feed_url(self) -> str:
        return self.server.listener_url(self.bucket, self.prefix) + "feed.xml"

    def objects(self) -> dict[str, tuple[str, int]]:
        """key (without the prefix) -> (ETag, size) of every object under the prefix."""
        found: dict[str, tuple[str, int]] = {}
        for page in self.server.admin.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        ):
            for o in page.get("Contents", []):
                found[o["Key"][len(self.prefix) :]] = (o["ETag"].strip('"'), o["Size"])
        return found

    def head(self, key: str) -> dict[str, Any]:
        return self.server.admin.head_object(Bucket=self.bucket, Key=self.prefix + key)

    def get(self, key: str) -> bytes:
        return self.server.admin.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def fetch(self, key: str) -> bytes:
        """What a listener's app gets: an anonymous HTTPS GET of the public URL."""
        with urllib.request.urlopen(
            self.server.listener_url(self.bucket, self.prefix) + key, timeout=10
        ) as r:
            return r.read()

    def state(self) -> dict[str, tuple[str, int, str]]:
        """Everything a publish could change: key -> (ETag, size, Last-Modified)."""
        return {
            k: (etag, size, str(self.head(k)["LastModified"])) for k, (etag, size) in self.objects().items()
        }

    def assert_matches(self, outputs: dict[str, Output]) -> None:
        """The bucket holds exactly the build (plus the manifest), byte for byte, with no lock left."""
        objects = self.objects()
        assert set(objects) == set(outputs) | {MANIFEST_KEY}
        for key, o in outputs.items():
            data = data_of(o)
            assert objects[key] == (md5(data), len(data)), key

    def assert_feed_valid(self) -> None:
        """`podcast validate <public feed URL> --online` passes: exit 0, no error findings."""
        result = run("validate", self.feed_url, "--online", "--format", "json", "--now", NOW_ISO)
        report = json.loads(result.stdout)
        assert [f for f in report["findings"] if f["severity"] == "error"] == []
        assert result.exit_code == ExitCode.OK
        assert report["items"] == len(build.build(self.show, now=NOW).public)


@pytest.fixture
def target(s3_env: ListenerServer, bucket: str, show: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    assert s3_env.cert_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(s3_env.cert_file))  # trust the server's HTTPS port (validate)
    set_publish(
        show,
        target="s3",
        bucket=bucket,
        prefix=PREFIX,
        region=s3_env.region,
        endpoint_url=s3_env.endpoint_url,
        public_base_url=s3_env.listener_url(bucket),
    )
    return Target(s3_env, bucket, show)


def record_requests(store: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """Every S3 request `store` makes from now on, by boto3 or its small PUT/HEAD client:
    (operation, key without prefix, params)."""
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def seen(operation: str, key: str, params: dict[str, Any]) -> None:
        calls.append((operation, key[len(store.prefix) :], params))

    store.observe(seen)
    return calls


# =========================================================================== S3: the happy paths


def test_cold_publish_puts_every_output_with_type_and_caching(target: Target) -> None:
    result = publish_cli(target.show)
    assert result.exit_code == ExitCode.OK, result.output
    outputs = built(target.show)
    newest = build.build(target.show, now=NOW).public[0].audio  # checked anonymously before the feed
    total = sum(len(data_of(o)) for o in outputs.values())
    assert result.stdout == (
        f"Published 3 episodes to {target.description}: 3 new ({human.size(total)} "
        "uploaded), 0 unchanged, feed updated.\n"
    )
    building = ("Encoding", "Cutting", "Waveform", "Share card")
    assert [line for line in result.stderr.splitlines() if not line.startswith(building)] == [
        "Uploading media: 24 files",  # 11 + 3 peaks, 3 share cards, 3 Opus alternates, a clip, 3 artwork sizes
        "Checking 3 enclosures",
        "Uploading pages: 7 files",
        "Updating feed.xml",
        f"Listeners can read {target.server.listener_url(target.bucket)}{newest.key} without credentials "
        f"(HTTP 206, {newest.size} bytes, {newest.mime}).",
    ]
    target.assert_matches(outputs)
    assert {o.kind for o in outputs.values()} == set(Kind)
    for key, o in outputs.items():
        head = target.head(key)
        assert head["ContentType"] == o.content_type, key
        if o.kind is Kind.MEDIA or CONTENT_ADDRESSED.search(key):
            assert o.immutable and head["CacheControl"] == IMMUTABLE, key
        else:
            assert not o.immutable and head["CacheControl"] == "public, max-age=300", key
    assert target.head(MANIFEST_KEY)["CacheControl"] == "no-cache"
    assert target.head(MANIFEST_KEY)["ContentType"] == "application/json"
    manifest = Manifest.from_json(target.get(MANIFEST_KEY), "test")
    assert {k: (e.size, e.sha256, e.content_type) for k, e in manifest.objects.items()} == {
        k: (len(data_of(o)), hashlib.sha256(data_of(o)).hexdigest(), o.content_type)
        for k, o in outputs.items()
    }
    assert sorted(e.slug for e in manifest.episodes.values()) == [RETURN, SHINS, KNEES]
    assert manifest.feed_url == target.feed_url
    assert target.fetch("feed.xml") == data_of(outputs["feed.xml"])
    target.assert_feed_valid()


def test_publish_order_is_media_then_enclosure_check_then_pages_then_feed_then_manifest(
    target: Target,
) -> None:
    result = build.build(target.show, now=NOW)
    store = publish.open_target(result.show)
    calls = record_requests(store)
    publish.publish(result.show, result.outputs, result.public, store)
    kinds = {o.key: o.kind for o in result.outputs}
    steps = [(op, key) for op, key, _ in calls]
    puts = [key for op, key in steps if op == "PutObject"]
    assert puts[0] == LOCK_KEY and puts[-1] == MANIFEST_KEY
    where = {key: i for i, (op, key) in enumerate(steps) if op == "PutObject" and key != MANIFEST_KEY}
    heads = [i for i, (op, key) in enumerate(steps) if op == "HeadObject" and key != MANIFEST_KEY]
    enclosures = {b.audio.key for b in result.public}
    # Every new enclosure is stored (its PUT's answer confirms it) before the pages and the feed, and asked
    # for once, by one HEAD, when the feed is up: never twice.
    before_feed = [i for i in heads if i < where["feed.xml"]]
    after_feed = [i for i in heads if i > where["feed.xml"]]
    assert before_feed == []
    assert sorted(steps[i][1] for i in after_feed) == sorted(enclosures)
    first_media = [where[k] for k, kind in kinds.items() if kind in (Kind.MEDIA, Kind.ASSET)]
    pages = [where[k] for k, kind in kinds.items() if kind is Kind.PAGE]
    assert {steps[where[k]][1] for k in enclosures} <= {steps[i][1] for i in first_media}
    assert max(first_media) < min(pages)
    assert max(pages) < where["feed.xml"]
    final_manifest = max(i for i, (op, key) in enumerate(steps) if op == "PutObject" and key == MANIFEST_KEY)
    assert where["feed.xml"] < min(after_feed) and max(after_feed) < final_manifest
    assert steps[-1] == ("DeleteObjects", "")  # the lock goes last
    assert [key for op, key in steps if op == "GetObject"].count(MANIFEST_KEY) == 1


def test_republish_without_changes_uploads_nothing(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    before = target.state()
    outcome = publish_json(target.show)
    assert outcome["uploaded"] == [] and outcome["uploaded_bytes"] == 0
    assert outcome["feed_updated"] is False and outcome["already_present"] == 0
    assert (
        outcome["unchanged"] == len(built(target.show)) == 32
    )  # 19 + 3 peaks, 3 share cards, 3 Opus alternates, a clip, 3 cover sizes
    assert outcome["summary"] == f"Published 3 episodes to {target.description}: 3 unchanged, feed unchanged."
    assert target.state() == before  # same ETags and Last-Modified, the feed's included; no lock left
    target.assert_feed_valid()


def test_noop_publish_reads_the_manifest_once_and_writes_nothing(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    result = build.build(target.show, now=NOW)
    store = publish.open_target(result.show)
    calls = record_requests(store)
    outcome = publish.publish(result.show, result.outputs, result.public, store)
    assert outcome.uploads == ()
    # A reachability probe (one key at most), "is a publish running?", the manifest, then the cheap target
    # check (DESIGN §4.8): one HEAD each for the feed and the newest enclosures. Nothing listed, nothing
    # written, not even the lock.
    newest = sorted(result.public, key=lambda b: b.episode.date, reverse=True)[: publish.CHEAP_ENCLOSURES]
    assert [(op, key, p.get("MaxKeys")) for op, key, p in calls[:3]] == [
        ("ListObjectsV2", "", 1),
        ("GetObject", LOCK_KEY, None),
        ("GetObject", MANIFEST_KEY, None),
    ]
    assert sorted((op, key) for op, key, _ in calls[3:]) == sorted(
        [("HeadObject", "feed.xml"), *(("HeadObject", b.audio.key) for b in newest)]
    )


def test_one_changed_episode_uploads_only_its_page_and_the_feed(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    old = built(target.show)
    before = target.state()
    edit_notes(target.show, KNEES)
    new = built(target.show)
    status = run("status", "--show", target.show, "--now", NOW_ISO)
    assert status.exit_code == ExitCode.OK
    assert status.stdout.splitlines()[0].startswith(f"{target.description}: 2 file(s) differ (")
    assert [line.split()[-1] for line in status.stdout.splitlines()[2:]] == [
        f"episodes/{KNEES}/index.html",
        "feed.xml",
    ]
    shape = json.loads(run("status", "--show", target.show, "--now", NOW_ISO, "--format", "json").stdout)
    assert shape["target"] == target.description and shape["published"] and not shape["in_sync"]
    assert [u["key"] for u in shape["to_upload"]] == [f"episodes/{KNEES}/index.html", "feed.xml"]
    assert shape["changed_episodes"] == [KNEES] and shape["new_episodes"] == []
    assert set(shape) == {
        "target",
        "published",
        "in_sync",
        "to_upload",
        "unchanged",
        "only_on_target",
        "would_refuse",
        "new_episodes",
        "changed_episodes",
        "pages_rewritten",  # issue 10: keys are only ever added
        "damaged",
        "verified",
    }
    outcome = publish_json(target.show)
    assert uploaded(outcome) == {f"episodes/{KNEES}/index.html", "feed.xml"}
    assert uploaded(outcome) == {k for k in new if data_of(new[k]) != data_of(old[k])}  # the build's own diff
    assert outcome["changed_episodes"] == [KNEES] and outcome["new_episodes"] == []
    assert outcome["summary"] == (
        f"Published 3 episodes to {target.description}: 2 files ("
        f"{outcome['uploaded_bytes'] / 1000:.1f} kB) uploaded, 1 changed, 2 unchanged, "
        "1 page rewritten, feed updated."
    )
    after = target.state()
    assert {k for k in after if after[k] != before[k]} == uploaded(outcome) | {MANIFEST_KEY}
    target.assert_matches(new)
    status = run("status", "--show", target.show, "--now", NOW_ISO)
    assert status.stdout == f"{target.description}: up to date ({len(new)} files).\n"
    target.assert_feed_valid()


def test_corrected_audio_gets_a_new_url_and_uploads_only_its_own_objects(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    old = built(target.show)
    replace_audio(target.show, RETURN)
    new = built(target.show)
    # the MP3, its waveform and its Opus alternate are all made from the corrected source
    new_media = next(k for k in set(new) - set(old) if k.endswith(".mp3"))
    new_peaks = new_media.rsplit("/", 1)[0] + "/peaks.json"  # the waveform lives beside the audio
    new_opus = next(k for k in set(new) - set(old) if k.endswith(".opus"))
    assert set(new) - set(old) == {new_media, new_peaks, new_opus}
    assert new_media.startswith(f"episodes/{RETURN}/") and new_media.endswith(f"/{RETURN}.mp3")
    # The enclosure URL is content-addressed: corrected audio gets a new URL (apps cache by URL) while the
    # GUID stays, so this is a change, not a refusal.
    outcome = publish_json(target.show)
    assert uploaded(outcome) == {new_media, new_peaks, new_opus, f"episodes/{RETURN}/index.html", "feed.xml"}
    assert (
        outcome["changed_episodes"] == [RETURN] and outcome["forced"] is False and outcome["refusals"] == []
    )
    assert set(target.objects()) == set(new) | set(old) | {MANIFEST_KEY}  # the old file stays (no --prune)
    target.assert_feed_valid()


# =========================================================================== S3: faults


class _KillOnFirstObject:
    """A progress task that SIGKILLs the server as soon as the first media object is stored."""

    def __init__(self, server: SeaweedServer) -> None:
        self.server = server

    def advance(self, amount: float) -> None:
        if self.server.running:
            self.server.stop(graceful=False)

    def update(self, done: float) -> None:
        pass

    def close(self) -> None:
        pass


def test_server_killed_during_media_upload_keeps_the_live_feed_and_resumes(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    live_feed = target.fetch("feed.xml")
    before = target.objects()
    new_slugs = add_episodes(target.show, 24)
    server = target.server

    class KillingReporter(cli_module.ClickReporter):
        """The CLI's own reporter, plus the fault: the upload batch of the media step kills the server."""

        armed = False

        def step(self, message: str) -> None:
            super().step(message)
            if message.startswith("Uploading media"):
                KillingReporter.armed = True

        def task(self, label: str, total: float, unit: str = "B") -> Task:
            if KillingReporter.armed and label.startswith("upload "):
                KillingReporter.armed = False
                return _KillOnFirstObject(server)
            return NullTask()

    with monkeypatch.context() as patch:
        patch.setattr(cli_module, "ClickReporter", KillingReporter)
        try:
            crashed = publish_cli(target.show)
            assert not server.running
        finally:
            server.start()
    assert crashed.exit_code == ExitCode.ERROR
    line = error_line(crashed)
    assert line.startswith(f"Error: {target.description}: ")
    assert ("cannot reach " + server.endpoint_url in line) or ("failed mid-request" in line), line
    # 24 episodes: each one's audio, its waveform peaks, its share card and its Opus alternate.
    assert "Uploading media: 96 files" in crashed.stderr and "Updating feed.xml" not in crashed.stderr

    assert target.fetch("feed.xml") == live_feed  # listeners still get the previous feed, unchanged
    after_crash = target.objects()
    assert {k: after_crash[k] for k in before} == before  # nothing that was live was touched
    landed = set(after_crash) - set(before)
    outputs = built(target.show)
    media = {k for k, o in outputs.items() if o.kind is Kind.MEDIA} - set(before)
    assert len(media) == 48 and landed <= media | {LOCK_KEY}  # 24 MP3s and their 24 Opus alternates
    assert landed & media  # the crash came after the first media object was stored

    resumed = publish_cli(target.show, "--format", "json")  # the lock the crash left is ours, and abandoned
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert re.search(
        rf"^Warning: took over the lock left by an interrupted publish \(pid {os.getpid()} on \S+, "
        r"\d+ s ago\)$",
        resumed.stderr,
        re.MULTILINE,
    ), resumed.stderr
    outcome = json.loads(resumed.stdout)
    needed = {k for k, o in outputs.items() if before.get(k, ("",))[0] != md5(data_of(o))}
    assert uploaded(outcome) == needed - landed  # nothing stored before the crash is sent again
    assert outcome["already_present"] == len(landed & media)
    assert sorted(outcome["new_episodes"]) == sorted(new_slugs)
    target.assert_matches(outputs)  # exactly the build: no duplicates, no strays, no lock
    target.assert_feed_valid()


class _LosingReporter(cli_module.ClickReporter):
    """The CLI's own reporter, plus the fault: at the step named `when`, the server loses `key`.

    A real SeaweedFS cannot be told to lose an object it stored, so the loss is a real DeleteObject on it,
    made at the exact point of the publish that a crash or restart of the server could hit.
    """

    target: Target
    key = ""
    when = ""
    losses = 0

    def step(self, message: str) -> None:
        super().step(message)
        cls = type(self)
        if cls.losses == 0 and message.startswith(cls.when):
            cls.losses += 1
            cls.target.server.admin.delete_object(Bucket=cls.target.bucket, Key=cls.target.prefix + cls.key)


@pytest.mark.parametrize(
    "when",
    ["Updating feed.xml", "Checking"],
    ids=["lost-once-the-feed-goes-up", "lost-after-it-was-stored"],
)
def test_an_enclosure_the_target_loses_mid_publish_is_sent_again_before_success(
    target: Target, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The target loses a new enclosure after the publish stored it (here: after the checkpoint, and just
    before the feed PUT, after the enclosure check had passed): the publish re-confirms the new enclosures
    once the feed is up, sends the lost one again, and only then reports success."""
    assert publish_cli(target.show).exit_code == ExitCode.OK
    add_episodes(target.show, 2)
    outputs = built(target.show)
    lost = next(k for k, o in outputs.items() if o.kind is Kind.MEDIA and "listener-question-02" in k)
    losing = type("Losing", (_LosingReporter,), {"target": target, "key": lost, "when": when, "losses": 0})
    with monkeypatch.context() as patch:
        patch.setattr(cli_module, "ClickReporter", losing)
        result = publish_cli(target.show, "--format", "json")
    assert losing.losses == 1  # the fault happened, at its step
    assert result.exit_code == ExitCode.OK, result.output
    outcome = json.loads(result.stdout)
    assert lost in uploaded(outcome)  # sent once in this publish's report, although twice on the wire
    target.assert_matches(outputs)  # the feed names nothing the target does not serve
    assert target.head(lost)["ContentLength"] == len(data_of(outputs[lost]))
    target.assert_feed_valid()


def _wrong_secret(server: ListenerServer) -> tuple[dict[str, str], str]:
    return (
        {
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        },
        "the secret access key does not match the access key id (check AWS_ACCESS_KEY_ID / "
        "AWS_SECRET_ACCESS_KEY or the AWS profile (credentials come only from the standard AWS chain))",
    )


def _unknown_key(server: ListenerServer) -> tuple[dict[str, str], str]:
    return (
        {
            "AWS_ACCESS_KEY_ID": "AKIA" + uuid.uuid4().hex[:16].upper(),
            "AWS_SECRET_ACCESS_KEY": uuid.uuid4().hex + uuid.uuid4().hex,
        },
        "the server does not know this access key id (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the "
        "AWS profile (credentials come only from the standard AWS chain))",
    )


@pytest.mark.parametrize("credentials", [_wrong_secret, _unknown_key], ids=["wrong-secret", "unknown-key-id"])
def test_bad_credentials_are_one_line_and_never_printed_even_with_debug(
    target: Target, credentials: Any
) -> None:
    env, message = credentials(target.server)
    secrets = {
        env["AWS_ACCESS_KEY_ID"],
        env["AWS_SECRET_ACCESS_KEY"],
        target.server.access_key,
        target.server.secret_key,
    }
    result = run("publish", "--show", target.show, "--now", NOW_ISO, env=env)
    assert result.exit_code == ExitCode.ERROR
    assert error_line(result) == f"Error: {target.description}: {message}"
    assert not any(value in result.output for value in secrets)
    # --debug shows the traceback: a real process, so everything it prints is seen.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "--debug",
            "publish",
            "--show",
            str(target.show),
            "--now",
            NOW_ISO,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and f"StorageError: {target.description}: {message}" in proc.stderr
    assert not any(value in proc.stdout or value in proc.stderr for value in secrets)
    assert target.objects() == {}


def test_missing_bucket_names_create_bucket_and_is_created_on_request(
    target: Target, s3_env: ListenerServer
) -> None:
    name = f"missing-{uuid.uuid4().hex[:12]}"
    set_publish(
        target.show,
        target="s3",
        bucket=name,
        prefix=PREFIX,
        region=s3_env.region,
        endpoint_url=s3_env.endpoint_url,
        public_base_url=s3_env.listener_url(name),
    )
    result = publish_cli(target.show)
    assert result.exit_code == ExitCode.ERROR
    assert error_line(result) == (
        f"Error: s3://{name}/podcast: bucket '{name}' does not exist (create it, or pass --create-bucket)"
    )
    assert name not in {b["Name"] for b in s3_env.admin.list_buckets()["Buckets"]}
    try:
        created = publish_cli(target.show, "--create-bucket")
        assert created.exit_code == ExitCode.OK, created.output
        s3_env.admin.put_bucket_policy(Bucket=name, Policy=public_read_policy(name))  # the host's part
        target.bucket = name
        target.assert_matches(built(target.show))
        target.assert_feed_valid()
    finally:
        s3_env.delete_bucket(name)


def test_read_only_bucket_fails_before_anything_changes(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"arn:aws:s3:::{target.bucket}/*"],
            },
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{target.bucket}/*"],
            },
        ],
    }
    target.server.admin.put_bucket_policy(Bucket=target.bucket, Policy=json.dumps(deny))
    before = target.state()
    live_feed = target.fetch("feed.xml")
    edit_notes(target.show, SHINS)
    result = publish_cli(target.show)
    assert result.exit_code == ExitCode.ERROR
    assert error_line(result).startswith(
        f"Error: {target.description}: access denied: cannot write .podcast/lock.json ("
    )
    assert target.state() == before and target.fetch("feed.xml") == live_feed


def test_feed_write_denied_midway_keeps_the_old_feed_and_a_rerun_finishes(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    live_feed = target.fetch("feed.xml")
    feed_arn = f"arn:aws:s3:::{target.bucket}/{PREFIX}feed.xml"
    deny_feed = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": ["s3:PutObject"], "Resource": [feed_arn]},
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{target.bucket}/*"],
            },
        ],
    }
    target.server.admin.put_bucket_policy(Bucket=target.bucket, Policy=json.dumps(deny_feed))
    replace_audio(target.show, SHINS)
    result = publish_cli(target.show)
    assert result.exit_code == ExitCode.ERROR
    assert error_line(result).startswith(
        f"Error: {target.description}: access denied: cannot write feed.xml ("
    )
    assert target.fetch("feed.xml") == live_feed
    outputs = built(target.show)
    new_media = next(
        k for k, o in outputs.items() if o.kind is Kind.MEDIA and k.startswith(f"episodes/{SHINS}/")
    )
    assert new_media in target.objects()  # media went first, and stays for the re-run
    target.server.admin.put_bucket_policy(Bucket=target.bucket, Policy=public_read_policy(target.bucket))
    outcome = publish_json(target.show)
    assert new_media not in uploaded(outcome)  # recorded after the media step: not sent again
    assert "feed.xml" in uploaded(outcome)
    assert target.fetch("feed.xml") == data_of(outputs["feed.xml"])
    target.assert_feed_valid()


# =========================================================================== S3: refusals


MISSING = (
    "was published and is missing from this build (draft, future date, deleted, or its slug/guid changed)"
)


def _missing(ep: EpisodeEntry) -> str:
    return f"episode '{ep.slug}' (guid {ep.guid}) {MISSING}"


def _change_date(show_yaml: Path, published: dict[str, EpisodeEntry]) -> list[str]:
    md = episode_md(show_yaml, KNEES)
    md.write_text(
        md.read_text().replace("date: 2025-03-04T07:00:00+00:00", "date: 2025-03-05T07:00:00+00:00")
    )
    ep = published[KNEES]
    # The date is in the audio's tags too, so the enclosure URL changes with it: that alone is allowed.
    return [
        f"episode '{KNEES}' (guid {ep.guid}): publication date would change from 2025-03-04T07:00:00+00:00 "
        "to 2025-03-05T07:00:00+00:00"
    ]


def _rename_slug(show_yaml: Path, published: dict[str, EpisodeEntry]) -> list[str]:
    episodes = show_yaml.parent / "episodes"
    (episodes / KNEES).rename(episodes / "knee-pain-in-runners")
    return [_missing(published[KNEES])]


def _drop_episode(show_yaml: Path, published: dict[str, EpisodeEntry]) -> list[str]:
    md = episode_md(show_yaml, SHINS)
    md.write_text(md.read_text().replace("---\n", "---\ndraft: true\n", 1))
    return [_missing(published[SHINS])]


def _change_channel_guid(show_yaml: Path, published: dict[str, EpisodeEntry]) -> list[str]:
    text = show_yaml.read_text()
    show_yaml.write_text(
        text.replace(
            "guid: 2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8", "guid: 0b9c7d43-46d8-5e0c-9d3c-0f2e4d9d1a11"
        )
    )
    # Episode GUIDs derive from the channel's, so every published episode vanishes too.
    return [
        "the channel's podcast:guid would change from 2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8 to "
        "0b9c7d43-46d8-5e0c-9d3c-0f2e4d9d1a11 (apps would treat it as a new show)",
        *(_missing(published[slug]) for slug in (KNEES, SHINS, RETURN)),
    ]


REFUSALS = {
    "date": _change_date,
    "slug": _rename_slug,
    "dropped": _drop_episode,
    "channel-guid": _change_channel_guid,
}


@pytest.mark.parametrize("change", sorted(REFUSALS))
def test_identity_changes_are_refused_listed_and_forced(target: Target, change: str) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    published = {e.slug: e for e in Manifest.from_json(target.get(MANIFEST_KEY), "test").episodes.values()}
    reasons = REFUSALS[change](target.show, published)
    before = target.state()

    refused = publish_cli(target.show)
    assert refused.exit_code == ExitCode.REFUSED
    line = error_line(refused)
    more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
    assert line.startswith(f"Error: {target.description}: refusing to publish: {reasons[0]}")
    assert line.endswith(f"{more} (run with --dry-run to see every reason; --force publishes anyway)")
    assert target.state() == before  # nothing uploaded, lock gone

    plan = publish_cli(target.show, "--dry-run")
    assert plan.exit_code == ExitCode.REFUSED
    refusals = [line for line in plan.stdout.splitlines() if line.startswith("  refuse  ")]
    assert len(refusals) == len(reasons)
    assert all(line.startswith("  refuse  " + why) for line, why in zip(refusals, reasons, strict=True))
    assert target.state() == before

    forced = publish_cli(target.show, "--force")
    assert forced.exit_code == ExitCode.OK, forced.output
    warnings = [line for line in forced.stderr.splitlines() if line.startswith("Warning: forced: ")]
    assert len(warnings) == len(reasons)
    assert all(
        line.startswith("Warning: forced: " + why) for line, why in zip(warnings, reasons, strict=True)
    )
    outputs = built(target.show)
    assert target.fetch("feed.xml") == data_of(outputs["feed.xml"])
    assert set(before) - {MANIFEST_KEY} <= set(target.objects())  # nothing deleted without --prune
    target.assert_feed_valid()


# =========================================================================== S3: prune, locks


def test_prune_deletes_stale_objects_and_keeps_old_media_for_one_more_publish(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    old = built(target.show)
    # The episode's MP3 and its Opus alternate: both made from the audio that is replaced below.
    old_media = sorted(
        k for k, o in old.items() if o.kind is Kind.MEDIA and k.startswith(f"episodes/{RETURN}/")
    )
    assert sorted(k.rsplit(".", 1)[-1] for k in old_media) == ["mp3", "opus"]
    (old_mp3,) = [k for k in old_media if k.endswith(".mp3")]
    replace_audio(target.show, RETURN)
    md = episode_md(target.show, KNEES)
    md.write_text(md.read_text().replace("transcript: transcript.vtt\n", ""))
    (
        md.parent / "transcript.vtt"
    ).unlink()  # a transcript.vtt beside episode.md is used even without the field
    transcripts = [f"episodes/{KNEES}/transcript.srt", f"episodes/{KNEES}/transcript.vtt"]
    # The old audio's waveform peaks are a page asset, not media apps download: no grace for them.
    stale = sorted([*transcripts, old_mp3.rsplit("/", 1)[0] + "/peaks.json"])

    plan = publish_cli(target.show, "--dry-run", "--prune")
    assert plan.exit_code == ExitCode.OK, plan.output
    assert [line.split()[-1] for line in plan.stdout.splitlines() if line.startswith("  delete ")] == stale
    grace = [line.split()[-1] for line in plan.stdout.splitlines() if line.startswith("  keep (grace) ")]
    assert grace == old_media  # the old alternate gets the enclosure's one-publish grace too
    assert set(stale) | set(old_media) <= set(target.objects())

    first = publish_json(target.show, "--prune")
    assert first["deleted"] == stale and first["kept_for_grace"] == old_media
    assert not set(stale) & set(target.objects())
    for key in old_media:  # apps holding the previous feed can still download them
        assert target.fetch(key) == data_of(old[key])
    target.assert_feed_valid()

    second = publish_json(target.show, "--prune")
    assert second["deleted"] == old_media and second["kept_for_grace"] == [] and second["uploaded"] == []
    target.assert_matches(built(target.show))
    manifest = Manifest.from_json(target.get(MANIFEST_KEY), "test")
    assert set(manifest.objects) == set(built(target.show))
    target.assert_feed_valid()


class _PauseAt(ListReporter):
    """Holds a publish running on a thread at one step until the test lets it go."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.at = step
        self.reached = threading.Event()
        self.go = threading.Event()

    def step(self, message: str) -> None:
        super().step(message)
        if message.startswith(self.at):
            self.reached.set()
            self.go.wait(60)


def test_second_publish_is_refused_while_one_runs_and_break_lock_takes_over(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    add_episodes(target.show, 1)
    first = build.build(target.show, now=NOW)  # publish A: one new episode
    pause = _PauseAt("Uploading media")
    failure: list[BaseException] = []

    def publish_a() -> None:
        try:
            publish.publish(
                first.show, first.outputs, first.public, publish.open_target(first.show), reporter=pause
            )
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=publish_a)
    thread.start()
    try:
        assert pause.reached.wait(60)
        edit_notes(target.show, KNEES)  # publish B: the same plus an edit
        locked = publish_cli(target.show)
        assert locked.exit_code == ExitCode.LOCKED
        line = error_line(locked)
        assert re.fullmatch(
            rf"Error: {re.escape(target.description)}: locked by podcast publish \(\S+@\S+\) on \S+ "
            rf"\(pid {os.getpid()}\) since \S+, \d+ s ago \(wait for that publish to finish; if it crashed, "
            r"pass --break-lock\)",
            line,
        ), line

        taken = publish_cli(target.show, "--break-lock")
        assert taken.exit_code == ExitCode.OK, taken.output
        assert any(
            line.startswith("Warning: broke the lock of podcast publish (")
            for line in taken.stderr.splitlines()
        )
        second = built(target.show)
        target.assert_matches(second)
        state = target.objects()
    finally:
        pause.go.set()
        thread.join(60)
    # A lost its lock: it may store its (content-addressed) media, but it stops before touching anything live.
    assert len(failure) == 1 and isinstance(failure[0], TargetLocked)
    assert "our publish lock was removed or taken over by another publish" in str(failure[0])
    assert target.objects() == state  # same keys and bytes: B's feed, pages and manifest are live
    target.assert_feed_valid()


def test_a_publish_landing_between_planning_and_locking_is_planned_against(target: Target) -> None:
    assert publish_cli(target.show).exit_code == ExitCode.OK
    edit_notes(target.show, KNEES)
    mine = build.build(target.show, now=NOW)  # plans with nothing to refuse...
    (added,) = add_episodes(target.show, 1)
    theirs = build.build(target.show, now=NOW)  # ...until this one publishes an episode mine lacks

    class RacedStorage(S3Storage):
        """The real target; the other publish runs just before ours takes the lock."""

        def acquire_lock(self, owner: str, **kw: Any) -> Any:
            publish.publish(theirs.show, theirs.outputs, theirs.public, publish.open_target(theirs.show))
            return super().acquire_lock(owner, **kw)

    store = RacedStorage(target.bucket, PREFIX, endpoint_url=target.server.endpoint_url, region="us-east-1")
    with pytest.raises(
        PublishRefused, match=rf"refusing to publish: episode '{added}' \(guid [0-9a-f-]+\) was "
    ):
        publish.publish(mine.show, mine.outputs, mine.public, store)
    target.assert_matches({o.key: o for o in theirs.outputs})  # theirs stands; ours changed nothing


# =========================================================================== the local default target


def test_local_default_target_publishes_to_public_and_reports_status(show: Path) -> None:
    public = show.parent / "public"
    result = publish_cli(show)
    assert result.exit_code == ExitCode.OK, result.output
    outputs = built(show)
    total = sum(len(data_of(o)) for o in outputs.values())
    assert result.stdout == (
        f"Published 3 episodes to folder {public}/: 3 new ({human.size(total)} uploaded), "
        "0 unchanged, feed updated.\n"
    )
    files = {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*") if p.is_file()}
    assert files == {**{k: data_of(o) for k, o in outputs.items()}, MANIFEST_KEY: files[MANIFEST_KEY]}
    assert {"feed.xml", "index.html", f"episodes/{KNEES}/index.html", "sitemap.xml"} <= set(files)
    assert sum(1 for k in files if k.endswith(".mp3")) == 3 + 1  # three episodes and one soundbite clip

    again = publish_json(show)
    assert again["uploaded"] == [] and again["feed_updated"] is False
    status = run("status", "--show", show, "--now", NOW_ISO)
    assert status.exit_code == ExitCode.OK
    assert status.stdout == f"folder {public}/: up to date ({len(outputs)} files).\n"

    edit_notes(show, SHINS)
    changed = built(show)
    status = run("status", "--show", show, "--now", NOW_ISO)
    lines = status.stdout.splitlines()
    page, feed = f"episodes/{SHINS}/index.html", "feed.xml"
    assert lines[0].startswith(f"folder {public}/: 2 file(s) differ (")
    assert lines[0].endswith(f"); {len(outputs) - 2} unchanged.")
    assert lines[1] == f"  changed episode  {SHINS}"
    assert [line.split()[-1] for line in lines[2:]] == [page, feed]
    assert (public / page).read_bytes() == data_of(outputs[page])  # status changes nothing
    outcome = publish_json(show)
    assert uploaded(outcome) == {page, feed}
    assert (public / page).read_bytes() == data_of(changed[page])
    assert not (public / LOCK_KEY).exists()


@pytest.fixture
def immutable_public(show: Path) -> Iterator[Path]:
    """The local target after one publish, then made unwritable for real (for root: chattr +i)."""
    public = show.parent / "public"
    assert publish_cli(show).exit_code == ExitCode.OK
    if os.geteuid() != 0:
        public.chmod(0o555)
        undo = ["chmod", "755", str(public)]
    else:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(public)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (chattr +i unavailable)")
        undo = [chattr, "-i", str(public)]
    try:
        with pytest.raises(PermissionError):
            (public / "probe").write_text("must fail")
        yield public
    finally:
        subprocess.run(undo, check=True)


def test_read_only_local_target_is_one_line_and_changes_nothing(show: Path, immutable_public: Path) -> None:
    def snapshot() -> dict[str, bytes]:
        return {
            p.relative_to(immutable_public).as_posix(): p.read_bytes()
            for p in immutable_public.rglob("*")
            if p.is_file()
        }

    before = snapshot()
    edit_notes(show, KNEES)
    result = publish_cli(show)
    assert result.exit_code == ExitCode.ERROR
    line = error_line(result)
    assert line.startswith(f"Error: folder {immutable_public}/: cannot write: ")
    assert "publish to another folder" in line
    assert snapshot() == before
