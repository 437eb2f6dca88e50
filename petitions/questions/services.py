"""Defining an action's questions and storing a signature's answers. Services flush; the unit
of work commits. ``read_answers`` is the one set of rules for an answer, used by the sign
form's view (the hot path never takes a form with answers: an unknown field sends it on to
the view)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from petitions.campaigns.models import Action
from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.extensions import db
from petitions.questions.models import ActionQuestion, QuestionKind, SignatureAnswer

MAX_QUESTIONS = 5
ANSWER_LIMIT = 500
_KEY_CHARS = re.compile(r"[^a-z0-9]+")


class QuestionError(ValueError):
    """A question or an answer that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class QuestionInput:
    label: str
    kind: str = QuestionKind.TEXT.value
    choices: str = ""  # one a line, for a choice question
    required: bool = False
    sensitive: bool = False
    # Other languages' words: {"cy": {"label": "…", "choices": "one a line"}}; empty ones
    # fall back to the default language's.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


def _one_line(label: str, value: str, limit: int) -> str:
    value = value or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise QuestionError(
            _("%(what)s: use one line of text (no line breaks or control characters).", what=label)
        )
    value = value.strip()
    if len(value) > limit:
        raise QuestionError(_("%(what)s can be up to %(num)s characters.", what=label, num=limit))
    return value


def add_question(action: Action, data: QuestionInput) -> ActionQuestion:
    if action.is_letter or action.is_event:
        raise QuestionError(
            _("Letters and events have forms of their own: add questions to petitions and pledges.")
        )
    existing = db.session.scalar(
        select(func.count(ActionQuestion.id)).where(ActionQuestion.action_id == action.id)
    )
    if (existing or 0) >= MAX_QUESTIONS:
        raise QuestionError(_("An action can ask up to %(num)s questions.", num=MAX_QUESTIONS))
    if data.kind not in {k.value for k in QuestionKind}:
        raise QuestionError(_("Choose the kind of answer: a short text, a choice or a tick box."))
    label = _one_line(_("The question"), data.label, 200)
    if not label:
        raise QuestionError(_("Write the question."))
    choices: list[str] = []
    if data.kind == QuestionKind.CHOICE.value:
        choices = _choices(data.choices)
        if not 2 <= len(choices) <= 10:
            raise QuestionError(_("A choice question needs 2 to 10 choices, one a line."))
    translations = _translations(data, len(choices))
    taken = set(
        db.session.scalars(select(ActionQuestion.key).where(ActionQuestion.action_id == action.id))
    )
    key = _KEY_CHARS.sub("_", label.lower()).strip("_")[:36] or "q"
    while key in taken:
        key = f"{key}_"
    last = db.session.scalar(
        select(func.max(ActionQuestion.position)).where(ActionQuestion.action_id == action.id)
    )
    question = ActionQuestion(
        action_id=action.id,
        key=key,
        label=label,
        kind=data.kind,
        choices=choices,
        required=bool(data.required),
        sensitive=bool(data.sensitive),
        position=(last or 0) + 1,
        translations=translations,
    )
    db.session.add(question)
    db.session.flush()
    return question


def _choices(text: str) -> list[str]:
    choices: list[str] = []
    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        choice = _one_line(_("A choice"), raw, 100)
        if choice and choice not in choices:
            choices.append(choice)
    return choices


def _translations(data: QuestionInput, choice_count: int) -> dict[str, dict[str, Any]]:
    """What was written in each other language. Translated choices stand for the English ones
    at the same place, so there must be one for each (or none: the English are shown)."""
    kept: dict[str, dict[str, Any]] = {}
    for language, fields in (data.translations or {}).items():
        written: dict[str, Any] = {}
        label = _one_line(_("The question"), fields.get("label", ""), 200)
        if label:
            written["label"] = label
        if choice_count:
            choices = _choices(fields.get("choices", ""))
            if choices and len(choices) != choice_count:
                raise QuestionError(
                    _(
                        "Give one translated choice for each choice, in the same order "
                        "(%(num)s), or none.",
                        num=choice_count,
                    )
                )
            if choices:
                written["choices"] = choices
        if written:
            kept[language] = written
    return kept


def remove_question(question: ActionQuestion) -> None:
    """Stop asking it; its answers go with it (they are in exports made before)."""
    db.session.delete(question)
    db.session.flush()


def read_answers(
    questions: list[ActionQuestion], form: Mapping[str, str]
) -> tuple[dict[int, str], dict[str, str]]:
    """(answers by question id, errors by form field) for a submitted form."""
    answers: dict[int, str] = {}
    errors: dict[str, str] = {}
    for question in questions:
        raw = form.get(question.field) or ""
        if question.kind == QuestionKind.CHECKBOX.value:
            value = "yes" if raw in ("y", "yes", "on", "1", "true") else ""
        else:
            if has_control_chars(raw) or has_invisible_chars(raw):
                errors[question.field] = _(
                    "Use one line of text (no line breaks or control characters)."
                )
                continue
            value = raw.strip()
            if len(value) > ANSWER_LIMIT:
                errors[question.field] = _(
                    "Answers can be up to %(num)s characters.", num=ANSWER_LIMIT
                )
                continue
            if (
                question.kind == QuestionKind.CHOICE.value
                and value
                and value not in question.choices
            ):
                errors[question.field] = _("Choose one of the answers listed.")
                continue
        if question.required and not value:
            errors[question.field] = (
                _("Tick this box to continue.")
                if question.kind == QuestionKind.CHECKBOX.value
                else _("Answer this question.")
            )
            continue
        if value:
            answers[question.id] = value
    return answers, errors


def store_answers(
    signature_id: int, questions: list[ActionQuestion], answers: dict[int, str]
) -> None:
    """A new signature's answers (replacing any to the same questions). Id 0 (the intake
    stored nothing) records nothing."""
    if not signature_id or not questions:
        return
    db.session.execute(
        delete(SignatureAnswer)
        .where(
            SignatureAnswer.signature_id == signature_id,
            SignatureAnswer.question_id.in_([q.id for q in questions]),
        )
        .execution_options(synchronize_session=False)
    )
    for question_id, value in answers.items():
        db.session.add(
            SignatureAnswer(signature_id=signature_id, question_id=question_id, value=value)
        )
    db.session.flush()


def erase_answers(signature_ids: list[int]) -> int:
    """Erasure and retention: the answers go with the person."""
    if not signature_ids:
        return 0
    removed = db.session.execute(
        delete(SignatureAnswer)
        .where(SignatureAnswer.signature_id.in_(signature_ids))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(removed or 0)
