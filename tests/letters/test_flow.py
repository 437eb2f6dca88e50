"""The whole letter path with the real worker and SMTP sink: write to the demo company and to
the demo MP for a demo postcode, confirm, each letter arrives addressed to its target (from
the service, Reply-To the supporter, "sent on behalf of"), counts rise per target on the
organiser's page, and the thank-you variant shows for an MP who supports the ask."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.letters.models import LetterDelivery, LetterTargetTally
from tests.conftest import wait_for
from tests.letters.conftest import COMPANY_URL, MP_URL, write
from tests.support.factories import TOKEN_IN_LINK
from tests.support.web import csrf_from
from tests.support.workspace import login, make_organiser

pytestmark = pytest.mark.integration


def _confirm(client, smtp_sink, address):  # type: ignore[no-untyped-def]
    mail = smtp_sink.wait_for(1, address=address)[-1]
    assert "Nothing is sent until you confirm" in mail.text()
    token = TOKEN_IN_LINK.search(mail.text()).group(1)
    page = client.get(f"/confirm/{token}")
    response = client.post(
        f"/confirm/{token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 200
    return response


def test_write_to_the_company_and_the_mp_confirm_and_they_arrive(live_app, smtp_sink, demo):
    client = live_app.test_client()
    # The company letter: two fixed recipients, nothing sent before confirming.
    response = write(client, COMPANY_URL, "ann@example.org", personal="I buy your jeans.")
    assert response.status_code == 303 and response.location.endswith("/thanks")
    thanks = client.get(response.location).get_data(as_text=True)
    assert "Morgan Ellis" in thanks and "Has responded" in thanks
    smtp_sink.wait_for(1, address="ann@example.org")
    assert smtp_sink.to("ceo@threadline.example.org") == []
    confirmed = _confirm(client, smtp_sink, "ann@example.org")
    assert b"See your letter" in confirmed.data

    ceo = smtp_sink.wait_for(1, address="ceo@threadline.example.org")[0]
    head = smtp_sink.wait_for(1, address="sustainability@threadline.example.org")[0]
    text = ceo.text()
    assert text.startswith("Dear Jordan Vale,")
    assert "I buy your jeans." in text and "GU11 1AA" in text
    assert "Sent on behalf of Ann" in text
    assert "ann@example.org" in str(ceo.message["Reply-To"])
    assert "noreply@" in str(ceo.message["From"]) and "Ann via" in str(ceo.message["From"])
    assert ceo.message.get_body(preferencelist=("html",)) is None  # plain text only
    assert head.text().startswith("Dear Morgan Ellis,")

    # The MP letter for the demo postcode: the MP supports, so the letter thanks them.
    page = client.get(MP_URL + "?postcode=gu11 1aa").get_data(as_text=True)
    assert "Alex Rowan MP" in page and "Aldershot" in page
    assert "Thank you for supporting" in page and "already support" in page
    response = write(client, MP_URL, "bob@example.org", query="?postcode=GU11+1AA")
    assert response.status_code == 303
    assert "already supports this" in client.get(response.location).get_data(as_text=True)
    _confirm(client, smtp_sink, "bob@example.org")
    mp = smtp_sink.wait_for(1, address="alex.rowan.mp@example.org")[0]
    assert "Thank you for supporting" in mp.text()
    assert "Aldershot" in mp.text() and "GU11 1AA" in mp.text()

    # Counts per target on the organiser's page.
    with live_app.app_context():
        make_organiser("admin@example.org", admin=True)
        wait_for(lambda: db.session.query(LetterDelivery).filter_by(status="sent").count() == 3)
        # The worker folds them into the per-recipient tallies (nudged after the sends).
        wait_for(lambda: db.session.scalar(select(func.sum(LetterTargetTally.delivered))) == 3)
        db.session.remove()
    login(client, "admin@example.org")
    manage = client.get(f"/organise/letters/{demo['company']}").get_data(as_text=True)
    rows = re.findall(r'<td class="delivered">(\d+)</td>', manage)
    assert rows == ["1", "1"]
    mp_page = client.get(f"/organise/letters/{demo['mp']}").get_data(as_text=True)
    assert "Alex Rowan MP" in mp_page and "Aldershot" in mp_page
    assert re.findall(r'<td class="delivered">(\d+)</td>', mp_page)[0] == "1"
    csv = client.get(f"/organise/letters/{demo['company']}?format=csv").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 3  # header + one row per letter per target
