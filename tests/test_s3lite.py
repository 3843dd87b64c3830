"""The boto3-free S3 reader of an unchanged publish (pipeline/s3lite.py), against a real SeaweedFS.

It must read exactly what boto3 reads, decline every setting it does not interpret (so boto3 decides), and
turn every answer but 200/404 into `Unsure` without a credential in it.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipeline import s3lite, storage

if TYPE_CHECKING:
    from tests._s3_fixtures import SeaweedServer

pytest_plugins = ["tests._s3_fixtures"]  # s3_server, s3_env, bucket

KEY = "episodes/a b/ünïcode+plus~(1).txt"


def plain_env(server: SeaweedServer, tmp_path: Path) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
    }


def reader(server: SeaweedServer, bucket: str, env: dict[str, str], **kw: object) -> s3lite.LiteReader:
    opened = s3lite.LiteReader.open(
        bucket,
        str(kw.get("prefix", "show/")),
        region="us-east-1",
        endpoint_url=str(kw.get("endpoint_url", server.endpoint_url)),
        profile=None,
        timeout=5.0,
        env=env,
    )
    assert opened is not None
    return opened


def test_get_and_head_read_what_boto3_reads(s3_env: SeaweedServer, bucket: str, tmp_path: Path) -> None:
    body = b"x" * 70_000  # more than one socket read
    s3_env.admin.put_object(
        Bucket=bucket, Key="show/" + KEY, Body=body, ContentType="text/plain", CacheControl="no-cache"
    )
    s3_env.admin.put_object(Bucket=bucket, Key="show/empty.txt", Body=b"", ContentType="text/plain")
    lite = reader(s3_env, bucket, plain_env(s3_env, tmp_path))
    theirs = s3_env.admin.head_object(Bucket=bucket, Key="show/" + KEY)
    for _ in range(2):  # the second round reuses the kept-alive connection
        assert lite.get(KEY) == body
        assert lite.head(KEY) == s3lite.Head(70_000, "text/plain", theirs["ETag"].strip('"'), "no-cache")
        assert lite.get("empty.txt") == b""
        assert lite.get("missing.txt") is None
        assert lite.head("missing/key.txt") is None
    lite.close()
    lite.close()  # twice is fine
    assert lite.head(KEY) is not None  # and it reconnects


def test_storage_lite_target_reads_as_s3storage_does(s3_env: SeaweedServer, bucket: str) -> None:
    s3_env.admin.put_object(
        Bucket=bucket, Key="show/feed.xml", Body=b"<rss/>", ContentType="application/rss+xml"
    )
    params = {
        "bucket": bucket,
        "prefix": "show",
        "region": s3_env.region,
        "endpoint_url": s3_env.endpoint_url,
    }
    lite = storage.open_lite("s3", **params)
    full = storage.S3Storage(bucket, "show", region=s3_env.region, endpoint_url=s3_env.endpoint_url)
    assert lite is not None and lite.description == full.description
    assert lite.get("feed.xml") == full.get("feed.xml") == b"<rss/>"
    assert lite.head("feed.xml") == full.head("feed.xml")
    assert lite.head("nothing.xml") is None is full.head("nothing.xml")
    assert storage.open_lite("local", path="public") is None


def test_a_wrong_secret_or_no_server_is_unsure_and_names_no_secret(
    s3_env: SeaweedServer, bucket: str, tmp_path: Path
) -> None:
    wrong = "W" * 40
    env = {**plain_env(s3_env, tmp_path), "AWS_SECRET_ACCESS_KEY": wrong}
    with pytest.raises(s3lite.Unsure) as info:
        reader(s3_env, bucket, env).get("feed.xml")
    assert "403" in str(info.value)
    assert wrong not in str(info.value) and s3_env.access_key not in str(info.value)

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nobody = reader(s3_env, bucket, plain_env(s3_env, tmp_path), endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(s3lite.Unsure):
        nobody.head("feed.xml")

    lite = storage.open_lite(
        "s3", bucket=bucket, prefix="show", region="us-east-1", endpoint_url=nobody_url(port)
    )
    assert lite is not None
    with pytest.raises(storage.NoPlainAnswer):
        lite.get("feed.xml")


def nobody_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("change", "config"),
    [
        ({"AWS_PROFILE": "work"}, None),
        ({"AWS_ENDPOINT_URL": "http://elsewhere:9000"}, None),
        ({"AWS_ENDPOINT_URL_S3": "http://elsewhere:9000"}, None),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, None),
        ({"http_proxy": "http://proxy:3128"}, None),
        ({"AWS_SECRET_ACCESS_KEY": ""}, None),
        ({"AWS_ACCESS_KEY_ID": ""}, None),
        ({}, "[default]\nendpoint_url = http://elsewhere:9000\n"),
        ({}, "[default]\nregion = us-east-1\ns3 =\n  addressing_style = virtual\n"),
        ({}, "[default]\ncredential_process = /bin/creds\n"),
    ],
    ids=[
        "profile",
        "endpoint-env",
        "s3-endpoint-env",
        "fips",
        "proxy",
        "lower-proxy",
        "no-secret",
        "no-key-id",
        "config-endpoint",
        "config-s3-block",
        "config-credential-process",
    ],
)
def test_declines_every_setting_it_does_not_interpret(
    tmp_path: Path, change: dict[str, str], config: str | None
) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", **change}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "config")
    if config is not None:
        (tmp_path / "config").write_text(config)
    opened = s3lite.LiteReader.open(
        "bucket", "", region="us-east-1", endpoint_url="http://127.0.0.1:9", profile=None, timeout=1, env=env
    )
    assert opened is None


def test_plain_settings_are_taken(tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        "# comment\n[default]\nregion = eu-west-1\noutput = json\n\n[profile other]\nsso_start_url = x\n"
    )
    env = {"AWS_ACCESS_KEY_ID": "AKEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "config"), "AWS_DEFAULT_REGION": "eu-west-1"}
    env["AWS_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"  # used for https, as botocore does

    def opened(**kw: object) -> s3lite.LiteReader | None:
        args: dict[str, object] = {
            "region": None,
            "endpoint_url": None,
            "profile": None,
            "timeout": 1,
            "env": env,
        }
        args.update(kw)
        return s3lite.LiteReader.open(str(args.pop("bucket", "my-bucket")), "", **args)  # type: ignore[arg-type]

    assert repr(opened()) == "LiteReader(https://my-bucket.s3.eu-west-1.amazonaws.com)"
    assert repr(opened(endpoint_url="http://127.0.0.1:8333")) == "LiteReader(http://127.0.0.1:8333/my-bucket)"
    assert opened(bucket="my.dotted.bucket") is None  # virtual hosting a dotted name: boto3 decides
    assert opened(endpoint_url="http://127.0.0.1:8333/base") is None  # an endpoint with a path
    assert opened(profile="work") is None
    env.pop("AWS_DEFAULT_REGION")
    assert opened() is None  # no region known
    assert opened(region="us-west-2") is not None


def test_put_stores_bytes_and_files_with_type_and_caching(
    s3_env: SeaweedServer, bucket: str, tmp_path: Path
) -> None:
    import hashlib

    lite = reader(s3_env, bucket, plain_env(s3_env, tmp_path))
    small = b"<html>hi</html>"
    big = tmp_path / "a.mp3"
    big.write_bytes(bytes(range(256)) * 4000)  # ~1 MB, sent with sendfile
    for key, data, size in (("p/index.html", small, len(small)), ("m/a.mp3", big, big.stat().st_size)):
        raw = data if isinstance(data, bytes) else data.read_bytes()
        etag = lite.put(
            key,
            data,
            size=size,
            sha256=hashlib.sha256(raw).hexdigest(),
            content_type="text/html",
            cache_control="public, max-age=300",
        )
        got = s3_env.admin.get_object(Bucket=bucket, Key="show/" + key)
        assert got["Body"].read() == raw
        assert (got["ContentType"], got["CacheControl"]) == ("text/html", "public, max-age=300")
        assert etag == got["ETag"].strip('"') == hashlib.md5(raw).hexdigest()


def test_storage_puts_known_digests_without_boto3_and_hands_failures_to_boto3(
    s3_env: SeaweedServer, bucket: str, tmp_path: Path
) -> None:
    import hashlib

    store = storage.S3Storage(bucket, "show", region=s3_env.region, endpoint_url=s3_env.endpoint_url)
    seen: list[tuple[str, str, str]] = []
    store.observe(lambda op, key, params: seen.append((op, key, params.get("transport", "boto3"))))
    body = b"page"
    store.put_many(
        [
            storage.PutItem("a.html", body, "text/html", "x", hashlib.sha256(body).hexdigest()),
            storage.PutItem("b.html", body, "text/html", "x"),  # no digest: boto3
        ]
    )
    assert sorted(seen) == [("PutObject", "show/a.html", "s3lite"), ("PutObject", "show/b.html", "boto3")]
    assert store.head_many(["a.html", "b.html", "c.html"]) == [
        store.head("a.html"),
        store.head("b.html"),
        None,
    ]

    # A "file" that cannot be read (a folder): the small client gives up, boto3 tries and words the error,
    # and later PUTs go by boto3 only.
    seen.clear()
    folder = tmp_path / "folder.mp3"
    folder.mkdir()
    with pytest.raises(storage.StorageError, match="cannot read the file to upload"):
        store.put_many([storage.PutItem("folder.mp3", folder, "audio/mpeg", "x", "0" * 64)])
    assert [t for _, _, t in seen] == ["s3lite"]  # boto3 stopped at reading it, before any request
    store.put_many([storage.PutItem("c.html", body, "text/html", "x", hashlib.sha256(body).hexdigest())])
    assert seen[-1] == ("PutObject", "show/c.html", "boto3")
    store.close()


def test_a_large_file_with_a_known_digest_goes_in_one_put_that_holds_recognises(
    s3_env: SeaweedServer, bucket: str, tmp_path: Path
) -> None:
    import hashlib
    import os

    from pipeline.progress import NullReporter, Task

    MiB = storage.MiB
    store = storage.S3Storage(
        bucket,
        "show",
        region=s3_env.region,
        endpoint_url=s3_env.endpoint_url,
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
    )
    path = tmp_path / "big.mp3"
    path.write_bytes(os.urandom(12 * MiB))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    told: list[float] = []

    class Counting(NullReporter):
        def task(self, label: str, total: float, unit: str = "B") -> Task:
            class T:
                def advance(self, amount: float) -> None:
                    told.append(amount)

                def close(self) -> None:
                    pass

            return T()  # type: ignore[return-value]

    seen: list[str] = []
    store.observe(lambda op, key, params: seen.append(params.get("transport", "boto3")))
    store.put_many([storage.PutItem("big.mp3", path, "audio/mpeg", "x", sha)], reporter=Counting())
    assert seen == ["s3lite"] and sum(told) == 12 * MiB and len(told) >= 2  # progress as it went
    (info,) = list(store.list("big.mp3"))
    assert info.etag is not None and "-" not in info.etag  # one PUT, not parts
    assert store.holds(info, path, sha)
    other = bytearray(path.read_bytes())
    other[5] ^= 0xFF
    assert not store.holds(info, bytes(other), hashlib.sha256(other).hexdigest())
    store.close()
