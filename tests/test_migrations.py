"""Migrations have one head, apply cleanly on PostgreSQL and SQLite, and match the models."""

from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

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
