"""One build: model -> audio -> feed + pages -> the build folder, reusing every unchanged piece of work."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import __version__, alternates, audio, model, notes, rules, transcript, urls
from pipeline.artifacts import BuiltAudio, BuiltEpisode, BuiltImage, EpisodeRecord, Loudness, Transcript
from pipeline.cache import CACHE_VERSION, FeedFragments, StatCache
from pipeline.cache import key as _key
from pipeline.errors import AudioError, ContentError, PipelineError
from pipeline.manifest import Kind, Output
from pipeline.progress import NullReporter, Reporter

CACHE_DIR = ".podcast-cache"
BUILD_DIR = "build"
BUILD_INFO_KEY = ".podcast/build.json"  # inside the build folder; never published
MIME_EXT = {"audio/mpeg": "mp3", "audio/mp4": "m4a"}
IMAGE_MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


# --------------------------------------------------------------------------- caches


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BuildResult:
    show: model.Show
    episodes: tuple[model.Episode, ...]  # everything loaded
    public: tuple[BuiltEpisode, ...]  # what listeners see, newest first
    outputs: tuple[Output, ...]
    out_dir: Path
    artwork_url: str
    encoded: int
    tagged: int
    reused: int
    written: int
    removed: int
    artwork_sizes: tuple[BuiltImage, ...] = ()  # the show artwork's sizes (podcast:images on the channel)


# --------------------------------------------------------------------------- the audio stage


def encode_settings(show: model.Show) -> audio.EncodeSettings:
    a = show.audio
    return audio.EncodeSettings(
        format=a.format,
        bitrate=a.bitrate,
        channels=a.channels,
        sample_rate=a.sample_rate,
        loudness=a.loudness,
        true_peak=a.true_peak,
    )


def tag_spec(
    show: model.Show,
    ep: model.Episode,
    duration: float,
    cover: bytes | None,
    rendered: notes.Notes | None = None,
) -> audio.TagSpec:
    """Everything written into the file's tags, from the model (the table lives in audio.py).

    `rendered` is the episode's notes as the build rendered them once; without it they are rendered here.
    """
    marks = []
    for i, ch in enumerate(ep.chapters):
        end = ep.chapters[i + 1].start if i + 1 < len(ep.chapters) else duration
        marks.append(audio.ChapterMark(start=ch.start, end=end, title=ch.title, url=ch.url))
    description = ep.summary or (rendered or notes.render_notes(ep.notes)).summary
    return audio.TagSpec(
        title=ep.title,
        author=show.author,
        show=show.title,
        episode=ep.number,
        season=ep.season,
        date=ep.date.isoformat(),
        description=description,
        cover=cover,
        feed_url=show.feed_url,
        page_url=urls.page_url(show, ep),
        chapters=tuple(marks),
        id3_version=show.audio.id3_version,
    )


class AudioStage:
    """Encode (or pass through) and tag each episode into the cache; re-do only what changed."""

    def __init__(self, show: model.Show, cache_dir: Path, stat: StatCache, reporter: Reporter) -> None:
        self.show, self.cache_dir, self.stat, self.reporter = show, cache_dir, stat, reporter
        self.settings = encode_settings(show)
        self._settings_dict = dataclasses.asdict(self.settings)
        self._tools: str | None = None
        self.encoded = self.tagged = self.reused = 0
        self._covers: dict[Path, bytes] = {}

    @property
    def tools(self) -> str:
        if self._tools is None:
            self._tools = audio.tool_versions()
        return self._tools

    def cover(self, ep: model.Episode) -> bytes:
        path = ep.image or self.show.artwork
        if path not in self._covers:
            self._covers[path] = audio.cover_jpeg(path)
        return self._covers[path]

    def build(self, ep: model.Episode, rendered: dict[str, notes.Notes] | None = None) -> BuiltAudio:
        """The episode's delivery file; notes rendered for its tags are left in `rendered` by slug."""
        assert ep.audio is not None
        rel = model.show_rel(self.show.root, ep.audio)
        src_digest = self.stat.digest(ep.audio)
        art = ep.image or self.show.artwork
        art_digest = self.stat.digest(art)
        fmt = self.settings.format
        # ffmpeg, mutagen and Pillow versions and audio's recipe number are in both keys, so a new tool or
        # recipe re-encodes and re-tags (`ffmpeg -version` runs once per build; no audio is read for it).
        enc_key = _key(_key("encode", src_digest, self._settings_dict, "v1"), self.tools)
        meta_key = _key("tag", enc_key, self._tag_inputs(ep), art_digest, "v1")
        final = self.cache_dir / "media" / f"{meta_key}.{fmt}"
        info_file = final.with_suffix(".json")
        try:
            cached = json.loads(info_file.read_text())
        except (OSError, ValueError):
            cached = None
        if cached is not None and final.is_file():
            self.reused += 1
            return self._built(ep, final, cached, reused=True)
        encoded = self.cache_dir / "encoded" / f"{enc_key}.{fmt}"
        enc_info = encoded.with_suffix(".json")
        if not (encoded.is_file() and enc_info.is_file()):
            self.reporter.step(f"Encoding {rel}")
            try:
                result = audio.encode(ep.audio, encoded, self.settings, reporter=self.reporter)
            except AudioError as err:
                err.file = rel
                raise
            loud = result.delivered or audio.measure_loudness(
                encoded
            )  # normalised files were measured already
            enc_info.write_text(
                json.dumps(
                    {
                        "duration": result.info.duration,
                        "mime": result.info.mime,
                        "action": result.action,
                        "loudness": dataclasses.asdict(Loudness(loud.integrated, loud.lra, loud.true_peak)),
                    }
                )
            )
            self.encoded += 1
        meta = json.loads(enc_info.read_text())
        duration = float(meta["duration"])
        for p in rules.chapter_problems([ch.start for ch in ep.chapters], duration):
            raise ContentError(
                p.message, file=model.show_rel(self.show.root, ep.source), field=p.field, hint=p.hint
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_suffix(".tagging" + final.suffix)
        shutil.copyfile(encoded, tmp)
        rendered = {} if rendered is None else rendered
        if ep.slug not in rendered:
            rendered[ep.slug] = notes.render_notes(ep.notes)
        audio.write_tags(tmp, tag_spec(self.show, ep, duration, self.cover(ep), rendered[ep.slug]))
        os.replace(tmp, final)
        meta["sha256"] = audio.file_digest(final)
        meta["size"] = final.stat().st_size
        info_file.write_text(json.dumps(meta, sort_keys=True))
        self.tagged += 1
        return self._built(ep, final, meta, reused=False)

    def _tag_inputs(self, ep: model.Episode) -> dict[str, object]:
        return {
            "title": ep.title,
            "number": ep.number,
            "season": ep.season,
            "date": ep.date.isoformat(),
            "summary": ep.summary,
            "notes": hashlib.sha256(ep.notes.encode()).hexdigest(),
            "chapters": [c.model_dump(mode="json") for c in ep.chapters],
            "show": [self.show.title, self.show.author, self.show.feed_url],
            "page": urls.page_url(self.show, ep),
            "id3": self.show.audio.id3_version,
        }

    def _built(self, ep: model.Episode, path: Path, meta: dict[str, object], *, reused: bool) -> BuiltAudio:
        ext = MIME_EXT[str(meta["mime"])]
        key = urls.audio_key(ep, str(meta["sha256"]), ext)
        return BuiltAudio(
            path=path,
            key=key,
            url=urls.url(self.show, key),
            size=int(meta["size"]),  # type: ignore[call-overload]
            mime=str(meta["mime"]),
            duration=float(meta["duration"]),  # type: ignore[arg-type]
            sha256=str(meta["sha256"]),
            loudness=Loudness.from_json(meta.get("loudness")),
            reused=reused,
        )


# --------------------------------------------------------------------------- assets


def _image_output(show: model.Show, ep: model.Episode | None, path: Path, stat: StatCache) -> Output:
    ext = path.suffix.lower().lstrip(".").replace("jpeg", "jpg")
    key = urls.image_key(ep, stat.digest(path), ext)
    return Output(key, path, Kind.ASSET, IMAGE_MIME[path.suffix.lower()], immutable=True)


def _named_asset(show: model.Show, ep: model.Episode | None, path: Path, stat: StatCache) -> Output:
    name = path.name.lower() if path.suffix.lower() != ".jpeg" else path.stem.lower() + ".jpg"
    key = urls.asset_key(ep, stat.digest(path), name)
    return Output(key, path, Kind.ASSET, IMAGE_MIME[path.suffix.lower()], immutable=True)


def chapters_json(show: model.Show, ep: model.Episode, images: dict[Path, str]) -> bytes:
    """The Podcasting 2.0 JSON chapters file (application/json+chapters)."""
    chapters = []
    for ch in ep.chapters:
        item: dict[str, object] = {"startTime": round(ch.start, 3), "title": ch.title}
        if ch.url:
            item["url"] = ch.url
        if ch.image:
            item["img"] = images[ch.image]
        chapters.append(item)
    doc = {"version": "1.2.0", "title": ep.title, "podcastName": show.title, "chapters": chapters}
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


def transcript_outputs(show: model.Show, ep: model.Episode) -> tuple[list[Output], list[Transcript]]:
    """The episode's transcript, validated, published as both VTT and SRT."""
    if ep.transcript is None:
        return [], []
    rel = model.show_rel(show.root, ep.transcript)
    cues = transcript.read(ep.transcript, file=rel)
    outs, refs = [], []
    for fmt, mime, render in (
        ("vtt", "text/vtt", transcript.to_vtt),
        ("srt", "application/x-subrip", transcript.to_srt),
    ):
        key = urls.transcript_key(ep, fmt)
        outs.append(Output(key, render(cues).encode(), Kind.ASSET, f"{mime}; charset=utf-8"))
        refs.append(Transcript(urls.url(show, key), mime, fmt))
    return outs, refs


# --------------------------------------------------------------------------- the writer


class BuildWriter:
    """The only code that writes the build folder: one file per key, unchanged files left alone."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir

    def write_all(self, outputs: Sequence[Output], extra: dict[str, bytes] | None = None) -> tuple[int, int]:
        seen: dict[str, Output] = {}
        for o in outputs:
            if o.key in seen:
                raise PipelineError(
                    f"two outputs want the same path {o.key!r}",
                    hint="two episodes or files map to one URL; rename one",
                )
            seen[o.key] = o
        self.out_dir.mkdir(parents=True, exist_ok=True)
        written = 0
        wanted = {**{k: o.data for k, o in seen.items()}, **(extra or {})}
        for key in sorted(wanted):
            if self.write_one(self.out_dir / key, wanted[key]):
                written += 1
        removed = self._remove_others(set(wanted))
        return written, removed

    @staticmethod
    def write_one(dest: Path, data: bytes | Path) -> bool:
        """Write one file atomically; False when it already holds exactly this content."""
        if isinstance(data, Path):
            st = data.stat()
            if dest.is_file():
                dst = dest.stat()
                if dst.st_ino == st.st_ino or (
                    dst.st_size == st.st_size and dst.st_mtime_ns == st.st_mtime_ns
                ):
                    return False
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            tmp.unlink(missing_ok=True)
            shutil.copy2(data, tmp)  # a copy, never a hard link: an edit in build/ must not reach a source
            os.replace(tmp, dest)
            return True
        try:
            if dest.stat().st_size == len(data) and dest.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        return True

    def _remove_others(self, keep: set[str]) -> int:
        """Delete files no output wants, then folders left empty (deepest first)."""
        removed = 0
        root = str(self.out_dir)
        for dirpath, _dirs, filenames in os.walk(root, topdown=False):
            rel = os.path.relpath(dirpath, root)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for name in filenames:
                if prefix + name not in keep:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
            if prefix and not os.listdir(dirpath):
                os.rmdir(dirpath)
        return removed


# --------------------------------------------------------------------------- orchestration


def build(
    show_path: Path,
    *,
    now: dt.datetime,
    out_dir: Path | None = None,
    cache_dir: Path | None = None,
    reporter: Reporter | None = None,
    feed_only: bool = False,
) -> BuildResult:
    """Build the show into `out_dir` (default build/ next to show.yaml). Sources are never modified."""

    reporter = reporter or NullReporter()
    show, episodes = model.load(show_path)
    out_dir = Path(out_dir) if out_dir else show.root / BUILD_DIR
    cache_dir = Path(cache_dir) if cache_dir else show.root / CACHE_DIR
    stat = StatCache(cache_dir / "stat.json")
    stage = AudioStage(show, cache_dir, stat, reporter)
    try:
        artwork = _image_output(show, None, show.artwork, stat)
        artwork_url = urls.url(show, artwork.key)
        # Each episode's notes are rendered at most once per build, and only when something reads them:
        # tagging here, then the feed and the pages through BuiltEpisode.notes (a no-op rebuild renders none).
        rendered: dict[str, notes.Notes] = {}
        audio_built = {
            ep.slug: stage.build(ep, rendered) for ep in episodes if not ep.draft and ep.audio is not None
        }
        built, outputs = _gather(show, episodes, now, audio_built, artwork_url, stat, rendered)
        outputs.append(artwork)
        # Alternates, soundbite clips and artwork sizes: one step after the audio stage (pipeline/alternates.py).
        built, derived, art_sizes = alternates.attach(
            show, built, cache_dir, stat, tools=stage.tools, tag_spec=tag_spec, reporter=reporter
        )
        outputs.extend(derived)
        public = tuple(built)
        outputs.extend(_feed_outputs(show, public, artwork_url, cache_dir, art_sizes))
        if not feed_only:
            from pipeline import site

            asset_urls = {artwork.data: artwork.key}
            for path in (show.host.photo if show.host else None, show.theme.logo):
                if path is not None and path not in asset_urls:
                    out = _named_asset(show, None, path, stat)
                    outputs.append(out)
                    asset_urls[path] = out.key
            for o in outputs:
                if o.kind is Kind.ASSET and isinstance(o.data, Path):
                    asset_urls.setdefault(o.data, o.key)
            outputs.extend(
                site.render(
                    show,
                    public,
                    asset_keys=asset_urls,
                    artwork_key=artwork.key,
                    templates=show.root / "templates",
                    cache_dir=cache_dir / "site",
                )
            )
    finally:
        stat.save()
    outputs = list(dict.fromkeys(outputs))  # one file named twice (episode and chapter image) is one output
    info = _build_info(audio_built)
    if feed_only:
        # `podcast feed`: the feed, its sidecar files and the media it points at; pages are left alone.
        written = sum(
            BuildWriter.write_one(out_dir / o.key, o.data)
            for o in outputs
            if o.kind in (Kind.FEED, Kind.ASSET, Kind.MEDIA)
        )
        removed = 0
    else:
        written, removed = BuildWriter(out_dir).write_all(outputs, {BUILD_INFO_KEY: info})
    return BuildResult(
        show,
        episodes,
        public,
        tuple(outputs),
        out_dir,
        artwork_url,
        stage.encoded,
        stage.tagged,
        stage.reused,
        written,
        removed,
        tuple(art_sizes),
    )


_HERE = Path(__file__).resolve().parent
FEED_CACHE = "feed"


def _feed_code() -> str:
    """What feed.xml depends on besides its inputs: the declared code version and its libraries' versions."""
    versions = []
    for name in ("feedgen", "lxml", "cmarkgfm", "nh3"):
        try:
            versions.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}==?")
    return _key("feed-code", __version__, CACHE_VERSION, versions)


def _feed_key(
    show: model.Show, public: Sequence[BuiltEpisode], artwork_url: str, art_sizes: Sequence[BuiltImage] = ()
) -> str:
    """sha256 of everything feed.render reads: the show, each public episode and what the build made of it."""
    h = hashlib.sha256()
    for part in (
        _feed_code(),
        artwork_url,
        show.model_dump_json(),
        repr([(i.url, i.width) for i in art_sizes]),
    ):
        h.update(part.encode() + b"\0")
    for b in public:
        a = b.audio
        h.update(b.episode.model_dump_json().encode() + b"\0")
        h.update(
            repr(
                (
                    b.guid,
                    b.page_url,
                    a.url,
                    a.size,
                    a.mime,
                    a.duration,
                    a.sha256,
                    b.image_url,
                    b.chapters_url,
                    [(t.url, t.mime, t.fmt) for t in b.transcripts],
                    [(str(p), u) for p, u in b.chapter_images],
                    [
                        (x.url, x.size, x.mime, x.codecs, x.bitrate, x.integrity, x.title, x.default)
                        for x in b.alternates
                    ],
                    [(i.url, i.width) for i in b.images],
                )
            ).encode()
            + b"\0"
        )
    return h.hexdigest()


def _feed_outputs(
    show: model.Show,
    public: Sequence[BuiltEpisode],
    artwork_url: str,
    cache_dir: Path,
    art_sizes: Sequence[BuiltImage] = (),
) -> list[Output]:
    """feed.render, or its last result when none of its inputs changed (rendering 1,000 notes costs ~0.5 s)."""
    from pipeline import feed

    folder = cache_dir / FEED_CACHE
    cached = folder / f"{_feed_key(show, public, artwork_url, art_sizes)}.feed"
    try:
        head, _, data = cached.read_bytes().partition(b"\n")
        meta = json.loads(head)
        return [Output(meta["key"], data, Kind[meta["kind"]], meta["content_type"], meta["immutable"])]
    except (OSError, ValueError, KeyError):
        pass
    fragments = FeedFragments(folder / "items.bin")  # unchanged items are reused, not rendered again
    outputs = feed.render(show, public, artwork_url=artwork_url, images=art_sizes, fragments=fragments)
    fragments.save()
    if len(outputs) == 1 and isinstance(outputs[0].data, bytes):
        o = outputs[0]
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.feed"):
            old.unlink()
        head = json.dumps(
            {"key": o.key, "kind": o.kind.name, "content_type": o.content_type, "immutable": o.immutable}
        ).encode()
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(head + b"\n" + o.data)
        os.replace(tmp, cached)
    return outputs


def _gather(
    show: model.Show,
    episodes: Iterable[model.Episode],
    now: dt.datetime,
    audio_built: dict[str, BuiltAudio],
    artwork_url: str,
    stat: StatCache,
    rendered: dict[str, notes.Notes],
) -> tuple[list[BuiltEpisode], list[Output]]:
    outputs: list[Output] = []
    built: list[BuiltEpisode] = []
    for ep in model.public_episodes(episodes, now):
        ba = audio_built[ep.slug]
        outputs.append(Output(ba.key, ba.path, Kind.MEDIA, ba.mime, immutable=True))
        image_url = artwork_url
        if ep.image is not None:
            img = _image_output(show, ep, ep.image, stat)
            outputs.append(img)
            image_url = urls.url(show, img.key)
        chapter_images: dict[Path, str] = {}
        for ch in ep.chapters:
            if ch.image is not None and ch.image not in chapter_images:
                out = _named_asset(show, ep, ch.image, stat)
                outputs.append(out)
                chapter_images[ch.image] = urls.url(show, out.key)
        chapters_url = None
        if ep.chapters:
            key = urls.chapters_key(ep)
            outputs.append(
                Output(key, chapters_json(show, ep, chapter_images), Kind.ASSET, "application/json+chapters")
            )
            chapters_url = urls.url(show, key)
        t_outs, t_refs = transcript_outputs(show, ep)
        outputs.extend(t_outs)
        built.append(
            BuiltEpisode(
                episode=ep,
                guid=urls.episode_guid(show, ep),
                page_url=urls.page_url(show, ep),
                audio=ba,
                image_url=image_url,
                chapters_url=chapters_url,
                transcripts=tuple(t_refs),
                rendered=rendered.get(ep.slug),
                chapter_images=tuple(chapter_images.items()),
            )
        )
    return built, outputs


def _build_info(audio_built: dict[str, BuiltAudio]) -> bytes:
    """Measurements per built episode (duration, size, loudness), for `podcast list`; not published."""
    rows = {
        slug: {
            "duration": round(b.duration, 3),
            "size": b.size,
            "mime": b.mime,
            "key": b.key,
            "loudness": dataclasses.asdict(b.loudness) if b.loudness else None,
        }
        for slug, b in sorted(audio_built.items())
    }
    return (json.dumps({"episodes": rows}, indent=2, sort_keys=True) + "\n").encode()


def read_build_info(out_dir: Path) -> dict[str, EpisodeRecord]:
    """The last build's per-episode records, or {} when there has been no build; a bad entry is left out."""
    try:
        rows = json.loads((out_dir / BUILD_INFO_KEY).read_text())["episodes"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(rows, dict):
        return {}
    records = {str(slug): EpisodeRecord.from_json(row) for slug, row in rows.items()}
    return {slug: rec for slug, rec in records.items() if rec is not None}


def tag_episodes(
    show_path: Path,
    slugs: Sequence[str],
    *,
    now: dt.datetime,
    out_dir: Path | None = None,
    in_place: bool = False,
    reporter: Reporter | None = None,
) -> list[str]:
    """`podcast tag`: tag the built copies (a build), or, with in_place, the source files themselves."""
    reporter = reporter or NullReporter()
    show, episodes = model.load(show_path)
    by_slug = {ep.slug: ep for ep in episodes}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise ContentError(
            f"no episode {unknown[0]!r}",
            file=model.EPISODES_DIR,
            hint="name episodes by their folder, as `podcast list` shows them",
        )
    chosen = [by_slug[s] for s in slugs] if slugs else [e for e in episodes if not e.draft]
    chosen = [e for e in chosen if e.audio is not None]
    if not in_place:
        result = build(show_path, now=now, out_dir=out_dir, reporter=reporter)
        built = {b.episode.slug: b for b in result.public}
        lines = []
        for ep in chosen:
            b = built.get(ep.slug)
            where = f"{result.out_dir / b.audio.key}" if b else "the build cache (not public yet)"
            lines.append(f"Tagged {ep.slug}: {where}")
        return lines
    stage = AudioStage(
        show, (show.root / CACHE_DIR), StatCache(show.root / CACHE_DIR / "stat.json"), reporter
    )
    lines = []
    for ep in chosen:
        assert ep.audio is not None
        rel = model.show_rel(show.root, ep.audio)
        info = audio.probe(ep.audio)
        if info.container not in ("mp3", "m4a"):
            raise AudioError(
                f"cannot tag a {info.container.upper()} file in place",
                file=rel,
                hint="only MP3 and M4A carry podcast tags; `podcast build` tags the encoded copy",
            )
        # Tag a copy, then swap it in: an interrupted tagging never leaves a half-written source.
        tmp = ep.audio.with_name(f".{ep.audio.name}.tagging{ep.audio.suffix}")
        shutil.copy2(ep.audio, tmp)
        try:
            audio.write_tags(tmp, tag_spec(show, ep, info.duration, stage.cover(ep)))
            os.replace(tmp, ep.audio)
        finally:
            tmp.unlink(missing_ok=True)
        lines.append(f"Tagged {rel} in place")
    return lines
