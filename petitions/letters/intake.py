"""The one path from a written letter to a stored one, shared by the web form and the OSDI
record outreach helper: the recipients resolved, the words checked, then the signing intake
(abuse checks, rate limits, deduplication, the double opt-in email) and the letter row, all in
the caller's unit of work. Nothing is sent until the signature is confirmed."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from petitions.campaigns.models import Action
from petitions.core.i18n import localised
from petitions.geo import queries as geo
from petitions.letters import services
from petitions.letters.models import Letter, LetterDetails, LetterTarget
from petitions.letters.notifications import Recipient, recipient_of
from petitions.screening.checks import RequestFacts
from petitions.signing.services import SignatureInput, SignOutcome, submit_signature


@dataclass(frozen=True)
class Addressee:
    target: LetterTarget
    recipient: Recipient | None  # None: no address for them (yet)
    label: str


def addressees(action: Action, details: LetterDetails, place: geo.Place | None) -> list[Addressee]:
    """Everyone a letter from ``place`` goes to: the MP (if the action writes to MPs and the
    constituency is known), then the fixed recipients."""
    result: list[Addressee] = []
    if details.to_representative and place is not None:
        target = services.representative_target(action.id, place.code)
        if target is not None:
            label = _(
                "%(name)s, MP for %(place)s", name=place.mp_name or _("Your MP"), place=place.name
            )
            if place.mp_party:
                label += f" ({place.mp_party})"
            result.append(Addressee(target, recipient_of(target), label))
    for target in services.fixed_targets(action.id):
        # The page's language (a recipient's Welsh title); the letter goes as written.
        title = localised(target, "title")
        label = target.name + (f", {title}" if title else "")
        if target.organisation:
            label += f", {target.organisation}"
        result.append(Addressee(target, recipient_of(target), label))
    return result


def uses_thank_you(details: LetterDetails, people: list[Addressee]) -> bool:
    """The thank-you variant applies when the MP (or every fixed recipient) supports."""
    targets = [a.target for a in people if a.recipient is not None]
    mp = next((t for t in targets if t.is_representative), None)
    return bool(details.thank_you_template) and (
        (mp is not None and mp.supports) or (bool(targets) and all(t.supports for t in targets))
    )


@dataclass(frozen=True)
class LetterOutcome:
    signature: SignOutcome
    letter: Letter | None
    targets: list[LetterTarget]


def submit_letter(
    action: Action,
    details: LetterDetails,
    data: SignatureInput,
    *,
    message: str,
    personal: str,
    place: geo.Place | None,
    facts: RequestFacts | None = None,
) -> LetterOutcome:
    """Store a letter pending confirmation. Raises ``services.LetterError`` (nothing stored)
    or the signing intake's ``ActionClosed``/``RateLimited``."""
    people = [a for a in addressees(action, details, place) if a.recipient is not None]
    if not people:
        raise services.LetterError(
            _("Enter your postcode first so we can find your MP.")
            if details.to_representative
            else _("This letter has no recipients yet.")
        )
    body = services.clean_message(details, message, personal)
    outcome = submit_signature(action, data, facts)
    letter = services.record_letter(
        action,
        outcome.signature_id,
        body=body,
        thank_you=uses_thank_you(details, people),
        constituency_code=place.code if place else "",
        constituency_name=place.name if place else "",
        target_ids=[a.target.id for a in people],
    )
    return LetterOutcome(outcome, letter, [a.target for a in people])
