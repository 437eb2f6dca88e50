"""A campaign's hero image: an upload checked, shrunk and re-encoded (core.images) so only its
pixels survive, then served by the app."""

from __future__ import annotations

from petitions.core.i18n import N_
from petitions.core.images import ImageRefused, ImageRules, reencode

HERO_RULES = ImageRules(
    noun=N_("an image"),
    max_bytes=5 * 1024 * 1024,
    max_pixels=40_000_000,  # what Pillow will decode at all: a decompression bomb is refused
    box=(1600, 900),  # the largest it is shown; bigger uploads are shrunk to fit
    output="JPEG",
)
MAX_HERO_BYTES = HERO_RULES.max_bytes
HeroError = ImageRefused


def prepare_hero(data: bytes) -> tuple[bytes, int, int]:
    """The upload as a JPEG that fits the box, with no metadata, and its size."""
    return reencode(data, HERO_RULES)
