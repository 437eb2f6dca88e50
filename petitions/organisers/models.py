from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from petitions.core.time import utcnow
from petitions.extensions import Base, db


class Role(enum.StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"


class Organiser(UserMixin, Base):
    __tablename__ = "organisers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.ORGANISER.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on logout and password change: cookies carrying an older value stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: the id and the session generation
        return f"{self.id}:{self.session_version or 1}"


class CampaignAccess(Base):
    """An organiser given a campaign they do not own."""

    __tablename__ = "campaign_access"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    organiser_id: Mapped[int] = mapped_column(
        ForeignKey("organisers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def load_organiser(user_id: str) -> Organiser | None:
    """Flask-Login's user loader: ``"<id>:<session_version>"``."""
    ident, _, version = user_id.partition(":")
    if not ident.isdigit() or not version.isdigit():
        return None
    organiser = db.session.get(Organiser, int(ident))
    if organiser is None or not organiser.active:
        return None
    return organiser if (organiser.session_version or 1) == int(version) else None
