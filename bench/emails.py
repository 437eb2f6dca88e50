"""Confirmation emails per second, and CPU per email, for one worker process, in process.

    python -m bench.emails [--emails 1000] [--rounds 3]

An outbox of unconfirmed signatures is made straight in the database (``bench.generate
.generate_pending``, as signing leaves them); then ``mailer.services.drain`` — what the drain
task runs — sends them into an SMTP sink in *another* process (``aiosmtpd``'s ``Sink``), so the
figures are the worker's own: wall time from the first claim to the last mark-sent, and
``time.process_time()`` per email (template render, token issue, MIME build, SMTP, commits).
The median of ``--rounds`` rounds. Scratch database ``BENCH_EMAIL_DB_NAME`` (default
``petitions_bench_email``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.cpu import HOST, _sqlalchemy_url, fresh_database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the SMTP sink on port {port} did not start")


def _profiler() -> Any:
    from pyinstrument import Profiler  # a dev extra

    profiler = Profiler(interval=0.0005)
    profiler.start()
    return profiler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", metavar="FILE", help="write a pyinstrument profile of the last round (text)"
    )
    args = parser.parse_args(argv)

    from bench.generate import generate_pending
    from petitions import create_app
    from petitions.campaigns.demo import create_demo_campaign
    from petitions.extensions import db
    from petitions.mailer.services import drain

    admin = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    url = fresh_database(admin, os.environ.get("BENCH_EMAIL_DB_NAME", "petitions_bench_email"))
    port = _free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
    )
    try:
        _wait_port(port)
        app = create_app(
            "production",
            SECRET_KEY=secrets.token_hex(32),
            SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(url),
            REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"),
            PUBLIC_URL=f"https://{HOST}",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=port,
            MAIL_USE_TLS=False,
            TASK_DISPATCH=False,
        )
        rates, cpus = [], []
        with app.app_context():
            db.create_all()
            action_id = create_demo_campaign().actions[0].id
            db.session.commit()
            for round_no in range(args.rounds):
                generate_pending(action_id, args.emails)
                db.session.remove()
                profiler = _profiler() if args.profile and round_no == args.rounds - 1 else None
                wall, cpu = time.perf_counter(), time.process_time()
                report = drain(max_batches=100_000)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if profiler is not None:
                    profiler.stop()
                    Path(args.profile).write_text(profiler.output_text(show_all=False))
                if report.sent != args.emails:
                    print(
                        f"round {round_no + 1}: sent {report.sent} of {args.emails}: {report}",
                        file=sys.stderr,
                    )
                rates.append(report.sent / wall)
                cpus.append(cpu * 1000 / max(1, report.sent))
                print(
                    f"round {round_no + 1}/{args.rounds}: {rates[-1]:.0f} emails/s, "
                    f"{cpus[-1]:.2f} ms CPU each",
                    file=sys.stderr,
                )
    finally:
        sink.terminate()
        sink.wait(10)
    rate, cpu = statistics.median(rates), statistics.median(cpus)
    print(f"\nconfirmation emails, one worker process (median of {args.rounds} x {args.emails})")
    met = "met" if rate >= 300 else "NOT met"
    print(f"| emails per second | {rate:.0f} | target >= 300 | {met} |")
    print(f"| CPU per email     | {cpu:.2f} ms | ceiling {1000 / cpu:.0f}/s at one core |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
