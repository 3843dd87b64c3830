"""`podcast check`: lint show.yaml and every episode (content, audio, chapters, transcripts) without building."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline import audio, images, model, placeholders, rules, transcript, urls
from pipeline.errors import ContentError, PipelineError
from pipeline.validate import RULES, Severity, active_rules
from pipeline.validate.checker import Checker

Level = Literal["error", "warning", "info"]
_LEVEL: dict[Severity, Level] = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


@dataclass(frozen=True)
class Problem:
    """One finding: where it is (file, field), what is wrong, how to fix it; the CLI words and prints it."""

    level: Level
    message: str
    file: str | None = None  # relative to the show's folder
    field: str | None = None
    hint: str = ""
    rule: str | None = None  # the validator's rule id, when one of its rules found it

    @property
    def text(self) -> str:
        """`file: field: message (hint)`, the one line the CLI prints (the shape of a PipelineError)."""
        where = ": ".join(p for p in (self.file, self.field) if p)
        line = f"{where}: {self.message}" if where else self.message
        return line + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class CheckReport:
    problems: tuple[Problem, ...]
    episodes: int
    files: int
    show: model.Show | None = field(default=None, compare=False)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.level == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def files_with_errors(self) -> int:
        """How many files the errors are in (an error naming no file counts by what it names first)."""
        return len({p.file or p.text.split(": ", 1)[0] for p in self.errors})


def _err(e: PipelineError) -> Problem:
    file = None if e.file in (None, "") else str(e.file)
    return Problem("error", e.message, file=file, field=e.field or None, hint=e.hint)


def check(show_path: Path, *, now: dt.datetime) -> CheckReport:
    """Everything `podcast build` would refuse, plus advice, without writing anything."""
    try:
        show, episodes, load_problems = model.load_all(show_path)
    except PipelineError as nothing_to_check:
        return CheckReport((_err(nothing_to_check),), 0, 0)
    problems: list[Problem] = [_err(p) for p in load_problems]
    if show is not None:
        problems.extend(_artwork_problems(show.root, show.artwork, "show.yaml", "artwork"))
        left = placeholders.find(show, episodes)
        problems.extend(Problem("warning", p.message, file=p.file, field=p.field) for p in left)
        if left:
            problems.append(
                Problem("info", "`podcast publish` to a non-local target refuses them", field="placeholders")
            )
        if show.guid is None and placeholders.is_placeholder_url(show.url):
            problems.append(
                Problem(
                    "info",
                    "not pinned; set url to your real site first, "
                    "then `podcast check` prints the podcast:guid to pin",
                    file=model.SHOW_FILE,
                    field="guid",
                )
            )
        elif show.guid is None:
            problems.append(
                Problem(
                    "info",
                    "not pinned",
                    file=model.SHOW_FILE,
                    field="guid",
                    hint=f"add `guid: {urls.show_guid(show)}` so a later change of URL cannot change your "
                    "podcast:guid",
                )
            )
    if show is not None:
        problems.extend(_feed_url_problems(show, episodes))
    root = show.root if show is not None else Path(show_path).resolve().parent
    for ep in sorted(episodes, key=lambda e: (e.date, e.slug)):
        problems.extend(_episode_problems(root, ep, now))
    try:  # every episode folder was checked, the ones that failed to load too
        checked = len(model.episode_folders(root))
    except PipelineError:
        checked = len(episodes)
    return CheckReport(tuple(problems), len(episodes), 1 + checked, show)


def _episode_problems(root: Path, ep: model.Episode, now: dt.datetime) -> list[Problem]:
    problems: list[Problem] = []
    rel = model.show_rel(root, ep.source)
    if ep.audio is not None:
        try:
            info = audio.probe(ep.audio)
        except PipelineError as err:
            err.file = model.show_rel(root, ep.audio)
            problems.append(_err(err))
        else:
            starts = [ch.start for ch in ep.chapters]
            for p in rules.chapter_problems(starts, info.duration):
                problems.append(_err(ContentError(p.message, file=rel, field=p.field, hint=p.hint)))
    if ep.image is not None:
        problems.extend(_artwork_problems(root, ep.image, rel, "image"))
    if ep.transcript is not None:
        try:
            transcript.read(ep.transcript, file=model.show_rel(root, ep.transcript))
        except PipelineError as err:
            problems.append(_err(err))
    if ep.status(now) == "scheduled":
        problems.append(Problem("info", f"scheduled for {ep.date.isoformat()}", file=rel))
    return problems


def _artwork_problems(root: Path, path: Path, rel: str, fld: str) -> list[Problem]:
    """The validator's artwork rules (images.artwork_problems) at the validator's severities.

    Episode artwork is held to the show artwork's rules, except its size (PC408), which stays advice.
    """
    try:
        found = images.artwork_file_problems(path)
    except OSError:
        return [
            Problem("error", f"{model.show_rel(root, path)} is not a readable image", file=rel, field=fld)
        ]
    out: list[Problem] = []
    for rid, message in found:
        rule = RULES[rid]
        level = "warning" if fld == "image" and rid == "PC408" else _LEVEL[rule.severity]
        out.append(Problem(level, message, file=rel, field=fld, hint=rule.hint, rule=rid))
    return out


def _feed_url_problems(show: model.Show, episodes: Sequence[model.Episode]) -> list[Problem]:
    """The validator's own URL rule (PC112: podcast: URLs must be https), run on the URLs show.yaml decides,
    so `check` says before a build what `publish` would refuse."""
    checker = Checker(active_rules(None), model.SHOW_FILE, dt.datetime.now(dt.UTC))
    fields: list[tuple[str, str, str | None]] = [
        (f"funding[{i}].url", "funding", f.url) for i, f in enumerate(show.funding)
    ]
    fields += [(f"persons[{i}].href", "person", p.href) for i, p in enumerate(show.persons)]
    fields += [(f"persons[{i}].img", "person", p.img) for i, p in enumerate(show.persons)]
    base = "publish.public_base_url" if show.publish.public_base_url else "url"
    with_chapters = next((ep for ep in episodes if ep.chapters), None)
    if with_chapters is not None:  # chapters.json is served from the public base URL
        fields.append((base, "chapters", urls.url(show, urls.chapters_key(with_chapters))))
    with_transcript = next((ep for ep in episodes if ep.transcript is not None), None)
    if with_transcript is not None and with_transcript.transcript is not None:
        key = urls.transcript_key(with_transcript, with_transcript.transcript.suffix.lstrip("."))
        fields.append((base, "transcript", urls.url(show, key)))
    out: list[Problem] = []
    for fld, tag, value in fields:
        if value is None:
            continue
        before = len(checker.findings)
        checker.url(value, model.SHOW_FILE, None, podcast_tag=tag)
        for f in checker.findings[before:]:
            hint = f"{f.rule}: {f.hint}"  # the rule id in the line too, as `validate` names it
            out.append(
                Problem(
                    _LEVEL[f.severity], f.message, file=model.SHOW_FILE, field=fld, hint=hint, rule=f.rule
                )
            )
    return out
