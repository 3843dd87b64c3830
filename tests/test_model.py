"""The content model: show.yaml and episode.md in, frozen Show/Episode out, or every problem at once."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pydantic
import pytest

from pipeline import model, urls
from pipeline.errors import ContentError, ContentErrors, PipelineError

REPO = Path(__file__).resolve().parent.parent
KNEES = "why-your-knees-hurt-when-you-run"
SHINS = "shin-splints-are-a-load-problem"
RETURN = "coming-back-after-a-running-injury"
UTC = dt.UTC

MINIMAL_SHOW = """\
title: Trail Talk
description: Conversations on the trail.
author: Jo Runner
owner:
  name: Jo Runner
  email: jo@example.com
language: en-GB
categories: Technology
artwork: cover.jpg
url: https://trailtalk.example.com/pod
"""


def _minimal_show(root: Path, extra: str = "") -> Path:
    """A show folder with only the required settings (plus `extra`), and no episodes."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "cover.jpg", root / "cover.jpg")
    (root / "show.yaml").write_text(MINIMAL_SHOW + extra, encoding="utf-8")
    return root / "show.yaml"


def _episode(
    show_root: Path, slug: str, front: str, body: str = "Notes.\n", audio: str | None = "audio.mp3"
) -> Path:
    """Write episodes/<slug>/episode.md (and a copy of a real recording as `audio`)."""
    folder = show_root / "episodes" / slug
    folder.mkdir(parents=True, exist_ok=True)
    if audio:
        shutil.copy2(REPO / "episodes" / RETURN / "audio.mp3", folder / audio)
        if "audio:" not in front:
            front += f"audio: {audio}\n"
    (folder / "episode.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(exc: pytest.ExceptionInfo[ContentErrors]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --------------------------------------------------------------------------- the sample show


def test_sample_show_loads_with_every_field(sample_show: Path) -> None:
    show, episodes = model.load(sample_show)
    root = sample_show.parent
    assert show.root == root.resolve()
    assert show.title == "The Stride Clinic"
    assert show.description.startswith(
        "Running injuries, explained by a sports-medicine physician. Each week"
    )
    assert "\n" not in show.description  # folded block scalar
    assert show.author == "Dr. Maya Okafor"
    assert show.owner == model.Owner(name="Maya Okafor", email="hello@stride-clinic.example.com")
    assert show.language == "en"
    assert show.categories == (
        model.Category(top="Health & Fitness", sub="Medicine"),
        model.Category(top="Sports", sub="Running"),
    )
    assert [str(c) for c in show.categories] == ["Health & Fitness > Medicine", "Sports > Running"]
    assert show.explicit is False
    assert show.type == "episodic"
    assert show.artwork == root / "cover.jpg"
    assert show.url == "https://stride-clinic.example.com/"
    assert show.copyright == "Maya Okafor, CC BY 4.0"
    assert show.guid == "2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8"
    assert show.locked is True
    assert show.host is not None
    assert show.host.name == "Dr. Maya Okafor"
    assert show.host.photo == root / "host.jpg"
    assert show.host.bio.startswith("Maya is a sports-medicine physician")
    assert show.host.links == (
        model.Link(label="Clinic website", url="https://stride-clinic.example.com/about/"),
    )
    assert show.call_to_action == model.CallToAction(
        text="Got a running question you want answered on the show? **Send it in** and Maya may pick it "
        "for a listener Q&A episode.",
        url="https://stride-clinic.example.com/ask/",
        label="Ask Maya a question",
    )
    assert show.funding == (
        model.Funding(url="https://stride-clinic.example.com/support/", text="Support the show"),
    )
    assert [s.label for s in show.subscribe] == ["Apple Podcasts", "Spotify"]
    assert show.subscribe[1].url == "https://open.spotify.com/show/0000000000000000000000"
    assert show.persons == (
        model.Person(
            name="Dr. Maya Okafor", role="host", group="cast", href="https://stride-clinic.example.com/about/"
        ),
    )
    assert show.theme == model.Theme(color="#b4381f", logo=None)
    assert show.page_size == 20
    assert show.audio == model.AudioSettings(
        format="mp3",
        loudness=-16.0,
        alternates=(model.Alternate(format="opus", bitrate=32, channels=1, title="Low data"),),
    )
    assert show.audio.bitrate is None and show.audio.channels is None
    assert show.audio.sample_rate == 44100 and show.audio.true_peak == -1.0 and show.audio.id3_version == 4
    assert show.publish.target == "local"
    assert show.publish.path == root / "public"
    assert show.publish_dir == root / "public"
    assert show.base_url == show.url
    assert show.feed_url == "https://stride-clinic.example.com/feed.xml"
    assert [e.slug for e in episodes] == [KNEES, SHINS, RETURN]  # oldest first


def test_sample_episode_front_matter_is_parsed(sample_show: Path) -> None:
    _, episodes = model.load(sample_show)
    knees = {e.slug: e for e in episodes}[KNEES]
    folder = sample_show.parent / "episodes" / KNEES
    assert knees.title == "Why your knees hurt when you run"
    assert knees.date == dt.datetime(2025, 3, 4, 7, 0, tzinfo=UTC)
    assert knees.date.utcoffset() == dt.timedelta(0)
    assert (knees.number, knees.season, knees.type) == (1, 1, "full")
    assert knees.audio == folder / "audio.flac"
    assert knees.summary is not None and knees.summary.startswith("Runner's knee, patellar tendinopathy")
    assert [(c.start, c.title) for c in knees.chapters] == [
        (0.0, "Welcome"),
        (2.0, "Kneecap tracking and runner's knee"),
        (4.0, "Patellar tendinopathy"),
        (6.0, "The iliotibial band"),
        (8.0, "Prevention and when to see a physio"),
    ]
    assert knees.transcript == folder / "transcript.vtt"
    assert knees.persons == (model.Person(name="Dr. Maya Okafor", role="host"),)
    assert (knees.slug, knees.dir, knees.source) == (KNEES, folder, folder / "episode.md")
    assert knees.notes.startswith("Knee pain is the single most common reason")
    assert "---" not in knees.notes.splitlines()[0]
    # defaults for what the sample leaves out
    assert knees.explicit is None and knees.image is None and knees.video is None
    assert knees.draft is False and knees.guid is None


def test_minimal_show_gets_documented_defaults(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    assert show.url == "https://trailtalk.example.com/pod/"  # a trailing slash is added
    assert show.language == "en-GB"
    assert show.categories == (model.Category(top="Technology"),)  # a single string is a one-item list
    assert show.explicit is False
    assert show.type == "episodic"
    assert show.copyright is None and show.guid is None and show.host is None and show.call_to_action is None
    assert show.locked is True
    assert show.funding == () and show.subscribe == () and show.persons == ()
    assert show.theme == model.Theme()
    assert show.theme.color == "#b4381f" and show.theme.logo is None
    assert show.page_size == 20
    assert show.audio == model.AudioSettings()
    assert (show.audio.format, show.audio.sample_rate, show.audio.loudness) == ("mp3", 44100, None)
    assert show.publish == model.PublishTarget()
    assert show.publish_dir == show.root / "public"
    assert show.feed_url == "https://trailtalk.example.com/pod/feed.xml"
    assert model.load_episodes(show) == ()


def test_show_yaml_in_a_folder_path_is_found(tmp_path: Path) -> None:
    path = _minimal_show(tmp_path / "s")
    assert model.load_show(path.parent).title == "Trail Talk"


def test_every_optional_field_of_show_yaml(tmp_path: Path) -> None:
    extra = """\
explicit: true
type: serial
copyright: 2025 Jo
guid: 917393e3-1b1e-5cef-ace4-edaa54e1f810
locked: false
host: {name: Jo, bio: Runs a lot.}
call_to_action: {text: Tell a friend., url: "https://x.example.com/share/"}
funding: [{url: "https://x.example.com/tip/"}]
persons: [Jo Runner, {name: Al, role: Producer}]
theme: {color: "#ABCDEF", logo: cover.jpg}
page_size: 5
audio: {format: m4a, bitrate: 96, channels: 1, sample_rate: 48000, loudness: -19, true_peak: -2, id3_version: 3}
publish:
  target: s3
  bucket: my-pod
  prefix: /shows/trail/
  region: auto
  endpoint_url: https://acct.r2.cloudflarestorage.com
  profile: pod
  public_base_url: https://media.example.com/trail
"""
    show = model.load_show(_minimal_show(tmp_path / "s", extra))
    assert show.explicit is True and show.type == "serial" and show.locked is False
    assert show.guid == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert show.host == model.Host(name="Jo", bio="Runs a lot.")
    assert show.call_to_action is not None and show.call_to_action.label == "Learn more"
    assert show.funding == (model.Funding(url="https://x.example.com/tip/", text="Support the show"),)
    assert show.persons == (
        model.Person(name="Jo Runner", role="guest"),
        model.Person(name="Al", role="producer"),
    )
    assert show.theme.color == "#abcdef" and show.theme.logo == show.root / "cover.jpg"
    assert show.page_size == 5
    assert show.audio == model.AudioSettings(
        format="m4a", bitrate=96, channels=1, sample_rate=48000, loudness=-19, true_peak=-2, id3_version=3
    )
    p = show.publish
    assert (p.target, p.bucket, p.prefix, p.region, p.profile) == (
        "s3",
        "my-pod",
        "shows/trail/",
        "auto",
        "pod",
    )
    assert p.endpoint_url == "https://acct.r2.cloudflarestorage.com"
    assert p.public_base_url == "https://media.example.com/trail/"
    # public URLs follow the target, not the site
    assert show.base_url == "https://media.example.com/trail/"
    assert show.feed_url == "https://media.example.com/trail/feed.xml"


def test_every_optional_field_of_front_matter(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(
        show.root,
        "bonus-round",
        """\
title: Bonus round
date: 2025-02-01T18:30:00-05:00
number: 7
season: 2
type: bonus
explicit: true
summary: A short one.
image: art.jpg
chapters:
  - 00:00 Intro
  - start: "01:02:03.5"
    title: Deep dive
    url: https://example.com/deep
transcript: words.srt
persons:
  - Ann Guest
  - {name: Bob Editor, role: Editor, href: "https://bob.example.com/"}
video: https://www.youtube.com/watch?v=abc
guid: imported-guid-0001
""",
    )
    shutil.copy2(REPO / "cover.jpg", folder / "art.jpg")
    (folder / "words.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n", encoding="utf-8")
    ep = model.load_episode(show.root, folder)
    assert ep.date == dt.datetime(2025, 2, 1, 23, 30, tzinfo=UTC)
    assert ep.date.utcoffset() == dt.timedelta(hours=-5)  # the written zone is kept
    assert (ep.number, ep.season, ep.type, ep.explicit, ep.summary) == (7, 2, "bonus", True, "A short one.")
    assert ep.image == folder / "art.jpg" and ep.transcript == folder / "words.srt"
    assert ep.chapters == (
        model.Chapter(start=0, title="Intro"),
        model.Chapter(start=3723.5, title="Deep dive", url="https://example.com/deep"),
    )
    assert ep.persons == (
        model.Person(name="Ann Guest"),
        model.Person(name="Bob Editor", role="editor", href="https://bob.example.com/"),
    )
    assert ep.persons[0].role == "guest" and ep.persons[0].group == "cast"
    assert ep.video == "https://www.youtube.com/watch?v=abc"
    assert ep.guid == "imported-guid-0001"
    assert ep.notes == "Notes."


def test_models_are_frozen(sample_show: Path) -> None:
    show, episodes = model.load(sample_show)
    with pytest.raises(pydantic.ValidationError):
        show.title = "Changed"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        episodes[0].draft = True  # type: ignore[misc]


# --------------------------------------------------------------------------- chapters and times


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:00", 0.0), ("01:30", 90.0), ("1:02:03", 3723.0), ("00:00:04.250", 4.25), (12, 12.0), (7.5, 7.5)],
)
def test_parse_timestamp(text: str | float, seconds: float) -> None:
    assert model.parse_timestamp(text) == seconds


@pytest.mark.parametrize("text", ["1:60", "00:61:00", "ten", "1.5.3", "", True])
def test_parse_timestamp_rejects(text: str | bool) -> None:
    with pytest.raises(ValueError, match="time"):
        model.parse_timestamp(text)


@pytest.mark.parametrize(("seconds", "text"), [(0, "00:00:00"), (3723, "01:02:03"), (4.25, "00:00:04.250")])
def test_format_timestamp(seconds: float, text: str) -> None:
    assert model.format_timestamp(seconds) == text
    assert model.parse_timestamp(text) == seconds


def test_chapter_lines_and_mappings(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(
        show.root,
        "ep",
        """\
title: Chapters
date: 2025-01-01T00:00:00Z
chapters:
  - "00:00 Intro: why this matters"
  - 01:30 Second part
  - {start: 00:02:00, title: Linked, url: "https://example.com/x"}
""",
    )
    ep = model.load_episode(show.root, folder)
    assert ep.chapters == (
        model.Chapter(start=0, title="Intro: why this matters"),
        model.Chapter(start=90, title="Second part"),
        model.Chapter(start=120, title="Linked", url="https://example.com/x"),
    )


@pytest.mark.parametrize(
    ("chapters", "field", "fragment"),
    [
        ("  - 00:05 Late start\n  - 00:10 Next\n", "chapters", "the first chapter must start at 00:00:00"),
        (
            "  - 00:00 A\n  - 00:10 B\n  - 00:05 C\n",
            "chapters",
            "chapter 3 ('C') does not start after chapter 2",
        ),
        ("  - 00:00 A\n  - 00:00 B\n", "chapters", "chapter 2 ('B') does not start after chapter 1"),
        ("  - soon Intro\n", "chapters[0].start", "'soon' is not a time"),
        ("  - '00:00'\n", "chapters[0].title", "must not be empty"),
        ("  - {start: 0, title: A, url: not-a-url}\n", "chapters[0].url", "is not an http(s) URL"),
    ],
)
def test_bad_chapters_name_the_field(tmp_path: Path, chapters: str, field: str, fragment: str) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(show.root, "ep", f"title: T\ndate: 2025-01-01T00:00:00Z\nchapters:\n{chapters}")
    with pytest.raises(ContentErrors) as exc:
        model.load_episode(show.root, folder)
    assert any(
        p.startswith(f"episodes/ep/episode.md: {field}: ") and fragment in p for p in _problems(exc)
    ), _problems(exc)


# --------------------------------------------------------------------------- persons


def test_persons_as_strings_or_mappings(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(
        show.root,
        "ep",
        """\
title: People
date: 2025-01-01T00:00:00Z
persons:
  - Sam Whitfield
  - name: Maya
    role: Co-Host
    group: cast
    img: https://example.com/maya.jpg
""",
    )
    ep = model.load_episode(show.root, folder)
    assert ep.persons == (
        model.Person(name="Sam Whitfield", role="guest", group="cast"),
        model.Person(name="Maya", role="co-host", group="cast", img="https://example.com/maya.jpg"),
    )


def test_person_with_unknown_role(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(
        show.root, "ep", "title: T\ndate: 2025-01-01T00:00:00Z\npersons: [{name: X, role: mascot}]\n"
    )
    with pytest.raises(ContentErrors) as exc:
        model.load_episode(show.root, folder)
    assert _problems(exc) == [
        "episodes/ep/episode.md: persons[0].role: 'mascot' is not a role "
        "(expected one of host, co-host, guest, guest host, producer, editor, composer, "
        "narrator)"
    ]


# --------------------------------------------------------------------------- status and ordering


def _status_show(tmp_path: Path) -> model.Show:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    _episode(show.root, "past", "title: Past\ndate: 2025-03-01T07:00:00+01:00\n")
    _episode(show.root, "future", "title: Future\ndate: 2025-03-01T09:00:00+01:00\n")
    _episode(show.root, "drafty", "title: Drafty\ndate: 2025-01-01T00:00:00Z\ndraft: true\n", audio=None)
    return show


def test_status_draft_scheduled_ready_with_explicit_now(tmp_path: Path) -> None:
    show = _status_show(tmp_path)
    eps = {e.slug: e for e in model.load_episodes(show)}
    now = dt.datetime(2025, 3, 1, 7, 0, tzinfo=UTC)  # 08:00 in +01:00: after "past", before "future"
    assert eps["past"].status(now) == "ready"
    assert eps["future"].status(now) == "scheduled"
    assert eps["drafty"].status(now) == "draft"
    assert eps["drafty"].audio is None  # a draft may leave the recording out
    assert [eps[s].is_public(now) for s in ("past", "future", "drafty")] == [True, False, False]
    # exactly at the publication time it is ready; a draft stays a draft forever
    at = dt.datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    assert eps["future"].status(at) == "ready"
    assert eps["drafty"].status(dt.datetime(2100, 1, 1, tzinfo=UTC)) == "draft"
    assert eps["future"].status(at - dt.timedelta(seconds=1)) == "scheduled"


def test_public_episodes_newest_first_ties_by_slug(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    same = "2025-04-01T07:00:00+00:00"
    _episode(show.root, "bravo", f"title: B\ndate: {same}\n")
    _episode(show.root, "alpha", f"title: A\ndate: {same}\n")
    _episode(show.root, "charlie", f"title: C\ndate: {same}\n")
    _episode(show.root, "oldest", "title: O\ndate: 2025-01-01T00:00:00Z\n")
    _episode(show.root, "newest", "title: N\ndate: 2025-05-01T00:00:00+02:00\n")  # 2025-04-30T22:00Z
    _episode(show.root, "later", "title: L\ndate: 2025-09-01T00:00:00Z\n")
    _episode(show.root, "sketch", "title: S\ndate: 2025-02-01T00:00:00Z\ndraft: true\n")
    episodes = model.load_episodes(show)
    assert [e.slug for e in episodes] == ["oldest", "sketch", "alpha", "bravo", "charlie", "newest", "later"]
    now = dt.datetime(2025, 6, 1, tzinfo=UTC)
    public = model.public_episodes(episodes, now)
    assert [e.slug for e in public] == ["newest", "charlie", "bravo", "alpha", "oldest"]
    # the same answer whatever order they come in
    assert model.public_episodes(reversed(episodes), now) == public
    assert model.public_episodes(sorted(episodes, key=lambda e: e.title), now) == public


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("date", "message"),
    [
        (
            "2025-03-04 07:00:00",
            "date: '2025-03-04 07:00:00' has no time zone (write 2025-03-04T07:00:00+00:00)",
        ),
        (
            "'2025-03-04T07:00'",
            "date: '2025-03-04 07:00:00' has no time zone (write 2025-03-04T07:00:00+00:00)",
        ),
        ("2025-03-04", "date: '2025-03-04' has no time and time zone (write 2025-03-04T09:00:00+00:00)"),
        ("next tuesday", "date: 'next tuesday' is not a date and time (write 2024-05-01T09:00:00+01:00)"),
    ],
)
def test_dates_need_a_time_zone(tmp_path: Path, date: str, message: str) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(show.root, "ep", f"title: T\ndate: {date}\n")
    with pytest.raises(ContentErrors) as exc:
        model.load_episode(show.root, folder)
    assert _problems(exc) == [f"episodes/ep/episode.md: {message}"]


@pytest.mark.parametrize("date", ["5", "20250304"])
def test_a_number_is_not_a_date(tmp_path: Path, date: str) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(show.root, "ep", f"title: T\ndate: {date}\n")
    with pytest.raises(ContentErrors) as exc:
        model.load_episode(show.root, folder)
    assert [p.field for p in exc.value.problems] == ["date"]


def test_a_boolean_is_not_an_episode_number(tmp_path: Path) -> None:
    show = model.load_show(_minimal_show(tmp_path / "s"))
    folder = _episode(show.root, "ep", "title: T\ndate: 2025-01-01T00:00:00Z\nnumber: true\n")
    with pytest.raises(ContentErrors) as exc:
        model.load_episode(show.root, folder)
    assert _problems(exc) == ["episodes/ep/episode.md: number: expected a whole number, got True"]


# --------------------------------------------------------------------------- unknown keys


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "language: en",
            "language: en\nexplict: true",
            "show.yaml: 'explict' is not a setting (did you mean 'explicit'?)",
        ),
        (
            "  email: hello@",
            "  emial: hello@",
            "show.yaml: owner: 'emial' is not a setting (did you mean 'email'?)",
        ),
        (
            "  target: local",
            "  target: local\n  bukket: x",
            "show.yaml: publish: 'bukket' is not a setting (did you mean 'bucket'?)",
        ),
        (
            "    role: host\n",
            "    role: host\n    hreff: https://x.example.com/\n",
            "show.yaml: persons[0]: 'hreff' is not a setting (did you mean 'href'?)",
        ),
        ("language: en", "language: en\nzebra: 1", "show.yaml: 'zebra' is not a setting"),
    ],
)
def test_unknown_show_keys_are_errors_with_a_suggestion(
    sample_show: Path, old: str, new: str, expected: str
) -> None:
    _edit(sample_show, old, new)
    with pytest.raises(ContentErrors) as exc:
        model.load_show(sample_show)
    assert expected in _problems(exc)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("summary:", "sumary:", "'sumary' is not a setting (did you mean 'summary'?)"),
        (
            "transcript: transcript.vtt",
            "transcript: transcript.vtt\ndraftt: true",
            "'draftt' is not a setting (did you mean 'draft'?)",
        ),
        ("    role: host", "    rol: host", "persons[0]: 'rol' is not a setting (did you mean 'role'?)"),
        (
            "  - 00:00 Welcome",
            "  - {start: 0, title: Welcome, ulr: 'https://x.example.com/'}",
            "chapters[0]: 'ulr' is not a setting (did you mean 'url'?)",
        ),
        ("number: 1", "number: 1\nslug: knees", "'slug' is not a setting (the slug is the folder name)"),
    ],
)
def test_unknown_front_matter_keys_are_errors_with_a_suggestion(
    sample_show: Path, old: str, new: str, expected: str
) -> None:
    _edit(sample_show.parent / "episodes" / KNEES / "episode.md", old, new)
    with pytest.raises(ContentErrors) as exc:
        model.load(sample_show)
    assert f"episodes/{KNEES}/episode.md: {expected}" in _problems(exc)


# --------------------------------------------------------------------------- every problem at once


def test_every_problem_in_every_episode_at_once(sample_show: Path) -> None:
    root = sample_show.parent
    _edit(
        root / "episodes" / KNEES / "episode.md", "date: 2025-03-04T07:00:00+00:00", "date: 2025-03-04 07:00"
    )
    _edit(root / "episodes" / KNEES / "episode.md", "season: 1", "season: first")
    _edit(root / "episodes" / SHINS / "episode.md", "number: 2", "number: 3")  # RETURN is number 3
    _episode(root, "extra-one", "title: Extra\ndate: 2025-04-01T00:00:00Z\naudio: missing.mp3\n", audio=None)
    (root / "episodes" / "Bad Folder").mkdir()
    with pytest.raises(ContentErrors) as exc:
        model.load(sample_show)
    problems = _problems(exc)
    assert problems == [
        "episodes/Bad Folder: folder name 'Bad Folder' is not a valid slug "
        "(use lowercase ASCII letters, digits and single hyphens, e.g. knee-pain)",
        "episodes/extra-one/episode.md: audio: audio file 'missing.mp3' not found",
        f"episodes/{KNEES}/episode.md: date: '2025-03-04 07:00:00' has no time zone "
        "(write 2025-03-04T07:00:00+00:00)",
        f"episodes/{KNEES}/episode.md: season: expected a whole number, got 'first'",
        f"episodes/{SHINS}/episode.md: number: episode 3 is also used by {RETURN} "
        "(each full episode needs its own number)",
    ]
    assert exc.value.message == "5 problems in 4 files"
    assert all("\n" not in p for p in problems)


def test_every_problem_in_show_yaml_at_once(sample_show: Path) -> None:
    _edit(sample_show, "language: en", "language: English")
    _edit(sample_show, "hello@stride-clinic.example.com", "hello-at-example")
    _edit(sample_show, "Sports > Running", "Sports > Medicine")
    _edit(sample_show, "page_size: 20", "page_size: 0")
    with pytest.raises(ContentErrors) as exc:
        model.load_show(sample_show)
    assert sorted(_problems(exc)) == sorted(
        [
            "show.yaml: owner.email: 'hello-at-example' is not an email address",
            "show.yaml: language: 'English' is not a language code (write e.g. en or en-US)",
            "show.yaml: categories[1]: 'Medicine' is not a subcategory of 'Sports' "
            "(did you mean 'Health & Fitness > Medicine'?)",
            "show.yaml: page_size: must be at least 1",
        ]
    )
    assert exc.value.message == "4 problems in 1 file"
    assert {p.file for p in exc.value.problems} == {"show.yaml"}


def test_problems_in_show_yaml_and_episodes_together(sample_show: Path) -> None:
    # STYLE.md §2.4: one run lists the show's and the episodes' problems together
    _edit(sample_show, "Health & Fitness > Medicine", "Tech")
    _edit(
        sample_show.parent / "episodes" / KNEES / "episode.md",
        "date: 2025-03-04T07:00:00+00:00",
        "date: 2025-03-04 07:00",
    )
    with pytest.raises(ContentErrors) as exc:
        model.load(sample_show)
    assert _problems(exc) == [
        "show.yaml: categories[0]: 'Tech' is not an Apple category (did you mean 'Technology'?)",
        f"episodes/{KNEES}/episode.md: date: '2025-03-04 07:00:00' has no time zone "
        "(write 2025-03-04T07:00:00+00:00)",
    ]
    assert exc.value.message == "2 problems in 2 files"


def test_problems_carry_file_field_and_hint(sample_show: Path) -> None:
    _edit(sample_show, "Sports > Running", "Sprots > Running")
    with pytest.raises(ContentErrors) as exc:
        model.load_show(sample_show)
    [problem] = exc.value.problems
    assert isinstance(problem, ContentError)
    assert (problem.file, problem.field, problem.hint) == (
        "show.yaml",
        "categories[1]",
        "did you mean 'Sports'?",
    )
    assert problem.message == "'Sprots' is not an Apple category"


def test_missing_show_yaml(tmp_path: Path) -> None:
    with pytest.raises(PipelineError) as exc:
        model.load(tmp_path / "show.yaml")
    assert str(exc.value).startswith("show.yaml: file not found (looked for ")


# --------------------------------------------------------------------------- front matter splitting


def test_split_front_matter_bom_crlf_and_dots() -> None:
    data, body, line = model.split_front_matter("---\r\ntitle: T\r\n...\r\n\r\nHello\r\n", "x.md")
    assert data == {"title": "T"}
    assert body.strip() == "Hello"
    assert line == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello\n", "x.md: has no front matter"),
        ("", "x.md: has no front matter"),
        ("---\ntitle: T\n", "x.md: front matter is not closed"),
        ("---\n- a\n---\n", "x.md: front matter must be a mapping"),
        ("---\ntitle: [a\n---\n", "x.md: line 3: invalid YAML"),
    ],
)
def test_split_front_matter_rejects(text: str, message: str) -> None:
    with pytest.raises(ContentError) as exc:
        model.split_front_matter(text, "x.md")
    assert str(exc.value).startswith(message)


def test_byte_order_mark_is_accepted(sample_show: Path) -> None:
    path = sample_show.parent / "episodes" / KNEES / "episode.md"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    _, episodes = model.load(sample_show)
    assert episodes[0].title == "Why your knees hurt when you run"


# --------------------------------------------------------------------------- GUIDs and keys (pipeline.urls)


def test_podcast_guid_matches_the_podcasting20_example() -> None:
    assert (
        urls.podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml")
        == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    # the rule drops the scheme and trailing slashes
    assert (
        urls.podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/")
        == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    assert uuid.UUID(urls.podcast_guid("https://example.com/feed.xml")).version == 5


def test_show_guid_is_pinned_or_derived_from_the_feed_url(sample_show: Path, tmp_path: Path) -> None:
    show = model.load_show(sample_show)
    assert urls.show_guid(show) == "2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8"
    assert urls.show_guid(show) == urls.podcast_guid("https://stride-clinic.example.com/feed.xml")
    unpinned = model.load_show(_minimal_show(tmp_path / "s"))
    assert urls.show_guid(unpinned) == urls.podcast_guid("trailtalk.example.com/pod/feed.xml")


def test_episode_guid_is_stable_and_derived_from_show_guid_and_slug(sample_show: Path) -> None:
    show, episodes = model.load(sample_show)
    knees = {e.slug: e for e in episodes}[KNEES]
    expected = str(uuid.uuid5(uuid.UUID("2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8"), KNEES))
    assert urls.episode_guid(show, knees) == expected
    assert len({urls.episode_guid(show, e) for e in episodes}) == 3
    # editing the episode (title, date, audio) or the show's URL keeps it; the pinned show GUID anchors it
    _edit(knees.source, "title: Why your knees hurt when you run", "title: Knees, revisited")
    _edit(knees.source, "2025-03-04T07:00:00+00:00", "2025-03-05T08:00:00+00:00")
    _edit(sample_show, "url: https://stride-clinic.example.com/", "url: https://new-host.example.org/")
    show2, episodes2 = model.load(sample_show)
    knees2 = {e.slug: e for e in episodes2}[KNEES]
    assert knees2.title == "Knees, revisited"
    assert urls.episode_guid(show2, knees2) == expected
    # a GUID kept from another host wins
    _edit(knees.source, "number: 1", "number: 1\nguid: https://old-host.example.com/?p=12")
    show3, episodes3 = model.load(sample_show)
    assert (
        urls.episode_guid(show3, {e.slug: e for e in episodes3}[KNEES])
        == "https://old-host.example.com/?p=12"
    )


def test_audio_key_is_content_addressed_and_ascii(sample_show: Path) -> None:
    show, episodes = model.load(sample_show)
    knees = {e.slug: e for e in episodes}[KNEES]
    a = "0123456789abcdef" * 4
    b = "fedcba9876543210" * 4
    key = urls.audio_key(knees, a, "mp3")
    assert key == f"episodes/{KNEES}/0123456789abcdef/{KNEES}.mp3"
    assert key.isascii() and " " not in key
    assert urls.audio_key(knees, a, "mp3") == key  # same bytes, same key
    assert urls.audio_key(knees, b, "mp3") != key  # corrected audio, new URL
    assert urls.url(show, key) == f"https://stride-clinic.example.com/{key}"


def test_a_non_ascii_folder_cannot_become_a_key(sample_show: Path) -> None:
    # keys are built from the slug, so the slug itself must be ASCII
    root = sample_show.parent / "episodes"
    (root / KNEES).rename(root / "knée-pain")
    with pytest.raises(ContentErrors) as exc:
        model.load(sample_show)
    assert _problems(exc)[0].startswith("episodes/knée-pain: folder name 'knée-pain' is not a valid slug")
