"""Running and undoing bulk invalidation jobs.

This module owns its transactions: it commits each batch (``unit_of_work.commit()``), so a
job's progress survives a worker that dies, and a restarted job carries on where it stopped
(its batches only touch rows not yet invalidated). Choosing what a job matches, creating and
dispatching it live in :mod:`petitions.abuse.services`.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import insert, select, update

from petitions.abuse.models import InvalidatedSignature, InvalidationJob, JobStatus
from petitions.abuse.services import Criteria, batches
from petitions.core import events, task_names, unit_of_work
from petitions.core.dispatch import nudge
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.signing.models import Signature

log = logging.getLogger(__name__)


def run_job(job_id: int) -> InvalidationJob | None:
    """Invalidate everything the job matches, batch by batch, committing progress."""
    job = db.session.get(InvalidationJob, job_id, with_for_update=True)
    if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        unit_of_work.rollback()
        return job
    job.status = JobStatus.RUNNING.value
    job.stamp = job.stamp or utcnow()
    unit_of_work.commit()
    criteria = Criteria.from_json(job.criteria)
    upto = as_utc(job.created_at)
    stamp = job.stamp
    batch = int(current_app.config["INVALIDATION_BATCH_SIZE"])
    try:
        for ids, seen in batches(job.action_id, criteria, upto, batch):
            changed: list[int] = []
            if ids:
                changed = list(
                    db.session.scalars(
                        update(Signature)
                        .where(Signature.id.in_(ids), Signature.invalidated_at.is_(None))
                        .values(invalidated_at=stamp, needs_count=True)
                        .returning(Signature.id)
                        .execution_options(synchronize_session=False)
                    )
                )
                if changed:
                    db.session.execute(
                        insert(InvalidatedSignature),
                        [{"job_id": job.id, "signature_id": sid} for sid in changed],
                    )
                    events.signatures_invalidated.send("abuse", signature_ids=changed)
            job.processed += seen
            job.changed += len(changed)
            unit_of_work.commit()
            nudge(task_names.FOLD_COUNTS)
    except Exception as exc:
        unit_of_work.rollback()
        job = db.session.get(InvalidationJob, job_id)
        if job is not None:
            job.error = f"{type(exc).__name__}"[:200]
            unit_of_work.commit()
        raise
    job.status = JobStatus.DONE.value
    job.finished_at = utcnow()
    unit_of_work.commit()
    nudge(task_names.FOLD_COUNTS)
    log.info("invalidation job %s: %d signatures invalidated", job.id, job.changed)
    return job


def undo_job(job_id: int) -> InvalidationJob | None:
    """Restore the signatures this job invalidated (those still carrying its stamp)."""
    job = db.session.get(InvalidationJob, job_id, with_for_update=True)
    if job is None or job.status not in (JobStatus.UNDO_QUEUED, JobStatus.UNDOING):
        unit_of_work.rollback()
        return job
    job.status = JobStatus.UNDOING.value
    unit_of_work.commit()
    batch = int(current_app.config["INVALIDATION_BATCH_SIZE"])
    while True:
        ids = list(
            db.session.scalars(
                select(Signature.id)
                .join(InvalidatedSignature, InvalidatedSignature.signature_id == Signature.id)
                .where(
                    InvalidatedSignature.job_id == job.id,
                    Signature.invalidated_at == job.stamp,
                )
                .order_by(Signature.id)
                .limit(batch)
            )
        )
        if not ids:
            break
        restored = db.session.execute(
            update(Signature)
            .where(Signature.id.in_(ids), Signature.invalidated_at == job.stamp)
            .values(invalidated_at=None, needs_count=True)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        job.restored += int(restored or 0)
        unit_of_work.commit()
        nudge(task_names.FOLD_COUNTS)
    job.status = JobStatus.UNDONE.value
    job.undone_at = utcnow()
    unit_of_work.commit()
    nudge(task_names.FOLD_COUNTS)
    log.info("invalidation job %s undone: %d signatures restored", job.id, job.restored)
    return job
