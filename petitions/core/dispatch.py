"""Handing work to the workers after a commit.

The outbox and the signature table are the durable record of what must happen; a task
message is only a nudge to do it soon. Nudges are debounced through Redis (one message per
task name per ``NUDGE_DEBOUNCE_MS``) so a surge of signatures costs one Celery publish per
batch, not per request. If Redis or the broker is down the nudge is dropped with a warning:
the periodic sweeper picks the rows up anyway, so the user is never told anything failed.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterable

from flask import Flask, current_app

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


# --- after-commit nudges, sent from one thread per process ---------------------------------


def nudge_after_commit(task_names: list[str]) -> None:
    """The after-commit queue's nudges: handed to this process's ``Nudger`` when
    ``NUDGE_IN_BACKGROUND`` is on (the request answers without waiting on Redis), else sent
    now (``nudge_all``). Either way they are sent after the commit that made them due."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("NUDGE_IN_BACKGROUND", False) or not app.config.get(
        "TASK_DISPATCH", True
    ):
        if len(task_names) == 1:
            nudge(task_names[0])
        else:
            nudge_all(task_names)
        return
    nudger = app.extensions.get("petitions_nudger")
    if nudger is None:
        nudger = app.extensions.setdefault("petitions_nudger", Nudger(app))
    nudger.add(task_names)


class Nudger:
    """Sends the nudges committed units of work ask for, from one thread of this process.

    A signature's nudge was a Redis round trip inside its request (about a tenth of the hot
    path's CPU under load, with the thread waiting on Redis). Here the request only records
    the task names; the thread sends whatever has gathered in one ``nudge_all`` call, then
    waits ``NUDGE_BATCH_SECONDS`` before the next, so a surge costs a few Redis calls a second
    per process. Order is unchanged: a name is added only after its commit, so a drain that
    the nudge starts sees the row (``clear_nudge``). A nudge lost with the process (killed
    between the commit and the send) is what the sweepers are for, as when Redis is down.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.gap = float(app.config.get("NUDGE_BATCH_SECONDS", 0.05))
        self._reset()
        _nudgers.add(self)

    def _reset(self) -> None:
        # Also in a forked child: the parent's thread, lock and names do not come along.
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.pending: dict[str, None] = {}
        self.sending = False
        self.thread: threading.Thread | None = None

    def add(self, task_names: Iterable[str]) -> None:
        with self.lock:
            self.pending.update(dict.fromkeys(task_names))
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="nudger", daemon=True)
                self.thread.start()
        self.wake.set()

    def idle(self) -> bool:
        """Nothing waiting to be sent and nothing being sent (for tests and shutdown)."""
        with self.lock:
            return not self.pending and not self.sending

    def flush(self) -> None:
        """Send what is waiting, now, on the calling thread (the nudger's; at exit)."""
        with self.lock:
            names = list(self.pending)
            self.pending.clear()
            self.sending = bool(names)
        try:
            if names:
                with self.app.app_context():
                    nudge_all(names)
        finally:
            with self.lock:
                self.sending = False

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            try:
                self.flush()
            except Exception:  # nudge_all logs its own failures; this is anything else
                log.exception("nudger: nudges not sent; the sweepers will pick the work up")
            time.sleep(self.gap)


_nudgers: weakref.WeakSet[Nudger] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for nudger in list(_nudgers):
        nudger._reset()


def _flush_all_at_exit() -> None:
    for nudger in list(_nudgers):
        try:
            nudger.flush()
        except Exception:
            log.warning("nudger: nudges not sent at exit; the sweepers will pick the work up")


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_flush_all_at_exit)
