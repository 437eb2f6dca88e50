from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from petitions.core.i18n import default_language, enabled
from petitions.core.time import utcnow
from petitions.extensions import Base


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    LIVE = "live"
    CLOSED = "closed"


class ActionKind(enum.StrEnum):
    PETITION = "petition"
    PLEDGE = "pledge"
    EVENT = "event"  # details in petitions.gatherings (issue 13); RSVPs are signatures
    LETTER = "letter"  # details in petitions.letters (issue 12); each letter is a signature


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(500))
    # An uploaded hero image (campaigns.images.prepare_hero: JPEG, pixels only), loaded only
    # when served; ``hero_version`` changes with each upload (0: none) and busts caches.
    hero_jpeg: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    hero_alt: Mapped[str] = mapped_column(String(300), default="", server_default="")
    hero_width: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hero_height: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hero_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT.value)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisers.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Sites allowed to frame this campaign's embeds (CSP frame-ancestors), one origin a line.
    embed_origins: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The organiser's words in other languages, {"cy": {"title": …, "summary": …, "body": …}}:
    # pages in that language use them, and fall back to the fields above (core.i18n.localised).
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    actions: Mapped[list[Action]] = relationship(
        back_populates="campaign", order_by="Action.position, Action.id"
    )
    updates: Mapped[list[CampaignUpdate]] = relationship(
        back_populates="campaign", order_by="CampaignUpdate.published_at.desc()"
    )

    @property
    def is_live(self) -> bool:
        return self.status == CampaignStatus.LIVE


class ConsentVersion(Base):
    """The exact wording a supporter agreed to, kept once per distinct text."""

    __tablename__ = "consent_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @staticmethod
    def hash_of(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Action(Base):
    """A call to action on a campaign: a petition or a pledge."""

    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("campaign_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default=ActionKind.PETITION.value)
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    target: Mapped[str | None] = mapped_column(String(200))
    goal: Mapped[int] = mapped_column(Integer, default=1000)
    deadline: Mapped[date | None] = mapped_column(Date)
    pledge_options: Mapped[list[str]] = mapped_column(JSON, default=list)
    consent_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"))
    thank_you: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # {"cy": {"title": …, "text": …, "thank_you": …, "pledge_options": [one per option]}},
    # as on Campaign (pledge_options_in reads the options back).
    translations: Mapped[dict[str, dict[str, Any]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    campaign: Mapped[Campaign] = relationship(back_populates="actions")
    consent_version: Mapped[ConsentVersion | None] = relationship()
    # The consent wording in other languages: a version of its own per language, so what a
    # signature stores (``consent_version_id``) is exactly the words its signer was shown.
    consents: Mapped[list[ActionConsent]] = relationship(
        cascade="all, delete-orphan", order_by="ActionConsent.language"
    )

    def consent_in(self, language: str) -> ConsentVersion | None:
        """The wording shown to, and kept for, a signer in ``language``: the one written in
        it, else the default language's (the rule the signature's INSERT applies in SQL)."""
        for written in self.consents:
            if written.language == language:
                return written.consent_version
        return self.consent_version

    def consent_written_in(self, language: str) -> str:
        """The organiser's own wording in ``language`` ("" where none: the default is shown)."""
        for written in self.consents:
            if written.language == language and written.consent_version is not None:
                return written.consent_version.text
        return ""

    def pledge_options_in(self, language: str) -> list[str]:
        """The options as a supporter reading ``language`` sees them: the organiser's words in
        it, one for each default-language option at the same place, else the default ones.
        Whatever is shown, the option stored is the default language's (``pledge_options``),
        so counts, exports and mailings to one option add up across languages."""
        offered = list(self.pledge_options or [])
        written = (self.translations or {}).get(language, {}).get("pledge_options") or []
        if isinstance(written, list) and len(written) == len(offered):
            return [str(words) for words in written]
        return offered

    def pledge_option_in(self, option: str | None, language: str) -> str:
        """A stored (default-language) option in ``language``; one no longer offered as is."""
        offered = list(self.pledge_options or [])
        if option in offered:
            return self.pledge_options_in(language)[offered.index(option)]
        return option or ""

    def consent_missing(self) -> list[str]:
        """The other enabled languages with no consent wording of their own (organisers are
        told: signers in them see, and agree to, the default language's)."""
        written = {c.language for c in self.consents}
        return [code for code in enabled() if code != default_language() and code not in written]

    @property
    def is_pledge(self) -> bool:
        return self.kind == ActionKind.PLEDGE

    @property
    def is_event(self) -> bool:
        return self.kind == ActionKind.EVENT

    @property
    def is_letter(self) -> bool:
        return self.kind == ActionKind.LETTER

    def is_open(self, today: date | None = None) -> bool:
        """Open for new signatures and confirmations."""
        return is_open(self.closed_at, self.campaign.status, self.deadline, today)

    @staticmethod
    def open_clause(today: date | ColumnElement[date]) -> ColumnElement[bool]:
        """``is_open`` as SQL, over ``actions`` joined to ``campaigns`` (the same rule)."""
        return and_(
            Action.closed_at.is_(None),
            Campaign.status == CampaignStatus.LIVE.value,
            or_(Action.deadline.is_(None), Action.deadline >= today),
        )


class ActionConsent(Base):
    """An action's consent wording in a language other than the default one (which is
    ``Action.consent_version``). A signature made in ``language`` records this version."""

    __tablename__ = "action_consents"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    consent_version_id: Mapped[int] = mapped_column(ForeignKey("consent_versions.id"))

    consent_version: Mapped[ConsentVersion] = relationship()


def is_open(
    closed_at: datetime | None, campaign_status: str, deadline: date | None, today: date | None
) -> bool:
    """The one rule for "takes signatures now": not closed, campaign live, deadline not past.

    ``Action.is_open`` applies it to a loaded action, ``Action.open_clause`` in SQL, and the
    hot path (``petitions.hotpath``) to its short-lived snapshot of the action.
    """
    if closed_at is not None or campaign_status != CampaignStatus.LIVE.value:
        return False
    return deadline is None or (today or utcnow().date()) <= deadline


class CampaignUpdate(Base):
    __tablename__ = "campaign_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # {"cy": {"title": …, "body": …}}: Welsh pages and Welsh update emails use them, else the
    # fields above (core.i18n.localised). Migration 0028.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )

    campaign: Mapped[Campaign] = relationship(back_populates="updates")
