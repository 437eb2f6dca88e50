"""Helpers for the organisers' workspace tests: accounts and logging in through the form."""

from __future__ import annotations

from typing import Any

from petitions.extensions import db
from petitions.organisers.models import CampaignAccess, Organiser
from petitions.organisers.services import create_organiser
from tests.support.web import csrf_from

PASSWORD = "correct horse battery"


def make_organiser(email: str = "org@example.org", *, admin: bool = False) -> Organiser:
    organiser = create_organiser(email, PASSWORD, admin=admin)
    db.session.commit()
    return organiser


def grant(campaign_id: int, organiser_id: int) -> None:
    db.session.add(CampaignAccess(campaign_id=campaign_id, organiser_id=organiser_id))
    db.session.commit()


def login(client: Any, email: str, password: str = PASSWORD, next_url: str | None = None) -> Any:
    page = client.get("/organise/login")
    url = "/organise/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url,
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": email,
            "password": password,
        },
    )


def csrf(client: Any, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return csrf_from(page.get_data(as_text=True))


def confirmed_signature(action: Any, email: str, *, when: Any = None, **values: Any) -> int:
    """A signature confirmed now (or ``when``), flagged for the count worker to fold."""
    from petitions.core.time import utcnow
    from petitions.signing.models import Signature
    from tests.support.factories import make_signature

    signature_id = make_signature(action, email, **values)
    db.session.execute(
        db.update(Signature)
        .where(Signature.id == signature_id)
        .values(confirmed_at=when or utcnow(), needs_count=True)
    )
    db.session.commit()
    return signature_id
