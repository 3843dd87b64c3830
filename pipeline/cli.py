"""The `podcast` command line: parse options, call the library, print. Errors become exit codes here only."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from pipeline import __version__, human
from pipeline.errors import ContentError, ContentErrors, ExitCode, PipelineError
from pipeline.progress import NullTask, Reporter, Task


class _Lazy:
    """A module imported on its first attribute use: starting the CLI stays cheap, and `podcast publish`
    of an unchanged show never loads the model (pydantic, YAML, mutagen)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


if TYPE_CHECKING:
    from pipeline import build, check, importer, model, publish, scaffold, transcribe, validate
else:
    check, model, scaffold = _Lazy("pipeline.check"), _Lazy("pipeline.model"), _Lazy("pipeline.scaffold")
    validate = _Lazy("pipeline.validate")

# --------------------------------------------------------------------------- output


def _color() -> bool:
    return "NO_COLOR" not in os.environ


def _style(text: str, **kw: Any) -> str:
    return click.style(text, **kw) if _color() else text


class _BarTask:
    """A one-line progress bar on stderr with amount, total and rate (drawn only on a terminal)."""

    def __init__(self, label: str, total: float, unit: str) -> None:
        self.label, self.total, self.unit = label, max(total, 1e-9), unit
        self.done = 0.0
        self.start = time.monotonic()
        self.last_draw = 0.0

    def _fmt(self, n: float) -> str:
        if self.unit == "B":
            return human.size(n)
        if self.unit == "s":
            return human.duration(n)
        return f"{n:.0f}"

    def _draw(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        frac = min(self.done / self.total, 1.0)
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        elapsed = max(now - self.start, 1e-6)
        rate = f"{self._fmt(self.done / elapsed)}/s" if self.unit == "B" else f"{self.done / elapsed:.1f}x"
        line = (
            f"\r{self.label[:32]:<32} [{bar}] {frac:4.0%} {self._fmt(self.done)}/{self._fmt(self.total)}"
            f" {rate}"
        )
        click.echo(line, nl=final, err=True)

    def advance(self, amount: float) -> None:
        self.done += amount
        self._draw()

    def update(self, done: float) -> None:
        self.done = done
        self._draw()

    def close(self) -> None:
        self._draw(final=True)


class ClickReporter:
    """Progress for people: steps and warnings on stderr, bars only on a terminal; silent with --quiet."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()

    def step(self, message: str) -> None:
        if not self.quiet:
            click.echo(message, err=True)

    def warn(self, message: str) -> None:
        click.echo(_style("Warning: ", fg="yellow") + message, err=True)

    def task(self, label: str, total: float, unit: str = "B") -> Task:
        if self.quiet or not self.tty:
            return NullTask()
        return _BarTask(label, total, unit)


# --------------------------------------------------------------------------- errors -> exit codes


class _Failure(click.ClickException):
    def __init__(self, lines: list[str], code: int) -> None:
        super().__init__("\n".join(lines))
        self.exit_code = code  # type: ignore[misc]  # click declares it a class variable; one per failure here
        self.lines = lines

    def show(self, file: Any = None) -> None:
        for line in self.lines:
            click.echo(line, err=True)


def _lines(err: PipelineError) -> list[str]:
    red = _style("Error:", fg="red", bold=True)
    if isinstance(err, ContentErrors):
        return [f"{red} {p}" for p in err.problems] + [f"Aborted: {err.message}."]
    return [f"{red} {err}"]


def _to_root(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """A global flag given after the subcommand (`podcast publish -q`) counts as if given before it."""
    if value and param.name:
        ctx.find_root().params[param.name] = True


def _root_show(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().params["show_path"] = Path(value)


def _root_now(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.find_root().params["now"] = _parse_now(ctx, param, value)


#: The group's flags, also accepted after any subcommand; `--show` and `--now` are per command (see below).
GLOBAL_FLAGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("--debug",), "Show full tracebacks (credentials are still never printed)."),
    (("-q", "--quiet"), "Print only errors and the final summary."),
)


class _Group(click.Group):
    """The one place library errors become `Error: ...` lines and exit codes."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        for decls, help_text in GLOBAL_FLAGS:
            cmd.params.append(
                click.Option(decls, is_flag=True, expose_value=False, callback=_to_root, help=help_text)
            )
        # --show and --now are the group's too: a command that does not use them still accepts them after
        # its name, as it does before it (hidden from its help, since they change nothing there)
        have = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
        for decl, dest, parse in (("--show", "show_path", _root_show), ("--now", "now", _root_now)):
            if decl not in have:
                cmd.params.append(
                    click.Option([decl, dest], expose_value=False, callback=parse, hidden=True, metavar="X")
                )
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PipelineError as err:
            if ctx.params.get("debug"):
                raise
            raise _Failure(_lines(err), int(err.exit_code)) from None
        except KeyboardInterrupt:
            if ctx.params.get("debug"):
                raise
            click.echo("Interrupted.", err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))


def _fail(lines: list[str], code: ExitCode = ExitCode.ERROR) -> NoReturn:
    raise _Failure(lines, int(code))


# --------------------------------------------------------------------------- shared options

SHOW_HELP = (
    "Path to show.yaml (or its folder). Default: $PODCAST_SHOW, else the show.yaml in this folder or the "
    "nearest folder above it."
)
NOW_HELP = "Pretend it is this time (ISO 8601 with zone) when deciding what is scheduled."


def _given_here(ctx: click.Context, param: click.Parameter) -> bool:
    return ctx.get_parameter_source(param.name or "") is click.core.ParameterSource.COMMANDLINE


def _show_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """The subcommand's --show, else the group's (`podcast --show x check`), else $PODCAST_SHOW, else the
    show.yaml found upward from the current folder (the way git finds .git)."""
    before = ctx.find_root().params.get("show_path")
    if value is not None and (_given_here(ctx, param) or before is None):
        return value
    if before is not None:
        return Path(before)
    from pipeline import locate

    return locate.find_show(Path.cwd())


def show_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--show",
        "show_path",
        type=click.Path(path_type=Path),
        default=None,
        envvar="PODCAST_SHOW",
        callback=_show_path,
        help=SHOW_HELP,
    )(f)


def _parse_now(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        from pipeline import locate

        return locate.parse_datetime(value)
    except ValueError as err:
        raise click.BadParameter(str(err)) from None


def _parse_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    return None if value is None else _parse_now(ctx, param, value)


DATE_HELP = "The episode's date and time (ISO 8601 with zone). Default: the current time."


def date_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--date", "date", callback=_parse_date, metavar="DATETIME", help=DATE_HELP)(f)


def _clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _now(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime:
    """The subcommand's --now, else the group's (`podcast --now ... list`), else the current time."""
    before = ctx.find_root().params.get("now")
    if value is None and isinstance(before, dt.datetime):
        return before
    return _parse_now(ctx, param, value)


def _group_now(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.datetime | None:
    return None if value is None else _parse_now(ctx, param, value)


def now_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--now", "now", callback=_now, metavar="DATETIME", help=NOW_HELP)(f)


def format_option(
    *extra: str, help: str = "Output for people (text) or machines (json)."
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The one `--format` option: `text` and `json` always, `extra` choices (e.g. `github`) where they apply."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "json", *extra]),
            default="text",
            show_default=True,
            help=help,
        )(f)

    return decorate


class _LazyChoice(click.Choice[str]):
    """A Choice whose values are looked up when first needed (parsing or help), not at import."""

    def __init__(self, load: Callable[[], list[str]]) -> None:
        self._load = load
        super().__init__([])

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self._load())

    @choices.setter
    def choices(self, value: object) -> None:
        pass


def _reporter() -> Reporter:
    ctx = click.get_current_context()
    root = ctx.find_root()
    return ClickReporter(quiet=bool(root.params.get("quiet")))


def _quiet() -> bool:
    return bool(click.get_current_context().find_root().params.get("quiet"))


# --------------------------------------------------------------------------- wording of library results
# The library returns typed results; these words and JSON shapes are the CLI's (README shows them).


def build_summary(result: build.BuildResult) -> str:
    """`Built 3 episodes: 3 encoded, 3 tagged, 0 unchanged; 21 files written to build.`"""
    return (
        f"Built {human.plural(len(result.public), 'episode')}: {result.encoded} encoded, {result.tagged} tagged, "
        f"{result.reused} unchanged; {human.plural(result.written, 'file')} written to {result.out_dir}."
    )


def publish_summary(outcome: publish.Outcome) -> str:
    """The one line `podcast publish` ends with."""
    n = outcome.episodes
    verb = "Would publish" if outcome.dry_run else "Published"
    parts = []
    if outcome.new_episodes:
        parts.append(f"{len(outcome.new_episodes)} new ({human.size(outcome.uploaded_bytes)} uploaded)")
    elif outcome.uploads:
        parts.append(
            f"{human.plural(len(outcome.uploads), 'file')} ({human.size(outcome.uploaded_bytes)}) uploaded"
        )
    if outcome.changed_episodes:
        parts.append(f"{len(outcome.changed_episodes)} changed")
    parts.append(f"{n - len(outcome.new_episodes) - len(outcome.changed_episodes)} unchanged")
    pages = pages_rewritten(outcome.uploads)
    if pages and n > len(outcome.new_episodes):  # on a first publish every page is new: no news
        parts.append(f"{human.plural(pages, 'page')} rewritten")
    if outcome.deleted:
        parts.append(f"{len(outcome.deleted)} deleted")
    if outcome.repaired:
        parts.append(f"{human.plural(len(outcome.repaired), 'lost or damaged file')} repaired")
    parts.append("feed updated" if outcome.feed_updated else "feed unchanged")
    line = f"{verb} {human.plural(n, 'episode')} to {outcome.target}: {', '.join(parts)}."
    if outcome.dry_run and outcome.refusals and not outcome.forced:
        what = human.plural(len(outcome.refusals), "change")
        return (
            f"This publish would be refused: {what} to published episodes (the refuse lines); nothing "
            f"is uploaded.\nWith --force it would go ahead: {line[0].lower()}{line[1:]}"
        )
    return line


def pages_rewritten(uploads: tuple[tuple[str, int], ...]) -> int:
    """How many HTML pages an upload list rewrites (episode pages whose links changed count here too)."""
    return sum(1 for key, _ in uploads if key.endswith(".html"))


def publish_plan_lines(outcome: publish.Outcome) -> list[str]:
    """The plan as `--dry-run` prints it: uploads with sizes, changed items, refusals."""
    lines = [f"Target: {outcome.target}"]
    lines += [f"  new episode      {slug}" for slug in outcome.new_episodes]
    lines += [f"  changed episode  {slug}" for slug in outcome.changed_episodes]
    lines += [f"  upload  {human.size(size):>10}  {key}" for key, size in outcome.uploads]
    lines += [f"  delete              {key}" for key in outcome.deleted]
    lines += [f"  keep (grace)        {key}" for key in outcome.kept_for_grace]
    lines += [f"  refuse  {why}" for why in outcome.refusals]
    lines += [f"  repair  {d.key}: {d.problem}" for d in outcome.repaired]
    if not outcome.uploads and not outcome.deleted:
        lines.append("  nothing to upload")
    return lines


def publish_json(outcome: publish.Outcome) -> dict[str, Any]:
    """`podcast publish --format json` (a stable shape: keys are only ever added)."""
    return {
        "target": outcome.target,
        "dry_run": outcome.dry_run,
        "episodes": outcome.episodes,
        "new_episodes": list(outcome.new_episodes),
        "changed_episodes": list(outcome.changed_episodes),
        "uploaded": [{"key": k, "bytes": s} for k, s in outcome.uploads],
        "uploaded_bytes": outcome.uploaded_bytes,
        "unchanged": outcome.unchanged,
        "already_present": outcome.skipped_present,
        "deleted": list(outcome.deleted),
        "kept_for_grace": list(outcome.kept_for_grace),
        "feed_updated": outcome.feed_updated,
        "refusals": list(outcome.refusals),
        "would_be_refused": outcome.dry_run and bool(outcome.refusals) and not outcome.forced,
        "pages_rewritten": pages_rewritten(outcome.uploads),
        "forced": outcome.forced,
        "repaired": [{"key": d.key, "problem": d.problem} for d in outcome.repaired],
        "swept": list(outcome.swept),
        "summary": publish_summary(outcome),
    }


def status_lines(state: publish.Status) -> list[str]:
    """`podcast status` for people."""
    if not state.published:
        head = f"{state.target}: nothing published yet; {len(state.to_upload)} files would be uploaded."
    elif state.in_sync:
        head = f"{state.target}: up to date ({state.unchanged} files)."
    else:
        size = human.size(sum(s for _, s in state.to_upload))
        pages = pages_rewritten(state.to_upload)
        rewritten = f", {human.plural(pages, 'page')} rewritten" if pages else ""
        head = (
            f"{state.target}: {len(state.to_upload)} file(s) differ ({size}{rewritten}); "
            f"{state.unchanged} unchanged."
        )
    out = [head]
    out += [f"  new episode      {s}" for s in state.new_episodes]
    out += [f"  changed episode  {s}" for s in state.changed_episodes]
    out += [f"  upload  {human.size(n):>10}  {k}" for k, n in state.to_upload]
    out += [f"  only on target    {k}" for k in state.stale]
    out += [f"  would refuse      {r}" for r in state.refusals]
    out += [f"  damaged on target {d.key}: {d.problem}" for d in state.damaged]
    return out


def status_json(state: publish.Status) -> dict[str, Any]:
    """`podcast status --format json` (a stable shape: keys are only ever added)."""
    return {
        "target": state.target,
        "published": state.published,
        "in_sync": state.in_sync,
        "to_upload": [{"key": k, "bytes": n} for k, n in state.to_upload],
        "unchanged": state.unchanged,
        "only_on_target": list(state.stale),
        "would_refuse": list(state.refusals),
        "new_episodes": list(state.new_episodes),
        "changed_episodes": list(state.changed_episodes),
        "pages_rewritten": pages_rewritten(state.to_upload),
        "damaged": [{"key": d.key, "problem": d.problem} for d in state.damaged],
        "verified": state.verified,
    }


def build_json(result: build.BuildResult, shard: tuple[int, int] | None = None) -> dict[str, Any]:
    """`podcast build --format json` (a stable shape: keys are only ever added; README documents them)."""
    return {
        "out_dir": str(result.out_dir),
        "episodes": [b.episode.slug for b in result.public],
        "encoded": result.encoded,
        "tagged": result.tagged,
        "derived": result.derived_made,
        "unchanged": result.reused,
        "written": result.written,
        "removed": result.removed,
        "shard": None if shard is None else f"{shard[0]}/{shard[1]}",
        "remote_hits": result.remote_hits,
        "uploaded": result.uploaded,
        "summary": shard_summary(result, shard) if shard else build_summary(result),
    }


def shard_summary(result: build.BuildResult, shard: tuple[int, int]) -> str:
    """`Shard 1/2: 1 encoded, 1 tagged, 0 unchanged, 0 from the remote cache, 2 uploaded to it.`"""
    return (
        f"Shard {shard[0]}/{shard[1]}: {result.encoded} encoded, {result.tagged} tagged, "
        f"{result.reused} unchanged, {result.remote_hits} from the remote cache, "
        f"{result.uploaded} uploaded to it."
    )


def feed_json(result: build.BuildResult) -> dict[str, Any]:
    """`podcast feed --format json`."""
    return {
        "feed": str(result.out_dir / "feed.xml"),
        "episodes": [b.episode.slug for b in result.public],
        "written": result.written,
        "summary": feed_summary(result),
    }


def feed_summary(result: build.BuildResult) -> str:
    n = len(result.public)
    return f"Feed written to {result.out_dir / 'feed.xml'} ({human.plural(n, 'episode')})."


def check_summary(report: check.CheckReport) -> str:
    """`show.yaml and 3 episodes are clean (1 warning).` or `Aborted: 3 problems in 2 files.`"""
    if report.ok:
        warns = len(report.warnings)
        extra = f" ({human.plural(warns, 'warning')})" if warns else ""
        return f"show.yaml and {human.plural(report.episodes, 'episode')} are clean{extra}."
    problems = human.plural(len(report.errors), "problem")
    return f"Aborted: {problems} in {human.plural(report.files_with_errors, 'file')}."


def check_json(report: check.CheckReport) -> dict[str, Any]:
    """`podcast check --format json` (a stable shape: keys are only ever added; README documents them)."""
    return {
        "ok": report.ok,
        "episodes": report.episodes,
        "files": report.files,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [
            {
                "level": p.level,
                "file": p.file,
                "field": p.field,
                "message": p.message,
                "hint": p.hint,
                "rule": p.rule,
                "text": p.text,
            }
            for p in report.problems
        ],
        "summary": check_summary(report),
    }


def _shell_word(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_./~+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


def started_line(created: scaffold.Created) -> str:
    """What `podcast init` says: where the show is and the next step."""
    folder = created.root
    here = folder.resolve() == Path.cwd().resolve()
    step = "edit show.yaml" if here else f"cd {_shell_word(str(folder))}, edit show.yaml"
    return f"Started {created.title!r} in {folder}: {step}, then `podcast new TITLE`."


def new_line(created: scaffold.Created) -> str:
    """`Created episodes/<slug>/episode.md (episode 4, draft).`"""
    return f"Created {model.show_rel(created.root, created.paths[-1])} (episode {created.number}, draft)."


def added_line(created: scaffold.Created, audio_file: Path) -> str:
    """What `podcast add` says: the folder, the number and title, whether it is a draft, where the title
    came from when that was the file name."""
    rel = model.show_rel(created.root, created.folder or created.root)
    state = "draft: remove `draft: true` when it is ready" if created.draft else "ready for the next publish"
    named = ""
    if created.title_from == "file name":
        named = (
            f" Title from the file name {audio_file.name!r}: the notes have no title: and no # heading; "
            "pass --title to set one."
        )
    return f"Added {rel}/ (episode {created.number}: {created.title}, {state}).{named}"


def created_json(created: scaffold.Created, scheduled: bool = False) -> dict[str, Any]:
    """`podcast init|new|add --format json`: what was written (paths relative to the show's folder)."""
    episode = created.folder is not None
    return {
        "root": str(created.root),
        "files": [model.show_rel(created.root, p) for p in created.paths],
        "title": created.title,
        "slug": created.folder.name if created.folder is not None else None,
        "number": created.number,
        "draft": created.draft if episode else None,
        "scheduled": scheduled if episode else None,
        "title_from": created.title_from,
    }


def validate_summary(report: validate.Report) -> str:
    """`public/feed.xml: 1 error, 1 warning, 0 info in 2 episodes`"""
    c = report.counts
    counts = f"{human.plural(c['error'], 'error')}, {human.plural(c['warning'], 'warning')}, {c['info']} info"
    return f"{report.source}: {counts} in {human.plural(report.items, 'episode')}"


def validate_lines(report: validate.Report) -> list[str]:
    """Findings for people: one line each (`source:line: severity ID where: message`), a fix hint, a summary."""
    lines = []
    for f in report.findings:
        at = f"{report.source}:{f.line}" if f.line else report.source
        lines.append(f"{at}: {f.severity.value} {f.rule} {f.where}: {f.message}")
        lines.append(f"    fix: {f.hint}")
    return [*lines, validate_summary(report)]


def validate_json(report: validate.Report) -> dict[str, Any]:
    """`podcast validate --format json`: a stable document (keys sorted, findings in report order)."""
    return {
        "counts": dict(sorted(report.counts.items())),
        "findings": [
            {
                "hint": f.hint,
                "line": f.line,
                "message": f.message,
                "rule": f.rule,
                "severity": f.severity.value,
                "title": validate.RULES[f.rule].title,
                "where": f.where,
            }
            for f in report.findings
        ],
        "items": report.items,
        "ok": not report.has_errors,
        "source": report.source,
    }


_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def validate_github(report: validate.Report) -> list[str]:
    """GitHub Actions workflow commands: `::error file=…,line=…,title=PC101::message (fix: hint)`."""
    from pipeline.validate.http import is_url

    lines = []
    for f in report.findings:
        props = []
        if not is_url(report.source):
            props.append(f"file={_gh_prop(report.source)}")
            if f.line:
                props.append(f"line={f.line}")
        props.append(f"title={_gh_prop(f.rule)}")
        lines.append(
            f"::{_GITHUB_LEVEL[f.severity.value]} {','.join(props)}::"
            f"{_gh_data(f'{f.where}: {f.message} (fix: {f.hint})')}"
        )
    return [*lines, validate_summary(report)]


def rules_json(profiles: tuple[str, ...]) -> list[dict[str, Any]]:
    """`podcast validate --rules --format json`: the rule catalogue (of these profiles; all by default)."""
    active = validate.active_rules(profiles or None)
    return [
        {
            "rule": rid,
            "severity": rule.severity.value,
            "profiles": sorted(rule.profiles),
            "title": rule.title,
            "hint": rule.hint,
        }
        for rid, rule in validate.RULES.items()
        if rid in active
    ]


def rules_lines(profiles: tuple[str, ...]) -> list[str]:
    """The rule catalogue as a table: id, severity, profiles, title."""
    lines = [f"{'rule':<6} {'severity':<8} {'profiles':<28} title"]
    for r in rules_json(profiles):
        lines.append(f"{r['rule']:<6} {r['severity']:<8} {','.join(r['profiles']):<28} {r['title']}")
    return lines


def emit(
    fmt: str, data: Any, lines: Callable[[], list[str]], github: Callable[[], list[str]] | None = None
) -> None:
    """The one output path for results: `json` prints the data (UTF-8, two-space indent), `text` the lines
    `lines()` words it in, `github` (where a command offers it) the annotations `github()` makes."""
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for line in (github if fmt == "github" and github is not None else lines)():
        click.echo(line)


# --------------------------------------------------------------------------- the group


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="podcast")
@click.option("--debug", is_flag=True, help=GLOBAL_FLAGS[0][1])
@click.option("-q", "--quiet", is_flag=True, help=GLOBAL_FLAGS[1][1])
@click.option(
    "--show", "show_path", type=click.Path(path_type=Path), default=None, help=SHOW_HELP + " Per command too."
)
@click.option("--now", "now", callback=_group_now, metavar="DATETIME", help=NOW_HELP + " Per command too.")
def cli(debug: bool, quiet: bool, show_path: Path | None, now: dt.datetime | None) -> None:
    """Publish a podcast kept in git: audio, tags, feed, companion pages, safe uploads.

    \b
    Example:
        podcast check
        podcast publish
    """


@cli.command(name="init")
@click.argument("folder", type=click.Path(path_type=Path), default=".")
@click.option("--title", default="My Podcast", show_default=True, help="The show's title.")
@click.option("--author", default="Your Name", show_default=True, help="Host or company name.")
@click.option("--email", default="you@example.com", show_default=True, help="Owner email for directories.")
@click.option("--url", default=None, help="The site URL; pins the podcast:guid derived from its feed URL.")
@click.option(
    "--no-workflow",
    is_flag=True,
    help="Do not write the GitHub Actions workflow (.github/workflows/podcast.yml).",
)
@format_option()
def init_command(
    folder: Path, title: str, author: str, email: str, url: str | None, no_workflow: bool, fmt: str
) -> None:
    """Start a new show: a commented show.yaml, episodes/, .gitignore, placeholder art, a CI workflow.

    \b
    Example:
        podcast init my-show --title "Trail Talk" --url https://trailtalk.example.com/
    """
    created = scaffold.init_show(
        folder, title=title, author=author, email=email, url=url, workflow=not no_workflow
    )
    emit(fmt, created_json(created), lambda: [started_line(created)])


@cli.command(name="new")
@click.argument("title")
@date_option
@show_option
@now_option
@format_option()
def new_command(title: str, date: dt.datetime | None, show_path: Path, now: dt.datetime, fmt: str) -> None:
    """Scaffold episodes/<slug>/episode.md as a draft with the next episode number.

    The date is --date, else the current time (--now only pretends a time for what counts as scheduled).

    \b
    Example:
        podcast new "Why your knees hurt when you run" --date 2025-06-03T07:00:00+01:00
    """
    created = scaffold.new_episode(show_path, title, when=date or _clock())
    later = bool(date and date > now)
    emit(fmt, created_json(created, later), lambda: [new_line(created) + _scheduled(later, now)])


def _scheduled(later: bool, now: dt.datetime) -> str:
    return f" It is dated after {now.isoformat()}: scheduled until then." if later else ""


@cli.command(name="add")
@click.argument("audio_file", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("notes_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--title",
    default=None,
    help="Episode title. Default: the notes' front matter title:, else their first # heading, "
    "else the audio file's name (ep2.wav -> Ep2).",
)
@date_option
@click.option(
    "--draft/--publish",
    default=True,
    show_default=True,
    help="Add it as a draft (the default, like `new`), or ready to go out with the next publish.",
)
@show_option
@now_option
@format_option()
def add_command(
    audio_file: Path,
    notes_file: Path,
    title: str | None,
    date: dt.datetime | None,
    draft: bool,
    show_path: Path,
    now: dt.datetime,
    fmt: str,
) -> None:
    """Create an episode (a draft unless --publish) from an existing recording and a Markdown notes file.

    The date is --date, else the notes' front matter date:, else the current time.

    \b
    Example:
        podcast add ~/recordings/ep4.wav ~/notes/ep4.md --title "Hamstrings"
        podcast add ep5.wav ep5.md --date 2025-06-10T07:00:00+01:00 --publish
    """
    created = scaffold.add_episode(
        show_path, audio_file, notes_file, title=title, when=_clock(), date=date, draft=draft
    )
    later = bool(date and date > now)
    emit(
        fmt, created_json(created, later), lambda: [added_line(created, audio_file) + _scheduled(later, now)]
    )


@cli.command(name="check")
@show_option
@now_option
@format_option()
def check_command(show_path: Path, now: dt.datetime, fmt: str) -> None:
    """Lint show.yaml and every episode (fields, audio, chapters, transcripts) without building.

    \b
    Example:
        podcast check
        podcast check --format json
    """
    report = check.check(show_path, now=now)
    if fmt == "json":  # one document on stdout, problems included; the exit code still says ok or not
        emit(fmt, check_json(report), list)
        if not report.ok:
            raise SystemExit(int(ExitCode.ERROR))
        return
    for p in report.problems:
        if p.level == "error":
            click.echo(_style("Error:", fg="red", bold=True) + " " + p.text, err=True)
        elif p.level == "warning":
            click.echo(_style("Warning:", fg="yellow") + " " + p.text, err=True)
        elif not _quiet():
            click.echo("Note: " + p.text, err=True)
    if not report.ok:
        _fail([check_summary(report)])
    emit(fmt, None, lambda: [check_summary(report)])


@cli.command(name="list")
@show_option
@now_option
@format_option()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Build folder to read measurements from (default: build/).",
)
def list_command(show_path: Path, now: dt.datetime, fmt: str, out_dir: Path | None) -> None:
    """List episodes: number, slug, date, status, audio file, and the last build's duration and loudness.

    \b
    Example:
        podcast list --format json
    """
    from pipeline import build

    show, episodes = model.load(show_path)
    measured = build.read_build_info(out_dir or show.root / build.BUILD_DIR)
    rows: list[dict[str, Any]] = []
    for ep in sorted(episodes, key=lambda e: (e.date, e.slug), reverse=True):
        rec = measured.get(ep.slug)
        loud = rec.loudness if rec else None
        rows.append(
            {
                "number": ep.number,
                "slug": ep.slug,
                "date": ep.date.isoformat(),
                "status": ep.status(now),
                "audio": model.show_rel(show.root, ep.audio) if ep.audio else None,
                "duration": rec.duration if rec else None,
                "lufs": round(loud.integrated, 1) if loud else None,
                "lra": round(loud.lra, 1) if loud else None,
                "true_peak": round(loud.true_peak, 1) if loud else None,
            }
        )

    def table() -> list[str]:
        shown = [
            {**r, "duration": None if r["duration"] is None else model.format_timestamp(round(r["duration"]))}
            for r in rows
        ]
        return [_table(shown, ["number", "slug", "date", "status", "audio", "duration", "lufs", "true_peak"])]

    emit(fmt, rows, table)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    head = "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([head, *body])


# --------------------------------------------------------------------------- build, feed, serve

OUT_HELP = "Build folder (default: build/ next to show.yaml)."


def out_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None, help=OUT_HELP
    )(f)


def jobs_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--jobs",
        "-j",
        type=click.IntRange(min=1),
        default=None,
        help="Encode and tag this many episodes at once (default: every core).",
    )(f)


def _shard(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    k, sep, n = value.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise click.BadParameter(f"{value!r} is not K/N with 1 <= K <= N (e.g. 2/4)")
    return int(k), int(n)


@cli.command(name="build")
@show_option
@now_option
@out_option
@jobs_option
@click.option(
    "--shard",
    callback=_shard,
    metavar="K/N",
    default=None,
    help="Only encode and tag share K of N (for a CI matrix with build.remote_cache); writes no build folder.",
)
@format_option()
def build_command(
    show_path: Path,
    now: dt.datetime,
    out_dir: Path | None,
    jobs: int | None,
    shard: tuple[int, int] | None,
    fmt: str,
) -> None:
    """Build audio, feed and pages into the build folder (sources are never modified).

    \b
    Example:
        podcast build --out build
        podcast build --shard 1/4
    """
    from pipeline import build

    result = build.build(show_path, now=now, out_dir=out_dir, reporter=_reporter(), jobs=jobs, shard=shard)
    summary = shard_summary(result, shard) if shard else build_summary(result)
    emit(fmt, build_json(result, shard), lambda: [summary])


@cli.command(name="feed")
@show_option
@now_option
@out_option
@format_option()
def feed_command(show_path: Path, now: dt.datetime, out_dir: Path | None, fmt: str) -> None:
    """Regenerate only feed.xml and its sidecar files (chapters, transcripts, artwork).

    \b
    Example:
        podcast feed --now 2025-06-01T00:00:00+00:00
    """
    from pipeline import build

    result = build.build(show_path, now=now, out_dir=out_dir, reporter=_reporter(), feed_only=True)
    emit(fmt, feed_json(result), lambda: [feed_summary(result)])


@cli.command(name="serve")
@show_option
@now_option
@out_option
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port on 127.0.0.1."
)
@click.option("--no-watch", is_flag=True, help="Do not rebuild when sources change.")
def serve_command(show_path: Path, now: dt.datetime, out_dir: Path | None, port: int, no_watch: bool) -> None:
    """Build, then preview the site on 127.0.0.1 (with Range support); rebuild on changes.

    \b
    Example:
        podcast serve --port 8000
    """
    from pipeline import serve

    def rebuilt(written: int) -> None:
        click.echo(f"Rebuilt: {human.plural(written, 'file')} changed.")

    def failed(err: PipelineError) -> None:  # the last good build stays served
        for line in _lines(err):
            click.echo(line, err=True)

    preview = serve.Preview(show_path, now=now, out_dir=out_dir, port=port, reporter=_reporter())
    click.echo(build_summary(preview.first))
    click.echo(f"Serving {preview.first.out_dir} at {preview.server.url} (Ctrl-C to stop)")
    try:
        preview.run(watch=not no_watch, on_rebuild=rebuilt, on_error=failed)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        preview.stop()


# --------------------------------------------------------------------------- validate


@cli.command(name="validate")
@click.argument("feed", required=False)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    type=click.Choice(["apple", "spotify", "podcastindex"]),
    help="Only the rules of this directory (repeatable). Default: all.",
)
@click.option(
    "--online", is_flag=True, help="Also fetch every enclosure, image, transcript and chapters URL."
)
@click.option(
    "--previous",
    "previous",
    default=None,
    metavar="FEED",
    help="The last published feed (path or URL): check GUIDs, pubDates and podcast:guid kept.",
)
@click.option("--rules", "list_rules", is_flag=True, help="List the rules (of --profile) instead; no FEED.")
@format_option("github", help="For people, machines, or GitHub Actions annotations.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per HTTP request.")
@click.option("--max-mb", type=float, default=50.0, show_default=True, help="Refuse feeds larger than this.")
@now_option
def validate_command(
    feed: str | None,
    profiles: tuple[str, ...],
    online: bool,
    previous: str | None,
    list_rules: bool,
    fmt: str,
    timeout: float,
    max_mb: float,
    now: dt.datetime,
) -> None:
    """Check a feed (file or http(s) URL) against Apple, Spotify and Podcasting 2.0 rules.

    Exit 0 when clean or only warnings, 1 on any error, 3 when the input is not a feed at all.

    \b
    Example:
        podcast validate build/feed.xml --format github
        podcast validate https://example.com/feed.xml --online --previous last-feed.xml
        podcast validate --rules --profile spotify
    """
    from pipeline import validate

    if list_rules:
        emit(fmt, rules_json(profiles), lambda: rules_lines(profiles))
        return
    if feed is None:
        raise click.UsageError("Missing argument 'FEED' (or give --rules).")
    limit = int(max_mb * 2**20)
    data = validate.read_source(feed, timeout=timeout, max_bytes=limit)
    before = validate.read_source(previous, timeout=timeout, max_bytes=limit) if previous else None
    report = validate.validate(
        data, source=feed, profiles=profiles or None, previous=before, online=online, timeout=timeout, now=now
    )
    emit(fmt, validate_json(report), lambda: validate_lines(report), lambda: validate_github(report))
    if report.exit_code != ExitCode.OK:
        raise SystemExit(int(report.exit_code))


# --------------------------------------------------------------------------- publish, status


def _verify_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--verify", is_flag=True, help=help)


@cli.command(name="publish")
@show_option
@now_option
@out_option
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (uploads, changed items, refusals); change nothing."
)
@click.option(
    "--force", is_flag=True, help="Publish even if a published GUID, date or enclosure would change."
)
@click.option(
    "--prune",
    is_flag=True,
    help="Delete objects the build no longer has (media the previous feed used is kept one more publish).",
)
@click.option("--break-lock", is_flag=True, help="Take over a lock left by a crashed publish.")
@click.option(
    "--create-bucket",
    is_flag=True,
    help="Create the S3 bucket if it does not exist, readable by anyone under the prefix "
    "(unless publish.public_read: false).",
)
@jobs_option
@_verify_option("Compare the whole target with what was published (sizes, checksums) and repair it.")
@format_option(help="Summary for people (text) or machines (json).")
def publish_command(
    show_path: Path,
    now: dt.datetime,
    out_dir: Path | None,
    dry_run: bool,
    force: bool,
    prune: bool,
    break_lock: bool,
    create_bucket: bool,
    jobs: int | None,
    verify: bool,
    fmt: str,
) -> None:
    """Build, then upload only what changed: media first, pages next, the feed last.

    \b
    Example:
        podcast publish --dry-run
        podcast publish
    """
    from pipeline import publish

    stamp = publish.source_stamp(show_path, out_dir)  # before the build: an edit during it is not missed
    if not (dry_run or force or prune or break_lock or create_bucket or verify):
        unchanged = publish.unchanged_publish(show_path, out_dir, now, stamp)
        if unchanged is not None:  # nothing changed since the last publish: no model, no build
            emit(fmt, publish_json(unchanged), lambda: [publish_summary(unchanged)])
            return
    from pipeline import build

    reporter = _reporter()
    result = build.build(show_path, now=now, out_dir=out_dir, reporter=reporter, jobs=jobs)
    target = publish.open_target(result.show)
    target.reporter = reporter  # progress while a silent S3 endpoint is retried
    options = publish.Options(
        dry_run=dry_run,
        force=force,
        prune=prune,
        break_lock=break_lock,
        create_bucket=create_bucket,
        verify=verify,
    )
    outcome = publish.publish(
        result.show, result.outputs, result.public, target, options=options, reporter=reporter
    )
    _print_reach(outcome)
    publish.remember_publish(
        show_path,
        out_dir,
        stamp,
        result.show,
        result.episodes,
        result.outputs,
        result.public,
        target,
        outcome,
        now,
    )
    if fmt == "text" and not dry_run:
        for why in outcome.refusals:
            click.echo(_style("Warning:", fg="yellow") + f" forced: {why}", err=True)
    emit(
        fmt,
        publish_json(outcome),
        lambda: [*(publish_plan_lines(outcome) if dry_run else []), publish_summary(outcome)],
    )
    if dry_run and outcome.refusals and not force:
        raise SystemExit(int(ExitCode.REFUSED))


def _print_reach(outcome: Any) -> None:
    """Publish's reach facts (issue 12), on stderr so --format json stays one document on stdout."""
    if outcome.bucket_policy:
        click.echo(
            f"Created the bucket, readable by anyone: s3:GetObject on {outcome.bucket_policy} "
            "(no listing, no writes).",
            err=True,
        )
    check = outcome.public_read
    if check is not None and check.ok:
        click.echo(f"Listeners can read {check.url} without credentials ({check.detail}).", err=True)
    elif check is not None:
        click.echo(
            _style("Warning:", fg="yellow") + f" could not confirm listeners can read {check.url}: "
            f"{check.detail}",
            err=True,
        )
    for sent in outcome.notifications:
        if sent.ok:
            click.echo(f"Notified {sent.ping.kind} hub {sent.ping.hub} (HTTP {sent.status}).", err=True)
        else:
            click.echo(
                _style("Warning:", fg="yellow") + f" {sent.ping.kind} hub {sent.ping.hub} was not "
                f"notified: {sent.error} (the feed is published)",
                err=True,
            )


@cli.command(name="status")
@show_option
@now_option
@out_option
@_verify_option("Compare the whole target with what was published (sizes, checksums); change nothing.")
@format_option()
@click.option(
    "--exit-code",
    "exit_code",
    is_flag=True,
    help="Exit 1 when a publish would change something (for CI), 0 when the target is up to date.",
)
def status_command(
    show_path: Path, now: dt.datetime, out_dir: Path | None, verify: bool, fmt: str, exit_code: bool
) -> None:
    """Show what differs between a fresh build and the publish target.

    \b
    Example:
        podcast status
        podcast status --exit-code --format json
    """
    from pipeline import build, publish

    result = build.build(show_path, now=now, out_dir=out_dir, reporter=_reporter())
    state = publish.status(
        result.show, result.outputs, result.public, publish.open_target(result.show), verify=verify
    )
    emit(fmt, status_json(state), lambda: status_lines(state))
    if exit_code and not state.in_sync:
        raise SystemExit(int(ExitCode.ERROR))


# --------------------------------------------------------------------------- audio tools


@cli.command(name="probe")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--loudness/--no-loudness", default=True, show_default=True, help="Also measure EBU R128 loudness."
)
@format_option()
def probe_command(files: tuple[Path, ...], loudness: bool, fmt: str) -> None:
    """Measure audio files: duration, codec, bitrate, sample rate, channels, size, loudness.

    \b
    Example:
        podcast probe episodes/*/audio.*
    """
    from pipeline import audio

    rows = []
    for path in files:
        if not path.exists():
            raise ContentError("file not found", file=str(path), hint=_recordings_near(path))
        info = audio.probe(path)
        row: dict[str, Any] = {
            "file": str(path),
            "mime": info.mime,
            "codec": info.codec,
            "duration": round(info.duration, 3),
            "bitrate": info.bitrate,
            "sample_rate": info.sample_rate,
            "channels": info.channels,
            "vbr": info.vbr,
            "size": info.size,
        }
        if loudness:
            loud = audio.measure_loudness(path)
            row.update(
                lufs=round(loud.integrated, 1), lra=round(loud.lra, 1), true_peak=round(loud.true_peak, 1)
            )
        rows.append(row)

    def table() -> list[str]:
        shown = [
            {
                **r,
                "duration": model.format_timestamp(r["duration"]),
                "bitrate": f"{r['bitrate'] // 1000} kbps",
            }
            for r in rows
        ]
        cols = ["file", "mime", "codec", "duration", "bitrate", "sample_rate", "channels", "size"]
        return [_table(shown, cols + (["lufs", "lra", "true_peak"] if loudness else []))]

    emit(fmt, rows, table)


def _recordings_near(path: Path) -> str:
    """The fix for `probe` of a missing file: the recordings that are in its folder."""
    folder = path.parent
    found = sorted(p.name for p in folder.glob("*") if p.suffix.lower() in model.AUDIO_TYPES and p.is_file())
    if found:
        return f"{folder if str(folder) != '.' else 'this folder'} has {', '.join(found[:5])}"
    return "give the path of a recording (" + ", ".join(sorted(model.AUDIO_TYPES)) + ")"


@cli.command(name="tag")
@click.argument("episodes", nargs=-1)
@click.option(
    "--in-place",
    is_flag=True,
    help="Write the tags into the SOURCE audio files (the only command that modifies episodes/).",
)
@show_option
@now_option
@out_option
def tag_command(
    episodes: tuple[str, ...], in_place: bool, show_path: Path, now: dt.datetime, out_dir: Path | None
) -> None:
    """Write title, show, cover and chapters into the built audio (or the sources with --in-place).

    EPISODES are slugs (default: every episode).

    \b
    Example:
        podcast tag why-your-knees-hurt-when-you-run
        podcast tag --in-place why-your-knees-hurt-when-you-run
    """
    from pipeline import build

    done = build.tag_episodes(
        show_path, episodes, now=now, out_dir=out_dir, in_place=in_place, reporter=_reporter()
    )
    for line in done:
        click.echo(line)


# --------------------------------------------------------------------------- docs


@cli.command(name="docs")
@click.argument("topic", required=False, type=_LazyChoice(lambda: sorted(scaffold.DOC_TOPICS)))
def docs_command(topic: str | None) -> None:
    """Print the reference of every show.yaml setting and episode field (offline, from this version).

    TOPIC picks one part: show.yaml, or episode (the front matter of episode.md). Default: both.

    \b
    Example:
        podcast docs show.yaml
    """
    click.echo(scaffold.field_reference(topic), nl=False)


@cli.command(name="transcribe")
@click.argument("slugs", nargs=-1)
@click.option(
    "--model",
    "model_name",
    default="small.en",
    show_default=True,
    help="A Whisper model size (tiny.en, base.en, small.en, medium.en, large-v3, ...) or a local CTranslate2 model folder.",
)
@click.option(
    "--force", is_flag=True, help="Replace an existing transcript.vtt (the audio is never touched)."
)
@show_option
@format_option()
def transcribe_command(
    slugs: tuple[str, ...], model_name: str, force: bool, show_path: Path, fmt: str
) -> None:
    """Write transcript.vtt beside episode.md, offline, with faster-whisper.

    SLUGS are episodes (default: every episode that has audio and no transcript). Needs the extra:
    pip install 'podcast-pipeline[transcribe]'. Results are cached by the audio's content hash.

    \b
    Example:
        podcast transcribe why-your-knees-hurt-when-you-run
        podcast transcribe --model ~/models/whisper-small-ct2 --force
    """
    from pipeline import transcribe

    show = model.load_show(show_path)
    results = transcribe.transcribe(show, slugs, model_name=model_name, force=force, reporter=_reporter())
    emit(fmt, transcribe_json(show.root, results), lambda: transcribe_lines(show.root, results))


def transcribe_json(root: Path, results: list[transcribe.Result]) -> dict[str, Any]:
    """`podcast transcribe --format json`: one entry per episode, in the order they were done."""
    return {
        "episodes": [
            {
                "slug": r.slug,
                "status": r.status,
                "file": model.show_rel(root, r.path),
                "cues": r.cues,
                "audio_seconds": round(r.audio_seconds, 3),
                "elapsed": round(r.elapsed, 3),
            }
            for r in results
        ],
        "transcribed": sum(r.status != "skipped" for r in results),
        "kept": sum(r.status == "skipped" for r in results),
    }


def transcribe_lines(root: Path, results: list[transcribe.Result]) -> list[str]:
    from pipeline import transcribe

    lines = []
    for r in results:
        rel = model.show_rel(root, r.path)
        if r.status == "skipped":
            lines.append(f"{r.slug}: kept {rel} (use --force to replace {transcribe.OUTPUT_NAME})")
        elif r.status == "cached":
            lines.append(f"{r.slug}: wrote {rel} ({r.cues} cues, from the cache)")
        else:
            rtf = r.realtime_factor
            speed = f", {rtf:.1f}x real time" if rtf else ""
            lines.append(
                f"{r.slug}: wrote {rel} ({r.cues} cues, {r.audio_seconds / 60:.1f} min of audio{speed})"
            )
    made = sum(r.status != "skipped" for r in results)
    lines.append(f"Transcribed {human.plural(made, 'episode')}, {len(results) - made} kept.")
    return lines


# --------------------------------------------------------------------------- import (issue 11)


@cli.command(name="import")
@click.argument("source")
@click.option(
    "--into",
    "folder",
    type=click.Path(path_type=Path),
    default=".",
    show_default=True,
    help="The show folder to write show.yaml and episodes/ into.",
)
@click.option("--merge", is_flag=True, help="Add only the items whose GUID is new to the show already here.")
@click.option(
    "--download",
    "download_media",
    is_flag=True,
    help="Also fetch every enclosure, episode image, chapters and transcript into the episode folders.",
)
@click.option(
    "--owner-email",
    default=None,
    metavar="EMAIL",
    help="Your owner address: needed for a podcast:locked feed, or one without an owner email.",
)
@click.option("--jobs", type=click.IntRange(1, 32), default=4, show_default=True, help="Parallel downloads.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per HTTP request.")
@format_option()
def import_command(
    source: str,
    folder: Path,
    merge: bool,
    download_media: bool,
    owner_email: str | None,
    jobs: int,
    timeout: float,
    fmt: str,
) -> None:
    """Move a show in: turn another host's feed (file or URL) into show.yaml and episodes/.

    GUIDs, dates and enclosure URLs are kept; every fix is counted in the summary.

    \b
    Example:
        podcast import https://feeds.example.com/my-show.xml
        podcast import old-feed.xml --merge --download --jobs 4
    """
    from pipeline import importer

    result = importer.import_feed(
        source,
        folder,
        merge=merge,
        download_media=download_media,
        owner_email=owner_email,
        jobs=jobs,
        timeout=timeout,
        reporter=_reporter(),
    )
    emit(fmt, import_json(result), lambda: import_lines(result))
    if any(d.status == "failed" for d in result.downloads):
        raise SystemExit(int(ExitCode.ERROR))


def import_json(result: importer.ImportResult) -> dict[str, Any]:
    """`podcast import --format json`."""
    return {
        "root": str(result.root),
        "title": result.title,
        "source": result.source,
        "old_feed_url": result.old_feed_url,
        "pages": result.pages,
        "merged": result.merged,
        "written": list(result.written),
        "kept": list(result.kept),
        "skipped": [{"item": s.item, "reason": s.reason} for s in result.skipped],
        "fixes": [{"key": key, "count": count, "what": what} for key, count, what in result.fixes],
        "tracking": dict(sorted(result.tracking.items())),
        "downloads": [
            {
                "slug": d.slug,
                "url": d.url,
                "file": d.file,
                "bytes": d.bytes,
                "status": d.status,
                "error": d.error,
            }
            for d in result.downloads
        ],
        "moving_day": list(result.moving_day),
    }


def import_lines(result: importer.ImportResult) -> list[str]:
    """What `podcast import` says: the count, what was fixed and skipped, downloads, the moving-day steps."""
    verb = "Merged" if result.merged else "Imported"
    pages = f" from {result.pages} feed pages" if result.pages > 1 else ""
    n = len(result.written)
    lines = [f"{verb} {human.plural(n, 'episode')} of {result.title!r}{pages} into {result.root}"]
    if result.fixes:
        lines.append("\nFixed on import:")
        width = max(len(str(c)) for _k, c, _w in result.fixes)
        lines += [f"  {count:>{width}}  {what}" for _key, count, what in result.fixes]
    if result.skipped:
        lines.append(f"\nSkipped {human.plural(len(result.skipped), 'item')}:")
        lines += [f"  {s.item}: {s.reason}" for s in result.skipped]
    for name, count in sorted(result.tracking.items()):
        lines.append(
            f"\n{count} enclosure URL{'s go' if count != 1 else ' goes'} through {name} (kept byte for byte; "
            "the new feed keeps counting there until the media moves)"
        )
    if result.downloads:
        got: dict[str, int] = {}
        for d in result.downloads:
            got[d.status] = got.get(d.status, 0) + 1
        lines.append("\nDownloads: " + ", ".join(f"{v} {k}" for k, v in sorted(got.items())))
        lines += [f"  {d.slug}: {d.url}: {d.error}" for d in result.downloads if d.status == "failed"]
    lines.append("\nMoving day:")
    lines += [f"  {i}. {step}" for i, step in enumerate(result.moving_day, 1)]
    return lines


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="podcast")
