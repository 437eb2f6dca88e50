"""Uploaded images made safe to keep and serve: checked (size, type, pixels), shrunk to a box
and re-encoded from their pixels alone, so nothing else in the file survives (EXIF with a
phone's location, XMP, ICC profiles, comments, a second payload). Used for the charity's logo
and campaigns' hero images; Pillow does the decoding."""

from __future__ import annotations

import io
from dataclasses import dataclass

READABLE = ("PNG", "JPEG", "GIF", "WEBP")


@dataclass(frozen=True)
class ImageRules:
    noun: str  # "a logo", "an image": how the messages name it
    max_bytes: int
    max_pixels: int
    box: tuple[int, int]
    output: str  # "PNG" keeps transparency; "JPEG" is flattened onto white


class ImageRefused(ValueError):
    """Why an upload was refused, in words for the person who sent it."""


def reencode(data: bytes, rules: ImageRules) -> tuple[bytes, int, int]:
    """The upload re-encoded under ``rules``, and its width and height. Raises ImageRefused."""
    from PIL import Image, UnidentifiedImageError

    kinds = "PNG, JPEG, GIF or WebP"
    if not data:
        raise ImageRefused("Choose an image file.")
    if len(data) > rules.max_bytes:
        raise ImageRefused(
            f"That file is {len(data) / 1024 / 1024:.1f} MB; {rules.noun} can be at most "
            f"{rules.max_bytes // (1024 * 1024)} MB."
        )
    too_many_pixels = ImageRefused(
        f"That image is too large in pixels; use one under "
        f"{rules.max_pixels // 1_000_000} megapixels."
    )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
    except Image.DecompressionBombError:
        # Pillow refuses, on reading the header, a picture far beyond its pixel limit: a tiny file
        # that would unpack to gigabytes. That is the same refusal as ours below, in our words.
        raise too_many_pixels from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ImageRefused(f"That file is not an image we can read: use {kinds}.") from None
    if kind not in READABLE:
        raise ImageRefused(f"{kind or 'That'} images can't be used: use {kinds}.")
    if width * height > rules.max_pixels:
        raise too_many_pixels
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of an animation
            picture = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ImageRefused("That image could not be read; try saving it again.") from None
    picture.thumbnail(rules.box)
    out = io.BytesIO()
    if rules.output == "JPEG":
        clean = Image.new("RGB", picture.size, (255, 255, 255))  # pixels only, on white
        clean.paste(picture, mask=picture.getchannel("A"))
        clean.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    else:
        clean = Image.new("RGBA", picture.size)  # pixels only
        clean.paste(picture)
        clean.save(out, format="PNG", optimize=True)
    return out.getvalue(), clean.width, clean.height
