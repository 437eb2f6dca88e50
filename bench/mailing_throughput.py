"""Mailing throughput: emails per second from ONE Celery worker process to a local SMTP sink.

    python -m bench.mailing_throughput [--recipients 3000] [--runs 3]

What it does: creates a scratch PostgreSQL database (``petitions_bench_mail``), fills it with
one campaign and N confirmed, opted-in supporters, starts an SMTP sink in its own process
(aiosmtpd, accepts everything) and one real ``celery -A workers worker --pool=solo`` with the
send rate unthrottled (``MAILING_RATE_PER_SECOND=0``), sends one update mailing and waits for
it to finish. The figure is sent deliveries / (last ``sent_at`` - first ``sent_at``), i.e.
the full per-recipient path: lease, render the text and HTML parts with an unsubscribe link,
one commit before and one after each SMTP transaction, over one connection per batch.

Environment: ``BENCH_PG_ADMIN_URL`` (default postgresql://postgres@127.0.0.1:5432/postgres),
``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/4; it is flushed).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
DB = "petitions_bench_mail"
ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
DB_URL = ADMIN.rsplit("/", 1)[0] + "/" + DB

SINK = """
import sys, time
from aiosmtpd.controller import Controller
class H:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
c = Controller(H(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_database() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


def env_for(port: int, instance: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PETITIONS_ENV": "development",
            "PETITIONS_INSTANCE": instance,
            "DATABASE_URL": DB_URL,
            "REDIS_URL": REDIS_URL,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(port),
            "PUBLIC_URL": "http://localhost",
            "MAILING_RATE_PER_SECOND": "0",
            "MAILING_BATCH_SIZE": "500",
            "MAILING_SWEEP_SECONDS": "3600",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def setup(recipients: int) -> None:
    from sqlalchemy import text

    from petitions import create_app
    from petitions.extensions import db

    app = create_app("development", SQLALCHEMY_DATABASE_URI=DB_URL, REDIS_URL=REDIS_URL)
    with app.app_context():
        db.create_all()
        db.session.execute(
            text(
                "INSERT INTO campaigns (slug, title, summary, body, status, created_at) "
                "VALUES ('bench', 'Bench campaign', '', '', 'live', now())"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO actions (campaign_id, kind, slug, title, text, goal, pledge_options,"
                " thank_you, position, created_at) VALUES (1, 'petition', 'a', 'Bench action', '',"
                " 1000000, '[]', '', 0, now())"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO signatures (action_id, email, email_normalised, email_canonical, name,"
                " postcode, postcode_area, country, comment, wants_updates, source, referrer,"
                " created_at, confirmed_at, suspect, confirm_emails_sent, counted, needs_count)"
                " SELECT 1, 'p' || g || '@example.org', 'p' || g || '@example.org',"
                " 'p' || g || '@example.org',"
                " 'Person ' || g, 'SW1A 1AA', 'SW', 'GB', '', true, '', '', now(), now(), false,"
                " 1, 2, false FROM generate_series(1, :n) AS g"
            ),
            {"n": recipients},
        )
        db.session.execute(
            text(
                "INSERT INTO campaign_updates (campaign_id, title, body, published_at) VALUES"
                " (1, 'Bench update', 'We **won** a hearing. [Read more](https://example.org)',"
                " now())"
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to compare runs on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(run: int, celery_app: object) -> tuple[float, float, int]:
    """Send one mailing; returns (emails/s from sent_at, wall emails/s, sent)."""
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        mailing_id = conn.execute(
            "INSERT INTO mailings (campaign_id, update_id, kind, dedupe_key, subject, status,"
            " created_at, total) VALUES (1, 1, 'update', %s, 'Bench update', 'queued', now(), 0)"
            " RETURNING id",
            (f"bench:{run}:{time.time_ns()}",),
        ).fetchone()[0]
        started = time.monotonic()
        celery_app.send_task("workers.tasks.mailings.send_mailing", args=[mailing_id])  # type: ignore[attr-defined]
        while True:
            status = conn.execute("SELECT status FROM mailings WHERE id = %s", (mailing_id,))
            if status.fetchone()[0] == "done":
                break
            if time.monotonic() - started > 900:
                raise RuntimeError("mailing did not finish in 15 minutes")
            time.sleep(0.2)
        wall = time.monotonic() - started
        sent, first, last = conn.execute(
            "SELECT count(*), min(sent_at), max(sent_at) FROM mailing_deliveries"
            " WHERE mailing_id = %s AND status = 'sent'",
            (mailing_id,),
        ).fetchone()
    span = (last - first).total_seconds() if sent > 1 else float("nan")
    return (sent - 1) / span, sent / wall, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    fresh_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    setup(args.recipients)
    port = free_port()
    instance = tempfile.mkdtemp(prefix="bench-mail-")
    env = env_for(port, instance)
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    log = Path(instance) / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-mail-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        from celery import Celery

        client = Celery(broker=REDIS_URL)
        time.sleep(4)  # let the worker connect
        results = []
        ceilings = []
        for run in range(args.runs):
            cpu_before = cpu_seconds(worker.pid)
            per_second, wall, sent = one_run(run, client)
            cpu = cpu_seconds(worker.pid) - cpu_before
            results.append(per_second)
            ceilings.append(sent / cpu)
            print(
                f"run {run + 1}: {sent} emails, {per_second:.0f}/s while sending, "
                f"{wall:.0f}/s including start-up and recipient listing; worker CPU "
                f"{cpu * 1000 / sent:.1f} ms/email (= {sent / cpu:.0f}/s on a free core)"
            )
        print(
            f"\nmailing throughput, one worker process (solo pool), local SMTP sink, "
            f"{args.recipients} recipients: median {statistics.median(results):.0f} emails/s; "
            f"worker CPU alone would allow {statistics.median(ceilings):.0f}/s "
            f"(load average now {os.getloadavg()[0]:.1f})"
        )
    finally:
        worker.terminate()
        sink.terminate()
        worker.wait(15)
        sink.wait(5)


if __name__ == "__main__":
    main()
