"""The one entry point for ``celery -A workers``: a Flask app built by the factory."""

from __future__ import annotations

import logging

from celery import Celery

from petitions import create_app


class _QuietStop(logging.Filter):
    """Stopping ``make run`` (Ctrl-C) signals the pool's children as well (SIGTERM, then
    SIGKILL for a slow one); their exits are how a stop looks, not errors worth a red line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("exited with 'signal 15 (SIGTERM)'" in message or "(SIGKILL)'" in message)


logging.getLogger("multiprocessing").addFilter(_QuietStop())  # billiard's pool supervisor


flask_app = create_app()
celery_app: Celery = flask_app.extensions["celery"]
celery_app.conf.task_always_eager = False

import workers.tasks.abuse  # noqa: E402,F401
import workers.tasks.counting  # noqa: E402,F401  (registers the tasks)
import workers.tasks.exports  # noqa: E402,F401
import workers.tasks.gatherings  # noqa: E402,F401
import workers.tasks.letters  # noqa: E402,F401
import workers.tasks.mail  # noqa: E402,F401
import workers.tasks.mailings  # noqa: E402,F401
import workers.tasks.supporters  # noqa: E402,F401
import workers.tasks.webhooks  # noqa: E402,F401
