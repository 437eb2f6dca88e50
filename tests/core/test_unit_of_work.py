"""The unit of work: views commit on return, roll back on raise; side effects wait for COMMIT."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from sqlalchemy import select

from petitions.campaigns.models import ConsentVersion
from petitions.core import unit_of_work
from petitions.extensions import db


def _consent(text: str) -> ConsentVersion:
    return ConsentVersion(text=text, text_hash=ConsentVersion.hash_of(text))


def test_after_commit_runs_once_per_key_only_after_commit(app_ctx: None) -> None:
    ran: list[str] = []
    db.session.add(_consent("a"))
    unit_of_work.after_commit(ran.append, "nudge", key="nudge")
    unit_of_work.after_commit(ran.append, "nudge", key="nudge")
    db.session.flush()
    assert ran == []
    unit_of_work.commit()
    assert ran == ["nudge"]


def test_after_commit_dropped_on_rollback(app_ctx: None) -> None:
    ran: list[str] = []
    db.session.add(_consent("b"))
    unit_of_work.after_commit(ran.append, "webhook")
    unit_of_work.rollback()
    unit_of_work.commit()
    assert ran == []
    assert unit_of_work.pending_after_commit() == 0


class _Connection:
    """A DBAPI connection's commit, succeeding or failing."""

    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.commits = 0

    def commit(self) -> None:
        if self.fails:
            raise OSError("connection lost")
        self.commits += 1


def test_own_connection_effects_run_once_only_after_its_commit(app: Flask) -> None:
    ran: list[str] = []
    connection = _Connection()
    with app.app_context():
        with unit_of_work.on_own_connection():
            unit_of_work.after_commit(ran.append, "nudge", key="nudge")
            unit_of_work.after_commit(ran.append, "nudge", key="nudge")
            assert ran == [] and unit_of_work.pending_after_commit() == 1
            unit_of_work.commit_own_connection(connection)
            assert ran == ["nudge"]
            unit_of_work.commit_own_connection(connection)  # nothing new registered
        assert ran == ["nudge"] and connection.commits == 2
        # The queue was its own: no ORM session was made for it.
        assert not db.session.registry.has()


def test_own_connection_effects_dropped_when_its_commit_fails(app: Flask) -> None:
    ran: list[str] = []
    with app.app_context():
        with unit_of_work.on_own_connection():
            unit_of_work.after_commit(ran.append, "nudge")
            with pytest.raises(OSError):
                unit_of_work.commit_own_connection(_Connection(fails=True))
            assert unit_of_work.pending_after_commit() == 0
            unit_of_work.commit_own_connection(_Connection())
        assert ran == []


def test_own_connection_effects_dropped_without_its_commit(app: Flask) -> None:
    ran: list[str] = []
    with app.app_context():
        with unit_of_work.on_own_connection():
            unit_of_work.after_commit(ran.append, "webhook")
        # Outside the block, effects wait for the ORM session's commit again.
        assert unit_of_work.pending_after_commit() == 0
        db.session.add(_consent("own"))
        unit_of_work.after_commit(ran.append, "session")
        unit_of_work.commit()
        assert ran == ["session"]
        with pytest.raises(RuntimeError):
            unit_of_work.commit_own_connection(_Connection())


def test_view_commits_on_return_and_rolls_back_on_abort(app: Flask) -> None:
    ran: list[str] = []

    def saves() -> str:
        db.session.add(_consent("kept"))
        unit_of_work.after_commit(ran.append, "kept")
        return "ok"

    def aborts() -> str:
        db.session.add(_consent("lost"))
        unit_of_work.after_commit(ran.append, "lost")
        db.session.flush()
        abort(404)

    with app.test_request_context():
        assert unit_of_work.run_in_unit_of_work(saves)() == "ok"
        try:
            unit_of_work.run_in_unit_of_work(aborts)()
        except Exception as exc:
            assert getattr(exc, "code", None) == 404
        texts = set(db.session.scalars(select(ConsentVersion.text)))
        db.session.remove()
    assert texts == {"kept"}
    assert ran == ["kept"]


def test_every_view_is_wrapped(app: Flask) -> None:
    unwrapped = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not getattr(view, "__wrapped_unit_of_work__", False)
    ]
    assert unwrapped == []


def test_own_connection_committed_runs_its_effects_once(app: Flask) -> None:
    ran: list[str] = []
    with app.app_context():
        with unit_of_work.on_own_connection():
            unit_of_work.after_commit(ran.append, "nudge", key="nudge")
            unit_of_work.own_connection_committed()
            unit_of_work.own_connection_committed()
        assert ran == ["nudge"]
        with pytest.raises(RuntimeError):
            unit_of_work.own_connection_committed()
