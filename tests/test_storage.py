"""Storage against a real SeaweedFS and a real folder: round trips, batches, multipart, locks, clear errors."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import subprocess
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import botocore.exceptions
import pytest

from pipeline.errors import ExitCode, StorageError, TargetLocked
from pipeline.progress import ListReporter, Task
from pipeline.storage import (
    LOCK_KEY,
    LocalStorage,
    LockInfo,
    MiB,
    ObjectInfo,
    PutItem,
    S3Storage,
    Storage,
    human_age,
    open_storage,
)

if TYPE_CHECKING:
    from tests._s3_fixtures import SeaweedServer

pytest_plugins = ["tests._s3_fixtures"]  # s3_server, s3_env, bucket

# -- helpers ----------------------------------------------------------------------------------------


class _CountingTask:
    def __init__(self, reporter: CountingReporter, label: str) -> None:
        self.reporter = reporter
        self.label = label

    def advance(self, amount: float) -> None:
        self.reporter.advanced[self.label] = self.reporter.advanced.get(self.label, 0) + amount

    def update(self, done: float) -> None:
        self.reporter.advanced[self.label] = done

    def close(self) -> None:
        self.reporter.closed.append(self.label)


class CountingReporter(ListReporter):
    """A ListReporter whose tasks add up what they were advanced by."""

    def __init__(self) -> None:
        super().__init__()
        self.advanced: dict[str, float] = {}
        self.closed: list[str] = []

    def task(self, label: str, total: float, unit: str = "B") -> Task:
        super().task(label, total, unit)
        return _CountingTask(self, label)


def s3_storage(
    server: SeaweedServer, bucket_name: str, prefix: str | None = "show", **options: object
) -> S3Storage:
    return S3Storage(bucket_name, prefix, endpoint_url=server.endpoint_url, region=server.region, **options)  # type: ignore[arg-type]


def error_chain(err: BaseException) -> list[BaseException]:
    """The exception and everything reachable through __cause__ and __context__."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([e.__cause__, e.__context__])
    return seen


def assert_clear(
    err: StorageError, *, target: str, says: str, hint: str = "", secrets: tuple[str, ...] = ()
) -> None:
    """One line naming the target, no botocore exception anywhere in the chain, no secret in any rendering."""
    text = str(err)
    assert "\n" not in text, text
    assert text.startswith(f"{target}: "), text
    assert says in text, text
    assert hint in err.hint, err.hint
    chain = error_chain(err)
    assert not [
        e for e in chain if isinstance(e, botocore.exceptions.ClientError | botocore.exceptions.BotoCoreError)
    ]
    rendered = "".join(traceback.format_exception(err)) + repr(err) + "".join(repr(e) for e in chain)
    assert "Traceback" in rendered  # we did render the whole chain
    for secret in secrets:
        assert secret not in rendered


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def write_lock(store: Storage, *, owner: str = "old publish", age: timedelta = timedelta(0)) -> LockInfo:
    created = (datetime.now(UTC) - age).isoformat(timespec="seconds")
    info = LockInfo(owner, "builder-7", 4242, created, "t" * 32)
    store.put(LOCK_KEY, info.to_json(), content_type="application/json", cache_control="no-store")
    return info


# -- both targets: the Storage contract ---------------------------------------------------------------


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        local = LocalStorage(tmp_path / "public")
        local.ensure_ready(create=True)
        return local
    server: SeaweedServer = request.getfixturevalue("s3_env")
    remote = s3_storage(server, request.getfixturevalue("bucket"))
    remote.ensure_ready()
    return remote


def test_put_get_head_list_delete_round_trip(store: Storage, tmp_path: Path) -> None:
    media = tmp_path / "knees.mp3"
    media.write_bytes(b"\xff\xfb" + os.urandom(5000))
    store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="max-age=300")
    store.put(
        "episodes/knees/ab/knees.mp3",
        media,
        content_type="audio/mpeg",
        cache_control="public, max-age=31536000, immutable",
    )

    assert store.get("feed.xml") == b"<rss/>"
    assert store.get("episodes/knees/ab/knees.mp3") == media.read_bytes()
    info = store.head("episodes/knees/ab/knees.mp3")
    assert info is not None
    assert (info.key, info.size) == ("episodes/knees/ab/knees.mp3", 5002)
    assert [(o.key, o.size) for o in store.list()] == [("episodes/knees/ab/knees.mp3", 5002), ("feed.xml", 6)]
    assert [o.key for o in store.list("episodes/")] == ["episodes/knees/ab/knees.mp3"]
    assert [o.key for o in store.list("episodes/kn")] == ["episodes/knees/ab/knees.mp3"]
    assert list(store.list("nothing/")) == []

    store.put("feed.xml", b"<rss>v2</rss>", content_type="application/rss+xml", cache_control="max-age=300")
    assert store.get("feed.xml") == b"<rss>v2</rss>"

    store.delete(["feed.xml", "never-existed.txt"])
    assert store.get("feed.xml") is None
    assert store.head("feed.xml") is None
    assert [o.key for o in store.list()] == ["episodes/knees/ab/knees.mp3"]


def test_empty_objects_round_trip(store: Storage) -> None:
    store.put_many(
        [PutItem(f"e/{i}.txt", b"" if i % 2 else b"x", "text/plain", "no-cache") for i in range(10)]
    )
    store.put("robots.txt", b"", content_type="text/plain", cache_control="no-cache")
    assert store.get("robots.txt") == b""
    assert store.head("robots.txt") is not None
    assert {o.key: o.size for o in store.list("e/")} == {f"e/{i}.txt": 0 if i % 2 else 1 for i in range(10)}


def test_missing_objects_are_none(store: Storage) -> None:
    assert store.get("episodes/none/index.html") is None
    assert store.head("episodes/none/index.html") is None
    assert store.get(".podcast/manifest.json") is None


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "../up", "a/./b", "a\\b", "dir/"])
def test_invalid_keys_are_refused(store: Storage, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        store.put(key, b"x", content_type="text/plain", cache_control="no-cache")


def test_put_many_stores_200_objects_and_reports_bytes(store: Storage) -> None:
    items = [
        PutItem(
            f"episodes/ep{i:03d}/index.html",
            f"<html>{i}</html>".encode() * (i + 1),
            "text/html",
            "max-age=60",
        )
        for i in range(200)
    ]
    reporter = CountingReporter()
    store.put_many(items, reporter=reporter)

    listed = {o.key: o.size for o in store.list("episodes/")}
    assert listed == {item.key: len(item.data) for item in items}  # type: ignore[arg-type]
    for item in items[::37]:
        assert store.get(item.key) == item.data
    total = sum(len(item.data) for item in items)  # type: ignore[arg-type]
    assert reporter.tasks == [("upload 200 objects", total, "B")]
    assert reporter.advanced == {"upload 200 objects": total}
    assert reporter.closed == ["upload 200 objects"]


def test_put_many_of_nothing_does_nothing(store: Storage) -> None:
    reporter = CountingReporter()
    store.put_many([], reporter=reporter)
    assert reporter.tasks == []


def test_put_many_with_a_missing_file_fails_before_uploading(store: Storage, tmp_path: Path) -> None:
    items = [
        PutItem("a.txt", b"a", "text/plain", "no-cache"),
        PutItem("b.mp3", tmp_path / "gone.mp3", "audio/mpeg", "no-cache"),
    ]
    with pytest.raises(StorageError) as info:
        store.put_many(items)
    assert "cannot read the file to upload" in str(info.value)
    assert "gone.mp3" in str(info.value)
    assert store.get("a.txt") is None


def test_lock_is_exclusive_and_names_the_holder(store: Storage) -> None:
    lock = store.acquire_lock("podcast publish (alice)")
    assert lock.owner == "podcast publish (alice)"
    assert lock.replaced is None
    held = LockInfo.from_json(store.get(LOCK_KEY) or b"")
    assert held is not None
    assert (held.owner, held.pid, held.host) == ("podcast publish (alice)", os.getpid(), socket.gethostname())

    with pytest.raises(TargetLocked) as info:
        store.acquire_lock("podcast publish (bob)")
    err = info.value
    assert err.exit_code == ExitCode.LOCKED
    text = str(err)
    assert text.startswith(
        f"{store.description}: locked by podcast publish (alice) on {socket.gethostname()} "
    )
    assert f"since {held.created}, " in text
    assert " s ago" in text  # its age
    assert "--break-lock" in err.hint
    assert "\n" not in text

    lock.check()  # still ours
    assert lock.release() is True
    assert store.get(LOCK_KEY) is None
    assert lock.release() is False  # idempotent
    with store.acquire_lock("podcast publish (bob)") as again:
        assert again.owner == "podcast publish (bob)"
    assert store.get(LOCK_KEY) is None


def test_lock_age_is_in_the_message(store: Storage) -> None:
    write_lock(store, owner="ci #12", age=timedelta(minutes=12, seconds=5))
    with pytest.raises(TargetLocked) as info:
        store.acquire_lock("me")
    assert "locked by ci #12 on builder-7 (pid 4242)" in str(info.value)
    assert "12 min ago" in str(info.value)


def test_break_lock_replaces_a_held_lock(store: Storage) -> None:
    first = store.acquire_lock("crashed publish")
    second = store.acquire_lock("rescue", break_lock=True)
    assert second.replaced is not None
    assert second.replaced.owner == "crashed publish"
    assert second.replaced.token == first.info.token

    with pytest.raises(TargetLocked, match="taken over by another publish"):
        first.check()
    assert first.release() is False  # it is not ours any more: the rescuer's lock stays
    assert LockInfo.from_json(store.get(LOCK_KEY) or b"") == second.info
    assert second.release() is True


def test_stale_lock_is_replaced_but_only_when_old_enough(store: Storage) -> None:
    old = write_lock(store, age=timedelta(hours=2))
    with pytest.raises(TargetLocked, match="2 h 0 min ago"):
        store.acquire_lock("me", stale_after=None)  # never stale
    with pytest.raises(TargetLocked):
        store.acquire_lock("me", stale_after=3 * 3600)
    lock = store.acquire_lock("me", stale_after=3600)
    assert lock.replaced == old
    lock.release()


def test_unreadable_lock_refuses_until_broken(store: Storage) -> None:
    store.put(LOCK_KEY, b"{garbage", content_type="application/json", cache_control="no-store")
    with pytest.raises(TargetLocked) as info:
        store.acquire_lock("me")
    assert "the lock file .podcast/lock.json is unreadable" in str(info.value)
    lock = store.acquire_lock("me", break_lock=True)
    assert lock.replaced is None
    lock.release()


def test_lock_released_on_error_inside_with(store: Storage) -> None:
    with pytest.raises(RuntimeError), store.acquire_lock("me"):
        raise RuntimeError("publish failed")
    assert store.get(LOCK_KEY) is None


# -- S3 specifics ----------------------------------------------------------------------------------


def test_s3_keeps_content_type_and_cache_control_under_its_prefix(s3_env: SeaweedServer, bucket: str) -> None:
    store = s3_storage(s3_env, bucket, "/shows/knees/")
    assert store.description == f"s3://{bucket}/shows/knees"
    store.put(
        "feed.xml", b"<rss/>", content_type="application/rss+xml; charset=utf-8", cache_control="max-age=300"
    )
    info = store.head("feed.xml")
    assert info == ObjectInfo(
        "feed.xml", 6, "application/rss+xml; charset=utf-8", hashlib.md5(b"<rss/>").hexdigest(), "max-age=300"
    )

    raw = s3_env.admin
    got = raw.get_object(Bucket=bucket, Key="shows/knees/feed.xml")
    assert (got["ContentType"], got["CacheControl"]) == ("application/rss+xml; charset=utf-8", "max-age=300")
    raw.put_object(Bucket=bucket, Key="shows/other/feed.xml", Body=b"not ours")
    raw.put_object(Bucket=bucket, Key="shows/knees-2/feed.xml", Body=b"not ours either")
    assert [o.key for o in store.list()] == ["feed.xml"]


def test_small_puts_do_not_wait_for_100_continue(s3_env: SeaweedServer, bucket: str) -> None:
    # A zero-byte PUT with "Expect: 100-continue" leaves SeaweedFS's kept-alive connection hanging.
    store = s3_storage(s3_env, bucket)
    sent: list[tuple[str, str | None]] = []
    store._client().meta.events.register(
        "before-send.s3", lambda request, **_: sent.append((request.method, request.headers.get("Expect")))
    )
    store.put("empty.txt", b"", content_type="text/plain", cache_control="no-cache")
    store.put("one.txt", b"1", content_type="text/plain", cache_control="no-cache")
    assert sent == [("PUT", None), ("PUT", None)]


def test_endpoint_rules_are_evaluated_once_for_many_keys(s3_env: SeaweedServer, bucket: str) -> None:
    """One endpoint rule-set evaluation per bucket serves every key, seen through botocore's public events.

    Each call's `before-call` event carries the request context, whose `endpoint_properties` is the
    rule set's answer: a fresh evaluation builds a new one, a cached answer is the same object again.
    `before-endpoint-resolution` and `before-send` count resolutions and HTTP requests (one each per key).
    """
    store = s3_storage(s3_env, bucket)
    store.put("warm.txt", b"w", content_type="text/plain", cache_control="no-cache")
    events = store._client().meta.events
    resolutions: list[str] = []
    answers: list[object] = []  # each call's endpoint properties (kept alive, so `is` compares objects)
    sent: list[str] = []

    def on_resolution(model: object, params: dict[str, object], **_: object) -> None:
        resolutions.append(f"{model.name} {params.get('Key')}")  # type: ignore[attr-defined]

    def on_call(params: dict[str, object], context: dict[str, object], **_: object) -> None:
        answers.append(context["endpoint_properties"])

    def on_send(request: object, **_: object) -> None:
        sent.append(str(request.url))  # type: ignore[attr-defined]

    events.register("before-endpoint-resolution.s3", on_resolution)  # per service, not per operation
    events.register("before-call.s3.PutObject", on_call)
    events.register("before-send.s3.PutObject", on_send)
    keys = [f"episodes/{i}/index.html" for i in range(25)]
    store.put_many([PutItem(key, b"x", "text/html", "no-cache") for key in keys])

    assert sorted(resolutions) == sorted(f"PutObject show/{key}" for key in keys)  # one per key, nothing else
    assert sorted(sent) == sorted(f"{s3_env.endpoint_url}/{bucket}/show/{key}" for key in keys)
    assert len(answers) == 25
    assert all(properties is answers[0] for properties in answers)  # every key reused one evaluation
    # The control: on the same client, another bucket is another rule-set input, so a new evaluation.
    other = s3_env.make_bucket()
    try:
        store._client().put_object(Bucket=other, Key="show/a.txt", Body=b"a")
    finally:
        s3_env.delete_bucket(other)
    assert len(answers) == 26
    assert answers[-1] is not answers[0]
    assert len(list(store.list("episodes/"))) == 25


def test_public_bucket_serves_objects_anonymously_read_only(s3_env: SeaweedServer, bucket: str) -> None:
    store = s3_storage(s3_env, bucket, None)
    store.put("episodes/a/a.mp3", b"ID3" + b"\0" * 997, content_type="audio/mpeg", cache_control="max-age=60")
    url = s3_env.public_base_url(bucket) + "episodes/a/a.mp3"
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=0-2"})) as response:
        assert response.status == 206
        assert response.headers["Content-Type"] == "audio/mpeg"
        assert response.headers["Content-Range"] == "bytes 0-2/1000"
        assert response.read() == b"ID3"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, data=b"evil", method="PUT"))
    assert refused.value.code == 403
    assert store.get("episodes/a/a.mp3") == b"ID3" + b"\0" * 997


def test_multipart_upload_of_a_40_mb_file(s3_env: SeaweedServer, bucket: str, tmp_path: Path) -> None:
    big = tmp_path / "long-episode.mp3"
    digest = hashlib.sha256()
    with big.open("wb") as f:
        for _ in range(40):
            block = os.urandom(MiB)
            digest.update(block)
            f.write(block)
    store = s3_storage(s3_env, bucket, multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB)
    reporter = CountingReporter()
    store.put(
        "episodes/long/x/long.mp3",
        big,
        content_type="audio/mpeg",
        cache_control="public, max-age=31536000, immutable",
        reporter=reporter,
    )

    info = store.head("episodes/long/x/long.mp3")
    assert info is not None
    assert info.size == 40 * MiB
    assert info.etag is not None and info.etag.endswith("-5")  # S3's mark of a 5-part multipart upload
    assert (info.content_type, info.cache_control) == ("audio/mpeg", "public, max-age=31536000, immutable")
    assert hashlib.sha256(store.get("episodes/long/x/long.mp3") or b"").hexdigest() == digest.hexdigest()
    assert reporter.tasks == [("episodes/long/x/long.mp3", 40 * MiB, "B")]
    assert reporter.advanced["episodes/long/x/long.mp3"] == 40 * MiB
    assert reporter.closed == ["episodes/long/x/long.mp3"]


def test_put_many_mixes_small_objects_and_a_multipart_file(
    s3_env: SeaweedServer, bucket: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.m4a"
    big.write_bytes(os.urandom(11 * MiB))
    store = s3_storage(s3_env, bucket, multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    items = [PutItem(f"p/{i}.html", b"x" * i, "text/html", "max-age=60") for i in range(30)]
    items.insert(7, PutItem("episodes/big/big.m4a", big, "audio/mp4", "immutable"))
    reporter = CountingReporter()
    store.put_many(items, reporter=reporter)
    big_info = store.head("episodes/big/big.m4a")
    assert big_info is not None and big_info.size == 11 * MiB and (big_info.etag or "").endswith("-3")
    assert len(list(store.list("p/"))) == 30
    assert reporter.advanced == {"upload 31 objects": 11 * MiB + sum(range(30))}


def test_ensure_ready_unknown_bucket_then_create(s3_env: SeaweedServer) -> None:
    name = f"nope-{os.getpid()}-{id(s3_env) % 10000}"
    store = s3_storage(s3_env, name)
    with pytest.raises(StorageError) as info:
        store.ensure_ready()
    assert_clear(
        info.value,
        target=f"s3://{name}/show",
        says=f"bucket '{name}' does not exist",
        hint="create it, or pass --create-bucket",
        secrets=(s3_env.secret_key, s3_env.access_key),
    )
    with pytest.raises(StorageError) as on_put:
        store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="no-cache")
    assert_clear(
        on_put.value,
        target=f"s3://{name}/show",
        says=f"bucket '{name}' does not exist",
        hint="--create-bucket",
        secrets=(s3_env.secret_key,),
    )
    try:
        store.ensure_ready(create=True)
        store.ensure_ready()
        store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="no-cache")
        assert store.get("feed.xml") == b"<rss/>"
    finally:
        s3_env.delete_bucket(name)


def test_wrong_secret_is_one_line_without_secrets(
    s3_env: SeaweedServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong_secret = "wrongSECRETvalue0123456789abcdefghijklmn"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong_secret)
    store = s3_storage(s3_env, bucket)
    for attempt in (
        store.ensure_ready,
        lambda: store.get("feed.xml"),
        lambda: store.put("feed.xml", b"x", content_type="text/plain", cache_control="no-cache"),
    ):
        with pytest.raises(StorageError) as info:
            attempt()
        assert_clear(
            info.value,
            target=f"s3://{bucket}/show",
            says="the secret access key does not match the access key id",
            hint="AWS_SECRET_ACCESS_KEY",
            secrets=(wrong_secret, s3_env.access_key, s3_env.secret_key),
        )
    assert wrong_secret not in repr(store)


def test_unknown_access_key_is_one_line_without_secrets(
    s3_env: SeaweedServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown_key, secret = "AKIAUNKNOWNKEY123456", "anotherSecretValue0987654321zyxwvutsrqpo"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", unknown_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    store = s3_storage(s3_env, bucket)
    with pytest.raises(StorageError) as info:
        store.ensure_ready()
    assert_clear(
        info.value,
        target=f"s3://{bucket}/show",
        says="the server does not know this access key id",
        hint="AWS_ACCESS_KEY_ID",
        secrets=(unknown_key, secret),
    )


def test_missing_credentials_is_one_line(
    s3_env: SeaweedServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = s3_storage(s3_env, bucket)
    with pytest.raises(StorageError) as info:
        store.ensure_ready()
    assert_clear(
        info.value,
        target=f"s3://{bucket}/show",
        says="no AWS credentials found",
        hint="AWS_ACCESS_KEY_ID",
        secrets=(s3_env.secret_key,),
    )


def test_half_the_credentials_is_one_line(
    s3_env: SeaweedServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StorageError) as info:
        s3_storage(s3_env, bucket).ensure_ready()
    assert_clear(
        info.value,
        target=f"s3://{bucket}/show",
        says="the AWS credentials are incomplete",
        secrets=(s3_env.access_key,),
    )


def test_unknown_profile_is_one_line(s3_env: SeaweedServer, bucket: str) -> None:
    store = S3Storage(bucket, endpoint_url=s3_env.endpoint_url, profile="no-such-profile")
    with pytest.raises(StorageError) as info:
        store.ensure_ready()
    assert_clear(
        info.value,
        target=f"s3://{bucket}",
        says="AWS profile 'no-such-profile' does not exist",
        hint="publish.profile",
    )


def test_unreachable_endpoint_is_one_line(s3_env: SeaweedServer) -> None:
    port = closed_port()
    store = S3Storage("podcast", "show", endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1)
    with pytest.raises(StorageError) as info:
        store.ensure_ready()
    assert_clear(
        info.value,
        target="s3://podcast/show",
        says=f"cannot reach http://127.0.0.1:{port}",
        hint="endpoint_url",
        secrets=(s3_env.access_key, s3_env.secret_key),
    )


def test_invalid_endpoint_url_is_one_line(s3_env: SeaweedServer) -> None:
    with pytest.raises(StorageError) as info:
        S3Storage("podcast", endpoint_url="not a url").ensure_ready()
    assert "endpoint_url 'not a url' is not a valid URL" in str(info.value)


def test_read_only_bucket_is_access_denied_on_put(s3_env: SeaweedServer, bucket: str) -> None:
    deny_writes = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    s3_env.admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny_writes))
    store = s3_storage(s3_env, bucket)
    store.ensure_ready()  # reading and listing are allowed
    with pytest.raises(StorageError) as info:
        store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="no-cache")
    assert_clear(
        info.value,
        target=f"s3://{bucket}/show",
        says="access denied: cannot write feed.xml",
        hint="bucket policy",
        secrets=(s3_env.access_key, s3_env.secret_key),
    )
    with pytest.raises(StorageError, match="access denied: cannot write"):
        store.put_many([PutItem(f"p/{i}", b"x", "text/plain", "no-cache") for i in range(20)])
    with pytest.raises(StorageError, match="access denied"):
        store.acquire_lock("me")


def test_server_down_then_back(s3_env: SeaweedServer, bucket: str) -> None:
    store = s3_storage(s3_env, bucket, max_attempts=1)
    store.put("before.txt", b"1", content_type="text/plain", cache_control="no-cache")
    s3_env.stop(graceful=False)
    try:
        with pytest.raises(StorageError) as info:
            store.put("during.txt", b"2", content_type="text/plain", cache_control="no-cache")
        assert_clear(
            info.value,
            target=f"s3://{bucket}/show",
            says=f"cannot reach {s3_env.endpoint_url}",
            secrets=(s3_env.access_key, s3_env.secret_key),
        )
    finally:
        s3_env.start()
    store.put("after.txt", b"3", content_type="text/plain", cache_control="no-cache")
    assert [o.key for o in store.list()] == ["after.txt", "before.txt"]


def test_scrubbing_removes_a_key_id_that_a_service_echoes(s3_env: SeaweedServer, bucket: str) -> None:
    # AWS itself puts the rejected key id in InvalidAccessKeyId responses; SeaweedFS does not, so this
    # feeds that real response shape through the same translation path the requests use.
    store = s3_storage(s3_env, bucket)
    store.ensure_ready()
    response = {
        "Error": {
            "Code": "InvalidAccessKeyId",
            "AWSAccessKeyId": s3_env.access_key,
            "Message": f"The AWS Access Key Id {s3_env.access_key} you provided does not exist.",
        },
        "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": "R1"},
    }

    def echo() -> None:
        raise botocore.exceptions.ClientError(response, "PutObject")  # type: ignore[arg-type]

    with pytest.raises(StorageError) as info:
        store._call("write", "feed.xml", echo)
    assert_clear(
        info.value,
        target=f"s3://{bucket}/show",
        says="the server does not know this access key id",
        secrets=(s3_env.access_key, s3_env.secret_key),
    )
    assert "The AWS Access Key Id *** you provided" in str(info.value.__cause__)


def test_debug_logging_does_not_leak_credentials(
    s3_env: SeaweedServer, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # what a --debug flag on the root logger would do
    store = s3_storage(s3_env, bucket)
    store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="no-cache")
    assert store.get("feed.xml") == b"<rss/>"
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert s3_env.access_key not in logged
    assert s3_env.secret_key not in logged
    assert s3_env.secret_key not in repr(store) and s3_env.access_key not in repr(store)


# -- local folders --------------------------------------------------------------------------------


def test_local_writes_are_atomic_and_leave_no_temp_files(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "public", fsync=True)
    store.ensure_ready(create=True)
    store.put("a/b/c.html", b"one", content_type="text/html", cache_control="x")
    store.put("a/b/c.html", b"two", content_type="text/html", cache_control="x")
    files = sorted(
        p.relative_to(tmp_path / "public").as_posix() for p in (tmp_path / "public").rglob("*") if p.is_file()
    )
    assert files == ["a/b/c.html"]
    assert (tmp_path / "public/a/b/c.html").read_bytes() == b"two"
    assert (tmp_path / "public/a/b/c.html").stat().st_mode & 0o444 == 0o444  # a web server can read it
    assert store.head("a/b/c.html") == ObjectInfo("a/b/c.html", 3, None, None)
    assert store.description == f"folder {tmp_path / 'public'}/"


def test_local_delete_removes_emptied_folders(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "public")
    store.ensure_ready(create=True)
    store.put("episodes/a/x/a.mp3", b"a", content_type="audio/mpeg", cache_control="x")
    store.put("episodes/b/index.html", b"b", content_type="text/html", cache_control="x")
    store.delete(["episodes/a/x/a.mp3"])
    assert not (tmp_path / "public/episodes/a").exists()
    assert (tmp_path / "public/episodes/b/index.html").exists()
    assert (tmp_path / "public").is_dir()


def test_local_missing_folder_is_created_only_next_to_an_existing_parent(tmp_path: Path) -> None:
    LocalStorage(tmp_path / "public").ensure_ready()  # the default public/ next to show.yaml
    assert (tmp_path / "public").is_dir()
    deep = LocalStorage(tmp_path / "srv" / "www")  # a missing parent is more likely a typo
    with pytest.raises(StorageError) as info:
        deep.ensure_ready()
    assert str(info.value) == (
        f"folder {tmp_path / 'srv' / 'www'}/: neither the folder nor its parent "
        f"{tmp_path / 'srv'} exists (create it, or pass --create-bucket)"
    )
    deep.ensure_ready(create=True)
    assert (tmp_path / "srv" / "www").is_dir()


def test_local_path_through_a_file_is_one_clear_line(tmp_path: Path) -> None:
    # A real failure even for root: the "folder" sits below a regular file (ENOTDIR).
    (tmp_path / "site").write_text("I am a file")
    store = LocalStorage(tmp_path / "site" / "public")
    with pytest.raises(StorageError) as info:
        store.ensure_ready(create=True)
    assert_clear(
        info.value,
        target=f"folder {tmp_path / 'site' / 'public'}/",
        says="cannot create the folder: part of the path is a file, not a folder",
    )
    with pytest.raises(StorageError) as on_put:
        store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="x")
    assert_clear(
        on_put.value,
        target=f"folder {tmp_path / 'site' / 'public'}/",
        says="cannot write feed.xml: part of the path is a file, not a folder",
    )


def test_local_put_many_failure_raises_and_cleans_up(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "public")
    store.ensure_ready(create=True)
    store.put("blocked", b"a file where a folder should be", content_type="text/plain", cache_control="x")
    items = [PutItem(f"ok/{i}.html", b"x", "text/html", "x") for i in range(40)]
    items.insert(20, PutItem("blocked/index.html", b"y", "text/html", "x"))
    with pytest.raises(StorageError, match=r"cannot write blocked/index\.html: part of the path is a file"):
        store.put_many(items)
    leftovers = [p for p in (tmp_path / "public").rglob("*") if p.name.endswith(".podcast-tmp")]
    assert leftovers == []


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder that refuses writes for real. chmod does not stop root, so as root it is made immutable
    (chattr +i, which binds root too); as another user, chmod 0o555 is enough."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    (folder / "existing.html").write_text("old")
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = [lambda: folder.chmod(0o755)]
    else:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("cannot make a folder read-only for root here (chattr +i unavailable)")
        undo = [lambda: subprocess.run([chattr, "-i", str(folder)], check=True)]
    try:
        with pytest.raises(PermissionError):
            (folder / "probe").write_text("must fail")  # the premise: writes really are refused
        yield folder
    finally:
        for step in undo:
            step()


def test_local_read_only_folder_is_one_clear_line(read_only_dir: Path) -> None:
    store = LocalStorage(read_only_dir)
    target = f"folder {read_only_dir}/"
    with pytest.raises(StorageError) as ready:
        store.ensure_ready()
    assert_clear(ready.value, target=target, says="cannot write: ", hint="make the folder writable")
    with pytest.raises(StorageError) as put:
        store.put("feed.xml", b"<rss/>", content_type="application/rss+xml", cache_control="x")
    assert_clear(put.value, target=target, says="cannot write feed.xml: ", hint="publish to another folder")
    with pytest.raises(StorageError, match=r"cannot write \.podcast/lock\.json"):
        store.acquire_lock("me")
    assert store.get("existing.html") == b"old"  # reading still works
    assert [o.key for o in store.list()] == ["existing.html"]


# -- opening targets ------------------------------------------------------------------------------


def test_open_storage_builds_each_kind(tmp_path: Path) -> None:
    local = open_storage("local", path=tmp_path / "public")
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "public"
    s3 = open_storage(
        "s3", bucket="pods", prefix="show", region="eu-west-1", endpoint_url="http://127.0.0.1:1", profile="p"
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.region, s3.endpoint_url, s3.profile) == (
        "pods",
        "show/",
        "eu-west-1",
        "http://127.0.0.1:1",
        "p",
    )
    assert s3.description == "s3://pods/show"
    assert open_storage("s3", bucket="pods").description == "s3://pods"


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("ftp", {}, "unknown publish target kind 'ftp' (use one of: local, s3)"),
        (
            "s3",
            {"prefix": "x"},
            "publish.bucket: a s3 target needs publish.bucket (set publish.bucket in show.yaml)",
        ),
        ("local", {}, "publish.path: a local target needs publish.path (set publish.path in show.yaml)"),
    ],
)
def test_open_storage_explains_bad_targets(kind: str, options: dict[str, str], message: str) -> None:
    with pytest.raises(StorageError) as info:
        open_storage(kind, **options)  # type: ignore[arg-type]
    assert str(info.value).endswith(message)


@pytest.mark.parametrize(
    ("seconds", "text"), [(-3, "0 s"), (59, "59 s"), (61, "1 min"), (3725, "1 h 2 min"), (90000, "1 d 1 h")]
)
def test_human_age(seconds: float, text: str) -> None:
    assert human_age(seconds) == text
