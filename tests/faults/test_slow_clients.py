"""Slow request bodies do not starve the site (issue 11, finding 5).

gunicorn runs with the production settings (``deploy/gunicorn.conf.py``, the file the Dockerfile
and docker-compose.yml use) against the test database. A handful of clients each send headers
and the start of a body, then trickle a byte now and then and never finish; meanwhile
``/healthz`` must keep answering. With the old sync workers (one request per process) these
clients held every worker and the health check waited for gunicorn's 30 s timeout.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, wait_for

pytestmark = pytest.mark.integration

CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
SLOW_CLIENTS = 6  # "a handful": more than the old four sync workers


def _settings() -> dict[str, object]:
    return runpy.run_path(str(CONFIG))


def _healthz(port: int, timeout: float) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
        return int(response.status)


@pytest.fixture
def production_gunicorn(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[int]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "PETITIONS_ENV": "test",
            "TEST_DATABASE_URL": database_url,
            "TEST_REDIS_URL": redis_url,
            "PETITIONS_INSTANCE": str(tmp_path / "instance"),
            # The production defaults, not whatever this machine's environment says.
            "WEB_CONCURRENCY": "",
            "GUNICORN_THREADS": "",
        }
    )
    env.pop("WEB_CONCURRENCY")
    env.pop("GUNICORN_THREADS")
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(CONFIG),
            "--bind",
            f"127.0.0.1:{port}",
            "petitions:create_app()",
        ],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError((tmp_path / "gunicorn.log").read_text()[-3000:])
        try:
            return _healthz(port, timeout=5) == 200
        except OSError:
            return False

    try:
        wait_for(up, timeout=90, interval=0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def test_production_settings_are_threaded_with_timeouts() -> None:
    settings = _settings()
    assert settings["worker_class"] == "gthread"
    assert int(settings["workers"]) * int(settings["threads"]) > SLOW_CLIENTS * 2  # type: ignore[call-overload]
    assert 0 < int(settings["timeout"]) <= 60  # type: ignore[call-overload]


def test_healthz_answers_while_slow_bodies_are_in_flight(production_gunicorn: int) -> None:
    port = production_gunicorn
    stop = threading.Event()
    slow: list[socket.socket] = []
    head = (
        "POST /organise/login HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 100000\r\n\r\n"
        "email=slow"
    ).encode()
    for _ in range(SLOW_CLIENTS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.sendall(head)
        slow.append(sock)

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in slow:
                with contextlib.suppress(OSError):
                    sock.sendall(b"x")

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        answered = []
        started = time.monotonic()
        for _ in range(10):
            # Generous per-request timeout, still far below the 30 s a starved worker took.
            answered.append(_healthz(port, timeout=10))
        elapsed = time.monotonic() - started
        assert answered == [200] * 10
        # The slow clients are still in flight: none of them has been answered.
        for sock in slow:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
        print(
            f"\nSLOW BODIES: {SLOW_CLIENTS} slow clients in flight; 10 /healthz in {elapsed:.2f}s"
        )
    finally:
        stop.set()
        trickler.join(10)
        for sock in slow:
            sock.close()
