"""Issue 11, finding 3: an erased person is in no table, export file, Redis key or log line.

One person goes through everything (sign, confirm, prefill link, an update email and its
one-click unsubscribe, a sign-in link, erasure, an error path) with every log captured at
DEBUG; then nothing that identifies them may be left anywhere the service keeps data.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from flask import g
from sqlalchemy import JSON, String, Text, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from petitions.audit.models import AuditEvent
from petitions.campaigns.models import CampaignUpdate
from petitions.exports import jobs as export_jobs
from petitions.exports import services as exports
from petitions.exports.models import ExportJob
from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.mailings import jobs as mailing_jobs
from petitions.mailings import services as mailings
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature
from tests.conftest import TEST_REDIS_URL, free_port, wait_for
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.granian import production_granian
from tests.support.web import csrf_from, sign_via_form
from tests.support.workspace import login, make_organiser

EMAIL = "Quentin.Zubrowski@example.org"
NAME = "Quentin Zubrowski"
POSTCODE = "EC1A 1BB"
COMMENT = "kumquat-umbrella-secret"
IP = "203.0.113.77"
PERSONAL = [EMAIL.lower(), "zubrowski", POSTCODE.lower(), COMMENT, IP]

SIGNIN_LINK = re.compile(r"/my/signin/([A-Za-z0-9_-]+)")
UNSUBSCRIBE_LINK = re.compile(r"/u/([A-Za-z0-9_.-]+)")
PREFILL = re.compile(r"[?&]p=([A-Za-z0-9_.-]+)")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")


@pytest.fixture
def export_dir(app: Any, tmp_path: Path) -> Any:
    app.config["EXPORT_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["EXPORT_DIR"] = ""


def _fresh_g() -> None:
    # The test's app context is shared by the client's requests (see tests/mailings).
    g.pop("csrf_token", None)
    g.pop("_login_user", None)


def _setup() -> dict[str, Any]:
    organiser = make_organiser("owner@example.org")
    campaign = make_campaign(slug="privacy", owner_id=organiser.id)
    action = make_action(campaign, slug="first")
    make_action(campaign, slug="second")  # so confirming offers a prefilled next action
    db.session.commit()
    return {"organiser": organiser, "campaign": campaign, "action": action}


def _to(message: Any) -> list[str]:
    return [a.lower() for a in message.envelope_to]


def _live_flow(app: Any, client: Any, smtp_sink: Any, world: dict[str, Any]) -> dict[str, str]:
    """Sign, confirm, get an update, unsubscribe with one click, open My actions. Returns the
    link tokens the person was sent."""
    tokens: dict[str, str] = {}
    signed = sign_via_form(
        client,
        "/c/privacy/first",
        email=EMAIL,
        name=NAME,
        postcode=POSTCODE,
        comment=COMMENT,
        wants_updates="y",
    )
    assert signed.status_code == 303
    ip, client.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"], "198.51.100.9"
    sign_via_form(client, "/c/privacy/first", email="keep@example.org", name="Kept Person")
    client.environ_base["REMOTE_ADDR"] = ip
    drain()
    confirm_mail = next(m for m in smtp_sink.messages if _to(m) == [EMAIL.lower()])
    tokens["confirm"] = TOKEN_IN_LINK.search(confirm_mail.text()).group(1)
    page = client.get(f"/confirm/{tokens['confirm']}")
    confirmed = client.post(
        f"/confirm/{tokens['confirm']}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    tokens["prefill"] = PREFILL.search(confirmed.get_data(as_text=True)).group(1)
    assert client.get(f"/c/privacy/second?p={tokens['prefill']}").status_code == 200
    other = next(m for m in smtp_sink.messages if m.envelope_to == ["keep@example.org"])
    keep_token = TOKEN_IN_LINK.search(other.text()).group(1)
    page = client.get(f"/confirm/{keep_token}")
    client.post(
        f"/confirm/{keep_token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))}
    )

    update = CampaignUpdate(campaign_id=world["campaign"].id, title="News", body="We won.")
    db.session.add(update)
    db.session.commit()
    mailing, _ = mailings.request_update_mailing(update)
    db.session.commit()
    mailing_jobs.run(mailing.id, throttle=Throttle(0))
    update_mail = next(
        m for m in smtp_sink.messages if m.subject == "News" and _to(m) == [EMAIL.lower()]
    )
    tokens["unsubscribe"] = UNSUBSCRIBE_LINK.search(update_mail.text()).group(1)
    assert client.post(f"/u/{tokens['unsubscribe']}").status_code == 200

    page = client.get("/my")
    client.post(
        "/my/signin", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": EMAIL}
    )
    drain()
    signin_mail = next(m for m in smtp_sink.messages if m.subject == "Your link to My actions")
    tokens["signin"] = SIGNIN_LINK.search(signin_mail.text()).group(1)
    landing = client.get(f"/my/signin/{tokens['signin']}")
    assert (
        client.post(
            f"/my/signin/{tokens['signin']}",
            data={"csrf_token": csrf_from(landing.get_data(as_text=True))},
        ).status_code
        == 303
    )
    return tokens


def _export(client: Any, world: dict[str, Any]) -> int:
    _fresh_g()
    login(client, "owner@example.org")
    _fresh_g()
    url = f"/organise/campaigns/{world['campaign'].id}/actions/{world['action'].id}/exports"
    page = client.get(url)
    asked = client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert asked.status_code == 303
    job_id = db.session.scalar(select(func.max(ExportJob.id)))
    assert export_jobs.run_export(job_id) is not None  # the worker's task, run here
    return int(job_id)


def _erase(client: Any) -> None:
    page = client.get("/my/erase")
    erased = client.post(
        "/my/erase", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "confirm": "y"}
    )
    assert erased.status_code == 200


def _rows_holding(value: str) -> list[str]:
    """Every table.column (text-like) that still holds ``value``, case-insensitively."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            hits = db.session.scalar(
                select(func.count())
                .select_from(table)
                .where(cast(column, Text).ilike(f"%{value}%"))
            )
            if hits:
                found.append(f"{table.name}.{column.name}")
    return found


def _redis_holding(values: list[str]) -> list[str]:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    found = []
    for key in client.scan_iter(count=1000):
        blobs = [key]
        if client.type(key) == b"string":
            blobs.append(client.get(key) or b"")
        for blob in blobs:
            text = blob.decode("utf-8", "replace").lower()
            found += [f"{key!r}: {v}" for v in values if v in text]
    return found


@pytest.fixture
def abuse_counters(app: Any) -> Any:
    """Rate-limit counters on (the test settings turn them off), so Redis holds some."""
    saved = app.config["RATELIMIT_ENABLED"]
    app.config["RATELIMIT_ENABLED"] = True
    yield
    app.config["RATELIMIT_ENABLED"] = saved


def test_an_erased_person_is_in_no_table_export_file_or_redis_key(
    app, client, factories, smtp_sink, export_dir, abuse_counters
):
    client.environ_base["REMOTE_ADDR"] = IP
    organiser = app.test_client()
    world = _setup()
    _live_flow(app, client, smtp_sink, world)
    job_id = _export(organiser, world)
    old_file = export_dir / db.session.get(ExportJob, job_id).file_name
    assert EMAIL.lower() in old_file.read_text(encoding="utf-8-sig").lower()
    abuse_keys = list(redis_lib.Redis.from_url(TEST_REDIS_URL).scan_iter("*abuse*"))
    assert abuse_keys, "signing keeps rate-limit counters in Redis"
    assert _rows_holding(EMAIL.lower())  # the check below can find the person

    _fresh_g()
    _erase(client)
    db.session.expire_all()

    # The export that held them is being regenerated: nothing to download meanwhile.
    job = db.session.get(ExportJob, job_id)
    assert job.status == "queued" and job.file_name is None
    assert not old_file.exists()
    assert export_jobs.run_export(job_id) is not None  # the worker's re-run
    db.session.expire_all()
    job = db.session.get(ExportJob, job_id)
    redone = (export_dir / job.file_name).read_text(encoding="utf-8-sig").lower()
    assert "keep@example.org" in redone
    _fresh_g()
    download = organiser.get(f"/organise/exports/{job_id}/download")
    assert download.status_code == 200 and b"keep@example.org" in download.data

    for value in PERSONAL:
        assert _rows_holding(value) == [], value
        for path in export_dir.iterdir():
            assert value not in path.read_text(encoding="utf-8-sig").lower(), (path, value)
    assert _redis_holding(PERSONAL) == []


def test_an_export_running_during_erasure_is_redone(app, factories, export_dir):
    world = _setup()
    factories.make_signature(world["action"], EMAIL, name=NAME)
    db.session.execute(Signature.__table__.update().values(confirmed_at=func.now()))
    db.session.commit()
    job = ExportJob(
        organiser_id=world["organiser"].id,
        action_id=world["action"].id,
        status="running",
        started_at=exports.utcnow(),
        expires_at=exports.utcnow() + timedelta(hours=1),
    )
    db.session.add(job)
    db.session.commit()
    from petitions.supporters.services import erase

    erase(EMAIL.lower())
    db.session.commit()
    assert db.session.get(ExportJob, job.id).status == "queued"


def test_full_flow_logs_hold_no_personal_data_or_tokens(
    app, client, factories, smtp_sink, caplog, database_url, redis_url, tmp_path
):
    caplog.set_level(logging.DEBUG)
    client.environ_base["REMOTE_ADDR"] = IP
    world = _setup()
    tokens = _live_flow(app, client, smtp_sink, world)
    _erase(client)

    # The error path: a failing statement with personal values in its parameters.
    try:
        db.session.execute(
            insert(Signature).values(
                action_id=2**31 - 1,
                email=EMAIL,
                email_normalised=EMAIL.lower(),
                name=NAME,
                postcode=POSTCODE,
                country="GB",
                comment=COMMENT,
                ip_address=IP,
            )
        )
        db.session.flush()
    except IntegrityError:
        logging.getLogger("petitions.signing").exception("could not store a signature")
        db.session.rollback()

    # Access logs: the same links requested through Werkzeug's server, and through granian
    # started as production starts it (its access log is on there; the worker writes it through
    # Python logging after create_app installed the redacting record factory).
    paths = [
        f"/confirm/{tokens['confirm']}",
        f"/c/privacy/second?p={tokens['prefill']}",
        f"/u/{tokens['unsubscribe']}",
        f"/my/signin/{tokens['signin']}",
    ]

    def request_all(port: int) -> None:
        for path in paths:
            # Used or erased links answer 4xx: still logged.
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request_all(server.server_port)
    finally:
        server.shutdown()
        thread.join(10)

    granian_log = tmp_path / "granian.log"
    env = {
        "PETITIONS_ENV": "test",
        "TEST_DATABASE_URL": database_url,
        "TEST_REDIS_URL": redis_url,
        "PETITIONS_INSTANCE": str(tmp_path / "instance"),
    }
    prefixes = ['"GET /confirm/', '"GET /c/privacy/second', '"GET /u/', '"GET /my/signin/']

    def access_lines() -> list[str]:
        lines = granian_log.read_text(errors="replace").splitlines()
        found = [line for line in lines if any(prefix in line for prefix in prefixes)]
        return found if len(found) == len(paths) else []

    with production_granian(free_port(), granian_log, env) as port:
        request_all(port)
        wait_for(access_lines, timeout=30)
    granian_text = granian_log.read_text(errors="replace")
    # The address it listens on (the main process's own line) is not a client's.
    granian_text = "\n".join(
        line for line in granian_text.splitlines() if "Listening at: http://" not in line
    )

    # Everything the service logs; the test's SMTP server (aiosmtpd, "mail.log") stands in for
    # the mail provider and logs the messages it receives, so it is left out.
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    lines = [r.getMessage() + "\n" + (r.exc_text or "") for r in ours]
    text = "\n".join(lines) + "\n" + granian_text
    assert "werkzeug" in {r.name for r in ours}, "the access log was captured"
    for prefix in ('"GET /confirm/[token] ', '"GET /u/[token] ', '"GET /my/signin/[token] '):
        assert prefix in granian_text, prefix  # logged, with the token rewritten
    assert "could not store a signature" in text
    lowered = text.lower()
    for value in PERSONAL:
        assert value not in lowered, value
    for name, token in tokens.items():
        assert token.lower() not in lowered, name
    assert IPV4.findall(text) == [], "no IP address in any log line"
    assert "[token]" in text and "[ip]" in text


def test_erasure_blots_the_person_out_of_what_organisers_typed(app, factories):
    """Audit reasons, bulk invalidation criteria and trending alerts name the person only in
    organisers' text; erasure reaches those too, and a job whose criterion it blotted matches
    nobody instead of failing."""
    from petitions.abuse import services as invalidation
    from petitions.abuse.models import InvalidationJob, TrendingAlert
    from petitions.audit.services import record
    from petitions.supporters.services import erase

    world = _setup()
    factories.make_signature(world["action"], EMAIL, name=NAME, ip_address=IP)
    factories.make_signature(world["action"], "keep@example.org", name="Kept Person")
    criteria = {"ip": IP, "name_pattern": NAME.lower(), "source": ""}
    job = InvalidationJob(
        action_id=world["action"].id, criteria=criteria, reason=f"duplicate of {EMAIL}"
    )
    db.session.add(job)
    db.session.add(
        TrendingAlert(
            action_id=world["action"].id, kind="ip", value=IP, recent=20, window_total=21, share=0.9
        )
    )
    record(
        "signature.invalidate",
        organiser_id=world["organiser"].id,
        detail={"count": 1, "reason": f"Same person as {NAME}", "ips": [IP, "203.0.113.7"]},
    )
    kept = record("export.create", organiser_id=world["organiser"].id, detail={"rows": 2})
    db.session.commit()
    assert _rows_holding(IP)  # the sweep below can find them

    erase(EMAIL.lower())
    db.session.commit()
    db.session.expire_all()

    for value in PERSONAL:
        assert _rows_holding(value) == [], value
    audit = db.session.scalars(select(AuditEvent.detail).order_by(AuditEvent.id)).all()
    assert audit[0] == {"count": 1, "reason": "[erased]", "ips": ["[erased]", "203.0.113.7"]}
    assert db.session.get(AuditEvent, kept.id).detail == {"rows": 2}
    blotted = invalidation.Criteria.from_json(db.session.get(InvalidationJob, job.id).criteria)
    assert blotted.ip == "[erased]"
    assert db.session.execute(invalidation._matching(world["action"].id, blotted, None)).all() == []
