"""Load generation: wrk with Lua scripts, and small browser-like helpers in Python."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

WRK_DIR = Path(__file__).resolve().parent / "wrk"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
_INPUT = re.compile(r"<input[^>]*>")
_ATTR = re.compile(r'([a-z_-]+)="([^"]*)"')


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def ok_per_second(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    return found


def run_wrk(
    url: str, clients: int, seconds: float, script: str, args: list[str] | None = None
) -> WrkResult:
    command = [
        wrk_binary(),
        "-t",
        str(min(2, clients)),
        "-c",
        str(clients),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_DIR / script),
        url,
    ]
    if args:
        command += ["--", *args]
    env = {"BENCH_WRK_DIR": str(WRK_DIR), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=seconds + 60, check=False
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[6:])
    errors = sum(
        data[k] for k in ("errors_status", "errors_connect", "errors_read", "errors_timeout")
    )
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
    )


class Browser:
    """One visitor: keeps its cookies, sends the CSRF token the page gave it."""

    def __init__(self, port: int, forwarded_for: str = "") -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.forwarded_for = forwarded_for
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def _headers(self) -> dict[str, str]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        return headers

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        headers = self._headers()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, text, {k.lower(): v for k, v in response.getheaders()}

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path)

    def csrf_from(self, path: str) -> str:
        status, text, _ = self.get(path)
        found = _CSRF.search(text)
        if status != 200 or not found:
            raise RuntimeError(f"no CSRF token on {path} (HTTP {status})")
        return found.group(1) or found.group(2)

    def post_form(self, path: str, form: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        return self.request("POST", path, form)

    def close(self) -> None:
        self.conn.close()


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form (CSRF token, form stamp), as a browser sends them."""
    fields = {}
    for tag in _INPUT.findall(html):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and attrs.get("name"):
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    return fields


def csrf_pool(port: int, path: str, size: int, pool_file: Path) -> Path:
    """GET the form ``size`` times as fresh visitors; write (cookie, hidden fields) for Lua,
    and the same as JSON beside it (``<pool>.json``, for ``bench.stamps``)."""
    lines = ["return {"]
    visitors = []
    for _ in range(size):
        browser = Browser(port)
        status, html, _ = browser.get(path)
        fields = hidden_fields(html)
        if status != 200 or "csrf_token" not in fields:
            raise RuntimeError(f"no CSRF token on {path} (HTTP {status})")
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        browser.close()
        visitors.append((cookie, urlencode(fields)))
        lines.append(f"  {{{json.dumps(cookie)}, {json.dumps(urlencode(fields))}}},")
    lines.append("}")
    pool_file.write_text("\n".join(lines) + "\n")
    pool_file.with_suffix(".json").write_text(json.dumps(visitors))
    return pool_file


class StampedPool:
    """A pool of visitors and, for each run, a visitor of its own for every signature
    (``bench/stamps.py``): ``next_run()`` is the Lua file for the next wrk run, the plain pool
    (its stamps replayed, so held for review) once the made files are used up."""

    def __init__(self, pool: Path, runs: list[Path]) -> None:
        self.pool = pool
        self.runs = list(runs)

    def next_run(self) -> Path:
        return self.runs.pop(0) if self.runs else self.pool


def stamped_pool(
    python: Callable[..., Any],
    port: int,
    path: str,
    size: int,
    pool_file: Path,
    runs: int,
    per_run: int,
    env: dict[str, str] | None = None,
) -> StampedPool:
    """``csrf_pool``, then ``runs`` files of ``per_run`` new visitors shaped like its own, made
    by ``python -m bench.stamps`` under the server's settings (``python``: ``Stack.python``)."""
    csrf_pool(port, path, size, pool_file)
    prefix = pool_file.with_suffix("")
    python(
        "-m",
        "bench.stamps",
        str(pool_file.with_suffix(".json")),
        str(prefix),
        str(runs),
        str(per_run),
        env=env,
    )
    return StampedPool(pool_file, [Path(f"{prefix}-{n}.lua") for n in range(1, runs + 1)])
