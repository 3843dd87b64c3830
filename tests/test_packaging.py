"""The package as a host gets it: `python -m build` makes an sdist and a wheel that carry everything `podcast`
needs; the wheel, installed into a fresh virtualenv, publishes the sample show from outside this repository."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline import __version__, scaffold
from tests.conftest import REPO, copy_sample_show

#: What `python -m build` needs from the checkout (MANIFEST.in decides what the sdist keeps of it).
SOURCES = ("pyproject.toml", "README.md", "MANIFEST.in", "pipeline")
#: Files `podcast` reads at run time that are not Python modules (pyproject.toml package-data).
DATA = sorted(
    p.relative_to(REPO).as_posix()
    for p in (REPO / "pipeline").rglob("*")
    if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
)
NOW = "2025-06-01T12:00:00+00:00"  # the goldens' clock (tests/conftest.py NOW)
#: The digests tests/golden/site/ stores as markers (tests/test_site.py DIGESTS, restated).
DIGESTS = re.compile(rb"\b[0-9a-f]{16}(?=/)|(?<=\?v=)[0-9a-f]{10}\b")


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


def _run(argv: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, f"{shlex.join(map(str, argv))} exited {proc.returncode}:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """`python -m build` on a copy of the checkout's package sources (the checkout itself is not written)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", out, src], cwd=src)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Dist(sdist, wheel)


def test_build_names_both_files_after_the_version(dist: Dist) -> None:
    assert dist.sdist.name == f"podcast_pipeline-{__version__}.tar.gz"
    assert dist.wheel.name == f"podcast_pipeline-{__version__}-py3-none-any.whl"


def test_the_wheel_carries_every_module_template_and_the_workflow(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        entry_points = wheel.read(f"podcast_pipeline-{__version__}.dist-info/entry_points.txt")
    modules = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "pipeline").rglob("*.py"))
    assert modules and set(modules) <= names
    assert "pipeline/scaffold_files/podcast.yml" in DATA and "pipeline/py.typed" in DATA
    assert any(d.startswith("pipeline/templates/") for d in DATA)
    assert set(DATA) <= names, sorted(set(DATA) - names)
    assert not [n for n in names if n.startswith("tests/")]
    assert b"podcast = pipeline.cli:main" in entry_points


def test_the_sdist_carries_the_sources_and_data_but_not_the_tests(dist: Dist) -> None:
    top = f"podcast_pipeline-{__version__}/"
    with tarfile.open(dist.sdist) as sdist:
        names = {n.removeprefix(top) for n in sdist.getnames()}
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= names
    assert set(DATA) <= names, sorted(set(DATA) - names)
    assert not [n for n in names if n.startswith("tests")]


@pytest.fixture(scope="module")
def venv(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed (--no-deps). The dependencies, at the locked versions, come
    from this test run's own site-packages, added after the venv's own by a .pth file: nothing is downloaded,
    and the editable install of the checkout is not active there (nested .pth files are not processed)."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    _run([sys.executable, "-m", "venv", root], cwd=root.parent)
    python = root / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root))
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.as_posix().strip()) / "_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            dist.wheel,
        ],
        cwd=root,
    )
    return root


def _env(venv: Path) -> dict[str, str]:
    """The environment of a host's shell with that venv first on PATH: nothing points back at this repo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PODCAST_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["NO_COLOR"] = "1"
    return env


def test_the_installed_program_comes_from_the_venv(venv: Path, tmp_path: Path) -> None:
    out = _run(
        [venv / "bin" / "python", "-c", "import pipeline, sys; print(pipeline.__file__); print(sys.prefix)"],
        cwd=tmp_path,
        env=_env(venv),
    )
    module, prefix = out.split()
    assert Path(module).is_relative_to(venv), module
    assert not Path(module).is_relative_to(REPO)
    assert Path(prefix) == venv
    version = _run([venv / "bin" / "podcast", "--version"], cwd=tmp_path, env=_env(venv))
    assert version == f"podcast, version {__version__}\n"


def test_the_installed_docs_command_prints_the_field_reference(venv: Path, tmp_path: Path) -> None:
    out = _run([venv / "bin" / "podcast", "docs", "show.yaml"], cwd=tmp_path, env=_env(venv))
    assert out == scaffold.field_reference("show.yaml")
    assert "| `publish.bucket` |" in out


def test_the_installed_wheel_runs_the_workflow_and_publishes_the_sample_show(
    venv: Path, tmp_path: Path
) -> None:
    """In a copy of the sample show outside this repository: the pull-request job's `podcast` steps of the
    workflow `init` writes, as written, then `podcast publish`; the published feed is the golden one."""
    show = copy_sample_show(tmp_path / "stride-clinic").parent
    assert not show.is_relative_to(REPO)
    env = _env(venv)
    steps = yaml.safe_load(scaffold.workflow_text())["jobs"]["check"]["steps"]
    commands = [shlex.split(s["run"]) for s in steps if s.get("run", "").startswith("podcast ")]
    assert [c[1] for c in commands] == ["check", "build", "validate"]
    for argv in commands:
        out = _run([venv / "bin" / argv[0], *argv[1:], "--now", NOW], cwd=show, env=env)
    assert "::error" not in out and " 0 errors, " in out.splitlines()[-1]
    assert (show / "build" / "feed.xml").is_file()
    summary = _run([venv / "bin" / "podcast", "publish", "--now", NOW], cwd=show, env=env)
    assert summary.strip()
    public = show / "public"
    assert (public / "feed.xml").read_bytes() == (REPO / "tests" / "golden" / "feed.xml").read_bytes()
    # the installed package's templates render the pages byte for byte as the checkout's do
    golden = REPO / "tests" / "golden" / "site"
    pages = sorted(p.relative_to(golden).as_posix() for p in golden.rglob("*") if p.is_file())
    assert {"index.html", "404.html", "sitemap.xml"} <= set(pages)
    assert {f"episodes/{e.name}/index.html" for e in (show / "episodes").iterdir()} <= set(pages)
    for page in pages:
        assert DIGESTS.sub(b"<digest>", (public / page).read_bytes()) == (golden / page).read_bytes(), page
    assert (public / "static" / "style.css").is_file()


# --------------------------------------------------------------------------- the release workflow's guard

RELEASE = REPO / ".github" / "workflows" / "release.yml"


def _release_guard() -> str:
    steps = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    (step,) = [s for s in steps if s.get("name") == "The tag names the version being built"]
    script: str = step["run"]
    return script


@pytest.mark.parametrize("tag", [f"v{__version__}", "v9.9.9", __version__])
def test_the_release_refuses_a_tag_that_is_not_the_version(dist: Dist, tmp_path: Path, tag: str) -> None:
    """The release job's check, run as GitHub runs a step (bash -eo pipefail), on the dist/ built above."""
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "dist").mkdir()
    for built in (dist.sdist, dist.wheel):
        shutil.copy2(built, tmp_path / "dist" / built.name)
    env = {**os.environ, "TAG": tag, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _release_guard()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if tag == f"v{__version__}":
        assert proc.returncode == 0, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 1
        assert f"::error::tag {tag} does not match version {__version__} in pyproject.toml" in proc.stdout
