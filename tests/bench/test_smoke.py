"""``make bench-smoke`` keeps working: the whole benchmark, small and bounded, prints its table.

Not a timed test: it asserts the table is there and complete, never how fast anything was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import psycopg
import pytest
import redis as redis_lib

from tests.conftest import PG_ADMIN_URL, ROOT, TEST_DB, service_missing

pytestmark = pytest.mark.integration

FIGURES = [
    "1. signatures accepted/s",
    "web CPU per signature",
    "2. confirmation emails delivered/s",
    "3. count lag",
    "4. ",
    "5. ",
    "6. CSV export",
    "7. embedded default (SQLite",
    "8. whole loop",
    "| server ",
]


@pytest.mark.timeout(900)
def test_bench_smoke_prints_the_table() -> None:
    if shutil.which("wrk") is None:
        service_missing("wrk", FileNotFoundError("wrk"))
    bench_redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            pass
        redis_lib.Redis.from_url(bench_redis, socket_connect_timeout=2).ping()
    except (psycopg.OperationalError, redis_lib.RedisError) as exc:
        service_missing("PostgreSQL/Redis", exc)

    env = dict(os.environ)
    env.update(
        {
            "BENCH_PG_ADMIN_URL": PG_ADMIN_URL,
            "BENCH_DB_NAME": f"{TEST_DB}_bench",
            "BENCH_REDIS_URL": bench_redis,
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    out = done.stdout
    assert "| figure" in out and "| measured (median)" in out
    for figure in FIGURES:
        assert figure in out, f"{figure!r} missing from:\n{out}"
    assert "duplicate emails caught by the SMTP sink over the whole run: 0" in out
    assert "exactly equal to the signature table" in out
