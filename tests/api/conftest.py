"""Fixtures for the API tests: counters uncached, and API tokens for organisers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def _uncached_counters(app: Flask) -> Iterator[None]:
    previous = app.config.get("API_COUNT_CACHE_SECONDS")
    app.config["API_COUNT_CACHE_SECONDS"] = 0
    yield
    app.config["API_COUNT_CACHE_SECONDS"] = previous


@pytest.fixture
def token_for(factories: Any) -> Any:
    """``token_for(organiser)`` -> a raw API token for that organiser (committed)."""
    from petitions.api.tokens import create_token
    from petitions.extensions import db

    def make(organiser: Any, name: str = "test") -> str:
        _, raw = create_token(organiser, name)
        db.session.commit()
        return raw

    return make
