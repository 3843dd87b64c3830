"""Cover art for tags: artwork as an RGB JPEG of bounded size (Pillow).

This module is the audio stage's only Pillow user; it moves to pipeline/images.py with the rest of Pillow.
"""

from __future__ import annotations

import io
from pathlib import Path

import PIL
from PIL import Image, ImageOps, UnidentifiedImageError

from pipeline.errors import AudioError

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


def pillow_version() -> str:
    """The Pillow release that makes the cover JPEGs (part of the build cache key)."""
    version: str = PIL.__version__
    return version
