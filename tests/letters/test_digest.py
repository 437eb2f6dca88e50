"""Daily digests: with the organiser's choice, each recipient gets one email a day with that
day's letters (identical ones printed once with everyone who sent them, letters in people's
own words in full), at most once, counted as delivered; the organiser can send them now, and a
letter withdrawn before the digest never goes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.letters import queries
from petitions.letters.counts import jobs as counts
from petitions.letters.digest import jobs as digests
from petitions.letters.models import LetterDelivery, LetterDetails
from petitions.signing.models import Signature
from petitions.supporters.services import withdraw
from tests.letters.conftest import COMPANY_URL, confirm, write
from tests.support.web import csrf_from
from tests.support.workspace import login, make_organiser


def _digest_mode(app, action_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.get(LetterDetails, action_id).digest = True
        db.session.commit()


def test_one_digest_a_day_per_recipient_with_identical_letters_once(app, client, smtp_sink, demo):
    _digest_mode(app, demo["company"])
    for address in ("ann@example.org", "bob@example.org"):
        assert write(client, COMPANY_URL, address).status_code == 303
        confirm(app, client, smtp_sink, address)
    assert (
        write(client, COMPANY_URL, "cat@example.org", personal="I stopped buying.").status_code
        == 303
    )
    confirm(app, client, smtp_sink, "cat@example.org")
    with app.app_context():
        rows = list(db.session.scalars(select(LetterDelivery)))
        assert {r.status for r in rows} == {"digest"} and len(rows) == 6
        due = as_utc(rows[0].not_before)
        assert due > utcnow() and due.hour == app.config["LETTER_DIGEST_HOUR"] and due.minute == 0
        assert queries.waiting_for_digest(demo["company"]) == 6
        before = len(smtp_sink.messages)
        assert digests.send_due().digests == 0  # not before the digest hour
        report = digests.send_due(now=due + timedelta(seconds=1))
        assert (report.digests, report.letters) == (2, 6)
        assert digests.send_due(now=due + timedelta(minutes=5)).digests == 0  # at most once
        assert {r.status for r in db.session.scalars(select(LetterDelivery))} == {"sent"}
        counts.fold()
        assert {
            c.target.name: (c.letters, c.delivered)
            for c in queries.counts_per_target(demo["company"])
        } == {
            "Jordan Vale": (3, 3),
            "Morgan Ellis": (3, 3),
        }
        db.session.remove()
    sent = smtp_sink.messages[before:]
    assert sorted(m.envelope_to[0] for m in sent) == [
        "ceo@threadline.example.org",
        "sustainability@threadline.example.org",
    ]
    ceo = next(m for m in sent if m.envelope_to == ["ceo@threadline.example.org"])
    text = ceo.text()
    assert text.startswith("Dear Jordan Vale,") and "3 people have written to you" in text
    assert "2 people sent this letter:" in text and text.count("Dear Jordan Vale") == 3
    assert "- Ann, GU11 1AA, ann@example.org" in text and "- Bob, GU11 1AA" in text
    assert "From Cat, GU11 1AA, cat@example.org:" in text and "I stopped buying." in text
    assert "3 letters today" in ceo.subject


def test_the_organiser_sends_the_digests_now_and_withdrawn_letters_stay_out(
    app, client, smtp_sink, demo
):
    _digest_mode(app, demo["company"])
    for address in ("ann@example.org", "bob@example.org"):
        assert write(client, COMPANY_URL, address).status_code == 303
        confirm(app, client, smtp_sink, address)
    with app.app_context():
        bob = db.session.scalar(select(Signature).where(Signature.email == "bob@example.org"))
        assert withdraw(bob.email_normalised, bob.id)
        make_organiser("admin@example.org", admin=True)
        db.session.commit()
    login(client, "admin@example.org")
    page = client.get(f"/organise/letters/{demo['company']}").get_data(as_text=True)
    assert "2 letter(s) waiting" in page and "Send the digests now" in page
    sent = client.post(
        f"/organise/letters/{demo['company']}/digest", data={"csrf_token": csrf_from(page)}
    )
    assert sent.status_code == 303
    assert "Sending 2 letter(s) now" in client.get(sent.location).get_data(as_text=True)
    before = len(smtp_sink.messages)
    with app.app_context():
        assert digests.send_due().letters == 2
        statuses = sorted(db.session.scalars(select(LetterDelivery.status)))
        db.session.remove()
    assert statuses == ["sent", "sent", "skipped", "skipped"]
    texts = [m.text() for m in smtp_sink.messages[before:]]
    assert len(texts) == 2 and all("Bob" not in t and "From Ann" in t for t in texts)
    assert (
        client.post(
            f"/organise/letters/{demo['company']}/digest", data={"csrf_token": csrf_from(page)}
        ).status_code
        == 303
    )
