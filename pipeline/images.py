"""Pillow's one home: image facts, the artwork rules (Apple's), and the placeholder artwork `init` draws.

`podcast check` (on the show's files) and `podcast validate --online` (on the served bytes) both call
`artwork_problems`, so they judge a cover the same way and say the same thing about it. Each problem
carries the validator's rule id (PC407-PC413); the rule catalogue in `pipeline.validate` gives its
severity and hint.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from pipeline.errors import AudioError

#: Apple Podcasts: square, 1400 to 3000 px a side.
ART_MIN, ART_MAX = 1400, 3000
#: Spotify asks for artwork under 512 KB.
ART_MAX_BYTES_WARN = 512 * 1024
#: The media type a file name promises.
ART_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_REAL_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
_MODE_WORDS = {
    "RGBA": "has an alpha channel",
    "LA": "is greyscale with alpha",
    "CMYK": "is CMYK",
    "L": "is greyscale",
    "P": "uses a palette",
    "1": "is black and white",
}

#: (rule id, message): the rule ids are the validator's, so both commands name a problem the same way.
Problem = tuple[str, str]


@dataclass(frozen=True)
class ImageFacts:
    """What an image file is, read from its bytes (the pixels are decoded, so a truncated file fails)."""

    format: str | None  # Pillow's name: "JPEG", "PNG", "GIF", ...
    width: int
    height: int
    mode: str  # "RGB", "RGBA", "P", "CMYK", "L", ...
    transparent: bool  # an alpha channel or a transparency key
    dpi: tuple[float, float] | None


class UnreadableImage(ValueError):
    """The bytes cannot be decoded as an image; `reason` is the decoder's exception name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def image_facts(data: bytes) -> ImageFacts:
    """Format, size, mode and transparency of an image, decoding the pixels when the size is sane."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (w, h), mode, info = img.format, img.size, img.mode, dict(img.info)
            if w * h <= 4 * ART_MAX * ART_MAX:
                img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise UnreadableImage(type(err).__name__) from err
    dpi = info.get("dpi")
    return ImageFacts(
        format=fmt,
        width=w,
        height=h,
        mode=mode,
        transparent=mode in ("RGBA", "LA", "PA") or "transparency" in info,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
    )


#: The most pixels any image of a show may have: decoding it then needs at most ~150 MB.
MAX_PIXELS = 6000 * 6000


def decode_problem(data: bytes) -> str | None:
    """Why an image file cannot be used (not JPEG/PNG, truncated, absurd size), or None.

    The one rule for every image a show names (artwork, episode and chapter images, photo, logo):
    the header's size is bounded before anything is decoded, then every pixel is decoded, so a
    truncated file or a decompression bomb is refused by `check` exactly as the build would fail on it.
    """
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG")) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                return f"is {w}×{h} pixels (at most {MAX_PIXELS // 1_000_000} megapixels)"
            img.load()
    except UnidentifiedImageError:
        return "is not a JPEG or PNG image"
    except Image.DecompressionBombError:
        return f"claims too many pixels (at most {MAX_PIXELS // 1_000_000} megapixels)"
    except (OSError, SyntaxError, ValueError):
        return "cannot be decoded: it is damaged or truncated (export it again)"
    return None


def artwork_problems(data: bytes, ext: str) -> list[Problem]:
    """Apple's and Spotify's artwork rules over an image's bytes; `ext` is its file name's suffix (".jpg")."""
    out: list[Problem] = []
    if len(data) > ART_MAX_BYTES_WARN:
        out.append(("PC412", f"artwork is {len(data) // 1024} KB"))
    try:
        facts = image_facts(data)
    except UnreadableImage as err:
        return [*out, ("PC413", f"artwork cannot be decoded as an image ({err.reason})")]
    fmt, w, h, mode = facts.format, facts.width, facts.height, facts.mode
    real = _REAL_TYPES.get(fmt or "")
    if real is None:
        out.append(("PC410", f"artwork is really {fmt or 'an unknown format'}, not JPEG or PNG"))
    elif ext in ART_TYPES and ART_TYPES[ext] != real:
        out.append(("PC410", f"artwork named {ext} is really {fmt}"))
    if w != h:
        out.append(("PC407", f"artwork is {w}×{h}, not square"))
    if not (ART_MIN <= w <= ART_MAX and ART_MIN <= h <= ART_MAX):
        out.append(("PC408", f"artwork is {w}×{h} px (needs 1400–3000)"))
    if mode != "RGB" or facts.transparent:
        what = _MODE_WORDS.get(mode, f"is {mode}")
        out.append(
            ("PC409", f"artwork {what}" + (" with transparency" if facts.transparent and mode == "P" else ""))
        )
    if facts.dpi and any(abs(d - 72) > 0.5 for d in facts.dpi):
        out.append(("PC411", f"artwork is {facts.dpi[0]:g} dpi"))
    return out


def artwork_file_problems(path: Path) -> list[Problem]:
    """`artwork_problems` for a file on disk (raises OSError when it cannot be read at all)."""
    return artwork_problems(path.read_bytes(), path.suffix.lower())


def placeholder_art(path: Path, title: str) -> None:
    """The cover `podcast init` writes: 1400 px square RGB JPEG with the title, so the show passes check."""
    img = Image.new("RGB", (1400, 1400), (40, 44, 52))
    draw = ImageDraw.Draw(img)
    draw.rectangle([100, 100, 1300, 1300], outline=(180, 56, 31), width=24)
    draw.text((700, 700), title[:40], fill=(255, 255, 255), anchor="mm", font_size=90)
    img.save(path, "JPEG", quality=85)


_JPEG_QUALITY = 88


def cover_jpeg(image: Path, max_px: int = 1400) -> bytes:
    """Artwork as an RGB JPEG at most `max_px` on its longest side, for embedding in tags.

    A JPEG that already fits is returned unchanged when re-encoding would not make it smaller.
    """
    image = Path(image)
    try:
        original = image.read_bytes()
    except OSError as err:
        raise AudioError(f"cannot read image: {err.strerror}", file=image) from err
    try:
        with Image.open(io.BytesIO(original)) as im:
            im.load()
            source_format = im.format
            rotated = im.getexif().get(0x0112, 1) != 1  # EXIF orientation: phones store photos sideways
            picture = ImageOps.exif_transpose(im) if rotated else im
            if picture.mode in ("RGBA", "LA") or (picture.mode == "P" and "transparency" in picture.info):
                rgba = picture.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                picture = flat
            else:
                picture = picture.convert("RGB")
            fits = max(picture.size) <= max_px
            if not fits:
                picture.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            # A colour profile only describes the pixels it came with: keep it for RGB, drop it for CMYK etc.
            icc = im.info.get("icc_profile") if im.mode in ("RGB", "RGBA") else None
            picture.save(
                out, "JPEG", quality=_JPEG_QUALITY, optimize=True, **({"icc_profile": icc} if icc else {})
            )
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
        raise AudioError(
            "is not an image that can be read", file=image, hint="use a JPEG or PNG file"
        ) from err
    encoded = out.getvalue()
    if (
        source_format == "JPEG"
        and fits
        and not rotated
        and im.mode == "RGB"
        and len(original) <= len(encoded)
    ):
        return original
    return encoded


#: The artwork sizes a build publishes for podcast:images (Apple's largest, its smallest, and two for lists).
ARTWORK_WIDTHS = (3000, 1400, 600, 300)


def artwork_sizes(image: Path, widths: tuple[int, ...] = ARTWORK_WIDTHS) -> list[tuple[int, bytes]]:
    """(width, JPEG bytes) for each width up to the image's own, largest first; never scaled up.

    Deterministic: the same image gives the same bytes (Pillow's encoder has no clock or randomness).
    """
    image = Path(image)
    largest = cover_jpeg(image, max_px=max(widths))
    try:
        with Image.open(io.BytesIO(largest)) as im:
            im.load()
            own = max(im.size)
            out: list[tuple[int, bytes]] = []
            for width in sorted({min(w, own) for w in widths}, reverse=True):
                if width == own:
                    out.append((width, largest))
                    continue
                picture = im.copy()
                picture.thumbnail((width, width), Image.Resampling.LANCZOS)
                buf = io.BytesIO()
                picture.save(buf, "JPEG", quality=_JPEG_QUALITY, optimize=True)
                out.append((width, buf.getvalue()))
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise AudioError(
            "is not an image that can be read", file=image, hint="use a JPEG or PNG file"
        ) from err
    return out


def pillow_version() -> str:
    """The Pillow release that makes the cover JPEGs (part of the build cache key)."""
    version: str = PIL.__version__
    return version
