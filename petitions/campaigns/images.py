"""A campaign's hero image: an upload checked, shrunk and re-encoded so that only pixels
survive (no EXIF with a phone's location, no XMP, no comments), then served by the app."""

from __future__ import annotations

import io

MAX_HERO_BYTES = 5 * 1024 * 1024
MAX_HERO_PIXELS = 40_000_000  # what Pillow will decode at all (a decompression bomb is refused)
HERO_BOX = (1600, 900)  # the largest it is shown; bigger uploads are shrunk to fit
HERO_TYPES = {"PNG", "JPEG", "GIF", "WEBP"}


class HeroError(ValueError):
    """Why an upload was refused, in words for the organiser."""


def prepare_hero(data: bytes) -> tuple[bytes, int, int]:
    """The upload as a JPEG that fits ``HERO_BOX``, with no metadata, and its size."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise HeroError("Choose an image file.")
    if len(data) > MAX_HERO_BYTES:
        raise HeroError(
            f"That file is {len(data) / 1024 / 1024:.1f} MB; an image can be at most 5 MB."
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise HeroError(
            "That file is not an image we can read: use JPEG, PNG, GIF or WebP."
        ) from None
    if kind not in HERO_TYPES:
        raise HeroError(f"{kind or 'That'} images can't be used: use JPEG, PNG, GIF or WebP.")
    if width * height > MAX_HERO_PIXELS:
        raise HeroError("That image is too large in pixels; use one under 40 megapixels.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of an animation
            picture = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise HeroError("That image could not be read; try saving it again as JPEG.") from None
    picture.thumbnail(HERO_BOX)
    clean = Image.new("RGB", picture.size, (255, 255, 255))  # pixels only, on white
    clean.paste(picture, mask=picture.getchannel("A"))
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue(), clean.width, clean.height
