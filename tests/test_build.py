"""`podcast build` end to end on the sample show: tags and loudness read back, sources untouched, incremental."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
import yaml
from click.testing import CliRunner, Result
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3
from PIL import Image

from pipeline import audio, build, feed
from pipeline.artifacts import EpisodeRecord, Loudness
from pipeline.audio import encoding as audio_encoding
from pipeline.cli import cli
from tests._audio_fixtures import chapter_seconds, ebur128, ffmetadata, make_audio
from tests.conftest import NOW, copy_sample_show

NOW_ARG = NOW.isoformat()
# ffmpeg moves MP3 chapter times by the decoder delay (about 25 ms) when it reads them back.
FFMPEG_CHAPTER_SLACK = 0.05

# --------------------------------------------------------------------------- helpers


def invoke(*args: str, ok: bool = True) -> Result:
    """Run the real CLI; a stray exception fails the test instead of becoming an exit code."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def podcast_build(show: Path, *more: str, ok: bool = True) -> Result:
    return invoke("build", "--show", str(show), "--now", NOW_ARG, *more, ok=ok)


def rebuild(show: Path) -> build.BuildResult:
    return build.build(show, now=NOW)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class FileState:
    sha256: str
    mtime_ns: int
    inode: int


def snapshot(folder: Path) -> dict[str, FileState]:
    """Every file under `folder`: content hash, mtime and inode (a rewrite changes the last two)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(folder).as_posix()] = FileState(sha256(path), st.st_mtime_ns, st.st_ino)
    return out


def front_matter(md: Path) -> dict[str, object]:
    """The YAML between the first two `---` lines, parsed independently of pipeline.model."""
    _, head, _ = md.read_text().split("---\n", 2)
    return dict(yaml.safe_load(head))


def seconds(stamp: str) -> float:
    parts = [int(p) for p in stamp.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0)
    h, m, s = parts
    return float(h * 3600 + m * 60 + s)


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str


@dataclass(frozen=True)
class Expected:
    """One episode as its episode.md describes it."""

    slug: str
    title: str
    number: int
    season: int
    date: dt.datetime
    chapters: tuple[Chapter, ...]


def expected_episodes(show: Path) -> dict[str, Expected]:
    out = {}
    for md in sorted((show.parent / "episodes").glob("*/episode.md")):
        fm = front_matter(md)
        chapters = []
        for line in fm.get("chapters") or []:  # type: ignore[attr-defined]
            stamp, title = str(line).split(" ", 1)
            chapters.append(Chapter(seconds(stamp), title))
        date = fm["date"]
        assert isinstance(date, dt.datetime) and date.tzinfo is not None
        out[md.parent.name] = Expected(
            md.parent.name,
            str(fm["title"]),
            int(fm["number"]),  # type: ignore[call-overload]
            int(fm["season"]),
            date,
            tuple(chapters),
        )  # type: ignore[call-overload]
    return out


@dataclass(frozen=True)
class FeedItem:
    title: str
    page_url: str
    media: Path  # the enclosure's file in the build folder
    length: int


def feed_items(show: Path) -> tuple[str, dict[str, FeedItem]]:
    """(self URL, slug -> item) of build/feed.xml as feedparser reads it; enclosures mapped to built files."""
    out_dir = show.parent / build.BUILD_DIR
    doc = feedparser.parse((out_dir / "feed.xml").read_bytes())
    assert not doc.bozo, doc.get("bozo_exception")
    (self_url,) = [link.href for link in doc.feed.links if link.rel == "self"]
    base = self_url.rsplit("/", 1)[0] + "/"
    items = {}
    for entry in doc.entries:
        (enc,) = [link for link in entry.links if link.rel == "enclosure"]
        assert enc.href.startswith(base)
        slug = entry.link.rstrip("/").rsplit("/", 1)[1]
        items[slug] = FeedItem(entry.title, entry.link, out_dir / enc.href[len(base) :], int(enc.length))
    return self_url, items


def set_front_matter(show: Path, slug: str, old: str, new: str) -> None:
    md = show.parent / "episodes" / slug / "episode.md"
    text = md.read_text()
    assert old in text
    md.write_text(text.replace(old, new, 1))


KNEES = "why-your-knees-hurt-when-you-run"  # FLAC source, chapters, transcript; oldest
SHIN = "shin-splints-are-a-load-problem"  # WAV source, chapters
COMING = "coming-back-after-a-running-injury"  # MP3 source; newest
SLUGS = (KNEES, SHIN, COMING)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample show built once by `podcast build` (read-only for tests; copy it to change anything)."""
    show = copy_sample_show(tmp_path_factory.mktemp("seed") / "show")
    result = podcast_build(show)
    assert result.stdout.startswith("Built 3 episodes: 3 encoded, 3 tagged, 0 unchanged;")
    return show


@pytest.fixture
def built(seed: Path, tmp_path: Path) -> Path:
    """A copy of the built seed show (build folder and cache included), settled: a rebuild would do nothing."""
    shutil.copytree(seed.parent, tmp_path / "show")
    show = tmp_path / "show" / "show.yaml"
    first = rebuild(show)  # the copy's paths are new to the stat cache: hashed once here, trusted afterwards
    assert (first.encoded, first.tagged, first.reused) == (0, 0, 3)
    return show


# --------------------------------------------------------------------------- tags, chapters, loudness


def test_feed_lists_the_built_mp3s(seed: Path) -> None:
    _, items = feed_items(seed)
    assert sorted(items) == sorted(SLUGS)
    for item in items.values():
        assert item.media.is_file(), item.media
        assert item.media.suffix == ".mp3"
        assert item.length == item.media.stat().st_size
        info = MP3(item.media).info
        assert (info.sample_rate, info.bitrate) == (44100, {1: 96_000, 2: 128_000}[info.channels])  # defaults


def test_build_json_round_trips_the_typed_record(built: Path) -> None:
    """build.json holds each built episode's record; reading it back gives the same typed values."""
    result = rebuild(built)
    info = build.read_build_info(result.out_dir)
    assert sorted(info) == sorted(b.episode.slug for b in result.public)
    for b in result.public:
        a = b.audio
        assert isinstance(a.loudness, Loudness)
        assert info[b.episode.slug] == EpisodeRecord(round(a.duration, 3), a.size, a.mime, a.key, a.loudness)


@pytest.mark.parametrize(
    "text",
    ['{"episodes": {"x": {"duration": "soon"}}}', '{"episodes": [1]}', '{"episodes": {"x": {"dur', "[]"],
)
def test_a_truncated_or_wrong_shaped_build_json_is_no_record(tmp_path: Path, text: str) -> None:
    (tmp_path / build.BUILD_INFO_KEY).parent.mkdir(parents=True)
    (tmp_path / build.BUILD_INFO_KEY).write_text(text)
    assert build.read_build_info(tmp_path) == {}


def test_built_mp3_tags_read_by_mutagen(seed: Path) -> None:
    show_yaml = yaml.safe_load(seed.read_text())
    feed_url, items = feed_items(seed)
    info = build.read_build_info(seed.parent / build.BUILD_DIR)
    for slug, want in expected_episodes(seed).items():
        item = items[slug]
        tags = ID3(item.media)
        assert tags.version == (2, 4, 0)
        assert str(tags["TIT2"]) == want.title == item.title
        assert str(tags["TALB"]) == show_yaml["title"]
        assert str(tags["TPE1"]) == show_yaml["author"]
        assert str(tags["TRCK"]) == str(want.number)
        assert str(tags["TPOS"]) == str(want.season)
        assert str(tags["TCON"]) == "Podcast"
        assert str(tags["TDRC"]).replace(" ", "T") == want.date.astimezone(dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
        assert tags["WOAS"].url == item.page_url
        assert tags["WFED"].url == feed_url

        (cover,) = tags.getall("APIC")
        assert (cover.mime, cover.type) == ("image/jpeg", 3)
        with Image.open(io.BytesIO(cover.data)) as image:
            assert image.format == "JPEG"
            assert max(image.size) <= 1400

        duration_ms = round(info[slug].duration * 1000)
        chaps = tags.getall("CHAP")
        tocs = tags.getall("CTOC")
        if not want.chapters:
            assert chaps == [] and tocs == []
            continue
        (toc,) = tocs
        assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
        assert toc.child_element_ids == [c.element_id for c in chaps]
        starts = [round(c.start * 1000) for c in want.chapters]
        assert [(c.start_time, c.end_time) for c in chaps] == list(
            zip(starts, [*starts[1:], duration_ms], strict=True)
        )
        assert [str(c.sub_frames["TIT2"]) for c in chaps] == [c.title for c in want.chapters]


def test_built_mp3_tags_read_by_ffmpeg(seed: Path) -> None:
    show_yaml = yaml.safe_load(seed.read_text())
    _, items = feed_items(seed)
    info = build.read_build_info(seed.parent / build.BUILD_DIR)
    for slug, want in expected_episodes(seed).items():
        tags, chapters = ffmetadata(items[slug].media)
        assert tags["title"] == want.title
        assert tags["album"] == show_yaml["title"]
        assert tags["artist"] == show_yaml["author"]
        assert tags["track"] == str(want.number)
        assert tags["genre"] == "Podcast"
        assert tags["date"] == want.date.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        assert [c["title"] for c in chapters] == [c.title for c in want.chapters]
        ends = [c.start for c in want.chapters[1:]] + [info[slug].duration] * bool(want.chapters)
        for got, chapter, end in zip(chapters, want.chapters, ends, strict=True):
            start_s, end_s = chapter_seconds(got)
            assert start_s == pytest.approx(chapter.start, abs=FFMPEG_CHAPTER_SLACK)
            assert end_s == pytest.approx(end, abs=FFMPEG_CHAPTER_SLACK)


@pytest.mark.parametrize("slug", SLUGS)
def test_built_audio_is_at_the_show_loudness(seed: Path, slug: str) -> None:
    target = float(yaml.safe_load(seed.read_text())["audio"]["loudness"])
    _, items = feed_items(seed)
    measured = ebur128(items[slug].media)  # ffmpeg's ebur128 filter, not pipeline.audio
    assert measured.true_peak <= -1.0
    assert measured.integrated == pytest.approx(target, abs=1.0)


def test_list_shows_the_last_builds_measurements(seed: Path) -> None:
    out = invoke("list", "--show", str(seed), "--now", NOW_ARG).stdout.splitlines()
    header = out[0].split()
    assert header[-3:] == ["DURATION", "LUFS", "TRUE_PEAK"]
    rows = {line.split()[1]: line.split() for line in out[1:]}
    info = build.read_build_info(seed.parent / build.BUILD_DIR)
    assert sorted(rows) == sorted(SLUGS)
    for slug, cells in rows.items():
        duration, lufs, peak = cells[-3:]
        assert re.fullmatch(r"\d\d:\d\d:\d\d", duration)
        assert seconds(duration) == round(info[slug].duration)
        assert -18.0 < float(lufs) < -14.0
        assert float(peak) <= -1.0
    as_json = json.loads(invoke("list", "--show", str(seed), "--now", NOW_ARG, "--format", "json").stdout)
    assert all(row["lufs"] is not None and row["duration"] > 0 for row in as_json)


# --------------------------------------------------------------------------- sources are read-only


def source_state(show: Path) -> dict[str, FileState]:
    return snapshot(show.parent / "episodes")


def test_build_feed_tag_publish_leave_sources_untouched(tmp_path: Path) -> None:
    show = copy_sample_show(tmp_path / "show")
    before = source_state(show)
    assert any(k.endswith(".mp3") for k in before)  # an MP3 source: the one a careless tagger would write to
    common = ("--show", str(show), "--now", NOW_ARG)
    podcast_build(show)
    invoke("feed", *common)
    tagged = invoke("tag", *common).stdout
    assert f"Tagged {COMING}: " in tagged
    published = invoke("publish", *common).stdout
    assert (show.parent / "public" / "feed.xml").is_file(), published
    assert source_state(show) == before


def test_tag_in_place_changes_only_that_source(built: Path) -> None:
    before = source_state(built)
    result = invoke("tag", "--in-place", COMING, "--show", str(built), "--now", NOW_ARG)
    assert result.stdout == f"Tagged episodes/{COMING}/audio.mp3 in place\n"
    after = source_state(built)
    changed = sorted(k for k in before if before[k] != after.get(k))
    assert changed == [f"{COMING}/audio.mp3"]
    assert set(after) == set(before)  # no temp file left beside it
    tags = ID3(built.parent / "episodes" / COMING / "audio.mp3")
    want = expected_episodes(built)[COMING]
    assert str(tags["TIT2"]) == want.title
    assert str(tags["TRCK"]) == str(want.number)
    assert tags.getall("APIC")[0].mime == "image/jpeg"


@pytest.mark.parametrize(("slug", "kind"), [(SHIN, "wav"), (KNEES, "flac")])
def test_tag_in_place_refuses_wav_and_flac(built: Path, slug: str, kind: str) -> None:
    before = source_state(built)
    result = invoke("tag", "--in-place", slug, "--show", str(built), "--now", NOW_ARG, ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: episodes/{slug}/audio.{kind}: cannot tag a {kind.upper()} file in place "
        "(only MP3 and M4A carry podcast tags; `podcast build` tags the encoded copy)"
    ]
    assert source_state(built) == before


# --------------------------------------------------------------------------- incremental


def test_a_second_build_does_nothing(built: Path) -> None:
    out_dir = built.parent / build.BUILD_DIR
    before = snapshot(out_dir)
    result = podcast_build(built)
    assert result.stdout.startswith("Built 3 episodes: 0 encoded, 0 tagged, 3 unchanged; 0 files written")
    assert snapshot(out_dir) == before  # same bytes, same mtimes, same inodes: nothing rewritten


def changes(before: dict[str, FileState], after: dict[str, FileState]) -> tuple[set[str], set[str]]:
    """(written: new or changed files, removed)."""
    written = {k for k in after if before.get(k) != after[k]}
    return written, set(before) - set(after)


def test_a_new_title_retags_one_episode_and_rewrites_what_shows_it(built: Path) -> None:
    out_dir = built.parent / build.BUILD_DIR
    before = snapshot(out_dir)
    set_front_matter(
        built, COMING, "title: Coming back after a running injury", "title: Back after an injury"
    )
    result = rebuild(built)
    assert (result.encoded, result.tagged, result.reused) == (0, 1, 2)
    written, removed = changes(before, snapshot(out_dir))
    assert (result.written, result.removed) == (len(written), len(removed))
    # The episode's own files, its one neighbour's page (prev/next link text), the index, the feed, build info.
    depends = {f"episodes/{COMING}/", f"episodes/{SHIN}/index.html", "index.html", "feed.xml", ".podcast/"}
    assert all(any(k.startswith(d) for d in depends) for k in written | removed), sorted(written | removed)
    assert {
        f"episodes/{COMING}/index.html",
        f"episodes/{SHIN}/index.html",
        "index.html",
        "feed.xml",
    } <= written
    # The media key is content-addressed: new tags, new file; the old one is removed from the build folder,
    # with the waveform peaks beside it and the share card that showed the old title.
    (old_media,) = [k for k in removed if k.endswith(".mp3")]
    (old_card,) = [k for k in removed if k.endswith("/share.jpg")]
    (old_opus,) = [k for k in removed if k.endswith(".opus")]
    assert removed == {old_media, old_media.rsplit("/", 1)[0] + "/peaks.json", old_card, old_opus}
    (new_media,) = [k for k in written if k.endswith(".mp3")]
    assert old_media.startswith(f"episodes/{COMING}/") and new_media.startswith(f"episodes/{COMING}/")
    assert str(ID3(out_dir / new_media)["TIT2"]) == "Back after an injury"
    assert not (out_dir / old_media).parent.exists()  # its content-addressed folder went with it


def test_stray_files_and_empty_folders_in_the_build_folder_are_removed(built: Path) -> None:
    out_dir = built.parent / build.BUILD_DIR
    before = snapshot(out_dir)
    (out_dir / "old" / "deep").mkdir(parents=True)
    (out_dir / "old" / "deep" / "page.html").write_text("stale")
    (out_dir / "empty" / "folder").mkdir(parents=True)
    (out_dir / "episodes" / SHIN / "notes.txt").write_text("stale")
    result = rebuild(built)
    assert (result.written, result.removed) == (0, 2)
    assert not (out_dir / "old").exists() and not (out_dir / "empty").exists()
    assert snapshot(out_dir) == before


def test_a_new_source_recording_reencodes_only_that_episode(built: Path) -> None:
    source = built.parent / "episodes" / SHIN / "audio.wav"
    make_audio(source, source="noise", seconds=7.0)  # its last chapter starts at 00:06
    result = rebuild(built)
    assert (result.encoded, result.tagged, result.reused) == (1, 1, 2)
    assert build.read_build_info(result.out_dir)[SHIN].duration == pytest.approx(7.0, abs=0.05)


def test_new_audio_settings_reencode_every_episode(built: Path) -> None:
    text = built.read_text()
    assert "audio:\n  format: mp3\n" in text
    built.write_text(text.replace("audio:\n  format: mp3\n", "audio:\n  format: mp3\n  bitrate: 96\n"))
    result = rebuild(built)
    assert (result.encoded, result.tagged, result.reused) == (3, 3, 0)
    _, items = feed_items(built)
    assert {MP3(item.media).info.bitrate for item in items.values()} == {96_000}


@pytest.fixture
def new_recipe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The audio recipe number bumped, as its maintainers do when the encode or tag recipe changes.

    It is patched in pipeline/audio/encoding.py, where tool_versions() reads it.
    """
    monkeypatch.setattr(audio_encoding, "RECIPE_VERSION", audio.RECIPE_VERSION + 1)
    yield


def test_new_tool_versions_reencode_every_episode(built: Path, new_recipe: None) -> None:
    assert "recipe" in audio.tool_versions()
    result = rebuild(built)
    assert (result.encoded, result.tagged, result.reused) == (3, 3, 0)


def test_the_feed_is_rendered_again_only_when_its_inputs_change(built: Path) -> None:
    out_dir = built.parent / build.BUILD_DIR
    result = rebuild(built)
    assert result.written == 0
    fresh = feed.render(
        result.show, result.public, artwork_url=result.artwork_url, images=result.artwork_sizes
    )
    assert [o.data for o in fresh] == [
        (out_dir / "feed.xml").read_bytes()
    ]  # the reused feed is what a render gives
    # A damaged cache entry is rendered again, to the same bytes.
    (cached,) = (built.parent / build.CACHE_DIR / build.FEED_CACHE).glob("*.feed")
    cached.write_bytes(b"{not json")
    assert rebuild(built).written == 0
    # A show-level change (no episode changed) reaches the feed.
    text = built.read_text()
    built.write_text(text.replace("title: The Stride Clinic\n", "title: The Stride Clinic Podcast\n", 1))
    changed = rebuild(built)
    assert b"<title>The Stride Clinic Podcast</title>" in (out_dir / "feed.xml").read_bytes()
    assert "feed.xml" in {o.key for o in changed.outputs}
    fresh = feed.render(
        changed.show, changed.public, artwork_url=changed.artwork_url, images=changed.artwork_sizes
    )
    assert [o.data for o in fresh] == [(out_dir / "feed.xml").read_bytes()]


def test_an_unchanged_show_reads_no_audio_bytes(built: Path) -> None:
    """Sources overwritten in place with zeros, size and mtime restored: a build that read them would fail."""
    out_dir = built.parent / build.BUILD_DIR
    before = snapshot(out_dir)
    sources = sorted((built.parent / "episodes").glob("*/audio.*"))
    for src in sources:
        st = src.stat()
        with src.open("r+b") as fh:  # same inode, same size, other bytes
            fh.write(b"\0" * st.st_size)
        os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (src.stat().st_ino, src.stat().st_size, src.stat().st_mtime_ns) == (
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
        )
    result = rebuild(built)
    assert (result.encoded, result.tagged, result.reused, result.written) == (0, 0, 3, 0)
    assert snapshot(out_dir) == before
    # The control: once the stat changes, the same zeros are read, hashed and refused.
    os.utime(sources[0])
    failed = podcast_build(built, ok=False)
    assert failed.exit_code == 1
    assert failed.stderr.splitlines()[-1].startswith(
        f"Error: episodes/{sources[0].parent.name}/{sources[0].name}: "
    )


def test_a_touched_source_is_rehashed_not_reencoded(built: Path) -> None:
    for src in (built.parent / "episodes").glob("*/audio.*"):
        os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    result = rebuild(built)
    assert (result.encoded, result.tagged, result.reused, result.written) == (0, 0, 3, 0)


def test_two_clean_builds_are_byte_identical(seed: Path, tmp_path: Path) -> None:
    other = copy_sample_show(tmp_path / "elsewhere" / "deeper")
    podcast_build(other)
    first, second = (snapshot(s.parent / build.BUILD_DIR) for s in (seed, other))
    assert sorted(first) == sorted(second)
    assert {k: v.sha256 for k, v in first.items()} == {k: v.sha256 for k, v in second.items()}
    assert any(k.endswith(".mp3") for k in first) and "feed.xml" in first and "index.html" in first


# --------------------------------------------------------------------------- drafts and scheduled episodes


def test_scheduled_episodes_are_built_but_not_published_and_drafts_not_built(built: Path) -> None:
    future = (NOW + dt.timedelta(days=3)).isoformat()
    set_front_matter(built, COMING, "date: 2025-03-18T07:00:00+00:00", f"date: {future}")
    set_front_matter(built, KNEES, "number: 1\n", "number: 1\ndraft: true\n")
    result = rebuild(built)
    assert result.tagged + result.reused == 2  # the draft's audio is not even looked at
    info = build.read_build_info(result.out_dir)
    assert sorted(info) == [COMING, SHIN]
    assert info[COMING].duration > 0
    out_dir = result.out_dir
    _, items = feed_items(built)
    assert sorted(items) == [SHIN]
    assert not (out_dir / "episodes" / COMING).exists()
    assert not (out_dir / "episodes" / KNEES).exists()
    for page in ("index.html", "sitemap.xml", f"episodes/{SHIN}/index.html"):
        text = (out_dir / page).read_text()
        assert COMING not in text and KNEES not in text, page
    # When its time comes, the scheduled episode appears without encoding anything.
    later = build.build(built, now=NOW + dt.timedelta(days=4))
    assert (later.encoded, later.tagged) == (0, 0)
    assert (out_dir / "episodes" / COMING / "index.html").is_file()


# --------------------------------------------------------------------------- errors


def test_bad_audio_is_one_error_line_and_the_previous_build_stays(built: Path) -> None:
    out_dir = built.parent / build.BUILD_DIR
    before = snapshot(out_dir)
    (built.parent / "episodes" / COMING / "audio.mp3").write_text("# Notes\n\nThis is not audio.\n")
    result = podcast_build(built, ok=False)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"Error: episodes/{COMING}/audio.mp3: not an audio file")
    assert result.stderr.splitlines()[-1] == errors[0]
    assert "Traceback" not in result.output
    assert snapshot(out_dir) == before  # feed.xml included: bytes, mtime, inode


def test_a_chapter_after_the_end_names_the_episode_and_the_chapter(built: Path) -> None:
    set_front_matter(
        built,
        SHIN,
        "  - 00:06 Building bone the slow way\n",
        "  - 00:06 Building bone the slow way\n  - 00:45 Listener questions\n",
    )
    result = podcast_build(built, ok=False)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert re.fullmatch(
        rf"Error: episodes/{SHIN}/episode\.md: chapters\[3\]: starts at 00:00:45, "
        r"but the audio ends at 00:00:06(\.\d+)? \(remove the chapter or fix its time\)",
        line,
    ), line


@pytest.mark.parametrize("text", ['{"x": 1', "[1, 2]", '{"%s": 5}', '{"%s": [1, 2]}', '{"%s": {"a": 1}}'])
def test_a_truncated_or_wrong_shaped_stat_cache_is_a_miss(tmp_path: Path, text: str) -> None:
    from pipeline.cache import StatCache

    file = tmp_path / "a.bin"
    file.write_bytes(b"hello")
    (tmp_path / "stat.json").write_text(text.replace("%s", str(file)))
    assert StatCache(tmp_path / "stat.json").digest(file) == hashlib.sha256(b"hello").hexdigest()
