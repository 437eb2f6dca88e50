"""Running export jobs (run by the workers). This module owns its transactions.

A job is claimed (a committed status change, so two workers never write one file), its rows
streamed from a server-side cursor straight into a file under ``EXPORT_DIR`` with progress
written on short transactions of their own, and finished or failed with its reason. The sweep
expires old files, deletes orphans and re-queues jobs whose worker was lost. Requesting a job,
dispatching it and finding its file are ``exports/services.py``.
"""

from __future__ import annotations

import csv
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from petitions.core import unit_of_work
from petitions.core.csvsafe import safe_cell
from petitions.core.i18n import in_language
from petitions.core.time import as_utc, utcnow
from petitions.exports import handin
from petitions.exports.models import ExportJob, ExportKind, ExportStatus
from petitions.exports.services import (
    COLUMNS,
    PROGRESS_EVERY,
    STALE_QUEUED,
    STALE_RUNNING,
    dispatch,
    export_dir,
    ttl,
)
from petitions.extensions import db
from petitions.questions.models import ActionQuestion, SignatureAnswer
from petitions.questions.queries import questions_of
from petitions.signing.models import Signature
from petitions.supporters.consent import consenting


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
    unit_of_work.commit()
    return db.session.get(ExportJob, job_id) if claimed else None


def _answer_columns(questions: list[ActionQuestion]) -> list[Any]:
    """One column per custom question: the signature's answer ("" when none)."""
    return [
        select(SignatureAnswer.value)
        .where(
            SignatureAnswer.signature_id == Signature.id,
            SignatureAnswer.question_id == question.id,
        )
        .scalar_subquery()
        .label(f"answer_{question.id}")
        for question in questions
    ]


def _question_header(question: ActionQuestion) -> str:
    return safe_cell(question.label + (" (sensitive)" if question.sensitive else ""))


def _rows_query(  # type: ignore[no-untyped-def]
    action_id: int, campaign_id: int, questions: list[ActionQuestion] | None = None
):
    """The confirmed, valid signatures of the action, with the signer's *current* consent
    (``supporters.consent.consenting``: unsubscribes, bounces and erasure count, not only the
    tick at signing time), and their answers to the action's questions."""
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
            *_answer_columns(questions or []),
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
    asked = questions_of(action_id)
    total = db.session.scalar(
        select(func.count()).select_from(
            _rows_query(action_id, campaign_id).order_by(None).subquery()
        )
    )
    _set(job_id, total=int(total or 0))
    unit_of_work.commit()  # end the read transaction before the long stream

    folder = export_dir()
    name = f"export-{job_id}-{secrets.token_hex(8)}.csv"
    partial = folder / (name + ".part")
    done = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle, db.engine.connect() as conn:
            handle.write("\ufeff")  # so spreadsheets read UTF-8 names correctly
            writer = csv.writer(handle)
            writer.writerow(COLUMNS + [_question_header(q) for q in asked])
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(
                _rows_query(action_id, campaign_id, asked)
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
                        *(safe_cell(row._mapping[f"answer_{q.id}"] or "") for q in asked),
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
    """Write the hand-in PDF for a claimed job: rows streamed from a server-side cursor, every
    word in the job's language (the default if it is no longer enabled)."""
    with in_language(job.language):
        return _write_handin(job)


def _write_handin(job: ExportJob) -> str | None:
    job_id, grouping = job.id, job.grouping
    started_at = job.started_at
    action = job.action
    total = handin.count_rows(action.id)
    groups = handin.group_counts(action.id) if grouping else {}
    cover = handin.cover_for(action, grouping)
    _set(job_id, total=total)
    unit_of_work.commit()  # end the read transaction before the long stream

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
    unit_of_work.commit()
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
