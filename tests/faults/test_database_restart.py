"""Fault scenario 11: PostgreSQL restarts under load (issue 11, finding 4).

The shared PostgreSQL on 5432 is never touched: ``own_postgres`` is a throwaway cluster
(``initdb`` + ``pg_ctl``) on a free port, which the scenarios restart and whose backends they
kill. The app runs against it through the test client, several threads at once, so its pool
holds several connections that the restart kills.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event, func, select

from petitions import create_app
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.signing.models import Signature
from tests.conftest import IN_CI, free_port, wait_for
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from

pytestmark = pytest.mark.integration


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class OwnPostgres:
    """A PostgreSQL cluster of our own (run as the ``postgres`` user when we are root)."""

    def __init__(self, bindir: Path, port: int) -> None:
        self.bindir = bindir
        self.port = port
        # pytest's tmp_path is private to root; the server user must own its data directory.
        self.root = Path(tempfile.mkdtemp(prefix="pt-own-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", "immediate", "stop")

    def admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        )


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    bindir = _binaries()
    if bindir is None:
        message = "PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin)"
        if IN_CI:
            pytest.fail(message + " — CI requires them", pytrace=False)
        pytest.skip(message)
    server = OwnPostgres(bindir, free_port())
    server.init()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="module")
def restart_app(own_postgres: OwnPostgres, redis_url: str) -> Iterator[Flask]:
    web = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=own_postgres.url,
        REDIS_URL=redis_url,
        RATELIMIT_ENABLED=False,
        TASK_DISPATCH=False,
        PROPAGATE_EXCEPTIONS=False,  # serve the 500 page, as production does
    )
    with web.app_context():
        db.create_all()
        db.session.remove()
    yield web
    with web.app_context():
        db.engine.dispose()


def _new_action(web: Flask) -> tuple[str, int]:
    with web.app_context():
        campaign = make_campaign()
        action = make_action(campaign)
        db.session.commit()
        url, action_id = f"/c/{campaign.slug}/{action.slug}", action.id
        db.session.remove()
    return url, action_id


def _sign(web: Flask, url: str, email: str) -> list[int]:
    """A person opening the page and signing: the statuses of both requests."""
    client = web.test_client()
    page = client.get(url)
    if page.status_code != 200:
        return [page.status_code]
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "country": "GB",
        "postcode": "SW1A 1AA",
        "name": "Ann Example",
        "email": email,
    }
    return [page.status_code, client.post(url, data=data).status_code]


def _rows(web: Flask, model: Any, column: Any, values: list[str]) -> dict[str, int]:
    with web.app_context():
        counted = dict(
            db.session.execute(
                select(column, func.count()).where(column.in_(values)).group_by(column)
            ).all()
        )
        db.session.remove()
    return counted


def test_11_postgres_restarted_under_load(restart_app: Flask, own_postgres: OwnPostgres) -> None:
    url, action_id = _new_action(restart_app)
    # Fill the pool: several requests at once, each holding its own connection.
    barrier = threading.Barrier(5)

    def warm(_: int) -> int:
        barrier.wait(timeout=60)
        return restart_app.test_client().get(url).status_code

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(warm, range(5))) == [200] * 5
    with restart_app.app_context():
        pooled = db.engine.pool.checkedin()
    assert pooled >= 2, pooled

    own_postgres.restart()  # every pooled connection is now dead

    emails = [f"restart-{i}@example.org" for i in range(50)]
    with ThreadPoolExecutor(4) as pool:
        results = dict(
            zip(emails, pool.map(lambda e: _sign(restart_app, url, e), emails), strict=True)
        )
    statuses = [status for pair in results.values() for status in pair]
    errors = [s for s in statuses if s >= 500]
    acknowledged = [e for e, pair in results.items() if pair[-1] == 303]
    stored = _rows(restart_app, Signature, Signature.email_normalised, acknowledged)
    lost = [e for e in acknowledged if stored.get(e) != 1]
    print(
        f"\nSCENARIO 11: PostgreSQL restarted with {pooled} pooled connections; 100 requests "
        f"after: {len(errors)} 5xx, {len(acknowledged)} signatures acknowledged, "
        f"{len(lost)} lost"
    )
    assert errors == [], statuses
    assert len(statuses) == 100
    assert len(acknowledged) == 50
    assert lost == []


def _sign_by_api(web: Flask, action_id: int, email: str) -> list[int]:
    """Another system recording a signature through the OSDI helper: the status."""
    body = {
        "person": {
            "given_name": "Ann",
            "family_name": "Example",
            "email_addresses": [{"address": email, "primary": True}],
            "postal_addresses": [{"postal_code": "SW1A 1AA", "country": "GB"}],
        }
    }
    url = f"/api/osdi/v1/petitions/{action_id}/signatures"
    return [web.test_client().post(url, json=body).status_code]


def _writes_signature(head: str) -> bool:
    return head.startswith("WITH") and "AS (INSERT INTO SIGNATURES" in " ".join(head.split())


@pytest.mark.parametrize(
    ("entry", "succeeded"), [("form", [200, 303]), ("osdi", [200])], ids=["form", "osdi"]
)
def test_12_connection_killed_inside_a_signing_post_is_retried_once(
    restart_app: Flask, own_postgres: OwnPostgres, entry: str, succeeded: list[int]
) -> None:
    """The server kills the backend just as the signature is inserted: the POST still succeeds,
    with exactly one signature and one email queued (the retry is idempotent), whether the
    person signed on the page or another system recorded it through the API."""
    url, action_id = _new_action(restart_app)

    def sign(email: str) -> list[int]:
        if entry == "form":
            return _sign(restart_app, url, email)
        return _sign_by_api(restart_app, action_id, email)

    with restart_app.app_context():
        engine = db.engine
    killed: list[int] = []

    def kill_own_backend(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The signature's INSERT, alone or (PostgreSQL) in the CTE that writes its outbox row too.
        head = statement.lstrip().upper()
        if killed or not (head.startswith("INSERT INTO SIGNATURES") or _writes_signature(head)):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with own_postgres.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        wait_for(lambda: not _backend_alive(own_postgres, pid), timeout=30)
        killed.append(pid)

    event.listen(engine, "before_cursor_execute", kill_own_backend)
    try:
        statuses = sign("killed-mid-post@example.org")
    finally:
        event.remove(engine, "before_cursor_execute", kill_own_backend)
    assert killed, "the backend was never killed"
    assert statuses == succeeded, statuses
    assert _stored(restart_app, action_id) == (1, 1)  # one signature, one email queued
    # Signing the same address again (the retry's own situation) is still one row.
    assert sign("Killed-Mid-Post@example.org") == succeeded
    assert _stored(restart_app, action_id)[0] == 1


def _stored(web: Flask, action_id: int) -> tuple[int, int]:
    with web.app_context():
        ids = list(db.session.scalars(select(Signature.id).where(Signature.action_id == action_id)))
        emails = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.ref_id.in_(ids))
        )
        db.session.remove()
    return len(ids), int(emails or 0)


def _backend_alive(server: OwnPostgres, pid: int) -> bool:
    with server.admin() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    return bool(row and row[0])
