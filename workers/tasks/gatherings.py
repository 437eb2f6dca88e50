"""Event reminders and follow-ups (petitions.gatherings.jobs).

Retry policy: none at the task level beyond database errors (three times with backoff): each
delivery row records its own fate, committed before and after SMTP, so a redelivered or
overlapping run never sends anything twice. Beat runs ``send_reminders`` every
``EVENT_REMINDER_SWEEP_SECONDS`` under a lock so two runs never overlap.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.gatherings import jobs
from workers.tasks.locks import periodic_lock

log = logging.getLogger(__name__)


@shared_task(
    name=jobs.REMINDER_TASK,
    soft_time_limit=240,
    time_limit=270,
)
def send_reminders() -> dict[str, int]:
    with periodic_lock("event-reminders", 300) as got:
        if not got:
            return {"skipped": 1}
        report = jobs.run()
    if report.sent or report.failed or report.unknown:
        log.info(
            "event messages: planned %d, sent %d, skipped %d, failed %d, unknown %d",
            report.planned,
            report.sent,
            report.skipped,
            report.failed,
            report.unknown,
        )
    return {"planned": report.planned, "sent": report.sent}
