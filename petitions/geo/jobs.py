"""Loading the postcode and representative files. This module owns its transactions.

``load_postcodes`` streams a CSV row by row (constant memory however large the file) into a
staging table, builds its primary key, then swaps it for ``geo_postcodes`` in one
transaction: readers see the old table until the commit and the new one after it, never a
half-loaded one, and loading the same file twice gives the same table. On PostgreSQL the rows
go through ``COPY`` (the whole ~2.6 M-row ONS Postcode Directory loads in well under two
minutes; bench/bench_postcodes.py measures it); on SQLite (``make run``) in batches.

Accepted files (the header row names the columns; case does not matter):

* ONS Postcode Directory / National Statistics Postcode Lookup: ``pcds`` (or ``pcd``/``pcd7``/
  ``pcd8``), ``pcon`` (or ``pcon24cd``/``pcon25cd``), and ``doterm`` (rows of terminated
  postcodes are skipped). Constituency names come from ``pconnm``/``pcon24nm`` if present,
  otherwise from the representatives file.
* mySociety's postcode → constituency lookup: ``postcode``, ``constituency_code`` (or
  ``gss_code``/``pcon``) and optionally ``constituency_name``. A postcode listed with two
  constituencies is kept with both (the supporter chooses).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from petitions.core import unit_of_work
from petitions.core.emails import EmailError, normalise_email
from petitions.core.text import has_control_chars
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.geo.models import Constituency, Representative
from petitions.geo.postcodes import compact, is_full, nation_of

POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8", "postcode", "pc")
CODE_COLUMNS = ("pcon", "pcon25cd", "pcon24cd", "pcon10cd", "constituency_code", "gss_code", "gss")
NAME_COLUMNS = ("pconnm", "pcon25nm", "pcon24nm", "constituency_name", "constituency")
BATCH = 10_000


class LoadError(ValueError):
    """The file cannot be loaded; the message says why."""


@dataclass
class LoadReport:
    rows_read: int = 0
    rows_loaded: int = 0
    skipped: int = 0
    constituencies: int = 0


def _pick(header: list[str], names: Iterable[str]) -> int | None:
    lowered = [h.strip().lower().lstrip("\ufeff") for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _rows(path: Path, report: LoadReport, names: dict[str, str]) -> Iterator[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise LoadError("The file is empty.")
        pc_at = _pick(header, POSTCODE_COLUMNS)
        code_at = _pick(header, CODE_COLUMNS)
        if pc_at is None or code_at is None:
            raise LoadError(
                "No postcode and constituency columns found: expected e.g. 'pcds' and 'pcon' "
                "(ONSPD/NSPL) or 'postcode' and 'constituency_code' (mySociety)."
            )
        name_at = _pick(header, NAME_COLUMNS)
        term_at = _pick(header, ("doterm",))
        width = max(i for i in (pc_at, code_at, name_at, term_at) if i is not None) + 1
        for row in reader:
            report.rows_read += 1
            if len(row) < width or (term_at is not None and row[term_at].strip()):
                report.skipped += 1
                continue
            postcode = compact(row[pc_at])
            code = row[code_at].strip().upper()
            if not is_full(postcode) or not code or len(code) > 16 or not code.isalnum():
                report.skipped += 1
                continue
            if name_at is not None and code not in names:
                name = row[name_at].strip()[:120]
                if name:
                    names[code] = name
            report.rows_loaded += 1
            yield postcode, code


def load_postcodes(
    path: Path, progress: Callable[[int], None] | None = None, every: int = 250_000
) -> LoadReport:
    """Replace ``geo_postcodes`` with the file's contents. Commits."""
    report = LoadReport()
    names: dict[str, str] = {}
    engine = db.engine
    postgres = engine.dialect.name == "postgresql"
    db.session.remove()

    def counted(rows: Iterator[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        for n, row in enumerate(rows, 1):
            if progress and n % every == 0:
                progress(n)
            yield row

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("DROP TABLE IF EXISTS geo_postcodes_load")
        unlogged = "UNLOGGED " if postgres else ""
        cursor.execute(
            f"CREATE {unlogged}TABLE geo_postcodes_load (postcode VARCHAR(8) NOT NULL, "
            "constituency_code VARCHAR(16) NOT NULL)"
        )
        rows = counted(_rows(path, report, names))
        if postgres:
            with cursor.copy(  # type: ignore[attr-defined]
                "COPY geo_postcodes_load (postcode, constituency_code) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            # Rows repeated in the file collapse here; the key is built once, after the load.
            cursor.execute("DROP TABLE IF EXISTS geo_postcodes_next")
            cursor.execute(
                "CREATE TABLE geo_postcodes_next AS SELECT DISTINCT postcode, constituency_code "
                "FROM geo_postcodes_load"
            )
            cursor.execute("DROP TABLE geo_postcodes_load")
            cursor.execute(
                "ALTER TABLE geo_postcodes_next ALTER COLUMN postcode SET NOT NULL, "
                "ALTER COLUMN constituency_code SET NOT NULL"
            )
            cursor.execute(
                "ALTER TABLE geo_postcodes_next ADD CONSTRAINT geo_postcodes_next_pkey "
                "PRIMARY KEY (postcode, constituency_code)"
            )
            cursor.execute("ANALYZE geo_postcodes_next")
            # The swap, inside the same transaction: lookups see the old table or the new one.
            cursor.execute("DROP TABLE IF EXISTS geo_postcodes")
            cursor.execute("ALTER TABLE geo_postcodes_next RENAME TO geo_postcodes")
            cursor.execute("ALTER INDEX geo_postcodes_next_pkey RENAME TO pk_geo_postcodes")
        else:
            batch: list[tuple[str, str]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    cursor.executemany("INSERT INTO geo_postcodes_load VALUES (?, ?)", batch)
                    batch.clear()
            if batch:
                cursor.executemany("INSERT INTO geo_postcodes_load VALUES (?, ?)", batch)
            cursor.execute("DELETE FROM geo_postcodes")
            cursor.execute("INSERT OR IGNORE INTO geo_postcodes SELECT * FROM geo_postcodes_load")
            cursor.execute("DROP TABLE geo_postcodes_load")
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    report.constituencies = _save_names(names)
    return report


def _save_names(names: dict[str, str]) -> int:
    for code, name in names.items():
        found = db.session.get(Constituency, code)
        if found is None:
            db.session.add(Constituency(code=code, name=name, nation=nation_of(code)))
        else:
            found.name = name
    unit_of_work.commit()
    return len(names)


def _clean(value: Any, limit: int) -> str:
    value = "" if value is None else str(value).strip()
    if has_control_chars(value):
        raise LoadError(f"A value has line breaks or control characters: {value[:40]!r}")
    return value[:limit]


def _records(path: Path) -> list[dict[str, Any]]:
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json" or raw.lstrip().startswith(("[", "{")):
        data = json.loads(raw)
        if isinstance(data, dict):
            data = data.get("representatives") or data.get("results") or []
        if not isinstance(data, list):
            raise LoadError("A JSON file must hold a list of representatives.")
        return [
            {str(k).lower(): v for k, v in item.items()} for item in data if isinstance(item, dict)
        ]
    return [
        {(k or "").strip().lower(): v for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(raw))
    ]


def _get(record: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if record.get(key) not in (None, ""):
            return record[key]
    return ""


def load_representatives(path: Path) -> LoadReport:
    """Upsert representatives (and constituency names) from a CSV or JSON file. Commits.

    Columns: constituency code (``constituency_code``/``gss_code``/``pcon``), ``name``,
    ``party``, ``email``, optional ``constituency_name``, ``photo_url``, ``contact_url``.
    A bad email refuses the whole file (nothing is half-loaded).
    """
    report = LoadReport()
    records = _records(path)
    clean: list[dict[str, str]] = []
    for n, record in enumerate(records, 2):
        report.rows_read += 1
        code = _clean(_get(record, "constituency_code", "gss_code", "gss", "pcon"), 16).upper()
        name = _clean(_get(record, "name", "member", "mp_name"), 120)
        if not code or not name:
            raise LoadError(f"Row {n}: a constituency code and a name are needed.")
        email = _clean(_get(record, "email", "email_address"), 254)
        if email:
            try:
                normalise_email(email)
            except EmailError as exc:
                raise LoadError(f"Row {n}: {exc}") from exc
        clean.append(
            {
                "code": code,
                "name": name,
                "party": _clean(_get(record, "party"), 80),
                "email": email,
                "photo_url": _clean(_get(record, "photo_url", "photo"), 500),
                "contact_url": _clean(_get(record, "contact_url", "url", "contact_page"), 500),
                "constituency_name": _clean(_get(record, "constituency_name", "constituency"), 120),
            }
        )
    for item in clean:
        constituency = db.session.get(Constituency, item["code"])
        if constituency is None:
            constituency = Constituency(
                code=item["code"], name=item["constituency_name"] or item["code"]
            )
            constituency.nation = nation_of(item["code"])
            db.session.add(constituency)
            report.constituencies += 1
        elif item["constituency_name"]:
            constituency.name = item["constituency_name"]
        member = db.session.get(Representative, item["code"])
        if member is None:
            member = Representative(constituency_code=item["code"])
            db.session.add(member)
        member.name = item["name"]
        member.party = item["party"]
        member.email = item["email"]
        member.photo_url = item["photo_url"]
        member.contact_url = item["contact_url"]
        member.updated_at = utcnow()
        report.rows_loaded += 1
    unit_of_work.commit()
    return report
