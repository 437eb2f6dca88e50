import pytest

from petitions import create_app
from petitions.config import ConfigError


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")


def test_production_starts_with_real_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/x")
    app = create_app("production", SECRET_KEY="x" * 40)
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_bad_public_url_is_refused():
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        create_app("test", PUBLIC_URL="example.org")


def test_postgresql_engines_check_pooled_connections_before_use():
    """Issue 11 (#4): after PostgreSQL restarts, no request gets a dead pooled connection."""
    from petitions.config import engine_options

    options = engine_options("postgresql+psycopg://x@h/db", {"pool_size": 10})
    assert options["pool_pre_ping"] is True and options["pool_size"] == 10
    assert options["connect_args"]["connect_timeout"] == 10
    assert engine_options("sqlite:///x.db", {}) == {}
    app = create_app("test", SQLALCHEMY_DATABASE_URI="postgresql://x@127.0.0.1:1/db")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
