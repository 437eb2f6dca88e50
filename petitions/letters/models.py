"""Letters: an :class:`~petitions.campaigns.models.Action` of kind ``letter`` plus one
:class:`LetterDetails` row, its :class:`LetterTarget` recipients, and for each supporter a
:class:`~petitions.signing.models.Signature` (so double opt-in, the outbox, counting, exports,
"My actions" and the abuse checks apply as they do to signatures) plus one :class:`Letter`
row with the words they wrote and whom it goes to.

Once the signature is confirmed, one :class:`LetterDelivery` row per (letter, target),
``UNIQUE``, records that letter's journey to that target: at most once, also when a worker
dies mid-send (``sending`` then ``unknown``, never retried).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from petitions.campaigns.models import Action
from petitions.core.i18n import N_, default_language, translated
from petitions.core.time import utcnow
from petitions.core.types import BigId
from petitions.extensions import Base
from petitions.signing.models import Signature


class DeliveryMode(enum.StrEnum):
    SENT_FOR_YOU = "sent_for_you"  # the worker emails each target, Reply-To the supporter
    SEND_YOURSELF = "send_yourself"  # a mailto: link; the supporter says "I sent it"


class TargetKind(enum.StrEnum):
    FIXED = "fixed"
    REPRESENTATIVE = "representative"  # the MP for ``constituency_code``


class Stance(enum.StrEnum):
    NONE = ""
    SUPPORTS = "supports"
    OPPOSES = "opposes"
    RESPONDED = "responded"


STANCE_LABELS = {
    Stance.SUPPORTS.value: N_("Supports"),
    Stance.OPPOSES.value: N_("Opposes"),
    Stance.RESPONDED.value: N_("Has responded"),
}


class LetterDetails(Base):
    """What a letter action says and how it is delivered. One per letter action."""

    __tablename__ = "letter_details"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(200))
    # Markdown with {supporter_name} {postcode} {constituency} {target_name} {target_title}
    template: Mapped[str] = mapped_column(Text)
    # Used instead when the supporter's target already supports the ask ("thank them").
    thank_you_template: Mapped[str] = mapped_column(Text, default="")
    # The thank-you variant's own subject ("" means the usual subject).
    thank_you_subject: Mapped[str] = mapped_column(String(200), default="", server_default="")
    personal_prompt: Mapped[str] = mapped_column(String(300), default="")
    personal_required: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_mode: Mapped[str] = mapped_column(String(16), default=DeliveryMode.SENT_FOR_YOU.value)
    to_representative: Mapped[bool] = mapped_column(Boolean, default=False)
    rate_per_minute: Mapped[int] = mapped_column(SmallInteger, default=4)
    # Each recipient gets one email a day with that day's letters (identical ones together)
    # instead of one email per letter (sent-for-you letters only).
    digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    action: Mapped[Action] = relationship()

    @property
    def sends_for_you(self) -> bool:
        return self.delivery_mode == DeliveryMode.SENT_FOR_YOU.value

    def subject_for(self, thank_you: bool, language: str | None = None) -> str:
        """The subject a letter goes with: the thank-you variant's own, when it has one; in
        ``language`` (its writer's) where the organiser wrote one in it, else the default's."""
        language = language or default_language()
        if thank_you and self.words("thank_you_subject", language):
            return self.words("thank_you_subject", language)
        return self.words("subject", language)

    def words(self, field: str, language: str | None = None) -> str:
        """One of the letter's words (``subject``, ``template``, ``thank_you_template``,
        ``thank_you_subject``, ``personal_prompt``) in ``language`` (the page's by default):
        the organiser's version, kept with the action's other words (``actions.translations``,
        edited in the letter editor's "In Cymraeg" fieldset), else the default language's."""
        return str(translated(self.action, field, language) or getattr(self, field))


class LetterTarget(Base):
    """One recipient of a letter action: a fixed one, or the MP of one constituency (made when
    the first letter to that MP is written or a stance recorded)."""

    __tablename__ = "letter_targets"
    __table_args__ = (UniqueConstraint("action_id", "constituency_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=TargetKind.FIXED.value)
    name: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(120), default="")
    organisation: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    constituency_code: Mapped[str | None] = mapped_column(String(16))
    stance: Mapped[str] = mapped_column(String(16), default="")
    stance_note: Mapped[str] = mapped_column(String(300), default="")
    stance_on: Mapped[date | None] = mapped_column(Date)
    response: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # An organiser removed this recipient: no new letters go to it, nothing undelivered is
    # sent; what was delivered stays counted (and in the CSV).
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # {"cy": {"title": …, "stance_note": …, "response": …}}: pages in that language show them,
    # else the fields above (core.i18n.localised). Letters go to the target as written.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    @property
    def is_representative(self) -> bool:
        return self.kind == TargetKind.REPRESENTATIVE.value

    @property
    def supports(self) -> bool:
        return self.stance == Stance.SUPPORTS.value

    @property
    def stance_label(self) -> str:
        """The stance in the page's language (the CSV and API keep ``stance`` itself)."""
        label = STANCE_LABELS.get(self.stance)
        return _(label) if label else ""


class Letter(Base):
    """One supporter's letter: the signature it is, the words, the constituency, the targets."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_action_body_hash", "action_id", "body_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), unique=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)  # the supporter's text, placeholders still in it
    body_hash: Mapped[str] = mapped_column(String(64))  # identical letters are flagged
    thank_you: Mapped[bool] = mapped_column(Boolean, default=False)
    constituency_code: Mapped[str] = mapped_column(String(16), default="")
    constituency_name: Mapped[str] = mapped_column(String(120), default="")
    target_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    self_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    signature: Mapped[Signature] = relationship()
    action: Mapped[Action] = relationship()


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # handed to SMTP; a worker dying now leaves it here, never retried
    SENT = "sent"
    SELF_SENT = "self_sent"  # "send it yourself": the supporter said they sent it
    AWAITING = "awaiting"  # "send it yourself": confirmed, not yet sent by the supporter
    DIGEST = "digest"  # waiting for the recipient's daily digest (``not_before``: when it goes)
    SKIPPED = "skipped"  # withdrawn meanwhile, suppressed, or no address for the target
    FAILED = "failed"
    UNKNOWN = "unknown"  # found in ``sending`` after a crash: not sent again, so never twice


DELIVERED = (DeliveryStatus.SENT.value, DeliveryStatus.SELF_SENT.value)
# What a delivery row is counted as in ``letter_target_tallies`` (bits of ``counted``).
COUNTS_LETTER = 1  # a confirmed, valid letter to this recipient
COUNTS_DELIVERED = 2  # delivered to them (sent for the supporter, or "I sent it")
DELIVERED_UNCOUNTED = "counted < 2 AND status IN ('sent', 'self_sent')"


class LetterDelivery(Base):
    """One letter to one target: the row that makes it at most once."""

    __tablename__ = "letter_deliveries"
    __table_args__ = (
        UniqueConstraint("letter_id", "target_id"),
        Index("ix_letter_deliveries_status", "status", "not_before", "id"),
        Index("ix_letter_deliveries_target_status", "target_id", "status"),
        # The count fold's two queues: rows whose signature changed, and rows delivered since
        # they were last counted (the sender never has to say so).
        Index(
            "ix_letter_deliveries_needs_count",
            "id",
            postgresql_where=text("needs_count"),
            sqlite_where=text("needs_count"),
        ),
        Index(
            "ix_letter_deliveries_delivered_uncounted",
            "id",
            postgresql_where=text(DELIVERED_UNCOUNTED),
            sqlite_where=text(DELIVERED_UNCOUNTED),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("letter_targets.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Not sent before this time (the per-target rate, or a temporary SMTP refusal).
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who it went to, as sent (the target's address may change later).
    recipient: Mapped[str] = mapped_column(String(254), default="")
    error: Mapped[str | None] = mapped_column(String(100))
    # Kept by the count fold (``petitions.letters.counts.jobs``): what this row is folded into
    # the recipient's tally as (``COUNTS_*`` bits), and whether its letter's state changed.
    counted: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    needs_count: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    letter: Mapped[Letter] = relationship()
    target: Mapped[LetterTarget] = relationship()

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED


class LetterTargetTally(Base):
    """Letters per recipient: a read model written only by the count fold
    (``petitions.letters.counts.jobs``), never by a request, like the signatures' tallies.

    ``letters``: confirmed, valid letters written to this recipient (withdrawn or invalidated
    ones drop out); ``delivered``: those that reached them (a delivered letter stays counted,
    also after erasure: it can't be unsent). Per constituency is the MP target's row."""

    __tablename__ = "letter_target_tallies"

    target_id: Mapped[int] = mapped_column(
        ForeignKey("letter_targets.id", ondelete="CASCADE"), primary_key=True
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    letters: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
