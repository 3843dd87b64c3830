"""The package's import rules (DESIGN.md §3, STYLE.md §3), checked by walking every module's `ast` imports."""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "pipeline"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / PACKAGE

#: Every module of the package and its layer. A module may import only modules in lower layers.
#: A new module fails `test_every_module_has_a_layer` until it is added here, so the table stays true.
#: A subpackage (pipeline/validate/, pipeline/audio/) has one entry: every module inside it shares the
#: package's layer, and its modules may import one another (see `owner`).
LAYERS: dict[str, int] = {
    "__init__": 0,  # only __version__; feed.py reads it, so it must never import anything above layer 0
    "errors": 0,
    "categories": 0,
    "progress": 0,
    "safeio": 0,  # bounded reads of regular files only (FIFOs, devices, /dev/zero refused)
    "ids": 0,  # namespace URIs and podcast:guid
    "rules": 0,  # pure content rules shared by check, build and audio (chapters)
    "images": 1,  # Pillow: image facts, artwork rules, placeholder art
    "locate": 0,  # where the show.yaml is (no model: an unchanged publish stays light)
    "human": 0,  # sizes, durations, plurals for people
    "model": 1,
    "urls": 2,
    "notes": 2,
    "manifest": 2,
    "s3lite": 2,  # SigV4 GET/HEAD over a socket for an unchanged publish (no boto3); storage falls back to boto3
    "cache": 2,  # every cache of the build: stat digests, keys, CACHE_VERSION
    "feed_ext": 2,
    "artifacts": 2,
    "transcript": 2,
    "placeholders": 2,  # what init/new write for the host to replace; check warns, publish refuses
    "audio": 3,
    "feed": 3,
    "site": 3,
    "storage": 3,
    "notify": 3,
    "validate": 3,
    "transcribe": 3,
    "build": 4,
    "alternates": 4,  # the build's derived media (alternates, soundbite clips, artwork sizes)
    "publish": 4,
    "importer": 4,
    "scaffold": 4,
    "check": 4,
    "serve": 4,
    "cli": 5,
    "__main__": 5,
}

#: Modules every module may import, whatever its layer.
SHARED = {"errors", "progress"}

#: The only imports allowed between two modules of the same layer (importer, imported).
#: Not in here on purpose: ("publish", "build"): publish takes a finished build's result, it never builds.
SAME_LAYER_ALLOWED: set[tuple[str, str]] = {
    ("__main__", "cli"),  # `python -m pipeline` is the CLI
    ("serve", "build"),  # the preview server rebuilds on change: serving a build is its whole job
    ("build", "alternates"),  # one step of the build, after the audio stage
    ("artifacts", "notes"),  # the build record renders each episode's notes once, when first read
    ("model", "images"),  # an image a show names is validated on load by decoding it (images.decode_problem)
}

#: Third-party top-level packages that may be imported only by the modules listed. An entry names one
#: module ("audio": pipeline/audio.py, or pipeline/audio/__init__.py once it is a package), a module of a
#: subpackage ("audio.cover"), or every module of a subpackage ("validate.*").
CONFINED: dict[str, set[str]] = {
    "PIL": {"images"},
    "lxml": {"feed", "feed_ext", "validate.*", "importer"},  # importer reads foreign feeds
    "yaml": {"model", "scaffold", "importer"},  # scaffold and importer write show.yaml/episode.md
    "pydantic": {"model"},
    "mutagen": {"audio.*"},
    "imageio_ffmpeg": {"audio.*"},
    "feedgen": {"feed", "feed_ext"},
    "jinja2": {"site"},
    "cmarkgfm": {"notes"},
    "nh3": {"notes"},
    "boto3": {"storage"},
    "botocore": {"storage"},
    "s3transfer": {"storage"},
    "click": {"cli"},
    "faster_whisper": {"transcribe"},
    "ctranslate2": {"transcribe"},
}


def owner(name: str) -> str:
    """The LAYERS entry a module belongs to: itself, or the subpackage it lives in ("validate.checker")."""
    return name.split(".", 1)[0]


def confined_to(name: str, allowed: set[str]) -> bool:
    """Whether module `name` is one of the CONFINED entries (see there for the "pkg.*" form)."""
    return name in allowed or any(a.endswith(".*") and owner(name) == a[:-2] for a in allowed)


@dataclass(frozen=True)
class Import:
    module: str  # dotted name as imported ("pipeline.model", "click", "feedgen.ext.base")
    line: int


def module_files() -> dict[str, Path]:
    """Module name (relative to the package, dotted for subpackages) -> file."""
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR).with_suffix("")
        parts = rel.parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve_relative(name: str, node: ast.ImportFrom, this: str) -> str:
    """Absolute dotted name of a relative `from .x import y` inside the package."""
    here = [PACKAGE, *this.split(".")]
    if this == "__init__" or (PACKAGE_DIR / this.replace(".", "/")).is_dir():
        package = here if this != "__init__" else [PACKAGE]
    else:
        package = here[:-1]
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join([*base, name] if name else base)


def imports_of(path: Path, this: str) -> list[Import]:
    """Every import in the file, at any depth (function-level imports count), plus import_module("...")."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(node.module or "", node, this) if node.level else (node.module or "")
            found.append(Import(base, node.lineno))
            # `from pipeline import audio` imports the module pipeline.audio, not just the package
            found.extend(
                Import(f"{base}.{alias.name}", node.lineno) for alias in node.names if alias.name != "*"
            )
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
            )
        ):
            found.append(Import(node.args[0].value, node.lineno))
    return found


def internal_targets(imports: list[Import], modules: set[str]) -> list[tuple[str, int]]:
    """The package modules an import list reaches: (module name, line)."""
    out: list[tuple[str, int]] = []
    for imp in imports:
        parts = imp.module.split(".")
        if parts[0] != PACKAGE:
            continue
        rest = parts[1:]
        # the longest dotted prefix that names a module; `from pipeline import __version__` is __init__
        target = "__init__"
        for n in range(len(rest), 0, -1):
            if ".".join(rest[:n]) in modules:
                target = ".".join(rest[:n])
                break
        out.append((target, imp.line))
    return sorted(set(out), key=lambda t: (t[1], t[0]))


def layer_violations(this: str, targets: list[tuple[str, int]]) -> list[str]:
    """Why each of `this` module's imports of package modules breaks the layer rules (empty: none do)."""
    problems: list[str] = []
    mine = LAYERS[owner(this)]
    for target, line in targets:
        if owner(target) == owner(this):
            continue  # itself, or a sibling module inside the same subpackage
        where = f"pipeline/{_file_of(this)}:{line}"
        if target == "cli" and this != "__main__":
            problems.append(f"{where}: imports cli; nothing imports the command line")
            continue
        if owner(target) not in LAYERS:
            continue  # reported by test_every_module_has_a_layer
        theirs = LAYERS[owner(target)]
        if owner(target) in SHARED:
            continue
        if theirs > mine:
            problems.append(
                f"{where}: layer {mine} module {this!r} imports {target!r} from higher layer {theirs}"
            )
        elif theirs == mine and (owner(this), owner(target)) not in SAME_LAYER_ALLOWED:
            problems.append(f"{where}: {this!r} imports {target!r} from its own layer {mine}")
    return problems


def confinement_violations(this: str, imports: list[Import]) -> list[str]:
    problems: list[str] = []
    for imp in imports:
        top = imp.module.split(".")[0]
        allowed = CONFINED.get(top)
        if allowed is not None and not confined_to(this, allowed):
            problems.append(
                f"pipeline/{_file_of(this)}:{imp.line}: imports {imp.module!r}, "
                f"which lives only in {', '.join(sorted(allowed))}"
            )
    return problems


MODULES = module_files()


def _file_of(name: str) -> str:
    """The file a module name stands for, relative to pipeline/ (a package's is its __init__.py)."""
    path = MODULES.get(name)
    if path is not None:
        return path.relative_to(PACKAGE_DIR).as_posix()
    return f"{name.replace('.', '/')}.py"


#: Breaks found in the current code and reported to the lead (strict: fixing one fails until it is removed here).
KNOWN_LAYER_BREAKS: dict[str, str] = {}


def _layer_params() -> list[object]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_LAYER_BREAKS[name])]
            if name in KNOWN_LAYER_BREAKS
            else [],
        )
        for name in sorted(MODULES)
    ]


def test_the_package_is_where_we_look() -> None:
    assert {"__init__", "errors", "model", "cli"} <= set(MODULES)


def test_every_module_has_a_layer() -> None:
    unknown = sorted({owner(m) for m in MODULES} - set(LAYERS))
    assert not unknown, f"add these modules to LAYERS in tests/test_layers.py: {unknown}"


@pytest.mark.parametrize("name", _layer_params())
def test_module_imports_only_from_lower_layers(name: str) -> None:
    if owner(name) not in LAYERS:
        pytest.fail(f"pipeline/{name}.py has no layer; add it to LAYERS")
    targets = internal_targets(imports_of(MODULES[name], name), set(MODULES) | set(LAYERS))
    problems = layer_violations(name, targets)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_third_party_libraries_stay_in_their_module(name: str) -> None:
    problems = confinement_violations(name, imports_of(MODULES[name], name))
    assert not problems, "\n".join(problems)


def test_confined_libraries_are_third_party() -> None:
    # a typo in CONFINED would confine nothing; every name must be a real, importable, non-stdlib package
    for lib in CONFINED:
        assert lib not in sys.stdlib_module_names, lib
        assert importlib.util.find_spec(lib) is not None, f"{lib} is not installed: a typo in CONFINED?"


def test_the_table_matches_the_design() -> None:
    # DESIGN.md §3: cli on top; build/publish/importer below it; audio/feed/site/storage/validate below those
    assert LAYERS["cli"] > LAYERS["build"] == LAYERS["publish"] == LAYERS["importer"]
    assert LAYERS["build"] > LAYERS["audio"] == LAYERS["feed"] == LAYERS["site"] == LAYERS["storage"]
    assert LAYERS["audio"] > LAYERS["urls"] == LAYERS["notes"] == LAYERS["manifest"] == LAYERS["feed_ext"]
    assert LAYERS["urls"] > LAYERS["model"] > LAYERS["errors"] == LAYERS["categories"] == LAYERS["progress"]


# --------------------------------------------------------------------------- the checker itself
# These feed the checker small sources, so a checker that finds nothing cannot pass unnoticed.


def _check_source(tmp_path: Path, name: str, source: str) -> tuple[list[str], list[str]]:
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    imports = imports_of(path, name)
    modules = set(LAYERS)
    return layer_violations(name, internal_targets(imports, modules)), confinement_violations(name, imports)


@pytest.mark.parametrize(
    ("name", "source", "fragment"),
    [
        ("model", "from pipeline import urls\n", "imports 'urls' from higher layer 2"),
        ("model", "from pipeline.urls import audio_key\n", "imports 'urls' from higher layer 2"),
        ("model", "import pipeline.feed\n", "imports 'feed' from higher layer 3"),
        ("urls", "def f():\n    from pipeline import build\n", "imports 'build' from higher layer 4"),
        ("urls", "import importlib\nimportlib.import_module('pipeline.site')\n", "higher layer 3"),
        ("feed", "from pipeline import site\n", "imports 'site' from its own layer 3"),
        ("audio", "from pipeline.storage import S3Storage\n", "its own layer 3"),
        ("publish", "from pipeline.build import build\n", "imports 'build' from its own layer 4"),
        ("build", "from pipeline import cli\n", "nothing imports the command line"),
        ("errors", "from pipeline import model\n", "higher layer 1"),
        ("__init__", "from pipeline.build import build\n", "higher layer 4"),
        ("ids", "from pipeline import model\n", "higher layer 1"),
        ("rules", "from pipeline.model import format_timestamp\n", "higher layer 1"),
        ("images", "from pipeline import validate\n", "higher layer 3"),
        # a module inside a subpackage has the package's layer
        ("validate.checker", "from pipeline import build\n", "imports 'build' from higher layer 4"),
        ("validate.online", "from pipeline.site import render\n", "imports 'site' from its own layer 3"),
        ("audio.tags", "from pipeline.feed import render\n", "imports 'feed' from its own layer 3"),
    ],
)
def test_checker_catches_layer_breaks(tmp_path: Path, name: str, source: str, fragment: str) -> None:
    layers, _ = _check_source(tmp_path, name, source)
    assert any(fragment in p for p in layers), layers


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (
            "feed",
            "from pipeline import feed_ext, notes, urls, model\nfrom pipeline.errors import FeedError\n",
        ),
        ("build", "from pipeline import audio, feed, site\n"),
        ("check", "from pipeline import audio, transcript, model, urls\n"),
        ("model", "from pipeline.errors import ContentError\nfrom pipeline import categories\n"),
        ("cli", "from pipeline import __version__, check, scaffold, build, publish\n"),
        ("__main__", "from pipeline.cli import main\n"),
        ("storage", "from pipeline.progress import Reporter\nfrom pipeline.errors import StorageError\n"),
        # siblings inside one subpackage, and a subpackage reaching down
        (
            "validate.run",
            "from pipeline.validate.checker import _Checker\nfrom pipeline.validate import rules\n",
        ),
        (
            "validate.online",
            "from pipeline.images import artwork_problems\nfrom pipeline.ids import ITUNES\n",
        ),
        ("check", "from pipeline.validate import RULES\nfrom pipeline import images, rules\n"),
        ("validate.crossbuild", "from lxml import etree\n"),
        ("images", "from PIL import Image\n"),
        ("scaffold", "import yaml\n"),
    ],
)
def test_checker_allows_downward_imports(tmp_path: Path, name: str, source: str) -> None:
    layers, confined = _check_source(tmp_path, name, source)
    assert layers == [] and confined == []


@pytest.mark.parametrize(
    ("name", "source", "lib"),
    [
        ("model", "import click\n", "click"),
        ("build", "import imageio_ffmpeg\n", "imageio_ffmpeg"),
        ("feed", "from mutagen.id3 import ID3\n", "mutagen.id3"),
        ("site", "from feedgen.feed import FeedGenerator\n", "feedgen.feed"),
        ("publish", "import boto3\n", "boto3"),
        ("publish", "from botocore.exceptions import ClientError\n", "botocore.exceptions"),
        ("storage", "import jinja2\n", "jinja2"),
        ("feed", "import nh3\n", "nh3"),
        ("site", "def f():\n    import cmarkgfm\n", "cmarkgfm"),
        ("publish", "from s3transfer.manager import TransferManager\n", "s3transfer.manager"),
        ("check", "def f():\n    from PIL import Image\n", "PIL"),
        ("scaffold", "from PIL import ImageDraw\n", "PIL"),
        ("audio.tags", "from PIL import Image\n", "PIL"),
        ("notes", "from lxml import etree\n", "lxml"),
        ("urls", "import yaml\n", "yaml"),
        ("validate.checker", "import yaml\n", "yaml"),
        ("build", "from pydantic import BaseModel\n", "pydantic"),
    ],
)
def test_checker_catches_escaped_libraries(tmp_path: Path, name: str, source: str, lib: str) -> None:
    _, confined = _check_source(tmp_path, name, source)
    assert any(f"imports {lib!r}" in p for p in confined), confined


def test_checker_resolves_relative_imports(tmp_path: Path) -> None:
    layers, _ = _check_source(tmp_path, "model", "from . import build\nfrom .errors import ContentError\n")
    assert layers == ["pipeline/model.py:1: layer 1 module 'model' imports 'build' from higher layer 4"]
