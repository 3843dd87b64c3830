"""Output formats (return strings; the CLI prints them): text, json, github, the rule list."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pipeline.validate.http import is_url
from pipeline.validate.rules import RULES, Report, Severity, active_rules


def _summary(report: Report) -> str:
    c = report.counts
    n = report.items
    parts = [
        f"{c['error']} error{'s' * (c['error'] != 1)}",
        f"{c['warning']} warning{'s' * (c['warning'] != 1)}",
        f"{c['info']} info",
    ]
    return f"{report.source}: {', '.join(parts)} in {n} episode{'s' * (n != 1)}"


def format_text(report: Report) -> str:
    """Findings for people: one line each (`source:line: severity ID where: message`), a fix hint, a summary."""
    lines = []
    for f in report.findings:
        at = f"{report.source}:{f.line}" if f.line else report.source
        lines.append(f"{at}: {f.severity.value} {f.rule} {f.where}: {f.message}")
        lines.append(f"    fix: {f.hint}")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def format_json(report: Report) -> str:
    """Findings for machines: a stable JSON document (sorted keys, findings in report order)."""
    doc = {
        "source": report.source,
        "items": report.items,
        "counts": report.counts,
        "ok": not report.has_errors,
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "title": RULES[f.rule].title,
                "message": f.message,
                "where": f.where,
                "line": f.line,
                "hint": f.hint,
            }
            for f in report.findings
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report: Report) -> str:
    """GitHub Actions workflow commands: `::error file=…,line=…,title=PC101::message (fix: hint)`."""
    lines = []
    for f in report.findings:
        props = []
        if not is_url(report.source):
            props.append(f"file={_gh_prop(report.source)}")
            if f.line:
                props.append(f"line={f.line}")
        props.append(f"title={_gh_prop(f.rule)}")
        lines.append(
            f"::{_GITHUB_LEVEL[f.severity]} {','.join(props)}::"
            f"{_gh_data(f'{f.where}: {f.message} (fix: {f.hint})')}"
        )
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def format_rules(profiles: Iterable[str] | None = None) -> str:
    """The rule catalogue as a table (id, severity, profiles, title), for `podcast validate --rules`."""
    active = active_rules(profiles)
    lines = [f"{'rule':<6} {'severity':<8} {'profiles':<28} title"]
    for rid, rule in RULES.items():
        if rid in active:
            lines.append(
                f"{rid:<6} {rule.severity.value:<8} {','.join(sorted(rule.profiles)):<28} {rule.title}"
            )
    return "\n".join(lines) + "\n"
