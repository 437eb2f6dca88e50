"""Extensions, created unattached; ``create_app`` calls ``init_app`` on each."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def celery_init_app(app: Flask) -> Celery:
    """Attach a Celery app whose tasks run inside this Flask app's context (Flask's pattern)."""

    class FlaskTask(Task):
        """Runs in the app context as one unit of work: return commits, raise rolls back."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            from petitions.core.unit_of_work import run_in_unit_of_work

            # Called directly inside an app context (tests, CLI): run in that app, not in
            # whichever app last built a Celery instance.
            if has_app_context():
                return run_in_unit_of_work(self.run)(*args, **kwargs)
            with app.app_context():
                return run_in_unit_of_work(self.run)(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def celery_settings(app: Flask) -> dict[str, Any]:
    from petitions.core.broker import broker_settings

    settings: dict[str, Any] = {
        "task_ignore_result": True,
        "result_backend": None,
        "task_always_eager": app.config["CELERY_ALWAYS_EAGER"],
        "task_eager_propagates": True,
        "worker_prefetch_multiplier": 1,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
        # The web process must never hang on a broker that is down: a failed publish is
        # harmless because the outbox sweeper re-queues the work.
        "task_publish_retry": False,
        "broker_connection_timeout": 2,
        "timezone": "UTC",
        "beat_schedule": beat_schedule(app),
    }
    settings.update(broker_settings(app))
    return settings


def beat_schedule(app: Flask) -> dict[str, Any]:
    return {
        "sweep-outbox": {
            "task": "workers.tasks.mail.drain_outbox",
            "schedule": app.config["OUTBOX_SWEEP_SECONDS"],
            "options": {"expires": app.config["OUTBOX_SWEEP_SECONDS"] * 4},
        },
        "fold-counts": {
            "task": "workers.tasks.counting.fold_counts",
            "schedule": app.config["COUNT_INTERVAL_SECONDS"],
            "options": {"expires": app.config["COUNT_INTERVAL_SECONDS"] * 4},
        },
        "sweep-exports": {
            "task": "workers.tasks.exports.sweep_exports",
            "schedule": 60.0,
            "options": {"expires": 120},
        },
        "reconcile-counts": {
            "task": "workers.tasks.counting.reconcile_counts",
            "schedule": app.config["RECONCILE_INTERVAL_SECONDS"],
            "options": {"expires": app.config["RECONCILE_INTERVAL_SECONDS"]},
        },
        "deliver-webhooks": {
            "task": "workers.tasks.webhooks.deliver_webhooks",
            "schedule": app.config["WEBHOOK_SWEEP_SECONDS"],
            "options": {"expires": app.config["WEBHOOK_SWEEP_SECONDS"] * 4},
        },
        # Issue 4: mailings, milestones, retention.
        "resume-mailings": {
            "task": "workers.tasks.mailings.resume_mailings",
            "schedule": app.config["MAILING_SWEEP_SECONDS"],
            "options": {"expires": app.config["MAILING_SWEEP_SECONDS"] * 4},
        },
        "check-milestones": {
            "task": "workers.tasks.mailings.check_milestones",
            "schedule": app.config["MILESTONE_INTERVAL_SECONDS"],
            "options": {"expires": app.config["MILESTONE_INTERVAL_SECONDS"] * 2},
        },
        "apply-retention": {
            "task": "workers.tasks.supporters.apply_retention",
            "schedule": app.config["RETENTION_INTERVAL_SECONDS"],
            "options": {"expires": app.config["RETENTION_INTERVAL_SECONDS"]},
        },
        "event-reminders": {
            "task": "workers.tasks.gatherings.send_reminders",
            "schedule": app.config["EVENT_REMINDER_SWEEP_SECONDS"],
            "options": {"expires": app.config["EVENT_REMINDER_SWEEP_SECONDS"] * 2},
        },
        "abuse-scan": {
            "task": "workers.tasks.abuse.scan",
            "schedule": app.config["TRENDING_INTERVAL_SECONDS"],
            "options": {"expires": app.config["TRENDING_INTERVAL_SECONDS"]},
        },
    }
