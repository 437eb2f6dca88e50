"""The embedded default (no servers): SQLite, migrations, the demo, signing, counting."""

import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from petitions import create_app
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.support.web import csrf_from, sign_via_form

ROOT = Path(__file__).resolve().parent.parent


def _flask(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "petitions", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_on_sqlite_then_sign(tmp_path, monkeypatch):
    import os

    env = dict(os.environ)
    for key in ("DATABASE_URL", "REDIS_URL", "PETITIONS_ENV"):
        env.pop(key, None)
    env["PETITIONS_INSTANCE"] = str(tmp_path)
    upgrade = _flask(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    for _ in range(2):  # the demo is idempotent
        demo = _flask(env, "demo")
        assert demo.returncode == 0, demo.stderr
    slug = re.search(r"/c/([a-z0-9-]+)", demo.stdout).group(1)
    made = _flask(
        env,
        "create-organiser",
        "Org@Example.org",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "org@example.org" in made.stdout
    short = _flask(env, "create-organiser", "x@example.org", "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "at least" in short.stderr

    monkeypatch.setenv("PETITIONS_INSTANCE", str(tmp_path))
    app = create_app(
        "development",
        TASK_DISPATCH=False,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/petitions.sqlite3",
    )
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200
    action_path = re.search(rf'href="(/c/{slug}/[a-z0-9-]+)"', home.get_data(as_text=True)).group(1)
    assert sign_via_form(client, action_path).status_code == 303

    # As a browser sends it (with the form stamp), the hot path takes it: SQLite's statements.
    # The same submission through the view (hot path off) first, to compare what is stored.
    def as_a_browser(email: str) -> int:
        page = client.get(action_path).get_data(as_text=True)
        started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
        fields = {
            "csrf_token": csrf_from(page),
            "started": started,
            "name": "Bo",
            "email": email,
            "country": "GB",
            "postcode": "SW1A 1AA",
        }
        return client.post(action_path, data=fields).status_code

    app.config["HOTPATH_ENABLED"] = False
    assert as_a_browser("cy@example.org") == 303
    app.config["HOTPATH_ENABLED"] = True
    assert app.extensions["hotpath"].taken == 0
    assert as_a_browser("bo@example.org") == 303
    assert app.extensions["hotpath"].taken == 1
    with app.app_context():
        signed = db.session.query(Signature).filter(Signature.source != "demo")
        assert signed.count() == 3
        # The hot path's own statements on SQLite (the signature, then its outbox row, in one
        # transaction) store what the view's intake stores.
        by_view, by_hot_path = (
            db.session.execute(
                text(
                    "SELECT s.action_id, s.consent_version_id, s.language, s.needs_count,"
                    " s.counted, s.suspect, substr(s.review_reason, 1, 9), s.confirm_emails_sent,"
                    " s.wants_updates, s.name, s.postcode, s.country, s.source,"
                    " o.kind, o.attempts, o.sent_at, o.failed_at,"
                    " o.available_at IS NOT NULL, o.created_at IS NOT NULL"
                    " FROM signatures s JOIN outbox o ON o.ref_id = s.id"
                    " WHERE s.email = :email"
                ),
                {"email": email},
            ).one()
            for email in ("cy@example.org", "bo@example.org")
        )
        assert by_hot_path == by_view
        assert by_view.kind == "confirm_signature" and not by_view.suspect
        outbox = db.session.execute(text("SELECT count(*) FROM outbox")).scalar()
        assert outbox >= 2  # their confirmation emails are queued
        demo_rsvps = db.session.query(Signature).filter(Signature.source == "demo").count()
        assert fold_counts() == 3 + demo_rsvps  # the demo talk's past attendees fold too
        db.engine.dispose()
