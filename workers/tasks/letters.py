"""Letter deliveries to targets (petitions.letters.jobs).

Retry policy: the one in ``petitions/core/tasks.py`` (database errors, three times); each
delivery row records its own fate, committed before and after SMTP, so a redelivered or
overlapping run never sends a letter twice (claims use ``SKIP LOCKED``). Beat runs
``deliver_letters`` every ``LETTER_SWEEP_SECONDS`` (rows over a target's rate wait for the
next minute); a nudge after each confirmation runs it at once.

``send_letter_digests`` (beat, every minute; nudged when an organiser sends a digest now)
sends each recipient one email with the letters waiting for its daily digest
(``petitions.letters.digest.jobs``).

``fold_letter_counts`` folds deliveries into the per-recipient tallies
(``petitions.letters.counts.jobs``), nudged after a confirmation, a withdrawal or a send and
run by beat every ``COUNT_INTERVAL_SECONDS``; ``reconcile_letter_counts`` repairs them from the
rows every ``RECONCILE_INTERVAL_SECONDS``.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.core.dispatch import nudge
from petitions.letters import jobs
from petitions.letters.counts import jobs as counts
from petitions.letters.digest import jobs as digests

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
    if report.sent:
        nudge(counts.FOLD_TASK)  # the per-recipient counts rise now, not at the next sweep
    return {"sent": report.sent, "waiting": report.waiting}


@shared_task(name=digests.DIGEST_TASK, soft_time_limit=240, time_limit=270)
def send_letter_digests() -> dict[str, int]:
    # Not acks_late: each digest's rows are "sending" (committed) before SMTP, never repeated.
    report = digests.send_due()
    if report.digests:
        log.info("letters: %d digests with %d letters", report.digests, report.letters)
        nudge(counts.FOLD_TASK)
    return {"digests": report.digests, "letters": report.letters}


@shared_task(name=counts.FOLD_TASK, acks_late=True, soft_time_limit=120, time_limit=150)
def fold_letter_counts() -> int:
    # Idempotent: each row's change is claimed by a conditional UPDATE under an advisory lock.
    return counts.fold()


@shared_task(name=counts.RECONCILE_TASK, acks_late=True, soft_time_limit=300, time_limit=330)
def reconcile_letter_counts() -> int:
    return len(counts.reconcile())
