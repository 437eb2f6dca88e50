"""An action's own questions and each signature's answers to them.

Answers are personal data of the signer: shown to the campaign's organisers only (exports,
the dashboard's counts per choice, OSDI for tokens), never on public pages, and deleted when
the person is erased or retention anonymises the signature (``questions.subscribers``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class QuestionKind(enum.StrEnum):
    TEXT = "text"  # a short line
    CHOICE = "choice"  # one of the listed choices
    CHECKBOX = "checkbox"  # ticked or not


class ActionQuestion(Base):
    __tablename__ = "action_questions"
    __table_args__ = (UniqueConstraint("action_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))  # the form field is q_<key>
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=QuestionKind.TEXT.value)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. health, beliefs
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The organiser's words in other languages, as on Action: {"cy": {"label": …, "choices":
    # […]}}. A Welsh choice is shown in place of the English one at the same position; the
    # answer stored is always the English choice, so counts and exports add up across languages.
    translations: Mapped[dict[str, dict[str, Any]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    @property
    def field(self) -> str:
        return f"q_{self.key}"


class SignatureAnswer(Base):
    __tablename__ = "signature_answers"

    signature_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("action_questions.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(500))
