"""A production-shaped stack on this machine, started and stopped by the benchmark.

granian serving ``petitions:create_app`` (PETITIONS_ENV=production) with the production
settings (``deploy/granian.env``), a second granian with the same settings serving the
baseline app, Celery worker(s) and beat, and an SMTP sink — against a scratch PostgreSQL
database and its own Redis database.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.sink import CountingSink

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEB_SETTINGS = ROOT / "deploy" / "granian.env"  # production's web server settings


def production_web_settings() -> dict[str, str]:
    """``deploy/granian.env``'s KEY=VALUE lines (the production web server's settings)."""
    settings = {}
    if WEB_SETTINGS.exists():
        for line in WEB_SETTINGS.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                settings[key.strip()] = value.strip()
    return settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StackSettings:
    pg_admin_url: str = os.environ.get(
        "BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    db_name: str = os.environ.get("BENCH_DB_NAME", "petitions_bench")
    redis_url: str = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    web_workers: int = int(
        os.environ.get("BENCH_WEB_WORKERS")
        or production_web_settings().get("GRANIAN_WORKERS")
        or "4"
    )
    # Production's 8 threads a process, with the baseline's beside them, would pass this
    # machine's PostgreSQL max_connections (100): each thread keeps a connection.
    web_threads: int = int(os.environ.get("BENCH_WEB_THREADS", "4"))
    celery_workers: int = int(os.environ.get("BENCH_CELERY_WORKERS", "1"))
    worker_concurrency: int = int(os.environ.get("BENCH_WORKER_CONCURRENCY", "2"))
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        base = self.pg_admin_url.rsplit("/", 1)[0]
        return f"{base}/{self.db_name}"


class Stack:
    def __init__(self, settings: StackSettings, log=print) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.log = log
        self.tmp = Path(tempfile.mkdtemp(prefix="petitions-bench-"))
        self.web_port = free_port()
        self.baseline_port = free_port()
        self.sink = CountingSink(free_port())
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.log_offsets: dict[str, int] = {}
        self.env = dict(os.environ)
        self.env.update(
            {
                "PETITIONS_ENV": "production",
                "SECRET_KEY": secrets.token_hex(32),
                "DATABASE_URL": settings.database_url,
                "REDIS_URL": settings.redis_url,
                "CELERY_BROKER_URL": settings.redis_url,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(self.sink.port),
                "PUBLIC_URL": f"http://127.0.0.1:{self.web_port}",
                "PETITIONS_INSTANCE": str(self.tmp),
                "TRUSTED_PROXIES": "1",  # as behind a load balancer: X-Forwarded-For is the client
                "PYTHONUNBUFFERED": "1",
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        self.env.pop("DEV_MAIL_DIR", None)
        self.env.update(settings.extra_env)

    # --- the database ---------------------------------------------------------------------

    def fresh_database(self) -> str:
        """Drop and create the scratch database, build the schema, seed the demo."""
        name = self.settings.db_name
        with psycopg.connect(self.settings.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        result = self.python("-c", _BUILD_SCHEMA)
        how = result.stdout.decode().strip().splitlines()[-1]
        from bench.baseline_app import create_table

        create_table(_sqlalchemy_url(self.settings.database_url))
        import redis

        redis.Redis.from_url(self.settings.redis_url).flushdb()
        return how

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return self.python("-m", "flask", "--app", "petitions", *args, check=check)

    def python(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{args} failed:\n{result.stderr.decode()[-3000:]}")
        return result

    # --- processes ------------------------------------------------------------------------

    def _spawn(
        self,
        name: str,
        args: list[str],
        *,
        cwd: Path = ROOT,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        path = self.tmp / f"{name}.log"
        self.log_offsets[name] = path.stat().st_size if path.exists() else 0
        log = path.open("ab")
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = proc
        return proc

    def _gunicorn(
        self,
        name: str,
        app: str,
        port: int,
        *,
        worker_class: str = "gthread",
        workers: int | None = None,
        threads: int | None = None,
        cwd: Path = ROOT,
        env: dict[str, str] | None = None,
    ) -> None:
        s = self.settings
        self._spawn(
            name,
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers or s.web_workers),
                "--worker-class",
                worker_class,
                "--threads",
                str(threads or s.web_threads),
                "--backlog",
                "2048",
                "--keep-alive",
                "30",
                app,
            ],
            cwd=cwd,
            env=env,
        )

    def start_server(
        self,
        name: str,
        app: str,
        port: int,
        server: str,
        *,
        cwd: Path = ROOT,
        env: dict[str, str] | None = None,
    ) -> None:
        """``app`` under one of the compared servers: ``granian`` (production's), ``gthread``
        (gunicorn, the settings' processes x threads),
        ``sync`` (twice the processes, one request each),
        ``waitress`` (one process, the settings' processes x threads threads) or
        ``flask-run`` (``make run``'s development server, threaded)."""
        if server == "gthread":
            self._gunicorn(name, app, port, cwd=cwd, env=env)
        elif server == "sync":
            workers = 2 * self.settings.web_workers
            self._gunicorn(name, app, port, worker_class="sync", workers=workers, cwd=cwd, env=env)
        elif server == "waitress":
            threads = self.settings.web_workers * self.settings.web_threads
            args = [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{port}"]
            self._spawn(
                name,
                [*args, f"--threads={threads}", "--call", app.removesuffix("()")],
                cwd=cwd,
                env=env,
            )
        elif server == "granian":
            # Production's server and settings (deploy/granian.env), on this port, with the
            # settings' processes and threads. Written in Rust: connections and HTTP parsing
            # outside Python.
            granian = {
                **production_web_settings(),
                "GRANIAN_HOST": "127.0.0.1",
                "GRANIAN_PORT": str(port),
                "GRANIAN_WORKERS": str(self.settings.web_workers),
                "GRANIAN_BLOCKING_THREADS": str(self.settings.web_threads),
                "GRANIAN_INTERFACE": "wsgi",
                "GRANIAN_FACTORY": "true",
            }
            self._spawn(
                name,
                [str(BIN / "granian"), app.removesuffix("()")],
                cwd=cwd,
                env={**granian, **(env or {})},
            )
        elif server == "flask-run":
            args = [str(BIN / "flask"), "--app", app, "run", "--port", str(port), "--no-reload"]
            self._spawn(name, [*args, "--host", "127.0.0.1"], cwd=cwd, env=env)
        else:
            raise ValueError(server)

    def start_procfile_web(
        self, name: str, port: int, app: str = "", env: dict[str, str] | None = None
    ) -> None:
        """``make run``'s web process, as Procfile.dev's ``web:`` line starts it (its last word
        is the app; ``app`` puts another in its place), on ``port``."""
        line = next(
            ln.split(":", 1)[1].strip()
            for ln in (ROOT / "Procfile.dev").read_text().splitlines()
            if ln.startswith("web:")
        )
        words = shlex.split(line)
        if app:
            words[-1] = app
        command = " ".join(shlex.quote(w) if "$" not in w else w for w in words)
        self._spawn(name, ["sh", "-c", f"exec {command}"], env={**(env or {}), "PORT": str(port)})

    def start_web(self, wait: bool = True) -> None:
        self.sink.start()
        self.start_server("web", "petitions:create_app()", self.web_port, "granian")
        self.start_server(
            "baseline", "bench.baseline_app:create_app()", self.baseline_port, "granian"
        )
        if wait:
            self.wait_web()

    def wait_web(self) -> None:
        self.wait_http(f"http://127.0.0.1:{self.web_port}/", "web")
        self.wait_http(f"http://127.0.0.1:{self.baseline_port}/hello", "baseline")

    def start_workers(
        self, count: int | None = None, *, beat: bool = True, concurrency: int | None = None
    ) -> list[str]:
        """Celery workers. ``concurrency`` None: prefork with the settings' concurrency (as in
        the Procfile); 0: ``--pool=solo``, one process doing the work (for per-process figures).
        """
        concurrency = self.settings.worker_concurrency if concurrency is None else concurrency
        pool = ["--pool=solo"] if concurrency == 0 else ["--pool=prefork", f"-c{concurrency}"]
        count = count or self.settings.celery_workers
        names = []
        for index in range(count):
            name = f"worker{index + 1}"
            self._spawn(
                name,
                [
                    str(BIN / "celery"),
                    "-A",
                    "workers",
                    "worker",
                    *pool,
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"bench{index + 1}-{os.getpid()}@%h",
                ],
            )
            names.append(name)
        if beat and "beat" not in self.processes:
            self._spawn(
                "beat",
                [
                    str(BIN / "celery"),
                    "-A",
                    "workers",
                    "beat",
                    "--loglevel=INFO",
                    "-s",
                    str(self.tmp / "beat-schedule"),
                ],
            )
        for name in names:
            self.wait_log(name, "ready.")
        return names

    def stop(self, name: str) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        # Whatever it started and left behind (a server's worker that missed the signal)
        # must not hold the port or its database connections for the next part.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def stop_workers(self) -> None:
        for name in [n for n in self.processes if n.startswith("worker") or n == "beat"]:
            self.stop(name)

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        with contextlib.suppress(Exception):  # the sink may never have started
            self.sink.stop()
        if not os.environ.get("BENCH_KEEP_LOGS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def cpu_seconds(self, name: str) -> float:
        """CPU time used so far by a process and everything it started (its session)."""
        return group_cpu_seconds(self.pid(name))

    def cpu_by_part(self) -> dict[str, float]:
        """CPU seconds used so far by each part on this machine: web, workers (and beat),
        PostgreSQL, Redis, and the benchmark itself (its sink and clients; wrk's own CPU is
        not in it: it has exited when this is read, so the caller adds what it measured)."""
        parts = {"web": 0.0, "workers": 0.0}
        for name in self.processes:
            if name == "web":
                parts["web"] += self.cpu_seconds(name)
            elif name.startswith("worker") or name == "beat":
                parts["workers"] += self.cpu_seconds(name)
        parts["postgres"] = _named_cpu_seconds("postgres")
        parts["redis"] = _named_cpu_seconds("redis-server")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        parts["benchmark"] = usage.ru_utime + usage.ru_stime
        return parts

    def wait_http(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status < 500:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not start:\n{self.log_tail(name)}")

    def wait_log(self, name: str, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        path = self.tmp / f"{name}.log"
        while time.monotonic() < deadline:
            with path.open("rb") as log:
                log.seek(self.log_offsets.get(name, 0))
                seen = log.read().decode(errors="replace")
            if needle in seen:
                return
            if self.processes[name].poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not start:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _cpu_seconds(chosen: Callable[[str, list[str]], bool]) -> float:
    """CPU time (user + system) of every process ``chosen(name, fields)`` picks, from /proc;
    ``fields`` are those after the command: state, ppid, pgrp, ..., utime (12th), stime."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        if chosen(name, fields):
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def group_cpu_seconds(pgid: int) -> float:
    """CPU time of a process group (a part and everything it started)."""
    return _cpu_seconds(lambda _name, fields: int(fields[2]) == pgid)


def _named_cpu_seconds(prefix: str) -> float:
    """CPU time of every process whose name starts with ``prefix`` (a server's processes)."""
    return _cpu_seconds(lambda name, _fields: name.startswith(prefix))


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_BUILD_SCHEMA = """
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text
from petitions import create_app
from petitions.campaigns.demo import create_demo_campaign
from petitions.extensions import db

app = create_app()
with app.app_context():
    how = "migrations"
    try:
        upgrade()
        with db.engine.connect() as conn:
            matches = not compare_metadata(MigrationContext.configure(conn), db.metadata)
    except Exception:
        matches = False
    if not matches:
        # The lead regenerates the migration from the models at the end; until then the
        # benchmark builds its schema straight from the models.
        how = "db.create_all() (the migrations do not match the models yet)"
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
    create_demo_campaign()
    db.session.commit()
    print(how)
"""
