"""Custom questions: an organiser adds them to an action's form; answers are validated (a clear
400, nothing stored), stored with the signature, exported formula-safe, counted per choice on
the dashboard, never shown publicly, and erased with the person."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from petitions.exports import jobs as exports
from petitions.exports.models import ExportJob
from petitions.extensions import db
from petitions.questions.models import SignatureAnswer
from petitions.signing.models import Signature
from petitions.supporters.services import erase
from tests.support import factories
from tests.support.web import csrf_from
from tests.support.workspace import csrf, grant, login, make_organiser


@pytest.fixture
def export_dir(app, tmp_path: Path):  # type: ignore[no-untyped-def]
    app.config["EXPORT_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["EXPORT_DIR"] = ""


def _setup(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        campaign = factories.make_campaign(slug="clean-rivers")
        action = factories.make_action(campaign, slug="stop-the-sewage")
        organiser = make_organiser("org@example.org")
        grant(campaign.id, organiser.id)
        ids = campaign.id, action.id
        db.session.remove()
    return ids


def _sign(client, email, **answers):  # type: ignore[no-untyped-def]
    page = client.get("/c/clean-rivers/stop-the-sewage").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "name": email.split("@")[0].title(),
        "email": email,
        "country": "GB",
        "postcode": "GU11 1AA",
    } | answers
    return client.post("/c/clean-rivers/stop-the-sewage", data=data)


def test_questions_answers_export_dashboard_and_erasure(app, client, export_dir):
    campaign_id, action_id = _setup(app)
    org = app.test_client()
    login(org, "org@example.org")
    url = f"/organise/actions/{action_id}/questions"
    token = csrf(org, url)
    one = org.post(
        url, data={"csrf_token": token, "label": "Pick", "kind": "choice", "choices": "A"}
    )
    assert one.status_code == 400 and b"2 to 10 choices" in one.data
    crlf = org.post(url, data={"csrf_token": token, "label": "Q\r\nBcc: x", "kind": "text"})
    assert crlf.status_code == 400 and b"one line" in crlf.data
    for data in (
        {"label": "Which river do you swim in?", "kind": "text", "required": "y"},
        {"label": "How often?", "kind": "choice", "choices": "Weekly\nMonthly\n\nWeekly"},
        {"label": "I have been ill after swimming", "kind": "checkbox", "sensitive": "y"},
    ):
        assert org.post(url, data={"csrf_token": token} | data).status_code == 303
    page = org.get(url).get_data(as_text=True)
    assert "one of: Weekly, Monthly" in page

    form = client.get("/c/clean-rivers/stop-the-sewage").get_data(as_text=True)
    assert 'name="q_which_river_do_you_swim_in"' in form and 'value="Monthly"' in form
    missing = _sign(client, "ann@example.org")
    assert missing.status_code == 400 and b"Answer this question." in missing.data
    bad = _sign(
        client, "ann@example.org", q_which_river_do_you_swim_in="Thames", q_how_often="Daily"
    )
    assert bad.status_code == 400 and b"Choose one of the answers listed." in bad.data
    assert b'value="Thames"' in bad.data  # what they typed is kept
    nul = _sign(client, "ann@example.org", q_which_river_do_you_swim_in="Tha\x07mes")
    assert nul.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Signature.id)) is None  # nothing stored
    ok = _sign(
        client,
        "ann@example.org",
        q_which_river_do_you_swim_in='=HYPERLINK("http://x")',
        q_how_often="Weekly",
        q_i_have_been_ill_after_swimming="y",
    )
    assert ok.status_code == 303
    assert _sign(client, "bob@example.org", q_which_river_do_you_swim_in="Wye").status_code == 303
    # Signing again with Ann's address can't rewrite her answers.
    again = _sign(client, "ann@example.org", q_which_river_do_you_swim_in="Changed")
    assert again.status_code == 303
    with app.app_context():
        for signature in db.session.scalars(select(Signature)):
            signature.confirmed_at = signature.created_at
        db.session.commit()
        assert len(db.session.scalars(select(SignatureAnswer)).all()) == 4

    # Never on public pages.
    public = client.get("/c/clean-rivers/stop-the-sewage").get_data(as_text=True)
    assert "HYPERLINK" not in public and "Wye" not in public
    thanks = client.get("/c/clean-rivers/stop-the-sewage/thanks").get_data(as_text=True)
    assert "Wye" not in thanks

    dashboard = org.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/dashboard")
    text = dashboard.get_data(as_text=True)
    assert "Answers to your questions" in text and "How often?" in text
    assert "I have been ill after swimming (sensitive)" in text

    exports_page = f"/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
    assert org.post(exports_page, data={"csrf_token": csrf(org, exports_page)}).status_code == 303
    with app.app_context():
        job_id = db.session.scalar(select(ExportJob.id))
        path = exports.run_export(job_id)
        assert path is not None
    text = (export_dir / path).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["email"] for r in rows] == ["ann@example.org", "bob@example.org"]
    assert rows[0]["Which river do you swim in?"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["How often?"] == "Weekly" and rows[1]["How often?"] == ""
    assert rows[0]["I have been ill after swimming (sensitive)"] == "yes"

    # OSDI for the campaign's own token: the answers by key, without the sensitive one.
    with app.app_context():
        from petitions.api.tokens import create_token
        from petitions.organisers.models import Organiser

        organiser = db.session.scalar(select(Organiser).where(Organiser.email == "org@example.org"))
        _, raw = create_token(organiser, "crm")
        db.session.commit()
    listing = client.get(
        f"/api/osdi/v1/petitions/{action_id}/signatures", headers={"OSDI-API-Token": raw}
    ).get_json()
    docs = listing["_embedded"]["osdi:signatures"]
    assert docs[0]["petitions:answers"] == {
        "which_river_do_you_swim_in": '=HYPERLINK("http://x")',
        "how_often": "Weekly",
    }
    assert docs[1]["petitions:answers"] == {"which_river_do_you_swim_in": "Wye"}

    with app.app_context():
        erase("ann@example.org")
        db.session.commit()
        left = db.session.execute(
            select(Signature.email, SignatureAnswer.value).join(
                Signature, Signature.id == SignatureAnswer.signature_id
            )
        ).all()
    assert [value for _, value in left] == ["Wye"]


def test_no_more_than_five_and_none_on_letters(app, client):
    _campaign_id, action_id = _setup(app)
    org = app.test_client()
    login(org, "org@example.org")
    url = f"/organise/actions/{action_id}/questions"
    token = csrf(org, url)
    for n in range(5):
        assert (
            org.post(url, data={"csrf_token": token, "label": f"Q{n}", "kind": "text"}).status_code
            == 303
        )
    sixth = org.post(url, data={"csrf_token": token, "label": "Q6", "kind": "text"})
    assert sixth.status_code == 400 and b"up to 5 questions" in sixth.data


def test_the_embed_asks_and_keeps_the_same_questions(app, client):  # type: ignore[no-untyped-def]
    """A widget on the charity's own site is the same form: its questions are asked, a required
    one can't be skipped, and the answers are stored with the signature."""
    import re

    campaign_id, action_id = _setup(app)
    org = app.test_client()
    login(org, "org@example.org")
    url = f"/organise/actions/{action_id}/questions"
    data = {"csrf_token": csrf(org, url), "label": "Your river", "kind": "text", "required": "y"}
    assert org.post(url, data=data).status_code == 303

    embed = client.get("/embed/clean-rivers/stop-the-sewage").get_data(as_text=True)
    assert 'name="q_your_river"' in embed
    token = re.search(r'name="embed_token" value="([^"]+)"', embed).group(1)
    person = {
        "embed_token": token,
        "name": "Wyn",
        "email": "wyn@example.org",
        "country": "GB",
        "postcode": "GU11 1AA",
        "q__asked": "1",
    }
    skipped = client.post("/embed/clean-rivers/stop-the-sewage", data=person)
    assert skipped.status_code == 400 and b"Answer this question." in skipped.data
    answered = client.post(
        "/embed/clean-rivers/stop-the-sewage", data=person | {"q_your_river": "The Wey"}
    )
    assert answered.status_code == 303
    with app.app_context():
        stored = db.session.scalars(select(SignatureAnswer)).all()
        assert [a.value for a in stored] == ["The Wey"]
        db.session.remove()


def test_a_form_that_leaves_out_the_questions_is_still_asked_them(app, client):  # type: ignore[no-untyped-def]
    """A scripted client that drops the questions (and their marker) from the form is not
    signed up by the hot path: the view asks, and a required question can't be skipped."""
    import re

    campaign_id, action_id = _setup(app)
    org = app.test_client()
    login(org, "org@example.org")
    url = f"/organise/actions/{action_id}/questions"
    data = {"csrf_token": csrf(org, url), "label": "Your river", "kind": "text", "required": "y"}
    assert org.post(url, data=data).status_code == 303
    page = client.get("/c/clean-rivers/stop-the-sewage").get_data(as_text=True)
    started = re.search(r'name="started"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="started"', page
    )
    fields = {
        "csrf_token": csrf_from(page),
        "name": "Scripted Person",
        "email": "scripted@example.org",
        "country": "GB",
        "postcode": "GU11 1AA",
        "started": started.group(1),
    }
    answer = client.post("/c/clean-rivers/stop-the-sewage", data=fields)
    assert answer.status_code == 400 and b"Answer this question." in answer.data
    with app.app_context():
        assert db.session.scalars(select(Signature)).all() == []
        db.session.remove()
