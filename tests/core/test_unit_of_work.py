"""The unit of work: views commit on return, roll back on raise; side effects wait for COMMIT."""

from __future__ import annotations

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
