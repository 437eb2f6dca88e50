"""Each area registers a builder per outbox kind: ``builder(ref_id) -> BuiltEmail | None``.

A builder returns None when there is nothing to send any more (e.g. the signature was
confirmed meanwhile); the outbox row is then closed without mail.

A kind with many emails per batch (confirmations) may also register a *batch builder*:
``batch_builder(ref_ids) -> {ref_id: BuiltEmail | None | Exception}``, which builds a whole
batch with one query and one INSERT instead of a few per email. An ``Exception`` value is that
one email's failure (recorded on its row as the single builder's would be); a ref_id left out
of the answer, or every ref_id if the batch builder raises, is built one at a time by the
kind's single builder, so a batch builder can never make a message fail that would not fail
alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


BatchBuilder = Callable[[Sequence[int]], Mapping[int, BuiltEmail | None | Exception]]
BATCH_BUILDERS: dict[str, BatchBuilder] = {}


def email_batch_builder(kind: str) -> Callable[[BatchBuilder], BatchBuilder]:
    def register(func: BatchBuilder) -> BatchBuilder:
        BATCH_BUILDERS[kind] = func
        return func

    return register
