"""Every route of the app, walked with hostile ids in each id slot, in the query string and in
the body: never a 5xx (issue 11). Ids past the database's INTEGER, non-ASCII digits and
overlong numbers are a 404 in a URL and a 400 with a message in a query or a form.

An admin organiser is logged in (so the workspace's views run their queries) and CSRF checks
are off for the walk (so POST bodies reach the views instead of stopping at the token check).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.routing import AnyConverter, Rule

from petitions.core.ids import MAX_ID, parse_id
from petitions.extensions import db
from tests.support.factories import make_action, make_campaign, make_signature
from tests.support.workspace import login, make_organiser

HOSTILE_IDS = [str(MAX_ID + 1), str(2**63), "9" * 30, "0", "-1"]
HOSTILE_VALUES = [str(2**31), str(2**63), "9" * 40, "²", "١٢", "1e9", "-5", "", "x", "0"]
ID_FIELDS = ("ids", "before", "campaign", "update_id", "after", "page", "per_page")


@pytest.fixture
def walk(app, client) -> Iterator[dict[str, Any]]:
    with app.app_context():
        campaign = make_campaign(slug="walk")
        action = make_action(campaign, slug="act")
        signature = make_signature(action, "walker@example.org")
        admin = make_organiser("admin@example.org", admin=True)
        real = {"campaign": campaign.id, "action": action.id, "signature": signature}
        real["organiser"] = admin.id
        db.session.commit()
        db.session.remove()
    assert login(client, "admin@example.org").status_code == 303
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        yield real
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def _fill(rule: Rule, real: dict[str, Any], hostile: tuple[str, str] | None) -> str:
    values: dict[str, str] = {}
    for name, converter in rule._converters.items():  # noqa: SLF001 - reading werkzeug's rule
        if hostile and name == hostile[0]:
            values[name] = hostile[1]
        elif isinstance(converter, AnyConverter):
            values[name] = converter.regex.split("|")[0].strip("()?:")
        elif name.endswith("_id"):
            values[name] = str(real.get(name[: -len("_id")], 1))
        elif name in ("slug",):
            values[name] = "walk"
        elif name == "action_slug":
            values[name] = "act"
        else:
            values[name] = "x"
    path = rule.rule
    for name, value in values.items():
        path = _substitute(path, name, value)
    return path


def _substitute(path: str, name: str, value: str) -> str:
    start = 0
    while True:
        open_at = path.find("<", start)
        if open_at < 0:
            return path
        close_at = path.find(">", open_at)
        inside = path[open_at + 1 : close_at]
        if inside.rpartition(":")[2] == name:
            return path[:open_at] + value + path[close_at + 1 :]
        start = close_at + 1


# Logging out would end the walk's session; the rest of the walk would only see redirects.
SKIP = {"static", "organisers.logout"}


def _routes(app) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]


def _methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) & {"GET", "POST"})


def test_the_walk_covers_every_route(app):
    rules = _routes(app)
    with_ids = [r for r in rules if any(n.endswith("_id") for n in r.arguments)]
    assert len(rules) > 60 and len(with_ids) > 30


def test_hostile_ids_in_the_path_are_4xx(app, client, walk):
    failures = []
    for rule in _routes(app):
        for slot in [n for n in rule.arguments if n.endswith("_id")]:
            for value in HOSTILE_IDS:
                path = _fill(rule, walk, (slot, value))
                for method in _methods(rule):
                    status = client.open(path, method=method).status_code
                    if status >= 500 or status not in (400, 401, 403, 404, 405):
                        failures.append((method, path, status))
    assert failures == []


def test_hostile_ids_in_queries_and_bodies_never_500(app, client, walk):
    failures = []
    for rule in _routes(app):
        path = _fill(rule, walk, None)
        for value in HOSTILE_VALUES:
            query = "&".join(f"{field}={value}" for field in ID_FIELDS)
            body = dict.fromkeys(ID_FIELDS, value) | {"reason": "walk", "email": value}
            for method in _methods(rule):
                if method == "GET":
                    response = client.get(f"{path}?{query}")
                else:
                    response = client.post(path, data=body)
                if response.status_code >= 500:
                    failures.append((method, path, value, response.status_code))
    assert failures == []
    assert client.get("/organise/").status_code == 200  # still logged in: the views ran


@pytest.mark.parametrize("value", [str(2**31), "9" * 30, "²"])
def test_bad_ids_in_a_query_or_form_are_400_with_a_message(client, walk, value):
    c, a = walk["campaign"], walk["action"]
    listing = client.get(f"/organise/campaigns/{c}/actions/{a}/signatures?before={value}")
    assert listing.status_code == 400
    assert "before must be a whole number" in listing.get_data(as_text=True)
    change = client.post(
        f"/organise/campaigns/{c}/actions/{a}/signatures/invalidate",
        data={"ids": [str(walk["signature"]), value], "reason": "x"},
    )
    assert change.status_code == 400
    assert "ids must be a whole number" in change.get_data(as_text=True)


def test_route_ids_past_integer_are_404(client, walk):
    response = client.get(f"/organise/campaigns/{2**31}")
    assert response.status_code == 404
    assert client.get(f"/organise/campaigns/{walk['campaign']}").status_code == 200


def test_parse_id():
    assert parse_id("12") == 12 and parse_id(str(MAX_ID)) == MAX_ID
    for bad in (None, "", "0", "-1", "²", "١٢", " 1", "1_0", str(MAX_ID + 1), "9" * 11):
        assert parse_id(bad) is None, bad


# --- bodies: deep JSON, non-UTF-8 bytes, overlong values (issue 11, leftovers) --------------

DEEP_JSON = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
BODIES: list[tuple[str, bytes | str]] = [
    ("application/json", DEEP_JSON),
    ("application/json", DEEP_OBJECT),
    ("application/json", b'{"email": "\xff\xfe", "name": "\xc3\x28"}'),
    ("application/json", b"\xef\xbb\xbf{}"),  # a BOM
    ("application/json", "[1, 2]"),
    ("application/json", '"a string"'),
    ("application/json", "null"),
    ("application/json", '{"email": {"nested": [1]}, "ids": [[1]], "name": null}'),
    ("application/json", '{"per_page": ' + "9" * 5000 + "}"),
    ("application/x-www-form-urlencoded", b"email=%ff%fe&name=\xc3\x28&ids=\xff&reason=\xfe"),
    ("application/x-www-form-urlencoded", b"\xff\xfe\xfd=\xfc"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\xff\r\n"),
    ("text/plain; charset=utf-16", "ÿ".encode("utf-16")),
]
HOSTILE_QUERIES = [
    "before=" + "9" * 400,
    "update_id=" + "9" * 400,
    "page=" + str(2**70) + "&per_page=" + str(2**70),
    "before=%ff%fe&update_id=%c3%28&q=%ff",
    "ids=²&ids=¹&campaign=١٢",
    "source=" + "x" * 5000,
]


def test_hostile_bodies_to_every_post_route_never_500(app, client, walk):
    """JSON nested 1,000 deep, non-UTF-8 bytes, a BOM, a 5,000-digit number: 4xx or a page."""
    failures = []
    for rule in _routes(app):
        if "POST" not in _methods(rule):
            continue
        path = _fill(rule, walk, None)
        for content_type, body in BODIES:
            try:
                status = client.post(path, data=body, content_type=content_type).status_code
            except Exception as exc:  # noqa: BLE001 - the test client re-raises what a 500 hides
                status = f"{type(exc).__name__}: {str(exc)[:80]}"
            if not isinstance(status, int) or status >= 500:
                failures.append((path, content_type, repr(body)[:40], status))
    assert failures == [], "\n".join(map(str, failures))
    assert client.get("/organise/").status_code == 200  # still logged in: the views ran


def test_hostile_queries_to_every_get_route_never_500(app, client, walk):
    failures = []
    for rule in _routes(app):
        if "GET" not in _methods(rule):
            continue
        path = _fill(rule, walk, None)
        for query in HOSTILE_QUERIES:
            response = client.get(f"{path}?{query}")
            if response.status_code >= 500:
                failures.append((path, query[:40], response.status_code))
    assert failures == []


def test_non_utf8_and_unicode_digits_in_path_segments_are_4xx(app, client, walk):
    failures = []
    for rule in _routes(app):
        for slot in [n for n in rule.arguments if n.endswith("_id")][:1]:
            for value in ("%ff%fe", "²", "%C2%B2", "1%00", "１２"):
                path = _fill(rule, walk, (slot, value))
                for method in _methods(rule):
                    status = client.open(path, method=method).status_code
                    if status >= 500:
                        failures.append((method, path, status))
    assert failures == []
