"""Listeners can read what was published, feeds the validator rejects never go up, analytics prefixes.

S3 cases run against a real SeaweedFS that enforces credentials (tests/_s3_fixtures.py): an object in a
bucket without a policy answers 403 to a client without credentials, a bucket policy allowing
s3:GetObject makes it answer 206, and listing stays denied (checked by hand before writing these tests).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from pipeline import build, urls
from pipeline.check import check
from pipeline.cli import cli
from pipeline.errors import ExitCode
from pipeline.model import load_show
from tests.conftest import NOW

if TYPE_CHECKING:
    from tests._s3_fixtures import SeaweedServer

pytest_plugins = ["tests._s3_fixtures"]  # s3_server, s3_env, bucket

NOW_ISO = NOW.isoformat()
PREFIX = "podcast/"
_PUBLISH_BLOCK = re.compile(r"^publish:.*\n(?:[ \t]+.*\n|[ \t]*\n)*", re.MULTILINE)


@pytest.fixture
def show(warm_show: Path) -> Path:
    """The sample show with its encodes already cached (tests/conftest.py)."""
    return warm_show


def set_publish(show_yaml: Path, **settings: str) -> None:
    text = _PUBLISH_BLOCK.sub("", show_yaml.read_text())
    body = "".join(f"  {k}: {v}\n" for k, v in settings.items())
    show_yaml.write_text(text.rstrip("\n") + "\npublish:\n" + body)


def to_s3(show_yaml: Path, server: SeaweedServer, bucket: str, **extra: str) -> None:
    """Publish to `bucket` with no public_base_url: listeners use the bucket's own URL."""
    set_publish(
        show_yaml,
        target="s3",
        bucket=bucket,
        prefix=PREFIX,
        region=server.region,
        endpoint_url=server.endpoint_url,
        **extra,
    )


def publish_cli(show_yaml: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli, ["publish", "--show", str(show_yaml), "--now", NOW_ISO, *extra], catch_exceptions=False
    )


def anonymous(url: str, method: str = "GET") -> int:
    """The HTTP status a client without credentials gets."""
    request = urllib.request.Request(url, method=method, data=b"x" if method == "PUT" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def as_list(value: str | list[str]) -> list[str]:
    """A policy field as a list (SeaweedFS gives back a one-item list as a plain string)."""
    return [value] if isinstance(value, str) else value


def error_lines(result: Result) -> list[str]:
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def newest_audio(show_yaml: Path) -> tuple[str, int]:
    b = build.build(show_yaml, now=NOW).public[0]
    return b.audio.key, b.audio.size


@pytest.fixture
def private_bucket(s3_env: SeaweedServer) -> Iterator[str]:
    name = s3_env.make_bucket("private", public=False)
    yield name
    s3_env.delete_bucket(name)


# =========================================================================== 1. listeners can read it


def test_public_bucket_passes_the_anonymous_check(show: Path, s3_env: SeaweedServer, bucket: str) -> None:
    to_s3(show, s3_env, bucket)
    result = publish_cli(show)
    assert result.exit_code == ExitCode.OK, result.output
    key, size = newest_audio(show)
    url = f"{s3_env.endpoint_url}/{bucket}/{PREFIX}{key}"
    assert f"Listeners can read {url} without credentials (HTTP 206, {size} bytes, audio/mpeg)." in (
        result.stderr.splitlines()
    )
    assert anonymous(f"{s3_env.endpoint_url}/{bucket}/{PREFIX}feed.xml") == 200


def test_private_bucket_stops_before_the_feed_and_the_previous_feed_stays(
    show: Path, s3_env: SeaweedServer, bucket: str
) -> None:
    to_s3(show, s3_env, bucket)
    assert publish_cli(show).exit_code == ExitCode.OK
    live = s3_env.admin.get_object(Bucket=bucket, Key=PREFIX + "feed.xml")["Body"].read()
    s3_env.admin.delete_bucket_policy(Bucket=bucket)  # now only credentials can read it
    episode = show.parent / "episodes" / "why-your-knees-hurt-when-you-run" / "episode.md"
    episode.write_text(episode.read_text() + "\nOne more thing: rest days are training too.\n")
    result = publish_cli(show)
    assert result.exit_code == ExitCode.ERROR
    key, _ = newest_audio(show)
    url = f"{s3_env.endpoint_url}/{bucket}/{PREFIX}{key}"
    assert error_lines(result) == [
        f"Error: s3://{bucket}/podcast: listeners cannot read {url}: HTTP 403 without credentials (the feed "
        "was not updated; let listeners read it: a bucket policy allowing s3:GetObject on the prefix, public "
        "access on R2/B2, or a CDN in front (publish.public_base_url); a CDN that reads the bucket "
        "privately: set publish.public_read: false)"
    ]
    assert result.stderr.rstrip("\n").splitlines()[-1] == error_lines(result)[0]
    assert s3_env.admin.get_object(Bucket=bucket, Key=PREFIX + "feed.xml")["Body"].read() == live


def test_first_publish_to_a_private_bucket_puts_no_feed(
    show: Path, s3_env: SeaweedServer, private_bucket: str
) -> None:
    to_s3(show, s3_env, private_bucket)
    result = publish_cli(show)
    assert result.exit_code == ExitCode.ERROR
    assert "HTTP 403 without credentials" in error_lines(result)[0]
    keys = {o["Key"] for o in s3_env.admin.list_objects_v2(Bucket=private_bucket).get("Contents", [])}
    assert PREFIX + "feed.xml" not in keys
    assert PREFIX + "index.html" not in keys  # pages wait for the check too: it runs before them


def test_public_read_false_skips_the_check_for_a_private_cdn(
    show: Path, s3_env: SeaweedServer, private_bucket: str
) -> None:
    to_s3(show, s3_env, private_bucket, public_read="false")
    result = publish_cli(show)
    assert result.exit_code == ExitCode.OK, result.output
    assert "Listeners can read" not in result.stderr
    s3_env.admin.head_object(Bucket=private_bucket, Key=PREFIX + "feed.xml")


def test_create_bucket_makes_it_readable_by_anyone_but_not_listable_or_writable(
    show: Path, s3_env: SeaweedServer
) -> None:
    name = f"made-{uuid.uuid4().hex[:12]}"
    to_s3(show, s3_env, name)
    try:
        result = publish_cli(show, "--create-bucket")
        assert result.exit_code == ExitCode.OK, result.output
        assert (
            f"Created the bucket, readable by anyone: s3:GetObject on arn:aws:s3:::{name}/{PREFIX}* "
            "(no listing, no writes)."
        ) in result.stderr.splitlines()
        assert "Listeners can read" in result.stderr
        policy = json.loads(s3_env.admin.get_bucket_policy(Bucket=name)["Policy"])
        listed = [
            (st["Effect"], as_list(st["Action"]), as_list(st["Resource"])) for st in policy["Statement"]
        ]
        assert listed == [("Allow", ["s3:GetObject"], [f"arn:aws:s3:::{name}/{PREFIX}*"])]
        base = f"{s3_env.endpoint_url}/{name}/"
        assert anonymous(base + PREFIX + "feed.xml") == 200
        assert anonymous(base + "?list-type=2") == 403
        assert anonymous(base + PREFIX + "intruder.txt", "PUT") == 403
        again = publish_cli(show, "--create-bucket")  # the bucket exists now: nothing created, no policy
        assert again.exit_code == ExitCode.OK
        assert "Created the bucket" not in again.stderr
    finally:
        s3_env.delete_bucket(name)


def test_create_bucket_with_public_read_false_sets_no_policy(show: Path, s3_env: SeaweedServer) -> None:
    name = f"cdn-{uuid.uuid4().hex[:12]}"
    to_s3(show, s3_env, name, public_read="false")
    try:
        result = publish_cli(show, "--create-bucket")
        assert result.exit_code == ExitCode.OK, result.output
        assert "Created the bucket" not in result.stderr
        with pytest.raises(ClientError):
            s3_env.admin.get_bucket_policy(Bucket=name)
        assert anonymous(f"{s3_env.endpoint_url}/{name}/{PREFIX}feed.xml") == 403
    finally:
        s3_env.delete_bucket(name)


# =========================================================================== 2. never an invalid feed


def _http_funding(show_yaml: Path) -> None:
    text = show_yaml.read_text()
    assert "https://stride-clinic.example.com/support/" in text
    show_yaml.write_text(
        text.replace("https://stride-clinic.example.com/support/", "http://tips.example.com/")
    )


def test_publish_refuses_a_feed_the_validator_rejects_and_uploads_nothing(show: Path) -> None:
    _http_funding(show)
    result = publish_cli(show)
    assert result.exit_code == ExitCode.ERROR
    assert error_lines(result) == [
        "Error: feed.xml: the built feed fails validation (PC112): podcast:funding URL "
        "http://tips.example.com/ is http, not https (nothing was uploaded; `podcast validate` on the built "
        "feed.xml lists every finding)"
    ]
    assert not (show.parent / "public" / "feed.xml").exists()
    assert not (show.parent / "public" / "index.html").exists()
    forced = publish_cli(show, "--force")  # an error is not a choice: --force does not override it
    assert forced.exit_code == ExitCode.ERROR


def test_check_reports_the_same_rule_before_any_build(show: Path) -> None:
    _http_funding(show)
    report = check(show, now=NOW)
    assert [p.text for p in report.errors] == [
        "show.yaml: funding[0].url: podcast:funding URL http://tips.example.com/ is http, not https "
        "(PC112: Podcasting 2.0 requires https for every URL in a podcast: tag)"
    ]


def test_check_sees_an_http_base_url_for_chapters(show: Path) -> None:
    set_publish(show, target="local", path="public", public_base_url="http://media.example.com/")
    report = check(show, now=NOW)
    found = [p.text for p in report.errors if "PC112" in p.text]
    assert len(found) == 2 and found[0].startswith("show.yaml: publish.public_base_url: podcast:chapters URL")


# =========================================================================== 5. analytics prefix


def test_enclosure_prefix_is_on_every_enclosure_and_download_link(show: Path) -> None:
    text = show.read_text().replace(
        "  path: public\n", "  path: public\n  enclosure_prefix: https://op3.dev/e,pg={podcast_guid}/\n"
    )
    show.write_text(text)
    result = publish_cli(show)
    assert result.exit_code == ExitCode.OK, result.output
    s = load_show(show)
    guid = urls.show_guid(s)
    public = build.build(show, now=NOW).public
    feed = (show.parent / "public" / "feed.xml").read_text()
    enclosures = re.findall(r'<enclosure url="([^"]+)"', feed)
    assert enclosures == [
        f"https://op3.dev/e,pg={guid}/stride-clinic.example.com/{b.audio.key}" for b in public
    ]
    page = (show.parent / "public" / urls.page_key(public[0].episode)).read_text()
    assert f'href="{enclosures[0]}" download=' in page
    assert (show.parent / "public" / public[0].audio.key).stat().st_size == public[0].audio.size


def test_enclosure_url_keeps_an_http_scheme_as_op3_asks(show: Path) -> None:
    text = show.read_text().replace(
        "  path: public\n", "  path: public\n  enclosure_prefix: https://dts.podtrac.com/redirect.mp3\n"
    )
    show.write_text(text)
    s = load_show(show)
    assert (
        urls.enclosure_url(s, "https://a.example.com/x.mp3")
        == "https://dts.podtrac.com/redirect.mp3/a.example.com/x.mp3"
    )
    assert urls.enclosure_url(s, "http://a.example.com/x.mp3") == (
        "https://dts.podtrac.com/redirect.mp3/http://a.example.com/x.mp3"
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _redirector(land: Callable[[str], str]) -> type[http.server.BaseHTTPRequestHandler]:
    """A prefix service like OP3: /e/<url without https://, or with http://> answers 302 to land(url)."""

    class Redirect(_Quiet):
        def do_HEAD(self) -> None:
            rest = self.path.removeprefix("/e/")
            self.send_response(302)
            self.send_header("Location", land(rest if rest.startswith("http://") else "https://" + rest))
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD

    return Redirect


@pytest.mark.parametrize("lands", ["on the object", "on a 404"])
def test_validate_online_follows_the_prefix_redirect_and_checks_where_it_lands(
    show: Path, lands: str
) -> None:
    out = show.parent / "served"

    def land(url: str) -> str:
        return url if lands == "on the object" else url.replace("/episodes/", "/nowhere/")

    static = functools.partial(_Quiet, directory=str(out))
    with serving(static) as origin, serving(_redirector(land)) as prefix:  # type: ignore[arg-type]
        set_publish(
            show, target="local", path="public", public_base_url=origin, enclosure_prefix=prefix + "e/"
        )
        result = build.build(show, now=NOW, out_dir=out)
        feed = (out / "feed.xml").read_text()
        assert f'<enclosure url="{prefix}e/{origin}episodes/' in feed
        report = CliRunner().invoke(
            cli, ["validate", str(out / "feed.xml"), "--online", "--format", "json", "--now", NOW_ISO]
        )
    findings = json.loads(report.stdout)["findings"]
    enclosure = [f for f in findings if f["rule"] in ("PC401", "PC404", "PC405") and "item" in f["where"]]
    if lands == "on the object":
        assert enclosure == []
    else:
        assert len(enclosure) == len(result.public)
        assert all("answers HTTP 404" in f["message"] for f in enclosure)
        assert all(f"(redirected to {origin}nowhere/" in f["message"] for f in enclosure)  # where it landed
