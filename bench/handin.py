"""How long the hand-in PDF takes, and how much memory, for an action with many signatures.

    .venv/bin/python -m bench.handin                      # 100,000 signatures
    .venv/bin/python -m bench.handin --count 1000 --grouping area

Uses a scratch PostgreSQL database (default ``petitions_bench_handin``, dropped and re-created),
fills one action with ``bench.generate`` (rows made in PostgreSQL by generate_series, names
including Welsh and other Latin-script letters) plus a few paper signatures and a tally, then
runs the export worker's job for a hand-in PDF in a fresh child process (as a worker would) and
reports its wall and CPU time, the pages, the file size, and the child's memory: resident after
start-up (app created, nothing built) and its peak (ru_maxrss) by the end.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(url: str, folder: str, job_id: int) -> None:
    """In the child: build one hand-in job and print what it measured."""
    from petitions import create_app
    from petitions.exports import jobs, services
    from petitions.extensions import db

    app = create_app(SQLALCHEMY_DATABASE_URI=url, TASK_DISPATCH=False, EXPORT_DIR=folder)
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        services.handin.register_fonts()
        start_mb = _resident_mb()
        started = time.perf_counter()
        cpu = time.process_time()
        name = jobs.run_export(job_id)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        db.engine.dispose()
    print(f"{name} {seconds:.3f} {cpu:.3f} {start_mb:.1f} {peak:.1f}")


def run(count: int, grouping: str, database: str) -> dict[str, Any]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"

    from sqlalchemy import text

    from bench.generate import bench_action, generate
    from petitions import create_app
    from petitions.core.time import utcnow
    from petitions.exports import services
    from petitions.exports.models import ExportJob
    from petitions.extensions import db
    from petitions.paper.models import OfflineTally, PaperSignature

    folder = Path(tempfile.mkdtemp(prefix="handin-bench-"))
    app = create_app(SQLALCHEMY_DATABASE_URI=url, TASK_DISPATCH=False, EXPORT_DIR=str(folder))
    with app.app_context():
        db.create_all()
        action_id = bench_action()
        generate(action_id, count, reconcile=False)
        # Names a hand-in must print right: Welsh, Irish, Scandinavian, Central European.
        db.session.execute(
            text(
                "UPDATE signatures SET name = (ARRAY['Siân Llŷr','Gwenllïan Ŵyn','Seán Ó Dálaigh',"
                "'Bo Ørsted','Zoë Łukasiewicz','Ana Müller-Schäfer','Dafydd ap Gruffydd'])"
                "[1 + id % 7] WHERE id % 3 = 0"
            )
        )
        for i in range(50):
            db.session.add(
                PaperSignature(
                    action_id=action_id,
                    name=f"Paper Signer {i}",
                    postcode="CF10 1AA",
                    postcode_area="CF",
                    consent_on_paper=True,
                    collected_on=utcnow().date(),
                )
            )
        db.session.add(
            OfflineTally(
                action_id=action_id, count=1234, source="Stall", collected_on=utcnow().date()
            )
        )
        job = ExportJob(
            action_id=action_id,
            kind="handin",
            grouping=grouping,
            status="queued",
            expires_at=utcnow() + services.ttl(),
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.engine.dispose()
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.handin",
                "--build",
                str(job_id),
                "--url",
                url,
                "--folder",
                str(folder),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        name, seconds_s, cpu_s, start_s, peak_s = child.stdout.split()[-5:]
        path = folder / name
        size = path.stat().st_size
        from pypdf import PdfReader

        pages = len(PdfReader(str(path)).pages)
        db.engine.dispose()
    path.unlink(missing_ok=True)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return {
        "signatures": count + 50,
        "seconds": float(seconds_s),
        "cpu_seconds": float(cpu_s),
        "pages": pages,
        "size_mb": size / 1e6,
        "start_mb": float(start_s),
        "peak_mb": float(peak_s),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--grouping", choices=["", "area"], default="")
    parser.add_argument("--database", default="petitions_bench_handin")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # the child's job id
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        build(args.url, args.folder, args.build)
        return 0
    result = run(args.count, args.grouping, args.database)
    print(
        f"hand-in PDF of {result['signatures']:,} signatures"
        f"{' grouped by area' if args.grouping else ''}: {result['seconds']:.1f} s "
        f"({result['cpu_seconds']:.1f} s CPU), {result['pages']:,} pages, "
        f"{result['size_mb']:.1f} MB; worker memory {result['start_mb']:.0f} MB after start-up, "
        f"peak {result['peak_mb']:.0f} MB (+{result['peak_mb'] - result['start_mb']:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
