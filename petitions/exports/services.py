"""CSV exports of an action's confirmed signatures, written by a worker.

The web side writes an ``ExportJob`` row (and an audit row) and names the task after the
commit. The worker streams the rows from a server-side cursor straight into a file under
``instance/exports`` (constant memory whatever the size), reports progress on a separate
connection every few thousand rows, then renames the finished file into place. Files expire
after ``EXPORT_TTL_HOURS``; the periodic sweep deletes them and re-queues jobs nobody picked up.
"""

from __future__ import annotations

import csv
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.core import task_names
from petitions.core.time import as_utc, utcnow
from petitions.exports.csvsafe import safe_cell
from petitions.exports.models import ExportJob, ExportStatus
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


def request_export(action: Action, organiser_id: int, ip_address: str | None = None) -> ExportJob:
    """Queue an export (flushed, not committed). The caller commits, then ``dispatch(job.id)``."""
    job = ExportJob(
        organiser_id=organiser_id,
        action_id=action.id,
        status=ExportStatus.QUEUED.value,
        expires_at=utcnow() + ttl(),
    )
    db.session.add(job)
    db.session.flush()
    record(
        "export.create",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        detail={"export_id": job.id},
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


def _set(job_id: int, **values: object) -> None:
    """Write progress on its own short transaction, outside the streaming one."""
    with db.engine.begin() as conn:
        conn.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values))


def _claim(job_id: int) -> ExportJob | None:
    """Take a queued job (or one whose worker died); None if it is done or taken."""
    now = utcnow()
    claimed = db.session.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job_id,
            (ExportJob.status == ExportStatus.QUEUED.value)
            | (
                (ExportJob.status == ExportStatus.RUNNING.value)
                & (ExportJob.started_at < now - STALE_RUNNING)
            ),
        )
        .values(status=ExportStatus.RUNNING.value, started_at=now, done=0)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    return db.session.get(ExportJob, job_id) if claimed else None


def _rows_query(action_id: int):  # type: ignore[no-untyped-def]
    return (
        select(
            Signature.id,
            Signature.name,
            Signature.email,
            Signature.postcode,
            Signature.country,
            Signature.comment,
            Signature.pledge_option,
            Signature.wants_updates,
            Signature.consent_version_id,
            Signature.source,
            Signature.referrer,
            Signature.created_at,
            Signature.confirmed_at,
        )
        .where(
            Signature.action_id == action_id,
            Signature.confirmed_at.is_not(None),
            Signature.invalidated_at.is_(None),
            Signature.withdrawn_at.is_(None),
            Signature.suspect.is_(False),
        )
        .order_by(Signature.id)
    )


def _iso(value: object) -> str:
    moment = as_utc(value) if value is not None else None  # type: ignore[arg-type]
    return moment.isoformat(timespec="seconds") if moment else ""


def run_export(job_id: int) -> str | None:
    """Write the CSV for one job. Idempotent: a job already done or taken is left alone."""
    job = _claim(job_id)
    if job is None:
        return None
    action_id = job.action_id
    total = db.session.scalar(
        select(func.count()).select_from(_rows_query(action_id).order_by(None).subquery())
    )
    _set(job_id, total=int(total or 0))
    db.session.commit()  # end the read transaction before the long stream

    folder = export_dir()
    name = f"export-{job_id}-{secrets.token_hex(8)}.csv"
    partial = folder / (name + ".part")
    done = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle, db.engine.connect() as conn:
            handle.write("\ufeff")  # so spreadsheets read UTF-8 names correctly
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(
                _rows_query(action_id)
            )
            for row in result:
                writer.writerow(
                    [
                        row.id,
                        safe_cell(row.name),
                        safe_cell(row.email),
                        safe_cell(row.postcode),
                        safe_cell(row.country),
                        safe_cell(row.comment),
                        safe_cell(row.pledge_option),
                        "yes" if row.wants_updates else "no",
                        row.consent_version_id or "",
                        safe_cell(row.source),
                        safe_cell(row.referrer),
                        _iso(row.created_at),
                        _iso(row.confirmed_at),
                    ]
                )
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _set(job_id, done=done)
        os.replace(partial, folder / name)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        # A database hiccup is retried by the task (it claims QUEUED jobs); anything else fails.
        retry = isinstance(exc, OperationalError)
        _set(
            job_id,
            status=(ExportStatus.QUEUED if retry else ExportStatus.FAILED).value,
            error=type(exc).__name__[:200],
            finished_at=utcnow(),
        )
        raise
    size = (folder / name).stat().st_size
    now = utcnow()
    _set(
        job_id,
        status=ExportStatus.DONE.value,
        done=done,
        total=max(done, int(total or 0)),
        file_name=name,
        size_bytes=min(size, 2**31 - 1),
        finished_at=now,
        expires_at=now + ttl(),
    )
    db.session.expire_all()
    return name


def file_of(job: ExportJob) -> Path | None:
    """The finished file, if it is there and has not expired."""
    expires_at = as_utc(job.expires_at)
    if job.status != ExportStatus.DONE or not job.file_name:
        return None
    if expires_at is None or expires_at <= utcnow():
        return None
    path = export_dir() / job.file_name
    return path if path.is_file() else None


def sweep() -> tuple[int, int]:
    """Delete expired files and re-queue lost jobs. Returns (expired, requeued)."""
    now = utcnow()
    expired = list(
        db.session.scalars(
            select(ExportJob).where(
                ExportJob.expires_at <= now, ExportJob.status != ExportStatus.EXPIRED.value
            )
        )
    )
    for job in expired:
        if job.file_name:
            (export_dir() / job.file_name).unlink(missing_ok=True)
        job.status = ExportStatus.EXPIRED.value
        job.file_name = None
    lost = list(
        db.session.scalars(
            select(ExportJob.id).where(
                ExportJob.expires_at > now,
                (
                    (ExportJob.status == ExportStatus.QUEUED.value)
                    & (ExportJob.created_at < now - STALE_QUEUED)
                )
                | (
                    (ExportJob.status == ExportStatus.RUNNING.value)
                    & (ExportJob.started_at < now - STALE_RUNNING)
                ),
            )
        )
    )
    db.session.commit()
    for job_id in lost:
        dispatch(job_id)
    return len(expired), len(lost)


def jobs_for(organiser_id: int, action_id: int | None = None) -> list[ExportJob]:
    query = select(ExportJob).where(ExportJob.organiser_id == organiser_id)
    if action_id is not None:
        query = query.where(ExportJob.action_id == action_id)
    return list(db.session.scalars(query.order_by(ExportJob.id.desc()).limit(20)))
