"""The target's response and the outcome: organisers add entries to an action's timeline
(shown on the public pages and in the public API), an entry can email the action's opted-in
supporters exactly once, and declaring victory closes the action and tells them."""

from __future__ import annotations

from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.mailings import jobs as mailing_jobs
from petitions.mailings.models import Mailing
from petitions.mailings.throttle import Throttle
from petitions.outcomes import services
from petitions.outcomes.models import ActionOutcome
from tests.support import factories
from tests.support.web import csrf_from
from tests.support.workspace import grant, login, make_organiser
from tests.supporters.conftest import sign_confirmed


def _setup(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        campaign = factories.make_campaign(slug="clean-rivers")
        action = factories.make_action(campaign, slug="stop-the-sewage", title="Stop the sewage")
        db.session.commit()
        sign_confirmed(action, "ann@example.org", wants_updates=True)
        sign_confirmed(action, "bob@example.org", wants_updates=False)
        organiser = make_organiser("org@example.org")
        grant(campaign.id, organiser.id)
        make_organiser("stranger@example.org")
        ids = campaign.id, action.id
        db.session.remove()
    return ids


def _send_mailings(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        for mailing_id in db.session.scalars(select(Mailing.id)).all():
            mailing_jobs.run(mailing_id, throttle=Throttle(0))
        db.session.remove()


def test_a_response_on_the_timeline_emails_opted_in_supporters_once(app, client, smtp_sink):
    _campaign_id, action_id = _setup(app)
    login(client, "org@example.org")
    page = client.get(f"/organise/actions/{action_id}/outcomes")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    url = f"/organise/actions/{action_id}/outcomes"
    for bad, why in [
        ({"link": "javascript:alert(1)"}, b"https://"),
        ({"title": "Line\r\nBreak"}, b"one line"),
        ({"kind": "nonsense"}, b"Choose what happened"),
        ({"text": "a\x00b"}, b""),
    ]:
        data = {"csrf_token": token, "kind": "response", "text": "We will review it."} | bad
        refused = client.post(url, data=data)
        assert refused.status_code == 400 and why in refused.data, bad
    added = client.post(
        url,
        data={
            "csrf_token": token,
            "kind": "response",
            "title": "The water company replied",
            "text": "They promise **new storm tanks** by 2027. <script>x</script>",
            "link": "https://example.org/reply.pdf",
            "happened_on": "2026-11-30",
            "notify": "y",
        },
    )
    assert added.status_code == 303
    assert "being emailed" in client.get(added.location).get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(select(ActionOutcome))
        action = db.session.get(Action, action_id)
        assert entry.mailing_id is not None
        services._mail(entry, action, None)  # asked again: the same mailing, nobody mailed twice
        assert db.session.scalar(select(db.func.count(Mailing.id))) == 1
        db.session.commit()
    _send_mailings(app)
    _send_mailings(app)
    mails = [m for m in smtp_sink.messages if "The water company replied" in m.subject]
    assert [m.envelope_to for m in mails] == [["ann@example.org"]]  # Bob did not opt in
    assert "new storm tanks" in mails[0].text()

    public = client.get("/c/clean-rivers/stop-the-sewage").get_data(as_text=True)
    assert "What has happened" in public and "The water company replied" in public
    assert "<strong>new storm tanks</strong>" in public and "<script>x" not in public
    assert 'href="https://example.org/reply.pdf"' in public
    assert "The water company replied" in client.get("/c/clean-rivers").get_data(as_text=True)
    api = client.get("/api/v1/campaigns/clean-rivers/actions/stop-the-sewage").get_json()
    assert api["timeline"] == [
        {
            "kind": "response",
            "title": "The water company replied",
            "text": "They promise **new storm tanks** by 2027. <script>x</script>",
            "link": "https://example.org/reply.pdf",
            "happened_on": "2026-11-30",
        }
    ]

    # Removing an entry takes it off the page (the email it sent stays sent).
    with app.app_context():
        entry_id = db.session.scalar(select(ActionOutcome.id))
    removed = client.post(f"{url}/{entry_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert "The water company replied" not in client.get(
        "/c/clean-rivers/stop-the-sewage"
    ).get_data(as_text=True)


def test_declaring_victory_closes_the_action_and_tells_supporters(app, client, smtp_sink):
    _campaign_id, action_id = _setup(app)
    stranger = app.test_client()
    login(stranger, "stranger@example.org")
    assert stranger.get(f"/organise/actions/{action_id}/outcomes").status_code == 404
    login(client, "org@example.org")
    token = csrf_from(client.get(f"/organise/actions/{action_id}/outcomes").get_data(as_text=True))
    won = client.post(
        f"/organise/actions/{action_id}/victory",
        data={"csrf_token": token, "v-title": "The sewage stops", "v-text": "Thank you all."},
    )
    assert won.status_code == 303
    again = client.post(
        f"/organise/actions/{action_id}/victory", data={"csrf_token": token, "v-title": "Again"}
    )
    assert again.status_code == 409
    with app.app_context():
        action = db.session.get(Action, action_id)
        assert action.closed_at is not None and not action.is_open()
        db.session.remove()
    _send_mailings(app)
    mails = [m for m in smtp_sink.messages if "The sewage stops" in m.subject]
    assert [m.envelope_to for m in mails] == [["ann@example.org"]]
    public = client.get("/c/clean-rivers/stop-the-sewage").get_data(as_text=True)
    assert "Victory!" in public and "The sewage stops" in public
