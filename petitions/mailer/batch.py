"""The one SMTP batch sender: every area that mails in batches sends through it.

The outbox (``mailer.services``), mailings (``mailings.jobs``), letters to targets
(``letters.jobs``) and event reminders (``gatherings.jobs``) each lease their own rows and
record outcomes on their own rows, in their own transactions. What they share is written once
here, in :meth:`BatchSender.send`:

* **one connection per batch** (``mailer.smtp.open_connection``: a timeout; IDNA domains and
  ``MAIL_SMTPUTF8`` recipients handled by the connection itself);
* **each message on its own**: whatever sending one message raises is that message's
  :class:`Outcome`, and the next one goes over the same connection after an ``RSET``;
* **one classification**: a 5xx is ``REFUSED`` (the address is suppressed here, so nothing
  mails it again); a 4xx is ``DEFERRED``; an address or header that cannot go on the wire as
  it is (``UnicodeError``, a bad header, SMTPUTF8 unsupported) is ``UNSENDABLE``; a connection
  that drops or times out mid-message is ``CUT`` (it may have been delivered); any other error
  is ``ERROR``. The message was not delivered in every case but ``SENT`` and ``CUT``;
* **one attempt cap**: a ``DEFERRED``, ``ERROR`` or ``CUT`` outcome at or past the sender's
  ``max_attempts`` is marked ``gave_up``, its reason prefixed ``gave up:``;
* **no blame for an absent server**: messages not tried because the connection could not be
  opened, was lost, or the batch was stopped are handed back (:meth:`BatchSender.give_back`)
  with the reason, never charged an outcome;
* **no addresses in logs or reasons**: both name the row's id and the exception's type only.

An area subclasses :class:`BatchSender` in its ``jobs`` module (which owns its transactions)
and says how to get each item's email, how to record an outcome (and commit), and how to hand
rows back. This module itself never commits.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask_mail import BadHeaderError

from petitions.mailer.registry import BuiltEmail
from petitions.mailer.smtp import open_connection, smtp_code
from petitions.mailer.suppression import suppress

log = logging.getLogger(__name__)

T = TypeVar("T")

# What no retry can fix: the address (or a header) cannot be put on the wire as it is.
UNSENDABLE: tuple[type[BaseException], ...] = (
    UnicodeError,
    BadHeaderError,
    smtplib.SMTPNotSupportedError,
)


class Result(enum.StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # 5xx: for good; the address is suppressed
    DEFERRED = "deferred"  # 4xx: not delivered, may be tried again
    UNSENDABLE = "unsendable"  # cannot go on the wire as it is: for good
    ERROR = "error"  # anything else raised while sending it: not delivered
    CUT = "cut"  # the connection dropped while it was in flight: may have been delivered


@dataclass(frozen=True)
class Outcome:
    result: Result
    error: str | None = None  # the reason to record: never an address
    code: int | None = None  # the SMTP reply code, if the server gave one
    gave_up: bool = False  # a retryable outcome on the last allowed attempt

    @property
    def final(self) -> bool:
        """Nothing more to try for this message (sent, refused for good, or out of tries)."""
        return self.result in (Result.SENT, Result.REFUSED, Result.UNSENDABLE) or self.gave_up


@dataclass
class BatchEnd:
    """How a batch ended: ``error`` names SMTP trouble (stop for now, the sweeper comes back);
    ``stopped`` says the sender asked to stop (paused, cancelled, lease lost)."""

    error: str | None = None
    stopped: bool = False


class Stop(Exception):  # noqa: N818 - a signal from email_for, not an error
    """Raised by :meth:`BatchSender.email_for` to end the batch before this item.

    ``give_back`` says whether this and the later items are handed back (paused, cancelled:
    ``BatchEnd.stopped``) or left alone (the lease lapsed, they are someone else's now:
    ``BatchEnd.error`` is the reason).
    """

    def __init__(self, reason: str | None = None, *, give_back: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.give_back = give_back


def describe(exc: BaseException) -> str:
    """A reason that names the failure, never the address it was about."""
    return type(exc).__name__


class BatchSender(Generic[T]):
    """Sends a leased batch over one connection; subclasses record what happened.

    ``name`` prefixes log lines; ``max_attempts`` (None: no cap) applies with
    :meth:`attempt_of`, the number of this try (1 for the first).
    """

    name = "mail"
    max_attempts: int | None = None

    # --- what an area says --------------------------------------------------------------

    def email_for(self, item: T) -> BuiltEmail | None:
        """The email to send for this item, just before it goes; None to skip it (the
        sender recorded why). May raise :class:`Stop`. Defaults to ``item.email``."""
        email: BuiltEmail | None = getattr(item, "email")  # noqa: B009 - the default shape
        return email

    def attempt_of(self, item: T) -> int:
        return int(getattr(item, "attempts", 1))

    def key_of(self, item: T) -> object:
        return getattr(item, "id", "?")

    def record(self, item: T, outcome: Outcome) -> None:
        """Write this item's outcome on its row (and commit, in the area's jobs module)."""
        raise NotImplementedError

    def give_back(self, items: Sequence[T], reason: str) -> None:
        """These were not tried (no connection, lost connection, stopped): hand them back."""
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the batch, however it ended short of an exception."""

    # --- written once ---------------------------------------------------------------------

    def send(self, items: Sequence[T]) -> BatchEnd:
        end = BatchEnd()
        if not items:
            self.finish()
            return end
        try:
            connection = open_connection()
            connection.__enter__()
        except OSError as exc:  # smtplib's errors are OSErrors too
            end.error = f"connect: {smtp_code(exc) or describe(exc)}"
            self.give_back(items, end.error)
            self.finish()
            return end
        try:
            for index, item in enumerate(items):
                try:
                    email = self.email_for(item)
                except Stop as stop:
                    if stop.give_back:
                        end.stopped = True
                        self.give_back(items[index:], stop.reason or "stopped")
                    else:
                        end.error = stop.reason or "stopped"
                    break
                if email is None:
                    continue
                outcome = self._attempt(connection, item, email)
                self.record(item, outcome)
                if outcome.result is Result.SENT:
                    continue
                if outcome.result is Result.CUT:
                    end.error = outcome.error
                elif not _reset(connection):
                    after = "an error" if outcome.result is Result.ERROR else "refusal"
                    end.error = f"connection lost after {after}"
                if end.error is not None:
                    self.give_back(items[index + 1 :], end.error)
                    break
            self.finish()
        finally:
            connection.__exit__(None, None, None)
        return end

    def _attempt(self, connection: Any, item: T, email: BuiltEmail) -> Outcome:
        try:
            connection.send(email.message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            code = smtp_code(exc)
            if code is not None and 500 <= code < 600:
                suppress(email.recipient, f"smtp {code}")
                return Outcome(Result.REFUSED, f"smtp {code}", code)
            return self._capped(item, Outcome(Result.DEFERRED, f"smtp {code}", code))
        except UNSENDABLE as exc:
            # Raised before or between SMTP commands (Flask-Mail's or smtplib's encoding):
            # this message alone, and for good; the next one goes over the same connection.
            log.warning("%s %s: unsendable: %s", self.name, self.key_of(item), describe(exc))
            return Outcome(Result.UNSENDABLE, f"address cannot be sent: {describe(exc)}")
        except OSError as exc:
            # Disconnected or timed out: the message in flight may be what the server chokes
            # on (it is charged), every later one is handed back uncharged.
            _abandon(connection)
            return self._capped(item, Outcome(Result.CUT, f"connection: {describe(exc)}"))
        except Exception as exc:  # noqa: BLE001 - one message's bug never stalls the rest
            log.warning("%s %s: sending failed: %s", self.name, self.key_of(item), describe(exc))
            return self._capped(item, Outcome(Result.ERROR, f"send: {describe(exc)}"))
        return Outcome(Result.SENT)

    def _capped(self, item: T, outcome: Outcome) -> Outcome:
        cap = self.max_attempts
        if cap is None or self.attempt_of(item) < cap:
            return outcome
        return Outcome(outcome.result, f"gave up: {outcome.error}", outcome.code, gave_up=True)


def _abandon(connection: Any) -> None:
    """Drop a broken connection without a polite QUIT that would wait out another timeout."""
    host = getattr(connection, "host", None)
    if host is not None:
        with contextlib.suppress(OSError):
            host.close()
    connection.host = None


def _reset(connection: Any) -> bool:
    """After a refused or unsendable message the SMTP session needs a reset; False if lost."""
    if connection.host is None:
        return True  # sending is suppressed (MAIL_SUPPRESS_SEND): no session to reset
    try:
        connection.host.rset()
    except OSError:
        _abandon(connection)
        return False
    return True


DeliveryRow = tuple[int, int, BuiltEmail]  # (delivery row id, attempts so far, the email)


class DeliveryRowSender(BatchSender[DeliveryRow]):
    """A sender for areas that keep one delivery row per email (letters, event reminders):
    items are ``(row id, attempts, email)``; the area says how outcomes are recorded."""

    def email_for(self, item: DeliveryRow) -> BuiltEmail:
        return item[2]

    def key_of(self, item: DeliveryRow) -> object:
        return item[0]

    def attempt_of(self, item: DeliveryRow) -> int:
        return item[1]
