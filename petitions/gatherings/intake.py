"""The one path from an RSVP form to a stored RSVP, shared by the event page and the embed.

It runs the signing intake (abuse checks, the signature, its confirmation email) and records
the RSVP with its answers, in the caller's unit of work. A cancelled RSVP sent again is
opened again (:func:`petitions.gatherings.services.reopen_rsvp`), whose new confirmation
email nudges the mail worker after the commit.
"""

from __future__ import annotations

from petitions.campaigns.models import Action
from petitions.core.dispatch import nudge
from petitions.core.unit_of_work import after_commit
from petitions.gatherings import services
from petitions.gatherings.models import RsvpStatus
from petitions.mailer.services import DRAIN_TASK
from petitions.screening.checks import RequestFacts
from petitions.signing.services import SignatureInput, SignOutcome, submit_signature


def submit_rsvp(
    action: Action,
    data: SignatureInput,
    facts: RequestFacts | None,
    answers: dict[str, str],
    sensitive: dict[str, str],
) -> SignOutcome:
    """Record an RSVP. Raises ``signing.services.ActionClosed`` (and the intake's
    ``RateLimited``) like :func:`petitions.signing.services.submit_signature`."""
    outcome = submit_signature(action, data, facts)
    found = services.record_rsvp(action, outcome.signature_id, answers, sensitive)
    if found is not None and found.status == RsvpStatus.PENDING.value:
        # A cancelled RSVP opened again has a new confirmation to send (deduplicated nudge).
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
    return outcome
