"""Bulk invalidation: describe, preview the count, create a job and ask for its undo; the
batches themselves run in ``abuse/jobs.py``, which owns their transactions.

Counts follow exactly because nothing here touches a tally: each batch sets
``invalidated_at`` and ``needs_count`` on the signatures it changes and records them, in one
transaction, and the count worker folds them like any other change. Undo clears
``invalidated_at`` on exactly the rows this job stamped (and that still carry its stamp).
A job is re-runnable: each batch only takes rows not yet invalidated, so a worker killed
mid-job is simply run again.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, cast, false, func, or_, select
from sqlalchemy.dialects.postgresql import CIDR, INET

from petitions.abuse.models import InvalidationJob, JobStatus
from petitions.core import task_names
from petitions.core.erasure import ERASED_MARK
from petitions.core.text import escape_like
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.signing.models import Signature

log = logging.getLogger(__name__)

RUN_TASK = task_names.RUN_INVALIDATION
UNDO_TASK = task_names.UNDO_INVALIDATION


class CriteriaError(ValueError):
    """The criteria are empty or malformed."""


@dataclass(frozen=True)
class Criteria:
    ip: str = ""  # one address or a CIDR block
    email_domain: str = ""
    since: datetime | None = None
    until: datetime | None = None
    name_pattern: str = ""  # * and ? wildcards, case-insensitive
    source: str = ""

    def is_empty(self) -> bool:
        return not (
            self.ip
            or self.email_domain
            or self.since
            or self.until
            or self.name_pattern
            or self.source
        )

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        if not self.ip or self.ip == ERASED_MARK:
            return None
        try:
            return ipaddress.ip_network(self.ip.strip(), strict=False)
        except ValueError as exc:
            raise CriteriaError(
                _l("Enter an IP address or a CIDR block like 203.0.113.0/24.")
            ) from exc

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "until"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Criteria:
        values = dict(data)
        for key in ("since", "until"):
            values[key] = as_utc(datetime.fromisoformat(values[key])) if values.get(key) else None
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def describe(self) -> str:
        """The criteria in words, in the page's language (the organiser's pages show it)."""
        parts = []
        if self.ip:
            parts.append(_("IP %(ip)s", ip=self.ip))
        if self.email_domain:
            parts.append(_("email domain %(domain)s", domain=self.email_domain))
        if self.since:
            parts.append(_("from %(when)s UTC", when=f"{self.since:%Y-%m-%d %H:%M}"))
        if self.until:
            parts.append(_("until %(when)s UTC", when=f"{self.until:%Y-%m-%d %H:%M}"))
        if self.name_pattern:
            parts.append(_("name like “%(pattern)s”", pattern=self.name_pattern))
        if self.source:
            parts.append(_("source %(source)s", source=self.source))
        return ", ".join(parts)


def _like_pattern(glob: str) -> str:
    return escape_like(glob).replace("*", "%").replace("?", "_")


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _matching(action_id: int, criteria: Criteria, upto: datetime | None) -> Any:
    """Signatures of the action that match and are not invalidated yet."""
    if criteria.is_empty():
        raise CriteriaError(_l("Describe at least one thing to match."))
    conditions: list[Any] = [
        Signature.action_id == action_id,
        Signature.invalidated_at.is_(None),
    ]
    if ERASED_MARK in (criteria.ip, criteria.name_pattern):
        # Erasure blotted the person out of the criteria: that criterion matches nobody now.
        conditions.append(false())
    network = criteria.network()
    if network is not None:
        if network.num_addresses == 1:
            conditions.append(Signature.ip_address == str(network.network_address))
        elif _is_postgres():
            # Stored addresses are canonical (the intake cleans them); guard the cast anyway.
            is_ip = Signature.ip_address.op("~")(r"^[0-9A-Fa-f:.]{2,45}$")
            within = cast(Signature.ip_address, INET).op("<<=")(cast(str(network), CIDR))
            conditions.append(case((is_ip, within), else_=false()))
        else:
            conditions.append(Signature.ip_address.is_not(None))
    if criteria.email_domain:
        domain = criteria.email_domain.strip().lower().lstrip("@")
        conditions.append(Signature.email_normalised.like("%@" + _like_pattern(domain), "\\"))
    if criteria.since:
        conditions.append(Signature.created_at >= criteria.since)
    if criteria.until:
        conditions.append(Signature.created_at <= criteria.until)
    if upto is not None:
        conditions.append(Signature.created_at <= upto)
    if criteria.name_pattern:
        conditions.append(
            func.lower(Signature.name).like(_like_pattern(criteria.name_pattern.lower()), "\\")
        )
    if criteria.source:
        conditions.append(Signature.source == criteria.source)
    return select(Signature.id, Signature.ip_address).where(and_(*conditions))


def _filter_network(rows: list[Any], criteria: Criteria) -> list[int]:
    """SQLite has no inet type: check CIDR membership here."""
    network = criteria.network()
    if network is None or network.num_addresses == 1 or _is_postgres():
        return [row.id for row in rows]
    ids = []
    for row in rows:
        try:
            if ipaddress.ip_address(row.ip_address) in network:
                ids.append(row.id)
        except ValueError:
            continue
    return ids


def count_matching(action_id: int, criteria: Criteria, upto: datetime | None = None) -> int:
    query = _matching(action_id, criteria, upto)
    if criteria.network() is not None and not _is_postgres():
        return len(_filter_network(list(db.session.execute(query)), criteria))
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def sample_matching(action_id: int, criteria: Criteria, limit: int = 20) -> list[Signature]:
    """A few of the matching signatures, to show before running (organiser pages only)."""
    ids = _filter_network(
        list(db.session.execute(_matching(action_id, criteria, None).limit(limit * 5))), criteria
    )[:limit]
    return list(db.session.scalars(select(Signature).where(Signature.id.in_(ids))))


def create_job(
    action_id: int, criteria: Criteria, organiser_id: int | None, reason: str = ""
) -> InvalidationJob:
    """Record a job (flushed); the caller commits, then ``dispatch``es it."""
    matched = count_matching(action_id, criteria)
    job = InvalidationJob(
        action_id=action_id,
        organiser_id=organiser_id,
        criteria=criteria.to_json(),
        reason=reason[:200],
        status=JobStatus.QUEUED.value,
        matched=matched,
        created_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    return job


def dispatch(task_name: str, job_id: int) -> bool:
    """Hand a committed job to the workers; if the broker is down the periodic task runs it."""
    app = current_app
    if not app.config.get("TASK_DISPATCH", True):
        return False
    try:
        app.extensions["celery"].send_task(task_name, args=[job_id])
    except Exception as exc:
        log.warning("job %s not published (%s); the periodic task will run it", job_id, exc)
        return False
    return True


def batches(
    action_id: int, criteria: Criteria, upto: datetime | None, size: int
) -> Iterator[tuple[list[int], int]]:
    """(ids to invalidate, rows looked at) per batch, until nothing matches."""
    query = _matching(action_id, criteria, upto)
    if criteria.network() is not None and not _is_postgres():
        ids = _filter_network(list(db.session.execute(query)), criteria)
        for start in range(0, len(ids), size):
            yield ids[start : start + size], len(ids[start : start + size])
        return
    while True:
        rows = list(db.session.execute(query.order_by(Signature.id).limit(size)))
        if not rows:
            return
        # Each batch invalidates what it read, so the next read starts past it.
        yield [row.id for row in rows], len(rows)


def request_undo(job: InvalidationJob) -> bool:
    """Mark a finished job for undoing (flushed). False if it can't be undone now."""
    if job.status != JobStatus.DONE:
        return False
    job.status = JobStatus.UNDO_QUEUED.value
    db.session.flush()
    return True


def pending_jobs(queued_for: float = 30.0, running_for: float = 2000.0) -> list[tuple[int, str]]:
    """Jobs whose message was lost, or whose worker died: (job id, task name) to run again.

    A running job is only presumed dead after longer than the task's hard time limit.
    """
    now = utcnow()
    rows = db.session.execute(
        select(InvalidationJob.id, InvalidationJob.status).where(
            or_(
                and_(
                    InvalidationJob.status.in_([JobStatus.QUEUED, JobStatus.UNDO_QUEUED]),
                    InvalidationJob.created_at < now - timedelta(seconds=queued_for),
                ),
                and_(
                    InvalidationJob.status.in_([JobStatus.RUNNING, JobStatus.UNDOING]),
                    InvalidationJob.created_at < now - timedelta(seconds=running_for),
                ),
            )
        )
    )
    result = []
    for job_id, status in rows:
        task = RUN_TASK if status in (JobStatus.QUEUED, JobStatus.RUNNING) else UNDO_TASK
        result.append((job_id, task))
    return result
