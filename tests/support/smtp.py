"""A real SMTP server on a local port (aiosmtpd) whose replies a test can script."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.timing import patient


@dataclass
class Caught:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,  # noqa: N802
        rcpt_options: list[str],
    ) -> str:
        with self.sink.lock:
            reply = self.sink.rcpt_replies.pop(0) if self.sink.rcpt_replies else None
            self.sink.rcpt_attempts += 1
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.sink.lock:
            self.sink.data_started += 1
        if self.sink.hang_seconds:
            await asyncio.sleep(self.sink.hang_seconds)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(Caught(list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"


class SmtpSink:
    def __init__(self, port: int, *, smtputf8: bool = False) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.messages: list[Caught] = []
        self.rcpt_replies: list[str] = []
        self.rcpt_attempts = 0
        self.data_started = 0  # DATA commands received (a message is being handed over)
        self.hang_seconds = 0.0
        self.smtputf8 = smtputf8
        self.controller = self._controller()

    def _controller(self) -> Controller:
        return Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=self.smtputf8
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        """Stop listening (connections are refused, as from a server that is down); ``start``
        listens again on the same port, keeping what was caught."""
        self.controller.stop()
        self.controller = self._controller()

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.rcpt_replies.clear()
            self.rcpt_attempts = 0
            self.data_started = 0
            self.hang_seconds = 0.0

    def to(self, address: str) -> list[Caught]:
        with self.lock:
            return [m for m in self.messages if address in m.envelope_to]

    def wait_for(
        self, count: int, timeout: float = 15.0, address: str | None = None
    ) -> list[Caught]:
        deadline = time.monotonic() + patient(timeout)
        while True:
            found = self.to(address) if address else list(self.messages)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} emails, the sink has {len(found)}")
            time.sleep(0.05)
