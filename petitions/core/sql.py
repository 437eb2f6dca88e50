"""Small SQL helpers every area shares."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.extensions import db


def dialect_insert() -> Any:
    """The INSERT construct of the session's dialect, for ``on_conflict_do_nothing`` and
    ``RETURNING`` (PostgreSQL in production, SQLite in development)."""
    return pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
