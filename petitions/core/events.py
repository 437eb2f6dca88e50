"""Domain events: how one area tells the others that something happened.

The area that makes a change sends the event *inside* its unit of work, after flushing; the
areas that care subscribe (webhooks queue deliveries, counting and milestones nudge their
workers, supporters keep history). Receivers run synchronously in the same transaction, so a
row they write commits or rolls back with the change; anything outside the database they do
through :func:`petitions.core.unit_of_work.after_commit`.

The sender never imports a receiver: signals live here, in the bottom layer, and each
area connects its receivers in its own ``subscribers`` module, imported by the app factory.

Every signal is sent with ``sender=None`` or the area's name and keyword arguments listed in
its docstring; ids, never ORM objects, so receivers cannot depend on what was loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from blinker import NamedSignal, Namespace

_events = Namespace()
R = TypeVar("R", bound=Callable[..., Any])
_EFFECTS_ONLY = "__effects_only__"


def effects_only(receiver: R) -> R:
    """Mark a receiver that writes nothing in the sender's transaction: it only registers
    after-commit effects (``unit_of_work.after_commit``). A change whose receivers are all such
    may be committed before they run (the signing hot path's statement commits itself), as
    their effects still run only after that commit."""
    setattr(receiver, _EFFECTS_ONLY, True)
    return receiver


def only_effects_listen(signal: NamedSignal, sender: Any) -> bool:
    """Every receiver ``signal`` has for ``sender`` is marked :func:`effects_only`."""
    return all(getattr(r, _EFFECTS_ONLY, False) for r in signal.receivers_for(sender))


signature_created = _events.signal(
    "signature-created",
    doc="A signature (or pledge, letter, RSVP) was stored. kwargs: signature_id, action_id, "
    "email_queued (bool: a confirmation email is in the outbox).",
)
signature_confirmed = _events.signal(
    "signature-confirmed", doc="A signature was confirmed. kwargs: signature_id, action_id."
)
signatures_withdrawn = _events.signal(
    "signatures-withdrawn",
    doc="Signatures were withdrawn by their signer. kwargs: signature_ids (list[int]).",
)
signatures_invalidated = _events.signal(
    "signatures-invalidated",
    doc="An organiser invalidated signatures. kwargs: signature_ids (list[int]).",
)
signatures_restored = _events.signal(
    "signatures-restored",
    doc="Invalidated signatures were restored. kwargs: signature_ids (list[int]).",
)
person_erased = _events.signal(
    "person-erased",
    doc="Everything about one email address was erased. kwargs: email_normalised, "
    "signature_ids (list[int]: the rows that were removed), traces (core.erasure."
    "PersonTraces: the addresses, names and IPs those rows held, to blot from other text).",
)
signatures_anonymised = _events.signal(
    "signatures-anonymised",
    doc="Retention anonymised signatures of long-closed actions. kwargs: signature_ids.",
)
person_known = _events.signal(
    "person-known",
    doc="Does any other area hold data about this address (beyond signatures)? kwargs: "
    "email_normalised. A receiver returns True if its area does, so the person may sign in "
    "to 'My actions' to download or erase it (e.g. the host of a proposed event).",
)
person_data_requested = _events.signal(
    "person-data-requested",
    doc="Someone asked for everything held about them. kwargs: email_normalised. Each "
    "receiver returns a dict of named sections to add to their report (its own data only).",
)
counts_changed = _events.signal(
    "counts-changed",
    doc="Signature state changed so tallies must be refolded. kwargs: action_ids (list[int]).",
)
consent_changed = _events.signal(
    "consent-changed",
    doc="A person's contact consent changed (unsubscribe, resubscribe, suppression). "
    "kwargs: email_normalised, consent (bool), reason (str), campaign_id (int, or None for "
    "every campaign). Sent by the mailer when it suppresses an address; supporters keep the "
    "consent history.",
)
rsvp_confirmed = _events.signal(
    "rsvp-confirmed",
    doc="A confirmed RSVP was given its place, the waitlist, or told the event is full. "
    "kwargs: rsvp_id, signature_id, action_id, status ('going' | 'waitlisted' | 'full').",
)
rsvp_cancelled = _events.signal(
    "rsvp-cancelled",
    doc="An RSVP was cancelled by its holder. kwargs: rsvp_id, signature_id, action_id.",
)
rsvp_promoted = _events.signal(
    "rsvp-promoted",
    doc="Someone on a waitlist was given a place. kwargs: rsvp_id, signature_id, action_id.",
)
outbox_queued = _events.signal(
    "outbox-queued", doc="Messages were put in the outbox. kwargs: count (int)."
)
mailing_finished = _events.signal(
    "mailing-finished", doc="A mailing sent its last batch. kwargs: mailing_id."
)
