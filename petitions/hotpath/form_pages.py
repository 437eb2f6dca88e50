"""The action page with its sign form (``GET /c/<campaign>/<action>``), from a learned copy.

Every visitor of a campaign first GETs this page, and the app renders it afresh each time
(the ORM load, the country list, the progress bar, WTForms): during a surge that render, not
the signature, was most of the cost (bench/README.md, the whole loop). So, as ``pages`` does
for the thank-you page, the first request goes to the app and its answer is kept for
``HOTPATH_PAGE_SECONDS`` (5 s); later visitors get those bytes with the four parts that belong
to one visitor made afresh, each by the code and secrets the app itself uses:

* the CSRF secret kept in the session: a new visitor gets a new one, made as Flask-WTF's
  ``generate_csrf`` makes it; a returning one keeps theirs;
* the form's CSRF token: that secret signed by Flask-WTF's serializer (``wsgi.csrf_serializer``:
  the same secret, salt and timestamp, so ``validate_csrf`` and its time limit treat it alike);
* the form stamp (the hidden ``started`` field): ``screening.checks.form_stamp``, signed now
  and bound to that session, as ``SignForm`` issues it;
* the session cookie the app sets for a new visitor: Flask's own session serializer
  (``wsgi.session_serializer``) over the same session the app made (``_fresh`` and the CSRF
  secret), in the same ``Set-Cookie`` header;

and a fresh CSP nonce. A page from the copy is therefore signed exactly as a rendered one, by
the hot path or by the normal view (``tests/hotpath/test_form_pages.py``).

The copy is kept only for an open petition or pledge without questions, read fresh when it is
learned, and only when the app's answer has exactly these parts (a 200 with one token and one
stamp that check out, the session it set being the one described, nothing written). The page
may be up to ``HOTPATH_PAGE_SECONDS`` old: its counts, its text, and whether the action is
still open (a closed action's copy is still shown for at most that long; the signature's
INSERT repeats the open check in SQL, so it is refused all the same). Everything else is the
app's as before: a query string (a source code, a prefill link), a cookie other than the
session and the language, a session holding anything besides the CSRF secret (signed in, a
flash, a form's errors), another language, a closed action, one with questions, an event or a
letter.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from itsdangerous import BadData
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from petitions.core import i18n
from petitions.core.web import new_csp_nonce
from petitions.hotpath.pages import _KEYED_HEADERS, _UNCACHED_HEADERS, Copy, _learn
from petitions.hotpath.snapshot import Snapshots
from petitions.hotpath.wsgi import csrf_serializer, read_session, session_serializer
from petitions.screening.checks import form_stamp, read_form_stamp, session_binding
from petitions.signing.forms import referrer_host

_MAX_ENTRIES = 2048
_SIGNABLE = frozenset({"petition", "pledge"})
_ENDPOINT = "signing.action_page"
_FRESH = "_fresh"  # Flask-Login's mark on an anonymous session it has seen: always False here
_NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{16,64})'")
_EXPIRY = re.compile(r";\s*(expires|max-age)=", re.IGNORECASE)
# Which fresh value goes into each gap of a kept page.
_TOKEN, _STAMP, _NONCE_SLOT = 0, 1, 2


@dataclass(frozen=True)
class Visitor:
    """What a form page may depend on for this request, or why it is the app's."""

    key: tuple[Any, ...]
    csrf_secret: str | None  # the session's, for a returning visitor
    sets_cookie: bool  # the app would set the session cookie (a new session, or _fresh added)


@dataclass(frozen=True)
class FormCopy:
    status: str
    headers: tuple[tuple[str, str], ...]
    parts: tuple[bytes, ...]  # the body around the per-visitor values
    slots: tuple[int, ...]  # which value follows each part but the last
    nonce: str
    cookie: str  # the session cookie's value in the kept Set-Cookie ("" when none is set)


class FormPages:
    """Kept sign-form pages, each at most ``ttl`` seconds old."""

    def __init__(self, ttl: Callable[[Flask], float]) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[Any, ...], tuple[float, FormCopy]] = {}
        self._lock = threading.Lock()
        self._actions = Snapshots(0.0)  # read fresh each time a page is learned
        self.hits = 0  # answers given from a copy (for tests and logs)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def serve(
        self,
        app: Flask,
        wrapped: Callable[..., Any],
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        slug: str,
        action_slug: str,
    ) -> Any:
        ttl = self._ttl(app)
        visitor = _visitor(app, environ) if ttl > 0 else None
        if visitor is None:
            return wrapped(environ, start_response)
        now = time.monotonic()
        entry = self._entries.get(visitor.key)
        if entry is not None and now - entry[0] < ttl:
            answer = _replay(app, entry[1], visitor)
            if answer is not None:
                self.hits += 1
                start_response(answer[0], answer[1])
                return [answer[2]]
        if not self._signable(app, environ, slug, action_slug):
            return wrapped(environ, start_response)
        learned = _learn(wrapped, environ)
        copy = _form_copy(app, learned, visitor)
        if copy is not None:
            with self._lock:
                if len(self._entries) >= _MAX_ENTRIES:
                    self._entries.clear()
                self._entries[visitor.key] = (now, copy)
        start_response(learned.status, list(learned.headers))
        return [learned.body]

    def _signable(self, app: Flask, environ: dict[str, Any], slug: str, action_slug: str) -> bool:
        """The app's sign-form view would answer, for an open petition or pledge that asks
        no questions (read now, not from a snapshot)."""
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match(method="GET")
        except HTTPException:  # not found, another method, a redirect to add a slash
            return False
        if endpoint != _ENDPOINT:
            return False
        with app.app_context():
            action = self._actions.get(slug, action_slug)
            self._actions.clear()
        return (
            action is not None
            and action.kind in _SIGNABLE
            and action.is_open()
            and not action.asks_questions
        )


def _visitor(app: Flask, environ: dict[str, Any]) -> Visitor | None:
    config = app.config
    if not config.get("WTF_CSRF_ENABLED", True) or session_serializer(app) is None:
        return None
    if not _csrf_key(app):
        return None
    if environ.get("QUERY_STRING") or any(environ.get(h) for h in _UNCACHED_HEADERS):
        return None
    cookies = parse_cookie(environ.get("HTTP_COOKIE") or "")
    session_cookie = config["SESSION_COOKIE_NAME"]
    if not set(cookies) <= {session_cookie, i18n.COOKIE}:
        return None  # a remember-me cookie, or anything else the app might read: its page
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    shape: tuple[str, ...] = ()
    csrf_secret = None
    if session_cookie in cookies:
        session = read_session(app, environ)
        if session is None or not session.keys() <= {field, _FRESH}:
            return None  # unreadable, signed in, a flash, a form's errors: the app's
        csrf_secret = session.get(field)
        if not isinstance(csrf_secret, str) or not csrf_secret or session.get(_FRESH, False):
            return None
        shape = tuple(sorted(session))
    try:
        host = get_host(environ, trusted_hosts=config.get("TRUSTED_HOSTS"))
    except SecurityError:
        return None
    key = (
        environ.get("PATH_INFO"),
        environ.get("SCRIPT_NAME", ""),
        environ.get("wsgi.url_scheme"),
        host,
        *(environ.get(h) for h in _KEYED_HEADERS),
        cookies.get(i18n.COOKIE),
        shape,
        # The form's hidden source says which site sent the visitor ("ref:<host>").
        referrer_host(environ.get("HTTP_REFERER"), host),
    )
    return Visitor(key, csrf_secret, sets_cookie=_FRESH not in shape)


def _csrf_key(app: Flask) -> str | bytes:
    """The key Flask-WTF signs tokens with (``_visitor`` checks there is one)."""
    return app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key or ""


def _hidden_value(body: bytes, name: str) -> bytes | None:
    """The value of the page's one hidden input ``name`` (as WTForms renders it)."""
    found = re.findall(
        rb'<input id="'
        + re.escape(name.encode())
        + rb'" name="'
        + re.escape(name.encode())
        + rb'" type="hidden" value="([^"]+)">',
        body,
    )
    return found[0] if len(found) == 1 else None


def _new_session(field: str, csrf_secret: str) -> dict[str, Any]:
    # Sorted as Flask's JSON provider sorts a session's keys.
    return dict(sorted({_FRESH: False, field: csrf_secret}.items()))


def _payload(signed: str) -> str:
    return signed.rsplit(".", 2)[0]


def _form_copy(app: Flask, learned: Copy, visitor: Visitor) -> FormCopy | None:
    """The learned page as a copy, or None unless its only per-visitor parts are the ones
    made afresh on replay, in exactly the forms checked here."""
    config = app.config
    if not learned.status.startswith("200 ") or learned.wrote:
        return None
    headers = learned.headers
    if not any(n == "Content-Type" and v.startswith("text/html") for n, v in headers):
        return None
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    token = _hidden_value(learned.body, field)
    stamp = _hidden_value(learned.body, "started")
    if token is None or stamp is None:
        return None
    csrf = csrf_serializer(_csrf_key(app))
    sessions = session_serializer(app)
    assert sessions is not None  # checked by _visitor
    try:
        csrf_secret = csrf.loads(token.decode("ascii"))
    except (BadData, UnicodeDecodeError):
        return None
    if not isinstance(csrf_secret, str) or visitor.csrf_secret not in (None, csrf_secret):
        return None
    if _payload(csrf.dumps(csrf_secret)) != _payload(token.decode("ascii")):
        return None  # not the serializer's format: a token made some other way
    with app.app_context():
        stamp_problem = read_form_stamp(stamp.decode("ascii"), session_binding(csrf_secret))
    if stamp_problem.problem:
        return None
    # The session the app left: a new visitor's in its Set-Cookie; a returning one keeps theirs.
    set_cookies = [v for n, v in headers if n.lower() == "set-cookie"]
    cookie = ""
    if visitor.sets_cookie:
        if len(set_cookies) != 1 or _EXPIRY.search(set_cookies[0]):
            return None  # a permanent session's expiry changes: left to the app
        name, _, cookie = set_cookies[0].partition(";")[0].partition("=")
        try:
            left = sessions.loads(cookie)
        except BadData:
            return None
        expected = _new_session(field, csrf_secret)
        if name != config["SESSION_COOKIE_NAME"] or left != expected:
            return None
        if _payload(sessions.dumps(expected)) != _payload(cookie):
            return None
    elif set_cookies:
        return None
    nonce = ""
    for name, value in headers:
        if name == "Content-Security-Policy":
            match = _NONCE.search(value)
            nonce = match.group(1) if match else ""
    values = {token: _TOKEN, stamp: _STAMP}
    if nonce:
        values[nonce.encode("ascii")] = _NONCE_SLOT
    pieces = re.split(b"(" + b"|".join(re.escape(v) for v in values) + b")", learned.body)
    parts, slots = tuple(pieces[0::2]), tuple(values[v] for v in pieces[1::2])
    if len(slots) != sum(learned.body.count(v) for v in values) or slots.count(_STAMP) != 1:
        return None  # values overlapping each other: never, but be exact
    if nonce and slots.count(_NONCE_SLOT) != learned.body.count(b'nonce="'):
        return None  # the nonce is somewhere other than a script tag's attribute
    if csrf_secret.encode("ascii") in learned.body or (cookie and cookie.encode() in learned.body):
        return None
    return FormCopy(learned.status, headers, parts, slots, nonce, cookie)


def _replay(
    app: Flask, copy: FormCopy, visitor: Visitor
) -> tuple[str, list[tuple[str, str]], bytes] | None:
    config = app.config
    sessions = session_serializer(app)
    if sessions is None:
        return None
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    # A new visitor's secret, made as Flask-WTF's ``generate_csrf`` makes it.
    # SHA-1 only spells 64 random bytes as the 40 hex digits Flask-WTF's sessions hold.
    csrf_secret = visitor.csrf_secret or hashlib.sha1(os.urandom(64)).hexdigest()  # noqa: S324
    csrf = csrf_serializer(_csrf_key(app))
    nonce = new_csp_nonce() if copy.nonce else ""
    fresh = (
        csrf.dumps(csrf_secret).encode("ascii"),
        form_stamp(config["SECRET_KEY"], session_binding(csrf_secret)).encode("ascii"),
        nonce.encode("ascii"),
    )
    chunks = [copy.parts[0]]
    for slot, part in zip(copy.slots, copy.parts[1:], strict=True):
        chunks.append(fresh[slot])
        chunks.append(part)
    body = b"".join(chunks)
    cookie = sessions.dumps(_new_session(field, csrf_secret)) if copy.cookie else ""
    headers = []
    for name, value in copy.headers:
        if name == "Content-Security-Policy" and nonce:
            value = value.replace(copy.nonce, nonce)
        elif name == "Content-Length":
            value = str(len(body))
        elif name.lower() == "set-cookie" and cookie:
            value = value.replace(copy.cookie, cookie, 1)
        headers.append((name, value))
    return copy.status, headers, body
