"""How tasks run: the Celery app, the base task every task uses, and the beat schedule.

Every task runs as one unit of work in the Flask app's context (return commits, raise rolls
back), and shares one retry policy: a database that is briefly unreachable
(``OperationalError``) is retried three times with exponential backoff; anything else fails
the task and is logged. The periodic sweeps re-drive any work a failed task left, so no task
needs a longer policy.

Acknowledgement: tasks are acknowledged when they *start* unless they say
``acks_late=True``. Only idempotent tasks say so (each one's work is guarded by leases or
rows in the database). ``task_reject_on_worker_lost`` stays off, so a message whose task
kills its worker process is acknowledged as failed, recorded in the worker log, and not
redelivered for ever; the sweeps pick the work up again from the database.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask, has_app_context
from sqlalchemy.exc import OperationalError

from petitions.core import task_names
from petitions.core.broker import broker_settings
from petitions.core.unit_of_work import run_in_unit_of_work


def celery_init_app(app: Flask) -> Celery:
    """Attach a Celery app whose tasks run inside this Flask app's context (Flask's pattern)."""

    class FlaskTask(Task):
        """Runs in the app context as one unit of work: return commits, raise rolls back."""

        autoretry_for = (OperationalError,)
        retry_backoff = True
        max_retries = 3

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
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
    settings: dict[str, Any] = {
        "task_ignore_result": True,
        "result_backend": None,
        "task_always_eager": app.config["CELERY_ALWAYS_EAGER"],
        "task_eager_propagates": True,
        "worker_prefetch_multiplier": 1,
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


def _every(name: str, seconds: float, expires: float) -> dict[str, Any]:
    # A run that waited longer than ``expires`` is dropped: the next one does the same work.
    return {"task": name, "schedule": seconds, "options": {"expires": expires}}


def beat_schedule(app: Flask) -> dict[str, Any]:
    c = app.config
    return {
        "sweep-outbox": _every(
            task_names.DRAIN_OUTBOX, c["OUTBOX_SWEEP_SECONDS"], c["OUTBOX_SWEEP_SECONDS"] * 4
        ),
        "fold-counts": _every(
            task_names.FOLD_COUNTS, c["COUNT_INTERVAL_SECONDS"], c["COUNT_INTERVAL_SECONDS"] * 4
        ),
        "sweep-exports": _every(task_names.SWEEP_EXPORTS, 60.0, 120),
        "reconcile-counts": _every(
            task_names.RECONCILE_COUNTS,
            c["RECONCILE_INTERVAL_SECONDS"],
            c["RECONCILE_INTERVAL_SECONDS"],
        ),
        "deliver-webhooks": _every(
            task_names.DELIVER_WEBHOOKS,
            c["WEBHOOK_SWEEP_SECONDS"],
            c["WEBHOOK_SWEEP_SECONDS"] * 4,
        ),
        "resume-mailings": _every(
            task_names.RESUME_MAILINGS,
            c["MAILING_SWEEP_SECONDS"],
            c["MAILING_SWEEP_SECONDS"] * 4,
        ),
        "check-milestones": _every(
            task_names.CHECK_MILESTONES,
            c["MILESTONE_INTERVAL_SECONDS"],
            c["MILESTONE_INTERVAL_SECONDS"] * 2,
        ),
        "apply-retention": _every(
            task_names.APPLY_RETENTION,
            c["RETENTION_INTERVAL_SECONDS"],
            c["RETENTION_INTERVAL_SECONDS"],
        ),
        "event-reminders": _every(
            task_names.SEND_REMINDERS,
            c["EVENT_REMINDER_SWEEP_SECONDS"],
            c["EVENT_REMINDER_SWEEP_SECONDS"] * 2,
        ),
        "deliver-letters": _every(
            task_names.DELIVER_LETTERS,
            c["LETTER_SWEEP_SECONDS"],
            c["LETTER_SWEEP_SECONDS"] * 2,
        ),
        "letter-digests": _every(task_names.SEND_LETTER_DIGESTS, 60.0, 120),
        "fold-letter-counts": _every(
            task_names.FOLD_LETTER_COUNTS,
            c["COUNT_INTERVAL_SECONDS"],
            c["COUNT_INTERVAL_SECONDS"] * 4,
        ),
        "reconcile-letter-counts": _every(
            task_names.RECONCILE_LETTER_COUNTS,
            c["RECONCILE_INTERVAL_SECONDS"],
            c["RECONCILE_INTERVAL_SECONDS"],
        ),
        "abuse-scan": _every(
            task_names.SCAN_ABUSE,
            c["TRENDING_INTERVAL_SECONDS"],
            c["TRENDING_INTERVAL_SECONDS"],
        ),
    }
