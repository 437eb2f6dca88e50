"""Issue 11 fault scenarios for the outbox, against a real worker, Redis and SMTP sink.

* a poison message among good ones: every good one is delivered within one sweep, the poison
  one is recorded failed, nothing is retried forever (finding 1);
* SMTP down while people sign, then back: every confirmation is delivered within the bound
  docs/operations.md states (finding 12).

The worker here runs the production backoff (``OUTBOX_RETRY_BASE_SECONDS`` = 30 s) with a
short outage retry, so a test that passes shows the outage path, not a fast test setting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing import services as signing
from tests.conftest import WorkerProcess, wait_for, worker_env
from tests.faults.conftest import RedisServer, settle
from tests.support.factories import (
    make_action,
    make_campaign,
    make_legacy_signature,
    signature_input,
)
from tests.support.smtp import SmtpSink
from tests.support.web import sign_via_form

pytestmark = pytest.mark.integration

SWEEP = 1.0
OUTAGE_RETRY = 3.0
# Mail resumes within one outage retry plus one sweep of SMTP returning; the margin is for
# the drain itself and a busy machine.
BOUND = OUTAGE_RETRY + SWEEP
MARGIN = 5.0


@pytest.fixture(scope="module")
def outbox_worker(
    app: Flask,
    database_url: str,
    smtp_sink: SmtpSink,
    fault_redis: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    tmp = tmp_path_factory.mktemp("outbox-worker")
    env = worker_env(database_url, fault_redis.url, smtp_sink, tmp)
    env.update(
        {
            "OUTBOX_SWEEP_SECONDS": str(SWEEP),
            "OUTBOX_RETRY_BASE_SECONDS": "30",  # production's per-message backoff
            "OUTBOX_OUTAGE_RETRY_SECONDS": str(OUTAGE_RETRY),
            "RECONCILE_INTERVAL_SECONDS": "3600",
            "TRENDING_INTERVAL_SECONDS": "3600",
        }
    )
    process = WorkerProcess(env, tmp / "worker.log")
    process.start()
    yield process
    process.stop()


def _rows(app: Flask) -> list[OutboxMessage]:
    with app.app_context():
        db.session.remove()
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_poison_message_among_good_ones(
    app: Flask, outbox_worker: WorkerProcess, smtp_sink: SmtpSink, invariant: Any
) -> None:
    good = [f"p-good{n}@example.org" for n in range(6)]
    poison = ["zoë@example.org", "josé@example.org", "ｊｏｈｎ@example.org"]
    with app.app_context():
        action = make_action(make_campaign())
        # One commit for all: the worker meets them in one batch, poison first and between.
        for index, address in enumerate(good):
            if index < len(poison):
                make_legacy_signature(action, poison[index], commit=False)
            signing.sign(action, signature_input(address))
        db.session.commit()
        db.session.remove()
    started = time.monotonic()

    for address in good:
        smtp_sink.wait_for(1, timeout=SWEEP + MARGIN, address=address)
    elapsed = time.monotonic() - started

    def poison_recorded() -> list[OutboxMessage]:
        failed = [r for r in _rows(app) if r.failed_at is not None]
        return failed if len(failed) == len(poison) else []

    failed = wait_for(poison_recorded, timeout=SWEEP + MARGIN)
    assert {r.last_error for r in failed} == {"address cannot be sent: UnicodeEncodeError"}
    attempts = {r.id: r.attempts for r in failed}
    settle(3 * SWEEP)  # three more sweeps: nobody claims them again
    assert {r.id: r.attempts for r in _rows(app) if r.failed_at is not None} == attempts
    assert all(len(smtp_sink.to(a)) == 1 for a in good)
    log = outbox_worker.log_path.read_text(errors="replace")
    assert not any(p in log for p in poison) and "oë@" not in log
    print(
        f"\nSCENARIO poison: {len(good)} good delivered in {elapsed:.1f}s, "
        f"{len(failed)} poison failed after {sorted(attempts.values())} attempt(s)"
    )
    invariant()


def test_smtp_down_then_back(
    app: Flask,
    fault_app: Flask,
    outbox_worker: WorkerProcess,
    smtp_sink: SmtpSink,
    invariant: Any,
) -> None:
    with app.app_context():
        action = make_action(make_campaign())
        db.session.commit()
        url = f"/c/{action.campaign.slug}/{action.slug}"
        db.session.remove()
    client = fault_app.test_client()
    emails = [f"down{n}@example.org" for n in range(5)]
    smtp_sink.stop()
    try:
        statuses = [sign_via_form(client, url, email=e).status_code for e in emails]
        assert statuses == [303] * len(emails)

        def all_tried() -> bool:
            rows = _rows(app)
            return len(rows) == len(emails) and all(
                (r.last_error or "").startswith("connect") for r in rows
            )

        wait_for(all_tried, timeout=20)
        settle(2 * OUTAGE_RETRY)  # the outage lasts a while: the worker keeps trying
        assert all(r.failed_at is None and r.attempts == 0 for r in _rows(app))
    finally:
        smtp_sink.start()
    back = time.monotonic()

    for address in emails:
        smtp_sink.wait_for(1, timeout=BOUND + MARGIN - (time.monotonic() - back), address=address)
    delay = time.monotonic() - back

    assert delay <= BOUND + MARGIN
    assert all(len(smtp_sink.to(e)) == 1 for e in emails)
    print(f"\nSCENARIO smtp down and back: all {len(emails)} delivered {delay:.1f}s after")
    invariant()
