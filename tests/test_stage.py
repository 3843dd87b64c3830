"""The audio stage: audio_url episodes, the media cache (typed keys, atomic writes, bad entries are misses),
OS errors as one line, parallel encodes identical to serial, shards and the remote cache on SeaweedFS."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from pipeline import build, cache, model
from pipeline.cli import cli
from pipeline.errors import PipelineError
from pipeline.storage import open_storage
from tests.conftest import NOW, copy_sample_show

pytest_plugins = ["tests._s3_fixtures"]  # s3_server, s3_env, bucket

REPO = Path(__file__).resolve().parent.parent
KNEES = "why-your-knees-hurt-when-you-run"
OLD_URL = "https://old-host.example.com/media/ep1.mp3?tracking=a&b=1"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _to_audio_url(show_yaml: Path, slug: str, duration: str = "00:41:07") -> Path:
    """Turn one sample episode into an imported one: its recording gone, `audio_url:` in its front matter."""
    folder = show_yaml.parent / "episodes" / slug
    md = folder / "episode.md"
    text = md.read_text()
    text = re.sub(r"^audio:.*\n", "", text, count=1, flags=re.MULTILINE)
    head, sep, rest = text.partition("\n---")
    md.write_text(
        head
        + f"\naudio_url: '{OLD_URL}'\naudio_length: 12345678\naudio_type: audio/mpeg\n"
        + f"audio_duration: '{duration}'"
        + sep
        + rest
    )
    for f in folder.iterdir():
        if f.suffix in (".flac", ".wav", ".mp3", ".m4a"):
            f.unlink()
    return md


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, list(args))
    return res.exit_code, res.output  # stdout and stderr, interleaved


# --------------------------------------------------------------------------- audio_url: (issue 11 part B)


def test_audio_url_episode_builds_without_the_file(sample_show: Path) -> None:
    _to_audio_url(sample_show, KNEES)
    result = build.build(sample_show, now=NOW)
    assert result.encoded == 2 and result.tagged == 2, "only the two episodes with recordings are encoded"
    out = result.out_dir
    items = {e.id: e for e in feedparser.parse((out / "feed.xml").read_bytes()).entries}
    ours = next(b for b in result.public if b.episode.slug == KNEES)
    item = items[ours.guid]
    enc = item.enclosures[0]
    assert (enc.href, enc.length, enc.type) == (OLD_URL, "12345678", "audio/mpeg")
    assert item.itunes_duration == "00:41:07"
    xml = (out / "feed.xml").read_text()
    assert (
        'url="https://old-host.example.com/media/ep1.mp3?tracking=a&amp;b=1"' in xml
    )  # escaped, not changed
    page = (out / "episodes" / KNEES / "index.html").read_text()
    assert 'src="https://old-host.example.com/media/ep1.mp3?tracking=a&amp;b=1"' in page
    assert not any(KNEES in str(p) for p in (out / "media").rglob("*")) if (out / "media").exists() else True
    assert all(o.key != "" for o in result.outputs)


# --------------------------------------------------------------------------- keys and entries


def test_keys_follow_every_field_of_a_typed_input() -> None:
    from pipeline import audio

    base = audio.EncodeSettings()
    assert cache.key(base) == cache.key(audio.EncodeSettings())
    for change in ({"bitrate": 96}, {"sample_rate": 48000}, {"true_peak": -2.0}, {"loudness": -16.0}):
        assert cache.key(base) != cache.key(audio.EncodeSettings(**change)), change  # type: ignore[arg-type]
    spec = audio.TagSpec(title="a", author="b", show="c", date="2024-01-01", cover=b"x")
    assert cache.key(spec) != cache.key(audio.TagSpec(title="a", author="b", show="c", date="2024-01-01"))
    assert cache.key(spec) != cache.key(
        audio.TagSpec(title="a", author="b", show="c", date="2024-01-01", cover=b"x", language="deu")
    )


@pytest.mark.parametrize("bad", [b"", b"{", b"[]", b'{"duration": "x"}', b'{"duration": NaN, "mime": 1}'])
def test_a_truncated_or_wrong_shaped_media_entry_is_a_miss_and_rebuilt(sample_show: Path, bad: bytes) -> None:
    first = build.build(sample_show, now=NOW)
    before = _tree(first.out_dir)
    cache_dir = sample_show.parent / build.CACHE_DIR
    index = cache_dir / cache.MediaCache.INDEX
    index.write_bytes(bad)  # the index alone damaged: the entries beside the media answer, nothing is redone
    assert (build.build(sample_show, now=NOW).reused, _tree(first.out_dir)) == (3, before)
    for entry in [index, *(cache_dir / "encoded").glob("*.json"), *(cache_dir / "media").glob("*.json")]:
        entry.write_bytes(bad)
    again = build.build(sample_show, now=NOW)
    assert (again.encoded, again.tagged) == (3, 3)
    assert _tree(again.out_dir) == before


def test_bad_stat_and_build_json_are_misses(sample_show: Path) -> None:
    first = build.build(sample_show, now=NOW)
    cache_dir = sample_show.parent / build.CACHE_DIR
    (cache_dir / "stat.json").write_text('{"a": [1, 2')
    (first.out_dir / build.BUILD_INFO_KEY).write_text('{"episodes": [1, 2]}')
    assert build.read_build_info(first.out_dir) == {}
    again = build.build(sample_show, now=NOW)
    assert again.reused == 3
    assert set(build.read_build_info(first.out_dir)) == {b.episode.slug for b in again.public}


def test_cache_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.json"
    cache.write_atomic(target, b"one")
    cache.write_atomic(target, lambda tmp: tmp.write_bytes(b"two"))
    assert target.read_bytes() == b"two"

    def fails(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(PipelineError, match="disk full"):
        cache.write_atomic(target, fails)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["b.json"]


# --------------------------------------------------------------------------- OS errors: one line


def _one_line_error(code: int, output: str, *needles: str) -> None:
    assert code == 1, output
    assert "Traceback" not in output, output
    lines = [ln for ln in output.splitlines() if ln.startswith("Error")]
    assert len(lines) == 1, output
    for n in needles:
        assert n in lines[0], lines[0]


def test_build_being_a_file_is_one_line(sample_show: Path) -> None:
    (sample_show.parent / "build").write_text("not a folder")
    code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "build")
    _one_line_error(code, out, "build", "move that file away")


def test_cache_folder_being_a_file_is_one_line(sample_show: Path) -> None:
    (sample_show.parent / build.CACHE_DIR).write_text("not a folder")
    code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "build")
    _one_line_error(code, out, build.CACHE_DIR)


def test_unwritable_place_inside_the_build_folder_is_one_line(sample_show: Path) -> None:
    # Tests run as root, where chmod 000 does not bite: a file where the build needs a folder does.
    (sample_show.parent / "build").mkdir()
    (sample_show.parent / "build" / "episodes").write_text("in the way")
    code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "build")
    _one_line_error(code, out, "episodes")


def test_unreadable_cover_is_one_line(sample_show: Path) -> None:
    cover = sample_show.parent / "cover.jpg"
    cover.unlink()
    cover.mkdir()  # unreadable as a file, for root too
    code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "build")
    _one_line_error(code, out, "cover.jpg")


def test_unreadable_episode_md_is_one_line(sample_show: Path) -> None:
    md = sample_show.parent / "episodes" / KNEES / "episode.md"
    if os.geteuid() != 0:
        md.chmod(0)
    else:
        md.unlink()
        md.mkdir()
    code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "build")
    assert code == 1 and "Traceback" not in out, out
    assert "episode.md" in out, out


def test_file_size_limit_is_one_line(sample_show: Path) -> None:
    """EFBIG for real: `podcast build` in a subprocess with RLIMIT_FSIZE smaller than an encoded file."""
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        # larger than every encoded file of the sample, smaller than the tagged ones (cover art added)
        "resource.setrlimit(resource.RLIMIT_FSIZE, (190000, 190000))\n"
        "from pipeline.cli import main\n"
        "sys.argv = ['podcast', '--show', sys.argv[1], '--now', sys.argv[2], 'build']\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(sample_show), NOW.isoformat()],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out, out
    errors = [ln for ln in out.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1, out
    assert "too large" in errors[0] or "file-size" in errors[0] or "ulimit" in errors[0], errors[0]


# --------------------------------------------------------------------------- parallel = serial


def test_parallel_build_is_byte_identical_to_serial(tmp_path: Path) -> None:
    trees = []
    for jobs in (1, 2):
        show = copy_sample_show(tmp_path / f"jobs{jobs}")
        code, out = _cli("--show", str(show), "--now", NOW.isoformat(), "build", "--jobs", str(jobs))
        assert code == 0, out
        assert "3 encoded, 3 tagged" in out
        trees.append(_tree(show.parent / "build"))
    assert trees[0] == trees[1]
    assert len(trees[0]) > 10


def test_parallel_build_reports_the_first_failure_in_episode_order(sample_show: Path) -> None:
    _, episodes = model.load(sample_show)  # the build's order
    for ep in episodes[1:]:
        assert ep.audio is not None
        ep.audio.write_bytes(b"not audio at all" * 100)
    assert episodes[1].audio is not None
    first_bad = model.show_rel(sample_show.parent, episodes[1].audio)
    with pytest.raises(PipelineError) as err:
        build.build(sample_show, now=NOW, jobs=2)
    assert str(err.value).startswith(str(first_bad)), str(err.value)


def test_shards_are_disjoint_and_complete() -> None:
    slugs = [f"episode-{i}" for i in range(200)]
    for n in (1, 2, 3, 7):
        shares = [{s for s in slugs if build.in_shard(s, (k, n))} for k in range(1, n + 1)]
        assert sum(len(s) for s in shares) == len(slugs)
        assert set().union(*shares) == set(slugs)
        if n > 1:
            assert all(shares), "every shard gets work at this size"


def test_shard_option_is_checked() -> None:
    for bad in ("0/2", "3/2", "x", "1/0", "1-2"):
        code, out = _cli("build", "--shard", bad)
        assert code == 2 and "K/N" in out, out


# --------------------------------------------------------------------------- shards + remote cache (SeaweedFS)


def _remote_show(folder: Path, s3_env: object, bucket: str) -> Path:
    show = copy_sample_show(folder)
    text = re.sub(r"^publish:.*\n(?:[ \t]+.*\n|[ \t]*\n)*", "", show.read_text(), flags=re.MULTILINE)
    show.write_text(
        text.rstrip("\n")
        + "\npublish:\n  target: s3\n"
        + f"  bucket: {bucket}\n  prefix: podcast/\n  region: {s3_env.region}\n"  # type: ignore[attr-defined]
        + f"  endpoint_url: {s3_env.endpoint_url}\n"  # type: ignore[attr-defined]
        + "build:\n  remote_cache: true\n"
    )
    return show


def test_shard_builds_fill_the_remote_cache_and_the_final_build_encodes_nothing(
    s3_env: object, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import audio

    serial = copy_sample_show(tmp_path / "serial")
    plain = build.build(serial, now=NOW, jobs=1)
    assert plain.encoded == 3
    # the sample show has an Opus alternate and one soundbite: 3 alternates and 1 clip to make
    assert plain.derived_made == 4
    encoded_by_shards = alternates_by_shards = clips_by_shards = 0
    for k in (1, 2):
        show = _remote_show(tmp_path / f"shard{k}", s3_env, bucket)
        code, out = _cli("--show", str(show), "--now", NOW.isoformat(), "build", "--shard", f"{k}/2")
        assert code == 0, out
        m = re.search(r"Shard \d/2: (\d+) encoded, (\d+) tagged", out)
        assert m, out
        encoded_by_shards += int(m.group(1))
        alternates_by_shards += len(re.findall(r"^Encoding .* as opus \(alternate\)$", out, re.MULTILINE))
        clips_by_shards += len(re.findall(r"^Cutting soundbite ", out, re.MULTILINE))
        assert not (show.parent / "build").exists(), "a shard build writes no build folder"
    assert encoded_by_shards == 3, "the shards split the episodes between them, each encoded once"
    assert (alternates_by_shards, clips_by_shards) == (3, 1), (
        "each shard makes its own episodes' derived media"
    )
    store = open_storage("s3", bucket=bucket, endpoint_url=s3_env.endpoint_url, region=s3_env.region)  # type: ignore[attr-defined]
    keys = [o.key for o in store.list("podcast-cache/")]
    assert len([k for k in keys if k.startswith("podcast-cache/media/") and k.endswith(".json")]) == 3
    for kind, n in (("alternate", 3), ("clip", 1)):
        records = [k for k in keys if k.startswith(f"podcast-cache/derived/{kind}/") and k.endswith(".json")]
        assert len(records) == n, (kind, keys)
        assert all(k.removesuffix(".json") in keys for k in records), "each record's file is there too"

    # Every encode and clip cut of the final build goes through these: count the calls that really happen.
    ran: list[str] = []
    real_encode, real_cut = audio.encode, audio.cut_clip

    def encode(*args: object, **kwargs: object) -> object:
        ran.append(f"encode {args[0]}")
        return real_encode(*args, **kwargs)  # type: ignore[arg-type]

    def cut_clip(*args: object, **kwargs: object) -> object:
        ran.append(f"cut {args[0]}")
        return real_cut(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(audio, "encode", encode)
    monkeypatch.setattr(audio, "cut_clip", cut_clip)
    final = _remote_show(tmp_path / "final", s3_env, bucket)
    result = build.build(final, now=NOW)
    assert ran == [], "the final build runs no encode and cuts no clip"
    assert (result.encoded, result.tagged, result.derived_made) == (0, 0, 0)
    assert result.remote_hits == 3 + 3 + 1, "3 delivery files, 3 alternates and 1 clip came from the bucket"
    # The final build's folder equals a serial build's (show.yaml differs only in publish/build settings,
    # which neither the feed nor the pages contain... except the enclosure URLs, which follow the same url:).
    assert _tree(result.out_dir) == _tree(serial.parent / "build")
    shutil.rmtree(final.parent / build.CACHE_DIR)
    code, out = _cli("--show", str(final), "--now", NOW.isoformat(), "build")
    assert code == 0 and "0 encoded, 0 tagged" in out, out
    assert "Encoding" not in out and "Cutting" not in out, out
    assert ran == []


def test_derived_media_are_shared_and_a_half_uploaded_or_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    remote = open_storage("local", path=tmp_path / "bucket")
    made = cache.DerivedMedia(tmp_path / "a", remote, "podcast-cache/")
    made.path("clip", "k1", "mp3").parent.mkdir(parents=True)
    made.path("clip", "k1", "mp3").write_bytes(b"clip bytes")
    record = {"duration": 1.5, "sha256": hashlib.sha256(b"clip bytes").hexdigest(), "size": 10}
    made.put("clip", "k1", "mp3", record)
    assert made.uploaded == 1
    other = cache.DerivedMedia(tmp_path / "b", remote, "podcast-cache/")
    assert other.record("clip", "k1", "mp3") == record, "the record alone, without fetching the file"
    assert not other.path("clip", "k1", "mp3").exists()
    hit = other.get("clip", "k1", "mp3")
    assert hit is not None and hit[0].read_bytes() == b"clip bytes" and hit[1] == record
    assert other.remote_hits == 1
    assert other.get("clip", "k1", "mp3", fetch=False) is not None, "now a local hit"

    rkey = "podcast-cache/derived/clip/k1.mp3"
    remote.put(rkey, b"clip bytez", content_type="application/octet-stream", cache_control="")
    assert cache.DerivedMedia(tmp_path / "c", remote, "podcast-cache/").get("clip", "k1", "mp3") is None
    remote.delete([rkey])  # the record is there, its file is not: an upload cut short
    fresh = cache.DerivedMedia(tmp_path / "d", remote, "podcast-cache/")
    assert fresh.get("clip", "k1", "mp3") is None and fresh.remote_hits == 0
    assert not fresh.path("clip", "k1", "mp3").with_suffix(".json").exists()


def test_remote_cache_needs_an_s3_target(sample_show: Path) -> None:
    sample_show.write_text(sample_show.read_text() + "build:\n  remote_cache: true\n")
    code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "build")
    _one_line_error(code, out, "build.remote_cache", "s3")


def test_build_json_lists_the_audio_url_episode(sample_show: Path) -> None:
    _to_audio_url(sample_show, KNEES)
    result = build.build(sample_show, now=NOW)
    rows = json.loads((result.out_dir / build.BUILD_INFO_KEY).read_text())["episodes"]
    assert rows[KNEES]["size"] == 12345678 and rows[KNEES]["mime"] == "audio/mpeg"


def test_audio_url_episode_publishes_without_uploading_media(sample_show: Path) -> None:
    _to_audio_url(sample_show, KNEES)
    for _ in range(2):  # the second publish is a no-op: the old URL is nobody's object to check or re-send
        code, out = _cli("--show", str(sample_show), "--now", NOW.isoformat(), "publish")
        assert code == 0, out
    public = sample_show.parent / "public"
    assert OLD_URL.replace("&", "&amp;") in (public / "feed.xml").read_text()
    media = [p for p in public.rglob("*.mp3")]
    assert len(media) == 2 and not any(KNEES in str(p) for p in media)
