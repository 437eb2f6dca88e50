"""Configuration: every setting comes from the environment through a strict parser.

``create_app`` picks an environment by ``PETITIONS_ENV`` (development, test, production),
reads its settings from the environment at that moment, then applies explicit overrides.
Production refuses to start without a real ``SECRET_KEY``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    return Path(os.environ.get("PETITIONS_INSTANCE", PROJECT_ROOT / "instance"))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def env_hour(name: str, default: int) -> int:
    hour = env_int(name, default)
    if not 0 <= hour <= 23:
        raise ConfigError(f"{name} must be an hour from 0 to 23, got {hour}")
    return hour


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc


DEV_SECRET = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production


def base_settings() -> dict[str, Any]:
    """Every setting, read from the environment now (not at import time)."""
    public_url = (env_str("PUBLIC_URL", "http://127.0.0.1:5000") or "").rstrip("/")
    secure = public_url.startswith("https://")
    return {
        "SECRET_KEY": env_str("SECRET_KEY", DEV_SECRET),
        "SQLALCHEMY_DATABASE_URI": env_str(
            "DATABASE_URL", f"sqlite:///{instance_dir() / 'petitions.sqlite3'}"
        ),
        # SQLAlchemy errors quote the statement's bound values (names, addresses, postcodes,
        # IPs, comments): never in logs, except in a debug session on a developer's machine.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True},
        "REDIS_URL": env_str("REDIS_URL", "") or "",
        "PUBLIC_URL": public_url,
        # Flask-Mail reads these names itself.
        "MAIL_SERVER": env_str("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": env_int("MAIL_PORT", 1025),
        "MAIL_USE_TLS": env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": env_bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": env_str("MAIL_USERNAME"),
        "MAIL_PASSWORD": env_str("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": env_str(
            "MAIL_DEFAULT_SENDER", "Petitions <noreply@petitions.invalid>"
        ),
        "MAIL_SUPPRESS_SEND": False,
        # Flask-Mail has no timeout of its own: the worker's SMTP connections use this one.
        "MAIL_TIMEOUT": env_float("MAIL_TIMEOUT", 15.0),
        # Celery: the broker is CELERY_BROKER_URL, else REDIS_URL, else a folder in instance/.
        "CELERY_BROKER_URL": env_str("CELERY_BROKER_URL", "") or "",
        "CELERY_ALWAYS_EAGER": False,
        "TASK_DISPATCH": True,
        "CONFIRM_TOKEN_DAYS": env_int("CONFIRM_TOKEN_DAYS", 7),
        "CONFIRM_EMAIL_CAP": env_int("CONFIRM_EMAIL_CAP", 3),
        "OUTBOX_SWEEP_SECONDS": env_float("OUTBOX_SWEEP_SECONDS", 5.0),
        "OUTBOX_BATCH_SIZE": env_int("OUTBOX_BATCH_SIZE", 100),
        # A drain task returns after the batch that crosses this, and re-queues itself.
        "OUTBOX_DRAIN_SECONDS": env_float("OUTBOX_DRAIN_SECONDS", 1.0),
        "OUTBOX_LEASE_SECONDS": env_int("OUTBOX_LEASE_SECONDS", 120),
        # Sent rows are marked (one UPDATE, one commit) per this many, or this often.
        "OUTBOX_MARK_SENT_EVERY": env_int("OUTBOX_MARK_SENT_EVERY", 50),
        "OUTBOX_MARK_SENT_SECONDS": env_float("OUTBOX_MARK_SENT_SECONDS", 0.5),
        "OUTBOX_MAX_ATTEMPTS": env_int("OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_RETRY_BASE_SECONDS": env_float("OUTBOX_RETRY_BASE_SECONDS", 30.0),
        # Per-message backoff (a 4xx for one recipient) doubles up to this.
        "OUTBOX_RETRY_MAX_SECONDS": env_float("OUTBOX_RETRY_MAX_SECONDS", 1800.0),
        # The SMTP server itself away: every row is tried again within this, uncharged, so
        # mail resumes within it (plus one sweep) of the server returning (docs/operations.md).
        "OUTBOX_OUTAGE_RETRY_SECONDS": env_float("OUTBOX_OUTAGE_RETRY_SECONDS", 10.0),
        # Off: addresses whose part before the @ is not ASCII are refused at intake (few
        # servers take them). On only if the MAIL_SERVER advertises SMTPUTF8.
        "MAIL_SMTPUTF8": env_bool("MAIL_SMTPUTF8", False),
        # Languages the site is offered in (docs/languages.md): the first is the default,
        # served without a prefix; each other one at /<code>/….
        "LANGUAGES": [
            code.strip()
            for code in (env_str("LANGUAGES", "en,cy") or "en,cy").split(",")
            if code.strip()
        ],
        "COUNT_INTERVAL_SECONDS": env_float("COUNT_INTERVAL_SECONDS", 2.0),
        "COUNT_BATCH_SIZE": env_int("COUNT_BATCH_SIZE", 5000),
        "RECONCILE_INTERVAL_SECONDS": env_float("RECONCILE_INTERVAL_SECONDS", 600.0),
        "NUDGE_DEBOUNCE_MS": env_int("NUDGE_DEBOUNCE_MS", 1000),
        # After-commit nudges are sent by one thread per process (core.dispatch.Nudger), at
        # most one Redis call per NUDGE_BATCH_SECONDS, instead of inside each request.
        "NUDGE_IN_BACKGROUND": env_bool("NUDGE_IN_BACKGROUND", True),
        "NUDGE_BATCH_SECONDS": env_float("NUDGE_BATCH_SECONDS", 0.05),
        # Supporters ("My actions") and campaign mailings.
        "SUPPORTER_SIGNIN_MINUTES": env_int("SUPPORTER_SIGNIN_MINUTES", 60),
        "SUPPORTER_SESSION_MINUTES": env_int("SUPPORTER_SESSION_MINUTES", 120),
        "MAILING_RATE_PER_SECOND": env_float("MAILING_RATE_PER_SECOND", 20.0),
        "MAILING_BATCH_SIZE": env_int("MAILING_BATCH_SIZE", 100),
        "MAILING_LEASE_SECONDS": env_int("MAILING_LEASE_SECONDS", 120),
        "MAILING_SWEEP_SECONDS": env_float("MAILING_SWEEP_SECONDS", 15.0),
        "MILESTONE_INTERVAL_SECONDS": env_float("MILESTONE_INTERVAL_SECONDS", 60.0),
        "MILESTONE_TELL_SUPPORTERS": env_bool("MILESTONE_TELL_SUPPORTERS", True),
        "RETENTION_DAYS_AFTER_CLOSE": env_int("RETENTION_DAYS_AFTER_CLOSE", 180),
        "RETENTION_INTERVAL_SECONDS": env_float("RETENTION_INTERVAL_SECONDS", 3600.0),
        # Development: the folder the local SMTP sink writes caught mail into.
        "DEV_MAIL_DIR": env_str("DEV_MAIL_DIR", "") or "",
        "WTF_CSRF_TIME_LIMIT": None,  # a form left open all afternoon still submits
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "MAX_CONTENT_LENGTH": 256 * 1024,
        # The signing hot path (petitions/hotpath, docs/architecture.md "The hot path"): on
        # unless turned off; every request it cannot prove ordinary goes to the normal views.
        "HOTPATH_ENABLED": env_bool("HOTPATH_ENABLED", True),
        # How long it trusts its snapshot of an action (the open check is repeated in SQL).
        "HOTPATH_SNAPSHOT_SECONDS": env_float("HOTPATH_SNAPSHOT_SECONDS", 2.0),
        # How long it serves a copy of the campaign, action and thank-you pages: how stale they
        # may be (hotpath/pages.py and hotpath/form_pages.py say when it may).
        "HOTPATH_PAGE_SECONDS": env_float("HOTPATH_PAGE_SECONDS", 5.0),
        "TRUSTED_PROXIES": env_int("TRUSTED_PROXIES", 0),
        # Login and sign-in link limits (Flask-Limiter syntax). Per account/address they key on
        # the address folded to one spelling (core.emails.limit_key).
        "LOGIN_LIMIT_PER_IP": env_str("LOGIN_LIMIT_PER_IP", "20 per minute"),
        "LOGIN_LIMIT_PER_ACCOUNT": env_str("LOGIN_LIMIT_PER_ACCOUNT", "5 per minute"),
        "SIGNIN_LINK_LIMIT_PER_IP": env_str("SIGNIN_LINK_LIMIT_PER_IP", "10 per hour"),
        "SIGNIN_LINK_LIMIT_PER_ADDRESS": env_str("SIGNIN_LINK_LIMIT_PER_ADDRESS", "5 per hour"),
        # Supporters proposing events: each proposal emails the address given and waits in an
        # organiser's queue, so both are capped (per IP, and per host address in any spelling).
        "EVENT_PROPOSAL_LIMIT_PER_IP": env_str("EVENT_PROPOSAL_LIMIT_PER_IP", "10 per hour"),
        "EVENT_PROPOSAL_LIMIT_PER_ADDRESS": env_str(
            "EVENT_PROPOSAL_LIMIT_PER_ADDRESS", "5 per day"
        ),
        # Organisers' workspace: CSV exports (web and workers must share EXPORT_DIR) and
        # how often an open dashboard polls for new counts.
        "EXPORT_DIR": env_str("EXPORT_DIR", "") or "",
        "EXPORT_TTL_HOURS": env_float("EXPORT_TTL_HOURS", 24.0),
        # The hand-in PDF (docs/handin.md): the name on its cover, and where its fonts are.
        "ORGANISATION_NAME": env_str("ORGANISATION_NAME", "Petitions") or "Petitions",
        # Donation asks (docs/donations.md): the only hosts /give/ will ever redirect to.
        "DONATION_HOSTS": env_str(
            "DONATION_HOSTS",
            "www.justgiving.com,donate.giveasyoulive.com,www.enthuse.com,donorbox.org,"
            "www.paypal.com,checkout.stripe.com,donate.stripe.com,www.gofundme.com",
        )
        or "",
        "HANDIN_FONT_DIR": env_str("HANDIN_FONT_DIR", "/usr/share/fonts/truetype/dejavu") or "",
        "DASHBOARD_POLL_MS": env_int("DASHBOARD_POLL_MS", 3000),
        # Webhooks (docs/api.md). Private/loopback targets: allowed outside production unless set.
        "WEBHOOK_TIMEOUT": env_float("WEBHOOK_TIMEOUT", 5.0),
        "WEBHOOK_MAX_ATTEMPTS": env_int("WEBHOOK_MAX_ATTEMPTS", 10),
        "WEBHOOK_RETRY_BASE_SECONDS": env_float("WEBHOOK_RETRY_BASE_SECONDS", 30.0),
        "WEBHOOK_SWEEP_SECONDS": env_float("WEBHOOK_SWEEP_SECONDS", 10.0),
        "WEBHOOK_BATCH_SIZE": env_int("WEBHOOK_BATCH_SIZE", 50),
        "WEBHOOK_ALLOW_PRIVATE": (
            env_bool("WEBHOOK_ALLOW_PRIVATE", False)
            if os.environ.get("WEBHOOK_ALLOW_PRIVATE")
            else None
        ),
        # Public API: how long each web process reuses a counter's JSON (0 turns it off).
        "API_COUNT_CACHE_SECONDS": env_float("API_COUNT_CACHE_SECONDS", 1.0),
        # How long an embedded signing form stays submittable after it was rendered.
        "EMBED_FORM_SECONDS": env_int("EMBED_FORM_SECONDS", 86400),
        # Abuse resistance (docs/security.md). Counts per window; 0 turns a limit off.
        "ABUSE_LIMITS_ENABLED": env_bool("ABUSE_LIMITS_ENABLED", True),
        "ABUSE_WINDOW_SECONDS": env_int("ABUSE_WINDOW_SECONDS", 3600),
        "ABUSE_IP_ACTION_SOFT": env_int("ABUSE_IP_ACTION_SOFT", 10),
        "ABUSE_IP_ACTION_HARD": env_int("ABUSE_IP_ACTION_HARD", 100),
        "ABUSE_IP_SOFT": env_int("ABUSE_IP_SOFT", 40),
        "ABUSE_IP_HARD": env_int("ABUSE_IP_HARD", 400),
        "ABUSE_DOMAIN_ACTION_SOFT": env_int("ABUSE_DOMAIN_ACTION_SOFT", 300),
        "ABUSE_DOMAIN_ACTION_HARD": env_int("ABUSE_DOMAIN_ACTION_HARD", 0),
        "ABUSE_COMMON_DOMAINS": env_str(
            "ABUSE_COMMON_DOMAINS",
            "gmail.com,googlemail.com,hotmail.com,hotmail.co.uk,outlook.com,live.com,"
            "live.co.uk,msn.com,yahoo.com,yahoo.co.uk,icloud.com,me.com,aol.com,"
            "btinternet.com,sky.com,virginmedia.com,ntlworld.com,talktalk.net,"
            "protonmail.com,proton.me",
        ),
        "ABUSE_MIN_FILL_SECONDS": env_float("ABUSE_MIN_FILL_SECONDS", 3.0),
        # A sign form's stamp older than this is flagged for review (still sent as usual).
        "ABUSE_STAMP_MAX_AGE_SECONDS": env_float("ABUSE_STAMP_MAX_AGE_SECONDS", 86400.0),
        "CONFIRM_RESEND_SECONDS": env_int("CONFIRM_RESEND_SECONDS", 60),
        "TRENDING_INTERVAL_SECONDS": env_float("TRENDING_INTERVAL_SECONDS", 300.0),
        "TRENDING_WINDOW_MINUTES": env_int("TRENDING_WINDOW_MINUTES", 60),
        "TRENDING_MIN_SIGNATURES": env_int("TRENDING_MIN_SIGNATURES", 20),
        "TRENDING_IP_SHARE": env_float("TRENDING_IP_SHARE", 0.1),
        "TRENDING_DOMAIN_SHARE": env_float("TRENDING_DOMAIN_SHARE", 0.25),
        "INVALIDATION_BATCH_SIZE": env_int("INVALIDATION_BATCH_SIZE", 1000),
        # Events (docs/events.md): hours before the start that reminders go out, and how often
        # beat looks for due reminders.
        "EVENT_REMINDER_HOURS": env_str("EVENT_REMINDER_HOURS", "24,2") or "",
        "EVENT_REMINDER_SWEEP_SECONDS": env_float("EVENT_REMINDER_SWEEP_SECONDS", 60.0),
        "LETTER_SWEEP_SECONDS": env_float("LETTER_SWEEP_SECONDS", 15.0),
        # Letters batched into a daily digest go to each recipient at this hour (UTC, 0-23).
        "LETTER_DIGEST_HOUR": env_hour("LETTER_DIGEST_HOUR", 17),
    }


def development_settings() -> dict[str, Any]:
    settings = base_settings()
    if env_bool("FLASK_DEBUG", False):  # ``flask run --debug``: show values in SQL errors
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = {"hide_parameters": False}
    return settings


def test_settings() -> dict[str, Any]:
    settings = base_settings()
    settings.update(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": env_str(
                "TEST_DATABASE_URL",
                "postgresql+psycopg://postgres@127.0.0.1:5432/petitions_test",
            ),
            "REDIS_URL": env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/15") or "",
            "PUBLIC_URL": "http://localhost",
            "TASK_DISPATCH": False,
            # Test clients post the instant they load a form; abuse tests set their own.
            "ABUSE_MIN_FILL_SECONDS": 0.0,
            "CONFIRM_RESEND_SECONDS": 0,
        }
    )
    return settings


def production_settings() -> dict[str, Any]:
    settings = base_settings()
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_size": env_int("DB_POOL_SIZE", 10),
        "max_overflow": env_int("DB_MAX_OVERFLOW", 20),
        "pool_recycle": 1800,
        "hide_parameters": True,
    }
    return settings


def engine_options(database_url: str, options: dict[str, Any]) -> dict[str, Any]:
    """The SQLAlchemy engine options for this database, in every environment.

    PostgreSQL: each pooled connection is checked (a ``SELECT 1`` round trip) before it is
    handed out, so after the server restarts or a failover the first request on each old
    connection gets a new one instead of an error page. What fails later than that, mid-request,
    is retried by the unit of work where that is safe (``core.unit_of_work``). A connection
    attempt gives up after ``DB_CONNECT_TIMEOUT`` seconds rather than hanging a worker.
    """
    if not database_url.startswith("postgresql"):
        return options
    merged = dict(options)
    merged.setdefault("pool_pre_ping", True)
    connect_args = dict(merged.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 10))
    merged["connect_args"] = connect_args
    return merged


ENVIRONMENTS = {
    "development": development_settings,
    "test": test_settings,
    "production": production_settings,
}


def environment_name(name: str | None = None) -> str:
    name = (name or os.environ.get("PETITIONS_ENV") or "development").lower()
    if name not in ENVIRONMENTS:
        raise ConfigError(f"PETITIONS_ENV must be one of {sorted(ENVIRONMENTS)}, got {name!r}")
    return name


def load_settings(name: str) -> dict[str, Any]:
    return ENVIRONMENTS[name]()


def check_config(config: dict[str, Any], env_name: str) -> None:
    """Refuse settings that would be unsafe or broken, before anything is served."""
    if env_name == "production":
        secret = config.get("SECRET_KEY") or ""
        if secret == DEV_SECRET or len(secret) < 32:
            raise ConfigError("Production needs SECRET_KEY set to a random value of 32+ characters")
        if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
            raise ConfigError("Production needs DATABASE_URL pointing at PostgreSQL")
    languages = config.get("LANGUAGES") or []
    if not languages or any(not code.isalpha() or len(code) > 8 for code in languages):
        raise ConfigError(f"LANGUAGES must be language codes like en,cy, got {languages!r}")
    config["DEFAULT_LANGUAGE"] = languages[0]
    public_url = config.get("PUBLIC_URL", "")
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"PUBLIC_URL must start with http:// or https://, got {public_url!r}")
