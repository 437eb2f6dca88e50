from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from petitions.campaigns.models import Action
from petitions.core.emails import canonical_email
from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base


class Counted(enum.IntEnum):
    """Which tally a signature is currently folded into (maintained by the count worker)."""

    NONE = 0
    PENDING = 1
    CONFIRMED = 2


class SignatureState(enum.StrEnum):
    """Which state a signature is in: one answer, the first that applies, in this order."""

    WITHDRAWN = "withdrawn"  # the signer took it back
    INVALIDATED = "invalidated"  # an organiser (or a bulk invalidation) struck it out
    SUSPECT = "suspect"  # held for review: not counted, not emailed until approved
    CONFIRMED = "confirmed"  # the email was confirmed: it counts as confirmed
    PENDING = "pending"  # waiting for the signer to confirm: it counts as pending


def _canonical_default(context: Any) -> str:
    return canonical_email(context.get_current_parameters()["email_normalised"])


class Signature(Base):
    """One person's signature of a petition, or their pledge. One per (action, inbox).

    ``email`` is what the person typed (and where their email goes); ``email_normalised`` is
    it validated and lower-cased; ``email_canonical`` is the inbox it reaches, the duplicate
    check's key (``petitions.core.emails.canonical_email``).
    """

    __tablename__ = "signatures"
    __table_args__ = (
        UniqueConstraint("action_id", "email_canonical"),
        # The count worker's queue: only rows whose tally contribution must change.
        Index(
            "ix_signatures_needs_count",
            "id",
            postgresql_where=text("needs_count"),
            sqlite_where=text("needs_count"),
        ),
        Index("ix_signatures_email_normalised", "email_normalised"),
        Index("ix_signatures_action_confirmed", "action_id", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    email_normalised: Mapped[str] = mapped_column(String(254))
    email_canonical: Mapped[str] = mapped_column(String(254), default=_canonical_default)
    name: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(16))
    postcode_area: Mapped[str] = mapped_column(String(4), default="")
    country: Mapped[str] = mapped_column(String(2))
    comment: Mapped[str] = mapped_column(Text, default="")
    pledge_option: Mapped[str | None] = mapped_column(String(200))
    wants_updates: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"))
    source: Mapped[str] = mapped_column(String(64), default="")
    referrer: Mapped[str] = mapped_column(String(255), default="")
    ip_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invalidated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Held for review (petitions.abuse.review): not counted, not emailed until approved.
    suspect: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why it was held, or the signal kept beside a signature sent as usual (None: nothing).
    review_reason: Mapped[str | None] = mapped_column(String(200))
    # The language the person signed in (core.i18n): every email to them is written in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirm_emails_sent: Mapped[int] = mapped_column(SmallInteger, default=0)
    counted: Mapped[int] = mapped_column(SmallInteger, default=Counted.NONE.value)
    needs_count: Mapped[bool] = mapped_column(Boolean, default=True)

    action: Mapped[Action] = relationship()

    # A signature's state, written once for Python and SQL alike: ``Signature.state``,
    # ``Signature.is_valid``, ``Signature.is_confirmed`` and ``Signature.counts_as`` in a query;
    # the same names on a loaded row. Nothing else spells out which dates and flags mean what.

    @hybrid_property
    def state(self) -> SignatureState:
        if self.withdrawn_at is not None:
            return SignatureState.WITHDRAWN
        if self.invalidated_at is not None:
            return SignatureState.INVALIDATED
        if self.suspect:
            return SignatureState.SUSPECT
        if self.confirmed_at is not None:
            return SignatureState.CONFIRMED
        return SignatureState.PENDING

    @state.inplace.expression
    @classmethod
    def _state_expression(cls) -> ColumnElement[str]:
        return case(
            (cls.withdrawn_at.is_not(None), SignatureState.WITHDRAWN.value),
            (cls.invalidated_at.is_not(None), SignatureState.INVALIDATED.value),
            (cls.suspect.is_(True), SignatureState.SUSPECT.value),
            (cls.confirmed_at.is_not(None), SignatureState.CONFIRMED.value),
            else_=SignatureState.PENDING.value,
        )

    @hybrid_property
    def is_valid(self) -> bool:
        """Neither withdrawn, invalidated nor suspect: it counts (pending or confirmed)."""
        return self.state in (SignatureState.CONFIRMED, SignatureState.PENDING)

    @is_valid.inplace.expression
    @classmethod
    def _is_valid_expression(cls) -> ColumnElement[bool]:
        # Plain conditions rather than ``state IN (...)``, so the planner can use them.
        return and_(
            cls.invalidated_at.is_(None), cls.withdrawn_at.is_(None), cls.suspect.is_(False)
        )

    @hybrid_property
    def is_confirmed(self) -> bool:
        """Confirmed and valid (state ``confirmed``): shown, exported, mailed, handed in."""
        return self.state is SignatureState.CONFIRMED

    @is_confirmed.inplace.expression
    @classmethod
    def _is_confirmed_expression(cls) -> ColumnElement[bool]:
        return and_(cls.confirmed_at.is_not(None), cls.is_valid)

    @hybrid_property
    def counts_as(self) -> int:
        """The tally this signature belongs in now (a ``Counted`` value)."""
        return _COUNTED[self.state].value

    @counts_as.inplace.expression
    @classmethod
    def _counts_as_expression(cls) -> ColumnElement[int]:
        return case(
            (cls.is_confirmed, int(Counted.CONFIRMED)),
            (cls.is_valid, int(Counted.PENDING)),
            else_=int(Counted.NONE),
        )

    def desired_count(self) -> Counted:
        return Counted(self.counts_as)


_COUNTED = {
    SignatureState.CONFIRMED: Counted.CONFIRMED,
    SignatureState.PENDING: Counted.PENDING,
    SignatureState.SUSPECT: Counted.NONE,
    SignatureState.INVALIDATED: Counted.NONE,
    SignatureState.WITHDRAWN: Counted.NONE,
}
