"""Reading a request without Flask: the form, the session cookie, the CSRF check.

Every helper here answers None (or False) for anything unusual; the request then goes on to
the Flask app exactly as it came (its body is put back), so the normal views decide.
"""

from __future__ import annotations

import hmac
import io
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import same_origin
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from petitions.core.signers import keep_signers

_FORM_TYPE = "application/x-www-form-urlencoded"
_CSRF_SALT = "wtf-csrf-token"  # Flask-WTF's, for the tokens ``generate_csrf`` signs


@dataclass(frozen=True)
class FormPost:
    """A submitted form, read as the Flask app would read it."""

    fields: dict[str, str]
    session: dict[str, Any]
    host: str
    secure: bool
    remote_addr: str | None
    referrer: str | None


def read_form_post(app: Flask, environ: dict[str, Any]) -> FormPost | None:
    """The form and the session of a plain browser POST; None for anything else.

    The body is read once and put back, so a request handed on reads the same bytes.
    """
    content_type = (environ.get("CONTENT_TYPE") or "").partition(";")[0].strip().lower()
    if content_type != _FORM_TYPE or environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    query = environ.get("QUERY_STRING") or ""
    if "\x00" in query or "%00" in query:  # the app refuses NUL (core.web.reject_nul_bytes)
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    limit = app.config.get("MAX_CONTENT_LENGTH")
    if length <= 0 or (limit is not None and length > limit):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    if len(body) != length:
        return None
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    # Werkzeug's own call (werkzeug.formparser), so values decode exactly as request.form's.
    pairs = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    fields = dict(pairs)
    if len(fields) != len(pairs) or any("\x00" in value for value in fields.values()):
        return None
    session = read_session(app, environ)
    if session is None:
        return None
    try:
        host = get_host(environ, trusted_hosts=app.config.get("TRUSTED_HOSTS"))
    except SecurityError:
        return None
    return FormPost(
        fields=fields,
        session=session,
        host=host,
        secure=environ.get("wsgi.url_scheme") == "https",
        remote_addr=environ.get("REMOTE_ADDR"),
        referrer=environ.get("HTTP_REFERER"),
    )


def read_session(app: Flask, environ: dict[str, Any]) -> dict[str, Any] | None:
    """The session cookie's contents, checked as Flask's session interface checks it.

    None when there is no valid session cookie (the app then answers: a CSRF error).
    """
    interface = app.session_interface
    if type(interface) is not SecureCookieSessionInterface:
        return None
    raw = parse_cookie(environ.get("HTTP_COOKIE") or "").get(app.config["SESSION_COOKIE_NAME"])
    key = _session_key(app, interface)
    serializer = _session_serializer(app, interface)
    if not raw or serializer is None:
        return None
    max_age = int(app.permanent_session_lifetime.total_seconds())
    seen = _verified.get((key, raw))
    if seen is not None:
        # Verified before by this process: the signature is the same bytes under the same
        # keys, so only the age can have changed (itsdangerous: 0 <= now - signed <= max_age).
        age = int(time.time()) - seen[1]
        if 0 <= age <= max_age:
            return dict(seen[0])
    try:
        data, signed = serializer.loads(raw, max_age=max_age, return_timestamp=True)
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    if len(_verified) >= _MAX_VERIFIED:
        _verified.clear()
    _verified[(key, raw)] = (dict(data), int(signed.timestamp()))
    return data


# Session cookies this process has verified, with when each was signed. The page after
# signing comes with the cookie the POST just sent (a browser keeps the connection, so the same
# process answers): its HMAC, base64 and JSON need not be done twice.
_MAX_VERIFIED = 4096
_verified: dict[tuple[Any, str], tuple[dict[str, Any], int]] = {}


def _session_key(app: Flask, interface: SecureCookieSessionInterface) -> tuple[Any, ...]:
    """What the session serializer depends on: the secret, its fallbacks and the salt."""
    return (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()), interface.salt)


_serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}


def _kept(key: tuple[Any, ...], make: Any) -> Any:
    serializer = _serializers.get(key)
    if serializer is None and key not in _serializers:
        if len(_serializers) >= 64:  # secrets are few; tests that change them stay bounded
            _serializers.clear()
        serializer = _serializers[key] = make()
    return serializer


def _session_serializer(
    app: Flask, interface: SecureCookieSessionInterface
) -> URLSafeTimedSerializer | None:
    """Flask's own session serializer (``get_signing_serializer``), made once per secret, its
    signer keeping its derived keys (``core.signers``: the same checks, the same bytes)."""
    key = _session_key(app, interface)

    def make() -> URLSafeTimedSerializer | None:
        serializer = interface.get_signing_serializer(app)
        return keep_signers(serializer) if serializer is not None else None

    return _kept(key, make)  # type: ignore[no-any-return]


def csrf_ok(app: Flask, post: FormPost) -> bool:
    """Flask-WTF's check (``flask_wtf.csrf.validate_csrf`` and ``CSRFProtect.protect``) on a
    session read here: True only when it would pass."""
    config = app.config
    if not config.get("WTF_CSRF_ENABLED", True) or not config.get("WTF_CSRF_CHECK_DEFAULT", True):
        return False  # not checked at all: an unusual setup, left to the app
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    secret = config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    expected = post.session.get(field)
    token = post.fields.get(field)
    if not secret or not isinstance(expected, str) or not token:
        return False
    try:
        signed = csrf_serializer(secret).loads(
            token, max_age=config.get("WTF_CSRF_TIME_LIMIT", 3600)
        )
        if not isinstance(signed, str) or not hmac.compare_digest(expected, signed):
            return False
    except (BadData, TypeError):
        return False
    if post.secure and config.get("WTF_CSRF_SSL_STRICT", True):
        good = f"https://{post.host}/"
        if not post.referrer or not same_origin(post.referrer, good):
            return False
    return True


def csrf_serializer(secret: str | bytes) -> URLSafeTimedSerializer:
    """Flask-WTF's token serializer (``generate_csrf``: ``URLSafeTimedSerializer(secret,
    salt="wtf-csrf-token")``), made once per secret with its signer's keys kept."""
    return _kept(  # type: ignore[no-any-return]
        ("csrf", secret),
        lambda: keep_signers(URLSafeTimedSerializer(secret, salt=_CSRF_SALT)),
    )


def session_serializer(app: Flask) -> URLSafeTimedSerializer | None:
    """Flask's session cookie serializer for ``app`` (None for another session interface)."""
    interface = app.session_interface
    if type(interface) is not SecureCookieSessionInterface:
        return None
    return _session_serializer(app, interface)
