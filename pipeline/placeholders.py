"""Text `podcast init` and `podcast new` write for the host to replace, and the one detector for it (layer 2).

`check` reports what it finds as warnings; `publish` to a non-local target refuses it (a listener would see it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import images, model

#: What `init` writes as the show's description.
SHOW_DESCRIPTION = "One or two sentences that tell a listener what the show is about."
#: What `init` writes as the site URL when no --url is given, and the owner email's default.
SHOW_URL = "https://example.com/podcast/"
OWNER_EMAIL = "you@example.com"
#: The first line of the notes `new` writes.
NOTES_TEXT = "Write the show notes here in Markdown."

#: Hosts reserved for examples (RFC 2606). A subdomain someone chose (stride-clinic.example.com) is a
#: deliberate test address, not the placeholder `init` writes, so only these exact hosts count.
EXAMPLE_HOSTS = frozenset(
    {"example.com", "www.example.com", "example.org", "www.example.org", "example.net", "www.example.net"}
)

_EMPTY_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s*$", re.MULTILINE)
_URL_RE = re.compile(r"https?://[^\s)\]>\"']+")


@dataclass(frozen=True)
class Placeholder:
    """One piece of placeholder content: where it is and what to do."""

    file: str  # relative to the show's folder
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


def is_placeholder_url(url: str) -> bool:
    """True for an http(s) URL on example.com/.org/.net itself (what `init` writes)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in EXAMPLE_HOSTS


def find(show: model.Show, episodes: Iterable[model.Episode]) -> list[Placeholder]:
    """Every placeholder left in the show and its episodes, show.yaml first, then episodes by slug."""
    found: list[Placeholder] = []
    rel = model.SHOW_FILE
    if show.description.strip() == SHOW_DESCRIPTION:
        found.append(Placeholder(rel, "description", "is the placeholder `init` wrote (describe your show)"))
    if is_placeholder_url(show.url):
        found.append(
            Placeholder(rel, "url", f"{show.url} is a placeholder (write the URL your site is served from)")
        )
    if show.owner.email.lower() == OWNER_EMAIL:
        found.append(Placeholder(rel, "owner.email", f"{OWNER_EMAIL} is a placeholder (write your address)"))
    for where, url in _show_links(show):
        if is_placeholder_url(url):
            found.append(Placeholder(rel, where, f"{url} is a placeholder URL (write the real link)"))
    if _is_placeholder_art(show.artwork):
        found.append(
            Placeholder(
                rel,
                "artwork",
                f"{model.show_rel(show.root, show.artwork)} is the placeholder cover (use your own square 1400-3000 px art)",
            )
        )
    for ep in sorted(episodes, key=lambda e: e.slug):
        found.extend(_in_notes(model.show_rel(show.root, ep.source), ep.notes))
    return found


def _in_notes(rel: str, notes: str) -> list[Placeholder]:
    out: list[Placeholder] = []
    if NOTES_TEXT in notes:
        out.append(Placeholder(rel, "notes", f"still says {NOTES_TEXT!r} (write the show notes)"))
    empty = len(_EMPTY_ITEM_RE.findall(notes))
    if empty:
        items = "an empty list item" if empty == 1 else f"{empty} empty list items"
        out.append(Placeholder(rel, "notes", f"has {items} (fill them in or delete them)"))
    for url in sorted(set(_URL_RE.findall(notes))):
        if is_placeholder_url(url):
            out.append(Placeholder(rel, "notes", f"links to the placeholder {url}"))
    return out


def _show_links(show: model.Show) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    if show.host is not None:
        links += [(f"host.links[{i}].url", link.url) for i, link in enumerate(show.host.links)]
    if show.call_to_action is not None:
        links.append(("call_to_action.url", show.call_to_action.url))
    links += [(f"funding[{i}].url", f.url) for i, f in enumerate(show.funding)]
    links += [(f"subscribe[{i}].url", s.url) for i, s in enumerate(show.subscribe)]
    return links


def _is_placeholder_art(path: Path) -> bool:
    try:
        return images.is_placeholder_art(path)
    except OSError:
        return False  # an unreadable image is the artwork check's to report
