"""Delivering webhooks.

Retry policy: each delivery row carries its own schedule (exponential backoff with jitter up
to ``WEBHOOK_MAX_ATTEMPTS``, kept in the database so a restart loses nothing), so the task
itself only retries on database errors. Beat runs it every ``WEBHOOK_SWEEP_SECONDS`` and a
commit that queued deliveries nudges it at once; the lease makes overlapping runs harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.core.dispatch import clear_nudge
from petitions.webhooks import jobs
from petitions.webhooks.events import DELIVER_TASK

log = logging.getLogger(__name__)


@shared_task(
    name=DELIVER_TASK,
    soft_time_limit=240,
    time_limit=270,
    acks_late=True,
)
def deliver_webhooks() -> dict[str, int]:
    clear_nudge(DELIVER_TASK)
    report = jobs.deliver_due()
    if report.delivered or report.retried or report.failed:
        log.info(
            "webhooks: delivered %d, retry later %d, failed %d",
            report.delivered,
            report.retried,
            report.failed,
        )
    return {"delivered": report.delivered, "retried": report.retried, "failed": report.failed}
