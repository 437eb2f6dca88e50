"""Reminders 24 h and 2 h before, exactly once each, never after a cancellation, right across
a daylight-saving change; the demo command; follow-ups to those who did not come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from petitions.extensions import db
from petitions.gatherings import jobs, services
from petitions.gatherings.models import DeliveryStatus, EventDelivery
from tests.gatherings.conftest import event_input
from tests.support.factories import make_campaign, make_signature

# London's clocks go back at 02:00 BST on Sunday 27 October 2030 (01:00 UTC).
EVENT_LOCAL = datetime(2030, 10, 27, 10, 0)  # 10:00 GMT = 10:00 UTC, the morning after


def _event(capacity=None, **values):  # type: ignore[no-untyped-def]
    campaign = make_campaign()
    return services.create_event(
        campaign,
        event_input(
            starts_local=values.pop("starts_local", EVENT_LOCAL),
            ends_local=values.pop("ends_local", EVENT_LOCAL + timedelta(hours=2)),
            capacity=capacity,
            **values,
        ),
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )


def _going(action, address: str):  # type: ignore[no-untyped-def]
    signature_id = make_signature(action, address)
    services.record_rsvp(action, signature_id, {}, {})
    rsvp = services.place_confirmed(signature_id)
    db.session.commit()
    return rsvp


def _sent(message: str) -> int:
    return db.session.scalar(
        select(func.count(EventDelivery.id)).where(
            EventDelivery.message == message, EventDelivery.status == DeliveryStatus.SENT.value
        )
    )


def test_reminders_go_once_each_at_the_right_utc_time_across_dst(factories, smtp_sink):
    action = _event()
    _going(action, "ann@example.org")
    _going(action, "bob@example.org")
    starts = datetime(2030, 10, 27, 10, 0, tzinfo=UTC)
    # 24 hours before the start is 10:00 UTC on the 26th (11:00 BST): not due a minute before.
    assert jobs.run(starts - timedelta(hours=24, minutes=1)).sent == 0
    report = jobs.run(starts - timedelta(hours=24))
    assert report.sent == 2 and _sent("reminder:24h") == 2
    mails = smtp_sink.wait_for(2)
    assert all(m.subject.startswith("Reminder") for m in mails)
    assert "10:00" in mails[0].text() and "GMT" in mails[0].text()
    # Beat runs again (and again): nothing new.
    for minutes in (1, 5, 60):
        assert jobs.run(starts - timedelta(hours=24) + timedelta(minutes=minutes)).sent == 0
    assert jobs.run(starts - timedelta(hours=2)).sent == 2
    assert jobs.run(starts - timedelta(minutes=30)).sent == 0
    assert jobs.run(starts + timedelta(minutes=1)).sent == 0
    assert _sent("reminder:24h") == 2 and _sent("reminder:2h") == 2
    assert len(smtp_sink.messages) == 4


def test_late_rsvp_gets_only_the_latest_reminder_and_cancelled_get_none(factories, smtp_sink):
    action = _event()
    starts = datetime(2030, 10, 27, 10, 0, tzinfo=UTC)
    _going(action, "late@example.org")
    gone = _going(action, "gone@example.org")
    services.cancel_rsvp(gone)
    db.session.commit()
    report = jobs.run(starts - timedelta(hours=1))
    assert report.sent == 1 and _sent("reminder:2h") == 1 and _sent("reminder:24h") == 0
    skipped = db.session.scalar(
        select(func.count(EventDelivery.id)).where(
            EventDelivery.message == "reminder:24h",
            EventDelivery.status == DeliveryStatus.SKIPPED.value,
        )
    )
    assert skipped == 1
    assert [m.envelope_to for m in smtp_sink.messages if "Reminder" in m.subject] == [
        ["late@example.org"]
    ]


def test_cancelled_event_sends_no_reminders(factories, smtp_sink):
    action = _event()
    _going(action, "ann@example.org")
    services.cancel_event(action)
    db.session.commit()
    starts = datetime(2030, 10, 27, 10, 0, tzinfo=UTC)
    assert jobs.run(starts - timedelta(hours=2)).sent == 0
    assert db.session.scalar(select(func.count(EventDelivery.id))) == 0


def test_a_row_left_sending_by_a_dead_worker_is_never_sent_again(factories, smtp_sink):
    action = _event()
    _going(action, "ann@example.org")
    starts = datetime(2030, 10, 27, 10, 0, tzinfo=UTC)
    jobs.plan_reminders(starts - timedelta(hours=24))
    # A worker marked it sending and died before recording the outcome.
    db.session.execute(
        update(EventDelivery).values(
            status=DeliveryStatus.SENDING.value, handed_at=starts - timedelta(hours=24)
        )
    )
    db.session.commit()
    report = jobs.run(starts - timedelta(hours=23))
    assert report.sent == 0 and report.unknown == 1
    assert db.session.scalar(select(EventDelivery.status)) == DeliveryStatus.UNKNOWN.value
    assert not smtp_sink.messages


def test_demo_command_sends_the_first_reminder_now_once(app, factories, smtp_sink):
    action = services.create_event(make_campaign(), event_input(capacity=None))
    db.session.commit()
    _going(action, "ann@example.org")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["events", "send-reminders", "--now"])
    assert first.exit_code == 0, first.output
    assert "1 sent" in first.output
    second = runner.invoke(args=["events", "send-reminders", "--now"])
    assert "0 sent" in second.output
    assert len(smtp_sink.wait_for(1)) == 1


def test_follow_up_to_no_shows_only(factories, smtp_sink):
    action = _event()
    came = _going(action, "came@example.org")
    _going(action, "missed@example.org")
    services.check_in(came)
    _followup, count = services.create_followup(
        action, "no_show", "Sorry we missed you", "The recording: https://video.example.org/x"
    )
    db.session.commit()
    assert count == 1
    assert jobs.send_pending().sent == 1
    mails = smtp_sink.wait_for(1)
    assert mails[0].envelope_to == ["missed@example.org"]
    assert "video.example.org" in mails[0].text()
    assert jobs.send_pending().sent == 0


def test_the_demo_past_talk_has_attendees_check_ins_and_its_recording_follow_up(
    app, client, smtp_sink
):
    from petitions.campaigns.models import Action
    from petitions.gatherings.demo import RECORDING_SUBJECT, TALK_SLUG
    from petitions.gatherings.models import FollowUp
    from tests.support.workspace import login

    runner = app.test_cli_runner()
    for _ in range(2):  # safe to run again
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        talk = db.session.scalar(select(Action).where(Action.slug == TALK_SLUG))
        (followup,) = db.session.scalars(select(FollowUp)).all()
        assert followup.subject == RECORDING_SUBJECT and followup.audience == "attended"
        statuses = db.session.scalars(select(EventDelivery.status)).all()
        assert statuses == [DeliveryStatus.SENT.value] * 2
        assert jobs.send_pending().sent == 0, "the demo mails nobody"
        campaign_id, talk_id = talk.campaign_id, talk.id
        db.session.remove()
    from petitions.organisers.services import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD

    login(client, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    page = client.get(f"/organise/events/{talk_id}/attendees").get_data(as_text=True)
    assert "3 going" in page and "2 checked in" in page and "2 sent" in page
    dashboard = client.get(
        f"/organise/campaigns/{campaign_id}/actions/{talk_id}/dashboard.json"
    ).get_json()
    assert dashboard["events"][0]["attendance_rate"] == round(2 / 3, 3)
    assert not smtp_sink.messages
