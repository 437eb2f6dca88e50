"""Helpers for letter tests: the demo letters (and demo geo data), letters written through
the web form, confirmed through the SMTP sink."""

from __future__ import annotations

from typing import Any

import pytest

from petitions.campaigns.demo import create_demo_campaign
from petitions.extensions import db
from petitions.letters.demo import COMPANY_SLUG, MP_SLUG, create_demo_letters
from tests.gatherings.conftest import confirm, drain
from tests.support.web import csrf_from

__all__ = ["confirm", "drain", "write"]

CAMPAIGN = "forced-labour-free-supply-chains"
COMPANY_URL = f"/l/{CAMPAIGN}/{COMPANY_SLUG}"
MP_URL = f"/l/{CAMPAIGN}/{MP_SLUG}"


@pytest.fixture
def demo(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        campaign = create_demo_campaign()
        made = create_demo_letters(campaign)
        db.session.commit()
        ids = {a.slug: a.id for a in made}
        db.session.remove()
    return {"company": ids[COMPANY_SLUG], "mp": ids[MP_SLUG]}


def write(client: Any, url: str, address: str, query: str = "", **fields: str) -> Any:
    page = client.get(url + query)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    import re

    message = re.search(r'<textarea[^>]*name="message"[^>]*>\n?(.*?)</textarea>', html, re.S)
    constituency = re.search(r'name="constituency" type="hidden" value="([^"]*)"', html)
    data = {
        "csrf_token": csrf_from(html),
        "name": address.split("@")[0].title(),
        "email": address,
        "country": "GB",
        "postcode": "GU11 1AA",
        "message": _unescape(message.group(1)) if message else "",
        "constituency": constituency.group(1) if constituency else "",
    }
    data.update(fields)
    return client.post(url, data=data)


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)
