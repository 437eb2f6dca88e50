"""Migrations have one head, apply cleanly on PostgreSQL and SQLite, and match the models."""

from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from petitions import create_app
from petitions.extensions import db
from tests.conftest import PG_ADMIN_URL, TEST_DB

ROOT = Path(__file__).resolve().parent.parent


def test_one_head():
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _diff(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


@pytest.fixture
def scratch_pg(database_url):
    # Named after this run's test database, so parallel runs on one server never share it.
    name = f"{TEST_DB}_migrations_check"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_matches_models_on_postgresql(scratch_pg):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=scratch_pg)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        assert _diff(app) == []
        db.engine.dispose()


def test_upgrade_matches_models_on_sqlite(tmp_path):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.sqlite3'}")
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        assert _diff(app) == []
        db.engine.dispose()


def test_consent_history_is_backfilled(tmp_path):
    """The consent-history migration records what the tables already knew (issue 11)."""
    from sqlalchemy import text

    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'b.sqlite3'}")
    with app.app_context():
        directory = str(ROOT / "migrations")
        upgrade(directory=directory, revision="0005_supporter_sessions")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO campaigns (id, slug, title, summary, body, status, created_at)"
                    " VALUES (1, 'c', 'C', '', '', 'live', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO actions (id, campaign_id, slug, kind, title, text, target, goal,"
                    " created_at, pledge_options, position, thank_you)"
                    " VALUES (1, 1, 'a', 'petition', 'A', '', '', 10, '2026-01-01', '[]', 0, '')"
                )
            )
            for n, (email, ticked) in enumerate([("t@example.org", 1), ("q@example.org", 0)]):
                conn.execute(
                    text(
                        "INSERT INTO signatures (action_id, email, email_normalised, name,"
                        " postcode, postcode_area, country, comment, wants_updates, source,"
                        " referrer, created_at, confirmed_at, suspect, confirm_emails_sent,"
                        " counted, needs_count)"
                        " VALUES (1, :e, :e, 'N', '', '', 'GB', '', :t, '', '', '2026-01-01',"
                        " :c, 0, 0, 0, 0)"
                    ),
                    {"e": email, "t": ticked, "c": f"2026-01-0{n + 2}"},
                )
            conn.execute(
                text(
                    "INSERT INTO supporters (id, email_normalised, unsubscribed_all_at,"
                    " created_at, updated_at, session_version)"
                    " VALUES (1, 't@example.org', '2026-02-01', '2026-02-01', '2026-02-01', 1)"
                )
            )
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT email_normalised, campaign_id, kind, source FROM consent_events"
                    " ORDER BY id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("t@example.org", 1, "granted", "signature"),
            ("t@example.org", None, "withdrawn", "recorded before the history existed"),
        ]
        db.engine.dispose()


def test_sqlite_table_rebuilds_keep_child_rows(tmp_path):
    """batch_alter_table rebuilds a table on SQLite (copy, DROP, rename); with foreign keys on,
    the DROP would cascade-delete every child row. migrations/env.py turns them off while
    migrating: rebuilding `mailings` (0015's downgrade) keeps its deliveries and tests."""
    from sqlalchemy import text

    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fk.sqlite3'}")
    with app.app_context():
        directory = str(ROOT / "migrations")
        upgrade(directory=directory)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO campaigns (id, slug, title, summary, body, status, created_at,"
                    " embed_origins) VALUES (1, 'c', 'C', '', '', 'live', '2026-01-01', '')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO mailings (id, campaign_id, kind, dedupe_key, subject, status,"
                    " created_at, total, body, audience)"
                    " VALUES (1, 1, 'update', 'k', 'S', 'done', '2026-01-01', 1, '', 'campaign')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO mailing_deliveries (mailing_id, email_normalised, status,"
                    " attempts) VALUES (1, 'a@example.org', 'sent', 1)"
                )
            )
        downgrade(directory=directory, revision="0014_webhook_sensitive")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mailing_deliveries")).scalar() == 1
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # on again after
        upgrade(directory=directory)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM mailing_deliveries")).scalar() == 1
        db.engine.dispose()
