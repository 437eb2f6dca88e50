"""The hot path: a signature, and the page after it, near the cost of a bare INSERT.

Why it exists: a signature through the normal Flask view costs several times a one-INSERT
endpoint (the ORM load of the action, WTForms, the app-wide hooks of Flask-Limiter,
Flask-Login and the session; bench/README.md, "CPU per request"). This package is a small WSGI
layer in front of the Flask app (``install``) that answers the ordinary case itself:

* ``POST /c/<campaign>/<action>`` (``signing``) from an anonymous browser session whose form
  passes every rule (``signing.forms.read_valid_submission``) and whose CSRF token is good.
  It answers the same 303, with the same headers, after writing the same rows through the
  same intake (``signing.services.submit_signature``: the screening counts, one statement for
  the signature and its outbox row with the open/deadline check in SQL, the debounced nudges);
* the thank-you page the browser is sent to next, the campaign page, and the public count
  endpoint, from a copy of the app's own answer a few seconds old (``pages``);
* the action page with its sign form, for an anonymous visitor, from such a copy with that
  visitor's own CSRF token, form stamp and session cookie made by the app's serializers
  (``form_pages``).

Everything else falls through, untouched, to the normal views: any request it cannot prove
ordinary (an error to show, a signed-in or flashed session, a closed action, a letter or event,
a rate limit, a database hiccup). So every error page, message and status is the normal app's;
the hot path only ever says yes. ``tests/hotpath`` sends the same inputs through both and
compares status, headers, body and stored rows.

What may go in here: routes that must run near the cost of a bare INSERT, built only from the
rules the main app uses (imported, never copied). ``HOTPATH_ENABLED`` turns it off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from petitions.core.i18n import speaks_default
from petitions.core.redis import get_redis
from petitions.hotpath.form_pages import FormPages
from petitions.hotpath.freshness import Generation
from petitions.hotpath.pages import PageCache
from petitions.hotpath.signing import sign
from petitions.hotpath.snapshot import Snapshots
from petitions.hotpath.store import Store

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The sign form's address. Slugs are made by ``core.text.slugify``: lower-case letters, digits
# and hyphens; anything else is left to Flask's routing.
SIGN_PATH = re.compile(r"/c/([a-z0-9][a-z0-9-]{0,79})/([a-z0-9][a-z0-9-]{0,79})")
CAMPAIGN_PATH = re.compile(r"/c/[a-z0-9][a-z0-9-]{0,79}")
THANKS_PATH = re.compile(r"/c/[a-z0-9][a-z0-9-]{0,79}/[a-z0-9][a-z0-9-]{0,79}/thanks")
COUNT_PATH = re.compile(
    r"/api/v1/campaigns/[a-z0-9][a-z0-9-]{0,79}/actions/[a-z0-9][a-z0-9-]{0,79}/count"
)


def _page_seconds(app: Flask) -> float:
    return float(app.config.get("HOTPATH_PAGE_SECONDS", 5.0))


def _count_seconds(app: Flask) -> float:
    return float(app.config.get("API_COUNT_CACHE_SECONDS", 1.0))


def install(app: Flask) -> None:
    """Put the hot path in front of the app's WSGI callable (inside any proxy fix)."""
    app.wsgi_app = HotPath(app, app.wsgi_app)  # type: ignore[method-assign]


class HotPath:
    """In front of the Flask app: the signing POST when it is ordinary, else the app."""

    def __init__(self, app: Flask, wrapped: WSGIApp) -> None:
        self.app = app
        self.wrapped = wrapped
        self.taken = 0  # requests answered here (not handed to the app): for tests and logs
        self.snapshots = Snapshots(float(app.config.get("HOTPATH_SNAPSHOT_SECONDS", 2.0)))
        self.store = Store()
        self.thanks = PageCache(_page_seconds, private_markers=True)
        self.counts = PageCache(_count_seconds, private_markers=False)
        self.campaigns = PageCache(_page_seconds, private_markers=True)
        self.forms = FormPages(_page_seconds)  # the sign form, its per-visitor parts made anew
        self.generation = Generation(self._redis)  # pages changed in another process (freshness)
        app.extensions["hotpath"] = self
        # Limits applied to every route would apply to signing too: leave it all to the app.
        self.usable = not (
            app.config.get("RATELIMIT_APPLICATION") or app.config.get("RATELIMIT_DEFAULT")
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD")
        if not self.usable or not self.app.config.get("HOTPATH_ENABLED", True):
            return self.wrapped(environ, start_response)
        path = environ.get("PATH_INFO") or ""
        if method == "POST":
            match = SIGN_PATH.fullmatch(path)
            # Another language's pages are the app's: the kept pages and the signature's
            # recorded language here are the default one's.
            if match is not None and speaks_default(environ, self.app.config):
                response = sign(self.app, self.snapshots, self.store, environ, match[1], match[2])
                if response is not None:
                    self.taken += 1
                    return response(environ, start_response)
        elif method == "GET":
            if self.generation.moved():
                self.forget_pages()
            if THANKS_PATH.fullmatch(path) and speaks_default(environ, self.app.config):
                return self.thanks.serve(self.app, self.wrapped, environ, start_response)
            if COUNT_PATH.fullmatch(path):
                return self.counts.serve(self.app, self.wrapped, environ, start_response)
            if speaks_default(environ, self.app.config):
                if CAMPAIGN_PATH.fullmatch(path):
                    return self.campaigns.serve(self.app, self.wrapped, environ, start_response)
                match = SIGN_PATH.fullmatch(path)
                if match is not None:
                    return self.forms.serve(
                        self.app, self.wrapped, environ, start_response, match[1], match[2]
                    )
        return self.wrapped(environ, start_response)

    def _redis(self) -> Any:
        # Asked afresh at each check (a few times a second at most): the app's settings decide.
        with self.app.app_context():
            return get_redis()

    def forget_pages(self) -> None:
        """Forget the kept pages and snapshots (not the counts): an organiser changed one."""
        self.snapshots.clear()
        self.thanks.clear()
        self.campaigns.clear()
        self.forms.clear()

    def clear(self) -> None:
        """Forget every snapshot and kept page (tests; an operator's change seen at once)."""
        self.snapshots.clear()
        self.thanks.clear()
        self.counts.clear()
        self.campaigns.clear()
        self.forms.clear()
