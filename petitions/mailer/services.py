"""The outbox: rows written with the change that needs an email, drained by workers.

``enqueue`` adds a row to the caller's unit of work (one prebuilt statement: it runs on the
signing hot path). Draining it — claiming rows, building each email, sending the batch through
the one SMTP batch sender and recording every outcome — is ``mailer/jobs.py``, which owns its
transactions; suppressed addresses are ``mailer/suppression.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, bindparam, literal, select
from sqlalchemy import insert as sa_insert

from petitions.core import task_names
from petitions.extensions import db
from petitions.mailer.jobs import claim_batch, drain, send_batch
from petitions.mailer.models import OutboxMessage
from petitions.mailer.suppression import is_suppressed, suppress, suppressed_among

# Re-exported for the areas that check suppression, and (``drain``, ``claim_batch``,
# ``send_batch``) for callers written before the drain moved to ``mailer.jobs``.
__all__ = [
    "DRAIN_TASK",
    "claim_batch",
    "drain",
    "enqueue",
    "is_suppressed",
    "send_batch",
    "suppress",
    "suppressed_among",
]

DRAIN_TASK = task_names.DRAIN_OUTBOX


_OUTBOX: Any = OutboxMessage.__table__
_ENQUEUE = (
    sa_insert(_OUTBOX)
    .values(kind=bindparam("p_kind"), ref_id=bindparam("p_ref_id"))
    .returning(_OUTBOX.c.id)
)


def enqueue(kind: str, ref_id: int) -> int:
    """Add an outbox row to the current transaction; returns its id.

    One prebuilt Core statement: this runs once per signature, on the signing hot path.
    """
    return int(db.session.execute(_ENQUEUE, {"p_kind": kind, "p_ref_id": ref_id}).scalar_one())


def outbox_rows_for(kind: str, ref_ids: Any, now: Any) -> Any:
    """``INSERT INTO outbox ... SELECT kind, <ref_ids>, <now> ... RETURNING id``: the outbox rows
    for ids another statement produces (signing writes a signature and its email in one
    statement, a data-modifying CTE). The rows are the ones ``enqueue`` writes; ``now`` is the
    SQL expression for their created/available time (a CTE gets no Python-side defaults)."""
    columns = ["kind", "ref_id", "created_at", "available_at", "attempts"]
    rows = select(literal(kind, type_=String(32)), ref_ids, now, now, literal(0, type_=Integer))
    return sa_insert(_OUTBOX).from_select(columns, rows).returning(_OUTBOX.c.id)
