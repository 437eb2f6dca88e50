"""Issue 11, finding 1: addresses are validated at intake the way they will be sent."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from petitions.core.emails import NON_ASCII_LOCAL_PART, EmailError, normalise_email, wire_address
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.api.test_osdi import person
from tests.support.web import sign_via_form

UNSENDABLE = [
    "zoë@example.org",
    "josé@example.org",
    "straße@example.org",
    "ｊｏｈｎ@example.org",  # fullwidth
    "jоhn@example.org",  # Cyrillic о
]


@pytest.mark.parametrize("address", UNSENDABLE)
def test_non_ascii_local_parts_are_refused_without_smtputf8(app_ctx: None, address: str) -> None:
    with pytest.raises(EmailError, match="before the @"):
        normalise_email(address)


def test_non_ascii_local_parts_are_taken_when_smtputf8_is_on(app: Flask, app_ctx: None) -> None:
    app.config["MAIL_SMTPUTF8"] = True
    try:
        assert normalise_email("Zoë@Example.org") == "zoë@example.org"
    finally:
        app.config["MAIL_SMTPUTF8"] = False


def test_unicode_domains_are_accepted_and_sent_idna_encoded(app_ctx: None) -> None:
    assert normalise_email("ann@Bücher.example") == "ann@bücher.example"
    assert wire_address("Ann@Bücher.example") == "Ann@xn--bcher-kva.example"
    assert wire_address("ann@example.org") == "ann@example.org"


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)) or 0


@pytest.mark.parametrize("address", UNSENDABLE[:2])
def test_the_form_says_why_and_stores_nothing(client: Any, factories: Any, address: str) -> None:
    action = factories.make_action()
    db.session.commit()
    url = f"/c/{action.campaign.slug}/{action.slug}"
    response = sign_via_form(client, url, email=address)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "accents or other special letters before the @" in page
    assert _count() == 0


def test_the_osdi_helper_answers_422_naming_the_field(client: Any, factories: Any) -> None:
    action = factories.make_action()
    db.session.commit()
    response = client.post(
        f"/api/osdi/v1/petitions/{action.id}/signatures", json=person("zoë@example.org")
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert NON_ASCII_LOCAL_PART in str(errors["person.email_addresses"])
    assert _count() == 0
