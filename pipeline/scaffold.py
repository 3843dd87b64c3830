"""Starting a show and adding episodes: `podcast init`, `podcast new` and `podcast add`."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from pipeline import __version__, images, model, placeholders, urls
from pipeline.errors import ContentError, ContentErrors, PipelineError

SHOW_TEMPLATE = """\
# show.yaml: your podcast. `podcast docs show.yaml` lists every setting (`podcast docs episode` the
# fields of an episode.md), from the installed tool, so it works offline.
# Lines starting with # are comments; uncomment a setting to use it.

title: {title}
description: >-
  {description}
author: {author}
owner:
  name: {author}
  email: {email}
language: en
# Apple's categories (2019 list): "Top" or "Top > Sub", up to three.
categories:
  - Technology
explicit: false
type: episodic            # or serial (then every episode needs a number)
artwork: cover.jpg        # square JPEG/PNG, 1400-3000 px (a placeholder was made for you)
url: {url}   # where the site and feed are served
# copyright: 2025 Your Name
{guid_line}
locked: true              # podcast:locked: other hosts may not import your feed
# host:
#   name: {author}
#   photo: host.jpg
#   bio: A sentence or two about you, in Markdown.
#   links:
#     - label: Website
#       url: https://example.com/
# call_to_action:
#   text: Tell a friend about the show.
#   url: https://example.com/share/
#   label: Share
# funding:
#   - url: https://example.com/support/
#     text: Support the show
# subscribe:
#   - label: Apple Podcasts
#     url: https://podcasts.apple.com/podcast/id0000000000
# persons:
#   - name: {author}
#     role: host
# theme:
#   color: "#b4381f"
#   logo: logo.png
# page_size: 20
audio:
  loudness: -16           # LUFS: every episode is normalised to this (Apple's -16 target, mono or stereo)
  true_peak: -1.0         # dBTP ceiling while normalising
#   format: mp3           # or m4a
#   bitrate: 128          # kbps (default 128 stereo / 96 mono)
#   channels: 2
#   sample_rate: 44100
#   id3_version: 4
publish:
  target: local           # or s3
  path: public
#   bucket: my-podcast
#   prefix: podcast/
#   region: auto
#   endpoint_url: https://<account>.r2.cloudflarestorage.com
#   public_base_url: https://media.example.com/podcast/
"""

GITIGNORE = """\
# podcast pipeline build output and caches
/build/
/public/
.podcast-cache/
"""

#: The GitHub Actions workflow `init` writes, relative to the show's folder (the root of its repository).
WORKFLOW = Path(".github") / "workflows" / "podcast.yml"
#: Its template, shipped in the package (pyproject.toml package-data); @VERSION@ becomes the pinned version.
_WORKFLOW_TEMPLATE = "scaffold_files/podcast.yml"


def workflow_text(version: str = __version__) -> str:
    """The show's CI workflow, pinned to `version` of podcast-pipeline (by default the one running)."""
    template = resources.files("pipeline").joinpath(_WORKFLOW_TEMPLATE).read_text(encoding="utf-8")
    return template.replace("@VERSION@", version)


def _write_workflow(folder: Path) -> Path | None:
    """Write .github/workflows/podcast.yml unless the repository already has one (never overwritten)."""
    path = folder / WORKFLOW
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow_text(), encoding="utf-8")
    return path


#: `podcast docs TOPIC`: the field reference's sections, by the heading each starts with.
DOC_TOPICS = {"show.yaml": "#### show.yaml", "episode": "#### Episode front matter"}


def field_reference(topic: str | None = None) -> str:
    """The field reference the README carries (generated from the models), whole or one topic's section."""
    text = model.reference_markdown()
    if topic is None:
        return text
    heading = DOC_TOPICS[topic]
    sections = ["#### " + part for part in text.split("#### ") if part]
    return next(section for section in sections if section.startswith(heading))


#: Where `add` took an episode's title from: --title, the notes' front matter, their first `# heading`,
#: or the audio file's name (the notes had neither).
TitleSource = Literal["option", "front matter", "heading", "file name"]


@dataclass(frozen=True)
class Created:
    """What a scaffolding command wrote, as data; the CLI words it (text) or prints it (json)."""

    root: Path  # the show's folder (`init`: as given, not resolved)
    paths: tuple[Path, ...]  # every file written, in the order written
    title: str  # the show's title (`init`) or the episode's
    folder: Path | None = None  # the new episode's folder (`new`, `add`)
    number: int | None = None  # the new episode's number
    draft: bool = True  # the new episode is a draft
    title_from: TitleSource | None = None  # `add` only


def slugify(title: str) -> str:
    """'Why your knees hurt!' -> 'why-your-knees-hurt' (ASCII, lowercase, hyphens)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "episode"


def init_show(
    folder: Path, *, title: str, author: str, email: str, url: str | None, workflow: bool = True
) -> Created:
    """Start a new show in `folder`: show.yaml, episodes/, .gitignore, placeholder artwork and (unless
    `workflow` is false) the GitHub Actions workflow that checks pull requests and publishes."""
    folder = Path(folder)
    target = folder / model.SHOW_FILE
    if target.exists():
        raise ContentError(
            "already exists; not overwriting it",
            file=str(target),
            hint="edit it, or run init in an empty folder",
        )
    outer = model.enclosing_show(folder)
    if outer is not None:
        raise ContentError(
            f"is inside the show of {outer}; a show cannot hold another show",
            file=str(folder.resolve()),
            hint="run `podcast init FOLDER` outside it, then cd into FOLDER",
        )
    site = url or placeholders.SHOW_URL
    if not site.endswith("/"):
        site += "/"
    if not re.match(r"^https?://[^\s/]+", site):
        raise ContentError(f"{url!r} is not an http(s) URL", field="--url", hint="write https://example.com/")
    if not model.EMAIL_RE.match(email):
        raise ContentError(f"{email!r} is not an email address", field="--email")
    if not title.strip():
        raise ContentError("the title must not be empty", field="--title")
    if url:
        guid_line = f"guid: {urls.podcast_guid(site + 'feed.xml')}   # podcast:guid, pinned: never change it"
    else:
        guid_line = "# guid: (run `podcast check` once url is set; it prints the podcast:guid to pin here)"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / model.EPISODES_DIR).mkdir(exist_ok=True)
    keep = folder / model.EPISODES_DIR / ".gitkeep"
    keep.touch()
    target.write_text(
        SHOW_TEMPLATE.format(
            title=_yaml_scalar(title),
            author=_yaml_scalar(author),
            email=email,
            url=site,
            guid_line=guid_line,
            description=placeholders.SHOW_DESCRIPTION,
        ),
        encoding="utf-8",
    )
    written = [target, keep]
    gitignore = folder / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE, encoding="utf-8")
        written.append(gitignore)
    if workflow and (ci := _write_workflow(folder)) is not None:
        written.append(ci)
    cover = folder / "cover.jpg"
    if not cover.exists():
        images.placeholder_art(cover, title)
        written.append(cover)
    return Created(folder, tuple(written), title)


def _yaml_scalar(value: str) -> str:
    return yaml.safe_dump(value, default_style=None, allow_unicode=True).strip().removesuffix("\n...")


def next_number(episodes: tuple[model.Episode, ...]) -> int:
    numbers = [e.number for e in episodes if e.number is not None]
    return max(numbers, default=0) + 1


def _front_matter(fields: dict[str, object]) -> str:
    body = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{body}---\n"


def _episode_folder(show: model.Show, title: str) -> tuple[str, Path]:
    slug = slugify(title)
    folder = show.root / model.EPISODES_DIR / slug
    if folder.exists():
        raise ContentError(
            "already exists",
            file=model.show_rel(show.root, folder),
            hint="pick another title, or edit that episode",
        )
    return slug, folder


def _date_text(when: dt.datetime) -> str:
    return when.replace(microsecond=0).isoformat()


def new_episode(show_path: Path, title: str, *, when: dt.datetime) -> Created:
    """Scaffold episodes/<slug>/episode.md as a draft with the next number and `when` as its date.

    The notes start with placeholder text and list items (`podcast check` warns while they are left);
    their sections are not called "In this episode", the title of the page's own outline.
    """
    show, episodes = model.load(show_path)
    title = title.strip()
    if not title:
        raise ContentError("the title must not be empty", field="TITLE")
    if len(title) > 255:
        raise ContentError(f"the title is {len(title)} characters; the limit is 255", field="TITLE")
    _, folder = _episode_folder(show, title)
    number = next_number(episodes)
    fields: dict[str, object] = {"title": title, "date": _date_text(when), "number": number, "draft": True}
    notes = f"{placeholders.NOTES_TEXT}\n\n## Topics\n\n- \n\n## Resources\n\n- \n"
    folder.mkdir(parents=True)
    path = folder / model.NOTES_FILE
    path.write_text(
        _front_matter(fields) + "<!-- Put the recording in this folder and add `audio: <file name>` above;\n"
        "     remove `draft: true` when the episode is ready. -->\n\n" + notes,
        encoding="utf-8",
    )
    _keep_only_if_valid(show, folder)
    return Created(show.root, (path,), title, folder=folder, number=number)


def _keep_only_if_valid(show: model.Show, folder: Path, sources: dict[str, str] | None = None) -> None:
    """The new episode must load, and the whole show with it, or the folder is removed again.

    `sources` maps a field to the file the user wrote it in (`add`'s notes and audio): a problem with that
    field names that file, because the rolled-back episode.md no longer exists.
    """
    try:
        model.load_episodes(show)
    except PipelineError as err:
        shutil.rmtree(folder)
        if isinstance(err, ContentErrors):
            mine = [
                p for p in err.problems if str(p.file or "").startswith(model.show_rel(show.root, folder))
            ]
            clash = [p for p in err.problems if p not in mine]
            if clash and not mine:
                raise ContentErrors(
                    [
                        ContentError(
                            f"{p.message} (clashes with {p.file})",
                            file=sources[""]
                            if sources
                            else str(model.show_rel(show.root, folder / model.NOTES_FILE)),
                            field=p.field,
                        )
                        for p in clash
                    ]
                ) from None
            if sources:
                mine = [_blame(p, sources) for p in mine]
            raise ContentErrors(mine or err.problems) from None
        raise


def _blame(problem: PipelineError, sources: dict[str, str]) -> PipelineError:
    """The same problem, naming the user's file that holds the field (the rolled-back copy is gone)."""
    top = (problem.field or "").split(".")[0].split("[")[0]
    problem.file = sources.get(top, sources[""])
    return problem


def add_episode(
    show_path: Path,
    audio: Path,
    notes: Path,
    *,
    title: str | None,
    when: dt.datetime,
    date: dt.datetime | None = None,
    draft: bool = True,
) -> Created:
    """Create an episode from an existing recording and a notes file (with or without front matter).

    The title is `title`, else the notes' front matter `title:`, else their first `# heading`, else the
    audio file's name ("ep2.wav" -> "Ep2"). The date is `date`, else the front matter's, else `when`.
    The episode is a draft unless `draft` is false.
    """
    show, episodes = model.load(show_path)
    audio, notes = Path(audio), Path(notes)
    ext = audio.suffix.lower()
    if ext not in model.AUDIO_TYPES:
        raise ContentError(
            f"{ext or 'no extension'} is not a supported audio type",
            file=str(audio),
            hint=f"expected {', '.join(sorted(model.AUDIO_TYPES))}",
        )
    if not audio.is_file():
        raise ContentError("file not found", file=str(audio))
    if not notes.is_file():
        raise ContentError("file not found", file=str(notes))
    text = notes.read_bytes()
    try:
        decoded = text.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContentError("is not UTF-8 text", file=str(notes), hint="save the file as UTF-8") from None
    fields: dict[str, object] = {}
    body = decoded
    if decoded.lstrip().startswith("---"):
        data, body, _ = model.split_front_matter(decoded.lstrip(), str(notes))
        fields.update(data)
    heading = re.match(r"^#\s+(.+?)\s*#*\s*$", body.lstrip().split("\n", 1)[0])
    final_title = title or fields.get("title") or (heading.group(1) if heading else None)
    origin: TitleSource = "option" if title else "front matter" if fields.get("title") else "heading"
    if heading and final_title == heading.group(1):
        body = body.lstrip().split("\n", 1)[1] if "\n" in body.lstrip() else ""
    if not final_title:
        final_title = audio.stem.replace("-", " ").replace("_", " ").strip().capitalize() or "Untitled"
        origin = "file name"
    fields["title"] = str(final_title)
    if date is not None:
        fields["date"] = _date_text(date)
    fields.setdefault("date", _date_text(when))
    fields.setdefault("number", next_number(episodes))
    fields["audio"] = f"audio{ext}"
    if draft:
        fields["draft"] = True
    else:
        fields.pop("draft", None)
    ordered: dict[str, object] = {k: fields[k] for k in ("title", "date", "number", "audio") if k in fields}
    ordered.update({k: v for k, v in fields.items() if k not in ordered})
    if isinstance(stamp := ordered.get("date"), dt.datetime):
        ordered["date"] = _date_text(stamp)
    _, folder = _episode_folder(show, str(final_title))
    folder.mkdir(parents=True)
    try:
        shutil.copyfile(audio, folder / f"audio{ext}")
        path = folder / model.NOTES_FILE
        path.write_text(_front_matter(ordered) + "\n" + body.strip("\n") + "\n", encoding="utf-8")
    except OSError as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise ContentError(f"cannot create the episode: {err.strerror}", file=str(folder)) from None
    _keep_only_if_valid(show, folder, {"": str(notes), "audio": str(audio)})
    number = ordered["number"]
    return Created(
        show.root,
        (folder / f"audio{ext}", folder / model.NOTES_FILE),
        str(final_title),
        folder=folder,
        number=int(number) if isinstance(number, int | str) and str(number).isdigit() else None,
        draft=draft,
        title_from=origin,
    )
