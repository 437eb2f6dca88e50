"""After confirming: the next call to action not yet taken, prefilled without the email."""

from __future__ import annotations

import re
from datetime import timedelta

from petitions.core.tokens import issue_token
from petitions.extensions import db
from tests.support.web import csrf_from
from tests.supporters.conftest import sign_confirmed


def test_confirm_offers_an_untaken_action_prefilled(client, factories):
    campaign = factories.make_campaign(slug="ladder")
    first = factories.make_action(campaign, slug="first", position=1)
    factories.make_action(campaign, slug="second", position=2, title="Second step")
    factories.make_action(campaign, slug="third", position=3, title="Third step")
    second = campaign.actions[1]
    sign_confirmed(second, "ann@example.org", name="Ann Walker", postcode="M1 1AE")
    pending = factories.make_signature(
        first, "ann@example.org", name="Ann Walker", postcode="M1 1AE"
    )
    raw = issue_token("confirm_signature", pending, timedelta(days=1))
    db.session.commit()

    page = client.get(f"/confirm/{raw}")
    done = client.post(
        f"/confirm/{raw}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Third step" in html and "Second step" not in html, "already taken: skipped"
    link = re.search(r'href="(/c/ladder/third[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "p=" in link
    assert "ann" not in link.lower() and "%40" not in link and "@" not in link

    action_page = client.get(link)
    body = action_page.get_data(as_text=True)
    assert 'value="Ann Walker"' in body and 'value="M1 1AE"' in body
    assert "ann@example.org" not in body, "the email is never prefilled"
    assert action_page.headers["Cache-Control"] == "no-store"

    forged = client.get("/c/ladder/third?p=" + link.split("p=")[1][:-3] + "abc")
    assert 'value="Ann Walker"' not in forged.get_data(as_text=True)
