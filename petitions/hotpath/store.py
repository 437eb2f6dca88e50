"""The hot path's own database connection: one per thread, kept between requests.

Why: a signature through the ORM session paid for a session, a pool checkout with its
``SELECT 1`` pre-ping, SQLAlchemy's execution and commit machinery and the check-in — several
times the INSERT itself. Here the signing statement (``signing.services.signature_statement``,
compiled once, parameterised) runs on a DBAPI connection this thread keeps checked out of
the app's own pool, and commits on it: by itself (autocommit, one round trip) when nothing
else is to commit with it, else with a COMMIT after it.

A kept connection may have died (PostgreSQL restarted, a firewall cut it): it is not pinged,
so the first statement on it fails. That is met as the view meets a lost connection
(``core.unit_of_work.retry_on_disconnect``): the connection is dropped and the signature is
written again through the ORM session, on a fresh, pinged connection, where the UNIQUE index
makes a second write of a committed signature a duplicate. So a lost connection still gives
one signature and no error page.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy.engine import Engine

from petitions.core import unit_of_work

_compiled: dict[
    tuple[int, int], tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...] | None]
] = {}


class ConnectionLost(Exception):
    """The kept connection failed; it has been dropped (the caller writes through the ORM)."""


class Store:
    """Per-thread kept connections to ``engine``'s database, for the hot path's one statement."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _cursor(self, engine: Engine) -> Any:
        kept = getattr(self._local, "kept", None)
        if kept is not None and kept[0] is engine:
            return kept[2]
        self.drop()
        connection = engine.raw_connection()  # checked out (and pinged) once, then kept
        # One cursor for every statement: a DBAPI cursor may run one after another.
        self._local.kept = (engine, connection, connection.cursor())
        return self._local.kept[2]

    def drop(self) -> None:
        """Give up this thread's connection (invalidated: it is not handed to anyone else)."""
        kept = getattr(self._local, "kept", None)
        self._local.kept = None
        if kept is not None:
            with contextlib.suppress(Exception):  # already unusable: nothing more to do
                kept[1].invalidate()

    def write(
        self, engine: Engine, statement: Any, params: dict[str, Any], commits: bool = False
    ) -> Any:
        """Run ``statement`` and return its first column, or None for no row: uncommitted, or
        with ``commits`` committed by itself (autocommit: one statement is one transaction, so
        it is all written or none, in one round trip instead of two).

        Raises ConnectionLost (after dropping the connection) on any database error; with
        ``commits``, the statement may then have committed or not (as when a COMMIT is lost)."""
        sql, defaults, processors, order = _compile(engine, statement)
        named = {**defaults, **params}
        for name, process in processors.items():
            named[name] = process(named[name])
        # A driver with positional placeholders (sqlite3's "?") takes the values in order.
        bound: Any = named if order is None else tuple(named[name] for name in order)
        try:
            cursor = self._cursor(engine)
            if commits:
                driver = self._local.kept[1].driver_connection
                driver.autocommit = True
                try:
                    cursor.execute(sql, bound)
                    row = cursor.fetchone()
                finally:
                    # Never left on: were the connection ever handed back to the pool, the
                    # ORM's transactions on it would commit statement by statement.
                    driver.autocommit = False
            else:
                cursor.execute(sql, bound)
                row = cursor.fetchone()
        except Exception as error:
            self.drop()
            raise ConnectionLost from error
        return row[0] if row else None

    def complete(self) -> None:
        """Commit what ``write`` wrote, through the unit of work (which then runs the effects
        registered for it). Raises ConnectionLost (after dropping the connection)."""
        kept = getattr(self._local, "kept", None)
        if kept is None:
            raise ConnectionLost
        try:
            unit_of_work.commit_own_connection(kept[1])
        except Exception as error:
            self.drop()
            raise ConnectionLost from error

    def rollback(self) -> None:
        kept = getattr(self._local, "kept", None)
        if kept is None:
            return
        try:
            kept[1].rollback()
        except Exception:
            self.drop()


def _compile(
    engine: Engine, statement: Any
) -> tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...] | None]:
    """The statement as the engine's dialect writes it (bound parameters, never values), and
    the values of its literal parameters and the conversions of the others. Kept per engine
    and statement (both live as long as the app)."""
    key = (id(engine), id(statement))
    entry = _compiled.get(key)
    if entry is None:
        compiled = statement.compile(dialect=engine.dialect)
        defaults = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required  # a literal of the statement's own (the outbox kind, ...)
        }
        # SQLAlchemy's own conversions of the values, as its execution applies them.
        processors = dict(compiled._bind_processors)
        order = tuple(compiled.positiontup) if compiled.positional else None
        entry = _compiled[key] = (compiled.string, defaults, processors, order)
    return entry
