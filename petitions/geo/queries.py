"""Reading the geo tables: a postcode's constituencies (one indexed query), names, MPs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from petitions.extensions import db
from petitions.geo.models import Constituency, PostcodeArea, Representative
from petitions.geo.postcodes import compact


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    mp_name: str | None
    mp_party: str | None
    mp_email: str | None


def lookup(postcode: str) -> list[Place]:
    """The constituencies a postcode lies in, with their MPs: one query on the primary key."""
    rows = db.session.execute(
        select(
            PostcodeArea.constituency_code,
            Constituency.name,
            Representative.name,
            Representative.party,
            Representative.email,
        )
        .outerjoin(Constituency, Constituency.code == PostcodeArea.constituency_code)
        .outerjoin(
            Representative, Representative.constituency_code == PostcodeArea.constituency_code
        )
        .where(PostcodeArea.postcode == compact(postcode))
        .order_by(PostcodeArea.constituency_code)
    ).all()
    return [Place(code, name or code, mp, party, email) for code, name, mp, party, email in rows]


def place(code: str) -> Place | None:
    row = db.session.execute(
        select(
            Constituency.code,
            Constituency.name,
            Representative.name,
            Representative.party,
            Representative.email,
        )
        .outerjoin(Representative, Representative.constituency_code == Constituency.code)
        .where(Constituency.code == (code or "")[:16])
    ).first()
    return Place(*row) if row else None


def constituencies() -> list[tuple[str, str]]:
    """(code, name) of every constituency, by name: the choose-by-name fallback."""
    return [
        (code, name)
        for code, name in db.session.execute(
            select(Constituency.code, Constituency.name).order_by(Constituency.name)
        )
    ]


def representative(code: str) -> Representative | None:
    return db.session.get(Representative, (code or "")[:16])
