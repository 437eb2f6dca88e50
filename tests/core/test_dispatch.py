"""After-commit nudges sent by the process's nudger thread (``core.dispatch.Nudger``)."""

from __future__ import annotations

import itertools
import json
import os
import threading

import pytest
import redis as redis_lib
from flask import Flask
from sqlalchemy import func, select

from petitions.campaigns.models import ConsentVersion
from petitions.core import unit_of_work
from petitions.core.dispatch import NUDGE_KEY, Nudger, nudge
from petitions.extensions import db
from tests.conftest import TEST_REDIS_URL, wait_for

TASK = "workers.tasks.mail.drain_outbox"
_wordings = itertools.count()


def _sent_tasks(client: redis_lib.Redis) -> list[str]:
    """Task names of the Celery messages on the broker's default queue."""
    return [json.loads(m)["headers"]["task"] for m in client.lrange("celery", 0, -1)]


@pytest.fixture
def client(app: Flask) -> redis_lib.Redis:
    """The test Redis, empty, once nudges an earlier test made have been sent."""
    nudger = app.extensions.get("petitions_nudger")
    wait_for(lambda: nudger is None or nudger.idle())
    redis = redis_lib.Redis.from_url(TEST_REDIS_URL)
    redis.flushdb()
    return redis


def _unit_of_work_nudging(app: Flask, *, commit: bool) -> None:
    text = f"wording {next(_wordings)}"
    with app.app_context():
        db.session.add(ConsentVersion(text=text, text_hash=ConsentVersion.hash_of(text)))
        unit_of_work.after_commit(nudge, TASK, key=TASK)
        if commit:
            unit_of_work.commit()
        else:
            unit_of_work.rollback()


def test_a_commit_nudges_from_the_nudger_thread(app: Flask, client: redis_lib.Redis) -> None:
    app.config.update(TASK_DISPATCH=True, NUDGE_IN_BACKGROUND=True)
    try:
        _unit_of_work_nudging(app, commit=True)
        nudger = app.extensions["petitions_nudger"]
        assert isinstance(nudger, Nudger)
        assert nudger.thread is not None and nudger.thread is not threading.current_thread()
        wait_for(lambda: _sent_tasks(client) == [TASK])
        assert client.exists(NUDGE_KEY.format(TASK))
        wait_for(nudger.idle)  # its bookkeeping ends just after the send
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ConsentVersion)) == 1
    finally:
        app.config.update(TASK_DISPATCH=False)


def test_a_rollback_nudges_nothing(app: Flask, client: redis_lib.Redis) -> None:
    app.config.update(TASK_DISPATCH=True, NUDGE_IN_BACKGROUND=True)
    try:
        _unit_of_work_nudging(app, commit=False)
        nudger = app.extensions.get("petitions_nudger")
        assert nudger is None or nudger.idle()
        assert _sent_tasks(client) == []
        assert not client.exists(NUDGE_KEY.format(TASK))
    finally:
        app.config.update(TASK_DISPATCH=False)


def test_many_commits_in_a_burst_send_one_message(app: Flask, client: redis_lib.Redis) -> None:
    """The debounce holds through the nudger: a burst of commits is one Celery message."""
    app.config.update(TASK_DISPATCH=True, NUDGE_IN_BACKGROUND=True, NUDGE_DEBOUNCE_MS=60_000)
    try:
        for _ in range(20):
            _unit_of_work_nudging(app, commit=True)
        nudger = app.extensions["petitions_nudger"]
        wait_for(nudger.idle)
        assert _sent_tasks(client) == [TASK]
    finally:
        app.config.update(TASK_DISPATCH=False, NUDGE_DEBOUNCE_MS=1000)


def test_a_forked_child_starts_its_own_nudger_thread(app: Flask, client: redis_lib.Redis) -> None:
    """A web server forks its workers after the app exists: the child's nudger must not wait
    on the parent's thread (which the child does not have) or a lock held at the fork."""
    app.config.update(TASK_DISPATCH=True, NUDGE_IN_BACKGROUND=True)
    try:
        _unit_of_work_nudging(app, commit=True)
        nudger = app.extensions["petitions_nudger"]
        wait_for(nudger.idle)
        client.flushdb()
        with app.app_context():
            db.engine.dispose()  # the child must not share the parent's database connections
        pid = os.fork()
        if pid == 0:  # the child: nudge once more and exit with 0 only if it was sent
            code = 1
            try:
                _unit_of_work_nudging(app, commit=True)
                child = app.extensions["petitions_nudger"]
                wait_for(lambda: _sent_tasks(client) == [TASK], timeout=10)
                wait_for(child.idle, timeout=10)  # the send's bookkeeping ends just after it
                code = 0 if child.thread is not None and child.thread.is_alive() else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        app.config.update(TASK_DISPATCH=False)


def test_switched_off_the_nudge_is_sent_inside_the_request(
    app: Flask, client: redis_lib.Redis
) -> None:
    app.config.update(TASK_DISPATCH=True, NUDGE_IN_BACKGROUND=False)
    try:
        _unit_of_work_nudging(app, commit=True)
        assert _sent_tasks(client) == [TASK]  # at once: no thread involved
    finally:
        app.config.update(TASK_DISPATCH=False, NUDGE_IN_BACKGROUND=True)
