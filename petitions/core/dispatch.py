"""Handing work to the workers after a commit.

The outbox and the signature table are the durable record of what must happen; a task
message is only a nudge to do it soon. Nudges are debounced through Redis (one message per
task name per ``NUDGE_DEBOUNCE_MS``) so a surge of signatures costs one Celery publish per
batch, not per request. If Redis or the broker is down the nudge is dropped with a warning:
the periodic sweeper picks the rows up anyway, so the user is never told anything failed.
"""

from __future__ import annotations

import logging
import time

from flask import current_app

from petitions.core.redis import get_redis, run_script

log = logging.getLogger(__name__)

NUDGE_KEY = "petitions:nudge:{}"
_local_nudges: dict[str, float] = {}


def nudge(task_name: str) -> bool:
    """Ask the workers to run ``task_name`` soon. Returns True if a message was published."""
    app = current_app
    if not app.config.get("TASK_DISPATCH", True):
        return False
    debounce_ms = app.config["NUDGE_DEBOUNCE_MS"]
    try:
        client = get_redis()
        if client is not None:
            if not client.set(NUDGE_KEY.format(task_name), b"1", nx=True, px=debounce_ms):
                return False
        else:
            now = time.monotonic()
            if now - _local_nudges.get(task_name, 0.0) < debounce_ms / 1000:
                return False
            _local_nudges[task_name] = now
        app.extensions["celery"].send_task(task_name)
    except Exception as exc:  # any broker failure: the sweeper is the safety net
        log.warning(
            "nudge of %s not published (%s); the sweeper will pick it up",
            task_name,
            type(exc).__name__,
        )
        return False
    return True


# ``SET key 1 NX PX <debounce>`` on each key, in one script call (cheaper than a pipeline of
# SETs through the client): 1 for each key set now (its nudge is due), 0 for one already set.
_NUDGE_ALL_SCRIPT = """
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) and 1 or 0
end
return out
"""


def nudge_all(task_names: list[str]) -> list[bool]:
    """``nudge`` each of these, with one Redis round trip for all their debounce keys.

    The after-commit queue sends a unit of work's nudges this way (a signature nudges both the
    outbox drain and the count fold). Same effects, same failures as calling ``nudge`` on each.
    """
    app = current_app
    if not app.config.get("TASK_DISPATCH", True):
        return [False] * len(task_names)
    try:
        client = get_redis()
    except Exception:
        client = None
    if client is None:
        return [nudge(name) for name in task_names]
    debounce_ms = app.config["NUDGE_DEBOUNCE_MS"]
    try:
        registered = app.extensions.get("petitions_nudge_script")
        if registered is None or registered[0] is not client:  # one per client
            registered = (client, client.register_script(_NUDGE_ALL_SCRIPT))
            app.extensions["petitions_nudge_script"] = registered
        keys = [NUDGE_KEY.format(name) for name in task_names]
        fresh = [bool(due) for due in run_script(registered[1], keys, [debounce_ms])]
    except Exception as exc:
        log.warning(
            "nudges of %s not published (%s); the sweeper will pick them up",
            ", ".join(task_names),
            type(exc).__name__,
        )
        return [False] * len(task_names)
    sent = []
    for name, due in zip(task_names, fresh, strict=True):
        if not due:
            sent.append(False)
            continue
        try:
            app.extensions["celery"].send_task(name)
        except Exception as exc:
            log.warning(
                "nudge of %s not published (%s); the sweeper will pick it up",
                name,
                type(exc).__name__,
            )
            sent.append(False)
        else:
            sent.append(True)
    return sent


def clear_nudge(task_name: str) -> None:
    """Called by a draining task as it starts, so work committed from now on nudges again."""
    try:
        client = get_redis()
        if client is not None:
            client.delete(NUDGE_KEY.format(task_name))
    except Exception as exc:
        log.warning("could not clear nudge for %s (%s)", task_name, type(exc).__name__)
