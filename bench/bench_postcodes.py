"""The postcode loader at full size: a generated ONSPD-shaped CSV of 2.6 M rows, loaded by
``flask --app petitions geo load-postcodes`` into a scratch database; prints the load's wall
time and the loader process's peak resident memory (must stay under 300 MB).

    python -m bench.bench_postcodes [--rows 2600000] [--keep-file]

Settings: ``BENCH_GEO_DB_NAME`` (default ``petitions_bench_geo``, dropped and made again),
``BENCH_PG_ADMIN_URL``. Run by ``make bench`` after the main benchmark.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_GEO_DB_NAME", "petitions_bench_geo")
LIMIT_MB = 300
HEADER = "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,parish,usertype,oseast1m,osnrth1m,osgrdind,oshlthau,nhser,ctry,rgn,streg,pcon,eer,teclec,ttwa,pct,itl,statsward,oa01,casward,npark,lsoa01,msoa01,ur01ind,oac01,oa11,lsoa11,msoa11,wz11,sicbl,bua24,ru11ind,oac11,lat,long,lep1,lep2,pfa,imd,calncv,icb,oa21,lsoa21,msoa21,ruc21ind,globalid"  # noqa: E501


def generate(path: Path, rows: int) -> None:
    """Distinct, valid-looking postcodes over 650 constituencies, ~3 % terminated."""
    rng = random.Random(12)
    letters = string.ascii_uppercase
    inward = "ABDEFGHJLNPQRSTUWXYZ"
    filler = ",".join(["x"] * 14)
    with path.open("w", newline="") as out:
        out.write(HEADER + "\n")
        n = 0
        for area in (a + b for a in letters for b in letters):
            for district in range(1, 100):
                for sector in range(10):
                    for unit_a in inward:
                        for unit_b in inward:
                            if n >= rows:
                                return
                            pcds = f"{area}{district} {sector}{unit_a}{unit_b}"
                            pcd = f"{area}{district:<2}{sector}{unit_a}{unit_b}"
                            term = "202001" if rng.random() < 0.03 else ""
                            code = f"E14{1063 + n % 650:06d}"
                            out.write(
                                f"{pcd},{pcd},{pcds},198001,{term},{filler},{code},"
                                f"{filler},{filler},51.5,-0.1,,,,,,,,,,,\n"
                            )
                            n += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_600_000)
    parser.add_argument("--keep-file", action="store_true")
    args = parser.parse_args()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    env = dict(os.environ)
    env.update(
        {
            "PETITIONS_ENV": "development",
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}",
            "REDIS_URL": "",
        }
    )
    flask = [sys.executable, "-m", "flask", "--app", "petitions"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "onspd.csv"
        started = time.monotonic()
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} rows ({size_mb:.0f} MB) "
            f"in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.monotonic()
        result = subprocess.run(
            [*flask, "geo", "load-postcodes", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode != 0:
            print(result.stdout, result.stderr, file=sys.stderr)
            raise SystemExit("the loader failed")
        if args.keep_file:
            kept = ROOT / "instance" / "onspd-bench.csv"
            kept.parent.mkdir(exist_ok=True)
            path.replace(kept)
    with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}") as conn:
        loaded = conn.execute("SELECT count(*) FROM geo_postcodes").fetchone()[0]
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT * FROM geo_postcodes WHERE postcode = 'AA1 0AA'"
            ).fetchall()
        )
    del before
    verdict = "OK" if peak_mb < LIMIT_MB else f"OVER {LIMIT_MB} MB"
    print("| postcode load | rows in file | rows loaded | wall time | peak RSS (loader) |")
    print("|---|---|---|---|---|")
    print(
        f"| geo load-postcodes | {args.rows:,} | {loaded:,} | {seconds:.1f} s | "
        f"{peak_mb:.0f} MB ({verdict}) |"
    )
    print("lookup plan: " + ("index scan" if "Index" in plan else plan))
    if peak_mb >= LIMIT_MB:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
