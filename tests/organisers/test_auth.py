"""Logging in and out, roles and access. Requests run outside any test app context, so each
gets its own ``g`` (as in production); setup happens in ``with app.app_context()`` blocks."""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_lib
from flask import Flask

from petitions import create_app
from petitions.extensions import db
from petitions.organisers.blueprint import LOGIN_FAILED, safe_next
from petitions.organisers.models import Organiser
from tests.support.factories import make_campaign
from tests.support.workspace import csrf, grant, login, make_organiser


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/organise/campaigns/1", "/organise/campaigns/1"),
        ("/organise/?x=1", "/organise/?x=1"),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("/ok\r\nSet-Cookie: x", None),
        ("", None),
        (None, None),
    ],
)
def test_next_only_goes_to_paths_on_this_site(target: str | None, expected: str | None) -> None:
    assert safe_next(target) == expected


def test_login_redirects_to_a_local_next_and_rotates_the_session(app: Flask) -> None:
    with app.app_context():
        organiser_id = make_organiser("ann@example.org").id
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = login(client, "Ann@Example.org", next_url="/organise/?from=login")
    assert response.status_code == 303
    assert response.location == "/organise/?from=login"
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{organiser_id}:")
    home = client.get("/organise/")
    assert home.status_code == 200
    assert home.headers["Cache-Control"] == "no-store"
    assert "ann@example.org" in home.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organiser, organiser_id).last_login_at is not None


def test_an_offsite_next_is_ignored(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    response = login(app.test_client(), "ann@example.org", next_url="//evil.example/")
    assert response.location == "/organise/"


def test_wrong_password_and_unknown_account_look_the_same(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    wrong = login(app.test_client(), "ann@example.org", "not the password")
    unknown = login(app.test_client(), "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    assert LOGIN_FAILED in unknown.get_data(as_text=True)


def test_a_deactivated_organiser_is_logged_out_and_cannot_log_in(app: Flask) -> None:
    with app.app_context():
        organiser_id = make_organiser("ann@example.org").id
    client = app.test_client()
    login(client, "ann@example.org")
    with app.app_context():
        db.session.get(Organiser, organiser_id).active = False
        db.session.commit()
    assert client.get("/organise/").status_code == 302
    assert login(app.test_client(), "ann@example.org").status_code == 400


def test_logout_ends_the_session_everywhere(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    client, other_device = app.test_client(), app.test_client()
    login(client, "ann@example.org")
    login(other_device, "ann@example.org")
    with client.session_transaction() as session:
        stolen = dict(session)
    token = csrf(client, "/organise/")
    response = client.post("/organise/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/organise/").status_code == 302
    assert other_device.get("/organise/").status_code == 302
    replay = app.test_client()
    with replay.session_transaction() as session:
        session.update(stolen)
    assert replay.get("/organise/").status_code == 302


def test_logout_needs_csrf(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    client = app.test_client()
    login(client, "ann@example.org")
    assert client.post("/organise/logout").status_code == 400
    assert client.get("/organise/").status_code == 200


def test_organisers_see_only_their_campaigns_admins_see_all(app: Flask) -> None:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        bob = make_organiser("bob@example.org")
        make_organiser("root@example.org", admin=True)
        mine = make_campaign(title="Ann's campaign", owner_id=ann.id)
        shared = make_campaign(title="Shared with Bob", owner_id=ann.id)
        db.session.commit()
        grant(shared.id, bob.id)
        mine_id, shared_id = mine.id, shared.id

    bob_client = app.test_client()
    login(bob_client, "bob@example.org")
    assert bob_client.get(f"/organise/campaigns/{mine_id}").status_code == 404
    assert bob_client.get(f"/organise/campaigns/{shared_id}").status_code == 200
    listing = bob_client.get("/organise/").get_data(as_text=True)
    assert "Shared with Bob" in listing and "Ann&#39;s campaign" not in listing
    assert bob_client.get("/organise/organisers").status_code == 404
    assert bob_client.get("/organise/audit/").status_code == 404

    admin = app.test_client()
    login(admin, "root@example.org")
    assert admin.get(f"/organise/campaigns/{mine_id}").status_code == 200
    assert admin.get("/organise/organisers").status_code == 200
    assert admin.get("/organise/audit/").status_code == 200


def test_login_is_rate_limited_per_account(
    database_url: str, redis_url: str, smtp_sink: Any, app: Flask
) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    limited = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_url,
        TASK_DISPATCH=False,
        # The production count, over an hour rather than a minute: a busy machine can take
        # more than a minute for these logins, and the test is about the count, not the clock.
        LOGIN_LIMIT_PER_ACCOUNT="5 per hour",
    )
    try:
        statuses = []
        for n in range(7):
            client = limited.test_client()
            # A different address each time: the per-account limit still applies.
            client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"
            statuses.append(login(client, "ann@example.org", "wrong password!").status_code)
        assert statuses[:5] == [400] * 5
        assert statuses[5:] == [429, 429]
        # Another account from the same addresses is not locked out by ann's attempts.
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.0.1"
        assert login(other, "bob@example.org", "wrong password!").status_code == 400
    finally:
        with limited.app_context():
            db.engine.dispose()
        redis_lib.Redis.from_url(redis_url).flushdb()


# Spellings of ann@example.org that login resolves to her account (or that fold onto it).
ANN_VARIANTS = [
    "ann@example.org",
    "ANN@EXAMPLE.ORG",
    "ann@ｅｘａｍｐｌｅ.org",  # fullwidth domain: IDNA maps it to example.org
    "ａｎｎ@example.org",  # fullwidth local part
    "ＡＮＮ＠ｅｘａｍｐｌｅ．ｏｒｇ",  # fullwidth everything, ＠ and ． included
    " Ann@Example.ORG ",
    "ann@EXAMPLE.org",
]


def test_login_limit_counts_every_spelling_of_an_address_as_one(
    database_url: str, redis_url: str, smtp_sink: Any, app: Flask
) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    limited = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_url,
        TASK_DISPATCH=False,
        # The production count, over an hour rather than a minute: a busy machine can take
        # more than a minute for these logins, and the test is about the count, not the clock.
        LOGIN_LIMIT_PER_ACCOUNT="5 per hour",
    )
    try:
        statuses = []
        for n, spelling in enumerate(ANN_VARIANTS):
            client = limited.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.0.1.{n + 1}"
            statuses.append(login(client, spelling, "wrong password!").status_code)
        assert statuses[:5] == [400] * 5, statuses
        assert statuses[5:] == [429] * (len(ANN_VARIANTS) - 5), statuses
        # Even the right password waits now: the account is limited, in every spelling.
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.1.99"
        assert login(client, "ann@ｅｘａｍｐｌｅ.org").status_code == 429
    finally:
        with limited.app_context():
            db.engine.dispose()
        redis_lib.Redis.from_url(redis_url).flushdb()


def test_an_admin_gives_and_removes_access_to_a_campaign(app: Flask) -> None:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        bob_id = make_organiser("bob@example.org").id
        make_organiser("root@example.org", admin=True)
        campaign_id = make_campaign(owner_id=ann.id).id
        db.session.commit()
    admin, bob = app.test_client(), app.test_client()
    login(admin, "root@example.org")
    login(bob, "bob@example.org")
    page = f"/organise/campaigns/{campaign_id}"
    assert bob.get(page).status_code == 404
    token = csrf(admin, page)
    assert (
        admin.post(
            f"{page}/access", data={"csrf_token": token, "email": "nobody@example.org"}
        ).status_code
        == 303
    )
    admin.post(f"{page}/access", data={"csrf_token": token, "email": "Bob@example.org"})
    assert bob.get(page).status_code == 200
    assert (
        bob.post(
            f"{page}/access", data={"csrf_token": csrf(bob, page), "email": "x@example.org"}
        ).status_code
        == 404
    )
    admin.post(f"{page}/access/{bob_id}/remove", data={"csrf_token": token})
    assert bob.get(page).status_code == 404
