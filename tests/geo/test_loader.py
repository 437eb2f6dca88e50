"""The postcode and representative loaders: formats, normalisation, idempotence, the atomic
swap, split postcodes, bad files refused whole; a lookup is one query."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from petitions.extensions import db
from petitions.geo import jobs, queries
from petitions.geo.models import PostcodeArea, Representative
from petitions.geo.postcodes import compact, is_full, is_partial, pretty


def test_postcode_normalisation():
    assert compact(" sw1a\u00a01aa ") == "SW1A1AA"
    assert pretty("sw1a1aa") == "SW1A 1AA"
    assert is_full("gu11 1aa") and not is_full("GU11")
    assert is_partial("GU11") and is_partial("GU11 1") and not is_partial("GU11 1AA")


def _onspd(tmp_path, rows):  # type: ignore[no-untyped-def]
    path = tmp_path / "onspd.csv"
    lines = ["pcd,pcd2,pcds,dointr,doterm,pcon,lat"]
    lines += [f"{p.replace(' ', '')},{p},{p},199801,{term},{code},51.2" for p, term, code in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_onspd_load_replaces_the_table_and_is_idempotent(app_ctx, tmp_path):
    path = _onspd(
        tmp_path,
        [
            ("GU11 1AA", "", "E14001063"),
            ("GU11 1AB", "", "E14001063"),
            ("GU11 9ZZ", "200512", "E14001063"),  # terminated: skipped
            ("not a postcode", "", "E14001063"),
        ],
    )
    seen = []
    report = jobs.load_postcodes(path, progress=seen.append, every=1)
    assert report.rows_loaded == 2 and report.skipped == 2 and seen == [1, 2]
    jobs.load_postcodes(path)
    assert db.session.scalar(select(func.count()).select_from(PostcodeArea)) == 2
    other = _onspd(tmp_path, [("WS9 8AA", "", "E14001064")])
    jobs.load_postcodes(other)
    assert [p.code for p in queries.lookup("ws98aa")] == ["E14001064"]
    assert queries.lookup("GU11 1AA") == []  # the previous load was replaced, not merged


def test_mysociety_file_keeps_split_postcodes_and_names(app_ctx, tmp_path):
    path = tmp_path / "mysociety.csv"
    path.write_text(
        "postcode,constituency_code,constituency_name\n"
        "WA15 0ZZ,E14001064,Aldridge-Brownhills\n"
        "wa150zz,E14001065,Altrincham and Sale West\n"
        "WA15 0ZZ,E14001065,Altrincham and Sale West\n"
    )
    report = jobs.load_postcodes(path)
    assert report.constituencies == 2
    places = queries.lookup("WA15 0ZZ")
    assert [p.name for p in places] == ["Aldridge-Brownhills", "Altrincham and Sale West"]


def test_a_lookup_is_one_query(app_ctx, tmp_path):
    jobs.load_postcodes(_onspd(tmp_path, [("GU11 1AA", "", "E14001063")]))
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        queries.lookup("GU11 1AA")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_a_file_without_the_columns_is_refused(app_ctx, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(jobs.LoadError, match="No postcode and constituency columns"):
        jobs.load_postcodes(path)


def test_representatives_from_json_and_a_bad_email_refuses_the_file(app_ctx, tmp_path):
    path = tmp_path / "mps.json"
    path.write_text(
        json.dumps(
            [
                {
                    "constituency_code": "E14001063",
                    "constituency_name": "Aldershot",
                    "name": "Alex Rowan MP",
                    "party": "Independent",
                    "email": "alex@example.org",
                }
            ]
        )
    )
    assert jobs.load_representatives(path).rows_loaded == 1
    assert db.session.get(Representative, "E14001063").email == "alex@example.org"
    bad = tmp_path / "bad.csv"
    bad.write_text("gss_code,name,email\nE14001064,Priya Lal,not-an-email\n")
    with pytest.raises(jobs.LoadError, match="Row 2"):
        jobs.load_representatives(bad)
    assert db.session.get(Representative, "E14001064") is None
