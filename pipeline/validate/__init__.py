"""Feed rules that judge any podcast feed, ours or another host's: the PC rule catalogue, checks, reports.

One module per job: `rules` (the catalogue), `http` (reading a feed, capped), `values` (pure value parsers
and tables), `checker` (offline rules), `online` (PC4xx fetches), `crossbuild` (PC5xx) and `run` (the entry
point). It returns a typed `Report`; the CLI words it (text, json, github). This package re-exports the
public names.
"""

from __future__ import annotations

from pipeline.ids import PODCAST_GUID_NAMESPACE, podcast_guid
from pipeline.validate.http import read_source
from pipeline.validate.rules import PROFILES, RULES, Finding, Report, Rule, Severity, active_rules
from pipeline.validate.run import validate
from pipeline.validate.values import parse_rfc2822

__all__ = [
    "PODCAST_GUID_NAMESPACE",
    "PROFILES",
    "RULES",
    "Finding",
    "Report",
    "Rule",
    "Severity",
    "active_rules",
    "parse_rfc2822",
    "podcast_guid",
    "read_source",
    "validate",
]
