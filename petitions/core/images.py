"""Uploaded images made safe to keep and serve: checked (size, type, pixels), shrunk to a box
and re-encoded from their pixels alone, so nothing else in the file survives (EXIF with a
phone's location, XMP, ICC profiles, comments, a second payload). Used for the charity's logo
and campaigns' hero images; Pillow does the decoding."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _

READABLE = ("PNG", "JPEG", "GIF", "WEBP")


@dataclass(frozen=True)
class ImageRules:
    noun: str  # N_("a logo"), N_("an image"): how the messages name it (translated there)
    max_bytes: int
    max_pixels: int
    box: tuple[int, int]
    output: str  # "PNG" keeps transparency; "JPEG" is flattened onto white


class ImageRefused(ValueError):
    """Why an upload was refused, in words for the person who sent it."""


def reencode(data: bytes, rules: ImageRules) -> tuple[bytes, int, int]:
    """The upload re-encoded under ``rules``, and its width and height. Raises ImageRefused."""
    from PIL import Image, UnidentifiedImageError

    kinds = _("PNG, JPEG, GIF or WebP")
    if not data:
        raise ImageRefused(_("Choose an image file."))
    if len(data) > rules.max_bytes:
        raise ImageRefused(
            _(
                "That file is %(size)s MB; %(noun)s can be at most %(limit)d MB.",
                size=format_decimal(len(data) / 1024 / 1024, "0.0"),
                noun=_(rules.noun),
                limit=rules.max_bytes // (1024 * 1024),
            )
        )
    too_many_pixels = ImageRefused(
        _(
            "That image is too large in pixels; use one under %(limit)d megapixels.",
            limit=rules.max_pixels // 1_000_000,
        )
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
        raise ImageRefused(
            _("That file is not an image we can read: use %(kinds)s.", kinds=kinds)
        ) from None
    if kind not in READABLE:
        raise ImageRefused(
            _("%(kind)s images can't be used: use %(kinds)s.", kind=kind, kinds=kinds)
            if kind
            else _("That kind of image can't be used: use %(kinds)s.", kinds=kinds)
        )
    if width * height > rules.max_pixels:
        raise too_many_pixels
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)  # the first frame of an animation
            picture = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ImageRefused(_("That image could not be read; try saving it again.")) from None
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
