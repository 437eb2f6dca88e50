"""The ten fault scenarios of issue 6, each against real processes the test breaks and restores.

Every scenario ends with the invariant (``invariant`` fixture): each action's tally equals its
confirmed, valid signatures once the fold has caught up. Each prints one line of figures
(run with ``-s`` to see them).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from petitions.extensions import db
from petitions.mailer.models import OutboxMessage, SuppressedAddress
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.conftest import wait_for
from tests.faults.conftest import settle
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form

pytestmark = pytest.mark.integration


def report(number: int, text_: str) -> None:
    print(f"\nSCENARIO {number}: {text_}")


@pytest.fixture
def action_url(app):
    with app.app_context():
        campaign = make_campaign()
        action = make_action(campaign)
        db.session.commit()
        url = f"/c/{campaign.slug}/{action.slug}"
        action_id = action.id
        db.session.remove()
    return url, action_id


def _tally(app, action_id: int) -> tuple[int, int]:
    with app.app_context():
        db.session.remove()
        tally = db.session.get(ActionTally, action_id)
        result = (tally.pending, tally.confirmed) if tally else (0, 0)
        db.session.remove()
    return result


def _scalar(app, statement: Any) -> Any:
    with app.app_context():
        db.session.remove()
        value = db.session.scalar(statement)
        db.session.remove()
    return value


def _confirm(client, token: str) -> Any:
    page = client.get(f"/confirm/{token}")
    return client.post(
        f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )


# 1 ------------------------------------------------------------------------------------------


def test_1_redis_stopped_while_people_sign(
    fault_app, fault_redis, fault_worker, smtp_sink, action_url, broken, invariant
):
    url, action_id = action_url
    client = fault_app.test_client()
    fault_redis.stop()
    emails = [f"s1-{i}@example.org" for i in range(5)]
    statuses = [sign_via_form(client, url, email=e).status_code for e in emails]
    assert statuses == [303] * 5  # every submission succeeded for the user
    assert smtp_sink.to("s1-0@example.org") == []
    fault_redis.start()
    for e in emails:
        smtp_sink.wait_for(1, timeout=40, address=e)
    settle(2.5)  # a few more sweeps: nothing is sent twice
    delivered = {e: len(smtp_sink.to(e)) for e in emails}
    assert set(delivered.values()) == {1}
    tallies = invariant()
    report(
        1,
        f"5 signed with Redis down, all got 303; after restart each got "
        f"{sorted(set(delivered.values()))} email(s), {sum(delivered.values())} delivered, "
        f"0 duplicates; tally (pending, confirmed) = {tallies.get(action_id)}",
    )


# 2 ------------------------------------------------------------------------------------------


def test_2_redis_restarted_with_queue_lost(
    fault_app, fault_redis, fault_worker, smtp_sink, action_url, broken, invariant
):
    url, action_id = action_url
    client = fault_app.test_client()
    fault_worker.stop()  # nobody consumes: the nudges sit in Redis
    emails = [f"s2-{i}@example.org" for i in range(4)]
    for e in emails:
        assert sign_via_form(client, url, email=e).status_code == 303
    nudger = fault_app.extensions.get("petitions_nudger")  # the nudges are sent by its thread
    wait_for(lambda: nudger is None or nudger.idle())
    queued = fault_redis_queue_length(fault_redis)
    fault_redis.stop()  # the queue is lost with it
    fault_redis.start()
    assert fault_redis_queue_length(fault_redis) == 0
    fault_worker.start()
    for e in emails:
        smtp_sink.wait_for(1, timeout=30, address=e)
    settle(2.5)
    delivered = {e: len(smtp_sink.to(e)) for e in emails}
    assert set(delivered.values()) == {1}
    tallies = invariant()
    report(
        2,
        f"{len(emails)} signed with no worker ({queued} task message(s) queued), Redis killed "
        f"and restarted empty; the sweeper sent {sum(delivered.values())} emails, one each, "
        f"none lost; tally = {tallies.get(action_id)}",
    )


def fault_redis_queue_length(server) -> int:
    import redis as redis_lib

    return int(redis_lib.Redis(port=server.port).llen("celery"))


# 3 ------------------------------------------------------------------------------------------


def test_3_worker_killed_mid_send(
    fault_app, fault_worker, smtp_sink, action_url, broken, invariant, app
):
    url, action_id = action_url
    client = fault_app.test_client()
    smtp_sink.hang_seconds = 1.5  # the worker is inside DATA while we kill it
    address = "s3@example.org"
    assert sign_via_form(client, url, email=address).status_code == 303
    # The message has been handed over and the worker waits for the reply: kill it now.
    wait_for(lambda: smtp_sink.data_started >= 1, timeout=15, interval=0.02)
    fault_worker.kill()
    in_flight = len(smtp_sink.to(address))
    smtp_sink.hang_seconds = 0
    leased = _scalar(
        app, select(OutboxMessage.claimed_until).where(OutboxMessage.sent_at.is_(None))
    )
    fault_worker.start()
    # The lease (5 s in tests) runs out, the sweeper claims the row again and sends.
    wait_for(
        lambda: _scalar(app, select(func.count()).where(OutboxMessage.sent_at.is_not(None))) == 1,
        timeout=40,
    )
    settle(2.0)
    delivered = len(smtp_sink.to(address))
    assert 1 <= delivered <= 2
    tallies = invariant()
    report(
        3,
        f"worker SIGKILLed inside SMTP DATA (row leased: {leased is not None}, "
        f"{in_flight} caught before the kill); after restart {delivered} delivered "
        f"({delivered - 1} duplicate); tally = {tallies.get(action_id)}",
    )


# 4 ------------------------------------------------------------------------------------------


def test_4_smtp_451_then_accepts(fault_app, fault_worker, smtp_sink, action_url, invariant, app):
    url, action_id = action_url
    smtp_sink.rcpt_replies = ["451 4.3.0 try later"]
    address = "s4@example.org"
    assert sign_via_form(fault_app.test_client(), url, email=address).status_code == 303
    smtp_sink.wait_for(1, timeout=30, address=address)
    settle(1.5)
    attempts = _scalar(app, select(OutboxMessage.attempts))
    assert len(smtp_sink.to(address)) == 1
    assert smtp_sink.rcpt_attempts == 2
    tallies = invariant()
    report(
        4,
        f"451 then accepted: {smtp_sink.rcpt_attempts} RCPT attempts, outbox attempts "
        f"{attempts}, 1 delivered, 0 duplicates; tally = {tallies.get(action_id)}",
    )


# 5 ------------------------------------------------------------------------------------------


def test_5_smtp_550_suppresses(fault_app, fault_worker, smtp_sink, action_url, invariant, app):
    url, action_id = action_url
    smtp_sink.rcpt_replies = ["550 5.1.1 no such user"]
    address = "s5@example.org"
    client = fault_app.test_client()
    assert sign_via_form(client, url, email=address).status_code == 303
    wait_for(
        lambda: _scalar(app, select(OutboxMessage.failed_at).where(OutboxMessage.id == 1)),
        timeout=20,
    )
    settle(2.5)  # sweeps come and go: no retry
    assert smtp_sink.rcpt_attempts == 1
    assert smtp_sink.to(address) == []
    assert _scalar(app, select(SuppressedAddress.reason)) == "smtp 550"
    last_error = _scalar(app, select(OutboxMessage.last_error))
    tallies = invariant()
    report(
        5,
        f"550: 1 RCPT attempt, no retry ({last_error!r}), address suppressed, 0 delivered; "
        f"tally = {tallies.get(action_id)}",
    )


# 6 ------------------------------------------------------------------------------------------


def test_6_smtp_never_answers(fault_app, fault_worker, smtp_sink, action_url, invariant, app):
    url, action_id = action_url
    smtp_sink.hang_seconds = 4.0  # longer than MAIL_TIMEOUT (2 s)
    address = "s6@example.org"
    client = fault_app.test_client()
    assert sign_via_form(client, url, email=address).status_code == 303
    wait_for(
        lambda: _scalar(app, select(OutboxMessage.last_error)) is not None,
        timeout=20,
    )
    error = _scalar(app, select(OutboxMessage.last_error))
    assert "connection" in error
    # The worker is free: it folds a new signature while the SMTP server still hangs.
    assert sign_via_form(client, url, email="s6-other@example.org").status_code == 303
    wait_for(lambda: _tally(app, action_id)[0] == 2, timeout=15)
    smtp_sink.hang_seconds = 0
    smtp_sink.wait_for(1, timeout=30, address=address)
    settle(4.5)  # the hung DATA completes server-side after its sleep
    delivered = len(smtp_sink.to(address))
    assert 1 <= delivered <= 2
    tallies = invariant()
    report(
        6,
        f"SMTP hung in DATA: task timed out after MAIL_TIMEOUT ({error!r}), worker went on to "
        f"fold other work; later {delivered} delivered ({delivered - 1} duplicate from the "
        f"server that had kept the hung message); tally = {tallies.get(action_id)}",
    )


# 7 ------------------------------------------------------------------------------------------


@pytest.fixture
def fail_commit_for(app):
    """A deferred constraint trigger: the transaction fails at COMMIT for one address."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            text(
                """
                    CREATE OR REPLACE FUNCTION fault_fail_commit() RETURNS trigger AS $$
                    BEGIN
                      IF NEW.email_normalised LIKE 'rollback%' THEN
                        RAISE EXCEPTION 'injected failure at commit';
                      END IF;
                      RETURN NEW;
                    END $$ LANGUAGE plpgsql;
                    DROP TRIGGER IF EXISTS fault_fail_commit ON signatures;
                    CREATE CONSTRAINT TRIGGER fault_fail_commit AFTER INSERT ON signatures
                      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
                      EXECUTE FUNCTION fault_fail_commit();
                    """
            )
        )
    yield
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS fault_fail_commit ON signatures"))


def test_7_signing_transaction_rolls_back(
    fault_app, fault_worker, smtp_sink, action_url, invariant, app, fail_commit_for
):
    url, action_id = action_url
    client = fault_app.test_client()
    fault_app.config["PROPAGATE_EXCEPTIONS"] = False  # serve the 500 page as production does
    try:
        response = sign_via_form(client, url, email="rollback@example.org")
    finally:
        fault_app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500  # nothing was recorded, and the user is told so
    assert b"Nothing you did caused it" in response.data
    ok = sign_via_form(client, url, email="s7-fine@example.org")
    assert ok.status_code == 303
    smtp_sink.wait_for(1, timeout=20, address="s7-fine@example.org")
    settle(2.5)
    assert smtp_sink.to("rollback@example.org") == []
    rows = _scalar(app, select(func.count()).select_from(Signature))
    outbox = _scalar(app, select(func.count()).select_from(OutboxMessage))
    assert (rows, outbox) == (1, 1)
    tallies = invariant()
    report(
        7,
        f"commit failed (deferred trigger): page 500, 0 signature rows and 0 outbox rows for "
        f"it, 0 emails; the next signer got 1 email; tally = {tallies.get(action_id)}",
    )


# 8 ------------------------------------------------------------------------------------------


def test_8_fifty_concurrent_submissions_of_one_email(
    fault_app, fault_worker, smtp_sink, action_url, invariant, app
):
    url, action_id = action_url
    address = "s8@example.org"
    barrier = threading.Barrier(50)

    def submit(_: int) -> int:
        client = fault_app.test_client()
        page = client.get(url)
        data = {
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "country": "GB",
            "postcode": "SW1A 1AA",
            "name": "Ann Example",
            "email": address,
        }
        barrier.wait(timeout=60)
        return client.post(url, data=data).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(submit, range(50)))
    assert statuses == [303] * 50
    smtp_sink.wait_for(1, timeout=20, address=address)
    settle(3.0)
    rows = _scalar(app, select(func.count()).select_from(Signature))
    outbox = _scalar(app, select(func.count()).select_from(OutboxMessage))
    delivered = len(smtp_sink.to(address))
    assert rows == 1
    assert delivered == 1
    tallies = invariant()
    report(
        8,
        f"50 concurrent submissions: 50 x 303, {rows} row, {outbox} outbox row, "
        f"{delivered} email; tally = {tallies.get(action_id)}",
    )


# 9 ------------------------------------------------------------------------------------------


def test_9_one_link_confirmed_ten_times_concurrently(
    fault_app, fault_worker, smtp_sink, action_url, invariant, app
):
    url, action_id = action_url
    address = "s9@example.org"
    assert sign_via_form(fault_app.test_client(), url, email=address).status_code == 303
    (mail,) = smtp_sink.wait_for(1, timeout=20, address=address)
    token = TOKEN_IN_LINK.search(mail.text()).group(1)
    wait_for(lambda: _tally(app, action_id) == (1, 0), timeout=15)
    before = _tally(app, action_id)
    barrier = threading.Barrier(10)

    def confirm(_: int) -> int:
        client = fault_app.test_client()
        page = client.get(f"/confirm/{token}")
        csrf = csrf_from(page.get_data(as_text=True))
        barrier.wait(timeout=60)
        return client.post(f"/confirm/{token}", data={"csrf_token": csrf}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(confirm, range(10)))
    wait_for(lambda: _tally(app, action_id) == (0, 1), timeout=15)
    settle(1.5)
    after = _tally(app, action_id)
    assert after == (0, 1)
    invariant()
    report(
        9,
        f"one link POSTed 10x at once: statuses {sorted(statuses)}; (pending, confirmed) "
        f"{before} -> {after}: confirmed rose by exactly 1",
    )


# 10 -----------------------------------------------------------------------------------------


def test_10_corrupted_count_is_repaired_and_logged(
    fault_app, fault_worker, smtp_sink, action_url, invariant, app
):
    url, action_id = action_url
    client = fault_app.test_client()
    for i in range(3):
        assert sign_via_form(client, url, email=f"s10-{i}@example.org").status_code == 303
    (mail,) = smtp_sink.wait_for(1, timeout=20, address="s10-0@example.org")
    assert _confirm(client, TOKEN_IN_LINK.search(mail.text()).group(1)).status_code == 200
    wait_for(lambda: _tally(app, action_id) == (2, 1), timeout=15)
    with app.app_context():
        db.session.execute(
            update(ActionTally).where(ActionTally.action_id == action_id).values(confirmed=999)
        )
        db.session.commit()
        db.session.remove()
    corrupted = _tally(app, action_id)
    log_before = fault_worker.log_path.read_text(errors="replace")
    fault_app.extensions["celery"].send_task("workers.tasks.counting.reconcile_counts")
    wait_for(lambda: _tally(app, action_id) == (2, 1), timeout=20)
    log = wait_for(
        lambda: (
            "reconcile: repaired action_tallies"
            in fault_worker.log_path.read_text(errors="replace")[len(log_before) :]
            and fault_worker.log_path.read_text(errors="replace")[len(log_before) :]
        ),
        timeout=10,
    )
    assert "stored 999, signatures say 1" in log
    tallies = invariant()
    report(
        10,
        f"tally hand-set to {corrupted}; reconciliation restored {tallies.get(action_id)} "
        f"and logged 'reconcile: repaired action_tallies ({action_id},): stored 999, "
        f"signatures say 1'",
    )


# Bulk invalidation through the real worker --------------------------------------------------


def test_bulk_invalidation_job_and_undo_through_the_worker(
    fault_app, fault_worker, smtp_sink, action_url, invariant, app
):
    from petitions.abuse import services as invalidation
    from petitions.abuse.models import InvalidationJob
    from petitions.core.time import utcnow
    from petitions.signing.models import Signature as Sig
    from tests.support.factories import make_signature

    _, action_id = action_url
    with app.app_context():
        action = db.session.get(__import__("petitions").campaigns.models.Action, action_id)
        for i in range(40):
            domain = "flood.example" if i % 4 else "people.example"
            make_signature(action, f"u{i}@{domain}", ip_address=f"203.0.113.{i}")
        db.session.execute(update(Sig).values(confirmed_at=utcnow(), needs_count=True))
        db.session.commit()
        db.session.remove()
    invariant()
    before = _tally(app, action_id)

    def job_state(job_id: int) -> tuple[str, int, int]:
        with app.app_context():
            job = db.session.get(InvalidationJob, job_id)
            state = (job.status, job.changed, job.restored)
            db.session.remove()
        return state

    with fault_app.app_context():
        job = invalidation.create_job(
            action_id, invalidation.Criteria(email_domain="flood.example"), None
        )
        db.session.commit()
        job_id, matched = job.id, job.matched
        assert invalidation.dispatch(invalidation.RUN_TASK, job_id)
        db.session.remove()
    wait_for(lambda: job_state(job_id)[0] == "done", timeout=30)
    after_run = invariant()[action_id]

    with fault_app.app_context():
        job = db.session.get(InvalidationJob, job_id)
        assert invalidation.request_undo(job)
        db.session.commit()
        assert invalidation.dispatch(invalidation.UNDO_TASK, job_id)
        db.session.remove()
    wait_for(lambda: job_state(job_id)[0] == "undone", timeout=30)
    after_undo = invariant()[action_id]
    assert after_run == (0, before[1] - matched)
    assert after_undo == before
    report(
        11,
        f"bulk invalidation on the worker: {matched} matched; (pending, confirmed) {before} -> "
        f"{after_run} after the job -> {after_undo} after undo; invariant held at each step",
    )
