"""The build's derived media, after the audio stage: alternate encodings, soundbite clips, artwork sizes (layer 4).

Each is content-addressed like the main file (keys from `urls`), cached under its own keys (`cache.key`,
`cache.DerivedMedia`), and deterministic: the same inputs give the same bytes, so two builds publish the same
alternates with the same SRI integrity.
"""

from __future__ import annotations

import base64
import dataclasses
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline import audio, images, model, notes, urls
from pipeline.artifacts import BuiltAlternate, BuiltClip, BuiltEpisode, BuiltImage
from pipeline.cache import CACHE_VERSION, DerivedMedia, RemoteStore, StatCache
from pipeline.cache import key as cache_key
from pipeline.errors import AudioError
from pipeline.manifest import Kind, Output
from pipeline.progress import NullReporter, Reporter

#: alternate format -> (file extension, MIME type, RFC 6381 codecs)
FORMATS: dict[str, tuple[str, str, str]] = {
    "opus": ("opus", audio.OPUS_MIME, "opus"),
    "m4a": ("m4a", "audio/mp4", "mp4a.40.2"),
    "mp3": ("mp3", "audio/mpeg", "mp3"),
    "flac": ("flac", "audio/flac", "flac"),
}
_ALT_KBPS = {"m4a": 64}
ALT_COVER_PX = 300
MIN_CLIP = 0.1  # seconds: a soundbite starting later than this before the end has nothing to cut  # model.Alternate: AAC alternates default to 64 kbps (opus's default is audio's)

TagSpecFor = Callable[[model.Show, model.Episode, float, bytes | None, notes.Notes | None], audio.TagSpec]


def sri(sha256_hex: str) -> str:
    """Subresource Integrity form of a sha256 digest: "sha256-" + base64 of the 32 bytes."""
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def alternate_settings(show: model.Show, alt: model.Alternate) -> audio.EncodeSettings:
    """The encode of one `audio.alternates` entry: its format, bitrate and channels; the show's loudness."""
    a = show.audio
    bitrate = alt.bitrate
    if bitrate is None and alt.format == "mp3":
        bitrate = a.bitrate
    if bitrate is None:
        bitrate = _ALT_KBPS.get(alt.format)
    return audio.EncodeSettings(
        format=alt.format,
        bitrate=None if alt.format == "flac" else bitrate,
        channels=alt.channels or a.channels,
        sample_rate=48000 if alt.format == "opus" else a.sample_rate,
        loudness=a.loudness,
        true_peak=a.true_peak,
    )


class Derived:
    """Makes (or finds in the cache) every derived file of the public episodes."""

    def __init__(
        self,
        show: model.Show,
        cache_dir: Path,
        stat: StatCache,
        *,
        tools: str,
        tag_spec: TagSpecFor,
        reporter: Reporter | None = None,
        remote: RemoteStore | None = None,
    ) -> None:
        self.show, self.stat, self.tools = show, stat, tools
        # alternates and clips are shared through the remote cache (`build.remote_cache`); artwork sizes are not
        self.media = DerivedMedia(cache_dir / "derived", remote, show.build.cache_prefix)
        self.tag_spec = tag_spec
        self._covers: dict[Path, bytes] = {}
        self.reporter = reporter or NullReporter()
        self.encoded = self.cut = self.reused = 0  # alternates encoded, clips cut, alternates reused
        self._sizes: dict[Path, tuple[BuiltImage, ...]] = {}

    # ------------------------------------------------------------------ alternates

    def _cover(self, ep: model.Episode) -> bytes:
        """The cover for an alternate's tags: small (ALT_COVER_PX), so a low-data file stays small."""
        art = ep.image or self.show.artwork
        if art not in self._covers:
            self._covers[art] = images.cover_jpeg(art, max_px=ALT_COVER_PX)
        return self._covers[art]

    def alternates(self, b: BuiltEpisode) -> tuple[BuiltAlternate, ...]:
        ep = b.episode
        if ep.audio is None:
            return ()
        return tuple(self._alternate(b, alt) for alt in self.show.audio.alternates)

    def _alternate(self, b: BuiltEpisode, alt: model.Alternate) -> BuiltAlternate:
        ep, show = b.episode, self.show
        assert ep.audio is not None
        ext, mime, codecs = FORMATS[alt.format]
        settings = alternate_settings(show, alt)
        src_digest = self.stat.digest(ep.audio)
        enc_key = cache_key("alt-encode", src_digest, dataclasses.asdict(settings), self.tools, CACHE_VERSION)
        # The record alone first: a tagged alternate in the remote cache needs no encoded file here.
        enc_meta = self.media.record("encoded", enc_key, ext)
        if enc_meta is None:
            enc_meta = self._encode(ep, alt, settings, enc_key, ext)[1]
        duration = float(str(enc_meta["duration"]))
        bitrate = int(str(enc_meta.get("bitrate", 0)))
        spec = self.tag_spec(show, ep, duration, None, b.notes)
        art = self.stat.digest(ep.image or show.artwork)
        tag_key = cache_key("alt-tag", enc_key, dataclasses.asdict(spec), art, ALT_COVER_PX, CACHE_VERSION)
        tagged = self.media.get("alternate", tag_key, ext)
        if tagged is None:
            encoded = self.media.get("encoded", enc_key, ext)
            enc_path = (encoded or self._encode(ep, alt, settings, enc_key, ext))[0]
            final = self.media.path("alternate", tag_key, ext)
            tmp = final.with_suffix(".tagging" + final.suffix)
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(enc_path, tmp)
            audio.write_tags(tmp, dataclasses.replace(spec, cover=self._cover(ep)))
            tmp.replace(final)
            self.media.put(
                "alternate",
                tag_key,
                ext,
                {"duration": duration, "sha256": audio.file_digest(final), "size": final.stat().st_size},
            )
            tagged = self.media.get("alternate", tag_key, ext)
            assert tagged is not None
        else:
            self.reused += 1
        path, meta = tagged
        sha, size = str(meta["sha256"]), int(str(meta["size"]))
        key = urls.alternate_key(ep, sha, ext)
        return BuiltAlternate(
            path=path,
            key=key,
            url=urls.url(show, key),
            size=size,
            mime=mime,
            codecs=codecs,
            bitrate=bitrate or (round(size * 8 / duration) if duration else 0),
            duration=duration,
            sha256=sha,
            integrity=sri(sha),
            title=alt.title,
            default=alt.default,
        )

    def _encode(
        self, ep: model.Episode, alt: model.Alternate, settings: audio.EncodeSettings, enc_key: str, ext: str
    ) -> tuple[Path, dict[str, object]]:
        assert ep.audio is not None
        rel = model.show_rel(self.show.root, ep.audio)
        self.reporter.step(f"Encoding {rel} as {alt.format} (alternate)")
        dst = self.media.path("encoded", enc_key, ext)
        try:
            result = audio.encode(ep.audio, dst, settings, reporter=self.reporter)
        except AudioError as err:
            err.file = rel
            raise
        # The encoder's bitrate, read before tags and cover art are added (the feed's `bitrate`).
        record: dict[str, object] = {"duration": result.info.duration, "bitrate": result.info.bitrate}
        self.media.put("encoded", enc_key, ext, record)
        self.encoded += 1
        return dst, record

    # ------------------------------------------------------------------ soundbite clips

    def clips(self, b: BuiltEpisode) -> tuple[BuiltClip, ...]:
        """One clip per soundbite that starts inside the audio (`podcast validate` flags the others); none for
        an episode whose audio is at another host (`audio_url:`), which has no file here to cut from."""
        if b.audio.external:
            return ()
        return tuple(
            self._clip(b, i, sb)
            for i, sb in enumerate(b.episode.soundbites, start=1)
            if sb.start < b.audio.duration - MIN_CLIP
        )

    def _clip(self, b: BuiltEpisode, index: int, sb: model.Soundbite) -> BuiltClip:
        ep, show, a = b.episode, self.show, b.audio
        fmt = "m4a" if a.mime == "audio/mp4" else "mp3"
        settings = audio.EncodeSettings(
            format=fmt,
            bitrate=show.audio.bitrate,
            channels=show.audio.channels,
            sample_rate=show.audio.sample_rate,
        )
        title = sb.title or f"{ep.title} (clip {index})"
        # Past the end of the episode the clip simply stops where the audio does.
        length = max(0.0, min(sb.duration, a.duration - sb.start))
        clip_key = cache_key(
            "clip", a.sha256, sb.start, length, title, dataclasses.asdict(settings), self.tools
        )
        hit = self.media.get("clip", clip_key, fmt)
        if hit is None:
            dst = self.media.path("clip", clip_key, fmt)
            self.reporter.step(f"Cutting soundbite {index} of {ep.slug}")
            assert a.path is not None
            info = audio.cut_clip(a.path, dst, sb.start, length, settings)
            audio.write_tags(
                dst,
                audio.TagSpec(
                    title=title,
                    author=show.author,
                    show=show.title,
                    date=ep.date.isoformat(),
                    description=f"From {ep.title}",
                    page_url=b.page_url + f"#t={clock(sb.start)}",
                    feed_url=show.feed_url,
                    id3_version=show.audio.id3_version,
                ),
            )
            self.media.put(
                "clip",
                clip_key,
                fmt,
                {"duration": info.duration, "sha256": audio.file_digest(dst), "size": dst.stat().st_size},
            )
            self.cut += 1
            hit = self.media.get("clip", clip_key, fmt)
            assert hit is not None
        path, meta = hit
        key = urls.clip_key(ep, str(meta["sha256"]), index, fmt)
        return BuiltClip(
            path=path,
            key=key,
            url=urls.url(show, key),
            size=int(str(meta["size"])),
            mime=a.mime,
            start=sb.start,
            duration=float(str(meta["duration"])),
            title=title,
        )

    # ------------------------------------------------------------------ artwork sizes

    def sizes(self, ep: model.Episode | None, art: Path) -> tuple[BuiltImage, ...]:
        """The artwork's sizes (images.ARTWORK_WIDTHS, never scaled up), largest first."""
        if art in self._sizes:
            return self._sizes[art]
        digest = self.stat.digest(art)
        size_key = cache_key(
            "art-sizes", digest, images.ARTWORK_WIDTHS, images.pillow_version(), CACHE_VERSION
        )
        hit = self.media.get("art", size_key, "json", fetch=False)
        recorded = hit[1].get("widths") if hit is not None else None
        widths: list[int]
        if isinstance(recorded, list):
            widths = [int(str(w)) for w in recorded]
        else:
            made = images.artwork_sizes(art)
            widths = []
            for width, data in made:
                out = self.media.path("art", f"{size_key}-{width}", "jpg")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                widths.append(width)
            self.media.put("art", size_key, "json", {"widths": widths}, upload=False)
        built = []
        for width in widths:
            file = self.media.path("art", f"{size_key}-{width}", "jpg")
            key = urls.artwork_size_key(ep, audio.file_digest(file), width)
            built.append(BuiltImage(path=file, key=key, url=urls.url(self.show, key), width=width))
        self._sizes[art] = tuple(built)
        return self._sizes[art]


def clock(seconds: float) -> str:
    """MM:SS (or H:MM:SS) for a #t= share link, as the page's player reads it."""
    total = int(seconds)
    h, m, s = total // 3600, total % 3600 // 60, total % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def attach(
    show: model.Show,
    built: Sequence[BuiltEpisode],
    cache_dir: Path,
    stat: StatCache,
    *,
    tools: str,
    tag_spec: TagSpecFor,
    reporter: Reporter | None = None,
    remote: RemoteStore | None = None,
) -> tuple[list[BuiltEpisode], list[Output], tuple[BuiltImage, ...], Derived]:
    """(episodes with alternates, clips and artwork sizes; their outputs; the show artwork's sizes; the
    Derived that made them, for its counts)."""
    d = Derived(show, cache_dir, stat, tools=tools, tag_spec=tag_spec, reporter=reporter, remote=remote)
    outputs: list[Output] = []
    channel = d.sizes(None, show.artwork)
    outputs += [Output(i.key, i.path, Kind.ASSET, "image/jpeg", immutable=True) for i in channel]
    done: list[BuiltEpisode] = []
    for b in built:
        alts, clips = d.alternates(b), d.clips(b)
        ep = b.episode
        sizes = d.sizes(ep, ep.image) if ep.image is not None else channel
        outputs += [Output(a.key, a.path, Kind.MEDIA, a.mime, immutable=True) for a in alts]
        outputs += [Output(c.key, c.path, Kind.MEDIA, c.mime, immutable=True) for c in clips]
        if ep.image is not None:
            outputs += [Output(i.key, i.path, Kind.ASSET, "image/jpeg", immutable=True) for i in sizes]
        done.append(dataclasses.replace(b, alternates=alts, clips=clips, images=sizes))
    return done, outputs, channel, d


def share(
    show: model.Show,
    built: Sequence[BuiltEpisode],
    cache_dir: Path,
    stat: StatCache,
    *,
    tools: str,
    tag_spec: TagSpecFor,
    reporter: Reporter | None = None,
    remote: RemoteStore | None = None,
) -> Derived:
    """A shard's part (`podcast build --shard`): the alternates and clips of its episodes, made or found and
    put in the remote cache for the final build. No artwork sizes (no encode), no outputs."""
    d = Derived(show, cache_dir, stat, tools=tools, tag_spec=tag_spec, reporter=reporter, remote=remote)
    for b in built:
        d.alternates(b)
        d.clips(b)
    return d
