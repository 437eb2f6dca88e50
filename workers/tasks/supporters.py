"""Retention: anonymise signatures of long-closed actions, purge expired unconfirmed ones.

Idempotent (works from row state), chunked (one commit per chunk of 2,000 rows), locked so two
runs never overlap; retries only on database errors, three times with backoff. Counts move
only through the fold: anonymised confirmed signatures keep counting, purged unconfirmed
ones are first taken out of the pending count and deleted on a later run once folded.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.core import task_names
from petitions.core.dispatch import nudge
from petitions.counting.services import FOLD_TASK
from petitions.extensions import db
from petitions.supporters import services
from workers.tasks.locks import periodic_lock

log = logging.getLogger(__name__)

RETENTION_TASK = task_names.APPLY_RETENTION


@shared_task(
    name=RETENTION_TASK,
    soft_time_limit=600,
    time_limit=660,
)
def apply_retention() -> dict[str, int]:
    totals = {"anonymised": 0, "unconfirmed_anonymised": 0, "unconfirmed_deleted": 0}
    with periodic_lock(RETENTION_TASK, 900) as got:
        if not got:
            return totals
        for _ in range(500):
            n = services.anonymise_closed_actions()
            db.session.commit()
            totals["anonymised"] += n
            if not n:
                break
        for _ in range(500):
            stale, deleted = services.purge_unconfirmed()
            db.session.commit()
            totals["unconfirmed_anonymised"] += stale
            totals["unconfirmed_deleted"] += deleted
            if not stale and not deleted:
                break
    if totals["anonymised"] or totals["unconfirmed_anonymised"]:
        nudge(FOLD_TASK)
        log.info("retention: %s", totals)
    return totals
