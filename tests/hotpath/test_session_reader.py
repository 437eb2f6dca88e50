"""The hot path's session cookie reader (``hotpath.wsgi.read_session``) answers as Flask's
session serializer does, whether or not it has verified the same cookie before."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from petitions.hotpath import wsgi


def _environ(app: Flask, cookie: str) -> dict[str, Any]:
    return {"HTTP_COOKIE": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}


def _flask_reads(app: Flask, cookie: str) -> dict[str, Any] | None:
    """What Flask's own session interface makes of the cookie (None: no session)."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    max_age = int(app.permanent_session_lifetime.total_seconds())
    try:
        data = serializer.loads(cookie, max_age=max_age)
    except Exception:
        return None
    return data if isinstance(data, dict) else None


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``time.time`` for itsdangerous and the reader alike, moved by the test."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def _signed(app: Flask, data: dict[str, Any]) -> str:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.dumps(data))


def test_a_cookie_reads_the_same_the_first_time_and_again(app: Flask) -> None:
    cookie = _signed(app, {"csrf_token": "a" * 40, "_fresh": False})
    first = wsgi.read_session(app, _environ(app, cookie))
    again = wsgi.read_session(app, _environ(app, cookie))
    assert first == again == _flask_reads(app, cookie) == {"csrf_token": "a" * 40, "_fresh": False}
    assert again is not first  # each caller gets its own dict
    assert first is not None
    first["csrf_token"] = "changed by a caller"
    assert wsgi.read_session(app, _environ(app, cookie)) == {
        "csrf_token": "a" * 40,
        "_fresh": False,
    }


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # the signature
        lambda c: "x" + c,  # the payload
        lambda c: c.rsplit(".", 1)[0],  # no signature
        lambda c: "",
        lambda c: "not.a.cookie",
        lambda c: c + "." + c,
    ],
)
def test_a_forged_cookie_is_no_session_even_after_the_real_one_was_read(
    app: Flask, mangle: Any
) -> None:
    cookie = _signed(app, {"csrf_token": "b" * 40})
    assert wsgi.read_session(app, _environ(app, cookie)) is not None
    forged = mangle(cookie)
    assert wsgi.read_session(app, _environ(app, forged)) is None
    assert _flask_reads(app, forged) is None


def test_a_cookie_read_before_expires_as_flask_would_expire_it(
    app: Flask, fake_clock: list[float]
) -> None:
    saved = app.permanent_session_lifetime
    app.permanent_session_lifetime = timedelta(seconds=10)
    try:
        cookie = _signed(app, {"csrf_token": "c" * 40})
        fake_clock[0] += 10
        assert wsgi.read_session(app, _environ(app, cookie)) == _flask_reads(app, cookie)
        assert _flask_reads(app, cookie) is not None  # 10 s old: still good
        fake_clock[0] += 1.5
        assert _flask_reads(app, cookie) is None  # 11 s old: expired
        assert wsgi.read_session(app, _environ(app, cookie)) is None
        fake_clock[0] -= 30  # signed in the future (a clock moved back): expired too
        assert _flask_reads(app, cookie) is None
        assert wsgi.read_session(app, _environ(app, cookie)) is None
    finally:
        app.permanent_session_lifetime = saved


def test_a_new_secret_key_does_not_accept_a_cookie_read_under_the_old_one(app: Flask) -> None:
    cookie = _signed(app, {"csrf_token": "d" * 40})
    assert wsgi.read_session(app, _environ(app, cookie)) is not None
    saved = app.secret_key
    app.secret_key = "another secret key, rotated without a fallback"
    app.config["SECRET_KEY"] = app.secret_key
    try:
        assert _flask_reads(app, cookie) is None
        assert wsgi.read_session(app, _environ(app, cookie)) is None
    finally:
        app.secret_key = saved
        app.config["SECRET_KEY"] = saved
