"""Form stamps for the signing runs: one per signature, as people have.

    python -m bench.stamps <visitors.json> <out prefix> <runs> <stamps per run>

(run with the server's own settings: its secret key and session cookie); writes
``<out prefix>-<n>.lua`` for runs 1..<runs>.

A visitor who fetched the sign form got a session cookie, a CSRF token and a form stamp (the
hidden ``started`` field, a signed nonce bound to the session). A stamp posted for a second
address is a replay: the abuse checks hold that signature for review, never email or count it,
and it takes the intake's slower path. A pool of 128 visitors replayed for thousands of
signatures therefore measured the held path, not a person signing. Fetching one form per
signature would put the form page's cost into the signing row, which the one-INSERT baseline
does not pay (the whole-loop row pays it: ``wrk/loop.lua`` GETs a form per visitor).

So each pooled visitor gets more stamps, made here by the app's own ``form_stamp`` with the
app's secret key and bound to that visitor's session, exactly what the form page would have
given the same visitor on another fetch. They are split by wrk thread (``sign.lua`` takes the
next unused one of its own for the visitor) so no stamp is sent twice; a visitor that runs out
falls back to its pooled stamp (held, as before).
"""

from __future__ import annotations

import json
import math
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

WRK_THREADS = 2  # load.run_wrk starts at most two wrk threads


def mint(app: Any, visitors: list[tuple[str, str]], per_run: int) -> str:
    """The Lua pool: per visitor its cookie, its hidden fields, the fields without the stamp,
    and one list of fresh stamps per wrk thread."""
    from petitions.screening.checks import form_stamp, session_binding

    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    secret = app.config["SECRET_KEY"]
    each = max(1, math.ceil(per_run / (len(visitors) * WRK_THREADS)))
    lines = ["return {"]
    for cookie, fields in visitors:
        jar = SimpleCookie()
        jar.load(cookie)
        session = serializer.loads(jar[name].value) if name in jar else {}
        binding = session_binding(session.get("csrf_token"))
        rest = urlencode([(k, v) for k, v in parse_qsl(fields) if k != "started"])
        stamps = [
            "{" + ",".join(_lua_string(form_stamp(secret, binding)) for _ in range(each)) + "}"
            for _ in range(WRK_THREADS)
        ]
        lines.append(
            f"  {{{json.dumps(cookie)}, {json.dumps(fields)}, {json.dumps(rest)}, "
            + ", ".join(stamps)
            + "},"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _lua_string(stamp: str) -> str:
    return json.dumps(quote(stamp))  # form-encoded; JSON's quoting is Lua's for these bytes


def main(argv: list[str]) -> int:
    source, prefix, runs, per_run = argv
    from petitions import create_app

    app = create_app()
    visitors = [(cookie, fields) for cookie, fields in json.loads(Path(source).read_text())]
    for n in range(1, int(runs) + 1):
        Path(f"{prefix}-{n}.lua").write_text(mint(app, visitors, int(per_run)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
