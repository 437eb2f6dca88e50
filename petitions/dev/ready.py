"""Printing ``make run``'s address once the web process answers, then waiting for Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import click

STARTUP_SECONDS = 120.0


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own server
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def announce_when_up(port: int, public_url: str) -> None:
    health = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _up(health):  # a condition, polled: the server is up or it is not
        if time.monotonic() > deadline:
            click.echo(f"The web process did not answer on {health}; see its lines above.")
            sys.exit(1)
        time.sleep(0.2)
    base = public_url.rstrip("/") or f"http://127.0.0.1:{port}"
    lines = [
        f"Petitions is running: open {base}/",
        f"Organisers: {base}/organise/login (the demo admin is printed above)",
        f"Caught mail (confirmation links): {base}/dev/mail",
        "Press Ctrl-C once to stop everything. LOG_LEVEL=info shows more detail.",
    ]
    width = max(len(line) for line in lines) + 4
    click.echo("\n" + "=" * width)
    for line in lines:
        click.echo(f"  {line}")
    click.echo("=" * width + "\n", nl=True)
    sys.stdout.flush()

    def stop(*_: Any) -> None:
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()
