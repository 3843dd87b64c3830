"""pipeline.audio against real ffmpeg output: probing, encoding, loudness, tags, chapters, artwork."""

from __future__ import annotations

import hashlib
import importlib
import io
import pkgutil
import shutil
from pathlib import Path

import mutagen
import pytest
from mutagen.id3 import ID3, TXXX, CTOCFlags
from mutagen.mp4 import MP4, MP4Cover
from PIL import Image

from pipeline import audio
from pipeline.errors import AudioError
from pipeline.progress import ListReporter

pytest.register_assert_rewrite("tests._audio_fixtures")  # it is a plugin here and a helper import below
pytest_plugins = ["tests._audio_fixtures"]  # audio_set, cover_png

from tests._audio_fixtures import AudioSet, chapter_seconds, ebur128, ffmetadata, make_audio  # noqa: E402


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------------
# probe
# ------------------------------------------------------------------------------------------------

PROBE_CASES = [
    # name, mime, container, codec, sample rate, channels, vbr
    ("wav", "audio/wav", "wav", "pcm_s16le", 44100, 2, False),
    ("wav_mono", "audio/wav", "wav", "pcm_s16le", 44100, 1, False),
    ("wav_48k", "audio/wav", "wav", "pcm_s16le", 48000, 2, False),
    ("flac", "audio/flac", "flac", "flac", 44100, 2, False),
    ("aiff", "audio/aiff", "aiff", "pcm_s16be", 44100, 2, False),
    ("mp3", "audio/mpeg", "mp3", "mp3", 44100, 2, False),
    ("mp3_mono", "audio/mpeg", "mp3", "mp3", 44100, 1, False),
    ("mp3_vbr", "audio/mpeg", "mp3", "mp3", 44100, 2, True),
    ("mp3_vbr_noxing", "audio/mpeg", "mp3", "mp3", 44100, 2, True),
    ("m4a", "audio/mp4", "m4a", "aac", 44100, 2, False),
    ("m4a_48k", "audio/mp4", "m4a", "aac", 48000, 2, False),
    ("flac_v1_tail", "audio/flac", "flac", "flac", 44100, 2, False),
    ("mp3_named_wav", "audio/mpeg", "mp3", "mp3", 44100, 2, False),
    ("m4a_named_mp3", "audio/mp4", "m4a", "aac", 44100, 2, False),
]


@pytest.mark.parametrize(("name", "mime", "container", "codec", "rate", "channels", "vbr"), PROBE_CASES)
def test_probe_reads_format_and_exact_duration(
    audio_set: AudioSet, name: str, mime: str, container: str, codec: str, rate: int, channels: int, vbr: bool
) -> None:
    info = audio.probe(audio_set[name])
    assert (info.mime, info.container, info.codec) == (mime, container, codec)
    assert (info.sample_rate, info.channels, info.vbr) == (rate, channels, vbr)
    assert info.size == audio_set[name].stat().st_size
    assert info.path == audio_set[name]
    # A VBR MP3 without a Xing header plays its encoder delay and padding (about 50 ms) as audio.
    assert abs(info.duration - audio_set.durations[name]) <= 0.05
    assert info.bitrate > 0


def test_probe_duration_excludes_encoder_delay_when_the_header_says(audio_set: AudioSet) -> None:
    # LAME/Lavc headers and MP4 edit lists record the priming samples; the duration leaves them out.
    assert audio.probe(audio_set["mp3"]).duration == pytest.approx(3.0, abs=0.001)
    assert audio.probe(audio_set["m4a"]).duration == pytest.approx(3.0, abs=0.001)


def test_probe_bitrate_of_cbr_mp3(audio_set: AudioSet) -> None:
    assert audio.probe(audio_set["mp3"]).bitrate == pytest.approx(128_000, rel=0.01)
    assert audio.probe(audio_set["mp3_mono"]).bitrate == pytest.approx(96_000, rel=0.01)


def test_probe_calls_a_video_a_video(audio_set: AudioSet) -> None:
    info = audio.probe(audio_set["video"])
    assert (info.container, info.mime) == ("mp4", "video/mp4")


BAD_INPUTS = [
    ("text_as_mp3", "looks like text"),
    ("jpeg_as_wav", "looks like a JPEG image"),
    ("empty", "empty"),
    ("truncated_wav", "ends early"),
    ("truncated_mp3", "ends early"),
    ("truncated_m4a", "ends early"),
    ("truncated_flac", "ends early"),
    ("truncated_flac_boundary", "ends early"),
    ("truncated_aiff", "ends early"),
    ("header_only_wav", "no audio data"),
    ("header_only_mp3", "ID3 tag"),
    ("header_only_m4a", "ends early"),
    ("header_only_flac", "cannot read this FLAC file"),
    ("header_only_aiff", "no audio data"),
]


@pytest.mark.parametrize(("name", "words"), BAD_INPUTS)
def test_probe_rejects_what_is_not_complete_audio(audio_set: AudioSet, name: str, words: str) -> None:
    path = audio_set[name]
    with pytest.raises(AudioError) as caught:
        audio.probe(path)
    err = caught.value
    assert err.file == path
    assert words in err.message
    assert err.hint  # every one says what to do
    assert str(err).startswith(f"{path}: ")
    assert "\n" not in str(err)


def test_probe_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not found"):
        audio.probe(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="folder"):
        audio.probe(tmp_path)


# ------------------------------------------------------------------------------------------------
# encode
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["wav", "flac", "aiff", "m4a_48k", "mp3_vbr", "wav_48k"])
@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_encode_to_delivery_defaults(audio_set: AudioSet, tmp_path: Path, source: str, fmt: str) -> None:
    result = audio.encode(audio_set[source], tmp_path / f"out.{fmt}", audio.EncodeSettings(format=fmt))
    info = audio.probe(tmp_path / f"out.{fmt}")
    assert result.action == "encode"
    assert result.info == info
    assert (info.container, info.codec) == {"mp3": ("mp3", "mp3"), "m4a": ("m4a", "aac")}[fmt]
    assert (info.sample_rate, info.channels) == (44100, 2)
    assert info.bitrate == pytest.approx(128_000, rel=0.05)
    assert not info.vbr
    assert abs(info.duration - audio_set.durations[source]) <= 0.05
    assert list(tmp_path.iterdir()) == [tmp_path / f"out.{fmt}"]  # no temp files left behind


def test_encode_mono_source_defaults_to_96k_mono(audio_set: AudioSet, tmp_path: Path) -> None:
    info = audio.encode(audio_set["wav_mono"], tmp_path / "out.mp3", audio.EncodeSettings()).info
    assert (info.channels, info.sample_rate) == (1, 44100)
    assert info.bitrate == pytest.approx(96_000, rel=0.02)


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_encode_downmix_keeps_the_level_of_dual_mono(audio_set: AudioSet, tmp_path: Path, fmt: str) -> None:
    # Identical left and right channels averaged to one: the channel keeps its level, so the file measures
    # 3 LU below the stereo version (one channel instead of two). ffmpeg's default matrix would add 3 dB.
    stereo = audio.encode(audio_set["wav"], tmp_path / f"stereo.{fmt}", audio.EncodeSettings(format=fmt))
    mono = audio.encode(
        audio_set["wav"], tmp_path / f"mono.{fmt}", audio.EncodeSettings(format=fmt, channels=1)
    )
    assert mono.info.channels == 1
    difference = ebur128(mono.path).integrated - ebur128(stereo.path).integrated
    assert difference == pytest.approx(-3.0, abs=0.3)


def test_encode_explicit_bitrate(audio_set: AudioSet, tmp_path: Path) -> None:
    info = audio.encode(audio_set["wav"], tmp_path / "out.mp3", audio.EncodeSettings(bitrate=64)).info
    assert info.bitrate == pytest.approx(64_000, rel=0.02)


@pytest.mark.parametrize(("source", "fmt"), [("mp3", "mp3"), ("m4a", "m4a"), ("mp3_mono", "mp3")])
def test_encode_passes_delivery_format_through_byte_for_byte(
    audio_set: AudioSet, tmp_path: Path, source: str, fmt: str
) -> None:
    settings = audio.EncodeSettings(format=fmt)
    assert audio.plan_encode(audio.probe(audio_set[source]), settings) == "copy"
    result = audio.encode(audio_set[source], tmp_path / f"out.{fmt}", settings)
    assert result.action == "copy"
    assert (tmp_path / f"out.{fmt}").read_bytes() == audio_set[source].read_bytes()


@pytest.mark.parametrize(
    ("source", "settings"),
    [
        ("mp3", audio.EncodeSettings(loudness=-16.0)),  # a loudness target always re-encodes
        ("mp3", audio.EncodeSettings(bitrate=64)),
        ("mp3", audio.EncodeSettings(sample_rate=48000)),
        ("mp3", audio.EncodeSettings(channels=1)),
        ("mp3", audio.EncodeSettings(format="m4a")),
        ("mp3_vbr", audio.EncodeSettings()),  # VBR MP3 seeks badly in some apps
        ("m4a_48k", audio.EncodeSettings(format="m4a")),
        ("wav", audio.EncodeSettings()),
    ],
)
def test_plan_encode_reencodes_when_not_deliverable(
    audio_set: AudioSet, source: str, settings: audio.EncodeSettings
) -> None:
    assert audio.plan_encode(audio.probe(audio_set[source]), settings) == "encode"


@pytest.mark.parametrize(
    ("source", "fmt", "loudness"),
    [
        ("noise", "mp3", None),
        ("noise", "m4a", None),
        ("noise", "mp3", -16.0),
        ("noise", "m4a", -16.0),
        ("speech", "mp3", -16.0),  # corrective passes with the limiter
    ],
)
def test_encode_is_deterministic(
    audio_set: AudioSet, tmp_path: Path, source: str, fmt: str, loudness: float | None
) -> None:
    settings = audio.EncodeSettings(format=fmt, loudness=loudness)
    first = audio.encode(audio_set[source], tmp_path / f"a.{fmt}", settings)
    second = audio.encode(audio_set[source], tmp_path / f"b.{fmt}", settings)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert (first.passes, first.delivered) == (second.passes, second.delivered)


def test_encode_reports_progress_in_seconds(audio_set: AudioSet, tmp_path: Path) -> None:
    reporter = ListReporter()
    result = audio.encode(
        audio_set["noise"], tmp_path / "out.mp3", audio.EncodeSettings(loudness=-16), reporter=reporter
    )
    # Measure the source, encode, measure the encoded file; then, per corrective pass, encode and measure again.
    corrective = [
        ("Correcting loudness of noise.wav", 4.0, "s"),
        ("Checking loudness of noise.wav", 4.0, "s"),
    ]
    assert reporter.tasks == [
        ("Measuring loudness of noise.wav", 4.0, "s"),
        ("Encoding noise.wav", 4.0, "s"),
        ("Checking loudness of noise.wav", 4.0, "s"),
        *corrective * (result.passes - 1),
    ]
    assert 1 <= result.passes <= 3


def test_encode_without_loudness_target_runs_one_pass(audio_set: AudioSet, tmp_path: Path) -> None:
    reporter = ListReporter()
    result = audio.encode(audio_set["noise"], tmp_path / "out.mp3", audio.EncodeSettings(), reporter=reporter)
    assert reporter.tasks == [("Encoding noise.wav", 4.0, "s")]
    assert (result.passes, result.measured, result.delivered, result.normalization) == (0, None, None, None)


def test_encode_leaves_no_output_when_the_source_is_bad(audio_set: AudioSet, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="ends early"):
        audio.encode(audio_set["truncated_wav"], tmp_path / "out.mp3", audio.EncodeSettings())
    assert list(tmp_path.iterdir()) == []


def test_encode_ffmpeg_failure_names_the_file_and_ffmpeg_reason(audio_set: AudioSet, tmp_path: Path) -> None:
    # A WAV header claiming 40-bit PCM: our header checks pass, ffmpeg has no decoder for it.
    data = bytearray(audio_set["wav"].read_bytes())
    fmt = data.index(b"fmt ")
    data[fmt + 22 : fmt + 24] = (40).to_bytes(2, "little")
    odd = tmp_path / "odd.wav"
    odd.write_bytes(bytes(data))
    with pytest.raises(AudioError) as caught:
        audio.encode(odd, tmp_path / "out" / "odd.mp3", audio.EncodeSettings())
    err = caught.value
    assert err.file == odd
    assert err.message.startswith("ffmpeg could not encode to mp3: ")
    assert "decoder" in err.message  # ffmpeg's own reason, not its "Conversion failed!" epilogue
    assert list((tmp_path / "out").iterdir()) == []


def test_encode_refuses_to_overwrite_its_source(audio_set: AudioSet, tmp_path: Path) -> None:
    src = shutil.copy(audio_set["wav"], tmp_path / "a.wav")
    before = sha256(Path(src))
    with pytest.raises(AudioError, match="over itself"):
        audio.encode(Path(src), Path(src), audio.EncodeSettings())
    assert sha256(Path(src)) == before


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (audio.EncodeSettings(format="ogg"), "audio.format"),
        (audio.EncodeSettings(channels=6), "audio.channels"),
        (audio.EncodeSettings(sample_rate=96000), "audio.sample_rate"),
        (audio.EncodeSettings(bitrate=8), "audio.bitrate"),
        (audio.EncodeSettings(loudness=3.0), "audio.loudness"),
        (audio.EncodeSettings(loudness=-16, true_peak=2.0), "audio.true_peak"),
    ],
)
def test_encode_settings_are_checked(audio_set: AudioSet, settings: audio.EncodeSettings, field: str) -> None:
    with pytest.raises(AudioError) as caught:
        audio.plan_encode(audio.probe(audio_set["wav"]), settings)
    assert caught.value.field == field


# ------------------------------------------------------------------------------------------------
# loudness (checked with ffmpeg's ebur128 filter, not with measure_loudness)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["quiet_mono", "noise", "wav"])
@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_normalise_to_minus_16_lufs(audio_set: AudioSet, tmp_path: Path, source: str, fmt: str) -> None:
    before = ebur128(audio_set[source])
    assert abs(before.integrated + 16) > 3  # the fixture is not already at the target
    result = audio.encode(
        audio_set[source], tmp_path / f"out.{fmt}", audio.EncodeSettings(format=fmt, loudness=-16)
    )
    after = ebur128(result.path)
    # Measured on the delivered file: the spec allows 1 LU; we land within 0.5 (MP3 alone costs ~0.45 LU).
    assert after.integrated == pytest.approx(-16.0, abs=0.5)
    assert after.true_peak <= -1.0
    assert result.normalization == "linear"
    assert result.measured is not None
    assert result.measured.integrated == pytest.approx(before.integrated, abs=0.5)
    assert result.delivered is not None  # what encode measured on the file it delivered
    assert result.delivered.integrated == pytest.approx(after.integrated, abs=0.2)
    assert result.delivered.true_peak == pytest.approx(after.true_peak, abs=0.3)


@pytest.mark.parametrize("fmt", ["mp3", "m4a"])
def test_normalise_limits_true_peak_of_peaky_audio(audio_set: AudioSet, tmp_path: Path, fmt: str) -> None:
    result = audio.encode(
        audio_set["peaky"], tmp_path / f"out.{fmt}", audio.EncodeSettings(format=fmt, loudness=-16)
    )
    after = ebur128(result.path)
    assert result.normalization == "dynamic"  # a plain gain would push the bursts far over 0 dBTP
    assert after.true_peak <= -1.0
    assert after.integrated == pytest.approx(-16.0, abs=0.5)


# AAC at a -2 dBTP ceiling is left out: the AAC encoder's overshoot grows with the limiting (0.2 to 1 dB here),
# so within two corrective passes only the first, 2 LU short, stays under the ceiling.
@pytest.mark.parametrize(("fmt", "ceiling"), [("mp3", -1.0), ("m4a", -1.0), ("mp3", -2.0)])
def test_normalise_speech_like_audio_lands_on_target(
    audio_set: AudioSet, tmp_path: Path, fmt: str, ceiling: float
) -> None:
    # Peaky speech needs its peaks limited by ~5 dB to reach -16 LUFS: the limiter takes back loudness and the
    # codec moves it again, so one pass lands about 1.5 LU short; corrective passes bring it onto the target.
    before = ebur128(audio_set["speech"])
    assert before.true_peak + (-16 - before.integrated) > ceiling + 4  # a plain gain would overshoot by 4 dB+
    settings = audio.EncodeSettings(format=fmt, loudness=-16, true_peak=ceiling)
    result = audio.encode(audio_set["speech"], tmp_path / f"out.{fmt}", settings)
    after = ebur128(result.path)
    assert result.normalization == "dynamic"
    assert after.true_peak <= ceiling
    assert after.integrated == pytest.approx(-16.0, abs=0.5)  # the spec allows 1 LU
    assert result.passes > 1
    assert result.info.duration == pytest.approx(5.0, abs=0.01)  # the limiter's lookahead adds no delay


SAMPLE_EPISODES = sorted((Path(__file__).resolve().parent.parent / "episodes").glob("*/audio.*"))


@pytest.mark.parametrize("source", SAMPLE_EPISODES, ids=[p.parent.name for p in SAMPLE_EPISODES])
def test_normalise_real_speech_of_the_sample_show(source: Path, tmp_path: Path) -> None:
    # The sample show's episodes are synthesised speech (MP3, WAV and FLAC, 6-15 s) with the show's settings.
    result = audio.encode(source, tmp_path / "out.mp3", audio.EncodeSettings(loudness=-16))
    after = ebur128(result.path)
    assert after.true_peak <= -1.0
    assert after.integrated == pytest.approx(-16.0, abs=0.5)


def test_measure_loudness_agrees_with_ebur128(audio_set: AudioSet) -> None:
    measured = audio.measure_loudness(audio_set["noise"])
    reference = ebur128(audio_set["noise"])
    assert measured.integrated == pytest.approx(reference.integrated, abs=0.2)
    assert measured.true_peak == pytest.approx(reference.true_peak, abs=0.3)
    assert measured.threshold < measured.integrated


def test_silence_cannot_be_normalised(audio_set: AudioSet, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="silent"):
        audio.encode(audio_set["silence"], tmp_path / "out.mp3", audio.EncodeSettings(loudness=-16))


# ------------------------------------------------------------------------------------------------
# tags
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cover(cover_png: Path) -> bytes:
    return audio.cover_jpeg(cover_png)


def make_spec(
    cover: bytes | None = None, *, chapter_image: bytes | None = None, **changes: object
) -> audio.TagSpec:
    spec = audio.TagSpec(
        title="Why your knees hurt",
        author="Ann Host",
        show="Run Better",
        date="2024-05-01T09:00:00+01:00",
        description="Knees, shoes and the long run. " * 12,
        episode=12,
        season=2,
        cover=cover,
        feed_url="https://pod.example.com/feed.xml",
        page_url="https://pod.example.com/episodes/knees/",
        chapters=(
            audio.ChapterMark(0.0, "Intro = hello"),
            audio.ChapterMark(1.0, "Shoes; and why", url="https://example.com/shoes", image=chapter_image),
            audio.ChapterMark(2.25, "Outro"),
        ),
    )
    return audio.TagSpec(**{**spec.__dict__, **changes})  # type: ignore[arg-type]


@pytest.fixture
def built_mp3(audio_set: AudioSet, tmp_path: Path) -> Path:
    return audio.encode(audio_set["wav"], tmp_path / "build" / "knees.mp3", audio.EncodeSettings()).path


@pytest.fixture
def built_m4a(audio_set: AudioSet, tmp_path: Path) -> Path:
    return audio.encode(
        audio_set["wav"], tmp_path / "build" / "knees.m4a", audio.EncodeSettings(format="m4a")
    ).path


def assert_ffmpeg_reads(path: Path, *, track: str = "12", disc: str = "2") -> list[dict[str, str]]:
    tags, chapters = ffmetadata(path)
    assert tags["title"] == "Why your knees hurt"
    assert tags["artist"] == "Ann Host"
    assert tags["album"] == "Run Better"
    assert tags["genre"] == "Podcast"
    assert tags["track"] == track
    assert tags["disc"] == disc
    assert tags["date"].startswith("2024-05-01")
    assert [c["title"] for c in chapters] == ["Intro = hello", "Shoes; and why", "Outro"]
    # ffmpeg moves MP3 chapter times by the decoder delay (about 25 ms), hence the tolerance.
    expected = [(0.0, 1.0), (1.0, 2.25), (2.25, 3.0)]
    for chapter, (start, end) in zip(chapters, expected, strict=True):
        got_start, got_end = chapter_seconds(chapter)
        assert got_start == pytest.approx(start, abs=0.05)
        assert got_end == pytest.approx(end, abs=0.05)
    return chapters


def assert_jpeg(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.mode) == ("JPEG", "RGB")


def test_mp3_tags_id3v24(built_mp3: Path, cover: bytes) -> None:
    audio.write_tags(built_mp3, make_spec(cover))
    tags = ID3(built_mp3)
    assert tags.version == (2, 4, 0)
    assert str(tags["TIT2"]) == "Why your knees hurt"
    assert str(tags["TPE1"]) == "Ann Host"
    assert str(tags["TALB"]) == "Run Better"
    assert str(tags["TCON"]) == "Podcast"
    assert str(tags["TRCK"]) == "12"
    assert str(tags["TPOS"]) == "2"
    assert str(tags["TDRC"]) == "2024-05-01 08:00:00"  # UTC: ID3 has no time zone field
    assert b"2024-05-01T08:00:00" in built_mp3.read_bytes()[:4096]  # on disk in the ISO form ID3v2.4 wants
    assert str(tags["TDES"]).startswith("Knees, shoes")
    assert tags.getall("COMM")[0].text[0].startswith("Knees, shoes")
    assert tags["WOAS"].url == "https://pod.example.com/episodes/knees/"
    assert tags["WFED"].url == "https://pod.example.com/feed.xml"
    assert tags["PCST"].value == 1
    (picture,) = tags.getall("APIC")
    assert picture.mime == "image/jpeg" and picture.type == 3
    assert_jpeg(picture.data)
    (toc,) = tags.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["chp0", "chp1", "chp2"]
    chaps = tags.getall("CHAP")
    assert [(c.element_id, c.start_time, c.end_time) for c in chaps] == [
        ("chp0", 0, 1000),
        ("chp1", 1000, 2250),
        ("chp2", 2250, 3000),
    ]
    assert str(chaps[1].sub_frames["TIT2"]) == "Shoes; and why"
    assert chaps[1].sub_frames.getall("WXXX")[0].url == "https://example.com/shoes"
    assert_ffmpeg_reads(built_mp3)
    assert audio.probe(built_mp3).duration == pytest.approx(3.0, abs=0.001)


def test_mp3_tags_id3v23_with_chapter_images(built_mp3: Path, cover: bytes) -> None:
    audio.write_tags(built_mp3, make_spec(cover, chapter_image=cover, id3_version=3))
    tags = ID3(built_mp3, translate=False)
    assert tags.version == (2, 3, 0)
    assert (str(tags["TYER"]), str(tags["TDAT"]), str(tags["TIME"])) == ("2024", "0105", "0800")
    assert "TDRC" not in tags
    assert_jpeg(tags.getall("APIC")[0].data)
    assert_jpeg(tags.getall("CHAP")[1].sub_frames.getall("APIC")[0].data)
    assert_ffmpeg_reads(built_mp3)


def test_m4a_tags_and_chapters(built_m4a: Path, cover: bytes) -> None:
    audio.write_tags(built_m4a, make_spec(cover))
    tags = MP4(built_m4a).tags
    assert tags is not None
    assert tags["\xa9nam"] == ["Why your knees hurt"]
    assert tags["\xa9ART"] == ["Ann Host"]
    assert tags["\xa9alb"] == ["Run Better"]
    assert tags["\xa9gen"] == ["Podcast"]
    assert tags["\xa9day"] == ["2024-05-01T08:00:00"]
    assert tags["trkn"] == [(12, 0)]
    assert tags["disk"] == [(2, 0)]
    assert tags["ldes"][0].startswith("Knees, shoes")
    assert len(tags["desc"][0]) <= 255
    assert tags["purl"] == ["https://pod.example.com/feed.xml"]
    assert tags["pcst"] is True
    (art,) = tags["covr"]
    assert art.imageformat == MP4Cover.FORMAT_JPEG
    assert_jpeg(bytes(art))
    assert_ffmpeg_reads(built_m4a)
    assert audio.probe(built_m4a).duration == pytest.approx(3.0, abs=0.001)


@pytest.mark.parametrize("fixture", ["built_mp3", "built_m4a"])
def test_tags_are_deterministic(
    request: pytest.FixtureRequest, fixture: str, cover: bytes, tmp_path: Path
) -> None:
    path: Path = request.getfixturevalue(fixture)
    other = Path(shutil.copy(path, tmp_path / f"other{path.suffix}"))
    audio.write_tags(path, make_spec(cover))
    first = path.read_bytes()
    audio.write_tags(path, make_spec(cover))  # again, over its own tags
    assert path.read_bytes() == first
    audio.write_tags(other, make_spec(cover))  # a separate copy of the same audio
    assert other.read_bytes() == first


def test_retagging_replaces_everything(built_mp3: Path, cover: bytes, tmp_path: Path) -> None:
    clean = Path(shutil.copy(built_mp3, tmp_path / "clean.mp3"))
    # Junk from a previous tool: a TXXX frame, a v1 tag at the end.
    junk = mutagen.File(built_mp3)
    junk.add_tags()
    junk.tags.add(TXXX(encoding=3, desc="junk", text=["x" * 500]))
    junk.save(v1=2)
    audio.write_tags(built_mp3, make_spec(cover))
    audio.write_tags(clean, make_spec(cover))
    assert built_mp3.read_bytes() == clean.read_bytes()


def test_m4a_retag_without_chapters_removes_them(built_m4a: Path) -> None:
    audio.write_tags(built_m4a, make_spec(None))
    assert len(ffmetadata(built_m4a)[1]) == 3
    audio.write_tags(built_m4a, make_spec(None, chapters=()))
    assert ffmetadata(built_m4a)[1] == []
    assert "covr" not in (MP4(built_m4a).tags or {})


def test_tagging_the_build_copy_leaves_the_source_alone(
    audio_set: AudioSet, tmp_path: Path, cover: bytes
) -> None:
    source = Path(shutil.copy(audio_set["mp3"], tmp_path / "source.mp3"))
    before = audio.file_digest(source)
    result = audio.encode(source, tmp_path / "public" / "ep.mp3", audio.EncodeSettings())
    assert result.action == "copy"
    audio.write_tags(result.path, make_spec(cover))
    assert audio.file_digest(source) == before
    assert audio.file_digest(result.path) != before


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"date": "May 1st"}, "date", "ISO 8601"),
        ({"id3_version": 2}, "audio.id3_version", "3 or 4"),
        ({"title": " "}, "title", "empty"),
        ({"episode": -1}, "episode", "whole number"),
        ({"cover": b"GIF89a"}, "cover", "JPEG or PNG"),
        ({"chapters": (audio.ChapterMark(0.5, "Late"),)}, "chapters[0]", "00:00:00"),
        ({"chapters": (audio.ChapterMark(0, "A"), audio.ChapterMark(9.0, "B"))}, "chapters[1]", "audio ends"),
    ],
)
def test_write_tags_rejects_bad_specs(
    built_mp3: Path, changes: dict[str, object], field: str, words: str
) -> None:
    before = sha256(built_mp3)
    with pytest.raises(AudioError) as caught:
        audio.write_tags(built_mp3, make_spec(**{"cover": None, **changes}))
    assert caught.value.field == field
    assert words in caught.value.message
    assert sha256(built_mp3) == before


def test_write_tags_only_tags_mp3_and_m4a(audio_set: AudioSet, tmp_path: Path) -> None:
    wav = Path(shutil.copy(audio_set["wav"], tmp_path / "a.wav"))
    with pytest.raises(AudioError, match="cannot tag a WAV file") as caught:
        audio.write_tags(wav, make_spec(None))
    assert caught.value.file == wav
    text = Path(shutil.copy(audio_set["text_as_mp3"], tmp_path / "n.mp3"))
    with pytest.raises(AudioError, match="not an audio file"):
        audio.write_tags(text, make_spec(None))


# ------------------------------------------------------------------------------------------------
# chapters
# ------------------------------------------------------------------------------------------------


def test_check_chapters_accepts_a_good_list() -> None:
    assert audio.check_chapters([0, 60, 125.5], 3600) == []


def test_check_chapters_reports_every_problem_with_its_index() -> None:
    problems = audio.check_chapters([5, 3, 3, 4000, -1], 3600)
    fields = [(p.field, p.message) for p in problems]
    assert fields == [
        ("chapters[0]", "the first chapter starts at 00:00:05, not 00:00:00"),
        ("chapters[1]", "starts at 00:00:03, not after the chapter before it (00:00:05)"),
        ("chapters[2]", "starts at 00:00:03, not after the chapter before it (00:00:03)"),
        ("chapters[3]", "starts at 01:06:40, but the audio ends at 01:00:00"),
        ("chapters[4]", "start -1 is not a time in the audio"),
    ]
    assert all(p.hint for p in problems[:4])


def test_close_chapters_derives_ends() -> None:
    marks = audio.close_chapters([audio.ChapterMark(0, "A"), audio.ChapterMark(61.5, "B")], 120.25)
    assert [(m.start, m.end) for m in marks] == [(0, 61.5), (61.5, 120.25)]
    with pytest.raises(AudioError) as caught:
        audio.close_chapters([audio.ChapterMark(1, "A")], 10)
    assert caught.value.field == "chapters[0]"


# ------------------------------------------------------------------------------------------------
# artwork, versions, digests
# ------------------------------------------------------------------------------------------------


def test_cover_jpeg_shrinks_and_flattens(cover_png: Path) -> None:
    data = audio.cover_jpeg(cover_png)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.mode) == ("JPEG", "RGB")
        assert image.size == (1400, 1050)
        assert image.getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)  # transparent -> white
    assert audio.cover_jpeg(cover_png) == data
    assert max(Image.open(io.BytesIO(audio.cover_jpeg(cover_png, max_px=300))).size) == 300


def test_cover_jpeg_keeps_a_small_jpeg_as_is(tmp_path: Path) -> None:
    path = tmp_path / "small.jpg"
    Image.effect_noise((600, 600), 64).convert("RGB").save(path, "JPEG", quality=60)  # photo-like detail
    assert audio.cover_jpeg(path) == path.read_bytes()


def test_cover_jpeg_converts_cmyk(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (100, 100), (0, 100, 100, 0)).save(path, "JPEG")
    with Image.open(io.BytesIO(audio.cover_jpeg(path))) as image:
        assert image.mode == "RGB"


def test_cover_jpeg_rejects_non_images(audio_set: AudioSet, tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not an image") as caught:
        audio.cover_jpeg(audio_set["wav"])
    assert caught.value.file == audio_set["wav"]
    with pytest.raises(AudioError, match="cannot read image"):
        audio.cover_jpeg(tmp_path / "missing.png")


def test_file_digest_streams_any_size(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * (3 * 4096 + 1))  # a little over 3 MiB: several chunks and a tail
    assert audio.file_digest(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert audio.file_digest(empty) == hashlib.sha256(b"").hexdigest()


def test_tool_versions_names_the_tools() -> None:
    versions = audio.tool_versions()
    assert versions.startswith("ffmpeg ")
    assert f"mutagen {mutagen.version_string}" in versions
    assert f"recipe {audio.RECIPE_VERSION}" in versions


def test_make_audio_helper_is_what_it_says(tmp_path: Path) -> None:
    # Guard for the fixtures themselves: generated files have the requested layout.
    path = make_audio(tmp_path / "x.flac", codec="flac", channels=1, rate=22050, seconds=1.0)
    info = audio.probe(path)
    assert (info.channels, info.sample_rate, info.duration) == (1, 22050, 1.0)


def test_the_package_shows_its_public_names_and_shadows_none_of_its_modules() -> None:
    # `from pipeline.audio import probe` must give the function and `pipeline.audio.probing` the module:
    # a submodule named like a function it defines would be hidden behind that function.
    modules = {info.name for info in pkgutil.iter_modules(audio.__path__)}
    for name in modules:
        module = importlib.import_module(f"pipeline.audio.{name}")
        assert getattr(audio, name) is module, name
    public = {name for name in vars(audio) if not name.startswith("_") and name not in modules}
    assert public - {"annotations"} == set(audio.__all__)
    assert {"probe", "encode", "write_tags", "measure_loudness", "cover_jpeg", "tool_versions"} <= public
