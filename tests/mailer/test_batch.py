"""The one SMTP batch sender (``petitions.mailer.batch``) that the outbox, mailings, letters and
event reminders all send through: each message classified on its own, over one connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask
from flask_mail import Message

from petitions.extensions import db
from petitions.mailer.batch import BatchSender, Outcome, Result, Stop
from petitions.mailer.registry import BuiltEmail
from petitions.mailer.suppression import is_suppressed
from tests.conftest import free_port
from tests.support.smtp import SmtpSink


@dataclass
class _Item:
    id: int
    email: BuiltEmail
    attempts: int = 1


class _Recorder(BatchSender[_Item]):
    name = "test"
    max_attempts = 3

    def __init__(self, stop_at: int | None = None) -> None:
        self.outcomes: dict[int, Outcome] = {}
        self.given_back: list[tuple[list[int], str]] = []
        self.finished = 0
        self.stop_at = stop_at

    def email_for(self, item: _Item) -> BuiltEmail:
        if item.id == self.stop_at:
            raise Stop("paused")
        return item.email

    def record(self, item: _Item, outcome: Outcome) -> None:
        self.outcomes[item.id] = outcome

    def give_back(self, items: Sequence[_Item], reason: str) -> None:
        self.given_back.append(([i.id for i in items], reason))

    def finish(self) -> None:
        self.finished += 1


def _item(n: int, address: str, attempts: int = 1) -> _Item:
    message = Message(subject="Hi", recipients=[address], body="Hello", sender="us@example.org")
    return _Item(n, BuiltEmail(message, address), attempts)


def test_each_message_is_classified_alone_over_one_connection(
    app_ctx: None, smtp_sink: SmtpSink
) -> None:
    smtp_sink.rcpt_replies.extend(["550 5.1.1 No such user", "451 4.3.0 Later", "452 Full"])
    items = [
        _item(1, "gone@example.org"),  # 550: refused, suppressed
        _item(2, "later@example.org"),  # 451 on the first try: deferred
        _item(3, "zoë@example.org"),  # cannot be put on the wire (no SMTPUTF8)
        _item(4, "full@example.org", attempts=3),  # 452 on the last allowed try: gave up
        _item(5, "ok@example.org"),
    ]
    sender = _Recorder()
    end = sender.send(items)

    assert end.error is None and not end.stopped and sender.finished == 1
    got = {n: (o.result, o.error, o.gave_up) for n, o in sender.outcomes.items()}
    assert got == {
        1: (Result.REFUSED, "smtp 550", False),
        2: (Result.DEFERRED, "smtp 451", False),
        3: (Result.UNSENDABLE, "address cannot be sent: UnicodeEncodeError", False),
        4: (Result.DEFERRED, "gave up: smtp 452", True),
        5: (Result.SENT, None, False),
    }
    assert [n for n, o in sender.outcomes.items() if o.final] == [1, 3, 4, 5]
    assert [m.envelope_to for m in smtp_sink.messages] == [["ok@example.org"]]
    assert is_suppressed("gone@example.org") and not is_suppressed("later@example.org")
    assert sender.given_back == []
    db.session.rollback()


def test_a_stop_hands_back_the_rest(app_ctx: None, smtp_sink: SmtpSink) -> None:
    sender = _Recorder(stop_at=2)
    end = sender.send([_item(1, "a@example.org"), _item(2, "b@example.org"), _item(3, "c@x.org")])
    assert end.stopped and end.error is None
    assert list(sender.outcomes) == [1]
    assert sender.given_back == [([2, 3], "paused")]


def test_no_server_hands_every_message_back_uncharged(app: Flask, app_ctx: None) -> None:
    port, app.config["MAIL_PORT"] = app.config["MAIL_PORT"], free_port()  # nothing listens
    app.extensions["mail"].port = app.config["MAIL_PORT"]
    try:
        sender = _Recorder()
        end = sender.send([_item(1, "a@example.org"), _item(2, "b@example.org")])
    finally:
        app.config["MAIL_PORT"] = port
        app.extensions["mail"].port = port
    assert end.error is not None and end.error.startswith("connect: ")
    assert "@" not in end.error
    assert sender.outcomes == {} and sender.given_back == [([1, 2], end.error)]
    assert sender.finished == 1
