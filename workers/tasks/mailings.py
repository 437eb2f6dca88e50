"""Sending mailings, re-queueing interrupted ones, and milestone checks.

Retry policy: SMTP trouble is handled per delivery (4xx goes back to pending, up to five
attempts; 5xx fails and suppresses the address; a cut connection marks that one delivery
unknown and leaves the rest pending), so the tasks retry only on database errors, three
times with backoff. ``send_mailing`` is safe to run twice at once or to redeliver: rows are
leased with ``SKIP LOCKED`` and each one's state is committed before and after SMTP.
It runs for about a minute and then queues itself again, so pausing, other mailings and
worker restarts all get their turn. ``resume_mailings`` (beat) re-queues any mailing whose
worker stopped; its leases lapse after ``MAILING_LEASE_SECONDS``.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.mailings import jobs, milestones, services
from workers.tasks.locks import periodic_lock

log = logging.getLogger(__name__)


@shared_task(
    name=services.SEND_TASK,
    soft_time_limit=240,
    time_limit=270,
    acks_late=True,
)
def send_mailing(mailing_id: int) -> dict[str, int]:
    result = jobs.run(int(mailing_id), budget_seconds=60.0)
    report = result.batches
    if report.sent or report.failed or report.unknown:
        log.info(
            "mailing %s: sent %d, skipped %d, failed %d, retry %d, unknown %d",
            mailing_id,
            report.sent,
            report.skipped,
            report.failed,
            report.retry,
            report.unknown,
        )
    if result.more:
        send_mailing.apply_async(args=[int(mailing_id)])
    return {"sent": report.sent, "failed": report.failed}


@shared_task(
    name=services.SWEEP_TASK,
    soft_time_limit=60,
    time_limit=90,
)
def resume_mailings() -> int:
    with periodic_lock(services.SWEEP_TASK, 60) as got:
        if not got:
            return 0
        due = jobs.due_mailings()
        for mailing_id in due:
            send_mailing.apply_async(args=[mailing_id])
        return len(due)


@shared_task(
    name=milestones.MILESTONE_TASK,
    soft_time_limit=60,
    time_limit=90,
)
def check_milestones() -> int:
    with periodic_lock(milestones.MILESTONE_TASK, 60) as got:
        if not got:
            return 0
        # The unit of work commits; the outbox and the sweeper are nudged after that.
        return len(milestones.check_milestones())
