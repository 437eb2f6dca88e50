from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, String
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

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


def load_organiser(user_id: str) -> Organiser | None:
    """Flask-Login's user loader."""
    if not user_id.isdigit():
        return None
    organiser = db.session.get(Organiser, int(user_id))
    return organiser if organiser is not None and organiser.active else None
