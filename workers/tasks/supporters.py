"""Retention: anonymise signatures of long-closed actions, purge expired unconfirmed ones.

The work is in :mod:`petitions.supporters.jobs` (chunked, one commit per chunk, idempotent);
this task holds a lock so two runs never overlap. Retries: the base task's policy.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.core import task_names
from petitions.core.dispatch import nudge
from petitions.counting.jobs import FOLD_TASK
from petitions.supporters import jobs
from workers.tasks.locks import periodic_lock

log = logging.getLogger(__name__)

RETENTION_TASK = task_names.APPLY_RETENTION


@shared_task(
    name=RETENTION_TASK,
    soft_time_limit=600,
    time_limit=660,
)
def apply_retention() -> dict[str, int]:
    with periodic_lock(RETENTION_TASK, 900) as got:
        if not got:
            return {"anonymised": 0, "unconfirmed_anonymised": 0, "unconfirmed_deleted": 0}
        totals = jobs.apply_retention()
    if totals["anonymised"] or totals["unconfirmed_anonymised"]:
        nudge(FOLD_TASK)
        log.info("retention: %s", totals)
    return totals
