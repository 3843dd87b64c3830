"""Show notes: Markdown features, heading anchors, summaries, reading time, and hostile HTML neutralised."""

from __future__ import annotations

import lxml.html
import pytest

from pipeline import notes
from pipeline.notes import (
    PAGE_IDS,
    Heading,
    plain_text,
    render_inline,
    render_notes,
    sanitise,
    shorten,
    slugify,
    unique_slugs,
)


def tree(markup: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(markup, create_parent="div")


# --------------------------------------------------------------------------- Markdown features


def test_tables_render_with_header_and_alignment():
    notes = render_notes("| Time | Topic |\n|:--|--:|\n| 0:00 | Hello |\n| 1:30 | Knees |\n")
    doc = tree(notes.html)
    assert [th.text for th in doc.iter("th")] == ["Time", "Topic"]
    assert [th.get("align") for th in doc.iter("th")] == ["left", "right"]
    assert [[td.text for td in tr.iter("td")] for tr in doc.find(".//tbody").iter("tr")] == [
        ["0:00", "Hello"],
        ["1:30", "Knees"],
    ]


def test_footnotes_link_both_ways_and_stay_out_of_the_text():
    notes = render_notes("Runners get hurt[^knee].\n\n[^knee]: Mostly knees.\n")
    doc = tree(notes.html)
    ref = doc.find(".//sup[@class='footnote-ref']/a")
    assert ref.get("href") == "#fn-knee" and ref.get("id") == "fnref-knee"
    item = doc.find(".//section[@class='footnotes']//li")
    assert item.get("id") == "fn-knee"
    back = item.find(".//a[@class='footnote-backref']")
    assert back.get("href") == "#fnref-knee" and back.get("aria-label") == "Back to reference 1"
    assert notes.text == "Runners get hurt.\nMostly knees."
    assert notes.summary == "Runners get hurt."
    assert notes.words == 5


def test_strikethrough_autolinks_task_lists_and_code():
    notes = render_notes(
        "~~old~~ see https://example.com/x\n\n- [x] done\n- [ ] todo\n\n```python\nprint(1)\n```\n"
    )
    doc = tree(notes.html)
    assert doc.find(".//del").text == "old"
    assert doc.find(".//a").get("href") == "https://example.com/x"
    boxes = doc.findall(".//input")
    assert [b.get("type") for b in boxes] == ["checkbox", "checkbox"]
    assert [b.get("aria-label") for b in boxes] == ["Done", "To do"]  # a checkbox needs a name
    assert [b.get("checked") is not None for b in boxes] == [True, False]
    assert all(b.get("disabled") is not None for b in boxes)
    pre = doc.find(".//pre")
    assert pre.get("tabindex") == "0"  # a code block that scrolls must be reachable by keyboard
    assert pre.find("code").get("class") == "language-python"


def test_headings_get_deduplicated_slug_ids_and_self_links():
    notes = render_notes("# Intro\n\ntext\n\n## The Knee, Explained!\n\n## Intro\n\n## Intro\n\n### Größe\n")
    assert notes.headings == (
        Heading(2, "intro", "Intro"),
        Heading(3, "the-knee-explained", "The Knee, Explained!"),
        Heading(3, "intro-2", "Intro"),
        Heading(3, "intro-3", "Intro"),
        Heading(4, "größe", "Größe"),
    )
    doc = tree(notes.html)
    for heading in notes.headings:
        element = doc.get_element_by_id(heading.id)
        assert element.tag == f"h{heading.level}"
        assert element.find("a").get("href") == f"#{heading.id}"
        assert element.text_content() == heading.text
    assert doc.find(".//h1") is None  # the page's one <h1> is the episode title


def test_heading_levels_shift_so_the_top_level_is_h2():
    notes = render_notes("### Deep\n\n#### Deeper\n")
    assert [(h.level, h.text) for h in notes.headings] == [(2, "Deep"), (3, "Deeper")]


def test_heading_ids_avoid_the_page_ids_and_footnote_ids():
    notes = render_notes("## Chapters\n\n## Transcript\n\n## fn 1\n\nx[^1]\n\n[^1]: y\n")
    ids = [h.id for h in notes.headings]
    assert ids == ["chapters-2", "transcript-2", "fn-1-2"]
    assert not set(ids) & PAGE_IDS


def test_heading_with_a_link_gets_a_separate_labelled_anchor():
    notes = render_notes("## See [the study](https://example.org/s)\n")
    h2 = tree(notes.html).find(".//h2")
    links = h2.findall("a")
    assert links[0].get("href") == "https://example.org/s"
    assert links[1].get("href") == "#see-the-study"
    assert links[1].get("aria-label") == "Link to this section: See the study"
    assert notes.headings[0].text == "See the study"


def test_raw_html_headings_lose_their_own_ids():
    notes = render_notes('<h2 id="player" class="x" onclick="evil()">Raw</h2>\n')
    h2 = tree(notes.html).find(".//h2")
    assert h2.get("id") == "raw" and h2.get("class") is None and h2.get("onclick") is None


def test_slug_helpers():
    assert slugify("  Hello, World!  ") == "hello-world"
    assert slugify("???") == "section"
    assert unique_slugs(["A", "a", "A!"], taken=()) == ["a", "a-2", "a-3"]
    assert unique_slugs(["Main"]) == ["main-2"]


# --------------------------------------------------------------------------- links and images


def test_external_links_get_noopener_and_internal_ones_do_not():
    notes = render_notes(
        "[out](https://example.com) [proto](//cdn.example.com/x) [in](#intro) [rel](../other/)\n"
    )
    rels = {a.get("href"): a.get("rel") for a in tree(notes.html).iter("a")}
    assert rels == {
        "https://example.com": "noopener",
        "//cdn.example.com/x": "noopener",
        "#intro": None,
        "../other/": None,
    }


def test_images_keep_alt_get_an_empty_one_when_missing_and_load_lazily():
    notes = render_notes('![A runner](https://example.com/r.jpg)\n\n<img src="https://example.com/x.png">\n')
    imgs = list(tree(notes.html).iter("img"))
    assert [i.get("alt") for i in imgs] == ["A runner", ""]
    assert all(i.get("loading") == "lazy" for i in imgs)


# --------------------------------------------------------------------------- hostile notes

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "script-inline": "Hello <script>alert(1)</script> there",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "md-javascript-link": "[x](javascript:alert(1))",
    "md-javascript-image": "![x](javascript:alert(1))",
    "mixed-case-scheme": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "entity-scheme": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "leading-space-scheme": '<a href=" javascript:alert(1)">x</a>',
    "data-url": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "data-image": '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "svg-onload": "<svg onload=alert(1)><circle r=1 /></svg>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "style-tag": "<style>body{display:none}</style>",
    "style-attr": '<p style="position:fixed;inset:0">x</p>',
    "object": '<object data="evil.swf"></object>',
    "embed": '<embed src="evil.swf">',
    "form": '<form action="https://evil.example"><input name=q><button>go</button></form>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "base": '<base href="https://evil.example/">',
    "link": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "event-on-anything": '<div onmouseover="alert(1)">x</div><a href="/" onclick="alert(1)">y</a>',
    "details-ontoggle": "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "math": '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "comment-trick": "<!--><script>alert(1)</script>-->",
    "template": "<template><script>alert(1)</script></template>",
    "noscript-breakout": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "formaction": '<button formaction="javascript:alert(1)">x</button>',
    "clobber-id": '<img id="player" name="audio" src="x.png" alt="a">',
    "stray-inputs": '<input name="q"> <input type="password"> <input type="hidden" value="x">',
}

_BANNED_TAGS = {
    "input",
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "meta",
    "base",
    "link",
    "template",
    "noscript",
    "button",
    "frame",
    "frameset",
    "applet",
}


def assert_harmless(markup: str) -> None:
    doc = tree(markup)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        assert el.tag not in _BANNED_TAGS, markup
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), markup
            assert name.lower() not in {"style", "formaction", "action", "srcdoc", "name"}, markup
            if name in {"href", "src", "cite"}:
                squashed = "".join(value.split()).lower()
                assert not squashed.startswith(("javascript:", "data:", "vbscript:")), markup
    assert "alert(" not in doc.text_content() or "](javascript:" in markup, markup


@pytest.mark.parametrize("payload", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_html_is_neutralised(payload: str):
    notes = render_notes(f"Intro paragraph.\n\n{payload}\n\nOutro paragraph.\n")
    assert_harmless(notes.html)
    assert "Intro paragraph." in notes.text and "Outro paragraph." in notes.text
    assert_harmless(render_inline(payload))
    assert_harmless(sanitise(payload))


def test_hostile_specifics():
    img = tree(render_notes("<img src=x onerror=alert(1)>").html).find(".//img")
    assert img.get("src") == "x" and img.get("onerror") is None
    link = tree(render_notes('<a href="JaVaScRiPt:alert(1)">x</a>').html).find(".//a")
    assert link.get("href") is None and link.text == "x"
    assert "alert" not in render_notes("<script>alert(1)</script>\n\nok").html
    assert "display" not in render_notes("<style>body{display:none}</style>\n\nok").html
    assert tree(render_notes('<div id="player">x</div>').html).find(".//div").get("id") is None
    assert tree(render_notes('<p lang="not a language">x</p>').html).find(".//p").get("lang") is None
    assert tree(render_notes('<p lang="de-AT">x</p>').html).find(".//p").get("lang") == "de-AT"


def test_sanitise_is_idempotent_on_rendered_notes():
    md = "# A\n\n[x](https://e.com) ![i](https://e.com/i.png) x[^1]\n\n```\nc\n```\n\n[^1]: f\n"
    html = render_notes(md).html
    assert sanitise(html) == html


# --------------------------------------------------------------------------- summary, words, reading time


def test_summary_is_the_first_paragraph_as_plain_text():
    notes = render_notes(
        "# Title\n\n![cover](c.jpg)\n\nWe talk **knees** and [hips](https://e.com).\n\nMore.\n"
    )
    assert notes.summary == "We talk knees and hips."


def test_long_summary_is_cut_at_a_word():
    words = " ".join(f"word{i}" for i in range(100))
    summary = render_notes(words).summary
    assert len(summary) <= 300 and summary.endswith("…")
    assert summary[:-1] == words[: len(summary) - 1]
    assert words[len(summary) - 1] == " "  # the cut falls between words


def test_shorten_and_plain_text_helpers():
    assert shorten("  one   two\nthree ") == "one two three"
    assert shorten("alpha beta gamma", 12) == "alpha beta…"
    assert shorten("alphabetagamma", 8) == "alphabe…"  # one long word: cut inside it
    assert plain_text("<p>a &amp; b</p><ul><li>c</li></ul>") == "a & b\nc"


@pytest.mark.parametrize(("n", "minutes"), [(0, 1), (1, 1), (200, 1), (201, 2), (600, 3), (601, 4)])
def test_reading_minutes_at_200_words_per_minute(n: int, minutes: int):
    notes = render_notes(" ".join(["word"] * n))
    assert notes.words == n
    assert notes.reading_minutes == minutes


def test_empty_notes():
    notes = render_notes("")
    assert (notes.html, notes.headings, notes.words, notes.summary, notes.text) == ("", (), 0, "", "")


def test_rendering_is_deterministic():
    md = "# A\n\n## A\n\nText[^1] with https://x.example.\n\n| a |\n|---|\n| b |\n\n[^1]: n\n"
    assert render_notes(md) == render_notes(md)


# --------------------------------------------------------------------------- inline fields


def test_render_inline_unwraps_a_single_paragraph():
    assert render_inline("I run *far*. [Site](https://ana.example)") == (
        'I run <em>far</em>. <a rel="noopener" href="https://ana.example">Site</a>'
    )


def test_render_inline_keeps_several_paragraphs():
    assert render_inline("One.\n\nTwo.") == "<p>One.</p>\n<p>Two.</p>"


def test_feed_html_has_the_headings_without_ids_or_anchors() -> None:
    """Issue 10 trap 14: what the feed carries, made in the same render as the page's HTML."""
    rendered = notes.render_notes("# Top\n\nText.\n\n## With a [link](https://a.example.org/)\n\nMore.\n")
    assert rendered.feed_html == (
        "<h2>Top</h2>\n<p>Text.</p>\n"
        '<h3>With a <a rel="noopener" href="https://a.example.org/">link</a></h3>\n<p>More.</p>\n'
    )
    assert 'class="anchor"' in rendered.html and 'id="top-2"' in rendered.html  # "top" is a page id


@pytest.mark.parametrize("title", ["In this episode", "In This Episode:", "in this episode!"])
def test_a_heading_repeating_the_outline_title_is_not_in_the_outline(title: str) -> None:
    rendered = notes.render_notes(f"## {title}\n\n## A\n\n## B\n")
    assert [h.text for h in rendered.headings] == ["A", "B"]
    assert "id=" in rendered.html.split("</h2>")[0]  # still a heading with its anchor in the notes
