"""The published manifest, digests, upload plans and identity checks (pure: no storage)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pipeline.errors import PipelineError, StorageError
from pipeline.manifest import (
    MANIFEST_KEY,
    MANIFEST_VERSION,
    EpisodeEntry,
    Kind,
    Manifest,
    ObjectEntry,
    Output,
    UploadPlan,
    check_identity,
    digest_output,
    plan,
)

SOURCE = "s3://bucket/show/" + MANIFEST_KEY


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def episode(
    guid: str = "g1",
    slug: str = "knees",
    *,
    url: str = "https://cdn.example/episodes/knees/a1/knees.mp3",
    date: str = "2024-05-01T09:00:00+01:00",
    title: str = "Knees",
) -> EpisodeEntry:
    return EpisodeEntry(guid=guid, slug=slug, enclosure_url=url, pub_date=date, title=title)


def manifest_of(
    outputs: list[Output],
    *,
    episodes: dict[str, EpisodeEntry] | None = None,
    channel_guid: str | None = "chan-1",
) -> Manifest:
    return Manifest(
        version=MANIFEST_VERSION,
        channel_guid=channel_guid,
        feed_url="https://example.com/feed.xml",
        objects={o.key: digest_output(o) for o in outputs},
        episodes=episodes or {},
    )


@pytest.fixture
def outputs(tmp_path: Path) -> list[Output]:
    media = tmp_path / "knees.mp3"
    media.write_bytes(b"\xff\xfb" + bytes(range(256)) * 400)
    return [
        Output("feed.xml", b"<rss/>", Kind.FEED, "application/rss+xml"),
        Output("index.html", b"<html>index</html>", Kind.PAGE, "text/html; charset=utf-8"),
        Output("episodes/knees/a1b2/knees.mp3", media, Kind.MEDIA, "audio/mpeg", immutable=True),
        Output("episodes/knees/index.html", b"<html>knees</html>", Kind.PAGE, "text/html; charset=utf-8"),
        Output("static/site.css", b"body{}", Kind.ASSET, "text/css"),
        Output("artwork/ffff/cover.jpg", b"\xff\xd8jpeg", Kind.ASSET, "image/jpeg", immutable=True),
    ]


# -- digests --------------------------------------------------------------------------------------


def test_digest_of_bytes_and_of_a_file_match_hashlib(tmp_path: Path) -> None:
    data = b"x" * (3 * 1024 * 1024 + 7)  # several read chunks
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    from_file = digest_output(Output("a/f.bin", path, Kind.MEDIA, "audio/mpeg"))
    from_bytes = digest_output(Output("a/f.bin", data, Kind.MEDIA, "audio/mpeg"))
    assert from_file == from_bytes == ObjectEntry("a/f.bin", len(data), sha(data), "audio/mpeg")


def test_digest_of_a_missing_file_is_a_pipeline_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError) as info:
        digest_output(Output("a.mp3", tmp_path / "gone.mp3", Kind.MEDIA, "audio/mpeg"))
    assert "cannot read built file for a.mp3" in str(info.value)
    assert "gone.mp3" in str(info.value)


# -- manifest format ----------------------------------------------------------------------------


def test_manifest_round_trips_and_is_deterministic(outputs: list[Output]) -> None:
    eps = {"g2": episode("g2", "zebra"), "g1": episode("g1", "knees")}
    m = manifest_of(outputs, episodes=eps)
    data = m.to_json()
    assert Manifest.from_json(data, SOURCE) == m
    # Same content built in another insertion order gives the same bytes.
    reordered = manifest_of(list(reversed(outputs)), episodes=dict(reversed(list(eps.items()))))
    assert reordered.to_json() == data
    doc = json.loads(data)
    assert list(doc["objects"]) == sorted(doc["objects"])
    assert doc["version"] == MANIFEST_VERSION
    assert doc["episodes"]["g1"] == {
        "slug": "knees",
        "enclosure_url": eps["g1"].enclosure_url,
        "pub_date": "2024-05-01T09:00:00+01:00",
        "title": "Knees",
    }
    assert b"\r" not in data and data.endswith(b"\n")


def test_manifest_mappings_are_read_only(outputs: list[Output]) -> None:
    m = manifest_of(outputs)
    with pytest.raises(TypeError):
        m.objects["x"] = ObjectEntry("x", 1, sha(b"x"), "text/plain")  # type: ignore[index]


def test_non_ascii_titles_survive(outputs: list[Output]) -> None:
    m = manifest_of(outputs, episodes={"g": episode("g", title="Knie & Füße — ☕")})
    assert Manifest.from_json(m.to_json(), SOURCE).episodes["g"].title == "Knie & Füße — ☕"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"objects": {}}', "no valid version number"),
        (b'{"version": "1"}', "no valid version number"),
        (b'{"version": 1, "objects": []}', "objects is not a mapping"),
        (
            b'{"version": 1, "objects": {"a": {"size": 1, "sha256": "00", "content_type": "x"}}}',
            "objects.a: sha256 is not a hex digest",
        ),
        (
            b'{"version": 1, "objects": {"a": {"size": -1, "sha256": "00", "content_type": "x"}}}',
            "objects.a: size is missing or not a int",
        ),
        (
            b'{"version": 1, "episodes": {"g": {"slug": "a", "title": "t", "pub_date": "x"}}}',
            "episodes.g: enclosure_url is missing",
        ),
        (b'{"version": 1, "channel_guid": 5}', "channel_guid is not a string"),
        (b"\xff\xfe\x00", "not JSON"),
    ],
)
def test_corrupt_manifest_is_one_clear_storage_error(data: bytes, expected: str) -> None:
    with pytest.raises(StorageError) as info:
        Manifest.from_json(data, SOURCE)
    text = str(info.value)
    assert text.startswith(f"{SOURCE}: the published manifest is corrupt: ")
    assert expected in text
    assert "delete it to republish everything" in text
    assert "\n" not in text


def test_manifest_from_a_newer_tool_is_refused() -> None:
    with pytest.raises(StorageError) as info:
        Manifest.from_json(b'{"version": 99, "objects": {}}', SOURCE)
    assert "newer version of this tool" in str(info.value)
    assert "upgrade" in info.value.hint


# -- plans ----------------------------------------------------------------------------------------


def test_first_publish_uploads_everything_media_first_feed_last(outputs: list[Output]) -> None:
    p = plan(outputs, None)
    assert [o.key for o in p.uploads] == [
        "episodes/knees/a1b2/knees.mp3",
        "artwork/ffff/cover.jpg",
        "static/site.css",
        "episodes/knees/index.html",
        "index.html",
        "feed.xml",
    ]
    assert [o.kind for o in p.uploads] == sorted(o.kind for o in p.uploads)
    assert p.unchanged == () and p.stale == ()
    assert p.bytes_to_upload == sum(digest_output(o).size for o in outputs)
    assert not p.is_noop
    assert dict(p.entries) == {o.key: digest_output(o) for o in outputs}


def test_republishing_the_same_build_is_a_noop(outputs: list[Output]) -> None:
    p = plan(outputs, manifest_of(outputs))
    assert p.is_noop
    assert p.uploads == ()
    assert p.bytes_to_upload == 0
    assert p.unchanged == tuple(sorted(o.key for o in outputs))


def test_only_changed_outputs_are_uploaded_and_removed_ones_are_stale(outputs: list[Output]) -> None:
    remote = manifest_of([*outputs, Output("episodes/old/index.html", b"old", Kind.PAGE, "text/html")])
    changed = [
        Output(o.key, b"<rss>new</rss>", o.kind, o.content_type) if o.key == "feed.xml" else o
        for o in outputs
    ]
    retyped = [
        Output(o.key, o.data, o.kind, "text/css; charset=utf-8") if o.key == "static/site.css" else o
        for o in changed
    ]
    p = plan(retyped, remote)
    assert [o.key for o in p.uploads] == ["static/site.css", "feed.xml"]  # bytes changed; type changed
    assert p.bytes_to_upload == len(b"<rss>new</rss>") + len(b"body{}")
    assert p.stale == ("episodes/old/index.html",)
    assert "index.html" in p.unchanged and "feed.xml" not in p.unchanged


def test_known_entries_skip_hashing(outputs: list[Output], tmp_path: Path) -> None:
    media = next(o for o in outputs if o.kind is Kind.MEDIA)
    entry = digest_output(media)
    assert isinstance(media.data, Path)
    media.data.unlink()  # a build cache already knows its digest: the file is not read again
    p = plan(outputs, manifest_of([o for o in outputs if o is not media]), entries={media.key: entry})
    assert [o.key for o in p.uploads] == [media.key]
    assert p.entries[media.key] == entry


def test_duplicate_output_keys_are_refused(outputs: list[Output]) -> None:
    with pytest.raises(PipelineError) as info:
        plan([*outputs, Output("index.html", b"again", Kind.PAGE, "text/html")], None)
    assert str(info.value) == "two build outputs have the same key 'index.html'"


def test_is_noop_is_a_property_not_a_method() -> None:
    empty = UploadPlan(uploads=(), unchanged=(), stale=(), bytes_to_upload=0)
    assert empty.is_noop is True


# -- identity ---------------------------------------------------------------------------------------


def test_identity_unchanged_and_title_edits_are_fine(outputs: list[Output]) -> None:
    old = manifest_of(outputs, episodes={"g1": episode()})
    retitled = {"g1": episode(title="Why your knees hurt")}
    assert check_identity(old, retitled, "chan-1") == []
    # The same instant written in another zone is the same date.
    same_instant = {"g1": episode(date="2024-05-01T08:00:00Z")}
    assert check_identity(old, same_instant, "chan-1") == []


def test_identity_problems_are_listed_one_per_line(outputs: list[Output]) -> None:
    old = manifest_of(
        outputs,
        episodes={
            "g1": episode("g1", "knees"),
            "g2": episode("g2", "hips", url="https://cdn.example/hips.mp3", date="2024-06-01T09:00:00+00:00"),
            "g3": episode(
                "g3", "ankles", url="https://cdn.example/ankles.mp3", date="2024-07-01T09:00:00+00:00"
            ),
        },
    )
    new = {
        "g1": episode("g1", "knees", url="https://cdn.example/episodes/knees/ffff/knees.mp3"),
        "g3": episode("g3", "ankles", url="https://cdn.example/ankles.mp3", date="2024-07-02T09:00:00+00:00"),
        "g4": episode("g4", "new-one"),  # new episodes are fine
    }
    problems = check_identity(old, new, "chan-2", new_feed_url="https://other.example/feed.xml")
    assert problems == [
        "the channel's podcast:guid would change from chan-1 to chan-2 (apps would treat it as a new show)",
        "the feed URL would change from https://example.com/feed.xml to https://other.example/feed.xml "
        "(subscribers keep polling the old one; redirect it first)",
        "episode 'knees' (guid g1): enclosure URL would change from "
        "https://cdn.example/episodes/knees/a1/knees.mp3 to https://cdn.example/episodes/knees/ffff/knees.mp3 "
        "(apps may download it again or lose the listening position)",
        "episode 'hips' (guid g2) was published and is missing from this build (draft, future date, deleted, "
        "or its slug/guid changed)",
        "episode 'ankles' (guid g3): publication date would change from 2024-07-01T09:00:00+00:00 "
        "to 2024-07-02T09:00:00+00:00",
    ]
    assert all("\n" not in p for p in problems)


def test_identity_without_a_recorded_channel_guid_does_not_complain(outputs: list[Output]) -> None:
    old = manifest_of(outputs, channel_guid=None)
    assert check_identity(old, {}, "chan-9") == []
