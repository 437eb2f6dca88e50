"""Sending the outbox.

Retry policy: SMTP trouble is handled per message in the outbox (4xx and timeouts back off
exponentially with jitter, 5xx fails for good and suppresses the address), so the task
itself only retries on database errors, three times with backoff. A hard time limit frees
the worker even if a server stops answering in a way the socket timeout misses.
"""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from petitions.core.dispatch import clear_nudge, nudge
from petitions.mailer import jobs, services

log = logging.getLogger(__name__)


@shared_task(
    name=services.DRAIN_TASK,
    soft_time_limit=300,
    time_limit=330,
    acks_late=True,
)
def drain_outbox() -> dict[str, int]:
    clear_nudge(services.DRAIN_TASK)
    report = jobs.drain(max_seconds=current_app.config["OUTBOX_DRAIN_SECONDS"])
    if report.more:
        nudge(services.DRAIN_TASK)  # carry on in a fresh task, behind what queued meanwhile
    if report.sent or report.retried or report.failed:
        log.info(
            "outbox: sent %d, skipped %d, retry later %d, failed %d",
            report.sent,
            report.skipped,
            report.retried,
            report.failed,
        )
    return {"sent": report.sent, "retried": report.retried, "failed": report.failed}
