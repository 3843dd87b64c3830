"""Issue 10: the first hour of a new host. Each trap, run as the issue wrote it, on a real show in a temp folder."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import imageio_ffmpeg
import pytest
import yaml
from click.testing import CliRunner, Result

from pipeline import categories, model, notes, placeholders, scaffold
from pipeline.cli import cli
from pipeline.errors import ExitCode
from tests.conftest import copy_sample_show

pytest_plugins = ["tests._browser_fixtures"]  # browser, serve

REPO = Path(__file__).resolve().parent.parent
NOW = "2025-06-01T12:00:00+00:00"
COMING = "coming-back-after-a-running-injury"
SHINS = "shin-splints-are-a-load-problem"
KNEES = "why-your-knees-hurt-when-you-run"


def run(*args: str | Path, ok: bool = True) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=not ok)


def _tone(path: Path, seconds: float = 3.0, volume: float = 0.05) -> Path:
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-af",
            f"volume={volume}",
            "-ac",
            "1",
            "-ar",
            "44100",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ../rec folder as in the issue: ep2.wav, ep3.wav and notes files."""
    folder = tmp_path_factory.mktemp("rec")
    _tone(folder / "ep2.wav")
    _tone(folder / "ep3.wav")
    (folder / "notitle.md").write_text("Notes with no heading at all.\n", encoding="utf-8")
    (folder / "notes-ep3.md").write_text("---\ndate: 2026-12-05+00:00\n---\n# Episode three\n\nHello.\n")
    return folder


@pytest.fixture
def show(tmp_path: Path, rec: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`podcast init my-show`, then `cd my-show` (with ../rec beside it); returns the show folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rec").symlink_to(rec, target_is_directory=True)
    result = run("init", "my-show")
    assert result.exit_code == ExitCode.OK, result.output
    monkeypatch.chdir(tmp_path / "my-show")
    return tmp_path / "my-show"


def front(path: Path) -> dict[str, Any]:
    data, _, _ = model.split_front_matter(path.read_text(encoding="utf-8"), str(path))
    return data


# --------------------------------------------------------------------------- 1. finding the show


def test_1_every_command_finds_show_yaml_from_a_subfolder(
    show: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(show / "episodes")
    check = run("check", "--now", NOW)
    assert check.exit_code == ExitCode.OK, check.output
    assert "file not found" not in check.output
    created = run("new", "From a subfolder")
    assert created.exit_code == ExitCode.OK, created.output
    assert (show / "episodes" / "from-a-subfolder" / "episode.md").is_file()
    assert not (show / "episodes" / "episodes").exists()  # not a nested show's episodes/
    monkeypatch.chdir(show / "episodes" / "from-a-subfolder")
    listed = run("list", "--format", "json")
    assert listed.exit_code == ExitCode.OK, listed.output
    assert [r["slug"] for r in json.loads(listed.stdout)] == ["from-a-subfolder"]
    assert model.find_show(show / "episodes" / "from-a-subfolder") == show / "show.yaml"


def test_1_without_a_show_the_error_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    result = run("check", ok=False)
    assert result.exit_code == ExitCode.ERROR
    here = (tmp_path / "deep" / "er").resolve()
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"Error: show.yaml: not found in {here} and the {len(here.parents)} folders above it"
    )
    assert "cd into your show's folder" in line and "podcast init FOLDER" in line


def test_1_init_refuses_inside_a_show_and_says_to_cd(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(show / "episodes")
    result = run("init", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert f"is inside the show of {show / 'show.yaml'}" in result.stderr
    assert not (show / "episodes" / "show.yaml").exists()
    assert not (show / "episodes" / "cover.jpg").exists()
    monkeypatch.chdir(show.parent)
    made = run("init", "second-show")
    assert made.stdout.startswith("Started 'My Podcast' in second-show: cd second-show, edit show.yaml")


# --------------------------------------------------------------------------- 2. loudness


def test_2_a_new_show_normalises_to_minus_16_lufs(show: Path) -> None:
    settings = model.load_show(show).audio
    assert (settings.loudness, settings.true_peak) == (-16, -1.0)
    assert "loudness: -16" in (show / "show.yaml").read_text()
    added = run(
        "add", "../rec/ep2.wav", "../rec/notitle.md", "--publish", "--date", "2025-05-01T09:00:00+00:00"
    )
    assert added.exit_code == ExitCode.OK, added.output
    built = run("build", "--now", NOW)
    assert built.exit_code == ExitCode.OK, built.output
    (row,) = json.loads(run("list", "--format", "json").stdout)
    assert row["lufs"] == pytest.approx(-16, abs=1.5)  # the source tone is about -33 LUFS
    assert row["true_peak"] <= -0.5


# --------------------------------------------------------------------------- 3. placeholders


def test_3_placeholders_warn_in_check_and_suggest_no_guid(show: Path) -> None:
    assert run("new", "First").exit_code == ExitCode.OK
    result = run("check", "--now", NOW)
    assert result.exit_code == ExitCode.OK, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert warnings == [
        "Warning: show.yaml: description: is the placeholder `init` wrote (describe your show)",
        "Warning: show.yaml: url: https://example.com/podcast/ is a placeholder "
        "(write the URL your site is served from)",
        "Warning: show.yaml: owner.email: you@example.com is a placeholder (write your address)",
        "Warning: show.yaml: artwork: cover.jpg is the placeholder cover (use your own square 1400-3000 px art)",
        "Warning: episodes/first/episode.md: notes: still says 'Write the show notes here in Markdown.' "
        "(write the show notes)",
        "Warning: episodes/first/episode.md: notes: has 2 empty list items (fill them in or delete them)",
    ]
    assert not re.search(r"guid: [0-9a-f]{8}-", result.stderr), "a guid derived from the placeholder URL"
    assert "set url to your real site first" in result.stderr


def test_3_publish_to_a_non_local_target_refuses_placeholders(show: Path) -> None:
    added = run(
        "add", "../rec/ep2.wav", "../rec/notitle.md", "--publish", "--date", "2025-05-01T09:00:00+00:00"
    )
    assert added.exit_code == ExitCode.OK, added.output
    local = run("publish", "--now", NOW, "--dry-run")
    assert local.exit_code == ExitCode.OK, local.output  # a local folder is a preview
    text = (
        (show / "show.yaml")
        .read_text()
        .replace(
            "  target: local           # or s3\n  path: public\n",
            "  target: s3\n  bucket: my-podcast\n  endpoint_url: http://127.0.0.1:9/\n",
        )
    )
    (show / "show.yaml").write_text(text)
    result = run("publish", "--now", NOW, ok=False)
    assert result.exit_code == ExitCode.ERROR
    errors = result.stderr.splitlines()
    assert "Error: show.yaml: url: https://example.com/podcast/ is a placeholder" in errors[1]
    assert errors[-1].startswith("Aborted: 4 problems in 1 file")
    assert "Traceback" not in result.output and "127.0.0.1:9" not in result.stderr  # refused before any I/O


def test_3_the_sample_show_has_no_placeholders() -> None:
    show, episodes = model.load(REPO / "show.yaml")
    assert placeholders.find(show, episodes) == []
    assert not placeholders.is_placeholder_url("https://stride-clinic.example.com/")
    assert placeholders.is_placeholder_url("https://www.example.org/x")


# --------------------------------------------------------------------------- 4. outline


def test_4_the_outline_never_lists_its_own_title() -> None:
    template = (REPO / "pipeline" / "templates" / "episode.html").read_text()
    assert f'<p class="outline-title">{notes.OUTLINE_TITLE}</p>' in template
    rendered = notes.render_notes("## In this episode\n\n- a\n\n## One\n\n## Two\n\n## Three\n")
    assert [h.text for h in rendered.headings] == ["One", "Two", "Three"]
    assert 'id="in-this-episode"' in rendered.html  # the heading itself stays in the notes


def test_4_new_does_not_write_the_outline_title(show: Path) -> None:
    assert run("new", "First").exit_code == ExitCode.OK
    text = (show / "episodes" / "first" / "episode.md").read_text()
    assert "In this episode" not in text
    assert notes.render_notes(model.split_front_matter(text, "x")[1]).headings


# --------------------------------------------------------------------------- 5. --date and --now


def test_5_now_no_longer_sets_the_date_and_date_does(show: Path) -> None:
    result = run("new", "Pretend", "--now", "2030-01-01T00:00:00+00:00")
    assert result.exit_code == ExitCode.OK, result.output
    assert not str(front(show / "episodes" / "pretend" / "episode.md")["date"]).startswith("2030")
    dated = run("new", "Dated", "--date", "2026-12-05T09:00:00+00:00", "--now", NOW)
    assert dated.exit_code == ExitCode.OK, dated.output
    assert front(show / "episodes" / "dated" / "episode.md")["date"] == "2026-12-05T09:00:00+00:00"
    assert "scheduled until then" in dated.stdout
    added = run("add", "../rec/ep2.wav", "../rec/notitle.md", "--date", "2026-01-02T08:00:00+01:00")
    assert added.exit_code == ExitCode.OK, added.output
    assert front(show / "episodes" / "ep2" / "episode.md")["date"] == "2026-01-02T08:00:00+01:00"
    assert (
        "--now DATETIME" in run("new", "--help").stdout and "--date DATETIME" in run("add", "--help").stdout
    )


# --------------------------------------------------------------------------- 6. drafts and titles


def test_6_add_makes_a_draft_and_says_where_the_title_came_from(show: Path) -> None:
    result = run("add", "../rec/ep2.wav", "../rec/notitle.md")
    assert result.exit_code == ExitCode.OK, result.output
    assert front(show / "episodes" / "ep2" / "episode.md")["draft"] is True
    assert result.stdout == (
        "Added episodes/ep2/ (episode 1: Ep2, draft: remove `draft: true` when it is ready). Title from the "
        "file name 'ep2.wav': the notes have no title: and no # heading; pass --title to set one.\n"
    )
    live = run("add", "../rec/ep3.wav", "../rec/notitle.md", "--publish", "--title", "Live")
    assert live.exit_code == ExitCode.OK, live.output
    assert "draft" not in front(show / "episodes" / "live" / "episode.md")
    helptext = run("add", "--help").stdout
    assert "--draft / --publish" in helptext and "else the audio file's name" in " ".join(helptext.split())


# --------------------------------------------------------------------------- 7. rollback names the user's file


def test_7_add_rollback_names_the_notes_file_to_fix(show: Path) -> None:
    result = run("add", "../rec/ep3.wav", "../rec/notes-ep3.md", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.splitlines()[0] == (
        "Error: ../rec/notes-ep3.md: date: '2026-12-05+00:00' has no time (write 2026-12-05T09:00:00+00:00)"
    )
    assert "episodes/episode-three" not in result.stderr
    assert not (show / "episodes" / "episode-three").exists()


def test_7_a_number_clash_also_names_the_notes_file(show: Path, rec: Path) -> None:
    first = run("add", "../rec/ep2.wav", "../rec/notitle.md", "--title", "One")
    assert first.exit_code == ExitCode.OK, first.output
    clash = show.parent / "rec-clash.md"
    clash.write_text("---\nnumber: 1\n---\n# Two\n\nBody.\n", encoding="utf-8")
    result = run("add", "../rec/ep3.wav", "../rec-clash.md", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith("Error: ../rec-clash.md: number: episode 1 is also used by one")
    assert not (show / "episodes" / "two").exists()


# --------------------------------------------------------------------------- 8. the date hint


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("2026-12-05+00:00", "'2026-12-05+00:00' has no time (write 2026-12-05T09:00:00+00:00)"),
        ("2026-12-05", "'2026-12-05' has no time and time zone (write 2026-12-05T09:00:00+00:00)"),
        ("2026-12-05T10:00", "'2026-12-05T10:00' has no time zone (write 2026-12-05T10:00:00+00:00)"),
    ],
)
def test_8_a_date_without_a_time_gets_the_right_hint(show: Path, value: str, hint: str) -> None:
    result = run("check", "--now", value, ok=False)
    assert result.exit_code == ExitCode.USAGE
    assert hint in result.stderr
    if value == "2026-12-05+00:00":
        assert "has no time zone" not in result.stderr


# --------------------------------------------------------------------------- 9. audio hints


def test_9_a_missing_audio_file_suggests_the_ones_there(show: Path) -> None:
    assert run("add", "../rec/ep2.wav", "../rec/notitle.md").exit_code == ExitCode.OK
    md = show / "episodes" / "ep2" / "episode.md"
    md.write_text(md.read_text().replace("audio: audio.wav", "audio: audio.mp3"))
    result = run("check", "--now", NOW, ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert (
        "Error: episodes/ep2/episode.md: audio: audio file 'audio.mp3' not found (this folder has 'audio.wav')"
        in result.stderr.splitlines()
    )


def test_9_probe_hint_fits_probe(show: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("probe", "nope.wav", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith("Error: nope.wav: file not found (give the path of a recording")
    assert "audio:" not in result.stderr
    monkeypatch.chdir(show.parent / "rec")
    assert run("probe", "nope.wav", ok=False).stderr == (
        "Error: nope.wav: file not found (this folder has ep2.wav, ep3.wav)\n"
    )


# --------------------------------------------------------------------------- 10. categories


def test_10_every_2019_category_is_found_by_its_own_name_in_any_case() -> None:
    for top, subs in categories.APPLE_CATEGORIES.items():
        for spelling in (top, top.lower(), top.upper()):
            assert categories.suggest_path(spelling) == top
        for sub in subs:
            for spelling in (sub, sub.lower()):
                assert categories.suggest_path(spelling) == f"{top} > {sub}", spelling
                assert categories.suggest_path(top, spelling) == f"{top} > {sub}"


def test_10_synonyms_point_at_real_categories() -> None:
    for word, path in categories.SYNONYMS.items():
        top, _, sub = path.partition(" > ")
        assert categories.is_category(top, sub or None), (word, path)
    assert categories.suggest_path("Food") == "Arts > Food"
    assert categories.suggest_path("Arts", "Cooking") == "Arts > Food"
    assert categories.suggest_path("cooking") == "Arts > Food"
    assert categories.suggest_path("Tech") == "Technology"
    assert categories.suggest_path("comedy") == "Comedy"


@pytest.mark.parametrize(
    ("written", "line"),
    [
        ("Food", "show.yaml: categories[0]: 'Food' is not an Apple category (did you mean 'Arts > Food'?)"),
        (
            "Arts > Cooking",
            "show.yaml: categories[0]: 'Cooking' is not a subcategory of 'Arts' (did you mean 'Arts > Food'?)",
        ),
    ],
)
def test_10_check_suggests_by_subcategory_and_synonym(show: Path, written: str, line: str) -> None:
    text = (show / "show.yaml").read_text().replace("  - Technology\n", f"  - {written}\n")
    (show / "show.yaml").write_text(text)
    result = run("check", "--now", NOW, ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert f"Error: {line}" in result.stderr.splitlines()
    assert "Books" not in result.stderr


# --------------------------------------------------------------------------- 11-13. publishing


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample show, published once to its local folder; cwd is the show."""
    show_yaml = copy_sample_show(tmp_path / "show")
    monkeypatch.chdir(show_yaml.parent)
    first = run("publish", "--now", NOW)
    assert first.exit_code == ExitCode.OK, first.output
    return show_yaml.parent


def _edit(show: Path, slug: str, old: str, new: str) -> None:
    md = show / "episodes" / slug / "episode.md"
    text = md.read_text()
    assert old in text
    md.write_text(text.replace(old, new, 1))


def test_12_13_one_title_edit_is_one_changed_episode_and_status_exit_code(published: Path) -> None:
    clean = run("status", "--now", NOW, "--exit-code")
    assert clean.exit_code == ExitCode.OK, clean.output
    assert run("status", "--now", NOW).exit_code == ExitCode.OK
    _edit(published, SHINS, "title: Shin splints are a load problem", "title: Shin splints are about load")
    dirty = run("status", "--now", NOW, "--exit-code")
    assert dirty.exit_code == 1, dirty.output
    assert run("status", "--now", NOW).exit_code == ExitCode.OK  # without the flag, status still says 0
    state = json.loads(run("status", "--now", NOW, "--format", "json").stdout)
    assert state["changed_episodes"] == [SHINS]
    assert state["pages_rewritten"] >= 3  # the page itself, both neighbours' previous/next links, the index
    plan = run("publish", "--now", NOW, "--dry-run")
    assert plan.exit_code == ExitCode.OK, plan.output
    assert f"  changed episode  {SHINS}" in plan.stdout.splitlines()
    summary = plan.stdout.splitlines()[-1]
    assert re.match(
        r"Would publish 3 episodes to .*: \d+ files? \(.*\) uploaded, 1 changed, 2 unchanged, \d+ pages rewritten, "
        r"feed updated\.$",
        summary,
    ), summary
    done = json.loads(run("publish", "--now", NOW, "--format", "json").stdout)
    assert done["changed_episodes"] == [SHINS] and done["pages_rewritten"] == state["pages_rewritten"]
    assert run("status", "--now", NOW, "--exit-code").exit_code == ExitCode.OK


def test_11_a_refused_dry_run_says_so_and_what_force_would_do(published: Path) -> None:
    _edit(published, KNEES, "date: 2025-03-04T07:00:00+00:00", "date: 2025-03-05T07:00:00+00:00")
    result = run("publish", "--now", NOW, "--dry-run", ok=False)
    assert result.exit_code == ExitCode.REFUSED
    lines = result.stdout.splitlines()
    assert any(line.startswith("  refuse  ") for line in lines)
    assert lines[-2] == (
        "This publish would be refused: 1 change to published episodes (the refuse lines); nothing is uploaded."
    )
    assert lines[-1].startswith("With --force it would go ahead: would publish 3 episodes to ")
    assert not any(line.startswith("Would publish") for line in lines)
    data = json.loads(run("publish", "--now", NOW, "--dry-run", "--format", "json", ok=False).stdout)
    assert data["would_be_refused"] is True
    forced = run("publish", "--now", NOW, "--dry-run", "--force")
    assert forced.exit_code == ExitCode.OK and forced.stdout.splitlines()[-1].startswith("Would publish")


def _documented_keys(section: str) -> list[str]:
    """The keys of a README table under the heading `section` (first column, in backticks)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index(section)
    rows = re.findall(r"^\| `([a-z_]+)` \|", readme[start:].split("\n#", 1)[0], re.MULTILINE)
    assert rows, f"no key table under {section!r}"
    return rows


def test_13_status_and_publish_json_match_the_documented_schema(published: Path) -> None:
    status = json.loads(run("status", "--now", NOW, "--format", "json").stdout)
    publish = json.loads(run("publish", "--now", NOW, "--dry-run", "--format", "json").stdout)
    assert sorted(status) == sorted(_documented_keys("`podcast status --format json`"))
    assert sorted(publish) == sorted(_documented_keys("`podcast publish --format json`"))


# --------------------------------------------------------------------------- 14. feed text


def test_14_feed_text_is_clean_and_description_is_summary_sized() -> None:
    body = "First paragraph, the summary.\n\n## A heading\n\nMore notes here.\n"
    rendered = notes.render_notes(body)
    text = notes.feed_text(rendered, rendered.summary, "https://pod.example.org/episodes/a/")
    assert 'class="anchor"' not in text.content and 'class="anchor"' not in text.description
    assert "<h2>A heading</h2>" in text.content and "More notes here." in text.content
    assert text.description == (
        '<p>First paragraph, the summary.</p><p><a href="https://pod.example.org/episodes/a/">Full show notes</a></p>'
    )
    assert 'class="anchor"' in rendered.html  # the page keeps its anchors


# --------------------------------------------------------------------------- 15. video poster


@pytest.fixture
def video_site(show: Path) -> Path:
    """A one-episode show whose episode has a YouTube video, built into build/."""
    added = run(
        "add", "../rec/ep2.wav", "../rec/notitle.md", "--publish", "--date", "2025-05-01T09:00:00+00:00"
    )
    assert added.exit_code == ExitCode.OK, added.output
    md = show / "episodes" / "ep2" / "episode.md"
    head, sep, body = md.read_text().partition("\n---\n")
    md.write_text(head + "\nvideo: https://www.youtube.com/watch?v=dQw4w9WgXcQ" + sep + body)
    built = run("build", "--now", NOW)
    assert built.exit_code == ExitCode.OK, built.output
    return show / "build"


@pytest.fixture
def offline_page(browser: Any) -> Iterator[Any]:
    """A page whose requests to anything but loopback are recorded and aborted: they never leave."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.outside = []
    tab.errors = []

    def handle(route: Any) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            tab.outside.append(route.request.url)
            route.abort()

    context.route("**/*", handle)
    tab.on("pageerror", lambda err: tab.errors.append(str(err)))
    try:
        yield tab
    finally:
        context.close()


@pytest.mark.browser
def test_15_video_is_a_click_to_load_poster(offline_page: Any, video_site: Path, serve: Any) -> None:
    server = serve(video_site)
    page = offline_page
    page.goto(f"{server.url}episodes/ep2/", wait_until="networkidle")
    assert page.outside == []  # nothing from another site before the click
    assert page.locator("#video iframe").count() == 0
    poster = page.locator("#video a.video-load")
    assert (
        "Ep2" in poster.inner_text()
        and poster.get_attribute("href") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    thumb = page.locator("#video img.video-thumb")
    assert urlsplit(thumb.get_attribute("src") or "").hostname in (None, "127.0.0.1")
    assert page.evaluate("() => document.querySelector('#video img').naturalWidth") > 0  # loaded, locally
    assert page.locator("#video .video-play svg").count() == 1
    # the rest of the page works offline: the audio is the site's own
    assert page.evaluate("() => document.querySelector('audio source').src").startswith(server.url)
    poster.click()
    page.wait_for_selector("#video iframe")
    assert page.locator("#video iframe").get_attribute("src") == (
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"
    )
    page.wait_for_timeout(300)
    assert {urlsplit(u).hostname for u in page.outside} == {"www.youtube-nocookie.com"}
    assert page.errors == []


def test_15_the_page_html_has_no_iframe_before_a_click(video_site: Path) -> None:
    page = (video_site / "episodes" / "ep2" / "index.html").read_text()
    assert "<iframe" not in page
    assert 'data-video-src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page


# --------------------------------------------------------------------------- the scaffold's text and the detector agree


def test_scaffold_writes_the_placeholders_the_detector_knows(tmp_path: Path) -> None:
    scaffold.init_show(tmp_path / "s", title="T", author="A", email="you@example.com", url=None)
    data = yaml.safe_load((tmp_path / "s" / "show.yaml").read_text())
    assert data["description"] == placeholders.SHOW_DESCRIPTION
    assert data["url"] == placeholders.SHOW_URL
