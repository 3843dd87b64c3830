"""Incremental rebuilds: an edit rebuilt on top of the last build gives exactly a cold build's bytes, and the
model's parse cache trusts an episode only while every stat it was judged on is unchanged."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from pipeline import build, model
from pipeline.cache import ParseCache
from pipeline.errors import ContentErrors
from tests.conftest import NOW, copy_sample_show

KNEES = "why-your-knees-hurt-when-you-run"  # FLAC source, chapters, transcript
SHIN = "shin-splints-are-a-load-problem"  # WAV source, chapters
COMING = "coming-back-after-a-running-injury"  # MP3 source; newest


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` by relative path, as its sha256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def sources(show: Path, dest: Path) -> Path:
    """A copy of the show's sources only (no build folder, no cache): what a cold build starts from."""
    shutil.copytree(
        show.parent, dest, ignore=shutil.ignore_patterns(build.CACHE_DIR, build.BUILD_DIR), symlinks=True
    )
    return dest / "show.yaml"


def age(folder: Path, seconds: int = 3600) -> None:
    """Move every mtime under `folder` back: the files look settled, as a show's sources do between edits."""
    for p in [folder, *folder.rglob("*")]:
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - seconds * 10**9))


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample show built once, its sources aged so the parse cache keeps every episode."""
    show = copy_sample_show(tmp_path_factory.mktemp("seed") / "show")
    age(show.parent / model.EPISODES_DIR)
    build.build(show, now=NOW)
    return show


@pytest.fixture
def built(seed: Path, tmp_path: Path) -> Path:
    shutil.copytree(seed.parent, tmp_path / "show", symlinks=True)
    show = tmp_path / "show" / "show.yaml"
    build.build(show, now=NOW)  # the copy's paths are new to the caches: settled here
    return show


def load(show: Path) -> tuple[ParseCache, tuple[model.Episode, ...]]:
    parsed = ParseCache(show.parent / build.CACHE_DIR / build.PARSE_CACHE, model.parser_versions())
    _, episodes = model.load(show, parse_cache=parsed)
    parsed.save()
    return parsed, episodes


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda text: text + "\nOne more line of notes.\n", id="notes"),
        pytest.param(lambda text: text.replace("title: ", "title: Now, ", 1), id="title"),
    ],
)
def test_an_edited_episode_rebuilt_incrementally_equals_a_cold_build(
    built: Path, tmp_path: Path, edit
) -> None:
    md = built.parent / model.EPISODES_DIR / SHIN / model.NOTES_FILE
    md.write_text(edit(md.read_text()))
    result = build.build(built, now=NOW)
    assert result.written > 0
    cold = sources(built, tmp_path / "cold")
    build.build(cold, now=NOW)
    assert tree(built.parent / build.BUILD_DIR) == tree(cold.parent / build.BUILD_DIR)
    again = build.build(built, now=NOW)  # and the incremental state it left is settled
    assert (again.encoded, again.tagged, again.written, again.removed) == (0, 0, 0, 0)


def test_unchanged_episodes_come_from_the_cache_as_the_same_episodes(built: Path) -> None:
    _, plain = model.load(built)
    parsed, episodes = load(built)
    assert episodes == plain
    assert (parsed.hits, parsed.misses) == (len(plain), 0)
    md = built.parent / model.EPISODES_DIR / COMING / model.NOTES_FILE
    md.write_text(md.read_text().replace("title: ", "title: Edited, ", 1))
    parsed, episodes = load(built)
    assert (parsed.hits, parsed.misses) == (len(plain) - 1, 1)
    assert {e.slug: e.title for e in episodes}[COMING].startswith("Edited, ")


def test_a_changed_audio_file_is_validated_again(built: Path) -> None:
    load(built)
    audio = next((built.parent / model.EPISODES_DIR / COMING).glob("audio.*"))
    audio.write_bytes(b"")  # same name, new size: the unchanged episode.md now names an empty file
    with pytest.raises(ContentErrors) as caught:
        load(built)
    assert any(COMING in str(p) and "empty" in str(p) for p in caught.value.problems)


def test_a_file_appearing_in_the_folder_is_seen(built: Path) -> None:
    """transcript.vtt is used when the front matter names none: the folder's own stat is in the stamp."""
    load(built)
    folder = built.parent / model.EPISODES_DIR / COMING
    assert {e.slug: e for e in load(built)[1]}[COMING].transcript is None
    shutil.copy(
        next((built.parent / model.EPISODES_DIR / KNEES).glob("*.vtt")), folder / model.AUTO_TRANSCRIPT
    )
    assert {e.slug: e for e in load(built)[1]}[COMING].transcript == folder / model.AUTO_TRANSCRIPT


def test_a_symlinked_file_is_validated_on_every_load(built: Path, tmp_path: Path) -> None:
    """Where a link points can change without its stat changing: such an episode is never kept."""
    folder = built.parent / model.EPISODES_DIR / COMING
    audio = next(folder.glob("audio.*"))
    outside = tmp_path / "outside" / audio.name
    outside.parent.mkdir()
    shutil.copy2(audio, outside)
    kept = folder / ("kept" + audio.suffix)
    audio.rename(kept)
    audio.symlink_to(kept.name)  # inside the show: loads
    age(folder)
    load(built)
    assert {e.slug for e in load(built)[1]} >= {COMING}
    audio.unlink()
    audio.symlink_to(outside)  # now it leaves the show folder
    with pytest.raises(ContentErrors) as caught:
        load(built)
    assert any(COMING in str(p) and "outside the show folder" in str(p) for p in caught.value.problems)


def test_a_just_written_file_is_not_trusted_by_its_stat(built: Path) -> None:
    """An edit within the file system's mtime granularity could leave size and mtime as they were: an
    episode judged on a file that changed moments ago is validated again next load (as git's racy check)."""
    md = built.parent / model.EPISODES_DIR / COMING / model.NOTES_FILE
    md.write_text(md.read_text().replace("title: ", "title: Fresh, ", 1))
    for _ in range(2):
        parsed, _ = load(built)
        assert (parsed.hits, parsed.misses) == (2, 1)  # read and validated again on every load while fresh
    st = md.stat()
    md.write_text(md.read_text().replace("title: Fresh, ", "title: Fresh. ", 1))  # same size
    os.utime(md, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime, as a fast second save can leave
    assert md.stat().st_size == st.st_size
    assert {e.slug: e.title for e in load(built)[1]}[COMING].startswith("Fresh. ")
