"""The consent wording per language: a Welsh signer is shown the Welsh words, and the consent
version stored with their signature is exactly those words (the web form, the embed and the
OSDI intake alike); where there are none, the English is shown and stored."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g
from sqlalchemy import select

from petitions.campaigns.models import Action, ActionConsent, ConsentVersion
from petitions.campaigns.services import (
    DEFAULT_CONSENT,
    DEFAULT_CONSENT_IN,
    consent_version,
    set_consents,
)
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.supporters import consent
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form
from tests.support.workspace import login, make_organiser

WELSH = "Geiriau caniatâd Cymraeg Zqx: byddwn yn cyfrif eich llofnod."
EMBED_TOKEN = re.compile(r'name="embed_token" value="([^"]+)"')


def _fresh_g() -> None:
    g.pop("csrf_token", None)  # each client its own CSRF token (the app context is shared)


def _welsh_action(**values: Any) -> Action:
    campaign = make_campaign(slug="caniatad", embed_origins="https://partner.example")
    action = make_action(campaign, slug="deiseb", **values)
    set_consents(action, {"cy": WELSH})
    db.session.commit()
    return action


def _stored_wording(email: str) -> tuple[str, str]:
    row = db.session.execute(
        select(Signature.language, ConsentVersion.text)
        .join(ConsentVersion, ConsentVersion.id == Signature.consent_version_id)
        .where(Signature.email == email)
    ).one()
    return row.language, row.text


def test_a_welsh_signer_sees_and_is_recorded_with_the_welsh_wording(
    app: Flask, factories: Any
) -> None:
    _welsh_action()
    welsh_page = app.test_client().get("/cy/c/caniatad/deiseb").get_data(as_text=True)
    assert f'<p class="consent">{WELSH}</p>' in welsh_page
    assert DEFAULT_CONSENT not in welsh_page
    _fresh_g()
    english_page = app.test_client().get("/c/caniatad/deiseb").get_data(as_text=True)
    assert f'<p class="consent">{DEFAULT_CONSENT}</p>' in english_page and WELSH not in english_page

    _fresh_g()
    sign_via_form(app.test_client(), "/cy/c/caniatad/deiseb", email="cymro@example.org")
    _fresh_g()
    sign_via_form(app.test_client(), "/c/caniatad/deiseb", email="saes@example.org")
    assert _stored_wording("cymro@example.org") == ("cy", WELSH)
    assert _stored_wording("saes@example.org") == ("en", DEFAULT_CONSENT)


def test_without_welsh_wording_a_welsh_signer_sees_and_agrees_to_the_english(
    app: Flask, factories: Any
) -> None:
    make_action(make_campaign(slug="saesneg"), slug="deiseb")
    db.session.commit()
    page = app.test_client().get("/cy/c/saesneg/deiseb").get_data(as_text=True)
    assert f'<p class="consent">{DEFAULT_CONSENT}</p>' in page
    _fresh_g()
    sign_via_form(app.test_client(), "/cy/c/saesneg/deiseb", email="cymro@example.org")
    assert _stored_wording("cymro@example.org") == ("cy", DEFAULT_CONSENT)


def test_the_embed_in_welsh_records_the_welsh_wording(app: Flask, factories: Any) -> None:
    app.config["ABUSE_MIN_FILL_SECONDS"], previous = 0, app.config.get("ABUSE_MIN_FILL_SECONDS")
    try:
        _welsh_action()
        framed = app.test_client(use_cookies=False)
        html = framed.get("/cy/embed/caniatad/deiseb").get_data(as_text=True)
        assert f'<p class="consent">{WELSH}</p>' in html
        token = EMBED_TOKEN.search(html)
        assert token is not None
        started = re.search(r'name="started"[^>]*value="([^"]+)"', html)
        data = {
            "embed_token": token.group(1),
            "name": "Ema Bed",
            "email": "ema@example.org",
            "country": "GB",
            "postcode": "SW1A 1AA",
            "started": started.group(1) if started else "",
        }
        answer = framed.post("/cy/embed/caniatad/deiseb", data=data)
        assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    finally:
        app.config["ABUSE_MIN_FILL_SECONDS"] = previous
    assert _stored_wording("ema@example.org") == ("cy", WELSH)


def test_the_osdi_intake_records_the_wording_of_the_language_it_is_asked_in(
    app: Flask, factories: Any
) -> None:
    action = _welsh_action()
    body = {
        "person": {
            "given_name": "Osian",
            "family_name": "Jones",
            "email_addresses": [{"address": "osian@example.org", "primary": True}],
            "postal_addresses": [{"postal_code": "CF10 1AA", "country": "GB"}],
        }
    }
    url = f"/api/osdi/v1/petitions/{action.id}/signatures"
    client = app.test_client()
    assert client.post(url, json=body, headers={"Accept-Language": "cy"}).status_code == 200
    body["person"]["email_addresses"] = [{"address": "olivia@example.org", "primary": True}]
    assert client.post(url, json=body).status_code == 200
    assert _stored_wording("osian@example.org") == ("cy", WELSH)
    assert _stored_wording("olivia@example.org") == ("en", DEFAULT_CONSENT)


def test_the_organiser_sets_the_welsh_wording_beside_the_english(
    app: Flask, factories: Any
) -> None:
    campaign = make_campaign(slug="trefnu")
    owner = make_organiser("caniatad-owner@example.org")
    campaign.owner_id = owner.id
    db.session.commit()
    organiser = app.test_client()
    login(organiser, "caniatad-owner@example.org")
    _fresh_g()
    new = f"/organise/campaigns/{campaign.id}/actions/new"
    form = organiser.get(new).get_data(as_text=True)
    assert 'name="consent__cy"' in form
    assert DEFAULT_CONSENT_IN["cy"].replace("'", "&#39;") in form  # offered, as the English is
    values = {
        "csrf_token": csrf_from(form),
        "kind": "petition",
        "title": "Zqx",
        "slug": "zqx",
        "text": "Zqx text",
        "goal": "100",
        "consent": DEFAULT_CONSENT,
        "consent__cy": "",  # cleared: Welsh signers see the English, and the organiser is told
        "position": "1",
    }
    assert organiser.post(new, data=values).status_code == 303
    action = db.session.scalar(select(Action).where(Action.slug == "zqx"))
    assert action is not None and action.consent_missing() == ["cy"]
    page = organiser.get(f"/organise/campaigns/{campaign.id}").get_data(as_text=True)
    assert "(no Cymraeg consent wording: the English is shown and kept)" in page

    edit = f"/organise/campaigns/{campaign.id}/actions/{action.id}/edit"
    _fresh_g()
    form = organiser.get(edit).get_data(as_text=True)
    saved = organiser.post(
        edit, data={**values, "csrf_token": csrf_from(form), "consent__cy": f"  {WELSH} "}
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert action.consent_in("cy").text == WELSH  # type: ignore[union-attr]
    assert action.consent_in("en").text == DEFAULT_CONSENT  # type: ignore[union-attr]
    assert "consent" not in action.translations.get("cy", {})  # a version, not a word
    assert WELSH in organiser.get(edit).get_data(as_text=True)  # shown back to be edited
    page = organiser.get(f"/organise/campaigns/{campaign.id}").get_data(as_text=True)
    assert "consent wording: the English" not in page


def test_rewording_makes_a_new_version_and_earlier_signatures_keep_theirs(
    app: Flask, factories: Any
) -> None:
    action = _welsh_action()
    first = db.session.scalar(
        select(ActionConsent.consent_version_id).where(ActionConsent.action_id == action.id)
    )
    sign_via_form(app.test_client(), "/cy/c/caniatad/deiseb", email="cyntaf@example.org")
    set_consents(action, {"cy": WELSH + " Newydd."})
    db.session.commit()
    _fresh_g()
    sign_via_form(app.test_client(), "/cy/c/caniatad/deiseb", email="ail@example.org")
    assert _stored_wording("cyntaf@example.org") == ("cy", WELSH)
    assert _stored_wording("ail@example.org") == ("cy", WELSH + " Newydd.")
    assert db.session.get(ConsentVersion, first).text == WELSH  # type: ignore[union-attr]
    # The same words in another action are the same version (kept once per distinct text).
    assert consent_version(WELSH).id == first


def test_my_consent_history_shows_the_words_agreed_to(app: Flask, factories: Any) -> None:
    action = _welsh_action()
    sign_via_form(
        app.test_client(), "/cy/c/caniatad/deiseb", email="hanes@example.org", wants_updates="y"
    )
    signature = db.session.scalar(select(Signature).where(Signature.email == "hanes@example.org"))
    assert signature is not None
    signature.confirmed_at = signature.created_at
    consent.record_fresh_consent(signature.id)
    db.session.commit()
    [item] = consent.history("hanes@example.org")
    assert item.consent_text == WELSH and item.action == action.title
    html = app.jinja_env.get_template("supporters/_consent_history.html")
    with app.test_request_context("/cy/my"):
        shown = html.render(consent_history=[item])
    assert WELSH in shown
