"""`podcast import`: host-style feeds served from 127.0.0.1, real audio, faults injected for real."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import imageio_ffmpeg
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from benchmarks.bench_import import big_feed
from pipeline import importer, model, urls
from pipeline.cli import cli
from pipeline.errors import ContentErrors, PipelineError, UnreadableFeed
from pipeline.progress import ListReporter

FIXTURES = Path(__file__).parent / "fixtures" / "import"

#: fixture file -> where the stub server serves it
FEEDS = {
    "libsyn": "/libsyn/rss",
    "anchor": "/anchor/podcast/rss",
    "buzzsprout": "/buzzsprout/123456.rss",
    "megaphone": "/megaphone/BRF123",
    "podlove": "/podlove/feed/mp3/",
    "pc20": "/pc20/feed.xml",
    "sample": "/sample/feed.xml",
    "paged-1": "/paged/feed.xml",
    "paged-2": "/paged/page2.xml",
    "paged-3": "/paged/page3.xml",
}
HOSTS = ["libsyn", "anchor", "buzzsprout", "megaphone", "podlove", "pc20", "sample"]
#: the sample show's own built feed (the golden file), its artwork served by the stub
GOLDEN_FEED = Path(__file__).parent / "golden" / "feed.xml"


def _mp3(freq: int) -> bytes:
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={freq}:duration=2",
    ]
    cmd += ["-ac", "1", "-b:a", "32k", "-f", "mp3", "-"]
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def _jpeg(color: tuple[int, int, int], size: int = 1400) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, "JPEG", quality=60)
    return buf.getvalue()


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (1400, 1400), color).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Stub:
    """A threading http.server on 127.0.0.1 with files, Range, and faults: 404, 500, loops, drops."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: list[str] = field(default_factory=list)
    flaky_seen: set[str] = field(default_factory=set)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def render(self, name: str) -> bytes:
        if name == "sample":
            text = GOLDEN_FEED.read_text(encoding="utf-8")
            art = re.search(r'<itunes:image href="([^"]+)"', text)
            assert art is not None
            return text.replace(art.group(1), self.base + "/art/cover.jpg").encode("utf-8")
        text = (FIXTURES / f"{name}.xml").read_text(encoding="utf-8")
        text = text.replace("{base}", self.base).replace("{hostport}", f"127.0.0.1:{self.port}")
        text = re.sub(r"\{len:([\w.]+)\}", lambda m: str(len(self.files["/media/" + m.group(1)])), text)
        return text.encode("utf-8")


def _handler(stub: Stub) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/404":
                return self._status(404, "Not Found")
            if path == "/500":
                return self._status(500, "Internal Server Error")
            if path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            drop = path.startswith("/drop/")
            flaky = path.startswith("/flaky/")
            real = "/" + path.split("/", 2)[2] if drop or flaky else path
            body = stub.files.get(real)
            if body is None:
                return self._status(404, "Not Found")
            rng = self.headers.get("Range")
            if rng:
                stub.ranges.append(rng)
                start = int(rng.split("=")[1].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                part = body[start:]
            else:
                self.send_response(200)
                part = body
            self.send_header("Content-Length", str(len(part)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            first_time = flaky and real not in stub.flaky_seen
            if drop or (first_time and not rng):
                stub.flaky_seen.add(real)
                self.wfile.write(part[: len(part) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return None
            self.wfile.write(part)
            return None

        def _status(self, code: int, text: str) -> None:
            self.send_response(code, text)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    st = Stub()
    st.files["/media/a1.mp3"] = _mp3(440)
    st.files["/media/a2.mp3"] = _mp3(660)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(st))
    server.daemon_threads = True
    st.port = server.server_address[1]
    st.files["/podlove/file/2/s/feed/c/mp3/nc002.mp3"] = st.files["/media/a2.mp3"]
    st.files["/podlove/file/1/s/feed/c/mp3/nc001.mp3"] = st.files["/media/a1.mp3"]
    st.files["/art/cover.jpg"] = _jpeg((30, 90, 60))
    st.files["/art/cover.png"] = _png((90, 30, 60))
    st.files["/art/ep2.jpg"] = _jpeg((200, 100, 0), 1400)
    st.files["/art/kay.jpg"] = _jpeg((10, 10, 10), 200)
    vtt = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello and welcome.\n"
    srt = b"1\n00:00:00,000 --> 00:00:01,500\nHello and welcome.\n"
    chapters = json.dumps(
        {
            "version": "1.2.0",
            "chapters": [{"startTime": 0, "title": "Start"}, {"startTime": 1.0, "title": "Middle"}],
        }
    ).encode()
    st.files["/buzz/15000002/transcript.vtt"] = vtt
    st.files["/buzz/15000002/chapters.json"] = chapters
    st.files["/pc20/ow-0002.srt"] = srt
    st.files["/pc20/ow-0002.json"] = chapters
    for name, path in FEEDS.items():
        st.files[path] = st.render(name)
    for name in ("messy", "hostile", "locked", "atom", "noitems"):
        st.files[f"/bad/{name}.xml"] = st.render(name)
    st.files["/bad/page.html"] = (FIXTURES / "page.html").read_bytes()
    st.files["/bad/notfeed.txt"] = (FIXTURES / "notfeed.txt").read_bytes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield st
    server.shutdown()
    server.server_close()


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _source_items(data: bytes) -> list[dict[str, object]]:
    parsed = feedparser.parse(data)
    return list(parsed.entries)


def _front(path: Path) -> dict[str, object]:
    data, _body, _ = model.split_front_matter(path.read_text(encoding="utf-8"), str(path))
    return data


def _owner_email(stub: Stub, host: str) -> str:
    found = re.search(rb"<itunes:email>([^<]+)</itunes:email>", stub.files[FEEDS[host]])
    assert found is not None
    return found.group(1).decode()


def _no_leftovers(root: Path) -> None:
    assert not (root / "show.yaml").exists()
    assert not list(root.glob(".podcast-import-*")), "a staging folder was left behind"
    assert not (root / "episodes").exists() or not list((root / "episodes").iterdir())


# --------------------------------------------------------------------------- every host's feed


@pytest.mark.parametrize("host", HOSTS)
def test_each_host_feed_imports_with_guids_dates_and_enclosures_intact(
    stub: Stub, tmp_path: Path, host: str
) -> None:
    url = stub.url(FEEDS[host])
    result = importer.import_feed(url, tmp_path, owner_email=_owner_email(stub, host))  # the sample is locked
    show, episodes = model.load(tmp_path)
    source = {e.id: e for e in _source_items(stub.files[FEEDS[host]])}
    assert len(episodes) == len(result.written) == len(source) >= 2
    assert {ep.guid for ep in episodes} == set(source)
    for ep in episodes:
        item = source[ep.guid]
        assert ep.title == item.title
        when = dt.datetime(*item.published_parsed[:6], tzinfo=dt.UTC)
        assert ep.date == when, "the same instant"
        enclosure = item.enclosures[0]
        assert ep.audio_url == urljoin(url, enclosure.href)
        assert ep.audio_type == enclosure.type
        assert str(ep.audio_length) == (enclosure.get("length") or "0")
        assert ep.slug.isascii() and model.SLUG_RE.match(ep.slug)
        assert ep.audio is None
    assert show.moved_from == url
    pinned = re.search(rb"<podcast:guid>([^<]+)</podcast:guid>", stub.files[FEEDS[host]])
    assert show.guid == (pinned.group(1).decode() if pinned else urls.podcast_guid(url))
    assert show.artwork.is_file() and show.artwork.stat().st_size > 1000
    assert result.moving_day and any("redirect" in step for step in result.moving_day)


def test_libsyn_fixes_are_counted_and_trackers_reported(stub: Stub, tmp_path: Path) -> None:
    result = importer.import_feed(stub.url(FEEDS["libsyn"]), tmp_path)
    fixes = {key: count for key, count, _ in result.fixes}
    assert fixes["explicit"] == 3  # channel "no", items "yes" and "clean"
    assert fixes["category_legacy"] == 1 and fixes["language"] == 1
    assert result.tracking == {"Podtrac": 1}
    show, episodes = model.load(tmp_path)
    assert [str(c) for c in show.categories] == ["Leisure", "Leisure > Home & Garden"]
    assert show.language == "en-US" and show.explicit is False
    assert [e.explicit for e in episodes] == [False, True]
    # the tracking prefix is kept byte for byte
    assert episodes[1].audio_url == f"https://dts.podtrac.com/redirect.mp3/127.0.0.1:{stub.port}/media/a2.mp3"
    assert show.guid == urls.podcast_guid(stub.url(FEEDS["libsyn"])), "UUIDv5 of the OLD feed URL, pinned"
    notes = episodes[1].notes
    assert "**fleece**" in notes and "- [Fleece](https://example.com/fleece)" in notes


def test_podcasting20_tags_are_kept(stub: Stub, tmp_path: Path) -> None:
    importer.import_feed(stub.url(FEEDS["pc20"]), tmp_path)
    show, episodes = model.load(tmp_path)
    assert show.guid == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert show.locked is False
    assert [(f.url, f.text) for f in show.funding] == [("https://openwaves.example.com/support", "Back us")]
    assert [(p.name, p.role) for p in show.persons] == [("Kay Doe", "host")]
    newest = episodes[-1]
    assert (newest.season, newest.number) == (1, 2)
    assert [(p.name, p.role) for p in newest.persons] == [("Lee Park", "guest"), ("Robin", "guest")]


def test_podlove_psc_chapters_and_relative_urls(stub: Stub, tmp_path: Path) -> None:
    result = importer.import_feed(stub.url(FEEDS["podlove"]), tmp_path)
    _show, episodes = model.load(tmp_path)
    newest = episodes[-1]
    assert [(c.start, c.title) for c in newest.chapters] == [(0.0, "Intro"), (1.0, "Äpfel")]
    assert newest.audio_url == stub.url("/podlove/file/2/s/feed/c/mp3/nc002.mp3")
    assert f"]({stub.base}/nc002/links/)" in newest.notes
    assert newest.slug == "nc002-uber-arger-mit-apfeln"
    fixes = {key: count for key, count, _ in result.fixes}
    assert fixes["relative_url"] == 3 and fixes["chapters_psc"] == 1


def test_paged_feed_follows_next_links(stub: Stub, tmp_path: Path) -> None:
    result = importer.import_feed(stub.url(FEEDS["paged-1"]), tmp_path)
    assert result.pages == 3, "page3 links back to page 1: the loop is not followed again"
    _show, episodes = model.load(tmp_path)
    assert [e.guid for e in episodes] == ["arch-1", "arch-2", "arch-3"]


def test_messy_feed_every_quirk_fixed_or_skipped_and_reported(stub: Stub, tmp_path: Path) -> None:
    result = importer.import_feed(stub.url("/bad/messy.xml"), tmp_path)
    fixes = {key: count for key, count, _ in result.fixes}
    assert fixes["date_no_zone"] == 1 and fixes["date_named_zone"] == 1
    assert fixes["html_title"] == 1 and fixes["no_guid"] == 1 and fixes["relative_url"] == 1
    assert fixes["duplicate_number"] == 1 and fixes["bad_number"] == 1 and fixes["length_missing"] == 2
    assert fixes["category_legacy"] == 1 and fixes["category_dropped"] == 1
    assert fixes["artwork_placeholder"] == 1
    reasons = {s.item: s.reason for s in result.skipped}
    assert "duplicate GUID" in reasons["Duplicate of two"]
    assert "no enclosure" in reasons["Only text, no audio"]
    assert "not a date" in reasons["Bad date"]
    show, episodes = model.load(tmp_path)
    assert [str(c) for c in show.categories] == ["Health & Fitness > Fitness"]
    by_guid = {e.guid: e for e in episodes}
    assert by_guid["m-1"].title == "Bold title & more"
    assert by_guid["m-1"].date == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert by_guid["m-2"].date.utcoffset() == dt.timedelta(hours=-8)
    assert by_guid[stub.url("/media/three.mp3")].title == "No GUID here"
    assert by_guid["m-1"].audio_url == stub.url("/media/one.mp3")
    assert len({e.slug for e in episodes}) == len(episodes), "two 'Named zone' titles get unique slugs"
    assert {"named-zone", "named-zone-2"} <= {e.slug for e in episodes}


def test_hostile_notes_are_sanitised_and_entities_never_expanded(stub: Stub, tmp_path: Path) -> None:
    importer.import_feed(stub.url("/bad/hostile.xml"), tmp_path)
    text = next((tmp_path / "episodes").glob("*/episode.md")).read_text()
    for bad in ("<script", "javascript:", "onerror", "onclick", "<iframe", "alert(", "display:none"):
        assert bad not in text
    assert "[fine](https://ok.example.com)" in text
    assert "root:" not in (tmp_path / "show.yaml").read_text()


# --------------------------------------------------------------------------- bad sources: one line, nothing written

BAD = {
    "not a feed": ("/bad/notfeed.txt", "not a feed (not XML)"),
    "an HTML page": ("/bad/page.html", "HTML page"),
    "no items": ("/bad/noitems.xml", "no items"),
    "Atom": ("/bad/atom.xml", "Atom feed"),
    "404": ("/404", "HTTP 404"),
    "500": ("/500", "HTTP 500"),
    "redirect loop": ("/loop", "redirects in a loop"),
    "dropped mid-download": ("/drop/libsyn/rss", "dropped the connection"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_source_gives_one_clear_line_and_writes_nothing(stub: Stub, tmp_path: Path, case: str) -> None:
    path, words = BAD[case]
    result = CliRunner().invoke(cli, ["import", stub.url(path), "--into", str(tmp_path)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert words in lines[0] and stub.url(path) in lines[0]
    assert "Traceback" not in result.output
    _no_leftovers(tmp_path)


def test_truncated_feed_file_is_refused(stub: Stub, tmp_path: Path) -> None:
    data = stub.files[FEEDS["libsyn"]]
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) // 2])
    show = tmp_path / "show"
    with pytest.raises(UnreadableFeed, match="truncated"):
        importer.import_feed(str(cut), show)
    _no_leftovers(show)


def test_connection_refused_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFeed, match="connection refused"):
        importer.import_feed("http://127.0.0.1:9/feed.xml", tmp_path)


def test_a_failure_while_moving_into_place_leaves_no_half_written_show(
    stub: Stub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = importer.os.replace

    def full_disk(src: object, dst: object) -> None:
        if Path(str(dst)).name == "show.yaml":  # the last step: every episode folder has already moved
            raise OSError(28, "No space left on device")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(importer.os, "replace", full_disk)
    with pytest.raises(PipelineError, match="nothing was changed") as err:
        importer.import_feed(stub.url(FEEDS["libsyn"]), tmp_path)
    assert "No space left" in str(err.value)
    _no_leftovers(tmp_path)
    assert not (tmp_path / "cover.jpg").exists()


def test_ten_thousand_items(tmp_path: Path) -> None:
    feed = tmp_path / "big.xml"
    feed.write_bytes(big_feed(10_000))
    result = importer.import_feed(str(feed), tmp_path / "show")
    assert len(result.written) == 10_000
    assert len(list((tmp_path / "show" / "episodes").iterdir())) == 10_000


# --------------------------------------------------------------------------- re-import, merge, lock


def test_reimport_is_stable(stub: Stub, tmp_path: Path) -> None:
    importer.import_feed(stub.url(FEEDS["podlove"]), tmp_path / "a")
    importer.import_feed(stub.url(FEEDS["podlove"]), tmp_path / "b")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_refuses_an_existing_show_unless_merge(stub: Stub, tmp_path: Path) -> None:
    importer.import_feed(stub.url(FEEDS["anchor"]), tmp_path)
    before = _tree(tmp_path)
    with pytest.raises(PipelineError, match="a show is already here") as err:
        importer.import_feed(stub.url(FEEDS["anchor"]), tmp_path)
    assert "--merge" in err.value.hint
    assert _tree(tmp_path) == before


def test_merge_adds_only_new_guids(stub: Stub, tmp_path: Path) -> None:
    full = stub.files[FEEDS["anchor"]].decode()
    older = re.sub(r"<item><title><!\[CDATA\[Episodio 2.*?</item>", "", full, flags=re.S)
    first = tmp_path / "older.xml"
    first.write_text(older, encoding="utf-8")
    show = tmp_path / "show"
    importer.import_feed(str(first), show)
    before = _tree(show)
    assert len(model.load(show)[1]) == 1
    result = importer.import_feed(stub.url(FEEDS["anchor"]), show, merge=True)
    assert result.written == ["episodio-2-que-paso"]
    after = _tree(show)
    assert {k: v for k, v in after.items() if k in before} == before, "nothing already there changes"
    assert len(model.load(show)[1]) == 2
    assert [k for k, _c, _w in result.fixes] == ["notes_html", "image_remote"], "only the new item's fixes"
    again = importer.import_feed(stub.url(FEEDS["anchor"]), show, merge=True)
    assert again.written == [] and again.fixes == []


def test_locked_feed_is_refused_unless_the_owner_email_matches(stub: Stub, tmp_path: Path) -> None:
    url = stub.url("/bad/locked.xml")
    with pytest.raises(PipelineError, match="podcast:locked") as err:
        importer.import_feed(url, tmp_path)
    assert "--owner-email" in err.value.hint
    with pytest.raises(PipelineError, match="podcast:locked"):
        importer.import_feed(url, tmp_path, owner_email="someone@else.example.com")
    _no_leftovers(tmp_path)
    importer.import_feed(url, tmp_path, owner_email="Owner@example.com")
    assert model.load_show(tmp_path).locked is True


# --------------------------------------------------------------------------- --download


def test_download_fetches_media_images_chapters_and_transcripts(stub: Stub, tmp_path: Path) -> None:
    rep = ListReporter()
    result = importer.import_feed(
        stub.url(FEEDS["pc20"]), tmp_path, download_media=True, jobs=3, reporter=rep
    )
    assert {d.status for d in result.downloads} == {"downloaded"}, result.downloads
    _show, episodes = model.load(tmp_path)
    newest = episodes[-1]
    assert newest.audio is not None and newest.audio.read_bytes() == stub.files["/media/a2.mp3"]
    assert newest.audio_url is None
    assert newest.image is not None and newest.image.name == "cover.jpg"
    assert newest.transcript is not None and newest.transcript.name == "transcript.srt"
    assert [(c.start, c.title) for c in newest.chapters] == [(0.0, "Start"), (1.0, "Middle")]
    total = len(stub.files["/media/a1.mp3"]) + len(stub.files["/media/a2.mp3"])
    assert rep.tasks == [("download", float(total), "B")]
    assert not (tmp_path / ".podcast-import").exists()


def test_download_resumes_a_dropped_connection_with_range(stub: Stub, tmp_path: Path) -> None:
    feed = stub.files[FEEDS["anchor"]].decode().replace(f"{stub.base}/media/", f"{stub.base}/flaky/media/")
    src = tmp_path / "feed.xml"
    src.write_text(feed, encoding="utf-8")
    stub.ranges.clear()
    result = importer.import_feed(str(src), tmp_path / "show", download_media=True, jobs=2)
    assert sorted(d.status for d in result.downloads if d.file == "audio.mp3") == ["resumed", "resumed"]
    assert len(stub.ranges) == 2 and all(r.startswith("bytes=") and r != "bytes=0-" for r in stub.ranges)
    _show, episodes = model.load(tmp_path / "show")
    assert sorted(e.audio.read_bytes() for e in episodes if e.audio) == sorted(
        [stub.files["/media/a1.mp3"], stub.files["/media/a2.mp3"]]
    )


def test_download_failure_is_reported_per_item_and_the_rest_go_on(stub: Stub, tmp_path: Path) -> None:
    feed = (
        stub.files[FEEDS["anchor"]]
        .decode()
        .replace(f"{stub.base}/media/a2.mp3", f"{stub.base}/drop/media/a2.mp3")
    )
    src = tmp_path / "feed.xml"
    src.write_text(feed, encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(src), "--into", str(tmp_path / "show"), "--download"])
    assert result.exit_code == 1
    assert "2 downloaded, 1 failed" in result.output  # audio of episode 1 and the cover image
    assert "dropped the connection" in result.output
    _show, episodes = model.load(tmp_path / "show")
    by_title = {e.title: e for e in episodes}
    assert by_title["Episodio 1: Hola"].audio is not None
    failed = by_title["Episodio 2: ¿Qué pasó?"]
    assert failed.audio is None and failed.audio_url == f"{stub.base}/drop/media/a2.mp3", (
        "the old URL is kept"
    )
    partials = list((tmp_path / "show" / ".podcast-import" / "partial").glob("*.part"))
    assert partials and partials[0].stat().st_size > 0, "the partial file is kept for a later resume"


# --------------------------------------------------------------------------- the CLI and the model


def test_cli_prints_the_summary_table_and_moving_day(stub: Stub, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", stub.url(FEEDS["libsyn"]), "--into", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Imported 2 episodes of 'Garden Shed Talk'" in result.output
    assert re.search(r"^\s+3  explicit values", result.output, re.M)
    assert "goes through Podtrac" in result.output
    assert "Moving day:" in result.output and "itunes:new-feed-url" in result.output


def test_episode_has_either_audio_or_audio_url(tmp_path: Path) -> None:
    folder = tmp_path / "episodes" / "one"
    folder.mkdir(parents=True)
    (folder / "a.mp3").write_bytes(b"ID3" + b"\0" * 100)
    base = "---\ntitle: One\ndate: 2024-01-01T10:00:00+00:00\n"
    cases = {
        "audio: a.mp3\naudio_url: https://x.example.com/a.mp3\naudio_length: 1\naudio_type: audio/mpeg\n": "both set",
        "audio_url: https://x.example.com/a.mp3\n": "needs audio_length",
        "audio: a.mp3\naudio_length: 5\n": "only goes with audio_url",
        "audio_url: https://x.example.com/a.mp3\naudio_length: 1\naudio_type: text/html\n": "audio_type",
    }
    for extra, words in cases.items():
        (folder / "episode.md").write_text(base + extra + "---\n")
        with pytest.raises(ContentErrors) as err:
            model.load_episode(tmp_path, folder)
        assert words in str(err.value.problems[0]), extra
    (folder / "episode.md").write_text(
        base + "audio_url: https://x.example.com/a.mp3\naudio_length: 0\naudio_type: audio/mpeg\n"
        "audio_duration: '00:45:12'\n---\n"
    )
    ep = model.load_episode(tmp_path, folder)
    assert (ep.audio_url, ep.audio_length, ep.audio_duration) == ("https://x.example.com/a.mp3", 0, 2712.0)


# --------------------------------------------------------------------------- round trip (needs part B)


@pytest.mark.parametrize("host", HOSTS)
def test_round_trip_builds_offline_with_items_one_for_one(stub: Stub, tmp_path: Path, host: str) -> None:
    """Without downloads: same GUIDs, instants, titles, order, and the old enclosure byte for byte."""
    from pipeline import build, validate

    url = stub.url(FEEDS[host])
    importer.import_feed(url, tmp_path, owner_email=_owner_email(stub, host))
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    build.build(tmp_path, now=now)
    new = (tmp_path / "build" / "feed.xml").read_bytes()
    ours = feedparser.parse(new).entries
    theirs = feedparser.parse(stub.files[FEEDS[host]]).entries
    assert [e.id for e in ours] == [e.id for e in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert a.title == b.title
        assert a.published_parsed == b.published_parsed
        assert [(x.href, x.get("length") or "0", x.type) for x in a.enclosures] == [
            (urljoin(url, x.href), x.get("length") or "0", x.type) for x in b.enclosures
        ]
    report = validate.validate(new, source="feed.xml", previous=stub.files[FEEDS[host]], now=now)
    # The build adds no error: none from the cross-build checks, and no offline one the source feed does not
    # already carry (an old host's `length="0"` is kept byte for byte until the media is downloaded).
    inherited = {
        (f.rule, f.message)
        for f in validate.validate(stub.files[FEEDS[host]], source="old.xml", now=now).findings
        if f.severity == "error"
    }
    added = [f for f in report.findings if f.severity == "error" and (f.rule, f.message) not in inherited]
    assert added == []


def test_frontmatter_dates_keep_their_offset(stub: Stub, tmp_path: Path) -> None:
    importer.import_feed(stub.url(FEEDS["buzzsprout"]), tmp_path)
    dates = sorted(str(_front(p)["date"]) for p in (tmp_path / "episodes").glob("*/episode.md"))
    assert dates == ["2024-10-01T06:00:00-04:00", "2024-10-03T06:00:00-04:00"]
    assert yaml.safe_load((tmp_path / "show.yaml").read_text())["moved_from"] == stub.url(FEEDS["buzzsprout"])


def test_new_feed_url_setting_puts_itunes_new_feed_url_in_the_feed(sample_show: Path) -> None:
    from pipeline import feed

    show_file = sample_show if sample_show.name == "show.yaml" else sample_show / "show.yaml"
    before = feed.build_feed(model.load_show(show_file), [], artwork_url="https://example.com/cover.jpg")
    assert b"new-feed-url" not in before
    show_file.write_text(show_file.read_text() + "new_feed_url: https://new.example.com/feed.xml\n")
    xml = feed.build_feed(
        model.load_show(show_file), [], artwork_url="https://example.com/cover.jpg"
    ).decode()
    assert "<itunes:new-feed-url>https://new.example.com/feed.xml</itunes:new-feed-url>" in xml


def test_downloaded_import_builds_offline_and_validates_against_the_old_feed(
    stub: Stub, tmp_path: Path
) -> None:
    from pipeline import build, validate

    importer.import_feed(stub.url(FEEDS["anchor"]), tmp_path, download_media=True)
    build.build(tmp_path, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    new = (tmp_path / "build" / "feed.xml").read_bytes()
    ours, theirs = feedparser.parse(new).entries, feedparser.parse(stub.files[FEEDS["anchor"]]).entries
    assert [(e.id, e.title, e.published_parsed) for e in ours] == [
        (e.id, e.title, e.published_parsed) for e in theirs
    ], "same GUIDs, titles, instants and order"
    assert b"<itunes:new-feed-url>" in new, "the moved-in feed announces its new URL"
    report = validate.validate(
        new,
        source="feed.xml",
        previous=stub.files[FEEDS["anchor"]],
        now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors == [], errors
