"""CSV exports: formula-safe cells, streaming by the worker, only the requester downloads."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from petitions.audit.models import AuditEvent
from petitions.core.csvsafe import safe_cell
from petitions.core.time import utcnow
from petitions.exports import jobs
from petitions.exports.models import ExportJob
from petitions.extensions import db
from tests.conftest import WorkerProcess, wait_for
from tests.support.factories import make_action, make_campaign, make_signature
from tests.support.workspace import confirmed_signature, csrf, login, make_organiser


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+44 20", "'+44 20"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("Ann = fine", "Ann = fine"),
        (None, ""),
        (42, "42"),
    ],
)
def test_cells_are_made_safe_for_spreadsheets(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


@pytest.fixture
def export_dir(app: Flask, tmp_path: Path):  # type: ignore[no-untyped-def]
    app.config["EXPORT_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["EXPORT_DIR"] = ""


def _setup(app: Flask) -> tuple[int, int]:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        make_organiser("root@example.org", admin=True)
        campaign = make_campaign(owner_id=ann.id)
        action = make_action(campaign)
        confirmed_signature(action, "a@example.org", name="=cmd|' /C calc'!A0", wants_updates=True)
        confirmed_signature(action, "b@example.org", name="Bo Ørsted", comment="@everyone")
        make_signature(action, "pending@example.org", name="Not Confirmed")
        return campaign.id, action.id


def _read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_export_runs_and_only_the_requester_downloads(app: Flask, export_dir: Path) -> None:
    campaign_id, action_id = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    page = f"/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
    asked = client.post(page, data={"csrf_token": csrf(client, page)})
    assert asked.status_code == 303
    export_url = asked.location
    assert client.get(export_url + ".json").get_json()["status"] == "queued"

    with app.app_context():
        job_id = db.session.scalar(db.select(ExportJob.id))
        assert jobs.run_export(job_id) is not None  # the worker's task, run here
        assert jobs.run_export(job_id) is None  # idempotent: a finished job is left alone
    status = client.get(export_url + ".json").get_json()
    assert status["ready"] and status["percent"] == 100 and status["done"] == 2

    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    rows = _read_csv(download.data)
    assert [r["email"] for r in rows] == ["a@example.org", "b@example.org"]
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert rows[1]["name"] == "Bo Ørsted" and rows[1]["comment"] == "'@everyone"
    assert [r["consent_to_contact"] for r in rows] == ["yes", "no"]

    # Nobody else, not even an admin, may download it.
    admin = app.test_client()
    login(admin, "root@example.org")
    assert admin.get(status["download_url"]).status_code == 404
    assert admin.get(export_url).status_code == 404
    assert app.test_client().get(status["download_url"]).status_code == 302

    with app.app_context():
        events = [
            e.event for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))
        ]
        assert events == ["export.create", "export.download"]


def test_expired_exports_are_gone(app: Flask, export_dir: Path) -> None:
    campaign_id, action_id = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    page = f"/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
    export_url = client.post(page, data={"csrf_token": csrf(client, page)}).location
    with app.app_context():
        job = db.session.scalar(db.select(ExportJob))
        jobs.run_export(job.id)
        db.session.refresh(job)
        path = export_dir / job.file_name
        assert path.is_file()
        job.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert client.get(export_url + "/download").status_code == 410
        assert jobs.sweep() == (1, 0)
        assert not path.exists()


@pytest.mark.integration
def test_the_worker_writes_the_export(live_app: Flask, worker: WorkerProcess) -> None:
    app = live_app
    # The web process and the worker must share the export folder.
    shared = Path(worker.env["PETITIONS_INSTANCE"]) / "exports"
    app.config["EXPORT_DIR"] = str(shared)
    try:
        campaign_id, action_id = _setup(app)
        client = app.test_client()
        login(client, "ann@example.org")
        page = f"/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
        export_url = client.post(page, data={"csrf_token": csrf(client, page)}).location
        status = wait_for(lambda: (s := client.get(export_url + ".json").get_json())["ready"] and s)
        rows = _read_csv(client.get(status["download_url"]).data)
        assert len(rows) == 2
    finally:
        app.config["EXPORT_DIR"] = ""
