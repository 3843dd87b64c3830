"""Transcripts: WebVTT and SRT parsing, checks with clear errors, conversion both ways, paragraphs."""

from __future__ import annotations

import pytest

from pipeline.errors import ContentError
from pipeline.transcript import Cue, Paragraph, clock, convert, paragraphs, parse, to_srt, to_vtt

VTT = """\ufeffWEBVTT - The Stride Clinic, episode 12
Kind: captions

STYLE
::cue { color: yellow }

NOTE written by hand,
over two lines

intro
00:00.000 --> 00:02.500 align:start position:10%
<v.loud Ana Ruiz>Hello &amp; welcome to <i>the</i> show.</v>

00:00:02.500 --> 00:00:05.000
<v Ben>Thanks, Ana &lt;3

3
00:00:05.000 --> 00:00:07.250
Great to <c.yellow>be</c> here.
<00:00:06.000>Really.

01:00:00.000 --> 01:00:01.000
Ben: An hour in.
"""

SRT = (
    "1\r\n00:00:00,000 --> 00:00:02,500\r\n<i>Ana Ruiz:</i> Hello & welcome.\r\n\r\n"
    "2\r\n00:00:02,500 --> 00:00:05,000 X1:10 X2:20 Y1:5 Y2:8\r\n{\\an8}Ben: Thanks.\r\n\r\n"
    "3\r\n00:00:05.000 --> 00:00:07,5\r\nGreat to be here.\r\nReally.\r\n\r\n\r\n"
)


def test_vtt_cues_speakers_and_plain_text():
    assert parse(VTT, "vtt", file="t.vtt") == (
        Cue(0.0, 2.5, "Hello & welcome to the show.", "Ana Ruiz"),
        Cue(2.5, 5.0, "Thanks, Ana <3", "Ben"),
        Cue(5.0, 7.25, "Great to be here.\nReally.", None),
        Cue(3600.0, 3601.0, "An hour in.", "Ben"),
    )


def test_srt_cues_with_crlf_positions_style_codes_and_name_prefixes():
    assert parse(SRT, "srt") == (
        Cue(0.0, 2.5, "Hello & welcome.", "Ana Ruiz"),
        Cue(2.5, 5.0, "Thanks.", "Ben"),
        Cue(5.0, 7.5, "Great to be here.\nReally.", None),
    )


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Ana: hi", "Ana"),
        ("Dr. Jane Smith: hi", "Dr. Jane Smith"),
        ("ANA: hi", "ANA"),
        ("see https://example.com: it", None),  # not a name: lower case
        ("12:30 we start", None),
        ("lower: case", None),
        ("Ana:no space", None),
        ("One Two Three Four Five: too many words", None),
    ],
)
def test_name_prefix_convention(text: str, speaker: str | None):
    cue = parse(f"WEBVTT\n\n00:00.000 --> 00:01.000\n{text}\n", "vtt")[0]
    assert cue.speaker == speaker
    assert cue.text == (text.split(": ", 1)[1] if speaker else text)


def test_vtt_output_is_exact_and_escaped():
    cues = (
        Cue(0, 1.5, "Fish & chips <3 --> yes", "A <B>"),
        Cue(61.25, 3723.0049, "line one\n\n  line two  ", None),
    )
    assert to_vtt(cues) == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\n<v A &lt;B&gt;>Fish &amp; chips &lt;3 -&gt; yes\n\n"
        "00:01:01.250 --> 01:02:03.005\nline one\nline two\n"
    )


def test_srt_output_is_exact():
    cues = (Cue(0, 1.5, "Hi.", "Ana"), Cue(2, 3, "Two\nlines", None))
    assert to_srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,500\nAna: Hi.\n\n2\n00:00:02,000 --> 00:00:03,000\nTwo\nlines\n"
    )


def test_round_trips_both_ways():
    cues = parse(VTT, "vtt")
    assert parse(to_srt(cues), "srt") == cues
    assert parse(to_vtt(cues), "vtt") == cues
    srt = convert(VTT, "vtt", "srt")
    assert convert(srt, "srt", "vtt") == to_vtt(cues)
    assert convert(to_vtt(cues), "vtt", "vtt") == to_vtt(cues)  # normalising is stable


BAD = [
    ("vtt", "00:00.000 --> 00:01.000\nx\n", "line 1", "missing the WEBVTT header line", "SRT"),
    (
        "vtt",
        "1\n00:00:00,000 --> 00:00:01,000\nx\n",
        "line 1",
        "missing the WEBVTT header",
        "name the file .srt",
    ),
    ("vtt", "WEBVTT\n00:00.000 --> 00:01.000\nx\n", "cue 1", "line 2: a cue inside the header", "blank line"),
    (
        "vtt",
        "WEBVTT\n\n00:00.00 --> 00:01.000\nx\n",
        "cue 1",
        "line 3: '00:00.00' is not a timestamp",
        "00:01:02.500",
    ),
    ("vtt", "WEBVTT\n\n00:00:61.000 --> 00:01:02.000\nx\n", "cue 1", "'00:00:61.000' is not a timestamp", ""),
    ("vtt", "WEBVTT\n\n00:00,000 --> 00:01.000\nx\n", "cue 1", "'00:00,000' is not a timestamp", ""),
    (
        "vtt",
        "WEBVTT\n\n00:02.000 --> 00:01.000\nx\n",
        "cue 1",
        "ends at 00:01.000, before it starts",
        "end time",
    ),
    (
        "vtt",
        "WEBVTT\n\n00:00.000 --> 00:01.000\na\n\n00:05.000 --> 00:06.000\nb\n\n00:04.000 --> 00:07.000\nc\n",
        "cue 3",
        "line 9: starts at 00:04.000, earlier than the cue before it",
        "time order",
    ),
    ("vtt", "WEBVTT\n\nid only\nsome text\n", "cue 1", "line 4: expected a timing line", ""),
    ("vtt", "WEBVTT\n\n00:00.000 -> 00:01.000\nx\n", "cue 1", "expected a timing line", ""),
    ("vtt", "WEBVTT\n\n00:00.000 -->00:01.000\nx\n", "cue 1", "malformed timing line", ""),
    ("vtt", "WEBVTT\n\nNOTE only a note\n", None, "the transcript has no cues", "blank line between"),
    ("srt", "1\n00:00:01,000 --> 00:00:00,500\nx\n", "cue 1", "ends at 00:00:00,500", ""),
    ("srt", "1\n00:00:01 --> 00:00:02,000\nx\n", "cue 1", "'00:00:01' is not a timestamp", "00:01:02,500"),
    ("srt", "1\n00:00:01,000 --> 00:00:02,000\na\n\nhello\n", "cue 2", "line 5: expected a cue number", ""),
    (
        "srt",
        "1\n00:00:03,000 --> 00:00:04,000\na\n\n2\n00:00:01,000 --> 00:00:02,000\nb\n",
        "cue 2",
        "earlier",
        "",
    ),
    (
        "srt",
        "WEBVTT\n\n00:00.000 --> 00:01.000\nx\n",
        "line 1",
        "this is a WebVTT file",
        "name the file .vtt",
    ),
    ("srt", "\n\n", None, "the transcript has no cues", ""),
]


@pytest.mark.parametrize(("fmt", "text", "field", "message", "hint"), BAD)
def test_malformed_transcripts_raise_one_clear_content_error(fmt, text, field, message, hint):
    with pytest.raises(ContentError) as info:
        parse(text, fmt, file="episodes/knees/transcript." + fmt)
    err = info.value
    assert err.file == "episodes/knees/transcript." + fmt
    assert err.field == field
    assert message in err.message
    assert hint in err.hint and err.hint
    assert "\n" not in str(err)


def test_unknown_format():
    with pytest.raises(ContentError, match="unknown transcript format 'txt'"):
        parse("x", "txt")  # type: ignore[arg-type]


def test_zero_length_and_overlapping_cues_are_allowed():
    cues = parse(
        "WEBVTT\n\n00:01.000 --> 00:01.000\na\n\n00:01.000 --> 00:03.000\nb\n\n00:02.000 --> 00:04.000\nc",
        "vtt",
    )
    assert [c.text for c in cues] == ["a", "b", "c"]


# --------------------------------------------------------------------------- paragraphs and clocks


def test_paragraphs_group_by_speaker_and_a_missing_speaker_continues():
    cues = (
        Cue(0, 1, "Hi.", "Ana"),
        Cue(1, 2, "Welcome.", None),
        Cue(2, 3, "Thanks.", "Ben"),
        Cue(3, 4, "  ", None),
        Cue(4, 5, "Glad\nto be here.", "Ben"),
        Cue(5, 6, "Let's start.", "Ana"),
    )
    assert paragraphs(cues) == (
        Paragraph(0, "Ana", "Hi. Welcome."),
        Paragraph(2, "Ben", "Thanks. Glad to be here."),
        Paragraph(5, "Ana", "Let's start."),
    )


def test_paragraphs_break_at_pauses_and_after_long_sentences():
    cues = (
        Cue(0, 1, "one two three.", None),
        Cue(1, 2, "four five", None),
        Cue(2, 3, "six.", None),
        Cue(3, 4, "seven.", None),
        Cue(10, 11, "after a pause", None),
    )
    assert paragraphs(cues, max_words=3) == (
        Paragraph(0, None, "one two three."),
        Paragraph(1, None, "four five six."),
        Paragraph(3, None, "seven."),
        Paragraph(10, None, "after a pause"),
    )


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00"), (90.9, "01:30"), (3599, "59:59"), (3723, "1:02:03")]
)
def test_clock(seconds: float, text: str):
    assert clock(seconds) == text
