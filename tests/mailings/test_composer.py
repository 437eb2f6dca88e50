"""The composer: a draft sends nothing; audiences (campaign, action, pledge option, since a date)
are counted before sending; preview, test to yourself, confirm naming the count, schedule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from petitions.audit.models import AuditEvent
from petitions.campaigns.models import ActionKind
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.mailings import jobs, recipients, services
from petitions.mailings.models import Mailing, MailingKind, MailingStatus
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature
from tests.mailings.test_sending import _login
from tests.support.workspace import csrf, make_organiser
from tests.supporters.conftest import sign_confirmed


def _pledge_campaign(factories):
    owner = make_organiser("org@example.org")
    campaign = factories.make_campaign(owner_id=owner.id, title="Fair fashion")
    pledge = factories.make_action(
        campaign,
        kind=ActionKind.PLEDGE.value,
        title="Boycott FastCo",
        pledge_options=["I will boycott", "I will attend the protest"],
    )
    petition = factories.make_action(campaign, title="Tell FastCo")
    for email, option in [
        ("ann@example.org", "I will boycott"),
        ("bob@example.org", "I will boycott"),
        ("cat@example.org", "I will attend the protest"),
    ]:
        sign_confirmed(pledge, email, wants_updates=True, pledge_option=option)
    sign_confirmed(pledge, "quiet@example.org", wants_updates=False, pledge_option="I will boycott")
    sign_confirmed(petition, "dan@example.org", wants_updates=True)
    return owner, campaign, pledge, petition


def _compose(client, base, **data):
    token = csrf(client, f"{base}/new")
    values = {"csrf_token": token, "subject": "", "body": "", "audience": "campaign"}
    values.update(data)
    return client.post(f"{base}/new", data=values)


def test_a_draft_to_one_pledge_option_previewed_tested_and_sent(app, client, factories, smtp_sink):
    owner, campaign, pledge, _ = _pledge_campaign(factories)
    _login(client, "org@example.org")
    base = f"/organise/campaigns/{campaign.id}/mailings"

    # Errors say what is wrong, and nothing is saved.
    bad = _compose(client, base, audience="pledge:999:0")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Enter a subject" in text and "Write the message" in text
    assert "<title>Error:" in text

    saved = _compose(
        client,
        base,
        subject="Boycott starts Monday",
        body="Thank you. **Stop buying** from FastCo.\n\n<script>alert(1)</script>",
        audience=f"pledge:{pledge.id}:0",
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    draft_url = saved.location
    mailing = db.session.scalar(select(Mailing).where(Mailing.subject == "Boycott starts Monday"))
    assert mailing.status == MailingStatus.DRAFT and mailing.kind == MailingKind.COMPOSED
    assert jobs.due_mailings() == []  # a draft is never picked up by the sweeper

    page = client.get(draft_url).get_data(as_text=True)
    assert re.search(r'id="recipient-count">2<', page), page  # ann and bob; not quiet, not cat
    assert "I will boycott" in page
    assert "**Stop buying**" in page  # the text part keeps Markdown, readable as it is
    html = client.get(f"{base}/{mailing.id}/preview.html")
    assert html.status_code == 200
    assert "<strong>Stop buying</strong>" in html.get_data(as_text=True)
    assert "<script>" not in html.get_data(as_text=True)  # shown as typed, never run
    assert "&lt;script&gt;" in html.get_data(as_text=True)
    assert "sandbox" in html.headers["Content-Security-Policy"]
    assert html.headers["X-Frame-Options"] == "SAMEORIGIN"

    # A test copy goes to the organiser only.
    token = csrf(client, draft_url)
    assert client.post(f"{base}/{mailing.id}/test", data={"csrf_token": token}).status_code == 303
    drain()
    [test] = smtp_sink.messages
    assert test.envelope_to == ["org@example.org"]
    assert test.subject.startswith("[Test] Boycott starts Monday")
    assert "<strong>Stop buying</strong>" in test.html()

    # Sending asks once, naming the count; the confirmation page sends nothing by itself.
    step = client.post(
        f"{base}/{mailing.id}/schedule", data={"csrf_token": token, "when": "now"}
    ).get_data(as_text=True)
    assert "to 2 people now?" in step and "Send to 2 people" in step
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).status == MailingStatus.DRAFT
    sent = client.post(
        f"{base}/{mailing.id}/send",
        data={"csrf_token": token, "send_at": "", "recipients": "2"},
    )
    assert sent.status_code == 303
    again = client.post(
        f"{base}/{mailing.id}/send",
        data={"csrf_token": token, "send_at": "", "recipients": "2"},
    )
    assert again.status_code == 303  # a second click changes nothing
    assert mailing.id in jobs.due_mailings()
    jobs.run(mailing.id, throttle=Throttle(0))
    got = sorted(m.envelope_to[0] for m in smtp_sink.messages[1:])
    assert got == ["ann@example.org", "bob@example.org"]
    assert all("/u/" in m.text() for m in smtp_sink.messages[1:])
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "mailing.sent"))
    assert audit is not None and audit.organiser_id == owner.id

    # Sent: no more editing.
    edit = client.get(f"{base}/{mailing.id}/edit")
    assert edit.status_code == 303


def test_audiences_are_counted_before_saving(app, factories):
    _, campaign, pledge, petition = _pledge_campaign(factories)
    from petitions.mailings import composer
    from petitions.mailings.models import Audience

    def count(**values):
        return composer.audience_size(
            composer.probe(campaign, composer.Draft(subject="s", body="b", **values))
        )

    assert count(audience=Audience.CAMPAIGN) == 4
    assert count(audience=Audience.ACTION, action_id=petition.id) == 1
    assert count(audience=Audience.ACTION, action_id=pledge.id) == 3
    assert (
        count(
            audience=Audience.PLEDGE,
            action_id=pledge.id,
            pledge_option="I will attend the protest",
        )
        == 1
    )
    # Confirmed since a date: move two confirmations into the past.
    db.session.execute(
        update(Signature)
        .where(Signature.email_normalised.in_(["ann@example.org", "dan@example.org"]))
        .values(confirmed_at=utcnow() - timedelta(days=30))
    )
    db.session.commit()
    since = utcnow() - timedelta(days=7)
    assert count(audience=Audience.CAMPAIGN, confirmed_since=since) == 2


def test_scheduled_for_later_waits_and_can_be_cancelled(app, client, factories, smtp_sink):
    _, campaign, pledge, _ = _pledge_campaign(factories)
    _login(client, "org@example.org")
    base = f"/organise/campaigns/{campaign.id}/mailings"
    saved = _compose(client, base, subject="Protest day", body="See you there.")
    mailing = db.session.scalar(select(Mailing).where(Mailing.subject == "Protest day"))
    token = csrf(client, saved.location)

    past = client.post(
        f"{base}/{mailing.id}/schedule",
        data={"csrf_token": token, "when": "later", "send_at": "2020-01-01T09:00"},
    )
    assert past.status_code == 400 and "That time has passed" in past.get_data(as_text=True)
    missing = client.post(
        f"{base}/{mailing.id}/schedule", data={"csrf_token": token, "when": "later"}
    )
    assert missing.status_code == 400 and "Choose the date and time" in missing.get_data(
        as_text=True
    )
    nonsense = client.post(
        f"{base}/{mailing.id}/schedule",
        data={"csrf_token": token, "when": "later", "send_at": "tomorrow-ish"},
    )
    assert nonsense.status_code == 400 and "as a date and time" in nonsense.get_data(as_text=True)

    later = (utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    step = client.post(
        f"{base}/{mailing.id}/schedule",
        data={"csrf_token": token, "when": "later", "send_at": later.strftime("%Y-%m-%dT%H:%M")},
    ).get_data(as_text=True)
    assert "for 4 people?" in step and later.strftime("%H:%M") in step
    iso = re.search(r'name="send_at" value="([^"]+)"', step).group(1)
    client.post(
        f"{base}/{mailing.id}/send", data={"csrf_token": token, "send_at": iso, "recipients": "4"}
    )
    db.session.expire_all()
    queued = db.session.get(Mailing, mailing.id)
    assert queued.status == MailingStatus.QUEUED
    assert queued.send_at is not None
    assert "scheduled" in client.get(f"{base}/{mailing.id}").get_data(as_text=True)
    assert mailing.id not in jobs.due_mailings()  # not before its time
    assert not recipients.prepare(mailing.id)

    # Its time comes (moved, not waited for): the sweeper starts it.
    db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id)
        .values(send_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.session.commit()
    assert mailing.id in jobs.due_mailings()
    services.set_status(db.session.get(Mailing, mailing.id), MailingStatus.CANCELLED)
    db.session.commit()
    jobs.run(mailing.id, throttle=Throttle(0))
    assert smtp_sink.messages == []


def test_update_mailing_asks_first_and_names_the_count(app, client, factories):
    from tests.mailings.test_sending import _update

    _, campaign, _, _ = _pledge_campaign(factories)
    update_row = _update(campaign, "We won")
    _login(client, "org@example.org")
    base = f"/organise/campaigns/{campaign.id}/mailings"
    page = client.get(f"{base}/updates/{update_row.id}/send").get_data(as_text=True)
    assert "to 4 people?" in page and 'name="update_id"' in page
    assert db.session.scalar(select(Mailing).where(Mailing.update_id == update_row.id)) is None


def test_another_organiser_gets_404(app, client, factories):
    _, campaign, _, _ = _pledge_campaign(factories)
    make_organiser("stranger@example.org")
    _login(client, "org@example.org")
    base = f"/organise/campaigns/{campaign.id}/mailings"
    _compose(client, base, subject="Private", body="Words.")
    mailing = db.session.scalar(select(Mailing).where(Mailing.subject == "Private"))
    other = app.test_client()
    _login(other, "stranger@example.org")
    for url in ("", "/new", f"/{mailing.id}", f"/{mailing.id}/preview.html", f"/{mailing.id}/edit"):
        assert other.get(base + url).status_code == 404, url


def test_a_draft_is_deleted_after_asking_once(app, client, factories):
    _, campaign, _, _ = _pledge_campaign(factories)
    _login(client, "org@example.org")
    base = f"/organise/campaigns/{campaign.id}/mailings"
    _compose(client, base, subject="Oops", body="Wrong one.")
    mailing = db.session.scalar(select(Mailing).where(Mailing.subject == "Oops"))
    ask = client.get(f"{base}/{mailing.id}/delete")
    assert ask.status_code == 200 and "Delete the draft “Oops”?" in ask.get_data(as_text=True)
    assert db.session.get(Mailing, mailing.id) is not None
    token = csrf(client, f"{base}/{mailing.id}/delete")
    gone = client.post(f"{base}/{mailing.id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id) is None
