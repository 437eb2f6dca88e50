"""What only reads: an action's questions and answers per signature. (Counts per choice, which
need the signatures, are the dashboard's: ``dashboards.queries.answer_counts``.)"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from petitions.extensions import db
from petitions.questions.models import ActionQuestion, SignatureAnswer


def questions_of(action_id: int) -> list[ActionQuestion]:
    return list(
        db.session.scalars(
            select(ActionQuestion)
            .where(ActionQuestion.action_id == action_id)
            .order_by(ActionQuestion.position, ActionQuestion.id)
        )
    )


def answers_for(signature_ids: Iterable[int]) -> dict[int, dict[int, str]]:
    ids = list(signature_ids)
    found: dict[int, dict[int, str]] = {}
    if not ids:
        return found
    for row in db.session.execute(
        select(
            SignatureAnswer.signature_id, SignatureAnswer.question_id, SignatureAnswer.value
        ).where(SignatureAnswer.signature_id.in_(ids))
    ):
        found.setdefault(row.signature_id, {})[row.question_id] = row.value
    return found


def shareable_answers(signature_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Answers by question key, without those marked sensitive: what OSDI documents for the
    campaign's own tokens (and webhooks) carry."""
    ids = list(signature_ids)
    found: dict[int, dict[str, str]] = {}
    if not ids:
        return found
    for row in db.session.execute(
        select(SignatureAnswer.signature_id, ActionQuestion.key, SignatureAnswer.value)
        .join(ActionQuestion, ActionQuestion.id == SignatureAnswer.question_id)
        .where(SignatureAnswer.signature_id.in_(ids), ActionQuestion.sensitive.is_(False))
    ):
        found.setdefault(row.signature_id, {})[row.key] = row.value
    return found
