"""Organisers edit and remove fixed recipients (nothing delivered is lost, nothing undelivered
goes to a removed one), and the thank-you variant goes with its own subject."""

from __future__ import annotations

from sqlalchemy import select

from petitions.extensions import db
from petitions.letters import jobs, services
from petitions.letters.counts import jobs as counts
from petitions.letters.models import Letter, LetterDelivery, LetterTarget
from tests.letters.conftest import COMPANY_URL, MP_URL, confirm, write
from tests.support.web import csrf_from
from tests.support.workspace import login, make_organiser


def _targets(app, action_id):  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(
            select(LetterTarget).where(LetterTarget.action_id == action_id).order_by("id")
        )
        found = {t.name: t.id for t in rows}
        db.session.remove()
    return found


def test_an_organiser_edits_and_removes_a_recipient(app, client, smtp_sink, demo):
    with app.app_context():
        make_organiser("admin@example.org", admin=True)
    targets = _targets(app, demo["company"])
    ceo = targets["Jordan Vale"]
    head = targets["Morgan Ellis"]
    # One letter delivered to both, one confirmed but not yet sent.
    assert write(client, COMPANY_URL, "ann@example.org").status_code == 303
    confirm(app, client, smtp_sink, "ann@example.org")
    with app.app_context():
        assert jobs.run().sent == 2
        db.session.remove()
    assert write(client, COMPANY_URL, "bob@example.org").status_code == 303
    confirm(app, client, smtp_sink, "bob@example.org")
    with app.app_context():
        counts.fold()
        db.session.remove()

    login(client, "admin@example.org")
    edit_url = f"/organise/letters/{demo['company']}/targets/{ceo}/edit"
    form = client.get(edit_url)
    assert form.status_code == 200 and b"jordan" in form.data.lower()
    token = csrf_from(form.get_data(as_text=True))
    bad = client.post(edit_url, data={"csrf_token": token, "name": "Jordan", "email": "nope"})
    assert bad.status_code == 400 and b"Target email" in bad.data
    crlf = client.post(
        edit_url, data={"csrf_token": token, "name": "J\r\nBcc: x", "email": "a@example.org"}
    )
    assert crlf.status_code == 400
    saved = client.post(
        edit_url,
        data={
            "csrf_token": token,
            "name": "Jordan Vale",
            "title": "Chief Executive",
            "organisation": "Threadline",
            "email": "new-ceo@threadline.example.org",
        },
    )
    assert saved.status_code == 303

    # Removing the head of sustainability stops Bob's letter to her; Ann's stays delivered.
    removed = client.post(
        f"/organise/letters/{demo['company']}/targets/{head}/remove",
        data={"csrf_token": token},
    )
    assert removed.status_code == 303
    page = client.get(removed.location).get_data(as_text=True)
    assert "1 letter(s) not yet delivered to them will not be sent" in page, page
    assert ">removed</span>" in page
    assert client.get(f"/organise/letters/{demo['company']}/targets/{head}/edit").status_code == 404
    with app.app_context():
        jobs.run()
        rows = db.session.execute(
            select(
                Letter.id, LetterDelivery.target_id, LetterDelivery.status, LetterDelivery.recipient
            )
            .join(Letter, Letter.id == LetterDelivery.letter_id)
            .order_by(Letter.id, LetterDelivery.target_id)
        ).all()
        db.session.remove()
    statuses = [(r.target_id, r.status, r.recipient) for r in rows]
    assert statuses == [
        (ceo, "sent", "ceo@threadline.example.org"),  # delivered before: its address kept
        (head, "sent", "sustainability@threadline.example.org"),
        (ceo, "sent", "new-ceo@threadline.example.org"),
        (head, "skipped", ""),
    ]
    assert smtp_sink.to("new-ceo@threadline.example.org")
    # New letters go to the remaining recipient only; the public page no longer lists her.
    public = client.get(COMPANY_URL).get_data(as_text=True)
    assert "Morgan Ellis" not in public and "Jordan Vale" in public
    csv = client.get(f"/organise/letters/{demo['company']}?format=csv").get_data(as_text=True)
    assert csv.count("Morgan Ellis") == 2  # both letters to her stay in the export


def test_an_mp_cannot_be_edited_or_removed_here(app, client, demo):
    with app.app_context():
        make_organiser("admin@example.org", admin=True)
        from petitions.campaigns.models import Action

        action = db.session.get(Action, demo["mp"])
        mp = services.representative_target(action.id, "E14001063")
        db.session.commit()
        mp_id = mp.id
    login(client, "admin@example.org")
    assert client.get(f"/organise/letters/{demo['mp']}/targets/{mp_id}/edit").status_code == 404
    token = csrf_from(client.get(f"/organise/letters/{demo['mp']}").get_data(as_text=True))
    gone = client.post(
        f"/organise/letters/{demo['mp']}/targets/{mp_id}/remove", data={"csrf_token": token}
    )
    assert gone.status_code == 404
    other = client.post(
        f"/organise/letters/{demo['company']}/targets/{mp_id}/remove", data={"csrf_token": token}
    )
    assert other.status_code == 404  # a target of another action


def test_the_thank_you_variant_goes_with_its_own_subject(app, client, smtp_sink, demo):
    assert write(client, MP_URL, "bob@example.org", query="?postcode=GU11+1AA").status_code == 303
    assert write(client, MP_URL, "cat@example.org", query="?postcode=WS9+8AA").status_code == 303
    confirm(app, client, smtp_sink, "bob@example.org")
    confirm(app, client, smtp_sink, "cat@example.org")
    with app.app_context():
        assert jobs.run().sent == 2
        db.session.remove()
    thanks = smtp_sink.to("alex.rowan.mp@example.org")[0]
    assert thanks.message["Subject"] == "Thank you for backing the supply-chain amendment"
    assert "Thank you for supporting" in thanks.text()
    opposer = [m for m in smtp_sink.messages if "Aldridge" in m.text()][0]
    assert opposer.message["Subject"] == "Please back the supply-chain amendment on Thursday"
