"""The whole-pipeline benchmark: ``python -m bench.run`` (``--smoke`` for a quick check).

Starts a production-shaped stack (bench/stack.py), loads it with wrk, and prints one table.
Every figure is the median of several runs; timings are also given as a ratio to a baseline
measured in the same run (bench/baseline_app.py). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench.load import Browser, csrf_pool, run_wrk
from bench.stack import ROOT, Stack, StackSettings

CAMPAIGN = "forced-labour-free-supply-chains"
ACTION = "carmakers-trace-your-supply-chains"
ACTION_PATH = f"/c/{CAMPAIGN}/{ACTION}"
COUNT_PATH = f"/api/v1/campaigns/{CAMPAIGN}/actions/{ACTION}/count"


@dataclass(frozen=True)
class Plan:
    runs: int
    seconds: float
    clients: tuple[int, ...]
    emails: int
    big: int
    pool: int
    weeks: int = 8
    web_workers: int = 4


FULL = Plan(runs=3, seconds=8, clients=(16, 64), emails=1000, big=1_000_000, pool=128)
SMOKE = Plan(
    runs=1, seconds=2, clients=(4, 8), emails=60, big=5_000, pool=8, weeks=1, web_workers=2
)


@dataclass
class Row:
    figure: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.rows.append(Row(*args, **kwargs))

    def render(self) -> str:
        head = Row("figure", "measured (median)", "baseline", "ratio", "target", "met")
        rows = [head, *self.rows]
        cols = ["figure", "value", "baseline", "ratio", "target", "met"]
        widths = [max(len(getattr(r, c)) for r in rows) for c in cols]
        lines = []
        for index, row in enumerate(rows):
            cells = [getattr(row, c).ljust(w) for c, w in zip(cols, widths, strict=True)]
            lines.append("| " + " | ".join(cells) + " |")
            if index == 0:
                lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(lines + [""] + [f"- {note}" for note in self.notes])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def yes(ok: bool) -> str:
    return "yes" if ok else "NO"


class Bench:
    def __init__(self, plan: Plan, smoke: bool) -> None:
        self.plan = plan
        self.smoke = smoke
        settings = StackSettings()
        if "BENCH_WEB_WORKERS" not in os.environ:
            settings.web_workers = plan.web_workers
        self.stack = Stack(settings, log=self.say)
        self.report = Report()
        self.started = time.monotonic()
        self.db_url = self.stack.settings.database_url
        self.action_id = 0
        self.count_label = "public count endpoint"
        self.runs_started = 0

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    def sql(self, query: str, params: Any = None) -> Any:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def sql_one(self, query: str, params: Any = None) -> Any:
        return self.sql(query, params)[0][0]

    # --- set-up ---------------------------------------------------------------------------

    def setup(self) -> None:
        stack = self.stack
        self.say(f"fresh database {stack.settings.db_name}, schema, demo campaign")
        how = stack.fresh_database()
        self.report.notes.append(f"schema built by {how}")
        self.action_id = self.sql_one(
            "SELECT a.id FROM actions a JOIN campaigns c ON c.id = a.campaign_id"
            " WHERE c.slug = %s AND a.slug = %s",
            (CAMPAIGN, ACTION),
        )
        self.say(
            "starting gunicorn (app + baseline), celery worker and beat, SMTP sink;"
            f" logs in {stack.tmp}"
        )
        stack.start_web(wait=False)
        stack.start_workers()
        stack.wait_web()
        self.pool = csrf_pool(stack.web_port, ACTION_PATH, self.plan.pool, stack.tmp / "pool.lua")
        # The visitors "fill in" the form for longer than the abuse checks' minimum.
        self.pool_ready_at = time.monotonic() + 3.5

        status, _, _ = Browser(stack.web_port).get(COUNT_PATH)
        if status != 200:
            self.count_label = "public action page (no count endpoint yet)"
            self.report.notes.append(f"{COUNT_PATH} answered {status}: measured the action page")

    def sign_args(self, path: str) -> list[str]:
        """Arguments for wrk/sign.lua: distinct emails and client addresses on every run."""
        self.runs_started += 1
        return [path, str(self.pool), secrets.token_hex(3), str(self.runs_started)]

    def public_count(self) -> Callable[[], int]:
        if self.count_label.startswith("public count endpoint"):
            browser = Browser(self.stack.web_port)

            def read() -> int:
                _, body, _ = browser.get(COUNT_PATH)
                return int(json.loads(body)["confirmed"])

            return read
        return lambda: int(
            self.sql_one(
                "SELECT confirmed FROM action_tallies WHERE action_id = %s", (self.action_id,)
            )
        )

    def wait_quiet(self, timeout: float = 60) -> bool:
        """Wait until the workers have sent every email and folded every signature."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            outbox = self.sql_one(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            )
            unfolded = self.sql_one("SELECT count(*) FROM signatures WHERE needs_count")
            if outbox == 0 and unfolded == 0:
                return True
            time.sleep(0.3)
        return False

    def signatures(self) -> int:
        return int(
            self.sql_one("SELECT count(*) FROM signatures WHERE action_id = %s", (self.action_id,))
        )

    # --- 1 and 3: signing throughput and count lag ----------------------------------------

    def signing(self) -> None:
        plan, stack = self.plan, self.stack
        time.sleep(max(0.0, self.pool_ready_at - time.monotonic()))
        web = f"http://127.0.0.1:{stack.web_port}"
        baseline = f"http://127.0.0.1:{stack.baseline_port}"
        lags: list[float] = []
        for clients in plan.clients:
            ours: list[float] = []
            base: list[float] = []
            p50s: list[float] = []
            p99s: list[float] = []
            base_p99s: list[float] = []
            cpu: list[float] = []
            base_cpu: list[float] = []
            errors = 0
            for rep in range(plan.runs):
                self.wait_quiet()
                cpu_before = stack.cpu_seconds("baseline")
                b = run_wrk(baseline, clients, plan.seconds, "sign.lua", self.sign_args("/insert"))
                base.append(b.ok_per_second)
                base_cpu.append(
                    (stack.cpu_seconds("baseline") - cpu_before) * 1000 / max(1, b.requests)
                )
                base_p99s.append(b.p99_ms)
                self.wait_quiet()
                before = self.signatures()
                prober = LagProber(self, enabled=clients == max(plan.clients))
                prober.start()
                cpu_before = stack.cpu_seconds("web")
                r = run_wrk(web, clients, plan.seconds, "sign.lua", self.sign_args(ACTION_PATH))
                cpu_used = stack.cpu_seconds("web") - cpu_before
                prober.stop()
                lags += prober.lags
                accepted = self.signatures() - before
                cpu.append(cpu_used * 1000 / max(1, accepted))
                ours.append(accepted / r.seconds)
                p50s.append(r.p50_ms)
                p99s.append(r.p99_ms)
                errors += r.errors
                self.say(
                    f"signing c={clients} run {rep + 1}: {accepted / r.seconds:.0f}/s "
                    f"(p50 {r.p50_ms:.0f} ms, p99 {r.p99_ms:.0f} ms, {r.errors} errors); "
                    f"baseline {b.ok_per_second:.0f}/s"
                )
            ratio = median(ours) / median(base)
            self.report.add(
                f"1. signatures accepted/s, {clients} clients",
                f"{median(ours):.0f}/s, p50 {median(p50s):.0f} ms, p99 {median(p99s):.0f} ms",
                f"{median(base):.0f}/s, p99 {median(base_p99s):.0f} ms",
                f"{ratio:.2f}",
                ">= 0.60" + (", p99 < 100 ms" if clients >= 64 else ""),
                yes(ratio >= 0.6 and (clients < 64 or median(p99s) < 100)),
            )
            self.report.add(
                f"   web CPU per signature, {clients} clients",
                f"{median(cpu):.1f} ms",
                f"{median(base_cpu):.1f} ms",
                f"{median(base_cpu) / median(cpu):.2f}",
            )
            if errors:
                self.report.notes.append(f"signing at {clients} clients: {errors} HTTP errors")
        # Counts exactly right afterwards?
        quiet = self.wait_quiet(120)
        wrong = self.sql(
            """
            SELECT a.id FROM actions a
            LEFT JOIN action_tallies t ON t.action_id = a.id
            LEFT JOIN (
                SELECT action_id,
                       count(*) FILTER (WHERE confirmed_at IS NOT NULL) AS confirmed,
                       count(*) FILTER (WHERE confirmed_at IS NULL) AS pending
                FROM signatures
                WHERE invalidated_at IS NULL AND withdrawn_at IS NULL AND NOT suspect
                GROUP BY action_id
            ) s ON s.action_id = a.id
            WHERE coalesce(t.confirmed, 0) <> coalesce(s.confirmed, 0)
               OR coalesce(t.pending, 0) <> coalesce(s.pending, 0)
            """
        )
        exact = quiet and not wrong
        suspect = self.sql_one("SELECT count(*) FROM signatures WHERE suspect")
        if suspect:
            self.report.notes.append(
                f"{suspect} signatures were marked suspect by the abuse checks"
            )
        self.report.add(
            f"3. count lag at full signing load ({max(plan.clients)} clients)",
            (
                f"{median(lags):.2f} s (max {max(lags):.2f} s, {len(lags)} probes)"
                if lags
                else "no probe completed"
            ),
            "",
            "",
            "< 5 s, exact after",
            yes(bool(lags) and max(lags) < 5 and exact),
        )
        self.report.notes.append(
            "counts after the load: "
            + ("exactly equal to the signature table" if exact else f"WRONG for actions {wrong}")
            + f" (count read from the {self.count_label.split(' (')[0]})"
        )

    # --- 2: confirmation emails per worker process ----------------------------------------

    def emails(self) -> None:
        plan, stack = self.plan, self.stack
        rates: list[float] = []
        for rep in range(plan.runs):
            stack.stop_workers()
            target = plan.emails
            self.say(f"emails run {rep + 1}: an outbox of {target} made with the workers stopped")
            stack.python(
                "-m",
                "bench.generate",
                "--pending",
                "--count",
                str(target),
                "--action-id",
                str(self.action_id),
            )
            pending = self.sql_one(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            )
            stack.sink.mark()
            stack.start_workers(1, concurrency=0)  # one process; beat queues the sweeps
            deadline = time.monotonic() + 300
            while stack.sink.count < pending and time.monotonic() < deadline:
                time.sleep(0.1)
            sink = stack.sink
            rate = (sink.count - 1) / (sink.last_at - sink.first_at) if sink.count > 1 else 0.0
            rates.append(rate)
            self.say(f"emails run {rep + 1}: {sink.count}/{pending} delivered at {rate:.0f}/s")
        stack.stop_workers()
        stack.start_workers()
        dupes = stack.sink.duplicates()
        self.report.add(
            "2. confirmation emails delivered/s, 1 worker process",
            f"{median(rates):.0f}/s (outbox of {plan.emails})",
            "",
            "",
            ">= 200/s",
            yes(median(rates) >= 200 and dupes == 0),
        )
        self.report.notes.append(
            f"duplicate emails caught by the SMTP sink over the whole run: {dupes}"
        )

    # --- 4: public count endpoint vs hello ------------------------------------------------

    def count_endpoint(self) -> None:
        plan, stack = self.plan, self.stack
        clients = max(plan.clients)
        self.wait_quiet()
        path = COUNT_PATH if self.count_label.startswith("public count") else ACTION_PATH
        ours, hello = [], []
        for _ in range(plan.runs):
            h = run_wrk(
                f"http://127.0.0.1:{stack.baseline_port}/hello", clients, plan.seconds, "get.lua"
            )
            r = run_wrk(
                f"http://127.0.0.1:{stack.web_port}{path}", clients, plan.seconds, "get.lua"
            )
            hello.append(h.ok_per_second)
            ours.append(r.ok_per_second)
        ratio = median(ours) / median(hello)
        self.report.add(
            f"4. {self.count_label} req/s",
            f"{median(ours):.0f}/s",
            f"hello {median(hello):.0f}/s",
            f"{ratio:.2f}",
            ">= 0.80",
            yes(ratio >= 0.8),
        )

    # --- 5 and 6: a million signatures ----------------------------------------------------

    def million(self) -> None:
        n = self.plan.big
        self.say(f"generating {n:,} confirmed signatures (bench/generate.py)")
        started = time.monotonic()
        done = self.stack.python(
            "-m", "bench.generate", "--count", str(n), "--weeks", str(self.plan.weeks)
        )
        found = re.search(rb"action (\d+):", done.stdout)
        if not found:
            raise RuntimeError(done.stdout.decode() + done.stderr.decode())
        self.big_action = int(found.group(1))
        self.report.notes.append(
            f"generated {n:,} confirmed signatures in {time.monotonic() - started:.0f} s"
        )
        self.dashboard()
        self.export()

    def dashboard(self) -> None:
        n, stack = self.plan.big, self.stack
        password = secrets.token_urlsafe(16)
        prepared = stack.python(
            "-c", _PREPARE_ORGANISER, str(self.big_action), env={"BENCH_PASSWORD": password}
        )
        info = json.loads(prepared.stdout.decode().strip().splitlines()[-1])
        self.organiser_id = int(info["organiser_id"])
        path = f"/organise/campaigns/{info['campaign_id']}/actions/{self.big_action}/dashboard"
        browser = Browser(stack.web_port, forwarded_for="192.0.2.2")
        token = browser.csrf_from("/organise/login")
        browser.post_form(
            "/organise/login",
            {"csrf_token": token, "email": info["email"], "password": password},
        )
        status, _, _ = browser.get(path)
        if status == 200:
            times = []
            for _ in range(self.plan.runs * 3):
                started = time.perf_counter()
                status, _, _ = browser.get(path)
                times.append((time.perf_counter() - started) * 1000)
            label = f"5. organiser dashboard page, {n:,} signatures"
        else:
            self.report.notes.append(
                f"{path} answered {status}: figure 5 times dashboard_for() in one process"
            )
            done = stack.python("-c", _TALLY_QUERIES, str(self.big_action), str(self.plan.runs * 3))
            times = [float(v) for v in done.stdout.decode().split()]
            label = f"5. dashboard queries (in process), {n:,} signatures"
        self.report.add(
            label,
            f"{median(times):.0f} ms (max {max(times):.0f} ms)",
            "",
            "",
            "< 300 ms",
            yes(median(times) < 300),
        )

    def export(self) -> None:
        n, stack = self.plan.big, self.stack
        label = f"6. CSV export, {n:,} rows"
        if not (ROOT / "workers" / "tasks" / "exports.py").exists():
            self.report.add(
                label, "not measured (no export task yet)", "", "", "< 200 MB peak", "-"
            )
            return
        # A fresh worker, one process doing the work, so its peak memory is this export's.
        stack.stop_workers()
        stack.start_workers(1, concurrency=0)
        worker = stack.pid("worker1")
        rss_before = _memory_kb(worker, "VmRSS")
        queued = stack.python(
            "-c", _QUEUE_EXPORT, str(self.big_action), str(getattr(self, "organiser_id", 0))
        )
        job_id = int(queued.stdout.decode().strip().splitlines()[-1])
        started = time.monotonic()
        status = "queued"
        while time.monotonic() - started < 600:
            status, seconds, rows = self.sql(
                "SELECT status, extract(epoch FROM finished_at - started_at), total"
                " FROM export_jobs WHERE id = %s",
                (job_id,),
            )[0]
            if status in ("done", "failed"):
                break
            time.sleep(0.2)
        peak = _memory_kb(worker, "VmHWM")
        if status != "done":
            self.report.add(label, f"export {status}", "", "", "< 200 MB peak", "NO")
            return
        self.report.add(
            label,
            f"{float(seconds):.1f} s, worker peak RSS {peak / 1024:.0f} MB"
            f" (was {rss_before / 1024:.0f} MB before)",
            "",
            "",
            "< 200 MB peak",
            yes(peak / 1024 < 200),
        )
        self.report.notes.append(
            f"export wrote {rows:,} rows (one run: it is minutes, not seconds)"
        )

    # --- all ------------------------------------------------------------------------------

    def run(self) -> Report:
        try:
            self.setup()
            self.signing()
            self.count_endpoint()
            self.emails()
            self.million()
        finally:
            self.stack.close()
        self.report.notes.append(f"total wall time {time.monotonic() - self.started:.0f} s")
        return self.report


class LagProber(threading.Thread):
    """During a signing run: confirm one signature at a time and time until the count shows it."""

    def __init__(self, bench: Bench, enabled: bool) -> None:
        super().__init__(daemon=True)
        self.bench = bench
        self.enabled = enabled
        self.lags: list[float] = []
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        self.join(30)

    def run(self) -> None:
        if not self.enabled:
            return
        bench = self.bench
        read = bench.public_count()
        browser = Browser(bench.stack.web_port, forwarded_for="192.0.2.1")
        token = browser.csrf_from(ACTION_PATH)
        time.sleep(bench.plan.seconds / 4)
        while not self.stopping.is_set():
            tokens = bench.stack.sink.take_tokens(1)
            if not tokens:
                time.sleep(0.1)
                continue
            before = read()
            status, _, _ = browser.post_form(f"/confirm/{tokens[0]}", {"csrf_token": token})
            confirmed_at = time.monotonic()
            if status != 200:
                continue
            deadline = confirmed_at + 30
            while time.monotonic() < deadline:
                if read() > before:
                    self.lags.append(time.monotonic() - confirmed_at)
                    break
                time.sleep(0.05)
            time.sleep(0.3)


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


_PREPARE_ORGANISER = """
import json, os, sys
from petitions import create_app
from petitions.campaigns.models import Action
from petitions.extensions import db
from petitions.organisers.services import create_organiser
app = create_app()
with app.app_context():
    email = "bench-admin@example.org"
    organiser = create_organiser(email, os.environ["BENCH_PASSWORD"], admin=True, name="Bench")
    db.session.commit()
    action = db.session.get(Action, int(sys.argv[1]))
    print(json.dumps({"organiser_id": organiser.id, "campaign_id": action.campaign_id,
                      "email": email}))
"""

_QUEUE_EXPORT = """
import sys
from petitions import create_app
from petitions.campaigns.models import Action
from petitions.exports import services
from petitions.extensions import db
app = create_app()
with app.app_context():
    action = db.session.get(Action, int(sys.argv[1]))
    job = services.request_export(action, int(sys.argv[2]))
    db.session.commit()
    services.dispatch(job.id)
    print(job.id)
"""

_TALLY_QUERIES = """
import sys, time
from petitions import create_app
from petitions.campaigns.models import Action
from petitions.dashboards.queries import dashboard_for
from petitions.extensions import db
app = create_app()
action_id, repeats = int(sys.argv[1]), int(sys.argv[2])
with app.app_context():
    for i in range(repeats + 1):
        started = time.perf_counter()
        dashboard_for([db.session.get(Action, action_id)])
        db.session.rollback()
        if i:
            print(f"{(time.perf_counter() - started) * 1000:.2f}")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the whole petitions pipeline.")
    parser.add_argument("--smoke", action="store_true", help="a small, quick run (CI)")
    parser.add_argument("--runs", type=int, help="repetitions per figure")
    parser.add_argument("--seconds", type=float, help="length of each load run")
    parser.add_argument("--big", type=int, help="signatures for the dashboard/export figures")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    overrides = {
        k: v for k, v in (("runs", args.runs), ("seconds", args.seconds), ("big", args.big)) if v
    }
    if overrides:
        plan = Plan(**{**plan.__dict__, **overrides})
    report = Bench(plan, smoke=args.smoke).run()
    print()
    print(
        f"petitions benchmark ({'smoke' if args.smoke else 'full'}: {plan.runs} run(s) per figure,"
        f" {plan.seconds:g} s each)"
    )
    print(report.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
