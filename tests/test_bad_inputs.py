"""A corpus of broken shows: `podcast check` must say what is wrong in one line, exit 1, and write nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import cli
from pipeline.errors import ExitCode

KNEES = "episodes/why-your-knees-hurt-when-you-run"
SHINS = "episodes/shin-splints-are-a-load-problem"
RETURN = "episodes/coming-back-after-a-running-injury"
KNEES_MD = f"{KNEES}/episode.md"
SHINS_MD = f"{SHINS}/episode.md"
RETURN_MD = f"{RETURN}/episode.md"
NOW = "2025-06-01T12:00:00+00:00"  # after every sample episode, so nothing is merely scheduled

Mutation = Callable[[Path], None]


def edit(rel: str, old: str, new: str) -> Mutation:
    """Replace the first `old` in a file of the show by `new` (the text must be there)."""

    def apply(root: Path) -> None:
        path = root / rel
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return apply


def write(rel: str, data: str | bytes) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")

    return apply


def delete(rel: str) -> Mutation:
    return lambda root: (root / rel).unlink()


def rename(rel: str, new: str) -> Mutation:
    return lambda root: (root / rel).rename(root / new)


def copy(src: str, dest: str) -> Mutation:
    return lambda root: shutil.copyfile(root / src, root / dest)


def both(*steps: Mutation) -> Mutation:
    def apply(root: Path) -> None:
        for step in steps:
            step(root)

    return apply


def image(rel: str, size: tuple[int, int]) -> Mutation:
    def apply(root: Path) -> None:
        Image.new("RGB", size, (180, 56, 31)).save(root / rel, "JPEG", quality=70)

    return apply


def rgba_png(rel: str) -> Mutation:
    def apply(root: Path) -> None:
        Image.new("RGBA", (1400, 1400), (180, 56, 31, 128)).save(root / rel, "PNG")

    return apply


def truncate(rel: str, keep: int) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        path.write_bytes(path.read_bytes()[:keep])

    return apply


def non_utf8(rel: str, old: bytes, new: bytes) -> Mutation:
    def apply(root: Path) -> None:
        path = root / rel
        data = path.read_bytes()
        assert old in data
        path.write_bytes(data.replace(old, new, 1))

    return apply


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation
    first: str  # what the first stderr line starts with, after "Error: ": the file and, when there is one, the field
    fragment: str  # text the stderr must contain
    xfail: str = ""  # a known bug in the code under test: why it fails today


#: A 600-byte YAML alias bomb: each level doubles nine times; fully expanded it is ~10^9 items.
_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _bomb_header_png() -> bytes:
    """A valid 1x1 PNG whose IHDR says 60000x60000 (CRC fixed): Pillow refuses it as a decompression bomb."""
    import io
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    png = buf.getvalue()
    data = struct.pack(">II", 60000, 60000) + png[24:29]
    chunk = struct.pack(">I", 13) + b"IHDR" + data + struct.pack(">I", zlib.crc32(b"IHDR" + data))
    return png[:8] + chunk + png[33:]


FRONT_10MB = "---\ntitle: Huge\ndate: 2025-01-01T00:00:00Z\nsummary: '" + "a" * 10_000_000 + "'\n---\nBody\n"

CASES = [
    # --- YAML that does not parse
    Case(
        "show-yaml-broken",
        edit("show.yaml", "title: The Stride Clinic", "title: [The Stride Clinic"),
        "show.yaml: line 4: ",
        "invalid YAML",
    ),
    Case(
        "show-yaml-tab",
        edit("show.yaml", "author: Dr. Maya Okafor", "author:\tDr. Maya Okafor\n\tx: 1"),
        "show.yaml: line ",
        "invalid YAML",
    ),
    Case(
        "front-matter-yaml-broken",
        edit(KNEES_MD, "title: Why your knees hurt when you run", 'title: "Why your knees hurt'),
        f"{KNEES_MD}: ",
        "invalid YAML",
    ),
    # --- wrong types
    Case(
        "show-wrong-type-int",
        edit("show.yaml", "page_size: 20", "page_size: many"),
        "show.yaml: page_size: ",
        "expected a whole number, got 'many'",
    ),
    Case(
        "show-wrong-type-bool",
        edit("show.yaml", "explicit: false", "explicit: sometimes"),
        "show.yaml: explicit: ",
        "expected true or false, got 'sometimes'",
    ),
    Case(
        "show-wrong-type-mapping",
        edit("show.yaml", "publish:\n  target: local\n  path: public", "publish: s3"),
        "show.yaml: publish: ",
        "expected a mapping of fields",
    ),
    Case(
        "front-matter-wrong-type-int",
        edit(KNEES_MD, "season: 1", "season: first"),
        f"{KNEES_MD}: season: ",
        "expected a whole number, got 'first'",
    ),
    Case(
        "front-matter-wrong-type-text",
        edit(KNEES_MD, "title: Why your knees hurt when you run", "title: 1234"),
        f"{KNEES_MD}: title: ",
        "expected text, got 1234",
    ),
    Case(
        "front-matter-wrong-type-list",
        edit(RETURN_MD, "audio: audio.mp3", "audio: [audio.mp3, b.mp3]"),
        f"{RETURN_MD}: audio: ",
        "expected a file name for the audio",
    ),
    Case(
        "front-matter-number-is-bool",
        edit(KNEES_MD, "number: 1", "number: true"),
        f"{KNEES_MD}: number: ",
        "expected a whole number",
    ),
    Case(
        "front-matter-date-is-number",
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 20250304"),
        f"{KNEES_MD}: date: ",
        "date",
    ),
    # --- missing required fields
    Case(
        "show-missing-author",
        edit("show.yaml", "author: Dr. Maya Okafor\n", ""),
        "show.yaml: author: ",
        "is required but missing",
    ),
    Case(
        "show-missing-owner-email",
        edit("show.yaml", "  email: hello@stride-clinic.example.com\n", ""),
        "show.yaml: owner.email: ",
        "is required but missing",
    ),
    Case(
        "front-matter-missing-title",
        edit(KNEES_MD, "title: Why your knees hurt when you run\n", ""),
        f"{KNEES_MD}: title: ",
        "is required but missing",
    ),
    Case(
        "front-matter-missing-audio",
        edit(RETURN_MD, "audio: audio.mp3\n", ""),
        f"{RETURN_MD}: audio: ",
        "is required unless the episode is a draft",
    ),
    # --- unknown keys (typos)
    Case(
        "show-typo",
        edit("show.yaml", "explicit: false", "explict: false"),
        "show.yaml: ",
        "'explict' is not a setting (did you mean 'explicit'?)",
    ),
    Case(
        "show-nested-typo",
        edit("show.yaml", "  color: ", "  colour: "),
        "show.yaml: theme: ",
        "'colour' is not a setting (did you mean 'color'?)",
    ),
    Case(
        "front-matter-typo",
        edit(KNEES_MD, "summary:", "sumary:"),
        f"{KNEES_MD}: ",
        "'sumary' is not a setting (did you mean 'summary'?)",
    ),
    Case(
        "front-matter-person-typo",
        edit(RETURN_MD, "    role: guest", "    roel: guest"),
        f"{RETURN_MD}: persons[0]: ",
        "'roel' is not a setting (did you mean 'role'?)",
    ),
    # --- dates
    Case(
        "naive-date",
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 2025-03-04 07:00:00"),
        f"{KNEES_MD}: date: ",
        "'2025-03-04 07:00:00' has no time zone (write 2025-03-04T07:00:00+00:00)",
    ),
    Case(
        "date-without-time",
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 2025-03-04"),
        f"{KNEES_MD}: date: ",
        "'2025-03-04' has no time and time zone",
    ),
    Case(
        "date-not-a-date",
        edit(SHINS_MD, "date: 2025-03-11T07:00:00+00:00", "date: last tuesday"),
        f"{SHINS_MD}: date: ",
        "'last tuesday' is not a date and time",
    ),
    # --- categories
    Case(
        "bad-category",
        edit("show.yaml", "Sports > Running", "Sprots > Running"),
        "show.yaml: categories[1]: ",
        "'Sprots' is not an Apple category (did you mean 'Sports'?)",
    ),
    Case(
        "subcategory-wrong-parent",
        edit("show.yaml", "Sports > Running", "Sports > Medicine"),
        "show.yaml: categories[1]: ",
        "'Medicine' is not a subcategory of 'Sports'",
    ),
    Case(
        "legacy-category",
        edit("show.yaml", "Sports > Running", "Games & Hobbies"),
        "show.yaml: categories[1]: ",
        "(did you mean 'Leisure'?)",
    ),
    # --- audio
    Case(
        "missing-audio",
        delete(f"{KNEES}/audio.flac"),
        f"{KNEES_MD}: audio: ",
        "audio file 'audio.flac' not found",
    ),
    Case(
        "mp3-that-is-text",
        write(f"{RETURN}/audio.mp3", "This is not audio, it is my shopping list.\n" * 40),
        f"{RETURN}/audio.mp3: ",
        "not an audio file: it looks like text",
    ),
    Case(
        "empty-audio",
        write(f"{KNEES}/audio.flac", b""),
        f"{KNEES_MD}: audio: ",
        "audio file 'audio.flac' is empty",
    ),
    Case(
        "jpeg-renamed-wav",
        copy("cover.jpg", f"{SHINS}/audio.wav"),
        f"{SHINS}/audio.wav: ",
        "not an audio file",
    ),
    Case("truncated-wav", truncate(f"{SHINS}/audio.wav", 30), f"{SHINS}/audio.wav: ", "audio"),
    Case(
        "unsupported-audio-type",
        both(
            rename(f"{RETURN}/audio.mp3", f"{RETURN}/audio.ogg"),
            edit(RETURN_MD, "audio: audio.mp3", "audio: audio.ogg"),
        ),
        f"{RETURN_MD}: audio: ",
        "'audio.ogg' is not a supported audio type",
    ),
    Case(
        "audio-outside-the-folder",
        edit(RETURN_MD, "audio: audio.mp3", f"audio: ../../{SHINS}/audio.wav"),
        f"{RETURN_MD}: audio: ",
        "must be a file inside the folder",
    ),
    # --- episode.md as a file
    Case(
        "non-utf8-notes",
        non_utf8(KNEES_MD, b"Knee pain", b"Kn\xe9e pain"),
        f"{KNEES_MD}: ",
        "is not UTF-8 text",
    ),
    Case(
        "non-utf8-show-yaml",
        non_utf8("show.yaml", b"Dr. Maya Okafor", b"Dr. Ma\xffa Okafor"),
        "show.yaml: ",
        "is not UTF-8 text",
    ),
    Case("front-matter-10mb", write(KNEES_MD, FRONT_10MB), f"{KNEES_MD}: ", "file is too large"),
    Case(
        "missing-front-matter",
        write(KNEES_MD, "# Knees\n\nJust notes, no fields.\n"),
        f"{KNEES_MD}: ",
        "has no front matter",
    ),
    Case(
        "unclosed-front-matter",
        write(KNEES_MD, "---\ntitle: Knees\ndate: 2025-03-04T07:00:00Z\n\nNotes\n"),
        f"{KNEES_MD}: ",
        "front matter is not closed",
    ),
    Case(
        "front-matter-is-a-list",
        write(KNEES_MD, "---\n- title\n- date\n---\nNotes\n"),
        f"{KNEES_MD}: ",
        "front matter must be a mapping",
    ),
    Case(
        "folder-without-episode-md",
        write("episodes/next-one/notes.txt", "to do\n"),
        "episodes/next-one: ",
        "episode folder has no episode.md",
    ),
    # --- slug folders
    Case(
        "slug-with-dots", rename(KNEES, "episodes/knees..run"), "episodes/knees..run: ", "is not a valid slug"
    ),
    Case(
        "slug-uppercase",
        rename(KNEES, "episodes/Why-Knees-Hurt"),
        "episodes/Why-Knees-Hurt: ",
        "is not a valid slug",
    ),
    Case(
        "slug-with-spaces",
        rename(KNEES, "episodes/why knees hurt"),
        "episodes/why knees hurt: ",
        "is not a valid slug",
    ),
    Case(
        "slug-non-ascii",
        rename(KNEES, "episodes/genou-douloureux-é"),
        "episodes/genou-douloureux-é: ",
        "is not a valid slug",
    ),
    # --- chapters
    Case(
        "chapters-out-of-order",
        edit(KNEES_MD, "00:04 Patellar", "00:01 Patellar"),
        f"{KNEES_MD}: chapters: ",
        "chapter 3 ('Patellar tendinopathy') does not start after chapter 2",
    ),
    Case(
        "chapters-not-at-zero",
        edit(SHINS_MD, "00:00 Welcome", "00:01 Welcome"),
        f"{SHINS_MD}: chapters: ",
        "the first chapter must start at 00:00:00",
    ),
    Case(
        "chapters-past-the-end",
        edit(KNEES_MD, "00:08 Prevention", "00:30 Prevention"),
        f"{KNEES_MD}: chapters[4]: ",
        "starts at 00:00:30, but the audio ends at",
    ),
    Case(
        "chapter-bad-time",
        edit(SHINS_MD, "00:03 What", "3min What"),
        f"{SHINS_MD}: chapters[1].start: ",
        "'3min' is not a time",
    ),
    # --- across episodes
    Case(
        "duplicate-numbers",
        edit(SHINS_MD, "number: 2", "number: 1"),
        f"{KNEES_MD}: number: ",
        "episode 1 is also used by shin-splints-are-a-load-problem",
    ),
    Case(
        "serial-without-numbers",
        both(edit("show.yaml", "type: episodic", "type: serial"), edit(RETURN_MD, "number: 3\n", "")),
        f"{RETURN_MD}: number: ",
        "a serial show needs a number on every episode",
    ),
    # --- show settings
    Case(
        "bad-email",
        edit("show.yaml", "hello@stride-clinic.example.com", "hello at stride-clinic"),
        "show.yaml: owner.email: ",
        "'hello at stride-clinic' is not an email address",
    ),
    Case(
        "bad-language",
        edit("show.yaml", "language: en", "language: English"),
        "show.yaml: language: ",
        "'English' is not a language code",
    ),
    Case(
        "bad-url",
        edit("show.yaml", "url: https://stride-clinic.example.com/", "url: stride-clinic.example.com"),
        "show.yaml: url: ",
        "is not an http(s) URL",
    ),
    Case(
        "bad-guid",
        edit("show.yaml", "guid: 2b68fac3-3f08-53d8-a9e1-84dcc3f3d0d8", "guid: my-show"),
        "show.yaml: guid: ",
        "'my-show' is not a UUID",
    ),
    Case(
        "s3-without-bucket",
        edit("show.yaml", "target: local", "target: s3"),
        "show.yaml: publish: ",
        "target s3 needs a bucket",
    ),
    Case(
        "show-yaml-is-a-list",
        write("show.yaml", "- title: The Stride Clinic\n"),
        "show.yaml: ",
        "expected a mapping of settings",
    ),
    Case("show-yaml-empty", write("show.yaml", ""), "show.yaml: title: ", "is required but missing"),
    Case("show-yaml-missing", delete("show.yaml"), "show.yaml: ", "file not found"),
    Case(
        "show-yaml-too-large",
        write("show.yaml", "title: Big\n" + "# a comment line\n" * 20_000),
        "show.yaml: ",
        "file is too large",
    ),
    Case(
        "episodes-is-a-file",
        both(lambda root: shutil.rmtree(root / "episodes"), write("episodes", "oops\n")),
        "episodes: ",
        "folder",
    ),
    # --- artwork
    Case(
        "artwork-not-square",
        image("cover.jpg", (1400, 1000)),
        "show.yaml: artwork: ",
        "artwork is 1400×1000, not square (Crop the artwork to a square)",
    ),
    Case(
        "artwork-too-small",
        image("cover.jpg", (600, 600)),
        "show.yaml: artwork: ",
        "artwork is 600×600 px (needs 1400–3000)",
    ),
    Case(
        "artwork-with-transparency",
        rgba_png("cover.jpg"),
        "show.yaml: artwork: ",
        "artwork has an alpha channel (Save artwork in RGB colour without transparency",
    ),
    Case("artwork-missing", delete("cover.jpg"), "show.yaml: artwork: ", "image file 'cover.jpg' not found"),
    Case(
        "artwork-not-an-image",
        write("cover.jpg", "<html>not a picture</html>\n"),
        "show.yaml: artwork: ",
        "'cover.jpg' is not a JPEG or PNG image",
    ),
    Case(
        "episode-image-not-square",
        both(
            image(f"{RETURN}/cover.jpg", (1600, 1400)),
            edit(RETURN_MD, "audio: audio.mp3", "audio: audio.mp3\nimage: cover.jpg"),
        ),
        f"{RETURN_MD}: image: ",
        "artwork is 1600×1400, not square",
    ),
    Case(
        "host-photo-missing", delete("host.jpg"), "show.yaml: host.photo: ", "image file 'host.jpg' not found"
    ),
    # --- transcripts
    Case(
        "transcript-broken-timestamp",
        edit(f"{KNEES}/transcript.vtt", "00:00:02.000 --> 00:00:04.000", "00:00:02.000 --> 00:0x:04.000"),
        f"{KNEES}/transcript.vtt: cue 2: ",
        "is not a timestamp",
    ),
    Case(
        "transcript-ends-before-start",
        edit(f"{KNEES}/transcript.vtt", "00:00:04.000 --> 00:00:06.000", "00:00:04.000 --> 00:00:03.000"),
        f"{KNEES}/transcript.vtt: cue 3: ",
        "before it starts",
    ),
    Case(
        "transcript-no-header",
        edit(f"{KNEES}/transcript.vtt", "WEBVTT", "WEBSRT"),
        f"{KNEES}/transcript.vtt: ",
        "WEBVTT",
    ),
    Case(
        "transcript-not-utf8",
        write(f"{KNEES}/transcript.vtt", b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n\xff\xfe\n"),
        f"{KNEES}/transcript.vtt: ",
        "is not UTF-8 text",
    ),
    Case(
        "transcript-missing",
        delete(f"{KNEES}/transcript.vtt"),
        f"{KNEES_MD}: transcript: ",
        "transcript file 'transcript.vtt' not found",
    ),
    # --- issue 14 item 3: values at the edges, which check passed and build refused (or crashed on)
    Case(
        "date-overflows-utc-late",
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 9999-12-31T23:00:00-12:00"),
        f"{KNEES_MD}: date: ",
        "out of range",
    ),
    Case(
        "date-overflows-utc-year-1",
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 0001-01-01T00:00:00+01:00"),
        f"{KNEES_MD}: date: ",
        "out of range",
    ),
    Case(
        "chapter-start-inf",
        edit(KNEES_MD, "  - 00:02 Kneecap", "  - {start: .inf, title: Kneecap}\n  - 00:03 Kneecap"),
        f"{KNEES_MD}: chapters[1].start: ",
        "is not a time",
    ),
    Case(
        "chapter-start-nan",
        edit(KNEES_MD, "  - 00:02 Kneecap", "  - {start: .nan, title: Kneecap}\n  - 00:03 Kneecap"),
        f"{KNEES_MD}: chapters[1].start: ",
        "is not a time",
    ),
    Case(
        "number-30-digits",
        edit(KNEES_MD, "number: 1\n", "number: 123456789012345678901234567890\n"),
        f"{KNEES_MD}: line 4: ",
        "30 digits is too long",
    ),
    Case(
        "number-5000-digits",
        edit(KNEES_MD, "number: 1\n", "number: " + "9" * 5000 + "\n"),
        f"{KNEES_MD}: line 4: ",
        "5,000 digits is too long",
    ),
    Case(
        "number-past-mp4-tags",
        edit(KNEES_MD, "number: 1\n", "number: 65536\n"),
        f"{KNEES_MD}: number: ",
        "at most 65535",
    ),
    Case(
        "yaml-duplicate-key",
        edit("show.yaml", "language: en\n", "language: en\nlanguage: de\n"),
        "show.yaml: line ",
        "duplicate key 'language'",
    ),
    Case(
        "front-matter-duplicate-key",
        edit(KNEES_MD, "number: 1\n", "number: 1\nnumber: 2\n"),
        f"{KNEES_MD}: line 5: ",
        "duplicate key 'number'",
    ),
    Case(
        "guid-pinned-equals-derived",
        # the GUID the build derives for the knees episode, pinned on the shins episode
        edit(SHINS_MD, "audio: audio.wav", "audio: audio.wav\nguid: 24ca9aca-3cdf-52b4-8968-d98a50cc1ff0"),
        f"{SHINS_MD}: guid: ",
        "is also why-your-knees-hurt-when-you-run's",
    ),
    Case(
        "cover-truncated-jpeg",
        truncate("cover.jpg", 20_000),
        "show.yaml: artwork: ",
        "damaged or truncated",
    ),
    Case(
        "host-photo-bomb-header",
        both(write("host.png", _bomb_header_png()), edit("show.yaml", "photo: host.jpg", "photo: host.png")),
        "show.yaml: host.photo: ",
        "megapixels",
    ),
    Case(
        "summary-u-fffe",
        edit(KNEES_MD, "summary: >-", 'summary: "Knees \\uFFFE"\nx_summary: >-'),
        f"{KNEES_MD}: summary: ",
        "U+FFFE",
    ),
    Case(
        "notes-u-ffff",
        edit(KNEES_MD, "Knee pain is", "Knee \uffff pain is"),
        f"{KNEES_MD}: notes: ",
        "U+FFFF",
    ),
    # --- issue 14 item 4: unbounded inputs
    Case(
        "show-yaml-alias-bomb",
        edit("show.yaml", "copyright: Maya Okafor, CC BY 4.0", "copyright: Maya\n" + _BOMB),
        "show.yaml: line ",
        "aliases (*",
    ),
    Case(
        "front-matter-alias-bomb",
        edit(KNEES_MD, "season: 1\n", "season: 1\n" + _BOMB),
        f"{KNEES_MD}: line ",
        "aliases (*",
    ),
    # --- issue 14 item 5: links and URLs
    Case(
        "url-breaks-out-of-html",
        edit(
            "show.yaml", "url: https://stride-clinic.example.com/\n", "url: 'https://x.example/\"><script>'\n"
        ),
        "show.yaml: url: ",
        "is not a URL",
    ),
    Case(
        "public-base-url-script",
        edit(
            "show.yaml",
            "  path: public\n",
            "  path: public\n  public_base_url: 'https://cdn.example/<script>/'\n",
        ),
        "show.yaml: publish.public_base_url: ",
        "is not a URL",
    ),
    Case(
        "url-without-host",
        edit("show.yaml", "url: https://stride-clinic.example.com/\n", "url: https:///path/\n"),
        "show.yaml: url: ",
        "not an http(s) URL",
    ),
    Case(
        "bucket-name-invalid",
        edit("show.yaml", "  target: local\n  path: public\n", "  target: s3\n  bucket: My_Bucket\n"),
        "show.yaml: publish.bucket: ",
        "is not a valid bucket name",
    ),
]


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (None) under root, by relative path."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def _params() -> list[object]:
    out: list[object] = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


def test_the_corpus_is_big_and_unique() -> None:
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


def test_the_sample_show_is_clean(sample_show: Path) -> None:
    # every case below starts from this show, so each failure is caused by its one mutation
    result = CliRunner().invoke(
        cli, ["check", "--show", str(sample_show), "--now", NOW], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr == ""


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_one_clear_error_and_writes_nothing(sample_show: Path, case: Case) -> None:
    root = sample_show.parent
    case.mutate(root)
    before = snapshot(root)

    result = CliRunner().invoke(cli, ["check", "--show", str(sample_show), "--now", NOW])

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    assert result.exit_code == ExitCode.ERROR, result.output
    lines = result.stderr.splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith("Error: " + case.first), lines
    assert case.fragment in result.stderr, result.stderr
    assert lines[-1].startswith("Aborted: ") and lines[-1].endswith(".")
    assert all(line.startswith(("Error: ", "Warning: ", "Note: ", "Aborted: ")) for line in lines), lines
    assert len(result.stderr) < 5_000  # a 10 MB input is not echoed back
    assert result.stdout == ""
    assert snapshot(root) == before


# --------------------------------------------------------------------------- several problems in one run


def _check(sample_show: Path) -> tuple[list[str], int]:
    result = CliRunner().invoke(cli, ["check", "--show", str(sample_show), "--now", NOW])
    assert "Traceback" not in result.output
    return result.stderr.splitlines(), result.exit_code


def test_problems_in_several_episodes_are_all_reported(sample_show: Path) -> None:
    root = sample_show.parent
    both(
        write(f"{RETURN}/audio.mp3", "not audio\n" * 50),
        copy("cover.jpg", f"{SHINS}/audio.wav"),
        edit(f"{KNEES}/transcript.vtt", "00:00:02.000 -->", "00:00:0x.000 -->"),
    )(root)
    before = snapshot(root)
    lines, code = _check(sample_show)
    assert code == ExitCode.ERROR
    assert lines == [
        f"Error: {KNEES}/transcript.vtt: cue 2: line 6: '00:00:0x.000' is not a timestamp "
        "(write timestamps like 00:01:02.500)",
        f"Error: {SHINS}/audio.wav: not an audio file: it looks like a JPEG image "
        "(expected an MP3, M4A, WAV, FLAC or AIFF recording)",
        f"Error: {RETURN}/audio.mp3: not an audio file: it looks like text "
        "(expected an MP3, M4A, WAV, FLAC or AIFF recording)",
        "Aborted: 3 problems in 3 files.",
    ]
    assert snapshot(root) == before


def test_content_and_audio_problems_are_reported_together(sample_show: Path) -> None:
    root = sample_show.parent
    both(
        write(f"{RETURN}/audio.mp3", "not audio\n" * 50),
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 2025-03-04 07:00:00"),
    )(root)
    lines, code = _check(sample_show)
    assert code == ExitCode.ERROR
    assert any(line.startswith(f"Error: {KNEES_MD}: date: ") for line in lines), lines
    assert any(line.startswith(f"Error: {RETURN}/audio.mp3: not an audio file") for line in lines), lines
    assert lines[-1] == "Aborted: 2 problems in 2 files."


def test_show_and_episode_problems_are_reported_together(sample_show: Path) -> None:
    root = sample_show.parent
    both(
        edit("show.yaml", "language: en", "language: English"),
        edit(KNEES_MD, "date: 2025-03-04T07:00:00+00:00", "date: 2025-03-04 07:00:00"),
    )(root)
    lines, code = _check(sample_show)
    assert code == ExitCode.ERROR
    assert lines == [
        "Error: show.yaml: language: 'English' is not a language code (write e.g. en or en-US)",
        f"Error: {KNEES_MD}: date: '2025-03-04 07:00:00' has no time zone (write 2025-03-04T07:00:00+00:00)",
        "Aborted: 2 problems in 2 files.",
    ]
