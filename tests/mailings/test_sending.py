"""Mailings sent in-process (the worker's code path): recipients, skips, controls, pages."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from petitions.campaigns.models import CampaignUpdate
from petitions.extensions import db
from petitions.mailer.services import suppress
from petitions.mailings import jobs, queries, recipients, services
from petitions.mailings.models import DeliveryStatus, MailingDelivery, MailingStatus
from petitions.mailings.throttle import Throttle
from petitions.supporters.services import unsubscribe
from tests.support.workspace import csrf, login, make_organiser


def _update(campaign, title="News from the campaign", body="We **won** a hearing."):
    update = CampaignUpdate(campaign_id=campaign.id, title=title, body=body)
    db.session.add(update)
    db.session.commit()
    return update


def _login(client, email):
    # The test's app context (for the factories) is shared by the client's requests, so what
    # ``g`` caches (the CSRF token, the logged-in user) would outlive the rotated session.
    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    login(client, email)
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def _send(mailing_id):
    return jobs.run(mailing_id, throttle=Throttle(0))


def test_only_opted_in_confirmed_supporters_get_it_once(factories, audience, smtp_sink):
    campaign = factories.make_campaign()
    audience(campaign, ["ann@example.org", "bob@example.org"])
    audience(campaign, ["ann@example.org"])  # two actions, one person
    audience(campaign, ["quiet@example.org"], wants_updates=False)
    factories.make_signature(
        factories.make_action(campaign), "pending@example.org", wants_updates=True
    )
    update = _update(campaign)

    mailing, created = services.request_update_mailing(update)
    again, created_again = services.request_update_mailing(update)
    db.session.commit()
    assert created and not created_again and again.id == mailing.id
    _send(mailing.id)
    _send(mailing.id)  # a redelivered task finds nothing left to do

    got = sorted(m.envelope_to[0] for m in smtp_sink.messages)
    assert got == ["ann@example.org", "bob@example.org"]
    db.session.expire_all()
    assert db.session.get(type(mailing), mailing.id).status == MailingStatus.DONE
    progress = queries.progress(mailing)
    assert (progress.total, progress.sent, progress.percent) == (2, 2, 100)
    message = smtp_sink.messages[0]
    assert "<strong>won</strong>" in message.html()
    assert "Unsubscribe" in message.html() and "/u/" in message.text()


def test_unsubscribed_and_suppressed_get_nothing(factories, audience, smtp_sink):
    campaign = factories.make_campaign()
    other = factories.make_campaign()
    audience(
        campaign,
        [
            "ann@example.org",
            "all@example.org",
            "this@example.org",
            "gone@example.org",
            "late@example.org",
        ],
    )
    audience(other, ["this@example.org"])
    unsubscribe("all@example.org", None)
    unsubscribe("this@example.org", campaign.id)
    suppress("gone@example.org", "smtp 550")
    mailing, _ = services.request_update_mailing(_update(campaign))
    db.session.commit()
    recipients.prepare(mailing.id)
    db.session.commit()
    unsubscribe("late@example.org", campaign.id)  # after the list was made: still skipped
    db.session.commit()
    _send(mailing.id)
    assert [m.envelope_to[0] for m in smtp_sink.messages] == ["ann@example.org"]
    skipped = db.session.scalars(
        select(MailingDelivery.email_normalised).where(
            MailingDelivery.status == DeliveryStatus.SKIPPED
        )
    ).all()
    assert skipped == ["late@example.org"]

    # Unsubscribing from one campaign leaves the other.
    mailing2, _ = services.request_update_mailing(_update(other))
    db.session.commit()
    _send(mailing2.id)
    assert smtp_sink.to("this@example.org")


def test_bounce_fails_that_address_and_suppresses_it(factories, audience, smtp_sink):
    campaign = factories.make_campaign()
    audience(campaign, ["bounce@example.org"])
    smtp_sink.rcpt_replies.append("550 5.1.1 No such user")
    first, _ = services.request_update_mailing(_update(campaign, "One"))
    db.session.commit()
    report = _send(first.id).batches
    assert (report.sent, report.failed) == (0, 1)
    audience(campaign, ["ok@example.org"])
    second, _ = services.request_update_mailing(_update(campaign, "Two"))
    db.session.commit()
    _send(second.id)
    assert [m.envelope_to[0] for m in smtp_sink.messages] == ["ok@example.org"]
    assert queries.progress(second).total == 1


def test_pause_resume_cancel(factories, audience, smtp_sink):
    campaign = factories.make_campaign()
    audience(campaign, [f"p{i}@example.org" for i in range(5)])
    mailing, _ = services.request_update_mailing(_update(campaign))
    db.session.commit()
    assert services.set_status(mailing, MailingStatus.PAUSED)
    db.session.commit()
    _send(mailing.id)
    assert smtp_sink.messages == []
    assert services.set_status(mailing, MailingStatus.SENDING)
    db.session.commit()
    assert mailing.status == MailingStatus.QUEUED  # resumed before it had started
    recipients.prepare(mailing.id)
    db.session.commit()
    ids = jobs.claim(mailing.id, 2)
    jobs.send_batch(mailing.id, ids, Throttle(0))
    assert len(smtp_sink.messages) == 2
    assert services.set_status(mailing, MailingStatus.CANCELLED)
    db.session.commit()
    _send(mailing.id)
    assert len(smtp_sink.messages) == 2
    counts = queries.progress(mailing).counts
    assert counts == {"sent": 2, "skipped": 3}
    assert not services.set_status(mailing, MailingStatus.SENDING)


def test_organiser_pages(app, client, factories, audience, smtp_sink):
    owner = make_organiser("org@example.org")
    make_organiser("stranger@example.org")
    campaign = factories.make_campaign(owner_id=owner.id)
    audience(campaign, ["ann@example.org"])
    update = _update(campaign, "March on Saturday")
    _login(client, "org@example.org")

    url = f"/organise/campaigns/{campaign.id}/mailings"
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "March on Saturday" in page.get_data(as_text=True)
    token = csrf(client, url)
    response = client.post(url, data={"csrf_token": token, "update_id": update.id})
    assert response.status_code == 303, response.get_data(as_text=True)
    again = client.post(url, data={"csrf_token": token, "update_id": update.id})
    assert again.location == response.location, "a second click shows the same mailing"
    mailing_id = int(response.location.rstrip("/").split("/")[-1])
    _send(mailing_id)
    progress = client.get(f"{url}/{mailing_id}/progress.json").get_json()
    assert progress["status"] == "done" and progress["sent"] == 1
    assert "1</strong> sent of 1" in client.get(f"{url}/{mailing_id}").get_data(as_text=True)

    other = app.test_client()
    _login(other, "stranger@example.org")
    assert other.get(url).status_code == 404
    assert other.get(f"{url}/{mailing_id}").status_code == 404


def test_a_mailing_stranded_by_a_dead_worker_is_finished_and_not_resent(
    factories, audience, smtp_sink
):
    from datetime import timedelta

    from sqlalchemy import update

    from petitions.core.time import utcnow

    campaign = factories.make_campaign()
    audience(campaign, ["last@example.org"])
    mailing, _ = services.request_update_mailing(_update(campaign))
    db.session.commit()
    recipients.prepare(mailing.id)
    db.session.commit()
    # As a worker killed while handing the last message to SMTP leaves it:
    db.session.execute(
        update(MailingDelivery).values(
            status=DeliveryStatus.SENDING.value, claimed_until=utcnow() - timedelta(seconds=1)
        )
    )
    db.session.commit()
    assert jobs.due_mailings() == []
    db.session.expire_all()
    assert db.session.get(type(mailing), mailing.id).status == MailingStatus.DONE
    assert queries.progress(mailing).counts == {"unknown": 1}
    _send(mailing.id)
    assert smtp_sink.messages == []
