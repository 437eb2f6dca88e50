"""CSV exports of an action's confirmed signatures, written by a worker.

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

import csv
import logging
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.core import task_names
from petitions.core.csvsafe import safe_cell
from petitions.core.time import as_utc, utcnow
from petitions.core.unit_of_work import after_commit
from petitions.exports import handin
from petitions.exports.models import ExportJob, ExportKind, ExportStatus
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.supporters.consent import consenting

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
) -> ExportJob:
    """Queue an export (flushed, not committed). The caller commits, then ``dispatch(job.id)``."""
    if grouping not in handin.GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    job = ExportJob(
        organiser_id=organiser_id,
        action_id=action.id,
        kind=kind.value,
        grouping=grouping if kind == ExportKind.HANDIN else "",
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
        detail={"export_id": job.id, "grouping": job.grouping},
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


def _rows_query(action_id: int, campaign_id: int):  # type: ignore[no-untyped-def]
    """The confirmed, valid signatures of the action, with the signer's *current* consent
    (``supporters.consent.consenting``: unsubscribes, bounces and erasure count, not only the
    tick at signing time)."""
    return (
        select(
            Signature.id,
            Signature.name,
            Signature.email,
            Signature.postcode,
            Signature.country,
            Signature.comment,
            Signature.pledge_option,
            consenting(campaign_id, Signature.email_normalised).label("consenting"),
            Signature.consent_version_id,
            Signature.source,
            Signature.referrer,
            Signature.created_at,
            Signature.confirmed_at,
        )
        .where(
            Signature.action_id == action_id,
            Signature.is_confirmed,
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
    if job.kind == ExportKind.HANDIN:
        return _run_handin(job)
    action_id = job.action_id
    campaign_id = job.action.campaign_id
    started_at = job.started_at
    total = db.session.scalar(
        select(func.count()).select_from(
            _rows_query(action_id, campaign_id).order_by(None).subquery()
        )
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
                _rows_query(action_id, campaign_id)
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
                        "yes" if row.consenting else "no",
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
        _record_failure(job_id, partial, exc)
        raise
    return _record_done(job_id, started_at, folder / name, done, int(total or 0))


def _run_handin(job: ExportJob) -> str | None:
    """Write the hand-in PDF for a claimed job: rows streamed from a server-side cursor."""
    job_id, grouping = job.id, job.grouping
    started_at = job.started_at
    action = job.action
    total = handin.count_rows(action.id)
    groups = handin.group_counts(action.id) if grouping else {}
    cover = handin.cover_for(action, grouping)
    _set(job_id, total=total)
    db.session.commit()  # end the read transaction before the long stream

    folder = export_dir()
    name = f"handin-{job_id}-{secrets.token_hex(8)}.pdf"
    partial = folder / (name + ".part")

    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            _set(job_id, done=done)

    try:
        with db.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=2000).execute(
                handin.rows_query(action.id, grouping)
            )
            done = handin.write_handin(
                action,
                partial,
                rows,
                grouping=grouping,
                groups=groups,
                cover=cover,
                on_row=progress,
            )
        os.replace(partial, folder / name)
    except Exception as exc:
        _record_failure(job_id, partial, exc)
        raise
    return _record_done(job_id, started_at, folder / name, done, total)


def _record_failure(job_id: int, partial: Path, exc: BaseException) -> None:
    """A writer failed: drop its partial file. A database hiccup is retried by the task (it
    claims QUEUED jobs); anything else fails the job."""
    partial.unlink(missing_ok=True)
    retry = isinstance(exc, OperationalError)
    _set(
        job_id,
        status=(ExportStatus.QUEUED if retry else ExportStatus.FAILED).value,
        error=type(exc).__name__[:200],
        finished_at=utcnow(),
    )


def _record_done(
    job_id: int, started_at: datetime | None, path: Path, done: int, total: int
) -> str | None:
    """Mark the job done with its file, or delete the file if the job was taken back."""
    size = path.stat().st_size
    now = utcnow()
    with db.engine.begin() as conn:
        # Only if nobody took the job back meanwhile (an erasure re-queues a running export).
        finished = conn.execute(
            update(ExportJob)
            .where(
                ExportJob.id == job_id,
                ExportJob.status == ExportStatus.RUNNING.value,
                ExportJob.started_at == started_at,
            )
            .values(
                status=ExportStatus.DONE.value,
                done=done,
                total=max(done, total),
                file_name=path.name,
                size_bytes=min(size, 2**31 - 1),
                finished_at=now,
                expires_at=now + ttl(),
            )
        ).rowcount
    db.session.expire_all()
    if not finished:
        path.unlink(missing_ok=True)
        return None
    return path.name


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
    _delete_orphans()
    for job_id in lost:
        dispatch(job_id)
    return len(expired), len(lost)


ORPHAN_GRACE = timedelta(minutes=10)


def _delete_orphans() -> int:
    """Delete finished files no live job refers to (a crash between an erasure's commit and
    its file deletion, say). Younger files are left: a worker may be about to record one."""
    folder = export_dir()
    live = set(
        db.session.scalars(select(ExportJob.file_name).where(ExportJob.file_name.is_not(None)))
    )
    cutoff = (utcnow() - ORPHAN_GRACE).timestamp()
    removed = 0
    for path in folder.glob("export-*.csv*"):
        if path.name not in live and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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
