from __future__ import annotations

from sqlalchemy import select

from petitions.extensions import db
from petitions.organisers.models import Organiser


def all_organisers() -> list[Organiser]:
    return list(db.session.scalars(select(Organiser).order_by(Organiser.email)))
