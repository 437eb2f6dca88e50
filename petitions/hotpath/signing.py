"""The signing POST (``/c/<campaign>/<action>``) on the hot path.

The same steps as ``signing.blueprint.sign`` with the same pieces — the form's rules
(``signing.forms.read_valid_submission``), the screening facts, the intake
(``signing.services.submit_signature``) and the unit of work's runner (one commit, then the
nudges) — but without WTForms, the ORM load or Flask's request machinery.
Anything else (an error to show, a closed action, a rate limit, a failure) returns None and the
request goes on to that view.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from petitions.campaigns.models import ActionKind
from petitions.core import unit_of_work
from petitions.core.time import utcnow
from petitions.core.web import new_csp_nonce, security_header_items
from petitions.extensions import db
from petitions.hotpath.pages import Copy, replay
from petitions.hotpath.snapshot import Snapshots
from petitions.hotpath.store import ConnectionLost, Store
from petitions.hotpath.wsgi import FormPost, csrf_ok, read_form_post
from petitions.screening.checks import RateLimited, facts_from_fields, session_binding
from petitions.signing.forms import read_valid_submission, source_and_referrer
from petitions.signing.services import (
    ActionClosed,
    announce_signature,
    announced_effects_only,
    confirmation_statement,
    record_signature,
    screen,
    signature_params,
    signature_statement,
)

log = logging.getLogger(__name__)

WSGIAnswer = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_SIGNABLE = frozenset({ActionKind.PETITION.value, ActionKind.PLEDGE.value})
# A visitor's session: the CSRF secret, and Flask-Login's "not fresh" mark.
_ANONYMOUS = ({"csrf_token": None}.keys(), {"_fresh": None, "csrf_token": None}.keys())


def sign(
    app: Flask,
    snapshots: Snapshots,
    store: Store,
    environ: dict[str, Any],
    slug: str,
    action_slug: str,
) -> WSGIAnswer | None:
    """Record the signature and answer the view's 303, or None to let the view answer."""
    post = read_form_post(app, environ)
    # A session holding more (signed in, a flash to show, permanent) is the app's to handle.
    if post is None or not _anonymous(post.session) or not csrf_ok(app, post):
        return None
    refused: RateLimited | None = None
    context = app.app_context()
    context.push()
    try:
        # The unit of work's own runner: commits once (then the nudges), rolls back on error,
        # and runs once more on a lost connection (the UNIQUE index makes that harmless).
        if not _recorded(snapshots, store, post, slug, action_slug):
            return None
    except ActionClosed:
        unit_of_work.rollback()  # the view shows the closed page
        return None
    except RateLimited as error:
        unit_of_work.rollback()
        refused = error
    except Exception:
        # Nothing is lost: the view runs the same unit of work again (the UNIQUE index makes
        # a second run of a committed signature a duplicate, as retry_on_disconnect relies on).
        log.warning("hot path gave a signature to the view", exc_info=True)
        unit_of_work.rollback()
        return None
    finally:
        context.pop()
    if refused is not None:
        # Counted already, so answered here by the app's own error handler: handing it on
        # would count the submission twice.
        return answer_error(app, environ, refused)
    return see_thanks(app, environ, slug, action_slug, post)


def _anonymous(session: dict[str, Any]) -> bool:
    keys = session.keys()
    return keys in _ANONYMOUS and session.get("_fresh", False) is False


@unit_of_work.run_in_unit_of_work
@unit_of_work.retry_on_disconnect
def _recorded(
    snapshots: Snapshots, store: Store, post: FormPost, slug: str, action_slug: str
) -> bool:
    action = snapshots.get(slug, action_slug)
    if action is None or action.kind not in _SIGNABLE or not action.is_open():
        return False
    if action.asks_questions:  # whatever the form sent: the view asks and checks them
        return False
    submission = read_valid_submission(post.fields, action.pledge_options)
    if submission is None:
        return False
    source, referrer = source_and_referrer(submission.source, post.referrer, post.host)
    data = submission.signature_input(source=source, referrer=referrer, ip_address=post.remote_addr)
    binding = session_binding(post.session.get("csrf_token"))
    facts = facts_from_fields(submission.started, submission.website, post.remote_addr, binding)
    screened = screen(action, data, facts)  # RateLimited: answered with the app's 429
    if screened is None:
        return True  # dropped (a bot): the same 303, nothing stored
    if screened.suspect or not _written_on_kept_connection(store, action, screened):
        # Held for review, signed before, closed a moment ago, or the kept connection was
        # lost: the intake's own path in the ORM session (the screening is not repeated).
        record_signature(action, screened)
    return True


def _written_on_kept_connection(store: Store, action: Any, data: Any) -> bool:
    """The ordinary new signature, written and committed on this thread's kept connection
    (``hotpath.store``) with the intake's statement and values. False when nothing was
    written: the caller then writes it through the ORM session instead.

    No ORM session is made for it (``unit_of_work.on_own_connection`` holds the nudges): one
    exists only if the snapshot was read, or a listener of ``signature_created`` wrote."""
    engine = db.engine
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return False
    if unit_of_work.orm_session_in_transaction():
        db.session.rollback()  # only the snapshot's read: end it, so a write below is seen
    # When the receivers of the announcement write nothing, the statement commits itself
    # (one round trip); their nudges still run only after that commit. On SQLite the outbox
    # row is a second statement: the two commit together.
    commits_itself = dialect == "postgresql" and announced_effects_only()
    committed = False
    with unit_of_work.on_own_connection():
        try:
            params = signature_params(action, data, utcnow().date())
            new_id = store.write(
                engine, signature_statement(dialect), params, commits=commits_itself
            )
            if new_id is None:  # a duplicate or a closed action: ``sign`` says which
                return False
            if dialect != "postgresql":
                store.write(
                    engine,
                    confirmation_statement(),
                    {"p_ref_id": new_id, "p_created_at": params["p_created_at"]},
                )
            if commits_itself:
                committed = True
                try:
                    announce_signature(action.id, new_id)
                finally:  # committed: its effects are due, whatever a receiver raised
                    unit_of_work.own_connection_committed()
                return True
            announce_signature(action.id, new_id)
            if unit_of_work.orm_session_in_transaction():
                # A listener wrote through the session: one unit or none, so it is rolled
                # back and the ORM's intake runs it again with the signature.
                db.session.rollback()
                return False
            store.complete()  # the commit, then the nudges
            committed = True
        except ConnectionLost:
            log.warning("hot path's kept connection lost; writing through the ORM", exc_info=True)
            return False
        finally:
            if not committed:
                store.rollback()
                unit_of_work.discard_after_commit()
    return True


def answer_error(app: Flask, environ: dict[str, Any], error: HTTPException) -> Response:
    """The app's answer to an HTTP error raised here: its error page, hooks and headers."""
    with app.request_context(environ):
        return app.finalize_request(app.handle_user_exception(error))


def see_thanks(
    app: Flask, environ: dict[str, Any], slug: str, action_slug: str, post: FormPost
) -> WSGIAnswer:
    """The view's answer: 303 to the thank-you page, with the app's headers.

    Made once per address (Flask's redirect, the security headers, ``Vary: Cookie``) and then
    replayed with a fresh CSP nonce (``pages.replay``): the same bytes as building it anew."""
    location = f"{environ.get('SCRIPT_NAME', '')}/c/{slug}/{action_slug}/thanks"
    secure = post.secure or bool(app.config["SESSION_COOKIE_SECURE"])
    key = (location, secure)
    copy = _redirects.get(key)
    if copy is None:
        copy = _redirect_copy(app, location, secure)
        if len(_redirects) >= _MAX_REDIRECTS:
            _redirects.clear()
        _redirects[key] = copy
    return functools.partial(_answer_copy, copy)


_MAX_REDIRECTS = 1024
_redirects: dict[tuple[str, bool], Copy] = {}


def _redirect_copy(app: Flask, location: str, secure: bool) -> Copy:
    response: Response = app.redirect(location, 303)
    nonce = new_csp_nonce()
    for name, value in security_header_items(nonce, "'none'", secure):
        response.headers.setdefault(name, value)
    response.vary.add("Cookie")  # the session was read, as Flask marks it
    headers = tuple(response.headers.to_wsgi_list())
    return Copy(response.status, headers, response.get_data(), nonce.encode("ascii"), False)


def _answer_copy(
    copy: Copy, environ: dict[str, Any], start_response: Callable[..., Any]
) -> list[bytes]:
    return replay(copy, start_response)
