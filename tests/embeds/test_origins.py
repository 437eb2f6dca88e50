"""Parsing the sites allowed to frame a campaign's embeds."""

from __future__ import annotations

import pytest

from petitions.embeds.services import OriginsError, parse_origins


def test_origins_are_normalised_and_deduplicated() -> None:
    text = (
        "https://Example.org/\nhttps://*.friends.org, http://localhost:8001\n\nhttps://example.org"
    )
    assert parse_origins(text) == [
        "https://example.org",
        "https://*.friends.org",
        "http://localhost:8001",
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "https://example.org/path",
        "*",
        "'none'",
        "example.org",
        "https://exa mple.org",
        "https://example.org; script-src *",
    ],
)
def test_anything_but_an_origin_is_refused(bad: str) -> None:
    with pytest.raises(OriginsError):
        parse_origins(bad)
