"""petitions: petitions and pledges for campaigning charities."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from petitions.config import (
    PROJECT_ROOT,
    check_config,
    engine_options,
    environment_name,
    instance_dir,
    load_settings,
)


def create_app(config: str | dict[str, Any] | None = None, **overrides: Any) -> Flask:
    """Build the app. ``config`` names an environment or is a dict of settings."""
    env_name = environment_name(config if isinstance(config, str) else None)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_path=str(instance_dir()),
        instance_relative_config=False,
    )
    app.config.update(load_settings(env_name))
    if isinstance(config, dict):
        app.config.update(config)
    app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    )
    app.config["PETITIONS_ENV"] = env_name
    check_config(app.config, env_name)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from petitions.core import ids

    ids.install(app.url_map)  # before any route: every <int:...> is a bounded id
    _init_extensions(app)
    from petitions.core import i18n

    i18n.init_app(app)
    _register_blueprints(app)
    _register_branding(app)
    _register_models_and_builders()
    _connect_subscribers()

    from petitions.core import errors, unit_of_work, web

    web.init_app(app)
    errors.init_app(app)
    _register_commands(app)
    unit_of_work.init_app(app)  # last: it wraps every view registered above
    from petitions import hotpath

    hotpath.install(
        app
    )  # the signing POST's fast lane, in front of the views (docs/architecture.md)
    if app.config["TRUSTED_PROXIES"]:  # outermost: the hot path sees the client's address too
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    logging.getLogger("petitions").setLevel(logging.INFO)
    level = (os.environ.get("LOG_LEVEL") or "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        logging.getLogger("werkzeug").setLevel(level)  # `make run`: no line per request
    return app


def _normalise_db_url(url: str) -> str:
    # Operators write postgres:// or postgresql://; we use psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _init_extensions(app: Flask) -> None:
    from petitions.core.tasks import celery_init_app
    from petitions.extensions import (
        csrf,
        db,
        limiter,
        login_manager,
        mail,
        migrate,
    )

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    mail.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5})
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    from petitions.organisers.models import load_organiser

    login_manager.user_loader(load_organiser)
    celery_init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)


def _tune_sqlite(app: Flask) -> None:
    from sqlalchemy import event

    from petitions.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the web process read while a worker writes; wait rather than fail on locks.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _register_branding(app: Flask) -> None:
    """``branding()`` in every template, pages and emails alike (issue 15)."""
    from petitions.branding.queries import current

    app.jinja_env.globals["branding"] = current


def _register_commands(app: Flask) -> None:
    """Each area registers its own ``flask`` commands; ``core`` imports no area."""
    from petitions.dev import cli as dev_cli
    from petitions.gatherings.cli import events_cli
    from petitions.geo import cli as geo_cli
    from petitions.organisers import cli as organisers_cli

    organisers_cli.init_app(app)
    dev_cli.init_app(app)
    geo_cli.init_app(app)
    app.cli.add_command(events_cli)


def _register_blueprints(app: Flask) -> None:
    """Every blueprint, grouped by who it serves. An area with both public and organiser pages
    (events, letters) keeps them in its one blueprint, listed with the public site."""
    for blueprint in (
        *_public_blueprints(),
        *_supporter_blueprints(),
        *_workspace_blueprints(),
        *_api_blueprints(),
    ):
        app.register_blueprint(blueprint)
    if app.config["DEV_MAIL_DIR"] and app.config["PETITIONS_ENV"] != "production":
        from petitions.dev.blueprint import bp as dev_bp

        app.register_blueprint(dev_bp)


def _public_blueprints() -> tuple[Blueprint, ...]:
    """What anyone sees: home and campaign pages, signing, events, letters, embeds."""
    from petitions.embeds.blueprint import bp as embeds_bp
    from petitions.gatherings.blueprint import bp as gatherings_bp
    from petitions.letters.blueprint import bp as letters_bp
    from petitions.signing.blueprint import bp as signing_bp
    from petitions.site.blueprint import bp as site_bp

    return (site_bp, signing_bp, gatherings_bp, letters_bp, embeds_bp)


def _supporter_blueprints() -> tuple[Blueprint, ...]:
    """A supporter's own pages: My actions and one-click unsubscribe."""
    from petitions.mailings.blueprint import unsubscribe_bp
    from petitions.supporters.blueprint import bp as supporters_bp

    return (supporters_bp, unsubscribe_bp)


def _workspace_blueprints() -> tuple[Blueprint, ...]:
    """The organisers' workspace under /organise/: sign-in, then each area's organiser pages."""
    from petitions.abuse.blueprint import bp as abuse_bp
    from petitions.api.admin import bp as api_tokens_bp
    from petitions.audit.blueprint import bp as audit_bp
    from petitions.dashboards.blueprint import bp as dashboards_bp
    from petitions.donations.blueprint import bp as donations_bp
    from petitions.embeds.admin import bp as embed_settings_bp
    from petitions.exports.blueprint import bp as exports_bp
    from petitions.mailings.blueprint import bp as mailings_bp
    from petitions.organisers.blueprint import bp as organisers_bp
    from petitions.outcomes.blueprint import bp as outcomes_bp
    from petitions.paper.blueprint import bp as paper_bp
    from petitions.questions.blueprint import bp as questions_bp
    from petitions.webhooks.blueprint import bp as webhooks_bp
    from petitions.workspace.blueprint import bp as workspace_bp
    from petitions.workspace.branding import bp as branding_bp

    return (
        organisers_bp,
        workspace_bp,
        branding_bp,
        dashboards_bp,
        exports_bp,
        audit_bp,
        paper_bp,
        outcomes_bp,  # the target's response and the outcome (issue 16)
        questions_bp,  # custom questions on an action's form (issue 16)
        donations_bp,
        mailings_bp,
        abuse_bp,
        api_tokens_bp,
        webhooks_bp,
        embed_settings_bp,
    )


def _api_blueprints() -> tuple[Blueprint, ...]:
    """The public API, OSDI and the generated OpenAPI document."""
    from petitions.api.blueprint import bp as api_bp
    from petitions.api.openapi import bp as openapi_bp
    from petitions.api.osdi import bp as osdi_bp
    from petitions.api.osdi_events import bp as osdi_events_bp
    from petitions.api.osdi_letters import bp as osdi_letters_bp

    return (api_bp, osdi_bp, osdi_letters_bp, osdi_events_bp, openapi_bp)


def _register_models_and_builders() -> None:
    """Import every area's models (one metadata) and email builders (one registry)."""
    import petitions.abuse.models
    import petitions.api.models
    import petitions.audit.models
    import petitions.branding.models
    import petitions.campaigns.models
    import petitions.core.models
    import petitions.donations.models
    import petitions.exports.models
    import petitions.gatherings.models
    import petitions.gatherings.notifications
    import petitions.geo.models
    import petitions.letters.models
    import petitions.mailer.models
    import petitions.mailings.models
    import petitions.mailings.notifications
    import petitions.organisers.models
    import petitions.organisers.notifications
    import petitions.outcomes.models
    import petitions.paper.models
    import petitions.questions.models
    import petitions.signing.models
    import petitions.signing.notifications
    import petitions.supporters.models
    import petitions.supporters.notifications
    import petitions.tallies.models
    import petitions.webhooks.models  # noqa: F401


def _connect_subscribers() -> None:
    """Each area's receivers of the domain events (``petitions.core.events``)."""
    import petitions.counting.subscribers
    import petitions.webhooks.subscribers  # noqa: F401
    from petitions.abuse import subscribers as abuse_subscribers
    from petitions.audit import subscribers as audit_subscribers
    from petitions.exports import subscribers as exports_subscribers
    from petitions.gatherings import subscribers as gatherings_subscribers
    from petitions.letters import subscribers as letters_subscribers
    from petitions.mailings import subscribers as mailings_subscribers
    from petitions.questions import subscribers as questions_subscribers
    from petitions.supporters import subscribers as supporters_subscribers

    abuse_subscribers.connect()
    audit_subscribers.connect()
    exports_subscribers.connect()
    gatherings_subscribers.connect()
    mailings_subscribers.connect()
    supporters_subscribers.connect()
    letters_subscribers.connect()
    questions_subscribers.connect()
