"""Reading an action's signatures for the organiser: search, count, one signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from petitions.campaigns.models import Action
from petitions.core.text import escape_like
from petitions.extensions import db
from petitions.signing.models import Signature, SignatureState

PAGE_SIZE = 50
# The states an organiser can filter by: ``Signature.state``'s, written once on the model.
SEARCH_STATES = tuple(state.value for state in SignatureState)


@dataclass
class SignatureSearch:
    name: str = ""
    email: str = ""
    domain: str = ""
    source: str = ""
    date_from: date | None = None
    date_to: date | None = None
    state: str = "all"  # all, or one of SEARCH_STATES
    before_id: int | None = None


def search_query(action: Action, search: SignatureSearch) -> Select[Any]:
    query = select(Signature).where(Signature.action_id == action.id)
    if search.name:
        query = query.where(Signature.name.ilike(f"%{escape_like(search.name)}%", escape="\\"))
    if search.email:
        query = query.where(
            Signature.email_normalised.ilike(f"%{escape_like(search.email.lower())}%", escape="\\")
        )
    if search.domain:
        domain = search.domain.lower().lstrip("@")
        query = query.where(
            Signature.email_normalised.like(f"%@{escape_like(domain)}", escape="\\")
        )
    if search.source:
        query = query.where(Signature.source == search.source)
    if search.date_from:
        start = datetime.combine(search.date_from, time.min, tzinfo=UTC)
        query = query.where(Signature.created_at >= start)
    if search.date_to:
        end = datetime.combine(search.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(Signature.created_at < end)
    if search.state in SEARCH_STATES:
        query = query.where(Signature.state == search.state)
    return query


def search_signatures(action: Action, search: SignatureSearch) -> list[Signature]:
    query = search_query(action, search)
    if search.before_id:
        query = query.where(Signature.id < search.before_id)
    return list(db.session.scalars(query.order_by(Signature.id.desc()).limit(PAGE_SIZE)))


def count_matches(action: Action, search: SignatureSearch, cap: int = 10_000) -> int:
    """How many match, counted up to ``cap`` (so a broad search stays cheap)."""
    inner = search_query(action, search).with_only_columns(Signature.id).limit(cap).subquery()
    return int(db.session.scalar(select(func.count()).select_from(inner)) or 0)


def signature_of(action: Action, signature_id: int) -> Signature | None:
    signature = db.session.get(Signature, signature_id)
    return signature if signature is not None and signature.action_id == action.id else None
