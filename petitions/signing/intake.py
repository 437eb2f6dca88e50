"""The one path from a submission to a stored signature, shared by the web form and the API.

It runs the abuse checks and records the signature (flushed, in the caller's unit of work),
and registers the workers' nudges to run after that unit of work commits. Anything the user
is told was recorded is committed before the nudge, so a broker failure loses nothing, and a
rollback drops the nudges with the row.
"""

from __future__ import annotations

import dataclasses
import logging

from petitions.core.dispatch import nudge
from petitions.core.unit_of_work import after_commit
from petitions.mailer.services import DRAIN_TASK
from petitions.screening.checks import RequestFacts, Verdict, assess, clean_ip
from petitions.signing import services

log = logging.getLogger(__name__)


def submit_signature(
    action: services.Signable, data: services.SignatureInput, facts: RequestFacts | None = None
) -> services.SignOutcome:
    """Record a signature and queue its confirmation. Raises ``services.ActionClosed``.

    ``facts`` carries what the view knows about the request (form fill time, honeypot); the
    client IP defaults to ``data.ip_address``. Past a hard rate limit this raises
    ``petitions.screening.checks.RateLimited`` (an HTTP 429); a dropped, held or flagged
    submission returns an outcome shaped like any other, so the caller shows the normal
    response.
    """
    facts = facts or RequestFacts()
    ip = clean_ip(facts.ip or data.ip_address)
    if ip != data.ip_address:
        data = dataclasses.replace(data, ip_address=ip)
    assessment = assess(action.id, data.email_normalised, dataclasses.replace(facts, ip=ip))
    if assessment.verdict is Verdict.DROP:
        log.info("signature dropped on action %s: %s", action.id, ", ".join(assessment.reasons))
        return services.SignOutcome(0, created=False, email_queued=False)
    reasons = "; ".join(assessment.reasons)
    if assessment.verdict is Verdict.SUSPECT:
        log.info("signature held for review on action %s: %s", action.id, reasons)
        data = dataclasses.replace(data, suspect=True, review_reason=reasons)
    elif assessment.verdict is Verdict.REVIEW:
        # Sent and counted as usual (the mailbox proves a person); the signal is kept.
        data = dataclasses.replace(data, review_reason=reasons)
    outcome = services.sign(action, data)  # on error the unit of work rolls back: no nudge
    if outcome.email_queued:
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
    return outcome
