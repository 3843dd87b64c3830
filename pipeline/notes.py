"""Show notes: Markdown to sanitised HTML with heading anchors, plus plain text, summary and reading time."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

WORDS_PER_MINUTE = 200
SUMMARY_CHARS = 300
#: The title of the page's own outline of the notes (templates/episode.html); a notes heading that says
#: the same is left out of the outline, which would otherwise list its own title.
OUTLINE_TITLE = "In this episode"

#: Ids the page templates use; a notes heading never takes one of these (it gets "-2" instead).
PAGE_IDS = frozenset(
    {
        "main",
        "content",
        "top",
        "player",
        "audio",
        "video",
        "notes",
        "chapters",
        "transcript",
        "guests",
        "host",
        "support",
        "subscribe",
        "episodes",
        "pagination",
        "footer",
        "header",
        "nav",
        "skip",
    }
)

# GFM (tables, strikethrough, autolinks, task lists) + footnotes. Raw HTML is let through on purpose:
# notes imported from other hosts are HTML, and every byte goes through the sanitiser below anyway.
# GFM's "tagfilter" is left out: it turns <script> into visible text, where the sanitiser drops it.
_CMARK_OPTIONS = Options.CMARK_OPT_FOOTNOTES | Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8
_CMARK_EXTENSIONS = ["table", "autolink", "strikethrough", "tasklist"]

_TAGS = (nh3.ALLOWED_TAGS | {"section", "input"}) - {"acronym", "center", "strike", "tt", "map", "area"}

# Removed together with everything inside them (the rest of the unknown tags keep their text).
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "noscript",
    "noembed",
    "noframes",
    "template",
    "svg",
    "math",
    "textarea",
    "select",
    "option",
    "button",
    "title",
    "xmp",
    "plaintext",
    "canvas",
    "audio",
    "video",
    "form",
}

_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir", "class", "id"},
    "a": {"href", "hreflang", "aria-label"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start", "reversed"},
    "th": {"colspan", "rowspan", "scope", "align"},
    "td": {"colspan", "rowspan", "align"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "data": {"value"},
    "details": {"open"},
    "abbr": set(),
    "input": {"checked"},
}

# Which class names and ids may survive, by tag. Everything else is dropped: ids from raw HTML could
# clobber the page's own ids (or DOM globals the player script reads), and classes could borrow its styles.
_CLASS_RE = {
    "sup": re.compile(r"^footnote-ref$"),
    "section": re.compile(r"^footnotes$"),
    "a": re.compile(r"^(?:footnote-backref|anchor)$"),
    "code": re.compile(r"^language-[\w+#.-]{1,40}$"),
    "li": re.compile(r"^task-list-item$"),
    "ul": re.compile(r"^contains-task-list$"),
}
_ID_RE = {
    "a": re.compile(r"^fnref-[\w%.-]{1,120}$"),  # cmark-gfm: "fn-" + the percent-encoded footnote label
    "li": re.compile(r"^fn-[\w%.-]{1,120}$"),
}
_SLUG_ID_RE = re.compile(r"^[\w-]{1,80}$")
_LANG_RE = re.compile(r"^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*$")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag in _HEADINGS:  # headings keep only a slug id (render_notes replaces it with its own)
        return value if attr == "id" and _SLUG_ID_RE.match(value) else None
    if attr == "lang":  # an invalid language tag is an accessibility failure; drop it
        return value if _LANG_RE.match(value) else None
    table = {"class": _CLASS_RE, "id": _ID_RE}.get(attr)
    if table is None:
        return value
    pattern = table.get(tag)
    return value if pattern is not None and pattern.match(value) else None


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    tag_attribute_values={"input": {"type": {"checkbox"}}},
    set_tag_attribute_values={
        "img": {"loading": "lazy", "decoding": "async"},
        "input": {"disabled": ""},
        "pre": {"tabindex": "0"},  # a code block that scrolls sideways must be reachable by keyboard
    },
    url_schemes={"http", "https", "mailto", "tel"},
    link_rel=None,
    strip_comments=True,
)

# The sanitiser's output is html5ever-serialised: every literal "<" in text *and* in attribute values is
# escaped, so in sanitised HTML a "<" always starts a real tag and these patterns cannot be fooled.
_HEADING_RE = re.compile(r"<h([1-6])(?: id=\"[^\"]*\")?>(.*?)</h\1>", re.DOTALL)
_EXTERNAL_A_RE = re.compile(r"<a(?=[^>]* href=\"(?:https?:)?//)", re.IGNORECASE)
_IMG_NO_ALT_RE = re.compile(r"<img(?![^>]* alt=\")")
_INPUT_RE = re.compile(r"<input[^>]*>")
_PARAGRAPH_RE = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_FOOTNOTE_REF_RE = re.compile(r"<sup class=\"footnote-ref\">.*?</sup>", re.DOTALL)


@dataclass(frozen=True)
class Heading:
    """A heading in the rendered notes: its level on the page (2-6), its anchor id and its plain text."""

    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Notes:
    """Rendered show notes."""

    html: str
    """Sanitised HTML; headings carry ids and anchor links; external links carry rel="noopener"."""
    headings: tuple[Heading, ...]
    """The outline's entries: every heading except one that repeats OUTLINE_TITLE."""
    words: int
    reading_minutes: int
    """At least 1, at WORDS_PER_MINUTE."""
    summary: str
    """Plain text of the first paragraph, at most SUMMARY_CHARS, cut at a word."""
    text: str
    """The whole notes as plain text, one block per line."""
    feed_html: str = ""
    """`html` as a feed carries it (content:encoded): the same headings, without ids or anchor links."""


@dataclass(frozen=True)
class FeedText:
    """An item's text in the feed: what apps list, and the full notes."""

    description: str
    """Summary-sized HTML: the summary and a link to the page (<description>, at most `limit` bytes)."""
    content: str
    """The full notes with clean headings (content:encoded)."""


def feed_text(rendered: Notes, summary: str, page_url: str, *, limit: int = 4000) -> FeedText:
    """The feed's two variants of an episode's notes, from notes rendered once."""
    if not summary.strip():
        return FeedText(rendered.feed_html, rendered.feed_html)
    link = f'<p><a href="{html.escape(page_url)}">Full show notes</a></p>'
    text = summary
    while True:
        description = sanitise(f"<p>{html.escape(text, quote=False)}</p>") + link
        if len(description.encode()) <= limit or len(text) < 20:
            return FeedText(description, rendered.feed_html)
        text = shorten(text, len(text) * 3 // 4)


def sanitise(markup: str) -> str:
    """Allowlist-sanitise an HTML fragment.

    Strips script/style/iframe/object/svg (with their content), every on* attribute and style attribute,
    and any URL whose scheme is not http, https, mailto or tel (so javascript: and data: go, however
    they are spelt or encoded). External links get rel="noopener" and images alt="" when they have none.
    """
    cleaned = _CLEANER.clean(markup)
    cleaned = _EXTERNAL_A_RE.sub('<a rel="noopener"', cleaned)
    cleaned = _INPUT_RE.sub(_task_checkbox, cleaned)
    return _IMG_NO_ALT_RE.sub('<img alt=""', cleaned)


def render_notes(markdown: str) -> Notes:
    """Render show notes (GitHub-flavoured Markdown, raw HTML allowed) to sanitised HTML and metadata.

    Heading levels are shifted so the notes' top level becomes <h2> (the page's <h1> is the episode title);
    each heading gets a deterministic, de-duplicated slug id and a link to itself.
    """
    markup = sanitise(_markdown_to_html(markdown))
    text = _plain_text(markup)
    feed_markup = _clean_headings(markup)
    markup, headings = _anchor_headings(markup)
    words = len(text.split())
    return Notes(
        html=markup,
        feed_html=feed_markup,
        headings=tuple(h for h in headings if not _is_outline_title(h.text)),
        words=words,
        reading_minutes=max(1, math.ceil(words / WORDS_PER_MINUTE)),
        summary=_summary(markup),
        text=text,
    )


def render_inline(markdown: str) -> str:
    """Render a short Markdown field (a host bio, a call-to-action) to sanitised HTML.

    A single paragraph comes back without its <p> so it can sit inside the template's own element;
    anything longer keeps its blocks. Headings are not anchored.
    """
    markup = sanitise(_markdown_to_html(markdown)).strip()
    m = re.fullmatch(r"<p>(.*?)</p>", markup, re.DOTALL)
    return m.group(1) if m and "<p>" not in m.group(1) else markup


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """Plain text cut to at most `limit` characters at a word boundary, with "…" when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head and not text[limit - 1].isspace():
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:.-–—") + "…"


def plain_text(markup: str) -> str:
    """The text of an HTML fragment, block elements on their own lines, whitespace collapsed."""
    return _plain_text(markup)


def slugify(text: str) -> str:
    """A URL-fragment slug: lower case, letters/digits/underscores kept, runs of anything else become '-'."""
    text = unicodedata.normalize("NFKC", text).lower()
    slug = re.sub(r"[^\w]+", "-", text).strip("-_")
    return slug[:80].rstrip("-") or "section"


def unique_slugs(texts: Iterable[str], taken: Iterable[str] = PAGE_IDS) -> list[str]:
    """Slugs for texts in order, de-duplicated against each other and `taken` with -2, -3, ..."""
    used = set(taken)
    out: list[str] = []
    for text in texts:
        base = slugify(text)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        out.append(slug)
    return out


# --------------------------------------------------------------------------- internals


def _task_checkbox(m: re.Match[str]) -> str:
    """Keep only task-list checkboxes (disabled), named for screen readers; any other input goes."""
    tag = m.group(0)
    if ' type="checkbox"' not in tag:
        return ""
    label = "Done" if ' checked=""' in tag else "To do"
    return f'<input aria-label="{label}"{tag[len("<input") :]}'


def _markdown_to_html(markdown: str) -> str:
    html: str = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=_CMARK_OPTIONS, extensions=_CMARK_EXTENSIONS
    )
    return html


def _anchor_headings(markup: str) -> tuple[str, tuple[Heading, ...]]:
    found = list(_HEADING_RE.finditer(markup))
    if not found:
        return markup, ()
    shift = 2 - min(int(m.group(1)) for m in found)
    texts = [_plain_text(m.group(2)) for m in found]
    others = _HEADING_RE.sub("", markup)  # ids outside headings (footnotes) must stay unique too
    taken = PAGE_IDS | set(re.findall(r" id=\"([^\"]+)\"", others))
    slugs = unique_slugs(texts, taken)
    headings: list[Heading] = []
    pieces: list[str] = []
    pos = 0
    for m, text, slug in zip(found, texts, slugs, strict=True):
        level = min(6, int(m.group(1)) + shift)
        inner = m.group(2)
        if "<a " in inner or "<a>" in inner:  # links cannot nest: put a separate anchor after the text
            label = html.escape(f"Link to this section: {text}")
            inner = f'{inner} <a class="anchor" href="#{slug}" aria-label="{label}">#</a>'
        else:
            inner = f'<a class="anchor" href="#{slug}">{inner}</a>'
        pieces += [markup[pos : m.start()], f'<h{level} id="{slug}">{inner}</h{level}>']
        pos = m.end()
        headings.append(Heading(level=level, id=slug, text=text))
    pieces.append(markup[pos:])
    return "".join(pieces), tuple(headings)


def _is_outline_title(text: str) -> bool:
    return " ".join(re.sub(r"[^\w\s]", "", text).lower().split()) == OUTLINE_TITLE.lower()


def _clean_headings(markup: str) -> str:
    """Headings shifted to start at <h2> like the page's, with no id or anchor: what a feed carries."""
    found = list(_HEADING_RE.finditer(markup))
    if not found:
        return markup
    shift = 2 - min(int(m.group(1)) for m in found)

    def one(m: re.Match[str]) -> str:
        level = min(6, int(m.group(1)) + shift)
        return f"<h{level}>{m.group(2)}</h{level}>"

    return _HEADING_RE.sub(one, markup)


def _summary(markup: str) -> str:
    for m in _PARAGRAPH_RE.finditer(_FOOTNOTE_REF_RE.sub("", markup)):
        text = " ".join(_plain_text(m.group(1)).split())
        if text:
            return shorten(text, SUMMARY_CHARS)
    return ""


_BLOCKS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "aside",
        "header",
        "footer",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "br",
        "figure",
        "figcaption",
        "details",
        "summary",
        "nav",
    }
)
_CELLS = frozenset({"td", "th"})


#: Elements whose text is not prose: footnote markers ("1") and back-links ("↩").
_SKIP_CLASSES = frozenset({("sup", "footnote-ref"), ("a", "footnote-backref")})


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_SKIPPED = re.compile(r'<(sup|a)\b[^>]*\bclass="(footnote-ref|footnote-backref)"[^>]*>.*?</\1>', re.S)


def _plain_text(markup: str) -> str:
    """The text of sanitised HTML (which the sanitiser guarantees is well-formed): blocks become line
    breaks, cells spaces; footnote markers and back-links are left out. Regexes, not a parser: this runs
    once per episode per build and a parser was half of the notes' cost."""

    def tag(m: re.Match[str]) -> str:
        name = m.group(2).lower()
        if name in _BLOCKS:
            return "\n"
        return " " if name in _CELLS and not m.group(1) else ""

    def skip(m: re.Match[str]) -> str:
        return "" if (m.group(1), m.group(2)) in _SKIP_CLASSES else m.group(0)

    text = html.unescape(_TAG.sub(tag, _SKIPPED.sub(skip, markup)))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
