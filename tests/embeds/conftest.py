"""Embed fixtures: no minimum fill time, and (for the browser test) two local origins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server


@pytest.fixture(autouse=True)
def _no_minimum_fill_time(app: Flask) -> Iterator[None]:
    previous = app.config.get("ABUSE_MIN_FILL_SECONDS")
    app.config["ABUSE_MIN_FILL_SECONDS"] = 0
    yield
    app.config["ABUSE_MIN_FILL_SECONDS"] = previous


@dataclass
class Served:
    url: str
    html: dict[str, str]


@pytest.fixture
def app_server(live_app: Flask) -> Iterator[str]:
    """The app itself on http://127.0.0.1:<port> (threaded werkzeug server)."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def host_site() -> Iterator[Served]:
    """Another origin, http://localhost:<port>, serving whatever page a test puts in ``html``."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path.split("?")[0], "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Served(f"http://localhost:{server.server_address[1]}", pages)
    server.shutdown()
    server.server_close()
