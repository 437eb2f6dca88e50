"""An SMTP sink for the benchmark: counts what arrives, when, and for whom (aiosmtpd)."""

from __future__ import annotations

import collections
import email
import email.policy
import re
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller

TOKEN_IN_LINK = re.compile(r"/confirm/([A-Za-z0-9_.-]+)")


class _Handler:
    def __init__(self, sink: CountingSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        now = time.monotonic()
        sink = self.sink
        with sink.lock:
            sink.count += 1
            sink.received += 1
            sink.first_at = sink.first_at or now
            sink.last_at = now
            for rcpt in envelope.rcpt_tos:
                sink.recipients[rcpt] += 1
            sink.recent.append((now, envelope.content))
        return "250 Message accepted"


class CountingSink:
    """Keeps counts and the last messages (for their confirmation links), not every body."""

    def __init__(self, port: int, keep: int = 5000) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.count = 0
        self.received = 0  # never reset: messages over the whole run
        self.first_at = 0.0
        self.last_at = 0.0
        self.recipients: collections.Counter[str] = collections.Counter()
        self.recent: collections.deque[tuple[float, bytes]] = collections.deque(maxlen=keep)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def mark(self) -> None:
        """Start a new measurement window."""
        with self.lock:
            self.count = 0
            self.first_at = 0.0
            self.last_at = 0.0

    def duplicates(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.recipients.values() if n > 1)

    def take_messages(self) -> list[bytes]:
        """Every message received since the last take (at most ``keep``), oldest first."""
        with self.lock:
            recent = [content for _, content in self.recent]
            self.recent.clear()
        return recent

    def take_tokens(self, n: int) -> list[str]:
        """Confirmation tokens from the most recently received messages (newest first)."""
        tokens: list[str] = []
        with self.lock:
            recent = list(self.recent)
            self.recent.clear()
        for _, content in reversed(recent):
            message = email.message_from_bytes(content, policy=email.policy.default)
            part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            found = TOKEN_IN_LINK.search(part.get_content() if part is not None else "")
            if found:
                tokens.append(found.group(1))
            if len(tokens) >= n:
                break
        return tokens


def token_of(content: bytes) -> str | None:
    """The confirmation token in one message, parsed the cheap way (compat32): the whole-loop
    confirmers read every message, in the benchmark's own process."""
    message = email.message_from_bytes(content, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                found = TOKEN_IN_LINK.search(payload.decode("utf-8", "replace"))
                if found:
                    return found.group(1)
    return None
