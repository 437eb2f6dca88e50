"""One entry of an action's public timeline: the target's response, a debate, a victory."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Action
from petitions.core.i18n import N_, localised
from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class OutcomeKind(enum.StrEnum):
    RESPONSE = "response"  # the target answered
    DEBATED = "debated"  # debated, discussed, on the agenda
    UPDATE = "update"  # any other milestone
    VICTORY = "victory"  # won: the action closes


# In the default language (a default title is stored in it); ``label`` is in the page's.
KIND_LABELS = {
    OutcomeKind.RESPONSE.value: N_("Response received"),
    OutcomeKind.DEBATED.value: N_("Debated"),
    OutcomeKind.UPDATE.value: N_("Milestone"),
    OutcomeKind.VICTORY.value: N_("Victory"),
}


class ActionOutcome(Base):
    """Shown on the public pages and in the public API. ``mailing_id``: the email that told the
    action's opted-in supporters (made once per entry, ``dedupe_key`` ``outcome:<id>``)."""

    __tablename__ = "action_outcomes"
    __table_args__ = (Index("ix_action_outcomes_action_on", "action_id", "happened_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=OutcomeKind.RESPONSE.value)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered sanitised
    link: Mapped[str] = mapped_column(String(500), default="")  # http(s) only
    happened_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL")
    )
    mailing_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"))
    # The organiser's title and text in other languages, {"cy": {"title": …, "text": …}}, as
    # on ``Action`` (core.i18n.localised): an empty one shows the default language's.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    action: Mapped[Action] = relationship()

    @property
    def label(self) -> str:
        return gettext(KIND_LABELS.get(self.kind, KIND_LABELS[OutcomeKind.UPDATE.value]))

    @property
    def shown_title(self) -> str:
        """The title in the page's language: the organiser's in it, else a default title (the
        kind's name, stored in the default language) in the page's words, else as written."""
        shown = str(localised(self, "title"))
        if shown == self.title and self.title == KIND_LABELS.get(self.kind):
            return self.label
        return shown

    @property
    def shown_text(self) -> str:
        return str(localised(self, "text"))

    @property
    def is_victory(self) -> bool:
        return self.kind == OutcomeKind.VICTORY.value
