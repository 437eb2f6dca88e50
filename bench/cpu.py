"""CPU time per request, in process: the signing hot path against the normal view and a bare INSERT.

    python -m bench.cpu [--requests N] [--rounds R]

Unlike throughput on a shared machine, CPU time per request does not depend on what else is
running: each figure is ``time.process_time()`` spent inside the WSGI call (the app's Python:
Flask, SQLAlchemy, psycopg, the Redis client), divided by the requests made, the median of
``--rounds`` rounds with the variants interleaved. PostgreSQL's and Redis's own CPU is in
their processes and is left out of every row alike, the baseline's included.

Rows (production settings, ``https`` with the referrer a browser sends, one distinct visitor,
form stamp, client address and address at a common provider per signature, so the screening
runs but does not trip):

* ``sign POST``: the signing POST, through the normal view (``HOTPATH_ENABLED`` off) and the
  hot path (on); ``+ thank-you page``: the same plus the GET the browser is sent to;
* ``action page GET (new visitor)``: the sign form's page as a visitor without a session first
  sees it, rendered by the app or from the hot path's copy (``hotpath/form_pages.py``);
  ``form + sign POST + thank-you page``: the three requests a signature takes;
* ``baseline``: ``bench/baseline_app.py``'s one-INSERT endpoint and its "hello";
* ``count``: the public count endpoint, against "hello".

Needs PostgreSQL and Redis as for the tests. ``BENCH_CPU_DB_NAME`` (default
``petitions_bench_cpu``) is dropped and made again; ``BENCH_REDIS_URL`` (default db 8) is
flushed at the start.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from html import unescape
from typing import Any
from urllib.parse import urlencode

import psycopg
import redis
from werkzeug.test import EnvironBuilder

from bench import baseline_app

CAMPAIGN = "forced-labour-free-supply-chains"
ACTION = "carmakers-trace-your-supply-chains"
ACTION_PATH = f"/c/{CAMPAIGN}/{ACTION}"
COUNT_PATH = f"/api/v1/campaigns/{CAMPAIGN}/actions/{ACTION}/count"
HOST = "bench.example"
_FIELD = re.compile(r'<input[^>]*name="(csrf_token|started)"[^>]*>')
_VALUE = re.compile(r'value="([^"]*)"')

Environ = dict[str, Any]


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    _start_response.status = status  # type: ignore[attr-defined]


def _call(app: Callable[..., Iterable[bytes]], environ: Environ) -> bytes:
    result = app(environ, _start_response)
    try:
        return b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _environ(method: str, path: str, **kwargs: Any) -> Environ:
    builder = EnvironBuilder(path=path, method=method, base_url=f"https://{HOST}", **kwargs)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def _with_body(environ: Environ) -> Environ:
    """A fresh copy whose body can be read again (an environ is used once)."""
    copy = dict(environ)
    copy["wsgi.input"] = io.BytesIO(environ["bench.body"])
    return copy


class Visitor:
    """A browser that fetched the form: its session cookie, CSRF token and form stamp."""

    def __init__(self, app: Any, n: int) -> None:
        environ = _environ("GET", ACTION_PATH)
        cookies: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            cookies.extend(v.split(";")[0] for k, v in headers if k == "Set-Cookie")

        html = b"".join(app(environ, start)).decode()
        values = {}
        for tag in _FIELD.finditer(html):
            match = _VALUE.search(tag.group(0))
            values[tag.group(1)] = unescape(match.group(1)) if match else ""
        self.cookie = "; ".join(cookies)
        self.fields = {
            "csrf_token": values["csrf_token"],
            "started": values["started"],
            "name": f"Visitor {n}",
            "email": f"visitor{n}x{secrets.token_hex(4)}@gmail.com",
            "country": "GB",
            "postcode": "SW1A 1AA",
        }
        self.ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def sign_environ(self) -> Environ:
        body = urlencode(self.fields).encode()
        environ = _environ(
            "POST",
            ACTION_PATH,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"Cookie": self.cookie, "Referer": f"https://{HOST}{ACTION_PATH}"},
            environ_base={"REMOTE_ADDR": self.ip},
        )
        environ["bench.body"] = body
        return environ

    def thanks_environ(self) -> Environ:
        environ = _environ("GET", ACTION_PATH + "/thanks", headers={"Cookie": self.cookie})
        environ["bench.body"] = b""
        return environ


def _form_environ() -> Environ:
    """A new visitor's GET of the sign form (no cookie yet, arrived from another page)."""
    environ = _environ("GET", ACTION_PATH, headers={"Referer": f"https://{HOST}/c/{CAMPAIGN}"})
    environ["bench.body"] = b""
    return environ


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}"


def build_apps(database_url: str, redis_url: str) -> tuple[Any, Any]:
    from petitions import create_app
    from petitions.campaigns.demo import create_demo_campaign
    from petitions.extensions import db

    app = create_app(
        "production",
        SECRET_KEY=secrets.token_hex(32),
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        PUBLIC_URL=f"https://{HOST}",
        SESSION_COOKIE_SECURE=True,
        ABUSE_MIN_FILL_SECONDS=0.0,  # people take longer than this; the bench does not
    )
    with app.app_context():
        db.create_all()
        create_demo_campaign()
        db.session.commit()
    os.environ["DATABASE_URL"] = database_url
    baseline_app.create_table(_sqlalchemy_url(database_url))
    return app, baseline_app.create_app()


def _sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def cpu_per_request(app: Any, environs: list[Environ], warm: int = 0) -> float:
    """Median-free: total CPU seconds over the calls, per call, in milliseconds."""
    prepared = [_with_body(e) for e in environs]
    for environ in prepared[:warm]:
        _call(app, environ)
    prepared = prepared[warm:]
    started = time.process_time()
    for environ in prepared:
        _call(app, environ)
    return (time.process_time() - started) * 1000 / max(1, len(prepared))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="signatures per variant a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    admin = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    redis.Redis.from_url(redis_url).flushdb()
    database_url = fresh_database(admin, os.environ.get("BENCH_CPU_DB_NAME", "petitions_bench_cpu"))
    app, baseline = build_apps(_sqlalchemy_url(database_url), redis_url)
    n = 0
    figures: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    hello = _environ("GET", "/hello")
    hello["bench.body"] = b""
    count = _environ("GET", COUNT_PATH)
    count["bench.body"] = b""
    for round_no in range(args.rounds):
        print(f"round {round_no + 1}/{args.rounds}", file=sys.stderr)
        for hot in (False, True):
            app.config["HOTPATH_ENABLED"] = hot
            visitors = []
            for _ in range(args.requests):
                n += 1
                visitors.append(Visitor(app, n))
            label = "hot path" if hot else "normal view"
            form = cpu_per_request(app, [_form_environ() for _ in visitors], warm=5)
            post = cpu_per_request(app, [v.sign_environ() for v in visitors], warm=5)
            thanks = cpu_per_request(app, [v.thanks_environ() for v in visitors], warm=5)
            record(f"sign POST, {label}", post)
            record(f"thank-you page, {label}", thanks)
            record(f"sign POST + thank-you page, {label}", post + thanks)
            record(f"action page GET (new visitor), {label}", form)
            record(f"form + sign POST + thank-you page, {label}", form + post + thanks)
        inserts = []
        for _ in range(args.requests):
            n += 1
            body = urlencode(
                {
                    "email": f"b{n}x{secrets.token_hex(4)}@gmail.com",
                    "name": "B",
                    "postcode": "SW1A 1AA",
                    "country": "GB",
                    "source": "",
                }
            ).encode()
            environ = _environ(
                "POST", "/insert", data=body, content_type="application/x-www-form-urlencoded"
            )
            environ["bench.body"] = body
            inserts.append(environ)
        record("baseline: one INSERT", cpu_per_request(baseline, inserts, warm=5))
        record("baseline: hello", cpu_per_request(baseline, [hello] * args.requests, warm=5))
        record("count endpoint", cpu_per_request(app, [count] * args.requests, warm=5))

    median = {name: statistics.median(values) for name, values in figures.items()}
    insert = median["baseline: one INSERT"]
    hello_ms = median["baseline: hello"]
    normal = median["sign POST + thank-you page, normal view"]
    print(f"\nCPU per request, in process (median of {args.rounds} rounds x {args.requests})\n")
    print(f"| {'figure':<48} | {'ms':>6} | {'/ INSERT':>8} | {'/ normal':>8} |")
    print(f"|{'-' * 50}|{'-' * 8}|{'-' * 10}|{'-' * 10}|")
    for name, value in median.items():
        against = hello_ms if name == "count endpoint" or name == "baseline: hello" else insert
        base = "/ hello" if against is hello_ms else ""
        vs_normal = f"{value / normal:.2f}" if name.startswith("sign POST + ") else ""
        if name.startswith("form + "):
            vs_normal = f"{value / median['form + sign POST + thank-you page, normal view']:.2f}"
        print(f"| {name:<48} | {value:6.2f} | {value / against:8.2f} | {vs_normal:>8} |{base}")
    hot_total = median["sign POST + thank-you page, hot path"]
    print(
        f"\nsignature incl. thank-you page: hot path {hot_total:.2f} ms = "
        f"{hot_total / normal:.2f} x the normal view, {hot_total / insert:.2f} x one INSERT"
    )
    print()
    for line in target_lines(hot_total, insert, median["count endpoint"], hello_ms):
        print(line)
    return 0


# Issue 14's targets that CPU time per request can judge: signing (the POST and the page it
# lands on) at >= 70 % of the one-INSERT baseline's throughput, i.e. at most 1/0.7 of its CPU;
# the count endpoint at least as fast as "hello".
SIGNING_SHARE = 0.70


def target_lines(
    signature_ms: float, insert_ms: float, count_ms: float, hello_ms: float
) -> list[str]:
    """One line per issue-14 CPU target: MET or NOT MET, with the figure."""
    ratio = signature_ms / insert_ms
    share = insert_ms / signature_ms
    count_share = hello_ms / count_ms if count_ms else float("inf")
    return [
        f"issue 14 target: signature incl. thank-you page >= {SIGNING_SHARE:.0%} of one INSERT's "
        f"throughput (CPU ratio <= {1 / SIGNING_SHARE:.2f}): "
        f"{'MET' if share >= SIGNING_SHARE else 'NOT MET'} "
        f"({ratio:.2f} x one INSERT, {share:.0%} of its throughput)",
        f'issue 14 target: count endpoint >= 100% of "hello"\'s throughput: '
        f"{'MET' if count_ms <= hello_ms else 'NOT MET'} "
        f"({count_ms:.3f} ms against {hello_ms:.3f} ms, {count_share:.0%})",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
