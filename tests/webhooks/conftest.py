"""A real HTTP receiver on a local port, and the worker with fast webhook retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import WorkerProcess, worker_env
from tests.support.smtp import SmtpSink


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST; answers with the scripted statuses first, then 200."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def posts(self) -> list[Received]:
        with self.lock:
            return list(self.received)


def _handler(receiver_ref: dict[str, Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            receiver = receiver_ref["r"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    ref: dict[str, Receiver] = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    ref["r"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ref["r"]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def session_worker(
    database_url: str,
    redis_url: str,
    smtp_sink: SmtpSink,
    app: Flask,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """The real worker, with webhook retries a fraction of a second apart."""
    tmp: Path = tmp_path_factory.mktemp("worker")
    env = worker_env(database_url, redis_url, smtp_sink, tmp)
    env.update(
        {
            "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
            "WEBHOOK_SWEEP_SECONDS": "0.5",
            "WEBHOOK_TIMEOUT": "2",
            "WEBHOOK_MAX_ATTEMPTS": "4",
        }
    )
    process = WorkerProcess(env, tmp / "worker.log")
    yield process
    process.stop()
