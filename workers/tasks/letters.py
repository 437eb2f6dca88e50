"""Letter deliveries to targets (petitions.letters.jobs).

Retry policy: the one in ``petitions/core/tasks.py`` (database errors, three times); each
delivery row records its own fate, committed before and after SMTP, so a redelivered or
overlapping run never sends a letter twice (claims use ``SKIP LOCKED``). Beat runs
``deliver_letters`` every ``LETTER_SWEEP_SECONDS`` (rows over a target's rate wait for the
next minute); a nudge after each confirmation runs it at once.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.letters import jobs

log = logging.getLogger(__name__)


@shared_task(
    name=jobs.DELIVER_TASK,
    soft_time_limit=240,
    time_limit=270,
)
def deliver_letters() -> dict[str, int]:
    # No lock: overlapping runs claim different rows (SKIP LOCKED) and share the rate.
    report = jobs.run()
    if report.sent or report.failed or report.unknown:
        log.info(
            "letters: sent %d, skipped %d, failed %d, unknown %d, waiting %d",
            report.sent,
            report.skipped,
            report.failed,
            report.unknown,
            report.waiting,
        )
    return {"sent": report.sent, "waiting": report.waiting}
