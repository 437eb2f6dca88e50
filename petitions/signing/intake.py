"""The one path from a submission to a stored signature, shared by the web form and the API.

It runs the abuse checks, records the signature in one short transaction, commits, and only
then nudges the workers. Anything the user is told was recorded is committed before the
nudge, so a broker failure after this point loses nothing.
"""

from __future__ import annotations

from petitions.campaigns.models import Action
from petitions.core.dispatch import nudge
from petitions.counting.services import FOLD_TASK
from petitions.extensions import db
from petitions.mailer.services import DRAIN_TASK
from petitions.signing import services


def submit_signature(action: Action, data: services.SignatureInput) -> services.SignOutcome:
    """Record a signature and queue its confirmation. Raises ``services.ActionClosed``."""
    try:
        outcome = services.sign(action, data)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    if outcome.email_queued:
        nudge(DRAIN_TASK)
    if outcome.created:
        nudge(FOLD_TASK)
    return outcome
