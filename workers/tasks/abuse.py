"""Abuse jobs: the periodic trending scan (which also re-runs lost jobs) and bulk invalidation.

Invalidation jobs are idempotent (each batch only takes rows not yet invalidated, undo only
rows still carrying the job's stamp), so they ack late and a killed worker's job runs again.
"""

from __future__ import annotations

import logging

from celery import shared_task

from petitions.abuse import jobs, trending
from petitions.abuse import services as invalidation
from petitions.core import task_names
from petitions.core.unit_of_work import after_commit

log = logging.getLogger(__name__)

SCAN_TASK = task_names.SCAN_ABUSE


@shared_task(
    name=SCAN_TASK,
    soft_time_limit=120,
    time_limit=150,
)
def scan() -> int:
    found = trending.detect_trending()
    for job_id, task_name in invalidation.pending_jobs():
        after_commit(invalidation.dispatch, task_name, job_id)
    return len(found)


@shared_task(
    name=invalidation.RUN_TASK,
    soft_time_limit=1800,
    time_limit=1900,
    acks_late=True,
)
def run_invalidation(job_id: int) -> int:
    job = jobs.run_job(job_id)
    return job.changed if job is not None else 0


@shared_task(
    name=invalidation.UNDO_TASK,
    soft_time_limit=1800,
    time_limit=1900,
    acks_late=True,
)
def undo_invalidation(job_id: int) -> int:
    job = jobs.undo_job(job_id)
    return job.restored if job is not None else 0
