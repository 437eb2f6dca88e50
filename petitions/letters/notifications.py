"""The email a target receives: one letter, plain text first, from the service's address with
the supporter as Reply-To and a clear "sent on behalf of" line (so SPF/DKIM pass for the
service's own domain and a reply reaches the constituent)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from flask import current_app, render_template
from flask_mail import Message

from petitions.core.emails import EmailError, normalise_email
from petitions.core.i18n import default_language, in_language
from petitions.extensions import db
from petitions.geo import queries as geo
from petitions.letters.models import Letter, LetterDelivery, LetterDetails, LetterTarget
from petitions.letters.services import fill
from petitions.mailer.registry import BuiltEmail

HEADERS = {"Auto-Submitted": "no", "X-Letter-Campaign": "petitions"}


@dataclass(frozen=True)
class Recipient:
    name: str
    title: str
    email: str


def recipient_of(target: LetterTarget) -> Recipient | None:
    """Where a letter to this target goes now (an MP's address is read at send time)."""
    if target.is_representative:
        member = geo.representative(target.constituency_code or "")
        if member is None or not member.email:
            return None
        return Recipient(member.name, target.title or "MP", member.email)
    if not target.email:
        return None
    return Recipient(target.name, target.title, target.email)


def letter_text(letter: Letter, recipient: Recipient, supporter_name: str, postcode: str) -> str:
    return fill(
        letter.body,
        {
            "supporter_name": supporter_name,
            "postcode": postcode,
            "constituency": letter.constituency_name,
            "target_name": recipient.name,
            "target_title": recipient.title,
        },
    )


def letter_message(delivery: LetterDelivery) -> BuiltEmail | None:
    """The message for one delivery, or None when it should not be sent (any more)."""
    letter = db.session.get(Letter, delivery.letter_id)
    target = db.session.get(LetterTarget, delivery.target_id)
    if letter is None or target is None or target.removed_at is not None:
        return None
    signature = letter.signature
    if not signature.is_confirmed:
        return None
    details = db.session.get(LetterDetails, letter.action_id)
    recipient = recipient_of(target)
    if details is None or recipient is None:
        return None
    try:
        normalised = normalise_email(recipient.email)
    except EmailError:
        return None
    action = letter.action
    service_name, service_address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    context = {
        "text": letter_text(letter, recipient, signature.name, signature.postcode),
        "recipient": recipient,
        "signature": signature,
        "letter": letter,
        "action": action,
        "campaign": action.campaign,
        "service_name": service_name or "Petitions",
    }
    with in_language(default_language()):
        # Written to the target, so in the site's own language whatever the writer's.
        body = render_template("email/letter.txt", **context)
    message = Message(
        subject=fill(
            # The subject goes with the letter's words: in the writer's language.
            details.subject_for(letter.thank_you, signature.language),
            {
                "supporter_name": signature.name,
                "constituency": letter.constituency_name,
                "target_name": recipient.name,
                "target_title": recipient.title,
                "postcode": signature.postcode,
            },
        ),
        sender=(f"{signature.name} via {service_name or 'Petitions'}", service_address),
        recipients=[(recipient.name, recipient.email)],
        reply_to=(signature.name, signature.email),
        body=body,
        extra_headers=HEADERS,
    )
    return BuiltEmail(message=message, recipient=normalised)
