"""What `podcast init` gives a host's own repository: the CI workflow (checked against GitHub's workflow
schema), `--no-workflow`, and `podcast docs`, the field reference that show.yaml's comments point at."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from pipeline import __version__, model, scaffold
from pipeline.cli import cli
from pipeline.errors import ExitCode
from tests.conftest import REPO

WORKFLOW = Path(".github/workflows/podcast.yml")
RELEASE = REPO / ".github" / "workflows" / "release.yml"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def schema_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against its vendored copy of SchemaStore's GitHub workflow schema (offline)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop("on", None) or data.pop(True)  # YAML 1.1 reads a bare `on` key as True
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [s["run"].strip() for s in job["steps"] if "run" in s]


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]
    return step


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "trail-talk"
    result = run("init", folder, "--title", "Trail Talk", "--url", "https://trailtalk.example.com/")
    assert result.exit_code == ExitCode.OK, result.output
    return folder


# --------------------------------------------------------------------------- the workflow init writes


def test_init_writes_the_workflow_from_the_packaged_template(initialised: Path) -> None:
    text = (initialised / WORKFLOW).read_text(encoding="utf-8")
    assert text == scaffold.workflow_text(__version__)
    assert "@VERSION@" not in text
    assert f"podcast-pipeline=={__version__}" in text


def test_the_workflow_passes_the_github_workflow_schema(initialised: Path) -> None:
    result = schema_check(initialised / WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(initialised: Path, tmp_path: Path) -> None:
    """The control: the same check fails on the workflow with one step key misspelt."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (initialised / WORKFLOW).read_text().replace("run: podcast check", "runs: podcast check")
    )
    result = schema_check(broken)
    assert result.returncode != 0
    assert "broken.yml" in result.stdout


def test_pull_requests_are_checked_validated_as_annotations_and_the_site_attached(initialised: Path) -> None:
    workflow = load(initialised / WORKFLOW)
    assert {"pull_request", "push"} <= set(workflow["on"])
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["check"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert "secrets." not in yaml.safe_dump(job)  # a pull request from a fork never sees the credentials
    assert runs(job) == [
        'pip install "$PODCAST_PIPELINE"',
        "podcast check",
        "podcast build",
        "podcast validate build/feed.xml --format github",
    ]
    artifact = uses(job, "actions/upload-artifact")
    assert artifact["with"]["path"] == "build/"


def test_the_default_branch_publishes_with_the_secrets_and_the_cache(initialised: Path) -> None:
    workflow = load(initialised / WORKFLOW)
    job = workflow["jobs"]["publish"]
    assert "github.event_name != 'pull_request'" in job["if"]
    assert "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)" in job["if"]
    assert job["env"] == {
        "AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
    }
    assert job["concurrency"]["cancel-in-progress"] is False  # one publisher at a time, none cut off
    assert runs(job) == ['pip install "$PODCAST_PIPELINE"', "podcast check", "podcast publish"]
    for name in ("check", "publish"):
        cache = uses(workflow["jobs"][name], "actions/cache")["with"]
        assert cache["path"] == ".podcast-cache"
        assert "hashFiles('show.yaml', 'episodes/**')" in cache["key"]
        assert uses(workflow["jobs"][name], "actions/checkout")["with"]["lfs"] is True


def test_the_workflow_installs_the_version_that_ran_init(initialised: Path) -> None:
    workflow = load(initialised / WORKFLOW)
    assert workflow["env"]["PODCAST_PIPELINE"] == f"podcast-pipeline=={__version__}"
    assert scaffold.workflow_text("9.8.7").count("podcast-pipeline==9.8.7") == 1


def test_init_no_workflow_writes_none(tmp_path: Path) -> None:
    result = run("init", tmp_path / "show", "--no-workflow")
    assert result.exit_code == ExitCode.OK, result.output
    assert (tmp_path / "show" / "show.yaml").is_file()
    assert not (tmp_path / "show" / ".github").exists()


def test_init_keeps_a_workflow_the_repository_already_has(tmp_path: Path) -> None:
    mine = tmp_path / "show" / WORKFLOW
    mine.parent.mkdir(parents=True)
    mine.write_text("name: mine\n", encoding="utf-8")
    assert run("init", tmp_path / "show").exit_code == ExitCode.OK
    assert mine.read_text(encoding="utf-8") == "name: mine\n"


# --------------------------------------------------------------------------- podcast docs


def test_show_yaml_points_at_podcast_docs(initialised: Path) -> None:
    text = (initialised / "show.yaml").read_text(encoding="utf-8")
    assert "`podcast docs show.yaml`" in text.splitlines()[0]
    assert "README" not in text
    model.load_show(initialised / "show.yaml")  # the comment keeps it a valid show


def test_docs_prints_the_whole_reference_as_the_readme_has_it() -> None:
    result = run("docs")
    assert result.exit_code == ExitCode.OK
    assert result.stdout == model.reference_markdown()
    assert result.stdout in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("topic", "heading", "field"),
    [
        ("show.yaml", "#### show.yaml\n", "| `publish.bucket` |"),
        ("episode", "#### Episode front matter", "| `chapters` |"),
    ],
)
def test_docs_topic_prints_its_section(topic: str, heading: str, field: str) -> None:
    result = run("docs", topic)
    assert result.exit_code == ExitCode.OK
    assert result.stdout.startswith(heading)
    assert field in result.stdout
    assert result.stdout.count("#### ") == 1
    assert result.stdout in model.reference_markdown()


def test_docs_sections_together_are_the_whole_reference() -> None:
    assert run("docs", "show.yaml").stdout + run("docs", "episode").stdout == model.reference_markdown()


def test_docs_unknown_topic_is_a_usage_error_naming_the_topics() -> None:
    result = CliRunner().invoke(cli, ["docs", "feed"])
    assert result.exit_code == ExitCode.USAGE
    assert "'feed' is not one of 'episode', 'show.yaml'" in result.stderr
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- this repo's release workflow


def test_the_release_workflow_passes_the_schema_and_publishes_by_trusted_publishing() -> None:
    result = schema_check(RELEASE)
    assert result.returncode == 0, result.stdout + result.stderr
    workflow = load(RELEASE)
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert any("python -m build" in r for r in runs(build))
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    step = uses(publish, "pypa/gh-action-pypi-publish")
    assert "with" not in step or "password" not in step["with"]  # no token: trusted publishing
    assert "id-token" not in yaml.safe_dump(build)
