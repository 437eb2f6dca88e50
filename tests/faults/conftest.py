"""Fault injection: our own Redis server and worker, which the scenarios break and restore.

The shared Redis on 6379 is never touched: ``fault_redis`` is a ``redis-server`` on a free port,
without persistence (a restart loses the queue, as a crash would). ``fault_worker`` is a real
``celery worker -B`` pointed at it, and ``fault_app`` is the web app pointed at it with task
dispatch on, so every nudge travels through that Redis. They live for one module only: a worker
left running would fold and send behind the back of the unit tests that come after.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask
from sqlalchemy import case, func, select

from petitions import create_app
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.conftest import WorkerProcess, free_port, service_missing, wait_for, worker_env
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.integration


class RedisServer:
    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            service_missing("redis-server (the binary)", FileNotFoundError("not on PATH"))
            return
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_for(lambda: self._ping(client), timeout=10, interval=0.05)

    @staticmethod
    def _ping(client: redis_lib.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis_lib.RedisError:
            return False

    def stop(self) -> None:
        """Kill it (SIGKILL): whatever was queued in memory is gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="module")
def fault_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("fault-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fault_worker(
    app: Flask,
    database_url: str,
    smtp_sink: SmtpSink,
    fault_redis: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    tmp = tmp_path_factory.mktemp("fault-worker")
    env = worker_env(database_url, fault_redis.url, smtp_sink, tmp)
    env.update(
        {
            "RECONCILE_INTERVAL_SECONDS": "3600",
            "TRENDING_INTERVAL_SECONDS": "3600",
            "MAIL_TIMEOUT": "2",  # scenario 6 hangs the SMTP server for longer than this
        }
    )
    process = WorkerProcess(env, tmp / "worker.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def fault_app(
    app: Flask, database_url: str, smtp_sink: SmtpSink, fault_redis: RedisServer
) -> Flask:
    """The web side, dispatching through the fault Redis, with production-like abuse checks."""
    web = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=fault_redis.url,
        RATELIMIT_STORAGE_URI=fault_redis.url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_sink.port,
        MAIL_TIMEOUT=2.0,
        TASK_DISPATCH=True,
        NUDGE_DEBOUNCE_MS=200,
        CONFIRM_RESEND_SECONDS=60,
        RATELIMIT_ENABLED=True,
        ABUSE_IP_ACTION_SOFT=1000,
        ABUSE_IP_ACTION_HARD=0,
        ABUSE_IP_SOFT=1000,
        ABUSE_IP_HARD=0,
    )
    return web


@pytest.fixture
def broken(fault_redis: RedisServer, fault_worker: WorkerProcess) -> Iterator[None]:
    """Whatever a scenario breaks is running again afterwards."""
    yield
    if not fault_redis.running():
        fault_redis.start()
    if fault_worker.proc is None or fault_worker.proc.poll() is not None:
        fault_worker.start()


@pytest.fixture
def invariant(app: Flask) -> Iterator[Any]:
    """After the scenario: every action's count equals its confirmed, valid signatures."""
    checked: list[bool] = []

    def check(timeout: float = 20.0) -> dict[int, tuple[int, int]]:
        with app.app_context():
            wait_for(lambda: _nothing_to_fold(), timeout=timeout)
            truth = _truth()
            tallies = {
                t.action_id: (t.pending, t.confirmed)
                for t in db.session.scalars(select(ActionTally))
            }
            db.session.remove()
        for action_id, (pending, confirmed) in truth.items():
            assert tallies.get(action_id, (0, 0)) == (pending, confirmed), (
                f"action {action_id}: tally {tallies.get(action_id)} "
                f"!= truth {(pending, confirmed)}"
            )
        checked.append(True)
        return tallies

    yield check
    if not checked:
        check()


def _nothing_to_fold() -> bool:
    db.session.remove()
    return not db.session.scalar(select(func.count()).where(Signature.needs_count.is_(True)))


def _truth() -> dict[int, tuple[int, int]]:
    valid = (
        Signature.invalidated_at.is_(None),
        Signature.withdrawn_at.is_(None),
        Signature.suspect.is_(False),
    )
    rows = db.session.execute(
        select(
            Signature.action_id,
            func.sum(case((Signature.confirmed_at.is_(None), 1), else_=0)),
            func.sum(case((Signature.confirmed_at.is_not(None), 1), else_=0)),
        )
        .where(*valid)
        .group_by(Signature.action_id)
    )
    return {a: (int(p), int(c)) for a, p, c in rows}


def settle(seconds: float) -> None:
    """Give the worker's periodic sweeps time to act (used only to show nothing *more* happens)."""
    time.sleep(seconds)
