"""One build: model -> audio -> feed + pages -> the build folder, reusing every unchanged piece of work."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import stat as stat_module
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipeline import __version__, alternates, audio, images, model, notes, rules, transcript, urls
from pipeline.artifacts import BuiltAudio, BuiltEpisode, BuiltImage, EpisodeRecord, Loudness, Transcript
from pipeline.cache import (
    CACHE_VERSION,
    EncodedEntry,
    FeedFragments,
    FileCache,
    MediaCache,
    Memo,
    PagePacks,
    ParseCache,
    RemoteStore,
    StatCache,
    TaggedEntry,
    os_error,
    write_atomic,
)
from pipeline.cache import key as cache_key
from pipeline.errors import AudioError, ContentError, PipelineError
from pipeline.human import plural
from pipeline.manifest import Kind, Output
from pipeline.progress import NullReporter, NullTask, Reporter, Task

CACHE_DIR = ".podcast-cache"
PARSE_CACHE = "episodes.pickle"  # model.load's parsed front matter, under CACHE_DIR
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
    remote_hits: int = 0  # encoded or tagged files, alternates and clips fetched from the remote cache
    uploaded: int = 0  # new results put into the remote cache
    derived_made: int = 0  # alternates encoded and soundbite clips cut on this machine


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
    *,
    description: str | None = None,
) -> audio.TagSpec:
    """Everything written into the file's tags, from the model (the table lives in audio.py).

    `rendered` is the episode's notes as the build rendered them once; without it (and without an explicit
    `description`) they are rendered here.
    """
    marks = []
    for i, ch in enumerate(ep.chapters):
        end = ep.chapters[i + 1].start if i + 1 < len(ep.chapters) else duration
        marks.append(audio.ChapterMark(start=ch.start, end=end, title=ch.title, url=ch.url))
    if description is None:
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


def in_shard(slug: str, shard: tuple[int, int] | None) -> bool:
    """Whether shard K of N (1-based) encodes this episode: a stable, disjoint, complete split by slug."""
    if shard is None:
        return True
    k, n = shard
    return int.from_bytes(hashlib.sha256(slug.encode()).digest()[:8], "big") % n == k - 1


@dataclass
class _Job:
    """One episode's audio work, planned in the build's thread (digests come from the stat cache)."""

    ep: model.Episode
    rel: str
    src_digest: str
    art_digest: str
    enc_key: str
    enc: EncodedEntry | None
    tag_key: str | None = None


class AudioStage:
    """Encode (or pass through) and tag each episode into the cache; re-do only what changed.

    Keys come from the typed inputs (cache.key over EncodeSettings, TagSpec, source digests, tool versions and
    CACHE_VERSION). Encodes, loudness passes and tagging run on `jobs` threads around ffmpeg; each file's
    bytes depend only on its own inputs, so the result is the same for any `jobs`.
    """

    def __init__(
        self,
        show: model.Show,
        cache_dir: Path,
        stat: StatCache,
        reporter: Reporter,
        *,
        jobs: int | None = None,
        remote: RemoteStore | None = None,
    ) -> None:
        self.show, self.cache_dir, self.stat, self.reporter = show, cache_dir, stat, reporter
        self.settings = encode_settings(show)
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.media = MediaCache(cache_dir, remote, show.build.cache_prefix)
        self._tools: str | None = None
        self._recipe: str | None = None
        self.encoded = self.tagged = self.reused = 0
        self._covers: dict[Path, bytes] = {}
        self._lock = threading.Lock()
        self._enc_locks: dict[str, threading.Lock] = {}

    @property
    def tools(self) -> str:
        if self._tools is None:
            self._tools = audio.tool_versions()
        return self._tools

    @property
    def recipe_key(self) -> str:
        """The key of everything every encode shares: EncodeSettings, tool versions, CACHE_VERSION."""
        if self._recipe is None:
            self._recipe = cache_key(self.settings, self.tools, CACHE_VERSION)
        return self._recipe

    @property
    def remote_hits(self) -> int:
        return self.media.remote_hits

    def cover(self, ep: model.Episode) -> bytes:
        path = ep.image or self.show.artwork
        with self._lock:
            if path not in self._covers:
                self._covers[path] = audio.cover_jpeg(path)
            return self._covers[path]

    def build(self, ep: model.Episode, rendered: dict[str, notes.Notes] | None = None) -> BuiltAudio:
        """One episode's delivery file (see build_all)."""
        return self.build_all([ep], rendered)[ep.slug]

    def build_all(
        self, episodes: Sequence[model.Episode], rendered: dict[str, notes.Notes] | None = None
    ) -> dict[str, BuiltAudio]:
        """Each episode's delivery file, by slug; notes rendered for tags are left in `rendered` by slug.

        The first failure in episode order is raised, whatever order the workers finished in.
        """
        rendered = {} if rendered is None else rendered
        done: dict[str, BuiltAudio] = {}
        todo: list[_Job] = []
        for ep in episodes:
            if ep.audio is None:
                done[ep.slug] = self.external(ep)
                continue
            job = self._plan(ep)
            # local hits only here: remote downloads happen in the workers, in parallel
            hit = (
                None
                if job.tag_key is None
                else self.media.tagged(job.tag_key, self.settings.format, fetch=False)
            )
            if hit is not None:
                assert job.tag_key is not None
                self.reused += 1
                done[ep.slug] = self._built(ep, job.tag_key, hit, reused=True)
            else:
                todo.append(job)
        if todo:
            seconds = [self._seconds(job) for job in todo]
            for job in todo:  # named up front, in episode order, whatever order the workers take them in
                if job.enc is None:
                    self.reporter.step(f"Encoding {job.rel}")
            task = self.reporter.task(f"Encoding {plural(len(todo), 'episode')}", sum(seconds), unit="s")
            quiet = _WarnOnly(self.reporter)
            try:
                if self.jobs == 1 or len(todo) == 1:
                    for job, sec in zip(todo, seconds, strict=True):
                        done[job.ep.slug] = self._run(job, rendered, quiet)
                        task.advance(sec)
                else:
                    with ThreadPoolExecutor(max_workers=min(self.jobs, len(todo))) as pool:
                        futures = [pool.submit(self._run, job, rendered, quiet) for job in todo]
                        for sec in _progress(futures, seconds):
                            task.advance(sec)
                        for job, fut in zip(todo, futures, strict=True):
                            done[job.ep.slug] = fut.result()  # raises the first failure in episode order
            finally:
                task.close()
        return {ep.slug: done[ep.slug] for ep in episodes}

    def _plan(self, ep: model.Episode) -> _Job:
        assert ep.audio is not None
        rel = model.show_rel(self.show.root, ep.audio)
        src_digest = self.stat.digest(ep.audio)
        art_digest = self.stat.digest(ep.image or self.show.artwork)
        # ffmpeg, mutagen and Pillow versions and audio's recipe number are in both keys (through the encode
        # key), so a new tool or recipe re-encodes and re-tags (`ffmpeg -version` runs once per build).
        enc_key = cache_key("encode", self.recipe_key, src_digest)
        enc = self.media.encoded(enc_key, self.settings.format, media=False)
        job = _Job(ep, rel, src_digest, art_digest, enc_key, enc)
        if enc is not None:
            job.tag_key = self._tag_key(job, enc)
        self._enc_locks.setdefault(enc_key, threading.Lock())
        return job

    def _tag_key(self, job: _Job, enc: EncodedEntry) -> str:
        """The tagged file's key: the encode's key and the whole TagSpec. Its cover is keyed by the artwork
        file's digest (its JPEG is a function of that and Pillow's version, in the encode key) and, without
        a summary, its description by the notes' text (rendering them only to compute a key would cost a
        no-op build every episode's Markdown)."""
        ep = job.ep
        spec = tag_spec(self.show, ep, enc.duration, None, description=ep.summary or "")
        notes_digest = None if ep.summary else hashlib.sha256(ep.notes.encode()).hexdigest()
        return cache_key("tag", job.enc_key, spec, job.art_digest, notes_digest, CACHE_VERSION)

    def _seconds(self, job: _Job) -> float:
        if job.enc is not None:
            return job.enc.duration
        assert job.ep.audio is not None
        try:
            return audio.probe(job.ep.audio).duration
        except AudioError as err:
            err.file = job.rel
            raise

    def _run(self, job: _Job, rendered: dict[str, notes.Notes], reporter: Reporter) -> BuiltAudio:
        """Encode (unless cached), check chapters against the measured duration, tag (unless cached)."""
        ep, fmt = job.ep, self.settings.format
        assert ep.audio is not None
        src = ep.audio
        enc = job.enc or self._encoded(job, src, reporter)
        for p in rules.chapter_problems([ch.start for ch in ep.chapters], enc.duration):
            raise ContentError(
                p.message, file=model.show_rel(self.show.root, ep.source), field=p.field, hint=p.hint
            )
        tag_key = job.tag_key or self._tag_key(job, enc)
        hit = self.media.tagged(tag_key, fmt)
        if hit is not None:
            with self._lock:
                self.reused += 1
            return self._built(ep, tag_key, hit, reused=True)
        if not self.media.has(MediaCache.ENCODED, job.enc_key, fmt):  # a remote entry: fetch its file now
            enc = self._encoded(job, src, reporter)
        if ep.slug not in rendered:
            rendered[ep.slug] = notes.render_notes(ep.notes)
        spec = tag_spec(self.show, ep, enc.duration, self.cover(ep), rendered[ep.slug])
        encoded = self.media.path(MediaCache.ENCODED, job.enc_key, fmt)
        final = self.media.path(MediaCache.TAGGED, tag_key, fmt)

        def tag(tmp: Path) -> None:
            shutil.copyfile(encoded, tmp)
            audio.write_tags(tmp, spec)

        try:
            write_atomic(final, tag)
        except OSError as err:  # reading the encoded copy
            raise os_error(err, encoded, "read") from err
        entry = TaggedEntry(enc, final.stat().st_size, audio.file_digest(final))
        self.media.put_tagged(tag_key, fmt, entry)
        with self._lock:
            self.tagged += 1
        return self._built(ep, tag_key, entry, reused=False)

    def _encoded(self, job: _Job, src: Path, reporter: Reporter) -> EncodedEntry:
        """The encode's entry with its file here: from this cache, the remote one, or encoded now."""
        with self._enc_locks[job.enc_key]:  # two episodes with one recording encode it once
            enc = self.media.encoded(job.enc_key, self.settings.format)
            return enc if enc is not None else self._encode(job, src, reporter)

    def _encode(self, job: _Job, src: Path, reporter: Reporter) -> EncodedEntry:
        fmt = self.settings.format
        dest = self.media.path(MediaCache.ENCODED, job.enc_key, fmt)
        results: list[audio.EncodeResult] = []

        def run(tmp: Path) -> None:
            results.append(audio.encode(src, tmp, self.settings, reporter=reporter))

        try:
            write_atomic(dest, run)
        except AudioError as err:
            err.file = job.rel
            raise
        result = results[0]
        loud = result.delivered or audio.measure_loudness(dest)  # normalised files were measured already
        entry = EncodedEntry(
            duration=result.info.duration,
            mime=result.info.mime,
            action=result.action,
            loudness=dataclasses.asdict(Loudness(loud.integrated, loud.lra, loud.true_peak)),
        )
        self.media.put_encoded(job.enc_key, fmt, entry)
        with self._lock:
            self.encoded += 1
        return entry

    def external(self, ep: model.Episode) -> BuiltAudio:
        """An episode still hosted elsewhere (`audio_url:`): no file is read, encoded or tagged; the feed names
        the old URL byte for byte with the length and type the old feed gave."""
        assert ep.audio_url is not None and ep.audio_length is not None and ep.audio_type is not None
        # The duration is the old feed's whole-second itunes:duration, not a measurement: chapters are not
        # judged against it (one in the last second would be refused for the rounding).
        duration = ep.audio_duration or 0.0
        self.reused += 1
        return BuiltAudio(
            path=None,
            key="",
            url=str(ep.audio_url),
            size=ep.audio_length,
            mime=ep.audio_type,
            duration=duration,
            sha256="",
            loudness=None,
            reused=True,
        )

    def _built(self, ep: model.Episode, tag_key: str, entry: TaggedEntry, *, reused: bool) -> BuiltAudio:
        enc = entry.encoded
        ext = MIME_EXT[enc.mime]
        key = urls.audio_key(ep, entry.sha256, ext)
        return BuiltAudio(
            path=self.media.path(MediaCache.TAGGED, tag_key, self.settings.format),
            key=key,
            url=urls.url(self.show, key),
            size=entry.size,
            mime=enc.mime,
            duration=enc.duration,
            sha256=entry.sha256,
            loudness=Loudness.from_json(enc.loudness),
            reused=reused,
        )


def _progress(futures: Sequence[Future[BuiltAudio]], seconds: Sequence[float]) -> Iterator[float]:
    """Each finished job's seconds of audio, in the order as_completed yields them."""
    by_future = dict(zip(futures, seconds, strict=True))
    for f in as_completed(futures):
        yield by_future[f]


class _WarnOnly:
    """What a worker reports: warnings reach the user; per-file steps and bars give way to the one bar."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def step(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        self.reporter.warn(message)

    def task(self, label: str, total: float, unit: str = "B") -> Task:
        return NullTask()


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
        wanted = {**{k: o.data for k, o in seen.items()}, **(extra or {})}
        written = 0
        try:
            if self.out_dir.exists() and not self.out_dir.is_dir():
                raise PipelineError(
                    "is a file, not the build folder",
                    file=self.out_dir,
                    hint="move that file away; the build writes a folder there",
                )
            self.out_dir.mkdir(parents=True, exist_ok=True)
            for key in sorted(wanted):
                if self.write_one(self.out_dir / key, wanted[key]):
                    written += 1
            removed = self._remove_others(set(wanted))
        except OSError as err:
            raise os_error(err, self.out_dir) from err
        return written, removed

    @staticmethod
    def write_one(dest: Path, data: bytes | Path) -> bool:
        """Write one file atomically; False when it already holds exactly this content."""
        try:
            return BuildWriter._write_one(dest, data)
        except OSError as err:
            raise os_error(err, dest) from err

    @staticmethod
    def _write_one(dest: Path, data: bytes | Path) -> bool:
        if isinstance(data, Path):
            st = data.stat()
            try:
                dst = os.stat(dest)  # one stat answers both "is it there" and "is it this file"
            except (FileNotFoundError, NotADirectoryError):
                dst = None
            if (
                dst is not None
                and stat_module.S_ISREG(dst.st_mode)
                and (
                    dst.st_ino == st.st_ino or (dst.st_size, dst.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
                )
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
        gone: set[str] = set()  # folders removed so far (deepest first, so a parent learns of them in time)
        for dirpath, dirs, filenames in os.walk(root, topdown=False):
            rel = os.path.relpath(dirpath, root)
            prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            left = 0
            for name in filenames:
                if prefix + name not in keep:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                else:
                    left += 1
            # empty now when every file and every subfolder went (what walk listed: no listdir per folder)
            if prefix and not left and all(os.path.join(dirpath, d) in gone for d in dirs):
                os.rmdir(dirpath)
                gone.add(dirpath)
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
    jobs: int | None = None,
    shard: tuple[int, int] | None = None,
    remote: RemoteStore | None = None,
) -> BuildResult:
    """Build the show into `out_dir` (default build/ next to show.yaml). Sources are never modified.

    `jobs` threads encode and tag (default: every core). With `shard` (K, N) only the audio stage and the
    alternates and clips run, for the episodes in_shard() gives shard K; it writes no build folder and fills
    the cache (and the remote cache) for a final build. `remote` is the shared cache store; by default show.yaml's
    `build.remote_cache` opens the publish target's bucket.
    """

    reporter = reporter or NullReporter()
    show_path = Path(show_path)
    root = (show_path if show_path.is_dir() else show_path.parent).resolve()
    cache_dir = Path(cache_dir) if cache_dir else root / CACHE_DIR
    # Unchanged episode.md files are not read or parsed again (their fields are still validated).
    parsed = ParseCache(cache_dir / PARSE_CACHE, model.parser_versions())
    show, episodes = model.load(show_path, parse_cache=parsed)
    parsed.save()
    out_dir = Path(out_dir) if out_dir else show.root / BUILD_DIR
    if shard is not None and not (1 <= shard[0] <= shard[1]):
        raise PipelineError(
            f"shard {shard[0]}/{shard[1]} does not exist", hint="write --shard K/N with 1 <= K <= N"
        )
    if remote is None and show.build.remote_cache:
        remote = remote_cache(show)
    stat = StatCache(cache_dir / "stat.json")
    stage = AudioStage(show, cache_dir, stat, reporter, jobs=jobs, remote=remote)
    if shard is not None:
        if remote is None:
            reporter.warn(
                "--shard without build.remote_cache: the results stay in this folder's .podcast-cache/ "
                "(set build.remote_cache: true in show.yaml to share them)"
            )
        try:
            mine = [
                ep for ep in episodes if not ep.draft and ep.audio is not None and in_shard(ep.slug, shard)
            ]
            rendered_mine: dict[str, notes.Notes] = {}
            audio_mine = stage.build_all(mine, rendered_mine)
            # The same episodes' alternates and clips, so the final build encodes and cuts none of them.
            # Only what the derived step reads is filled in (URLs, audio, notes); nothing here is published.
            shared = alternates.share(
                show,
                [
                    BuiltEpisode(
                        episode=ep,
                        guid=urls.episode_guid(show, ep),
                        page_url=urls.page_url(show, ep),
                        audio=audio_mine[ep.slug],
                        image_url="",
                        chapters_url=None,
                        transcripts=(),
                        rendered=rendered_mine.get(ep.slug),
                    )
                    for ep in mine
                ],
                cache_dir,
                stat,
                tools=stage.tools,
                tag_spec=tag_spec,
                reporter=reporter,
                remote=remote,
            )
        finally:
            stat.save()
            stage.media.save()
        return BuildResult(
            show,
            episodes,
            (),
            (),
            out_dir,
            "",
            stage.encoded,
            stage.tagged,
            stage.reused,
            0,
            0,
            remote_hits=stage.remote_hits + shared.media.remote_hits,
            uploaded=stage.media.uploaded + shared.media.uploaded,
            derived_made=shared.encoded + shared.cut,
        )
    try:
        artwork = _image_output(show, None, show.artwork, stat)
        artwork_url = urls.url(show, artwork.key)
        # Each episode's notes are rendered at most once per build, and only when something reads them:
        # tagging here, then the feed and the pages through BuiltEpisode.notes (a no-op rebuild renders none).
        rendered: dict[str, notes.Notes] = {}
        audio_built = stage.build_all(
            [ep for ep in episodes if not ep.draft and (ep.audio is not None or ep.audio_url is not None)],
            rendered,
        )
        built, outputs = _gather(show, episodes, now, audio_built, artwork_url, stat, rendered)
        built = _visuals(show, built, outputs, cache_dir, stat, reporter, feed_only)
        outputs.append(artwork)
        # Alternates, soundbite clips and artwork sizes: one step after the audio stage (pipeline/alternates.py).
        built, derived, art_sizes, made = alternates.attach(
            show,
            built,
            cache_dir,
            stat,
            tools=stage.tools,
            tag_spec=tag_spec,
            reporter=reporter,
            remote=remote,
        )
        outputs.extend(derived)
        public = tuple(built)
        outputs.extend(_feed_outputs(show, public, artwork_url, cache_dir, art_sizes))
        if not feed_only:
            from pipeline import site

            asset_urls: dict[Path, str] = {}
            if isinstance(artwork.data, Path):
                asset_urls[artwork.data] = artwork.key
            for path in (show.host.photo if show.host else None, show.theme.logo):
                if path is not None and path not in asset_urls:
                    out = _named_asset(show, None, path, stat)
                    outputs.append(out)
                    asset_urls[path] = out.key
            for o in outputs:
                if o.kind is Kind.ASSET and isinstance(o.data, Path):
                    asset_urls.setdefault(o.data, o.key)
            # site renders; the page cache is driven (and saved) here, and the writer below writes the pages.
            packs = PagePacks(cache_dir / "site")
            try:
                outputs.extend(
                    site.render(
                        show,
                        public,
                        asset_keys=asset_urls,
                        artwork_key=artwork.key,
                        templates=show.root / "templates",
                        cache=packs,
                    )
                )
                packs.save()
            finally:
                packs.close()
    finally:
        stat.save()
        stage.media.save()
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
        artwork_sizes=tuple(art_sizes),
        remote_hits=stage.remote_hits + made.media.remote_hits,
        uploaded=stage.media.uploaded + made.media.uploaded,
        derived_made=made.encoded + made.cut,
    )


def remote_cache(show: model.Show) -> RemoteStore:
    """The shared media cache for `build.remote_cache: true`: the publish target's bucket (no I/O yet)."""
    from pipeline import storage

    p = show.publish
    if p.target != "s3":
        raise ContentError(
            "build.remote_cache needs an s3 publish target",
            file="show.yaml",
            field="build.remote_cache",
            hint="set publish.target: s3 with a bucket, or remove remote_cache",
        )
    return storage.open_storage(
        "s3", bucket=p.bucket, prefix="", region=p.region, endpoint_url=p.endpoint_url, profile=p.profile
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
    return cache_key("feed-code", __version__, CACHE_VERSION, versions)


def _feed_key(
    show: model.Show, public: Sequence[BuiltEpisode], artwork_url: str, art_sizes: Sequence[BuiltImage] = ()
) -> str:
    """The key of everything feed.render reads: the show, the show artwork's sizes and each public episode's
    whole typed record, by their fingerprints (every field, worked out once per object, so a new one is in
    the key without anybody listing it; the same fingerprints key the feed's item fragments)."""
    return cache_key(
        "feed", _feed_code(), artwork_url, show.fingerprint, list(art_sizes), [b.fingerprint for b in public]
    )


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
    except (OSError, ValueError, KeyError, TypeError):  # a truncated or wrong-shaped entry is a miss
        pass
    fragments = FeedFragments(folder / "items.bin")  # unchanged items are reused, not rendered again
    outputs = feed.render(show, public, artwork_url=artwork_url, images=art_sizes, fragments=fragments)
    fragments.save()
    if len(outputs) == 1 and isinstance(outputs[0].data, bytes):
        o = outputs[0]
        body: bytes = outputs[0].data
        try:
            for old in folder.glob("*.feed"):
                old.unlink()
        except OSError as err:
            raise os_error(err, folder) from err
        head = json.dumps(
            {"key": o.key, "kind": o.kind.name, "content_type": o.content_type, "immutable": o.immutable}
        ).encode()
        write_atomic(cached, head + b"\n" + body)
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
        if ba.path is not None:  # an `audio_url:` episode's enclosure stays where it is
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


def _visuals(
    show: model.Show,
    built: list[BuiltEpisode],
    outputs: list[Output],
    cache_dir: Path,
    stat: StatCache,
    reporter: Reporter,
    feed_only: bool,
) -> list[BuiltEpisode]:
    """Each public episode's waveform peaks (JSON beside its audio) and share card, appended to `outputs`.

    Both are cached by their inputs: peaks by the delivered file's sha256, a card by its artwork, text and
    colours (plus the code, Pillow and font versions), so an unchanged episode decodes and draws nothing.
    """
    if feed_only:
        return built
    from pipeline.site import theme_colours

    colours = theme_colours(show.theme.color)
    peaks_cache = FileCache(cache_dir / "peaks", ".json")
    bars = Memo(cache_dir / "peaks-bars.json")  # each peaks file's bar heights: 10,000 files not re-read
    card_cache = FileCache(cache_dir / "share-cards", ".jpg")
    site_host = urlsplit(show.base_url).netloc
    card_code = (images.SHARE_CARD_VERSION, images.pillow_version(), images.fonts_version())  # asked once
    out: list[BuiltEpisode] = []
    for b in built:
        ep, a = b.episode, b.audio
        pkey = cache_key("peaks", a.sha256, audio.PEAKS_VERSION, audio.PEAKS_RATE, audio.PEAKS_PIXELS)
        path = peaks_cache.get(pkey)
        levels: tuple[float, ...] | None = None
        # bars kept while the peaks file they were read from is unchanged (its stat): the page and the
        # published peaks JSON never disagree, even if that file is replaced under the same key
        kept = bars.get_for(pkey, path) if path is not None else None
        if isinstance(kept, list) and all(isinstance(v, float | int) for v in kept):
            levels = tuple(float(v) for v in kept)
        else:
            peaks = audio.Peaks.from_json(path.read_bytes()) if path is not None else None
            # no local file (an enclosure kept at its old host): no waveform
            if peaks is None and a.path is not None and a.path.is_file():
                reporter.step(f"Waveform {ep.slug}")
                try:
                    peaks = audio.compute_peaks(a.path, a.duration)
                except AudioError as err:
                    err.file = model.show_rel(show.root, ep.audio) if ep.audio else err.file
                    raise
                path = peaks_cache.put(pkey, peaks.to_json())
            if peaks is not None:
                levels = peaks.levels()
                if path is not None:
                    bars.put_for(pkey, path, list(levels))
            else:
                path = None
        if levels is not None and path is not None:
            outputs.append(
                Output(urls.peaks_key(ep, a.sha256), path, Kind.ASSET, "application/json", immutable=True)
            )
        art = ep.image or show.artwork
        parts = [f"Episode {ep.number}" if ep.number else None, f"Season {ep.season}" if ep.season else None]
        text = images.CardText(show.title, ep.title, " · ".join(p for p in parts if p) or None, site_host)
        ckey = cache_key(
            "share-card",
            *card_code,
            stat.digest(art),
            dataclasses.asdict(text),
            colours["color"],
            colours["on_color"],
        )
        card = card_cache.get(ckey)
        if card is None:
            reporter.step(f"Share card {ep.slug}")
            card = card_cache.put(ckey, images.share_card(art, text, colours["color"], colours["on_color"]))
        card_key = urls.share_card_key(ep, stat.digest(card), "jpg")
        outputs.append(Output(card_key, card, Kind.ASSET, "image/jpeg", immutable=True))
        out.append(dataclasses.replace(b, peaks=levels, share_card_url=urls.url(show, card_key)))
    bars.save()
    return out


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
