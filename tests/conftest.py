"""Fixtures: the app through the factory, real PostgreSQL and Redis, an SMTP sink, a worker.

Unit tests run services directly (no task dispatch). Integration tests (marked
``integration``) use a real ``celery worker`` subprocess with embedded beat, real Redis as its
broker and a real SMTP server on a local port. Without a service they skip, except under
``CI=true``, where a missing service fails the run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest
import redis as redis_lib
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from petitions import create_app
from petitions.extensions import db
from tests.support.smtp import SmtpSink
from tests.support.timing import patient, wait_until

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_DB = os.environ.get("TEST_DB_NAME", "petitions_test")
TEST_DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{TEST_DB}"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def service_missing(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error})"
    if IN_CI:
        pytest.fail(message + " — CI requires it", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def database_url() -> str:
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{TEST_DB}"')
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", exc)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis_lib.RedisError as exc:
        service_missing("Redis", exc)
    client.flushdb()
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    sink.start()
    yield sink
    sink.stop()


def _settings(database_url: str, redis_url: str, sink: SmtpSink) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": sink.port,
        # Generous: on a busy machine the in-process SMTP sink can take seconds to answer.
        "MAIL_TIMEOUT": patient(5),
        "OUTBOX_RETRY_BASE_SECONDS": 0.3,
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str, smtp_sink: SmtpSink) -> Iterator[Flask]:
    app = create_app("test", **_settings(database_url, redis_url, smtp_sink), TASK_DISPATCH=False)
    with app.app_context():
        db.create_all()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _truncate(app: Flask) -> None:
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.remove()
        # The session's worker (and its beat) may hold row locks at this moment; TRUNCATE can
        # then lose a deadlock. Wait briefly for locks and try again rather than fail the test.
        for attempt in range(10):
            try:
                with db.engine.begin() as conn:
                    conn.execute(text("SET LOCAL lock_timeout = '2s'"))
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                return
            except OperationalError:
                if attempt == 9:
                    raise
                time.sleep(0.2 * (attempt + 1))


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" in request.fixturenames or "live_app" in request.fixturenames:
        app = request.getfixturevalue("app")
        _truncate(app)
        # The hot path's kept pages are of rows just truncated: the next test starts afresh.
        hotpath = app.extensions.get("hotpath")
        if hotpath is not None:
            hotpath.clear()
        redis_lib.Redis.from_url(TEST_REDIS_URL).flushdb()
    if "smtp_sink" in request.fixturenames:
        request.getfixturevalue("smtp_sink").reset()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def factories(app_ctx: None) -> Any:
    from tests.support import factories

    return factories


# --- integration: a real Celery worker ------------------------------------------------------


def worker_env(database_url: str, redis_url: str, sink: SmtpSink, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PETITIONS_ENV": "development",
            "SECRET_KEY": "test-secret-key",  # the same key as the test app: signed links verify
            "PETITIONS_INSTANCE": str(tmp),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(sink.port),
            "MAIL_TIMEOUT": str(patient(5)),
            "PUBLIC_URL": "http://localhost",
            "OUTBOX_SWEEP_SECONDS": "1",
            "OUTBOX_RETRY_BASE_SECONDS": "0.3",
            "OUTBOX_LEASE_SECONDS": "5",
            "OUTBOX_OUTAGE_RETRY_SECONDS": "1",
            "COUNT_INTERVAL_SECONDS": "0.5",
            "RECONCILE_INTERVAL_SECONDS": "3600",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class WorkerProcess:
    """``celery -A workers worker -B`` as a child process the tests can kill and restart.

    Only the workers a test asks for run during it (see ``_only_requested_workers``): a
    leftover worker's beat would otherwise drain the outbox and fold counts under tests that
    do that work themselves.
    """

    running: ClassVar[set[WorkerProcess]] = set()

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._ready_seen = 0

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ensure_running(self) -> WorkerProcess:
        if not self.alive():
            self.start()
        return self

    def start(self) -> None:
        schedule = Path(self.env["PETITIONS_INSTANCE"]) / "beat-schedule"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers",
                "worker",
                "-B",
                "-s",
                str(schedule),
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{time.time_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # kill() takes the embedded beat process down too
        )
        # A busy machine can take a minute or more to import and start Celery.
        deadline = time.monotonic() + patient(40)
        while time.monotonic() < deadline:
            if self.log_path.read_text(errors="replace").count("ready.") > self._ready_seen:
                self._ready_seen += 1
                WorkerProcess.running.add(self)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError("celery worker did not start:\n" + self.log_path.read_text()[-3000:])

    def kill(self) -> None:
        WorkerProcess.running.discard(self)
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        WorkerProcess.running.discard(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture(scope="session")
def session_worker(
    database_url: str,
    redis_url: str,
    smtp_sink: SmtpSink,
    app: Flask,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    tmp = tmp_path_factory.mktemp("worker")
    process = WorkerProcess(worker_env(database_url, redis_url, smtp_sink, tmp), tmp / "worker.log")
    yield process
    process.stop()


@pytest.fixture
def worker(session_worker: WorkerProcess) -> WorkerProcess:
    """The shared real worker, started (again) for the test that asks for it."""
    return session_worker.ensure_running()


@pytest.fixture(autouse=True)
def _limiter_left_as_found() -> Iterator[None]:
    """Flask-Limiter's ``limiter`` is one object shared by every app: a test that builds an app
    with ``RATELIMIT_ENABLED=True`` switches limits on for every app, so later tests that log in
    a few times got 429s depending on test order and speed. Each test leaves it as it found it."""
    from petitions.extensions import limiter

    enabled = limiter.enabled
    yield
    limiter.enabled = enabled


@pytest.fixture(autouse=True)
def _only_requested_workers(request: pytest.FixtureRequest) -> None:
    wanted: set[WorkerProcess] = set()
    for name in request.fixturenames:
        if name in ("session_worker", "_only_requested_workers"):
            continue
        if "worker" not in name:
            continue
        value = request.getfixturevalue(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, WorkerProcess):
                wanted.add(item)
    for process in list(WorkerProcess.running - wanted):
        process.stop()
    for process in wanted:
        process.ensure_running()


@pytest.fixture
def live_app(app: Flask, worker: WorkerProcess) -> Iterator[Flask]:
    """The same app, but handing work to the real worker after each commit."""
    app.config["TASK_DISPATCH"] = True
    yield app
    app.config["TASK_DISPATCH"] = False


def wait_for(predicate: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Wait for a condition; the timeout is stretched by TEST_PATIENCE (tests/support/timing.py)."""
    return wait_until(predicate, timeout, interval)


@pytest.fixture
def config(app: Flask) -> Iterator[Any]:
    """Change app settings for one test."""
    saved: dict[str, Any] = {}

    def set_config(**values: Any) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_config
    app.config.update(saved)
