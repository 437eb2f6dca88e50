"""The one entry point for ``celery -A workers``: a Flask app built by the factory."""

from __future__ import annotations

from celery import Celery

from petitions import create_app

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
