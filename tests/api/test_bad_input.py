"""No input to the API is a 500: hostile bodies, ids, numbers, types and query strings get a
JSON 4xx whose message says what was wrong, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from petitions.extensions import db
from petitions.signing.models import Signature
from tests.api.test_osdi import person

DEPTH = 1000


def _nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def _helper(client: Any, petition_id: int, body: bytes, **headers: str) -> Any:
    return client.post(
        f"/api/osdi/v1/petitions/{petition_id}/signatures",
        data=body,
        content_type=headers.pop("content_type", "application/json"),
        headers=headers,
    )


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature)) or 0


BODIES_400 = {
    "nested 1000 deep at the top": _nested(DEPTH).encode(),
    "objects nested 1000 deep": ('{"a":' * DEPTH + "1" + "}" * DEPTH).encode(),
    "nested 1000 deep inside a field": json.dumps(person())
    .replace('"Ann"', _nested(DEPTH, '"Ann"'))
    .encode(),
    "a number with 5000 digits": json.dumps(person())
    .replace('"Because it matters."', "9" * 5000)
    .encode(),
    "invalid UTF-8 inside a string": json.dumps(person()).encode().replace(b"Ann", b"A\xffn"),
    "a lone surrogate escape": json.dumps(person()).replace("Ann", "\\ud800").encode(),
    "a byte-order mark": b"\xef\xbb\xbf" + json.dumps(person()).encode(),
    "empty": b"",
    "null": b"null",
    "a string": b'"person"',
    "a number": b"12",
    "a list of objects": json.dumps([person()]).encode(),
}


@pytest.mark.parametrize("body", list(BODIES_400.values()), ids=list(BODIES_400))
def test_helper_answers_unreadable_or_non_object_bodies_with_400(
    client: Any, factories: Any, body: bytes
) -> None:
    action = factories.make_action()
    db.session.commit()
    response = _helper(client, action.id, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    document = response.get_json()
    assert document["status"] == 400
    assert document["error"].startswith(("The body is not valid JSON", "The body must be"))
    assert _signatures() == 0


def test_deep_nesting_names_the_problem(client: Any, factories: Any) -> None:
    action = factories.make_action()
    db.session.commit()
    response = _helper(client, action.id, _nested(DEPTH).encode())
    assert "recursion limit" in response.get_json()["error"]


def _with(path: str, value: Any) -> bytes:
    body: Any = person()
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value
    return json.dumps(body).encode()


WRONG_TYPES = {
    "person": (_with("person", []), "person"),
    "person.given_name": (_with("person.given_name", 7), "person.given_name"),
    "person.family_name": (_with("person.family_name", {"x": 1}), "person.family_name"),
    "person.email_addresses": (_with("person.email_addresses", {}), "person.email_addresses"),
    "person.email_addresses.0": (
        _with("person.email_addresses", ["ann@example.org"]),
        "person.email_addresses.0",
    ),
    "person.email_addresses.0.address": (
        _with("person.email_addresses.0.address", ["ann@example.org"]),
        "person.email_addresses.0.address",
    ),
    "person.email_addresses.0.primary": (
        _with("person.email_addresses.0.primary", "yes"),
        "person.email_addresses.0.primary",
    ),
    "person.postal_addresses.0.postal_code": (
        _with("person.postal_addresses.0.postal_code", 12345),
        "person.postal_addresses.0.postal_code",
    ),
    "a huge number for a string": (_with("comments", 10**300), "comments"),
    "a float for a string": (_with("comments", 1.5e308), "comments"),
    "true for a string": (_with("comments", True), "comments"),
    "referrer_data": (_with("referrer_data", "x"), "referrer_data"),
    "referrer_data.website": (_with("referrer_data.website", 1), "referrer_data.website"),
    "triggers.autoresponse": (_with("triggers.autoresponse", True), "triggers.autoresponse"),
    "triggers.autoresponse.enabled": (
        _with("triggers.autoresponse.enabled", 1),
        "triggers.autoresponse.enabled",
    ),
    "petitions:pledge_option": (
        _with("petitions:pledge_option", 2**70),
        "petitions:pledge_option",
    ),
    "no person": (json.dumps({"comments": "x"}).encode(), "person"),
}


@pytest.mark.parametrize(("body", "path"), list(WRONG_TYPES.values()), ids=list(WRONG_TYPES))
def test_helper_names_each_wrongly_typed_member_with_422(
    client: Any, factories: Any, body: bytes, path: str
) -> None:
    action = factories.make_action()
    db.session.commit()
    response = _helper(client, action.id, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    document = response.get_json()
    assert document["status"] == 422
    assert document["error"] == "The signature could not be recorded."
    assert list(document["errors"]) == [path], document
    assert all(isinstance(m, str) and m for m in document["errors"][path])
    assert _signatures() == 0


@pytest.mark.parametrize(
    "value", ["Ann\x00", "Ann\u202e", "A" * 5000, "Ann\nSmith"], ids=["nul", "bidi", "long", "nl"]
)
def test_helper_refuses_unstorable_text_in_fields(client: Any, factories: Any, value: str) -> None:
    action = factories.make_action()
    db.session.commit()
    response = _helper(client, action.id, _with("person.given_name", value))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "person.given_name" in response.get_json()["errors"]
    assert _signatures() == 0


def test_helper_ignores_members_it_does_not_know(client: Any, factories: Any) -> None:
    action = factories.make_action()
    db.session.commit()
    body = person(**{"action_network:referrer_data": {"x": [1, 2]}, "add_tags": ["a"]})
    response = _helper(client, action.id, json.dumps(body).encode())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _signatures() == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/osdi/v1/petitions/2147483648",
        "/api/osdi/v1/petitions/" + "9" * 400,
        "/api/osdi/v1/petitions/0",
        "/api/osdi/v1/petitions/-1",
        "/api/osdi/v1/petitions/1e9",
        "/api/v1/campaigns/" + "x" * 5000,
        "/api/v1/campaigns/%ff%fe",
        "/api/v1/campaigns/%F0%9F%98%80/actions/%E2%80%AE",
    ],
)
def test_hostile_ids_and_slugs_are_json_404(client: Any, app_ctx: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404, (url, response.get_data(as_text=True)[:200])
    assert response.is_json and response.get_json()["status"] == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/osdi/v1/petitions/%00",
        "/api/v1/campaigns/%00",
        "/api/v1/campaigns/a%00b/actions/c%00d",
        "/api/v1/campaigns/a/actions/%00/count",
        "/api/v1/actions?page=%00",
    ],
)
def test_nul_bytes_anywhere_in_the_url_are_json_400(client: Any, app_ctx: None, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400, (url, response.get_data(as_text=True)[:200])
    assert response.is_json and response.get_json()["status"] == 400


@pytest.mark.parametrize(
    "petition_id", ["2147483648", "9" * 400, "0"], ids=["int32+1", "400 digits", "zero"]
)
def test_helper_and_token_routes_on_hostile_ids(
    client: Any, factories: Any, token_for: Any, petition_id: str
) -> None:
    from tests.support.workspace import make_organiser

    token = token_for(make_organiser())
    headers = {"OSDI-API-Token": token}
    for response in (
        client.post(f"/api/osdi/v1/petitions/{petition_id}/signatures", json=person()),
        client.get(f"/api/osdi/v1/petitions/{petition_id}/signatures", headers=headers),
        client.get(f"/api/osdi/v1/signatures/{petition_id}0000000000", headers=headers),
    ):
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.is_json
    assert _signatures() == 0


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=1.0",
        "page=%201",
        "page=1_000",
        "page=" + "9" * 400,
        "page=100001",
        "per_page=101",
        "per_page=x",
        "page=%EF%BC%91",  # a fullwidth digit one
    ],
)
def test_bad_paging_says_which_parameter(client: Any, app_ctx: None, query: str) -> None:
    for base in ("/api/v1/campaigns", "/api/v1/actions", "/api/osdi/v1/petitions"):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 400, (base, query)
        document = response.get_json()
        name = query.split("=")[0]
        assert document["error"].startswith(f"{name}: ") and list(document["errors"]) == [name]


def test_empty_paging_values_mean_the_defaults(client: Any, app_ctx: None) -> None:
    body = client.get("/api/v1/actions?page=&per_page=").get_json()
    assert body["page"] == 1 and body["per_page"] == 25


def test_hostile_token_headers_are_401(client: Any, app_ctx: None) -> None:
    for raw in ("pt_" + "x" * 5000, "pt_\u00e9" * 20, " ", "pt_" + "a" * 43 + "\x00"):
        response = client.get("/api/osdi/v1/signatures", headers={"OSDI-API-Token": raw})
        assert response.status_code == 401, raw[:20]
        assert response.is_json


HOSTILE_INTS = ["0", "2147483648", "9223372036854775808", "9" * 400]
HOSTILE_STRINGS = ["x" * 3000, "%F0%9F%98%80", "..%2F..%2Fetc", "%E2%80%AE", "a'%3B--"]


def test_every_api_route_survives_hostile_path_values_and_bodies(
    app: Any, client: Any, factories: Any, token_for: Any
) -> None:
    """Walk the URL map: every /api/ route, every method, hostile ids and slugs, with and
    without a token, with a hostile body. Nothing is a 5xx; everything answers JSON."""
    import re

    from tests.support.workspace import make_organiser

    organiser = make_organiser()
    action = factories.make_action(factories.make_campaign(owner_id=organiser.id))
    db.session.commit()
    token = token_for(organiser)
    argument = re.compile(r"<(?:(\w+):)?(\w+)>")
    bodies = [_nested(DEPTH).encode(), b"\xff", json.dumps({"person": [1] * 1000}).encode()]
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            values = [*HOSTILE_INTS, str(action.id)] if "<int:" in rule.rule else HOSTILE_STRINGS
            for value in values:
                url = argument.sub(lambda m, v=value: v, rule.rule)
                for headers in ({}, {"OSDI-API-Token": token}):
                    for body in bodies if method == "POST" else [None]:
                        response = client.open(
                            url,
                            method=method,
                            data=body,
                            content_type="application/json",
                            headers=headers,
                        )
                        checked += 1
                        assert response.status_code < 500, (method, url[:80], body and body[:20])
                        assert response.is_json, (method, url[:80])
    assert checked > 50
    assert _signatures() == 0
