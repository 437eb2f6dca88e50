"""Slow request bodies do not starve the site (issue 11, finding 5).

granian runs as production runs it (the Dockerfile's command with ``deploy/granian.env``, the
settings docker-compose.yml's web service reads too) against the test database. A handful of
clients each send headers and the start of a body, then trickle a byte now and then and never
finish; meanwhile ``/healthz`` must keep answering. With the old sync workers (one request per
process) these clients held every worker and the health check waited for a 30 s timeout.

granian holds connections and parses headers in Rust, but a WSGI app reads the body itself,
in the blocking thread that runs the request: each slow client holds one thread until it
finishes. So the threads of one worker must outnumber the slow clients, since the kernel may
hand several connections to the same worker (with 4 threads per worker, 4 of the 6 landing on
one worker was seen to stall the health checks that landed there too).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import free_port
from tests.support.granian import production_granian, settings

pytestmark = pytest.mark.integration

SLOW_CLIENTS = 6  # "a handful": more than the old four sync workers


def _healthz(port: int, timeout: float) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
        return int(response.status)


@pytest.fixture
def production_server(
    app: Flask, database_url: str, redis_url: str, tmp_path: Path
) -> Iterator[int]:
    # ``app`` has created the tables: the login form is served and its POST reads the body
    # (on an empty database the view fails before reading it, and nothing would be slow).
    env = {
        "PETITIONS_ENV": "test",
        "TEST_DATABASE_URL": database_url,
        "TEST_REDIS_URL": redis_url,
        "PETITIONS_INSTANCE": str(tmp_path / "instance"),
    }
    with production_granian(free_port(), tmp_path / "granian.log", env) as port:
        yield port


def test_production_settings_are_threaded_with_timeouts() -> None:
    values = settings()
    assert values["GRANIAN_INTERFACE"] == "wsgi" and values["GRANIAN_FACTORY"] == "true"
    workers, threads = int(values["GRANIAN_WORKERS"]), int(values["GRANIAN_BLOCKING_THREADS"])
    assert workers * threads > SLOW_CLIENTS * 2
    assert threads > SLOW_CLIENTS, "one worker may be handed every slow client"
    # Headers (and the next request on a kept-alive connection) within a minute at most.
    assert 0 < int(values["GRANIAN_HTTP1_HEADER_READ_TIMEOUT"]) <= 60_000
    assert values["GRANIAN_RESPAWN_FAILED_WORKERS"] == "true"


def test_healthz_answers_while_slow_bodies_are_in_flight(production_server: int) -> None:
    port = production_server
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
