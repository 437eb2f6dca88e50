"""Each area registers a builder per outbox kind: ``builder(ref_id) -> BuiltEmail | None``.

A builder returns None when there is nothing to send any more (e.g. the signature was
confirmed meanwhile); the outbox row is then closed without mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_mail import Message


@dataclass
class BuiltEmail:
    message: Message
    recipient: str  # normalised address, for suppression


Builder = Callable[[int], BuiltEmail | None]
BUILDERS: dict[str, Builder] = {}


def email_builder(kind: str) -> Callable[[Builder], Builder]:
    def register(func: Builder) -> Builder:
        BUILDERS[kind] = func
        return func

    return register
