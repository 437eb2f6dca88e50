"""How long an organiser's dashboard takes for an action with a million confirmed signatures.

    .venv/bin/python -m bench.dashboard_million              # 1,000,000 rows (~2-4 minutes)
    .venv/bin/python -m bench.dashboard_million --count 100000 --runs 10

Uses a scratch PostgreSQL database (default ``petitions_bench3``, dropped and re-created),
fills it with ``bench.generate`` (rows made in PostgreSQL by generate_series, tallies rebuilt
by ``reconcile_counts``), then times, through the Flask test client as a logged-in admin:

* the dashboard page (HTML, server-side render of every number, table and series);
* the JSON endpoint the open page polls;
* optionally (``--export``) the CSV export task streaming every row to a file, with the
  worker process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from typing import Any

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _timed(client: Any, url: str, runs: int) -> tuple[float, float, int]:
    samples = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        size = len(response.data)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    return statistics.median(samples), p95, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default="petitions_bench3")
    parser.add_argument("--export", action="store_true", help="also time the CSV export")
    parser.add_argument("--keep", action="store_true", help="reuse the data if it is there")
    args = parser.parse_args(argv)

    from bench.generate import bench_action, generate
    from petitions import create_app
    from petitions.campaigns.models import Action
    from petitions.extensions import db
    from petitions.organisers.services import create_organiser
    from tests.support.web import csrf_from

    if not args.keep:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    app = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=url,
        REDIS_URL="",
        RATELIMIT_ENABLED=False,
        TASK_DISPATCH=False,
        EXPORT_DIR=tempfile.mkdtemp(prefix="bench-exports-"),
    )
    with app.app_context():
        db.create_all()
        admin = create_organiser("bench-admin@example.org", "bench-password", admin=True)
        db.session.commit()
        admin_id = admin.id
        action_id = bench_action()
        action = db.session.get(Action, action_id)
        assert action is not None
        action.campaign.owner_id = admin_id
        campaign_id = action.campaign_id
        db.session.commit()
        from petitions.tallies.models import ActionTally

        tally = db.session.get(ActionTally, action_id)
        have = tally.confirmed if tally else 0
        if have < args.count:
            print(f"generating {args.count - have:,} signatures...", file=sys.stderr)
            result = generate(
                action_id,
                args.count - have,
                progress=lambda line: print(line, file=sys.stderr),
            )
            print(f"generated in {result.seconds:.0f}s (incl. reconcile)", file=sys.stderr)
        confirmed = db.session.get(ActionTally, action_id).confirmed  # type: ignore[union-attr]

    client = app.test_client()
    page = client.get("/organise/login")
    client.post(
        "/organise/login",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "email": "bench-admin@example.org",
            "password": "bench-password",
        },
    )
    base = f"/organise/campaigns/{campaign_id}/actions/{action_id}"
    _timed(client, base + "/dashboard", 2)  # warm caches and connections
    html = _timed(client, base + "/dashboard", args.runs)
    data = _timed(client, base + "/dashboard.json", args.runs)
    whole = _timed(client, f"/organise/campaigns/{campaign_id}/dashboard", args.runs)
    print(f"action {action_id}: {confirmed:,} confirmed signatures; {args.runs} runs each")
    for label, (median, p95, size) in (
        ("dashboard page", html),
        ("dashboard JSON", data),
        ("campaign dashboard", whole),
    ):
        print(f"  {label:<19} median {median:6.1f} ms  p95 {p95:6.1f} ms  ({size:,} bytes)")

    if args.export:
        from petitions.exports import jobs as export_jobs
        from petitions.exports import services as exports

        with app.app_context():
            action = db.session.get(Action, action_id)
            assert action is not None
            job = exports.request_export(action, admin_id)
            db.session.commit()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            name = export_jobs.run_export(job.id)
            seconds = time.perf_counter() - started
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            size = (exports.export_dir() / str(name)).stat().st_size
        print(
            f"  CSV export          {seconds:6.1f} s for {confirmed:,} rows ({size / 1e6:.0f} MB); "
            f"peak RSS grew {(rss_after - rss_before) / 1024:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
