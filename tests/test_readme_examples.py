"""The README's console examples are real: each block marked `<!-- replay: SESSION [STEP] -->` is run again.

A marked block is replayed line by line in bash, in the session's own folder (the sample show copied to
`HOME/stride-clinic`, or an empty folder for the blocks that start a show): every `$ ...` line is echoed and
run, stdout and stderr go to one pipe in the order they were written, and a failing command adds the
README's `(exit N)` line. The transcript must equal the block, after only one rewrite: the session's HOME
becomes `~`. A line that is just `...` in the README stands for any lines (the README elides there).
Blocks of one session run in README order on the same folder, so one build serves every later block.
STEP names an edit made before the block (the README's prose says what it is). Commands run offline with
`--now` fixed, so the clock never changes an answer. Not marked (so not replayed): blocks that need pip,
an S3 server, notification hubs, a model, or print timings.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, copy_sample_show

README = (REPO / "README.md").read_text(encoding="utf-8")
NOW = "2026-01-01T00:00:00+00:00"  # after every date in the README (its examples were run later still)
SHOW = "stride-clinic"  # the README's sample show lives in ~/stride-clinic
BLOCK = re.compile(r"^<!-- replay: ([a-z0-9 -]+) -->\n```console\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    session: str
    step: str | None
    text: str
    line: int  # README line of the marker, for messages

    @property
    def commands(self) -> list[str]:
        return [line[2:] for line in self.text.splitlines() if line.startswith("$ ")]


def readme_blocks() -> list[Block]:
    blocks = []
    for m in BLOCK.finditer(README):
        session, _, step = m.group(1).partition(" ")
        blocks.append(Block(session, step or None, m.group(2), README.count("\n", 0, m.start()) + 1))
    return blocks


@dataclass
class Session:
    home: Path
    cwd: Path
    env: dict[str, str]


# ------------------------------------------------------------------------- edits the README's prose names


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path}: expected {old!r} to edit"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def retitle(show: Path) -> None:
    _edit(
        show / "episodes/shin-splints-are-a-load-problem/episode.md",
        "title: Shin splints are a load problem\n",
        "title: Shin splints are a training-load problem\n",
    )


def redate(show: Path) -> None:
    _edit(
        show / "episodes/why-your-knees-hurt-when-you-run/episode.md",
        "date: 2025-03-04T07:00:00+00:00\n",
        "date: 2025-03-05T07:00:00+00:00\n",
    )


def typos(show: Path) -> None:
    """A category, a key and a date broken in the show `podcast init` and `podcast add` made."""
    _edit(show / "show.yaml", "  - Technology\n", "  - Tech\n")
    _edit(show / "show.yaml", "\nexplicit: false", "\nexplict: false")
    _edit(
        show / "episodes/downhill-running/episode.md",
        "date: '2025-06-09T07:00:00+01:00'",
        "date: 2025-06-09 07:00:00",
    )


STEPS: dict[str, Callable[[Path], None]] = {"retitle": retitle, "redate": redate, "typos": typos}


# ------------------------------------------------------------------------------ where each session starts


def _sample(home: Path) -> Path:
    copy_sample_show(home / SHOW)
    return home / SHOW


def _broken(home: Path) -> Path:
    """The sample show with a category, a key and a date broken (the `check --format json` example)."""
    show = _sample(home)
    _edit(show / "show.yaml", "  - Sports > Running\n", "  - Sport\n")
    _edit(show / "show.yaml", "\nexplicit: false", "\nexplict: false")
    _edit(
        show / "episodes/shin-splints-are-a-load-problem/episode.md",
        "date: 2025-03-11T07:00:00+00:00",
        "date: 2025-03-11 07:00:00",
    )
    return show


def _trail_talk(home: Path) -> Path:
    """An empty folder holding the recordings and notes the README's `podcast add` lines take."""
    home.mkdir(parents=True)
    mp3 = REPO / "episodes/coming-back-after-a-running-injury/audio.mp3"
    shutil.copy2(mp3, home / "ep2.mp3")
    shutil.copy2(mp3, home / "ep3.mp3")
    (home / "notes-ep2.md").write_text("# Downhill running\n\nHow to run down a hill and keep your quads.\n")
    (home / "notitle.md").write_text("Strides, cadence and the long run.\n")
    return home


def _placeholders(home: Path, env: dict[str, str]) -> Path:
    """A show just made by `podcast init` (no --url) and `podcast new`, nothing replaced yet."""
    show = home / "my-podcast"
    show.mkdir(parents=True)
    for args in (["init"], ["new", "First one", "--date", "2025-05-01T07:00:00+00:00"]):
        done = subprocess.run(
            ["podcast", *args], cwd=show, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
    return show


def _funding(home: Path, sessions: dict[str, Session]) -> Path:
    """The sample show with an http funding URL; the sample session's media cache, so nothing is re-encoded."""
    show = _sample(home)
    _edit(show / "show.yaml", "https://stride-clinic.example.com/support/", "http://tips.example.com/")
    sample = sessions.get("sample")
    if sample is not None and (sample.home / SHOW / ".podcast-cache").is_dir():
        shutil.copytree(sample.home / SHOW / ".podcast-cache", show / ".podcast-cache")
    return show


#: Sessions replayed together in one test (a session may reuse another's cache within its group).
GROUPS = {
    "sample": ("sample", "funding"),
    "cold": ("cold",),
    "scaffold": ("trail-talk", "placeholders", "broken"),
}


def _env(home: Path, bin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PODCAST_"))}
    env.update(
        HOME=str(home),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",  # stdout and stderr reach the pipe in the order a terminal shows them
        PYTHONUTF8="1",
        NO_COLOR="1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(home / ".no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".no-aws-credentials"),
    )
    return env


def _podcast_shim(bin_dir: Path) -> None:
    """`podcast` on PATH: this checkout's CLI, with the clock fixed (--now is accepted after any command)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "podcast"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m pipeline "$@" --now {NOW}\n')
    shim.chmod(0o755)


def _start(name: str, root: Path, bin_dir: Path, sessions: dict[str, Session]) -> Session:
    home = root / name
    env = _env(home, bin_dir)
    if name in ("sample", "cold"):
        cwd = _sample(home)
    elif name == "broken":
        cwd = _broken(home)
    elif name == "trail-talk":
        cwd = _trail_talk(home)
    elif name == "placeholders":
        home.mkdir(parents=True)
        cwd = _placeholders(home, env)
    elif name == "funding":
        cwd = _funding(home, sessions)
    else:
        raise AssertionError(f"README replay session {name!r} is not defined in {__file__}")
    return Session(home=home, cwd=cwd, env=env)


# ------------------------------------------------------------------------------------- replay and compare


def transcript(block: Block, session: Session) -> str:
    """Run the block's commands in bash as a terminal would show them; the session's HOME written as `~`."""
    state = session.home / ".replay-cwd"
    script = [f"cd {shlex.quote(str(session.cwd))}"]
    for command in block.commands:
        script += [
            f"printf '%s\\n' {shlex.quote('$ ' + command)}",
            command,
            'rc=$?; if [ "$rc" -ne 0 ]; then echo "(exit $rc)"; fi',
        ]
    script.append(f"pwd > {shlex.quote(str(state))}")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        env=session.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=300,
        check=False,
    )
    session.cwd = Path(state.read_text().strip())
    out = done.stdout.decode("utf-8")
    for home in {str(session.home), os.path.realpath(session.home)}:
        out = out.replace(home + "/", "~/")
    return out


def matches(expected: str, actual: str) -> bool:
    """`actual` equals `expected`, where an expected line that is just `...` stands for any lines."""
    pattern = "".join(
        r"(?:[^\n]*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
        for line in expected.splitlines()
    )
    return re.fullmatch(pattern, actual) is not None


def test_the_matcher_only_skips_where_the_readme_says_dot_dot_dot() -> None:
    assert matches("$ podcast x\na\n...\nz\n", "$ podcast x\na\nb\nc\nz\n")
    assert matches("a\n...\nz\n", "a\nz\n")
    assert not matches("a\n...\nz\n", "a\nb\nz\nextra\n")
    assert not matches("a\nz\n", "a\nb\nz\n")
    assert not matches("size 1.8 MB\n", "size 1.9 MB\n")


def test_the_replayed_blocks_cover_the_main_commands() -> None:
    blocks = readme_blocks()
    assert blocks, "no <!-- replay: ... --> markers in README.md"
    ran = {" ".join(shlex.split(c, comments=True)[:3]) for b in blocks for c in b.commands}
    words = {" ".join(c.split()[:2]) for c in ran}
    needed = {"podcast init", "podcast new", "podcast add", "podcast check", "podcast build", "podcast list"}
    needed |= {"podcast feed", "podcast validate", "podcast publish", "podcast status", "podcast probe"}
    assert needed <= words, f"README replays none of {sorted(needed - words)}"
    assert "podcast publish --dry-run" in ran
    grouped = {s for sessions in GROUPS.values() for s in sessions}
    for b in blocks:
        assert b.session in grouped, f"README.md:{b.line}: session {b.session!r} belongs to no group"
        assert b.step is None or b.step in STEPS, f"README.md:{b.line}: no step {b.step!r}"


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_readme_console_blocks_replay(group: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    _podcast_shim(bin_dir)
    sessions: dict[str, Session] = {}
    blocks = [b for b in readme_blocks() if b.session in GROUPS[group]]
    assert blocks, f"no README block replays in group {group!r}"
    failures = []
    for block in blocks:
        session = sessions.get(block.session)
        if session is None:
            session = sessions[block.session] = _start(block.session, tmp_path, bin_dir, sessions)
        if block.step is not None:
            STEPS[block.step](session.cwd)
        actual = transcript(block, session)
        if not matches(block.text, actual):
            diff = "\n".join(
                difflib.unified_diff(
                    block.text.splitlines(), actual.splitlines(), "README.md", "real run", lineterm="", n=1
                )
            )
            failures.append(f"README.md:{block.line} ({block.session}) differs from a real run:\n{diff}")
    assert not failures, "\n\n".join(failures)
