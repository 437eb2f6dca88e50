"""The worker side scales out: several worker processes (each with its own beat, so sweeps
overlap too) on one broker and one database, a large batch of confirmation emails and
confirmations: every email delivered exactly once, every count exact.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from petitions.counting.jobs import reconcile_counts
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing import services as signing
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally, TallyDaily
from tests.conftest import WorkerProcess, wait_for, worker_env
from tests.support import factories
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.integration

WORKERS = 3
BATCH = 300


@pytest.fixture
def workers(
    app: Flask,
    database_url: str,
    redis_url: str,
    smtp_sink: SmtpSink,
    tmp_path: Path,
) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    try:
        for n in range(WORKERS):
            folder = tmp_path / f"worker{n}"
            folder.mkdir()
            env = worker_env(database_url, redis_url, smtp_sink, folder)
            env["OUTBOX_BATCH_SIZE"] = "25"  # many small batches: the workers interleave
            env["COUNT_BATCH_SIZE"] = "40"
            process = WorkerProcess(env, folder / "worker.log")
            process.start()
            started.append(process)
        yield started
    finally:
        for process in started:
            process.stop()


def _outbox_open() -> int:
    return db.session.scalar(  # type: ignore[return-value]
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    )


def _confirmation_tokens(sink: SmtpSink) -> dict[str, str]:
    tokens = {}
    for caught in list(sink.messages):
        found = factories.TOKEN_IN_LINK.search(caught.text())
        assert found, caught.text()
        tokens[caught.envelope_to[0]] = found.group(1)
    return tokens


@pytest.mark.timeout(480)
def test_several_workers_deliver_once_and_count_exactly(
    app: Flask, smtp_sink: SmtpSink, workers: list[WorkerProcess]
) -> None:
    with app.app_context():
        action = factories.make_action()
        action_id = action.id
        for n in range(BATCH):
            factories.make_signature(action, f"scale{n}@example.org", source=f"s{n % 3}")

        # Every confirmation email goes out once, whichever worker claimed it.
        wait_for(lambda: len(smtp_sink.messages) >= BATCH, timeout=150)
        db.session.remove()
        wait_for(lambda: _outbox_open() == 0, timeout=30)
        time.sleep(2)  # room for a duplicate to show up, if one were coming
        recipients: Any = collections.Counter(m.envelope_to[0] for m in smtp_sink.messages)
        assert len(smtp_sink.messages) == BATCH
        assert set(recipients.values()) == {1}
        assert len(recipients) == BATCH

        # Confirm them all; the workers fold the counts.
        tokens = _confirmation_tokens(smtp_sink)
        for token in tokens.values():
            assert signing.confirm(token).state is signing.ConfirmState.CONFIRMED
            db.session.commit()

        def folded() -> bool:
            db.session.remove()
            tally = db.session.get(ActionTally, action_id)
            waiting = db.session.scalar(
                select(func.count()).select_from(Signature).where(Signature.needs_count)
            )
            return tally is not None and tally.confirmed == BATCH and waiting == 0

        wait_for(folded, timeout=60)
        tally = db.session.get(ActionTally, action_id)
        assert tally is not None
        assert (tally.confirmed, tally.pending) == (BATCH, 0)
        by_source = dict(
            db.session.execute(
                select(TallyDaily.source, func.sum(TallyDaily.n))
                .where(TallyDaily.action_id == action_id)
                .group_by(TallyDaily.source)
            ).all()
        )
        assert by_source == {"s0": 100, "s1": 100, "s2": 100}
        assert reconcile_counts() == []  # nothing to repair: the folds were exact
        assert len(smtp_sink.messages) == BATCH  # and still no duplicate
