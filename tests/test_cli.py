"""The `podcast` command line, driven with click's CliRunner on temp copies of the sample show."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import imageio_ffmpeg
import pytest
import yaml
from click.testing import CliRunner, Result
from PIL import Image

from pipeline import __version__, model, urls
from pipeline.cli import cli
from pipeline.errors import ExitCode

REPO = Path(__file__).resolve().parent.parent
NOW = "2025-06-01T12:00:00+00:00"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KNEES = "why-your-knees-hurt-when-you-run"
SHINS = "shin-splints-are-a-load-problem"
RETURN = "coming-back-after-a-running-injury"


def run(*args: str | Path, ok: bool = True, env: dict[str, str] | None = None, color: bool = False) -> Result:
    """Invoke the CLI; on the happy path a stray exception fails the test with its traceback."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=not ok, env=env, color=color)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, str | None]:
    return {
        p.relative_to(root).as_posix(): (sha(p) if p.is_file() else None) for p in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 1-second WAV made by ffmpeg, with a space in its name."""
    path = tmp_path_factory.mktemp("rec") / "ep4 final.wav"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=1",
            "-ac",
            "1",
            "-ar",
            "22050",
            str(path),
        ],
        check=True,
    )
    return path


# --------------------------------------------------------------------------- version and help


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == ExitCode.OK
    assert result.output == f"podcast, version {__version__}\n"


def test_python_dash_m_pipeline_is_the_same_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"podcast, version {__version__}\n"


COMMANDS = sorted(cli.commands)


def test_the_commands_we_test_exist() -> None:
    assert {"init", "new", "add", "check", "list"} <= set(COMMANDS)


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_help_has_a_summary_and_an_example(name: str | None) -> None:
    result = run(*([name] if name else []), "--help")
    assert result.exit_code == ExitCode.OK
    lines = result.output.splitlines()
    assert lines[0].startswith("Usage: ")
    summary = lines[2].strip()
    assert summary and summary[0].isupper(), lines
    assert "Example:" in result.output
    example = result.output.split("Example:", 1)[1].splitlines()[1].strip()
    assert example.startswith("podcast"), result.output
    if name:
        assert (
            example.startswith(f"podcast {name}") or f"podcast {name}" in result.output.split("Example:")[1]
        )
        # the group's command list shows the same summary
        group_help = run("--help").output
        assert re.search(rf"^\s+{name}\s+\S", group_help, re.M), group_help


def test_help_is_also_dash_h() -> None:
    assert run("-h").output == run("--help").output


# --------------------------------------------------------------------------- init


def test_init_in_an_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = runner.invoke(
        cli,
        [
            "init",
            "--title",
            "Trail Talk: Ep. 1 & more",
            "--author",
            "Jo Runner",
            "--email",
            "jo@example.com",
        ],
        catch_exceptions=False,
    )
    root = here
    assert result.exit_code == ExitCode.OK, result.output
    assert "Trail Talk" in result.output
    assert (root / "show.yaml").is_file()
    assert (root / "episodes").is_dir()
    assert "/public/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    with Image.open(root / "cover.jpg") as img:
        assert (img.format, img.size, img.mode) == ("JPEG", (1400, 1400), "RGB")
    show = model.load_show(root / "show.yaml")
    assert (show.title, show.author, show.owner.email) == (
        "Trail Talk: Ep. 1 & more",
        "Jo Runner",
        "jo@example.com",
    )
    assert show.guid is None
    # a fresh show passes check with warnings for its placeholders; no GUID from the placeholder URL
    check = runner.invoke(cli, ["check", "--now", NOW], catch_exceptions=False)
    assert check.exit_code == ExitCode.OK, check.output
    assert check.stdout.startswith("show.yaml and 0 episodes are clean (3 warnings)")
    assert check.stderr.startswith("Warning: show.yaml: description: is the placeholder")
    assert "guid: not pinned; set url to your real site first" in check.stderr


@pytest.mark.parametrize("url", ["https://trailtalk.example.com/", "https://trailtalk.example.com/pod"])
def test_init_with_url_pins_the_podcast_guid(tmp_path: Path, url: str) -> None:
    result = run("init", tmp_path / "show", "--url", url)
    assert result.exit_code == ExitCode.OK, result.output
    show = model.load_show(tmp_path / "show" / "show.yaml")
    site = url if url.endswith("/") else url + "/"
    assert show.url == site
    assert show.guid == urls.podcast_guid(site + "feed.xml")
    assert show.guid == urls.show_guid(show)
    check = run("check", "--show", tmp_path / "show" / "show.yaml", "--now", NOW)
    assert check.exit_code == ExitCode.OK, check.output
    # only init's placeholders (description, email, cover) are left: the URL is real, the GUID pinned
    assert "guid" not in check.stderr and "url:" not in check.stderr
    assert all(
        line.startswith("Warning: show.yaml: ") or "placeholders" in line
        for line in check.stderr.splitlines()
    )


def test_init_twice_refuses_without_overwriting(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    assert run("init", folder).exit_code == ExitCode.OK
    (folder / "show.yaml").write_text((folder / "show.yaml").read_text() + "# my edits\n", encoding="utf-8")
    (folder / ".gitignore").write_text("mine\n", encoding="utf-8")
    before = tree(folder)
    result = run("init", folder, "--title", "Other", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == (
        f"Error: {folder / 'show.yaml'}: already exists; not overwriting it "
        "(edit it, or run init in an empty folder)\n"
    )
    assert "Traceback" not in result.output
    assert tree(folder) == before


@pytest.mark.parametrize("option", [["--url", "trailtalk.example.com"], ["--email", "not an email"]])
def test_init_refuses_values_check_would_reject(tmp_path: Path, option: list[str]) -> None:
    result = run("init", tmp_path / "show", *option, ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith("Error: ")
    assert not (tmp_path / "show" / "show.yaml").exists()


# --------------------------------------------------------------------------- new


def test_new_creates_a_draft_with_the_next_number(sample_show: Path) -> None:
    result = run("new", "Hamstrings: the quiet engine!", "--show", sample_show, "--date", NOW)
    assert result.exit_code == ExitCode.OK, result.output
    slug = "hamstrings-the-quiet-engine"
    assert result.output == f"Created episodes/{slug}/episode.md (episode 4, draft).\n"
    ep = model.load_episode(sample_show.parent, sample_show.parent / "episodes" / slug)
    assert (ep.title, ep.number, ep.draft, ep.audio) == ("Hamstrings: the quiet engine!", 4, True, None)
    assert ep.date == dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
    assert ep.status(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)) == "draft"
    check = run("check", "--show", sample_show, "--now", NOW)
    assert check.exit_code == ExitCode.OK, check.output
    # the scaffold's placeholder text is the only thing check has to say
    assert check.stdout == "show.yaml and 4 episodes are clean (2 warnings).\n"
    assert [line.split(": notes: ")[0] for line in check.stderr.splitlines()[:2]] == [
        f"Warning: episodes/{slug}/episode.md"
    ] * 2
    assert check.stderr.splitlines()[2:] == [
        "Note: placeholders: `podcast publish` to a non-local target refuses them"
    ]
    # and the next one gets the number after that
    assert "(episode 5, draft)" in run("new", "Calves", "--show", sample_show, "--now", NOW).output


def test_new_refuses_an_existing_title(sample_show: Path) -> None:
    before = tree(sample_show.parent)
    result = run("new", "Why your knees hurt when you run", "--show", sample_show, "--now", NOW, ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith(f"Error: episodes/{KNEES}: already exists")
    assert tree(sample_show.parent) == before


@pytest.mark.parametrize("title", ["", "   ", "x" * 300], ids=["empty", "blank", "too-long"])
def test_new_refuses_a_title_that_would_break_the_show(sample_show: Path, title: str) -> None:
    before = tree(sample_show.parent)
    result = run("new", title, "--show", sample_show, "--now", NOW, ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith("Error: ")
    assert tree(sample_show.parent) == before


def test_new_without_a_show_is_one_error_line(tmp_path: Path) -> None:
    result = run("new", "Hello", "--show", tmp_path / "show.yaml", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.splitlines()[0].startswith("Error: show.yaml: file not found (looked for ")
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- add


def _add(sample_show: Path, recording: Path, notes: Path, *extra: str) -> Result:
    sources = {p: (sha(p), p.stat().st_mtime_ns) for p in (recording, notes)}
    result = run("add", recording, notes, "--show", sample_show, "--now", NOW, *extra)
    assert {p: (sha(p), p.stat().st_mtime_ns) for p in sources} == sources, "add changed a source file"
    return result


def _added(sample_show: Path, slug: str, recording: Path) -> model.Episode:
    folder = sample_show.parent / "episodes" / slug
    copied = folder / f"audio{recording.suffix}"
    assert copied.read_bytes() == recording.read_bytes()
    assert recording.exists()  # copied, not moved
    check = run("check", "--show", sample_show, "--now", NOW)
    assert check.exit_code == ExitCode.OK, check.output
    assert check.stdout == "show.yaml and 4 episodes are clean.\n"
    return model.load_episode(sample_show.parent, folder)


def test_add_with_title_option_and_plain_notes(sample_show: Path, recording: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(
        "We talk about **hamstrings**.\n\n## Links\n\n- https://physio.example.org/\n", encoding="utf-8"
    )
    result = _add(sample_show, recording, notes, "--title", "Hamstrings", "--date", NOW, "--publish")
    assert result.exit_code == ExitCode.OK, result.output
    assert (
        result.output == "Added episodes/hamstrings/ (episode 4: Hamstrings, ready for the next publish).\n"
    )
    ep = _added(sample_show, "hamstrings", recording)
    assert (ep.title, ep.number, ep.draft) == ("Hamstrings", 4, False)
    assert ep.date == dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
    assert ep.audio == ep.dir / "audio.wav"
    assert ep.notes == "We talk about **hamstrings**.\n\n## Links\n\n- https://physio.example.org/"


def test_add_takes_the_title_from_the_first_heading(
    sample_show: Path, recording: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Calf strain, explained\n\nWhat a calf strain is.\n", encoding="utf-8")
    result = _add(sample_show, recording, notes, "--draft")
    assert result.exit_code == ExitCode.OK, result.output
    ep = _added(sample_show, "calf-strain-explained", recording)
    assert (ep.title, ep.draft) == ("Calf strain, explained", True)
    assert ep.notes == "What a calf strain is."  # the heading became the title, not a second title


def test_add_keeps_front_matter_from_the_notes(sample_show: Path, recording: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(
        "---\ntitle: Plantar fasciitis\ndate: 2025-05-20T06:00:00+02:00\nsummary: Heel pain.\n"
        "chapters:\n  - 00:00 Intro\n  - 00:00.5 Heels\npersons: [Ann Guest]\n---\n# Not the title\n\nBody.\n",
        encoding="utf-8",
    )
    result = _add(sample_show, recording, notes)
    assert result.exit_code == ExitCode.OK, result.output
    ep = _added(sample_show, "plantar-fasciitis", recording)
    assert ep.title == "Plantar fasciitis"
    assert ep.date == dt.datetime(2025, 5, 20, 4, 0, tzinfo=dt.UTC)  # from the notes, not --now
    assert ep.number == 4
    assert ep.summary == "Heel pain."
    assert [c.title for c in ep.chapters] == ["Intro", "Heels"]
    assert ep.persons == (model.Person(name="Ann Guest"),)
    assert ep.notes.startswith("# Not the title")


def test_add_title_option_wins_over_front_matter(sample_show: Path, recording: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("---\ntitle: Old title\n---\nBody.\n", encoding="utf-8")
    result = _add(sample_show, recording, notes, "--title", "New title")
    assert result.exit_code == ExitCode.OK, result.output
    assert _added(sample_show, "new-title", recording).title == "New title"


def test_add_refuses_bad_notes_and_leaves_nothing(sample_show: Path, recording: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("---\ntitle: Typo\nsumary: oops\n---\nBody.\n", encoding="utf-8")
    before = tree(sample_show.parent)
    result = _add(sample_show, recording, notes)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.splitlines()[0] == (
        f"Error: {notes}: 'sumary' is not a setting (did you mean 'summary'?)"  # the file to fix
    )
    assert "Traceback" not in result.output
    assert tree(sample_show.parent) == before


def test_add_refuses_a_number_already_used(sample_show: Path, recording: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("---\ntitle: Duplicate\nnumber: 2\n---\nBody.\n", encoding="utf-8")
    before = tree(sample_show.parent)
    result = _add(sample_show, recording, notes)
    assert result.exit_code == ExitCode.ERROR
    assert "number" in result.stderr and "also used by" in result.stderr
    assert tree(sample_show.parent) == before  # the show still passes check


def test_add_refuses_an_unsupported_audio_type(sample_show: Path, tmp_path: Path) -> None:
    audio = tmp_path / "ep.ogg"
    audio.write_bytes(b"OggS" + bytes(100))
    notes = tmp_path / "n.md"
    notes.write_text("# T\n", encoding="utf-8")
    before = tree(sample_show.parent)
    result = _add(sample_show, audio, notes)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.startswith(f"Error: {audio}: .ogg is not a supported audio type (expected ")
    assert tree(sample_show.parent) == before


# --------------------------------------------------------------------------- check and list


def test_check_on_the_sample_show_is_clean(sample_show: Path) -> None:
    before = tree(sample_show.parent)
    result = run("check", "--show", sample_show, "--now", NOW)
    assert result.exit_code == ExitCode.OK
    assert result.stdout == "show.yaml and 3 episodes are clean.\n"
    assert result.stderr == ""
    assert tree(sample_show.parent) == before


def test_check_takes_the_show_folder_and_the_env_var(sample_show: Path) -> None:
    assert run("check", "--show", sample_show.parent, "--now", NOW).exit_code == ExitCode.OK
    result = run("check", "--now", NOW, env={"PODCAST_SHOW": str(sample_show)})
    assert result.exit_code == ExitCode.OK
    assert result.stdout == "show.yaml and 3 episodes are clean.\n"


def test_check_notes_scheduled_episodes_and_quiet_hides_notes(sample_show: Path) -> None:
    when = "2025-03-12T00:00:00+00:00"  # after episode 2, before episode 3
    result = run("check", "--show", sample_show, "--now", when)
    assert result.exit_code == ExitCode.OK
    assert result.stderr == f"Note: episodes/{RETURN}/episode.md: scheduled for 2025-03-18T07:00:00+00:00\n"
    assert result.stdout.startswith("show.yaml and 3 episodes are clean")
    quiet = run("-q", "check", "--show", sample_show, "--now", when)
    assert quiet.exit_code == ExitCode.OK
    assert quiet.stderr == ""
    assert quiet.stdout.startswith("show.yaml and 3 episodes are clean")


def test_check_does_not_call_notes_warnings(sample_show: Path) -> None:
    result = run("check", "--show", sample_show, "--now", "2025-03-12T00:00:00+00:00")
    assert result.stdout == "show.yaml and 3 episodes are clean.\n"


@pytest.mark.parametrize(
    "args",
    [
        ["-q", "--show", "{show}", "--now", "{when}", "check"],  # all before the subcommand
        ["check", "-q", "--show", "{show}", "--now", "{when}"],  # all after it
        ["--show", "{show}", "check", "--now", "{when}", "--quiet"],  # mixed
    ],
)
def test_global_options_work_before_and_after_the_subcommand(sample_show: Path, args: list[str]) -> None:
    when = "2025-03-12T00:00:00+00:00"  # after episode 2, before episode 3: check notes episode 3 unless -q
    loud = run(*[a.format(show=sample_show, when=when) for a in args if a not in ("-q", "--quiet")])
    assert loud.exit_code == ExitCode.OK, loud.output
    assert loud.stderr == f"Note: episodes/{RETURN}/episode.md: scheduled for 2025-03-18T07:00:00+00:00\n"
    result = run(*[a.format(show=sample_show, when=when) for a in args])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout == "show.yaml and 3 episodes are clean.\n"
    assert result.stderr == ""


def test_a_subcommands_show_and_now_win_over_the_groups(sample_show: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "show.yaml"
    result = run(
        "--show",
        missing,
        "--now",
        "2025-01-01T00:00:00+00:00",
        "list",
        "--show",
        sample_show,
        "--now",
        NOW,
        "--format",
        "json",
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert len(json.loads(result.stdout)) == 3
    assert run("--show", missing, "list", ok=False).exit_code == ExitCode.ERROR


def test_the_group_rejects_a_naive_now_too(sample_show: Path) -> None:
    result = run("--now", "2025-03-12 00:00", "check", "--show", sample_show, ok=False)
    assert result.exit_code == ExitCode.USAGE
    assert "has no time zone" in result.stderr


def test_check_rejects_a_naive_now(sample_show: Path) -> None:
    result = run("check", "--show", sample_show, "--now", "2025-03-12 00:00", ok=False)
    assert result.exit_code == ExitCode.USAGE
    assert "has no time zone" in result.stderr


def test_list_table(sample_show: Path) -> None:
    result = run("list", "--show", sample_show, "--now", "2025-03-12T00:00:00+00:00")
    assert result.exit_code == ExitCode.OK
    lines = result.output.splitlines()
    assert lines[0].split() == ["NUMBER", "SLUG", "DATE", "STATUS", "AUDIO", "DURATION", "LUFS", "TRUE_PEAK"]
    assert [line.split() for line in lines[1:]] == [
        ["3", RETURN, "2025-03-18T07:00:00+00:00", "scheduled", f"episodes/{RETURN}/audio.mp3"],
        ["2", SHINS, "2025-03-11T07:00:00+00:00", "ready", f"episodes/{SHINS}/audio.wav"],
        ["1", KNEES, "2025-03-04T07:00:00+00:00", "ready", f"episodes/{KNEES}/audio.flac"],
    ]
    # columns line up: every row's SLUG starts where the header's does
    col = lines[0].index("SLUG")
    assert all(line[col - 2 : col] == "  " and line[col] != " " for line in lines[1:])


def test_list_json(sample_show: Path) -> None:
    run("new", "Draft idea", "--show", sample_show, "--date", NOW)
    result = run("list", "--show", sample_show, "--now", NOW, "--format", "json")
    assert result.exit_code == ExitCode.OK
    unmeasured = {"duration": None, "lufs": None, "lra": None, "true_peak": None}  # no build yet
    assert json.loads(result.output) == [
        {"number": 4, "slug": "draft-idea", "date": NOW, "status": "draft", "audio": None, **unmeasured},
        {
            "number": 3,
            "slug": RETURN,
            "date": "2025-03-18T07:00:00+00:00",
            "status": "ready",
            "audio": f"episodes/{RETURN}/audio.mp3",
            **unmeasured,
        },
        {
            "number": 2,
            "slug": SHINS,
            "date": "2025-03-11T07:00:00+00:00",
            "status": "ready",
            "audio": f"episodes/{SHINS}/audio.wav",
            **unmeasured,
        },
        {
            "number": 1,
            "slug": KNEES,
            "date": "2025-03-04T07:00:00+00:00",
            "status": "ready",
            "audio": f"episodes/{KNEES}/audio.flac",
            **unmeasured,
        },
    ]


def test_list_on_a_broken_show_lists_every_problem(sample_show: Path) -> None:
    root = sample_show.parent
    for slug in (KNEES, SHINS):
        md = root / "episodes" / slug / "episode.md"
        md.write_text(md.read_text(encoding="utf-8").replace("+00:00", "", 1), encoding="utf-8")
    result = run("list", "--show", sample_show, "--now", NOW, ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr.splitlines() == [
        f"Error: episodes/{SHINS}/episode.md: date: '2025-03-11 07:00:00' has no time zone "
        "(write 2025-03-11T07:00:00+00:00)",
        f"Error: episodes/{KNEES}/episode.md: date: '2025-03-04 07:00:00' has no time zone "
        "(write 2025-03-04T07:00:00+00:00)",
        "Aborted: 2 problems in 2 files.",
    ]
    assert result.stdout == ""


# --------------------------------------------------------------------------- --debug, NO_COLOR


def test_debug_shows_the_traceback_a_normal_run_hides(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "show.yaml"
    normal = run("list", "--show", missing, ok=False)
    assert normal.exit_code == ExitCode.ERROR
    assert normal.stderr.startswith("Error: show.yaml: file not found (looked for ")
    assert "Traceback" not in normal.output
    # in-process, --debug lets the library's own exception through
    debug = run("--debug", "list", "--show", missing, ok=False)
    assert type(debug.exception).__name__ == "ContentError"
    # and a real process prints its traceback
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "--debug", "list", "--show", str(missing)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "pipeline.errors.ContentError: show.yaml: file not found" in proc.stderr
    after = run("list", "--show", missing, "--debug", ok=False)  # --debug after the subcommand works too
    assert type(after.exception).__name__ == "ContentError"
    plain = subprocess.run(
        [sys.executable, "-m", "pipeline", "list", "--show", str(missing)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert plain.returncode == ExitCode.ERROR
    assert plain.stderr.startswith("Error: show.yaml: file not found (looked for ")
    assert len(plain.stderr.splitlines()) == 1


def test_no_color_leaves_no_ansi_escapes(sample_show: Path) -> None:
    (sample_show.parent / "host.jpg").unlink()
    env_without = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = CliRunner(env=env_without).invoke(
        cli, ["check", "--show", str(sample_show), "--now", NOW], color=True, env={"NO_COLOR": None}
    )
    assert coloured.exit_code == ExitCode.ERROR
    assert ANSI.search(coloured.stderr), "without NO_COLOR the Error: label is coloured on a colour terminal"
    plain = run("check", "--show", sample_show, "--now", NOW, env={"NO_COLOR": "1"}, color=True, ok=False)
    assert plain.exit_code == ExitCode.ERROR
    assert "\x1b[" not in plain.output and "\x1b[" not in plain.stderr
    assert plain.stderr.splitlines()[0] == (
        "Error: show.yaml: host.photo: image file 'host.jpg' not found (this folder has 'cover.jpg')"
    )
    assert ANSI.sub("", coloured.stderr) == plain.stderr


def test_errors_on_a_non_terminal_carry_no_escapes(sample_show: Path) -> None:
    (sample_show.parent / "host.jpg").unlink()
    result = run("check", "--show", sample_show, "--now", NOW, ok=False)
    assert "\x1b[" not in result.stderr


def test_click_is_new_enough_for_separate_stderr() -> None:
    major, minor = (int(x) for x in importlib.metadata.version("click").split(".")[:2])
    assert (major, minor) >= (8, 2)


def test_yaml_written_by_new_is_plain(sample_show: Path) -> None:
    # the front matter `new` writes is what a host edits by hand: plain keys in a fixed order
    run("new", "Hip drop", "--show", sample_show, "--now", NOW)
    text = (sample_show.parent / "episodes" / "hip-drop" / "episode.md").read_text(encoding="utf-8")
    front = text.split("---\n")[1]
    assert list(yaml.safe_load(front)) == ["title", "date", "number", "draft"]


# --------------------------------------------------------------------------- --format json (one emitter)


def _documented_keys(heading: str) -> list[str]:
    """The keys of the README table under the heading line `##### {heading}` (first column, in backticks)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    marker = f"\n##### {heading}\n"
    assert marker in readme, f"no README heading {heading!r}"
    section = readme.split(marker, 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE)
    assert rows, f"no key table under {heading!r}"
    return rows


def _break_two_dates(root: Path) -> None:
    for slug in (KNEES, SHINS):
        md = root / "episodes" / slug / "episode.md"
        md.write_text(md.read_text(encoding="utf-8").replace("+00:00", "", 1), encoding="utf-8")


def test_check_json_has_the_documented_keys_and_the_text_lines(sample_show: Path) -> None:
    when = "2025-03-12T00:00:00+00:00"  # episode 3 is scheduled then: one note
    result = run("check", "--show", sample_show, "--now", when, "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert list(doc) == _documented_keys("`podcast check --format json`")
    (note,) = doc["problems"]
    assert list(note) == _documented_keys("`podcast check --format json`: each of `problems`")
    assert note == {
        "level": "info",
        "file": f"episodes/{RETURN}/episode.md",
        "field": None,
        "message": "scheduled for 2025-03-18T07:00:00+00:00",
        "hint": "",
        "rule": None,
        "text": f"episodes/{RETURN}/episode.md: scheduled for 2025-03-18T07:00:00+00:00",
    }
    assert (doc["ok"], doc["episodes"], doc["files"], doc["errors"], doc["warnings"]) == (True, 3, 4, 0, 0)
    # text is the same words: the note's line on stderr, the summary on stdout
    text = run("check", "--show", sample_show, "--now", when)
    assert text.stderr == f"Note: {note['text']}\n"
    assert text.stdout == doc["summary"] + "\n" == "show.yaml and 3 episodes are clean.\n"
    # --quiet hides notes from people, not from machines
    quiet = run("check", "-q", "--show", sample_show, "--now", when, "--format", "json")
    assert json.loads(quiet.stdout)["problems"] == [note]


def test_check_json_on_a_broken_show_is_one_document_and_exit_1(sample_show: Path) -> None:
    _break_two_dates(sample_show.parent)
    result = run("check", "--show", sample_show, "--now", NOW, "--format", "json", ok=False)
    assert result.exit_code == ExitCode.ERROR
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert (doc["ok"], doc["errors"], doc["summary"]) == (False, 2, "Aborted: 2 problems in 2 files.")
    assert [(p["level"], p["file"], p["field"], p["hint"]) for p in doc["problems"]] == [
        ("error", f"episodes/{SHINS}/episode.md", "date", "write 2025-03-11T07:00:00+00:00"),
        ("error", f"episodes/{KNEES}/episode.md", "date", "write 2025-03-04T07:00:00+00:00"),
    ]
    text = run("check", "--show", sample_show, "--now", NOW, ok=False)
    assert text.exit_code == ExitCode.ERROR
    assert text.stdout == ""
    assert text.stderr.splitlines() == [
        f"Error: episodes/{SHINS}/episode.md: date: '2025-03-11 07:00:00' has no time zone "
        "(write 2025-03-11T07:00:00+00:00)",
        f"Error: episodes/{KNEES}/episode.md: date: '2025-03-04 07:00:00' has no time zone "
        "(write 2025-03-04T07:00:00+00:00)",
        "Aborted: 2 problems in 2 files.",
    ]
    assert [f"Error: {p['text']}" for p in doc["problems"]] == text.stderr.splitlines()[:2]


def test_check_json_names_the_validator_rule(sample_show: Path) -> None:
    show = sample_show.read_text(encoding="utf-8")
    sample_show.write_text(
        show.replace("https://stride-clinic.example.com/support/", "http://tips.example.com/"),
        encoding="utf-8",
    )
    result = run("check", "--show", sample_show, "--now", NOW, "--format", "json", ok=False)
    assert result.exit_code == ExitCode.ERROR
    (pc112,) = [p for p in json.loads(result.stdout)["problems"] if p["rule"] == "PC112"]
    assert (pc112["level"], pc112["file"], pc112["field"]) == ("error", "show.yaml", "funding[0].url")
    assert pc112["text"] == (
        "show.yaml: funding[0].url: podcast:funding URL http://tips.example.com/ is http, not https "
        "(PC112: Podcasting 2.0 requires https for every URL in a podcast: tag)"
    )


def test_build_and_feed_json_have_the_documented_keys(sample_show: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run("build", "--show", sample_show, "--now", NOW, "--out", out, "--format", "json")
    assert first.exit_code == ExitCode.OK, first.output
    doc = json.loads(first.stdout)  # progress went to stderr: stdout is one document
    assert list(doc) == _documented_keys("`podcast build --format json`")
    assert doc["episodes"] == [RETURN, SHINS, KNEES]  # newest first
    assert (doc["out_dir"], doc["encoded"], doc["tagged"], doc["unchanged"], doc["shard"]) == (
        str(out),
        3,
        3,
        0,
        None,
    )
    assert doc["written"] == len([p for p in out.rglob("*") if p.is_file()])
    assert doc["derived"] == 4  # the sample show's three Opus alternates and its one soundbite clip
    assert doc["summary"] == (
        f"Built 3 episodes: 3 encoded, 3 tagged, 0 unchanged; {doc['written']} files written to {out}."
    )
    again = run("build", "--show", sample_show, "--now", NOW, "--out", out)
    assert again.stdout == f"Built 3 episodes: 0 encoded, 0 tagged, 3 unchanged; 0 files written to {out}.\n"
    quiet = run("build", "-q", "--show", sample_show, "--now", NOW, "--out", out, "--format", "json")
    assert quiet.stderr == ""
    assert {k: v for k, v in json.loads(quiet.stdout).items() if k != "summary"} == {
        **{k: v for k, v in doc.items() if k != "summary"},
        "encoded": 0,
        "tagged": 0,
        "derived": 0,
        "unchanged": 3,
        "written": 0,
    }
    feed = json.loads(
        run("feed", "--show", sample_show, "--now", NOW, "--out", out, "--format", "json").stdout
    )
    assert feed == {
        "feed": str(out / "feed.xml"),
        "episodes": [RETURN, SHINS, KNEES],
        "written": 0,
        "summary": f"Feed written to {out / 'feed.xml'} (3 episodes).",
    }
    assert run("feed", "--show", sample_show, "--now", NOW, "--out", out).stdout == feed["summary"] + "\n"


def test_new_and_init_json_say_what_was_written(sample_show: Path, tmp_path: Path) -> None:
    later = "2025-07-01T07:00:00+00:00"
    result = run("new", "Calves", "--show", sample_show, "--now", NOW, "--date", later, "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout) == {
        "root": str(sample_show.parent),
        "files": ["episodes/calves/episode.md"],
        "title": "Calves",
        "slug": "calves",
        "number": 4,
        "draft": True,
        "scheduled": True,
        "title_from": None,
    }
    text = run("new", "Quads", "--show", sample_show, "--now", NOW, "--date", later)
    assert text.stdout == (
        "Created episodes/quads/episode.md (episode 5, draft). "
        f"It is dated after {dt.datetime.fromisoformat(NOW).isoformat()}: scheduled until then.\n"
    )
    started = json.loads(run("init", tmp_path / "new-show", "--no-workflow", "--format", "json").stdout)
    assert started["files"] == ["show.yaml", "episodes/.gitkeep", ".gitignore", "cover.jpg"]
    assert all((tmp_path / "new-show" / f).is_file() for f in started["files"])
    assert (started["title"], started["slug"], started["draft"]) == ("My Podcast", None, None)


def test_validate_rules_list_the_catalogue(tmp_path: Path) -> None:
    from pipeline.validate import RULES

    rows = json.loads(run("validate", "--rules", "--profile", "spotify", "--format", "json").stdout)
    assert {r["rule"] for r in rows} < set(RULES)
    assert all("spotify" in r["profiles"] for r in rows)
    assert list(rows[0]) == ["rule", "severity", "profiles", "title", "hint"]
    table = run("validate", "--rules").stdout.splitlines()
    assert table[0].split() == ["rule", "severity", "profiles", "title"] and len(table) == len(RULES) + 1
    missing = run("validate", ok=False)
    assert missing.exit_code == ExitCode.USAGE and "Missing argument 'FEED'" in missing.stderr


@pytest.mark.parametrize("name", sorted(set(cli.commands) - {"serve", "docs", "tag"}))
def test_every_command_that_prints_a_result_takes_the_one_format_option(name: str) -> None:
    options = {p.name: p for p in cli.commands[name].params if isinstance(p, click.Option)}
    assert "fmt" in options, f"{name} has no --format"
    fmt = options["fmt"]
    assert fmt.opts == ["--format"] and fmt.default == "text"
    assert isinstance(fmt.type, click.Choice) and list(fmt.type.choices)[:2] == ["text", "json"]


def test_show_and_now_are_accepted_after_any_command(tmp_path: Path) -> None:
    before = run("--show", tmp_path / "x", "--now", NOW, "docs", "episode")
    after = run("docs", "episode", "--show", tmp_path / "x", "--now", NOW)
    assert before.exit_code == after.exit_code == ExitCode.OK, after.output
    assert after.stdout == before.stdout and after.stdout.startswith("#### Episode front matter")
    naive = run("docs", "--now", "2025-03-12 00:00", ok=False)  # parsed as strictly as before the command
    assert naive.exit_code == ExitCode.USAGE and "has no time zone" in naive.stderr
    assert "--now" not in run("docs", "--help").stdout  # hidden where it changes nothing
