"""Visitors for the signing runs: one per signature, as people come.

    python -m bench.stamps <visitors.json> <out prefix> <runs> <visitors per run>

(run with the server's own settings: its secret key and session cookie); writes
``<out prefix>-<n>.lua`` for runs 1..<runs>.

A visitor who fetched the sign form got a session cookie, a CSRF token made from the session's
secret and a form stamp (the hidden ``started`` field, a signed nonce bound to the session). A
stamp posted for a second address is a replay: the abuse checks hold that signature for review,
never email or count it, and it takes the intake's slower path. A pool of 128 visitors replayed
for thousands of signatures therefore measured the held path, not people signing; and a
process that had read the same 128 session cookies a thousand times each measured a cache.
Fetching one form per signature would put the form page's cost into the signing row, which the
one-INSERT baseline does not pay (the whole-loop row pays it: ``wrk/loop.lua`` GETs a form per
visitor).

So each signature gets a visitor of its own, made here with the app's own pieces: a session
shaped like the one the pooled visitor got from the form page (its keys; a new CSRF secret),
signed by the app's session serializer; the CSRF token Flask-WTF would make from it; a form
stamp from ``form_stamp`` bound to it; the form's other hidden fields as the page gave them.
That is what the form page would have given another visitor. The visitors of a run are
split by wrk thread (``sign.lua`` takes the next of its own), so none is used twice; a thread
that runs out cycles through the pooled visitors (their stamps replayed: held, as before).
"""

from __future__ import annotations

import json
import math
import secrets
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

WRK_THREADS = 2  # load.run_wrk starts at most two wrk threads


class Minter:
    """Makes visitors for ``app``: cookie and hidden fields, shaped like a pooled one's."""

    def __init__(self, app: Any, cookie: str, fields: str) -> None:
        from petitions.hotpath.wsgi import csrf_serializer

        self.app = app
        self.sessions = app.session_interface.get_signing_serializer(app)
        self.name = app.config["SESSION_COOKIE_NAME"]
        self.field = app.config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
        self.csrf = csrf_serializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)
        jar: SimpleCookie = SimpleCookie()
        jar.load(cookie)
        self.shape = self.sessions.loads(jar[self.name].value)
        self.rest = [(k, v) for k, v in parse_qsl(fields) if k not in (self.field, "started")]

    def visitor(self) -> tuple[str, str]:
        from petitions.screening.checks import form_stamp, session_binding

        raw = secrets.token_hex(20)  # Flask-WTF's CSRF secret: sha1 hex of random bytes
        session = {**self.shape, self.field: raw}
        cookie = f"{self.name}={self.sessions.dumps(session)}"
        stamp = form_stamp(self.app.config["SECRET_KEY"], session_binding(raw))
        hidden = [(self.field, self.csrf.dumps(raw)), ("started", stamp), *self.rest]
        return cookie, urlencode(hidden)


def mint(app: Any, pooled: list[tuple[str, str]], per_run: int) -> str:
    """The Lua pool for one run: ``fresh`` visitors, then the pooled ones to fall back on."""
    minter = Minter(app, *pooled[0])
    count = WRK_THREADS * max(1, math.ceil(per_run / WRK_THREADS))
    lines = ["return {", f"  fresh = {count},"]
    for cookie, fields in [*(minter.visitor() for _ in range(count)), *pooled]:
        lines.append(f"  {{{json.dumps(cookie)}, {json.dumps(fields)}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    source, prefix, runs, per_run = argv
    from petitions import create_app

    app = create_app()
    pooled = [(cookie, fields) for cookie, fields in json.loads(Path(source).read_text())]
    for n in range(1, int(runs) + 1):
        Path(f"{prefix}-{n}.lua").write_text(mint(app, pooled, int(per_run)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
