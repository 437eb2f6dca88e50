"""Folding confirmations into the tallies, and the periodic reconciliation.

Both are idempotent (they work from signature state, not from messages), hold a database
advisory lock so two never interleave, and retry on database errors with backoff.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.core import task_names
from petitions.core.dispatch import clear_nudge
from petitions.counting import jobs

log = logging.getLogger(__name__)


@shared_task(
    name=jobs.FOLD_TASK,
    soft_time_limit=120,
    time_limit=150,
    acks_late=True,
)
def fold_counts() -> int:
    clear_nudge(jobs.FOLD_TASK)
    return jobs.fold_counts()


@shared_task(
    name=task_names.RECONCILE_COUNTS,
    soft_time_limit=900,
    time_limit=960,
    acks_late=True,
)
def reconcile_counts() -> int:
    repairs = jobs.reconcile_counts()
    if repairs:
        log.warning("reconcile: %d tallies repaired", len(repairs))
    return len(repairs)
