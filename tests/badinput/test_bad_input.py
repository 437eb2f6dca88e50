"""Hostile and malformed input over every public form and API: a clear 4xx or a safe result,
never a 500, and nothing stored corrupted.

Each case names the surface, what is sent, and what must come back. After every case the
stored signatures are checked: no NUL, control or invisible characters, nothing longer than its
column, and (for accepted input) exactly what was sent.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from petitions.core.csvsafe import safe_cell
from petitions.core.models import Token
from petitions.core.time import utcnow
from petitions.core.tokens import hash_token
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from

SIGN = "/c/bad/petition"
PLEDGE = "/c/bad/pledge"


@pytest.fixture
def ids(app):
    with app.app_context():
        campaign = make_campaign(slug="bad", body="Hello")
        petition = make_action(campaign, slug="petition")
        pledge = make_action(campaign, slug="pledge", kind="pledge", pledge_options=["March"])
        db.session.commit()
        result = {"petition": petition.id, "pledge": pledge.id, "campaign": campaign.id}
        db.session.remove()
    return result


def _rows(app) -> list[Signature]:
    with app.app_context():
        rows = list(db.session.scalars(select(Signature)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def _assert_stored_clean(app) -> None:
    for row in _rows(app):
        for field in ("name", "email", "postcode", "comment", "source", "referrer"):
            value = getattr(row, field) or ""
            assert "\x00" not in value
            bad = [c for c in value if unicodedata.category(c) == "Cc" and c not in "\r\n\t"]
            assert not bad, (field, value)
            assert not re.search("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]", value)
        assert len(row.name) <= 100 and len(row.source) <= 64


def _form(client, url: str, **fields: str) -> dict[str, str]:
    page = client.get(url)
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "name": "Ann Example",
        "email": "ann@example.org",
        "country": "GB",
        "postcode": "SW1A 1AA",
    }
    data.update(fields)
    return data


# --- the sign form: rejected -----------------------------------------------------------------

REJECTED = [
    ("empty name", {"name": ""}),
    ("whitespace name", {"name": "   "}),
    ("overlong name", {"name": "x" * 10_000}),
    ("NUL in name", {"name": "Ann\x00Example"}),
    ("bell in name", {"name": "Ann\x07"}),
    ("CR/LF header injection in name", {"name": "Ann\r\nBcc: victim@example.org"}),
    ("right-to-left override in name", {"name": "Ann\u202eelpmaxE"}),
    ("zero-width space in name", {"name": "An\u200bn"}),
    ("byte-order mark in name", {"name": "\ufeffAnn"}),
    ("empty email", {"email": ""}),
    ("overlong email", {"email": "a" * 300 + "@example.org"}),
    ("CR/LF in email", {"email": "ann@example.org\r\nBcc: victim@example.org"}),
    ("two addresses", {"email": "ann@example.org, bob@example.org"}),
    ("javascript: as email", {"email": "javascript:alert(1)"}),
    ("NUL in postcode", {"postcode": "SW1A\x001AA"}),
    ("script as postcode", {"postcode": "<script>"}),
    ("unknown country", {"country": "XX"}),
    ("overlong comment", {"comment": "c" * 1001}),
    ("control char in comment", {"comment": "hi\x1b[31m"}),
    ("zero-width joiner in comment", {"comment": "a\u200db"}),
]


@pytest.mark.parametrize(("case", "fields"), REJECTED, ids=[c for c, _ in REJECTED])
def test_sign_form_rejects(client, app, ids, case, fields):
    response = client.post(SIGN, data=_form(client, SIGN, **fields))
    assert response.status_code == 400, case
    assert _rows(app) == []


def test_pledge_option_not_offered_is_rejected(client, app, ids):
    response = client.post(PLEDGE, data=_form(client, PLEDGE, pledge_option="Burn it down"))
    assert response.status_code == 400
    assert _rows(app) == []


# --- the sign form: accepted, stored exactly, shown escaped -----------------------------------

ACCEPTED = [
    ("script in name", {"name": "<script>alert(1)</script>"}, "name"),
    ("javascript: in comment", {"comment": "javascript:alert(document.cookie)"}, "comment"),
    ("html in comment", {"comment": '<img src=x onerror="alert(1)">'}, "comment"),
    ("formula-looking name", {"name": '=HYPERLINK("http://evil.example","x")'}, "name"),
    ("arabic name (RTL letters are fine)", {"name": "سارة أحمد"}, "name"),
    ("newlines in comment", {"comment": "line one\r\nline two"}, "comment"),
]


@pytest.mark.parametrize(("case", "fields", "column"), ACCEPTED, ids=[c for c, _, _ in ACCEPTED])
def test_sign_form_accepts_text_and_keeps_it_inert(client, app, ids, case, fields, column):
    response = client.post(SIGN, data=_form(client, SIGN, **fields))
    assert response.status_code == 303, case
    (row,) = _rows(app)
    expected = fields[column].strip()
    assert getattr(row, column).replace("\r\n", "\n") == expected.replace("\r\n", "\n")
    for url in (SIGN, SIGN + "/thanks", "/c/bad"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "onerror=" not in body


def test_formula_names_are_neutralised_in_exports():
    for value in ("=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"):
        assert safe_cell(value).startswith("'"), value
    assert safe_cell("Ann") == "Ann"


def test_source_is_cleaned_not_refused(client, app, ids):
    response = client.post(SIGN, data=_form(client, SIGN, source="<script>" + "s" * 500 + "\u202e"))
    assert response.status_code == 303
    (row,) = _rows(app)
    assert row.source == "script" + "s" * 58 and len(row.source) == 64


def test_huge_body_is_413(client, app, ids):
    response = client.post(SIGN, data=_form(client, SIGN, comment="x" * 400_000))
    assert response.status_code == 413
    assert _rows(app) == []


def test_json_to_the_form_is_refused(client, app, ids):
    response = client.post(SIGN, data=json.dumps({"name": "Ann"}), content_type="application/json")
    assert response.status_code == 400
    assert _rows(app) == []


def test_sign_form_without_csrf_is_refused(client, app, ids):
    data = _form(client, SIGN)
    data.pop("csrf_token")
    assert client.post(SIGN, data=data).status_code == 400
    assert _rows(app) == []


def test_nul_in_query_string_is_400(client, ids):
    assert client.get(SIGN + "?source=a%00b").status_code == 400


def test_unknown_campaign_and_weird_slugs_are_404(client, ids):
    for url in (
        "/c/nope/nope",
        "/c/bad/%2e%2e",
        "/c/" + "a" * 5000 + "/x",
        "/c/bad/petition%0d%0a",
    ):
        assert client.get(url).status_code == 404, url


# --- confirmation links -----------------------------------------------------------------------


def _token(app, purpose: str, expires_in: timedelta) -> str:
    raw = "T" * 43
    with app.app_context():
        db.session.add(
            Token(
                purpose=purpose,
                token_hash=hash_token(raw),
                subject_id=1,
                expires_at=utcnow() + expires_in,
            )
        )
        db.session.commit()
        db.session.remove()
    return raw


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # well-formed, unknown
        "short",
        "x" * 3000,
        "..%2f..%2fetc%2fpasswd",
        "<script>alert(1)</script>",
        "%E2%80%AE" + "A" * 40,
    ],
    ids=["forged", "too short", "overlong", "traversal", "script", "rtl"],
)
def test_forged_confirmation_tokens_are_404(client, ids, token):
    assert client.get(f"/confirm/{token}").status_code == 404
    page = client.get("/c/bad/petition")
    csrf = csrf_from(page.get_data(as_text=True))
    assert client.post(f"/confirm/{token}", data={"csrf_token": csrf}).status_code == 404


def test_expired_confirmation_token_is_410(client, app, ids):
    with app.app_context():
        from tests.support.factories import make_signature

        action = db.session.get(__import__("petitions").campaigns.models.Action, ids["petition"])
        make_signature(action, "exp@example.org")
        db.session.remove()
    raw = _token(app, "confirm_signature", timedelta(days=-1))
    assert client.get(f"/confirm/{raw}").status_code == 410


def test_token_for_another_purpose_is_refused(client, app, ids):
    raw = _token(app, "something_else", timedelta(days=1))
    assert client.get(f"/confirm/{raw}").status_code == 400


def test_forged_unsubscribe_token(client, ids):
    assert client.get("/u/forged-token").status_code == 404
    assert client.post("/u/" + "A" * 200).status_code == 404


# --- the OSDI API -----------------------------------------------------------------------------


def _osdi(ids: dict[str, int]) -> str:
    return f"/api/osdi/v1/petitions/{ids['petition']}/signatures"


def _person(**overrides: Any) -> dict[str, Any]:
    person = {
        "given_name": "Ann",
        "family_name": "Example",
        "email_addresses": [{"address": "api@example.org", "primary": True}],
        "postal_addresses": [{"postal_code": "SW1A 1AA", "country": "GB"}],
    }
    person.update(overrides)
    return {"person": person}


API_REJECTED = [
    ("malformed JSON", "{'person': ", "application/json", 400),
    ("JSON array", "[1, 2]", "application/json", 400),
    ("text/plain", json.dumps(_person()), "text/plain", 415),
    ("form encoded", "person=Ann", "application/x-www-form-urlencoded", 415),
    ("person a string", json.dumps({"person": "Ann"}), "application/json", 422),
    ("no person", json.dumps({}), "application/json", 422),
    ("NUL in name", json.dumps(_person(given_name="A\u0000nn")), "application/json", 422),
    (
        "CR/LF in email",
        json.dumps(_person(email_addresses=[{"address": "a@b.org\r\nBcc: c@d.org"}])),
        "application/json",
        422,
    ),
    (
        "RTL override in name",
        json.dumps(_person(family_name="\u202eevil")),
        "application/json",
        422,
    ),
    ("number as name", json.dumps(_person(given_name=12)), "application/json", 422),
    ("not UTF-8", b"\xff\xfe{}", "application/json", 400),
    ("huge body", json.dumps(_person(given_name="x" * 20_000)), "application/json", 413),
]


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status"), API_REJECTED, ids=[c[0] for c in API_REJECTED]
)
def test_osdi_rejects(client, app, ids, case, body, content_type, status):
    response = client.post(_osdi(ids), data=body, content_type=content_type)
    assert response.status_code == status, (case, response.get_data(as_text=True)[:300])
    assert response.is_json
    assert _rows(app) == []


def test_osdi_stores_script_as_inert_text(client, app, ids):
    body = _person(given_name="<script>alert(1)</script>")
    body["comments"] = "javascript:alert(1)"
    response = client.post(_osdi(ids), json=body)
    assert response.status_code == 200
    (row,) = _rows(app)
    assert row.name == "<script>alert(1)</script> Example"
    assert row.comment == "javascript:alert(1)"
    _assert_stored_clean(app)


@pytest.mark.parametrize("petition_id", ["0", "99999999999999999999", "-1", "abc"])
def test_osdi_odd_ids_are_404(client, ids, petition_id):
    response = client.post(f"/api/osdi/v1/petitions/{petition_id}/signatures", json=_person())
    assert response.status_code == 404


def test_osdi_forged_api_token_is_401(client, ids):
    response = client.post(_osdi(ids), json=_person(), headers={"OSDI-API-Token": "forged"})
    assert response.status_code == 401
    assert (
        client.get("/api/osdi/v1/signatures", headers={"OSDI-API-Token": "x" * 5000}).status_code
        == 401
    )


@pytest.mark.parametrize(
    "query", ["page=-1", "page=abc", "per_page=0", "per_page=100000", "page=99999999999999999999"]
)
def test_public_api_bad_paging_is_4xx(client, ids, query):
    response = client.get(f"/api/v1/actions?{query}")
    assert 400 <= response.status_code < 500, (query, response.status_code)
    assert response.is_json


# --- organisers' text and ids ----------------------------------------------------------------


@pytest.fixture
def organisers(app):
    from tests.support.workspace import make_organiser

    with app.app_context():
        owner = make_organiser("owner@example.org")
        other = make_organiser("other@example.org")
        campaign = make_campaign(slug="theirs", owner_id=other.id)
        action = make_action(campaign, slug="a")
        db.session.commit()
        result = {"owner": owner.id, "campaign": campaign.id, "action": action.id}
        db.session.remove()
    return result


def test_another_organisers_ids_are_404(client, ids, organisers):
    from tests.support.workspace import csrf, login

    login(client, "owner@example.org")
    c, a = organisers["campaign"], organisers["action"]
    for url in (
        f"/organise/campaigns/{c}",
        f"/organise/campaigns/{c}/edit",
        f"/organise/campaigns/{c}/actions/{a}/edit",
        f"/organise/campaigns/{c}/actions/{a}/exports",
        f"/organise/actions/{a}/abuse",
        f"/organise/actions/{a}/invalidate",
        f"/organise/campaigns/{c}/mailings",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf(client, "/organise/")
    for url in (
        f"/organise/campaigns/{c}/actions/{a}/close",
        f"/organise/campaigns/{c}/status/closed",
        f"/organise/actions/{a}/invalidate",
    ):
        response = client.post(url, data={"csrf_token": token, "ip": "10.0.0.1", "step": "run"})
        assert response.status_code == 404, url


def test_organiser_markdown_cannot_carry_script(client, app, ids, organisers):
    from tests.support.workspace import csrf, login

    login(client, "owner@example.org")
    token = csrf(client, "/organise/campaigns/new")
    body = "<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror=alert(1)>"
    response = client.post(
        "/organise/campaigns/new",
        data={
            "csrf_token": token,
            "title": "Safe <b>title</b>",
            "slug": "safe",
            "summary": "Summary",
            "body": body,
            "status": "live",
        },
    )
    assert response.status_code in (302, 303), response.status_code
    page = client.get("/c/safe").get_data(as_text=True)
    assert "<script>alert" not in page
    assert 'href="javascript:' not in page  # left as plain text, never a link
    assert "<img" not in page  # raw HTML is escaped, not rendered
    assert "Safe &lt;b&gt;title&lt;/b&gt;" in page


@pytest.mark.parametrize(
    "email",
    ["owner@example.org\r\nBcc: x@example.org", "\x00", "x" * 5000, "<script>@example.org"],
    ids=["crlf", "nul", "overlong", "script"],
)
def test_organiser_login_with_hostile_email(client, organisers, email):
    from tests.support.workspace import login

    response = login(client, email)
    assert response.status_code in (200, 400, 401, 413, 429), response.status_code
    assert client.get("/organise/").status_code == 302  # not logged in


def test_nothing_stored_is_corrupted_after_everything(client, app, ids):
    for fields in (
        {"name": "Zoë Ünïcödé"},
        {"name": "O'Brien-Smith", "email": "zoe+tag@example.org"},
    ):
        client.post(SIGN, data=_form(client, SIGN, **fields))
    _assert_stored_clean(app)
    assert {r.name for r in _rows(app)} == {"Zoë Ünïcödé", "O'Brien-Smith"}
    assert {r.email for r in _rows(app)} == {"ann@example.org", "zoe+tag@example.org"}
