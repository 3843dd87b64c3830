"""The target is checked, not trusted (issue 14 item 1): what a publish finds lost or damaged it repairs.

Against a real local folder and a real SeaweedFS: a hand-deleted feed, enclosure or page, a truncated
enclosure and same-size corruption; temp files a killed publish left; a lock read while it is being written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result

from pipeline import build, publish
from pipeline.cli import cli
from pipeline.errors import ExitCode, TargetLocked
from pipeline.manifest import MANIFEST_KEY, Kind, Output
from pipeline.storage import LOCK_KEY, LocalStorage, S3Storage
from tests.conftest import NOW

if TYPE_CHECKING:
    from tests._s3_fixtures import SeaweedServer

pytest_plugins = ["tests._s3_fixtures"]  # s3_server, s3_env, bucket

NOW_ISO = NOW.isoformat()
PREFIX = "show/"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def show(warm_show: Path) -> Path:
    """The sample show with its encodes already cached (tests/conftest.py)."""
    return warm_show


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def publish_json(show_yaml: Path, *extra: str) -> dict[str, Any]:
    result = run("publish", "--show", show_yaml, "--now", NOW_ISO, "--format", "json", *extra)
    assert result.exit_code == ExitCode.OK, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout)


def status_json(show_yaml: Path, *extra: str) -> dict[str, Any]:
    result = run("status", "--show", show_yaml, "--now", NOW_ISO, "--format", "json", *extra)
    assert result.exit_code == ExitCode.OK, result.output
    return json.loads(result.stdout)


def outputs(show_yaml: Path) -> dict[str, Output]:
    return {o.key: o for o in build.build(show_yaml, now=NOW).outputs}


def data_of(o: Output) -> bytes:
    return o.data.read_bytes() if isinstance(o.data, Path) else bytes(o.data)


def newest_enclosure(show_yaml: Path) -> str:
    public = build.build(show_yaml, now=NOW).public
    return max(public, key=lambda b: (b.episode.date, b.episode.slug)).audio.key


def oldest_enclosure(show_yaml: Path) -> str:
    public = build.build(show_yaml, now=NOW).public
    return min(public, key=lambda b: (b.episode.date, b.episode.slug)).audio.key


def a_page(show_yaml: Path) -> str:
    return next(k for k, o in outputs(show_yaml).items() if o.kind is Kind.PAGE and k.endswith("index.html"))


def repaired(outcome: dict[str, Any]) -> set[str]:
    return {d["key"] for d in outcome["repaired"]}


# =========================================================================== a local folder


def published_folder(show_yaml: Path) -> Path:
    first = publish_json(show_yaml)
    assert first["repaired"] == [] and first["feed_updated"] is True
    return show_yaml.parent / "public"


def assert_folder_matches(folder: Path, show_yaml: Path) -> None:
    """Every output is in the folder byte for byte, and the next publish has nothing to do."""
    for key, o in outputs(show_yaml).items():
        assert (folder / key).read_bytes() == data_of(o), key
    again = publish_json(show_yaml)
    assert again["uploaded"] == [] and again["repaired"] == [] and again["feed_updated"] is False
    assert status_json(show_yaml, "--verify")["in_sync"] is True


def _delete(path: Path) -> None:
    path.unlink()


def _truncate(path: Path) -> None:
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 3)


@pytest.mark.parametrize(
    ("what", "damage", "problem"),
    [
        ("feed", _delete, "missing"),
        ("enclosure", _delete, "missing"),
        ("page", _delete, "missing"),
        ("enclosure", _truncate, "bytes, expected"),
    ],
    ids=["deleted-feed", "deleted-enclosure", "deleted-page", "truncated-enclosure"],
)
def test_local_lost_object_is_seen_by_status_and_repaired_by_the_next_publish(
    show: Path, what: str, damage: Any, problem: str
) -> None:
    folder = published_folder(show)
    key = {"feed": "feed.xml", "enclosure": newest_enclosure(show), "page": a_page(show)}[what]
    damage(folder / key)

    state = status_json(show)  # the cheap check runs without --verify
    assert state["in_sync"] is False
    assert [d["key"] for d in state["damaged"]] == [key]
    assert problem in state["damaged"][0]["problem"]
    assert key in {u["key"] for u in state["to_upload"]}

    outcome = publish_json(show)
    assert repaired(outcome) == {key}
    assert [u["key"] for u in outcome["uploaded"]] == [key]
    assert "repaired" in outcome["summary"]
    assert_folder_matches(folder, show)


def test_local_repair_keeps_the_safe_order_media_pages_then_feed(show: Path) -> None:
    folder = published_folder(show)
    keys = ["feed.xml", newest_enclosure(show), a_page(show)]
    for key in keys:
        (folder / key).unlink()
    outcome = publish_json(show)
    order = [u["key"] for u in outcome["uploaded"]]
    assert set(order) == set(keys)
    assert order.index(keys[1]) < order.index(keys[2]) < order.index("feed.xml")
    assert_folder_matches(folder, show)


def test_local_same_size_corruption_needs_verify_which_repairs_it(show: Path) -> None:
    folder = published_folder(show)
    key = oldest_enclosure(show)
    path = folder / key
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes: a stat cannot see it
    path.write_bytes(bytes(data))

    assert publish_json(show)["repaired"] == []  # the cheap check compares sizes only
    state = status_json(show, "--verify")
    assert state["verified"] is True and state["in_sync"] is False
    assert state["damaged"] == [{"key": key, "problem": "its bytes differ from the published ones"}]
    assert path.read_bytes() == bytes(data)  # status changes nothing

    outcome = publish_json(show, "--verify")
    assert repaired(outcome) == {key}
    assert_folder_matches(folder, show)


def test_local_temp_files_of_a_killed_publish_are_swept_by_the_next_publish(show: Path) -> None:
    folder = published_folder(show)
    page = a_page(show)
    left = [
        ".feed.xml.0123abcd.podcast-tmp",  # the pattern LocalStorage._write_atomic writes
        str(Path(page).parent / ".index.html.89abcdef.podcast-tmp"),
    ]
    for rel in left:
        (folder / rel).write_bytes(b"half a file")
    unrelated = folder / "notes.podcast-tmp.txt"  # not ours: left alone
    unrelated.write_bytes(b"keep")

    store = LocalStorage(folder)
    assert store.temp_files() == tuple(sorted(left))
    outcome = publish_json(show)
    assert sorted(outcome["swept"]) == sorted(left)
    assert outcome["uploaded"] == []  # nothing else to do, but the sweep ran under the lock
    assert [p for p in folder.rglob("*") if p.name.endswith(".podcast-tmp")] == []
    assert unrelated.read_bytes() == b"keep"
    assert not (folder / LOCK_KEY).exists()
    assert publish_json(show)["swept"] == []


def test_local_lock_being_written_reads_as_held_never_unreadable(tmp_path: Path) -> None:
    """A lock is visible only once complete: a publish racing a slow lock write sees it held."""
    store = LocalStorage(tmp_path / "public")
    store.ensure_ready()
    lock_path = tmp_path / "public" / LOCK_KEY
    big_owner = "podcast publish " + "x" * (16 * 1024 * 1024)  # a write that takes a while
    result: dict[str, Any] = {}

    def take() -> None:
        result["lock"] = store.acquire_lock(big_owner)

    writer = threading.Thread(target=take)
    writer.start()
    deadline = time.monotonic() + 60
    while not lock_path.exists() and writer.is_alive() and time.monotonic() < deadline:
        pass
    seen: list[str] = []
    try:
        if lock_path.exists():
            with pytest.raises(TargetLocked) as err:
                store.acquire_lock("the other publish")
            seen.append(str(err.value))
    finally:
        writer.join()
    assert seen, "the lock appeared only after the writer finished"
    assert "unreadable" not in seen[0]
    assert "locked by podcast publish" in seen[0]
    assert result["lock"].release()


def test_local_unreadable_lock_is_still_reported_after_a_settle(tmp_path: Path) -> None:
    """A lock that stays garbage (not one being written) is called unreadable, naming --break-lock."""
    store = LocalStorage(tmp_path / "public")
    store.ensure_ready()
    (tmp_path / "public" / LOCK_KEY).parent.mkdir(parents=True)
    (tmp_path / "public" / LOCK_KEY).write_bytes(b'{"owner": "half')
    with pytest.raises(TargetLocked) as err:
        store.acquire_lock("me")
    assert "unreadable" in str(err.value) and "--break-lock" in (err.value.hint or "")


# =========================================================================== SeaweedFS


@pytest.fixture
def s3_show(s3_env: SeaweedServer, bucket: str, show: Path) -> Path:
    text = show.read_text()
    head, _, _rest = text.partition("\npublish:")
    show.write_text(
        head.rstrip("\n") + "\npublish:\n"
        "  target: s3\n"
        f"  bucket: {bucket}\n"
        f"  prefix: {PREFIX}\n"
        f"  region: {s3_env.region}\n"
        f"  endpoint_url: {s3_env.endpoint_url}\n"
        # The feed's podcast: URLs must be https (the validator gate); these tests read the bucket with
        # credentials, so listeners' anonymous reads are not what they check.
        "  public_base_url: https://media.stride-clinic.example.com/podcast/\n"
        "  public_read: false\n"
    )
    first = publish_json(show)
    assert first["feed_updated"] is True
    return show


def objects(server: SeaweedServer, bucket: str) -> dict[str, bytes]:
    found = {}
    for page in server.admin.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX):
        for o in page.get("Contents", []):
            key = o["Key"][len(PREFIX) :]
            found[key] = server.admin.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return found


def assert_bucket_matches(server: SeaweedServer, bucket: str, show_yaml: Path) -> None:
    stored = objects(server, bucket)
    for key, o in outputs(show_yaml).items():
        assert stored.get(key) == data_of(o), key
    assert MANIFEST_KEY in stored and LOCK_KEY not in stored
    assert status_json(show_yaml, "--verify")["in_sync"] is True


@pytest.mark.parametrize("what", ["feed", "newest-enclosure"])
def test_s3_cheap_check_catches_a_deleted_feed_or_newest_enclosure(
    s3_env: SeaweedServer, bucket: str, s3_show: Path, what: str
) -> None:
    key = "feed.xml" if what == "feed" else newest_enclosure(s3_show)
    s3_env.admin.delete_object(Bucket=bucket, Key=PREFIX + key)
    assert [d["key"] for d in status_json(s3_show)["damaged"]] == [key]
    outcome = publish_json(s3_show)  # no --verify
    assert repaired(outcome) == {key}
    assert [u["key"] for u in outcome["uploaded"]] == [key]
    assert_bucket_matches(s3_env, bucket, s3_show)


def test_s3_noop_publish_checks_only_a_handful_of_objects(s3_env: SeaweedServer, s3_show: Path) -> None:
    result = build.build(s3_show, now=NOW)
    store = publish.open_target(result.show)
    assert isinstance(store, S3Storage)
    calls: list[tuple[str, str]] = []
    store._client().meta.events.register(
        "before-parameter-build.s3",
        lambda model, params, **_: calls.append((model.name, str(params.get("Key", ""))[len(PREFIX) :])),
    )
    outcome = publish.publish(result.show, result.outputs, result.public, store)
    assert outcome.uploads == () and outcome.repaired == ()
    heads = sorted(key for op, key in calls if op == "HeadObject")
    newest = sorted(result.public, key=lambda b: b.episode.date, reverse=True)[: publish.CHEAP_ENCLOSURES]
    assert heads == sorted(["feed.xml", *(b.audio.key for b in newest)])
    assert "PutObject" not in {op for op, _ in calls}
    assert sum(op == "ListObjectsV2" for op, _ in calls) == 1  # ensure_ready's one-key probe only


@pytest.mark.parametrize(
    "what", ["deleted-page", "deleted-old-enclosure", "truncated-old-enclosure", "same-size-old-enclosure"]
)
def test_s3_verify_finds_and_repairs_what_the_cheap_check_does_not_look_at(
    s3_env: SeaweedServer, bucket: str, s3_show: Path, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample show has 3 episodes, all among the newest the cheap check HEADs; check only the newest.
    monkeypatch.setattr(publish, "CHEAP_ENCLOSURES", 1)
    key = a_page(s3_show) if what == "deleted-page" else oldest_enclosure(s3_show)
    assert key != newest_enclosure(s3_show)
    full = PREFIX + key
    if what.startswith("deleted"):
        s3_env.admin.delete_object(Bucket=bucket, Key=full)
    else:
        data = bytearray(s3_env.admin.get_object(Bucket=bucket, Key=full)["Body"].read())
        if what.startswith("truncated"):
            del data[len(data) // 2 :]
        else:
            data[len(data) // 2] ^= 0xFF
        s3_env.admin.put_object(Bucket=bucket, Key=full, Body=bytes(data), ContentType="audio/mpeg")

    assert publish_json(s3_show)["repaired"] == []  # not among the cheap checks
    state = status_json(s3_show, "--verify")
    assert [d["key"] for d in state["damaged"]] == [key]
    assert state["in_sync"] is False

    outcome = publish_json(s3_show, "--verify")
    assert repaired(outcome) == {key}
    assert [u["key"] for u in outcome["uploaded"]] == [key]
    assert_bucket_matches(s3_env, bucket, s3_show)


def test_s3_concurrent_lock_loser_reads_held_never_unreadable(s3_env: SeaweedServer, bucket: str) -> None:
    """Rounds of two publishes taking the lock at once: one wins, the other is told who holds it."""
    messages: list[str] = []
    for round_no in range(5):
        stores = [
            S3Storage(bucket, f"race{round_no}", region=s3_env.region, endpoint_url=s3_env.endpoint_url)
            for _ in range(2)
        ]
        for store in stores:
            store.ensure_ready()
        barrier = threading.Barrier(2)
        won: list[Any] = []
        lost: list[str] = []

        def take(
            store: S3Storage,
            name: str,
            barrier: threading.Barrier = barrier,
            won: list[Any] = won,
            lost: list[str] = lost,
        ) -> None:
            barrier.wait()
            try:
                won.append(store.acquire_lock(name))
            except TargetLocked as err:
                lost.append(str(err))

        threads = [threading.Thread(target=take, args=(s, f"publisher {i}")) for i, s in enumerate(stores)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1 and len(lost) == 1, (won, lost)
        messages += lost
        assert won[0].release()
    assert all("unreadable" not in m and "locked by publisher" in m for m in messages), messages


# =========================================================================== an unchanged show: no model, no build

# What the process loaded: BUILT (the build ran), SKIPPED (neither the build nor the model, pydantic or
# YAML was imported), or LOADED <modules> (no build, but something on the no-op path is not lazy).
_PROBE = (
    "import atexit, sys\n"
    "def verdict():\n"
    "    heavy = [m for m in ('pipeline.model', 'pydantic', 'yaml', 'mutagen') if m in sys.modules]\n"
    "    built = 'pipeline.build' in sys.modules\n"
    "    print('BUILT' if built else 'LOADED ' + ','.join(heavy) if heavy else 'SKIPPED', file=sys.stderr)\n"
    "atexit.register(verdict)\n"
    "from pipeline.cli import main\n"
    "main()\n"
)


def publish_process(show_yaml: Path, *extra: str) -> tuple[str, str]:
    """`podcast publish` as a fresh process: (its summary line, whether it loaded the build)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, "publish", "--show", str(show_yaml), "--now", NOW_ISO, "-q", *extra],
        capture_output=True,
        text=True,
        cwd=show_yaml.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip(), proc.stderr.strip().splitlines()[-1]


def test_unchanged_show_publishes_without_loading_the_model_or_building(show: Path) -> None:
    assert publish.CACHE_DIR == build.CACHE_DIR and publish.BUILD_DIR == build.BUILD_DIR
    first, how = publish_process(show)
    assert how == "BUILT" and "feed updated" in first
    noop, how = publish_process(show)
    assert how == "SKIPPED"  # the first publish recorded what it left; nothing changed since
    assert noop == f"Published 3 episodes to folder {show.parent / 'public'}/: 3 unchanged, feed unchanged."

    # An edited source, a hand-deleted feed, a changed build folder: each takes the usual way again.
    md = show.parent / "episodes" / "why-your-knees-hurt-when-you-run" / "episode.md"
    md.write_text(md.read_text() + "\nOne more line.\n")
    edited, how = publish_process(show)
    assert how == "BUILT" and "1 changed" in edited and "feed updated" in edited
    assert publish_process(show) == (noop, "SKIPPED")

    (show.parent / "public" / "feed.xml").unlink()
    repaired_line, how = publish_process(show)
    assert how == "BUILT" and "repaired" in repaired_line
    assert (show.parent / "public" / "feed.xml").read_bytes() == data_of(outputs(show)["feed.xml"])
    assert publish_process(show) == (noop, "SKIPPED")

    shutil.rmtree(show.parent / build.BUILD_DIR)
    assert publish_process(show)[1] == "BUILT"
    assert (show.parent / build.BUILD_DIR / "feed.xml").exists()


def test_unchanged_fast_path_honours_the_clock_and_the_options(show: Path) -> None:
    publish_process(show)
    publish_process(show)
    assert publish_process(show)[1] == "SKIPPED"
    assert publish_process(show, "--dry-run")[1] == "BUILT"
    assert publish_process(show, "--verify")[1] == "BUILT"
    # A scheduled episode: the record says when the build would change, and then it is not used.
    import datetime as dt

    episodes = show.parent / "episodes"
    (episodes / "next-week").mkdir()
    shutil.copyfile(
        episodes / "coming-back-after-a-running-injury" / "audio.mp3", episodes / "next-week" / "audio.mp3"
    )
    when = NOW + dt.timedelta(days=7)
    (episodes / "next-week" / "episode.md").write_text(
        f"---\ntitle: Next week\ndate: {when.isoformat()}\naudio: audio.mp3\n---\nSoon.\n"
    )
    publish_process(show)
    assert publish_process(show)[0].endswith("3 unchanged, feed unchanged.")
    assert publish_process(show)[1] == "SKIPPED"
    later = (when + dt.timedelta(hours=1)).isoformat()
    line, how = publish_process(show, "--now", later)
    assert how == "BUILT" and "1 new" in line and "feed updated" in line


# Whether the process imported botocore, printed last on stderr.
_BOTO_PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('BOTO' if 'botocore' in sys.modules else 'NO-BOTO', file=sys.stderr))\n"
    "from pipeline.cli import main\n"
    "main()\n"
)


def publish_s3_process(show_yaml: Path, **env: str) -> tuple[int, str, str]:
    """`podcast publish -q` as a fresh process: (exit code, stdout, stderr)."""
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _BOTO_PROBE, "publish", "--show", str(show_yaml), "--now", NOW_ISO, "-q"],
        capture_output=True,
        text=True,
        cwd=show_yaml.parent,
        check=False,
        env={**os.environ, **env},
    )
    return proc.returncode, proc.stdout.strip(), proc.stderr.strip()


def test_s3_unchanged_publish_checks_the_target_without_boto3(
    s3_env: SeaweedServer, bucket: str, s3_show: Path
) -> None:
    unchanged = f"Published 3 episodes to s3://{bucket}/show: 3 unchanged, feed unchanged."
    assert publish_s3_process(s3_show)[:2] == (0, unchanged)  # as a process: its record is written
    assert publish_s3_process(s3_show) == (0, unchanged, "NO-BOTO")

    # What the target answers still decides: a deleted feed is seen (by the HEAD without boto3) and sent.
    s3_env.admin.delete_object(Bucket=bucket, Key=PREFIX + "feed.xml")
    code, out, err = publish_s3_process(s3_show)
    assert (code, err.splitlines()[-1]) == (0, "BOTO") and "repaired" in out
    assert publish_s3_process(s3_show) == (0, unchanged, "NO-BOTO")

    # A setting the small reader does not interpret: boto3 reads the target (still no build).
    assert publish_s3_process(s3_show, AWS_S3_US_EAST_1_REGIONAL_ENDPOINT="regional") == (
        0,
        unchanged,
        "BOTO",
    )

    # An answer that is not plain (403): boto3 asks again and words the error, with no secret in it.
    wrong = "W" * 40
    code, out, err = publish_s3_process(s3_show, AWS_SECRET_ACCESS_KEY=wrong)
    assert code != 0 and "the secret access key does not match the access key id" in err
    assert wrong not in err + out and "Traceback" not in err


@pytest.mark.parametrize("size_mib", [1, 12])
def test_s3_holds_compares_etags_of_single_and_multipart_uploads(
    s3_env: SeaweedServer, bucket: str, tmp_path: Path, size_mib: int
) -> None:
    """`holds` recognises what this storage uploaded (one PUT, or 5 MiB parts) and tells other bytes apart."""
    import os

    from pipeline.storage import MiB

    store = S3Storage(
        bucket,
        "etag",
        region=s3_env.region,
        endpoint_url=s3_env.endpoint_url,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
    )
    path = tmp_path / "a.bin"
    path.write_bytes(os.urandom(size_mib * MiB))
    store.put("a.bin", path, content_type="application/octet-stream", cache_control="no-cache")
    (info,) = list(store.list("a.bin"))
    assert info.etag is not None
    assert ("-" in info.etag) == (size_mib > 5)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.holds(info, path, sha)
    other = bytearray(path.read_bytes())
    other[-1] ^= 0xFF
    assert not store.holds(info, bytes(other), hashlib.sha256(other).hexdigest())
