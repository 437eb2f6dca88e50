"""The confirmation email, built by the worker when it sends (so the token is made then)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_mail import Message

from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_builder
from petitions.signing.models import Signature
from petitions.signing.services import CONFIRM_EMAIL_KIND, CONFIRM_PURPOSE


@email_builder(CONFIRM_EMAIL_KIND)
def build_confirmation(signature_id: int) -> BuiltEmail | None:
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.confirmed_at is not None or not signature.is_valid:
        return None
    action = signature.action
    lifetime = timedelta(days=current_app.config["CONFIRM_TOKEN_DAYS"])
    raw = issue_token(CONFIRM_PURPOSE, signature.id, lifetime)
    link = f"{current_app.config['PUBLIC_URL']}/confirm/{raw}"
    context = {
        "signature": signature,
        "action": action,
        "campaign": action.campaign,
        "link": link,
        "days": lifetime.days,
    }
    verb = "pledge" if action.is_pledge else "signature"
    message = Message(
        subject=f"Please confirm your {verb}: {action.title}",
        recipients=[(signature.name, signature.email)],
        body=render_template("email/confirm_signature.txt", **context),
        html=render_template("email/confirm_signature.html", **context),
        extra_headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    return BuiltEmail(message=message, recipient=signature.email_normalised)
