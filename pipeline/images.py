"""Pillow's one home: image facts, the artwork rules (Apple's), the placeholder artwork `init` draws, and the
episodes' share cards (Open Graph images).

`podcast check` (on the show's files) and `podcast validate --online` (on the served bytes) both call
`artwork_problems`, so they judge a cover the same way and say the same thing about it. Each problem
carries the validator's rule id (PC407-PC413); the rule catalogue in `pipeline.validate` gives its
severity and hint.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import io
from dataclasses import dataclass
from pathlib import Path

import PIL
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from pipeline.errors import AudioError, ContentError, PipelineError

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


def is_placeholder_art(path: Path) -> bool:
    """True when `path` is (still) the cover `placeholder_art` draws: its size, background and frame."""
    with Image.open(path) as img:
        if img.size != (1400, 1400):
            return False
        rgb = img.convert("RGB")
        samples = [rgb.getpixel(xy) for xy in ((20, 20), (1380, 1380), (112, 700), (700, 112))]

    def near(px: object, want: tuple[int, int, int]) -> bool:
        return isinstance(px, tuple) and all(abs(int(a) - b) <= 16 for a, b in zip(px, want, strict=False))

    return all(near(px, (40, 44, 52)) for px in samples[:2]) and all(
        near(px, (180, 56, 31)) for px in samples[2:]
    )


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


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) in pixels of an image file, or None when it is missing or not an image Pillow reads."""
    try:
        with Image.open(path) as img:
            return int(img.width), int(img.height)
    except (OSError, UnidentifiedImageError):
        return None


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


# --------------------------------------------------------------------------- share cards

#: Open Graph's recommended size (Facebook, LinkedIn, Mastodon, X's large summary card all crop to 1.91:1).
SHARE_CARD_SIZE = (1200, 630)
#: Bump when a change here draws different card pixels from the same inputs (part of the cache key).
SHARE_CARD_VERSION = "1"
#: The card's typeface: Lato (SIL OFL 1.1) from the font-lato package, installed with the project.
FONT_PACKAGE = "font-lato"
_FONT_MODULE = "font_lato"
_MARGIN = 64
_ART = SHARE_CARD_SIZE[1] - 2 * _MARGIN  # the artwork's side
_GAP = 56  # between the artwork and the text column
_TITLE_SIZES = tuple(range(72, 39, -4))  # the title shrinks through these before it is cut short
_TITLE_MAX_LINES = 6
_ELLIPSIS = "\u2026"
_PILL = 18  # the eyebrow badge's padding either side of its text


@dataclass(frozen=True)
class CardText:
    """What a share card says, as plain text."""

    show: str
    title: str
    eyebrow: str | None = None  # "Episode 12 · Season 2"
    footer: str | None = None  # where to listen: the site's host name


@dataclass(frozen=True)
class TextLine:
    text: str
    font: str  # the font file's name ("Lato-Black.ttf")
    size: int
    xy: tuple[int, int]  # top left, at the font's ascender
    box: tuple[int, int, int, int]  # the inked box (left, top, right, bottom) as drawn
    role: str  # "show", "eyebrow", "title", "footer"


@dataclass(frozen=True)
class CardLayout:
    """Where every line of a card goes; `column` is the box no text may leave."""

    lines: tuple[TextLine, ...]
    column: tuple[int, int, int, int]
    title_size: int
    truncated: bool  # the title did not fit even at the smallest size and ends in an ellipsis

    def role(self, name: str) -> tuple[TextLine, ...]:
        return tuple(line for line in self.lines if line.role == name)


def fonts_version() -> str:
    """The card font package's release (part of the share cards' cache key)."""
    try:
        return importlib.metadata.version(FONT_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "?"


class _Fonts:
    """The card fonts at the sizes one card asks for, each loaded once for that card (no module-level memo)."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}

    def __call__(self, name: str, size: int) -> ImageFont.FreeTypeFont:
        if (name, size) not in self._loaded:
            self._loaded[name, size] = _load_font(name, size)
        return self._loaded[name, size]


def _load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        ref = importlib.resources.files(_FONT_MODULE).joinpath("files", name)
        with importlib.resources.as_file(ref) as path:
            return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)
    except (ModuleNotFoundError, OSError) as err:
        raise PipelineError(
            f"the share-card font {name} is missing ({err})",
            hint=f"reinstall podcast-pipeline, which installs the {FONT_PACKAGE} package",
        ) from err


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy word wrap to `width` pixels; a word wider than a line is broken between characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if font.getlength(line + ch) > width and line:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    return lines


def _ellipsize(line: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """`line` cut to fit `width` with an ellipsis, at a word boundary when that keeps most of the line."""
    full = line.rstrip()
    line = full
    while line and font.getlength(line + _ELLIPSIS) > width:
        line = line[:-1].rstrip()
    cut_word = len(line) < len(full) and full[len(line)] != " "
    if cut_word and " " in line and line.rindex(" ") >= 0.6 * len(line):
        line = line[: line.rindex(" ")].rstrip(" ,;:")
    return line + _ELLIPSIS


def _fit(
    font_of: _Fonts, text: str, name: str, sizes: tuple[int, ...], width: int, height: int, max_lines: int
) -> tuple[int, list[str], bool]:
    """The largest size whose wrapped lines fit `width` x `height`; else the smallest, cut with an ellipsis."""
    for size in sizes:
        font = font_of(name, size)
        lines = _wrap(text, font, width)
        if len(lines) <= max_lines and _block(font_of, name, size, len(lines)) <= height:
            return size, lines, False
    size = sizes[-1]
    font = font_of(name, size)
    lines = _wrap(text, font, width)
    keep = max_lines
    while keep > 1 and _block(font_of, name, size, keep) > height:
        keep -= 1
    if len(lines) > keep:
        lines = [*lines[: keep - 1], _ellipsize(" ".join(lines[keep - 1 :]), font, width)]
    return size, lines, True


def _leading(size: int) -> int:
    return round(size * 1.16)


def _block(font_of: _Fonts, name: str, size: int, lines: int) -> int:
    """Height of `lines` lines from the first one's ascender to the last one's descender."""
    ascent, descent = font_of(name, size).getmetrics()
    return (lines - 1) * _leading(size) + ascent + descent


def share_card_layout(text: CardText, font_of: _Fonts | None = None) -> CardLayout:
    """Measure and place a card's text with the card's own fonts (share_card draws exactly this)."""
    font_of = font_of or _Fonts()
    width, height = SHARE_CARD_SIZE
    x0 = _MARGIN + _ART + _GAP
    column = (x0, _MARGIN, width - _MARGIN, height - _MARGIN)
    col_w = column[2] - column[0]
    out: list[TextLine] = []
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def place(line: str, name: str, size: int, y: int, role: str, dx: int = 0) -> int:
        font = font_of(name, size)
        box = probe.textbbox((x0 + dx, y), line, font=font, anchor="la")
        out.append(
            TextLine(
                line, name, size, (x0 + dx, y), (int(box[0]), int(box[1]), int(box[2]), int(box[3])), role
            )
        )
        return y + _leading(size)

    y = column[1]
    show_size = 30
    _, show_lines, _ = _fit(
        font_of,
        text.show,
        "Lato-Bold.ttf",
        (show_size,),
        col_w,
        _block(font_of, "Lato-Bold.ttf", show_size, 2),
        2,
    )
    for line in show_lines:
        y = place(line, "Lato-Bold.ttf", show_size, y, "show")
    y += 14
    if text.eyebrow:
        eyebrow = _fit(
            font_of,
            text.eyebrow.upper(),
            "Lato-Black.ttf",
            (24,),
            col_w - 2 * _PILL,
            _block(font_of, "Lato-Black.ttf", 24, 1),
            1,
        )[1][0]
        y = place(eyebrow, "Lato-Black.ttf", 24, y + 10, "eyebrow", dx=_PILL) + 22
    bottom = column[3]
    if text.footer:
        footer_size = 26
        footer = _fit(
            font_of,
            text.footer,
            "Lato-Bold.ttf",
            (footer_size,),
            col_w,
            _block(font_of, "Lato-Bold.ttf", footer_size, 1),
            1,
        )[1][0]
        bottom -= _block(font_of, "Lato-Bold.ttf", footer_size, 1)
        place(footer, "Lato-Bold.ttf", footer_size, bottom, "footer")
        bottom -= 24
    size, lines, truncated = _fit(
        font_of, text.title, "Lato-Black.ttf", _TITLE_SIZES, col_w, bottom - y, _TITLE_MAX_LINES
    )
    for line in lines:
        y = place(line, "Lato-Black.ttf", size, y, "title")
    return CardLayout(tuple(out), column, size, truncated)


def _rgb(colour: str) -> tuple[int, int, int]:
    h = colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (
        round(a[0] * (1 - t) + b[0] * t),
        round(a[1] * (1 - t) + b[1] * t),
        round(a[2] * (1 - t) + b[2] * t),
    )


def _artwork_tile(image: Path) -> Image.Image:
    """The cover, square-cropped to the card's artwork size, with rounded corners (antialiased mask)."""
    try:
        with Image.open(image) as im:
            im.load()
            picture = ImageOps.exif_transpose(im).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
        raise ContentError(
            "is not an image that can be read", file=image, hint="use a JPEG or PNG file"
        ) from err
    tile = ImageOps.fit(picture, (_ART, _ART), Image.Resampling.LANCZOS)
    big = Image.new("L", (_ART * 4, _ART * 4), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, _ART * 4 - 1, _ART * 4 - 1), radius=28 * 4, fill=255)
    tile.putalpha(big.resize((_ART, _ART), Image.Resampling.LANCZOS))
    return tile


def share_card(artwork: Path, text: CardText, background: str, foreground: str) -> bytes:
    """A 1200x630 JPEG: the cover on the left, the show, episode number and title on the theme colour.

    `foreground` is the text colour readable on `background` (the site's on_color). Fixed encoder
    settings and no metadata: the same inputs give the same bytes.
    """
    bg, fg = _rgb(background), _rgb(foreground)
    card = Image.new("RGB", SHARE_CARD_SIZE, bg)
    # A soft left-to-right darkening keeps the card from looking flat; its end colour is still the theme's.
    shade = Image.linear_gradient("L").rotate(90).resize(SHARE_CARD_SIZE)
    card = Image.composite(Image.new("RGB", SHARE_CARD_SIZE, _blend(bg, (0, 0, 0), 0.22)), card, shade)
    draw = ImageDraw.Draw(card)
    shadow = Image.new("L", SHARE_CARD_SIZE, 0)
    ImageDraw.Draw(shadow).rounded_rectangle(
        (_MARGIN + 6, _MARGIN + 12, _MARGIN + _ART + 6, _MARGIN + _ART + 12), radius=28, fill=90
    )
    card.paste((0, 0, 0), (0, 0), shadow)
    tile = _artwork_tile(artwork)
    card.paste(tile, (_MARGIN, _MARGIN), tile)
    font_of = _Fonts()
    layout = share_card_layout(text, font_of)
    muted = _blend(fg, bg, 0.22)
    for line in layout.lines:
        font = font_of(line.font, line.size)
        if line.role == "eyebrow":
            left, top, right, bottom = line.box
            draw.rounded_rectangle((left - _PILL, top - 10, right + _PILL, bottom + 10), radius=999, fill=fg)
            draw.text((line.xy[0], line.xy[1]), line.text, font=font, fill=bg, anchor="la")
            continue
        colour = fg if line.role == "title" else muted
        draw.text(line.xy, line.text, font=font, fill=colour, anchor="la")
    out = io.BytesIO()
    card.save(out, "JPEG", quality=90, subsampling=0, optimize=True, progressive=False)
    return out.getvalue()
