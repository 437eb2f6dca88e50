"""CSV exports: one task per job (idempotent: a done or taken job is skipped), and a sweep."""

from __future__ import annotations

from celery import shared_task

from petitions.core import task_names
from petitions.exports import jobs, services


@shared_task(
    name=services.EXPORT_TASK,
    soft_time_limit=3600,
    time_limit=3660,
)
def run_export(job_id: int) -> str | None:
    return jobs.run_export(job_id)


@shared_task(name=task_names.SWEEP_EXPORTS, soft_time_limit=120, time_limit=150)
def sweep_exports() -> tuple[int, int]:
    return jobs.sweep()
