"""CSV exports of an action's confirmed signatures, written by a worker (the job itself, which
owns its transactions, is ``exports/jobs.py``).

The web side writes an ``ExportJob`` row (and an audit row) and names the task after the
commit. The worker streams the rows from a server-side cursor straight into a file under
``instance/exports`` (constant memory whatever the size), reports progress on a separate
connection every few thousand rows, then renames the finished file into place. Files expire
after ``EXPORT_TTL_HOURS``; the periodic sweep deletes them and re-queues jobs nobody picked up.

Erasure reaches the files: when a person is erased (``person_erased``), every live export of an
action they had signed is *regenerated* without them (:func:`redo_for_erasure`): its file is
deleted after the erasure commits and the job runs again, so no stored or downloadable file
still holds them. A job that was already running is redone too (its file, written from rows
read before the erasure, is thrown away). The sweep deletes any file no live job refers to.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.core import task_names
from petitions.core.i18n import enabled
from petitions.core.time import as_utc, utcnow
from petitions.core.unit_of_work import after_commit
from petitions.exports import handin
from petitions.exports.models import ExportJob, ExportKind, ExportStatus
from petitions.extensions import db
from petitions.signing.models import Signature

log = logging.getLogger(__name__)

EXPORT_TASK = task_names.RUN_EXPORT
PROGRESS_EVERY = 5000
STALE_QUEUED = timedelta(minutes=2)
STALE_RUNNING = timedelta(hours=2)

COLUMNS = [
    "signature_id",
    "name",
    "email",
    "postcode",
    "country",
    "comment",
    "pledge_option",
    "consent_to_contact",
    "consent_version_id",
    "source",
    "referrer",
    "signed_at",
    "confirmed_at",
]


def export_dir() -> Path:
    folder = Path(
        current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path) / "exports"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ttl() -> timedelta:
    return timedelta(hours=float(current_app.config.get("EXPORT_TTL_HOURS", 24)))


def request_export(
    action: Action,
    organiser_id: int,
    ip_address: str | None = None,
    *,
    kind: ExportKind = ExportKind.CSV,
    grouping: str = "",
    language: str | None = None,
) -> ExportJob:
    """Queue an export (flushed, not committed). The caller commits, then ``dispatch(job.id)``."""
    if grouping not in handin.GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    if language is not None and language not in enabled():
        raise ValueError(f"unknown language {language!r}")
    job = ExportJob(
        organiser_id=organiser_id,
        action_id=action.id,
        kind=kind.value,
        grouping=grouping if kind == ExportKind.HANDIN else "",
        language=language if kind == ExportKind.HANDIN else None,
        status=ExportStatus.QUEUED.value,
        expires_at=utcnow() + ttl(),
    )
    db.session.add(job)
    db.session.flush()
    record(
        "export.create" if kind == ExportKind.CSV else "export.handin",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        detail={"export_id": job.id, "grouping": job.grouping, "language": job.language},
        ip_address=ip_address,
    )
    return job


def dispatch(job_id: int) -> bool:
    """Name the task after the commit. A failed publish is fine: the sweep re-queues the job."""
    if not current_app.config.get("TASK_DISPATCH", True):
        return False
    try:
        current_app.extensions["celery"].send_task(EXPORT_TASK, args=[job_id])
    except Exception as exc:  # broker down: the sweeper is the safety net
        log.warning("export %s not queued (%s); the sweep will", job_id, type(exc).__name__)
        return False
    return True


def file_of(job: ExportJob) -> Path | None:
    """The finished file, if it is there and has not expired."""
    expires_at = as_utc(job.expires_at)
    if job.status != ExportStatus.DONE or not job.file_name:
        return None
    if expires_at is None or expires_at <= utcnow():
        return None
    path = export_dir() / job.file_name
    return path if path.is_file() else None


def _delete_file(name: str) -> None:
    (export_dir() / name).unlink(missing_ok=True)


def redo_for_erasure(signature_ids: list[int]) -> list[int]:
    """Live exports of the actions these (erased) signatures belong to are regenerated: each job
    goes back to the queue, loses its file name (so nothing can be downloaded meanwhile), and
    after the commit its old file is deleted and the task named. Returns the job ids."""
    if not signature_ids:
        return []
    action_ids = select(Signature.action_id).where(Signature.id.in_(signature_ids))
    jobs = list(
        db.session.scalars(
            select(ExportJob).where(
                ExportJob.action_id.in_(action_ids),
                ExportJob.status.in_([ExportStatus.DONE.value, ExportStatus.RUNNING.value]),
                ExportJob.expires_at > utcnow(),
            )
        )
    )
    for job in jobs:
        if job.file_name:
            after_commit(_delete_file, job.file_name)
        job.status = ExportStatus.QUEUED.value
        job.file_name = None
        job.done = 0
        job.started_at = None
        job.finished_at = None
        job.created_at = utcnow()
        after_commit(dispatch, job.id)
    db.session.flush()
    return [job.id for job in jobs]


def jobs_for(organiser_id: int, action_id: int | None = None) -> list[ExportJob]:
    query = select(ExportJob).where(ExportJob.organiser_id == organiser_id)
    if action_id is not None:
        query = query.where(ExportJob.action_id == action_id)
    return list(db.session.scalars(query.order_by(ExportJob.id.desc()).limit(20)))
