from __future__ import annotations

import re

from flask import Flask

from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.organisers.models import Organiser
from tests.support.smtp import SmtpSink
from tests.support.workspace import csrf, login, make_organiser

INVITE_LINK = re.compile(r"/organise/invite/([A-Za-z0-9_-]+)")


def test_an_admin_invites_an_organiser_who_sets_a_password(app: Flask, smtp_sink: SmtpSink) -> None:
    with app.app_context():
        make_organiser("root@example.org", admin=True)
    admin = app.test_client()
    login(admin, "root@example.org")
    response = admin.post(
        "/organise/organisers",
        data={
            "csrf_token": csrf(admin, "/organise/organisers"),
            "email": "New.Person@Example.org",
            "name": "New Person",
            "role": "organiser",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        invited = db.session.scalar(
            db.select(Organiser).where(Organiser.email == "new.person@example.org")
        )
        assert invited is not None and invited.password_hash is None
        assert drain().sent == 1  # the worker's job, run here directly
    [mail] = smtp_sink.wait_for(1, address="new.person@example.org")
    token = INVITE_LINK.search(mail.text()).group(1)
    assert INVITE_LINK.search(mail.html())

    # Not usable to log in before the password is set.
    assert login(app.test_client(), "new.person@example.org", "").status_code == 400
    assert login(app.test_client(), "new.person@example.org", "anything at all").status_code == 400

    newcomer = app.test_client()
    url = f"/organise/invite/{token}"
    short = newcomer.post(
        url, data={"csrf_token": csrf(newcomer, url), "password": "short", "confirm": "short"}
    )
    assert short.status_code == 400
    done = newcomer.post(
        url,
        data={
            "csrf_token": csrf(newcomer, url),
            "password": "a long new password",
            "confirm": "a long new password",
        },
    )
    assert done.status_code == 303
    assert newcomer.get("/organise/").status_code == 200
    assert newcomer.get(url).status_code == 404  # single use
    assert (
        login(app.test_client(), "new.person@example.org", "a long new password").status_code == 303
    )


def test_only_admins_invite(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann@example.org")
    client = app.test_client()
    login(client, "ann@example.org")
    assert client.get("/organise/organisers").status_code == 404


def test_a_bad_invitation_token_is_a_404(app: Flask) -> None:
    assert app.test_client().get("/organise/invite/" + "x" * 43).status_code == 404
