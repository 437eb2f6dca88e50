"""Task wiring: every name is written once, registered, scheduled correctly, and retried alike."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy.exc import OperationalError

import workers.tasks
from petitions.core import task_names
from petitions.core.tasks import beat_schedule

NAMES = {value for key, value in vars(task_names).items() if key.isupper()}
# Tasks that may run again after a worker dies mid-task: their work is guarded by leases or
# rows in the database, so a second run does nothing twice.
IDEMPOTENT = {
    task_names.DRAIN_OUTBOX,
    task_names.FOLD_COUNTS,
    task_names.RECONCILE_COUNTS,
    task_names.FOLD_LETTER_COUNTS,
    task_names.RECONCILE_LETTER_COUNTS,
    task_names.DELIVER_WEBHOOKS,
    task_names.SEND_MAILING,
    task_names.RUN_INVALIDATION,
    task_names.UNDO_INVALIDATION,
}


def _our_tasks(app):
    for module in pkgutil.iter_modules(workers.tasks.__path__):
        importlib.import_module(f"workers.tasks.{module.name}")
    celery = app.extensions["celery"]
    return {name: task for name, task in celery.tasks.items() if name.startswith("workers.")}


def test_every_task_is_named_in_the_one_module(app):
    assert set(_our_tasks(app)) == NAMES


def test_beat_schedules_only_registered_tasks(app):
    registered = set(_our_tasks(app))
    scheduled = {entry["task"] for entry in beat_schedule(app).values()}
    assert scheduled <= registered
    assert task_names.DRAIN_OUTBOX in scheduled and task_names.FOLD_COUNTS in scheduled


def test_one_retry_policy_and_acks_late_only_where_idempotent(app):
    celery = app.extensions["celery"]
    assert not celery.conf.task_reject_on_worker_lost  # a poison message is not redelivered
    assert not celery.conf.task_acks_late
    for name, task in _our_tasks(app).items():
        assert OperationalError in tuple(task.autoretry_for), name
        assert task.max_retries == 3, name
        assert bool(task.acks_late) == (name in IDEMPOTENT), name
