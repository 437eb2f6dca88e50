"""The unit of work: who commits, and what happens only after a commit.

One rule, written here once:

* **A request commits once, at the end**, in :func:`run_in_unit_of_work`, which
  :func:`init_app` wraps around every view function. A view that returns normally is
  committed; a view that raises (``abort(404)`` included) is rolled back. Views, services and
  queries never call ``commit()`` themselves: services *flush* when they need ids.
* **A task commits in its runner** (the Celery base task in ``petitions.extensions``), the
  same way: success commits, an exception rolls back.
* The signing hot path writes its one statement on a DBAPI connection of its own
  (``petitions.hotpath.store``) and commits it here too: inside :func:`on_own_connection`,
  with :func:`commit_own_connection`, which then runs the effects registered as after any
  commit. Its effects wait in a queue of that unit's own, so it needs no ORM session.
* Code that must commit **per row or per batch** (draining the outbox, mailing batches,
  folding counts, long invalidation jobs) lives in modules named ``jobs.py`` whose docstring
  says they own their transactions; they call :func:`commit` from this module.

A **lost database connection** (PostgreSQL restarted, a failover, an idle connection cut by a
firewall) is met in two ways: the engine checks each pooled connection before handing it out
(``pool_pre_ping``, see ``petitions.config.engine_options``), and a unit of work that still
meets a dead connection mid-way is rolled back and run once more on a fresh one when repeating
it is safe: any ``GET``/``HEAD`` request, and the views marked with :func:`retry_on_disconnect`
(signing, where the UNIQUE index on action and address makes a second run a no-op duplicate).
The signing hot path's kept connection is not pinged: a failure on it is met by writing the
signature through the ORM session instead (``petitions.hotpath.store``), on the same terms.

Side effects (a nudge to the workers, a webhook wake-up, anything outside the database) are
registered with :func:`after_commit` during the unit of work. They run once the transaction
has committed, in the order registered, and are dropped if it rolls back, so nothing is
announced that was not recorded.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from petitions.core.dispatch import nudge, nudge_after_commit
from petitions.extensions import db

log = logging.getLogger(__name__)

_QUEUE = "petitions.after_commit"
F = TypeVar("F", bound=Callable[..., Any])
Queue = dict[Hashable, tuple[Callable[..., Any], tuple[Any, ...]]]

# The queue of a unit of work on a connection of the caller's own (``on_own_connection``);
# None when the unit of work is the ORM session's, whose queue is in ``session.info``.
_own_queue: ContextVar[Queue | None] = ContextVar("petitions_own_queue", default=None)


def after_commit(callback: Callable[..., Any], *args: Any, key: Hashable | None = None) -> None:
    """Run ``callback(*args)`` after the current transaction commits; forget it on rollback.

    ``key`` de-duplicates: registering the same key twice in one unit of work runs it once
    (a thousand signatures in one bulk change still nudge a worker once).
    """
    queue = _own_queue.get()
    if queue is None:
        queue = db.session.info.setdefault(_QUEUE, {})
    queue_key = key if key is not None else (callback, args, len(queue))
    queue.setdefault(queue_key, (callback, args))


def pending_after_commit() -> int:
    """How many side effects are waiting for the current transaction (for tests and logs)."""
    queue = _own_queue.get()
    return len(queue if queue is not None else db.session.info.get(_QUEUE, {}))


def commit() -> None:
    """Commit the current unit of work (rolling back if the commit fails), then run its effects.

    Only the request and task runners and ``jobs`` modules call this.
    """
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def rollback() -> None:
    db.session.rollback()


@contextlib.contextmanager
def on_own_connection() -> Iterator[None]:
    """A unit of work whose writes are on a DBAPI connection of the caller's own (the signing
    hot path's, ``petitions.hotpath.store``), not in the ORM session: the effects registered
    inside wait in a queue of its own until :func:`commit_own_connection`, and are forgotten
    if the block ends without it (an error, a rollback, or writes handed to the ORM instead).
    Why its own queue: the ORM session's, ``session.info``, would cost a session per
    signature."""
    token = _own_queue.set({})
    try:
        yield
    finally:
        _own_queue.reset(token)


def commit_own_connection(connection: Any) -> None:
    """Commit this unit of work's writes made on the caller's own DBAPI connection (inside
    :func:`on_own_connection`), then run its after-commit effects. If the commit fails, the
    effects are forgotten and the error propagates."""
    queue = _own_queue.get()
    if queue is None:
        raise RuntimeError("commit_own_connection outside on_own_connection")
    try:
        connection.commit()
    except BaseException:
        queue.clear()
        raise
    effects = dict(queue)
    queue.clear()  # once: a second commit on the connection has effects of its own
    _run_effects(effects)


def own_connection_committed() -> None:
    """The caller's writes on its own connection committed themselves (one statement in
    autocommit, inside :func:`on_own_connection`): run the effects registered so far."""
    queue = _own_queue.get()
    if queue is None:
        raise RuntimeError("own_connection_committed outside on_own_connection")
    effects = dict(queue)
    queue.clear()
    _run_effects(effects)


def discard_after_commit() -> None:
    """Those writes were rolled back instead: forget the effects registered for them."""
    queue = _own_queue.get()
    if queue is not None:
        queue.clear()
    else:
        db.session.info.pop(_QUEUE, None)


_RETRY_MARK = "__retry_on_disconnect__"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def retry_on_disconnect(view: F) -> F:
    """Mark a view whose unit of work may run twice: once more if the database connection was
    lost mid-way (the first attempt then rolled back or, at worst, committed — so a second run
    must be harmless, as signing is: the UNIQUE index turns it into the same answer)."""
    setattr(view, _RETRY_MARK, True)
    return view


def is_disconnect(error: BaseException) -> bool:
    """The database connection was lost (SQLAlchemy has invalidated it); a new one may work."""
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _may_retry(view: Callable[..., Any]) -> bool:
    if getattr(view, _RETRY_MARK, False):
        return True
    return has_request_context() and request.method in _SAFE_METHODS


def run_in_unit_of_work(view: F) -> F:
    """Wrap a view (or any callable) so it commits on return and rolls back on any exception.

    A lost connection in a view that may repeat (:func:`_may_retry`) is retried once.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _run_once(view, args, kwargs)
        except DBAPIError as exc:
            if not is_disconnect(exc) or not _may_retry(view):
                raise
            log.warning(
                "database connection lost in %s; running it once more",
                getattr(view, "__name__", "?"),
            )
        return _run_once(view, args, kwargs)

    wrapper.__wrapped_unit_of_work__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _run_once(view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        result = view(*args, **kwargs)
    except BaseException:
        rollback()
        raise
    if orm_session_in_transaction():
        commit()
    return result


def orm_session_in_transaction() -> bool:
    """This context's ORM session has begun a transaction. Asked without making a session
    when there is none (a unit of work on its own connection needs none)."""
    return bool(db.session.registry.has() and db.session().in_transaction())


def init_app(app: Flask) -> None:
    """Wrap every registered view in the unit of work. Call after all blueprints are registered."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static" or getattr(view, "__wrapped_unit_of_work__", False):
            continue
        app.view_functions[endpoint] = run_in_unit_of_work(view)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    queue = session.info.pop(_QUEUE, None)
    if queue:
        _run_effects(queue)


def _run_effects(queue: Queue) -> None:
    # A unit of work's nudges go together (one Redis round trip, or the process's nudger:
    # ``dispatch.nudge_after_commit``), where the first was.
    nudges = [args[0] for callback, args in queue.values() if callback is nudge and len(args) == 1]
    for callback, args in queue.values():
        if callback is nudge and len(args) == 1:
            if not nudges:
                continue  # sent with the first
            callback, args, nudges = nudge_after_commit, (nudges,), []
        try:
            callback(*args)
        except Exception:  # a side effect must never turn a recorded change into an error page
            log.exception("after-commit callback %s failed", getattr(callback, "__name__", "?"))


@event.listens_for(Session, "after_soft_rollback")
def _drop_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_QUEUE, None)
