"""Timeline entries in Welsh: the organiser writes an entry's title and text in Cymraeg beside
the English; Welsh pages show them, falling back to the English (the manage page says so)."""

from __future__ import annotations

from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.mailings import jobs as mailing_jobs
from petitions.mailings.models import Mailing
from petitions.mailings.throttle import Throttle
from petitions.outcomes.models import ActionOutcome
from tests.support import factories
from tests.support.web import csrf_from
from tests.support.workspace import grant, login, make_organiser
from tests.supporters.conftest import sign_confirmed


def _setup(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        campaign = factories.make_campaign(slug="afonydd")
        action = factories.make_action(campaign, slug="carthion", title="Stop the sewage")
        organiser = make_organiser("org@example.org")
        grant(campaign.id, organiser.id)
        db.session.commit()
        action_id = action.id
        db.session.remove()
    return action_id


def _send_mailings(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        for mailing_id in db.session.scalars(select(Mailing.id)).all():
            mailing_jobs.run(mailing_id, throttle=Throttle(0))
        db.session.remove()


def test_an_entry_in_welsh_with_the_english_where_none(app, client):  # type: ignore[no-untyped-def]
    action_id = _setup(app)
    login(client, "org@example.org")
    url = f"/organise/actions/{action_id}/outcomes"
    page = client.get(url).get_data(as_text=True)
    assert 'name="title__cy"' in page and 'name="v-text__cy"' in page
    token = csrf_from(page)
    added = client.post(
        url,
        data={
            "csrf_token": token,
            "kind": "response",
            "title": "The water company replied",
            "text": "They promise new storm tanks.",
            "title__cy": "Atebodd y cwmni dŵr",
            "text__cy": "Maen nhw'n addo tanciau storm newydd.",
            "happened_on": "2026-11-30",
        },
    )
    assert added.status_code == 303
    refused = client.post(
        url, data={"csrf_token": token, "kind": "debated", "title__cy": "Llinell\r\nddwbl"}
    )
    assert refused.status_code == 400 and b"one line" in refused.data
    # Untranslated, and one with the default title (the kind's name).
    client.post(
        url, data={"csrf_token": token, "kind": "debated", "text": "Debated in the Senedd."}
    )
    with app.app_context():
        entries = db.session.scalars(select(ActionOutcome).order_by(ActionOutcome.id)).all()
        assert [e.translations for e in entries] == [
            {
                "cy": {
                    "title": "Atebodd y cwmni dŵr",
                    "text": "Maen nhw'n addo tanciau storm newydd.",
                }
            },
            {},
        ]
    manage = client.get(url).get_data(as_text=True)
    assert manage.count("(no Cymraeg version: shown in English)") == 1

    welsh = app.test_client().get("/cy/c/afonydd/carthion").get_data(as_text=True)
    assert "Atebodd y cwmni dŵr" in welsh and "tanciau storm newydd" in welsh
    assert "The water company replied" not in welsh and "new storm tanks" not in welsh
    assert "Debated in the Senedd." in welsh  # no Welsh: the English
    assert ">Wedi&#39;i drafod</h" in welsh  # a default title: the kind, in the page's words
    english = app.test_client().get("/c/afonydd/carthion").get_data(as_text=True)
    assert "The water company replied" in english and "Atebodd" not in english
    assert ">Debated</h" in english
    campaign_page = app.test_client().get("/cy/c/afonydd").get_data(as_text=True)
    assert "Atebodd y cwmni dŵr" in campaign_page


def test_victory_in_welsh(app, client):  # type: ignore[no-untyped-def]
    action_id = _setup(app)
    login(client, "org@example.org")
    page = client.get(f"/organise/actions/{action_id}/outcomes").get_data(as_text=True)
    declared = client.post(
        f"/organise/actions/{action_id}/victory",
        data={
            "csrf_token": csrf_from(page),
            "v-title": "We won",
            "v-text": "The tanks are being built.",
            "v-title__cy": "Rydym wedi ennill",
        },
    )
    assert declared.status_code == 303
    welsh = app.test_client().get("/cy/c/afonydd/carthion").get_data(as_text=True)
    assert "Rydym wedi ennill" in welsh and "The tanks are being built." in welsh


def test_each_supporter_gets_the_outcome_email_in_their_language_once(  # type: ignore[no-untyped-def]
    app, client, smtp_sink
):
    action_id = _setup(app)
    with app.app_context():
        action = db.session.get(Action, action_id)
        action.translations = {"cy": {"title": "Stopiwch y carthion"}}
        db.session.commit()
        sign_confirmed(action, "cymro@example.org", wants_updates=True, language="cy")
        sign_confirmed(action, "saes@example.org", wants_updates=True, language="en")
        sign_confirmed(action, "tawel@example.org", wants_updates=False, language="cy")
        db.session.remove()
    login(client, "org@example.org")
    url = f"/organise/actions/{action_id}/outcomes"
    added = client.post(
        url,
        data={
            "csrf_token": csrf_from(client.get(url).get_data(as_text=True)),
            "kind": "response",
            "title": "The water company replied",
            "text": "They promise new storm tanks.",
            "title__cy": "Atebodd y cwmni dŵr",
            "text__cy": "Maen nhw'n addo tanciau storm newydd.",
            "link": "https://example.org/reply.pdf",
            "happened_on": "2026-11-30",
            "notify": "y",
        },
    )
    assert added.status_code == 303
    _send_mailings(app)
    _send_mailings(app)  # asked again: nobody is mailed twice
    mail = {}
    for message in smtp_sink.messages:
        assert message.envelope_to[0] not in mail, "mailed twice"
        mail[message.envelope_to[0]] = message
    assert set(mail) == {"cymro@example.org", "saes@example.org"}  # only who opted in

    welsh = mail["cymro@example.org"]
    assert welsh.subject == "Stopiwch y carthion: Atebodd y cwmni dŵr"
    assert welsh.message["Content-Language"] == "cy"
    text = welsh.text()
    assert "**Ymateb wedi dod i law**, 30 Tachwedd 2026" in text
    assert "tanciau storm newydd" in text and "new storm tanks" not in text
    assert "Darllen mwy: <https://example.org/reply.pdf>" in text
    assert 'Diolch am gymryd rhan yn "Stopiwch y carthion".' in text
    assert "/cy/u/" in text  # the unsubscribe page in Welsh too

    english = mail["saes@example.org"]
    assert english.subject == "Stop the sewage: The water company replied"
    text = english.text()
    assert "**Response received**, 30 November 2026" in text
    assert "new storm tanks" in text and "tanciau" not in text
    assert "Read more: <https://example.org/reply.pdf>" in text
    assert 'Thank you for taking part in "Stop the sewage".' in text
    assert "/cy/" not in text
