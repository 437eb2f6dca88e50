"""My actions: sign-in links are single-use, expire, and need a button press."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from petitions.core.models import Token
from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.mailer.services import drain
from petitions.supporters.models import Supporter
from petitions.supporters.services import SIGNIN_EMAIL_KIND, SIGNIN_PURPOSE
from tests.support.web import csrf_from
from tests.supporters.conftest import sign_confirmed

LINK = re.compile(r"/my/signin/([A-Za-z0-9_-]+)")


def _ask_for_link(client, email: str):
    page = client.get("/my")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    return client.post(
        "/my/signin", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": email}
    )


def _signin_email(smtp_sink):
    found = [m for m in smtp_sink.messages if m.subject == "Your link to My actions"]
    assert len(found) == 1, [m.subject for m in smtp_sink.messages]
    return found[0]


def test_link_opens_my_actions_once(app, client, factories, smtp_sink):
    first = factories.make_action(title="Stop the incinerator")
    second = factories.make_action(title="Fund the library", kind="pledge")
    sign_confirmed(first, "Ann@Example.org")
    sign_confirmed(second, "ann@example.org")

    response = _ask_for_link(client, "ANN@example.org")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    drain()
    message = _signin_email(smtp_sink)
    assert message.envelope_to == ["ann@example.org"]
    assert "transactional" in message.text()
    assert "List-Unsubscribe" not in message.message
    token = LINK.search(message.text()).group(1)

    # Following the link (a mail scanner would) changes nothing.
    landing = client.get(f"/my/signin/{token}")
    assert landing.status_code == 200
    assert "Open My actions" in landing.get_data(as_text=True)
    assert "Stop the incinerator" not in client.get("/my").get_data(as_text=True)

    pressed = client.post(
        f"/my/signin/{token}", data={"csrf_token": csrf_from(landing.get_data(as_text=True))}
    )
    assert pressed.status_code == 303
    home = client.get("/my").get_data(as_text=True)
    assert "Stop the incinerator" in home and "Fund the library" in home

    # Single use: another browser with the same link gets nothing.
    other = app.test_client()
    again = other.get(f"/my/signin/{token}")
    assert again.status_code == 410
    used = other.post(
        f"/my/signin/{token}", data={"csrf_token": csrf_from(landing.get_data(as_text=True))}
    )
    assert used.status_code in (400, 410)
    assert "Stop the incinerator" not in other.get("/my").get_data(as_text=True)


def test_expired_link_is_refused(app, client, factories):
    action = factories.make_action()
    sign_confirmed(action, "bob@example.org")
    supporter = Supporter(email_normalised="bob@example.org")
    db.session.add(supporter)
    db.session.flush()
    raw = issue_token(SIGNIN_PURPOSE, supporter.id, timedelta(minutes=60))
    db.session.execute(update(Token).values(expires_at=Token.created_at - timedelta(seconds=1)))
    db.session.commit()

    landing = client.get(f"/my/signin/{raw}")
    assert landing.status_code == 410
    assert "expired" in landing.get_data(as_text=True)
    page = client.get("/my")
    response = client.post(
        f"/my/signin/{raw}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert response.status_code == 410
    assert "What you have signed" not in client.get("/my").get_data(as_text=True)


def test_unknown_address_gets_the_same_answer_and_no_email(client, factories):
    factories.make_action()
    response = _ask_for_link(client, "nobody@example.org")
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == SIGNIN_EMAIL_KIND))
        is None
    )
    assert db.session.scalar(select(Supporter)) is None


def test_repeated_requests_queue_one_email(client, factories):
    action = factories.make_action()
    sign_confirmed(action, "cat@example.org")
    for _ in range(3):
        assert _ask_for_link(client, "cat@example.org").status_code == 200
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == SIGNIN_EMAIL_KIND)
    ).all()
    assert len(rows) == 1


def test_signin_session_expires(app, client, factories, signed_in):
    action = factories.make_action(title="Plant street trees")
    sign_confirmed(action, "dan@example.org")
    signed_in("dan@example.org")
    assert "Plant street trees" in client.get("/my").get_data(as_text=True)
    with client.session_transaction() as sess:
        sess["supporter_until"] = 1
    assert "Plant street trees" not in client.get("/my").get_data(as_text=True)


def test_sign_out_revokes_a_copied_cookie(app, client, factories, smtp_sink):
    """Finding 9 (issue 11): after sign-out, a copy of the session cookie is refused."""
    action = factories.make_action(title="Save the lido")
    sign_confirmed(action, "eve@example.org")
    assert _ask_for_link(client, "eve@example.org").status_code == 200
    drain()
    token = LINK.search(_signin_email(smtp_sink).text()).group(1)
    landing = client.get(f"/my/signin/{token}")
    pressed = client.post(
        f"/my/signin/{token}", data={"csrf_token": csrf_from(landing.get_data(as_text=True))}
    )
    assert pressed.status_code == 303
    home = client.get("/my").get_data(as_text=True)
    assert "Save the lido" in home

    # Someone copies the cookie (a shared computer, a stolen backup of the browser profile).
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    copied = client.get_cookie(cookie_name).value
    thief = app.test_client()
    thief.set_cookie(cookie_name, copied)
    assert "Save the lido" in thief.get("/my").get_data(as_text=True)

    signed_out = client.post("/my/signout", data={"csrf_token": csrf_from(home)})
    assert signed_out.status_code == 303
    assert "Save the lido" not in client.get("/my").get_data(as_text=True)

    # The copy no longer works, for pages and for changes alike.
    assert "Save the lido" not in thief.get("/my").get_data(as_text=True)
    assert thief.get("/my/data.json").status_code == 303
    assert thief.get("/my/erase").status_code == 303

    # Signing in again works (a fresh link gives a fresh session).
    db.session.execute(update(Token).values(created_at=Token.created_at - timedelta(minutes=5)))
    db.session.commit()
    assert _ask_for_link(client, "eve@example.org").status_code == 200
    drain()
    later = [m for m in smtp_sink.messages if m.subject == "Your link to My actions"][-1]
    token = LINK.search(later.text()).group(1)
    landing = client.get(f"/my/signin/{token}")
    client.post(
        f"/my/signin/{token}", data={"csrf_token": csrf_from(landing.get_data(as_text=True))}
    )
    assert "Save the lido" in client.get("/my").get_data(as_text=True)


def test_signin_links_are_limited_per_address_in_any_spelling(
    app, database_url, redis_url, smtp_sink
):
    """Five links an hour per address, whichever IP asks and however the address is spelled."""
    import redis as redis_lib

    from petitions import create_app

    limited = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=redis_url,
        TASK_DISPATCH=False,
    )
    spellings = [
        "ann@example.org",
        "ANN@example.org",
        "ann@ｅｘａｍｐｌｅ.org",
        "ａｎｎ@example.org",
        "Ａｎｎ＠ｅｘａｍｐｌｅ．ｏｒｇ",
        "ann@EXAMPLE.ORG",
        "ａｎｎ@ｅｘａｍｐｌｅ.ｏｒｇ",
    ]
    try:
        statuses = []
        for n, spelling in enumerate(spellings):
            client = limited.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.0.2.{n + 1}"
            statuses.append(_ask_for_link(client, spelling).status_code)
        assert statuses[5:] == [429, 429], statuses
        assert 429 not in statuses[:5], statuses
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.0.2.1"
        assert _ask_for_link(other, "bob@example.org").status_code != 429
    finally:
        with limited.app_context():
            db.engine.dispose()
        redis_lib.Redis.from_url(redis_url).flushdb()
