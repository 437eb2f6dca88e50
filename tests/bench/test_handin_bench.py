"""``python -m bench.handin`` keeps working: a small run prints its line (not a timed test)."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from tests.conftest import PG_ADMIN_URL, ROOT, TEST_DB, service_missing

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
def test_handin_bench_runs_small() -> None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", exc)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.handin",
            "--count",
            "300",
            "--grouping",
            "area",
            "--database",
            f"{TEST_DB}_handin_bench",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "hand-in PDF of 350 signatures grouped by area" in done.stdout
    assert "pages" in done.stdout and "worker memory" in done.stdout and "peak" in done.stdout
