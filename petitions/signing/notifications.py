"""The confirmation email, built by the worker when it sends (so the token is made then)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from petitions.campaigns.models import Action
from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_builder
from petitions.signing.models import Signature, SignatureState
from petitions.signing.services import CONFIRM_EMAIL_KIND, CONFIRM_PURPOSE


@email_builder(CONFIRM_EMAIL_KIND)
def build_confirmation(signature_id: int) -> BuiltEmail | None:
    # One query for the signature, its action and campaign: built one by one in a batch, they
    # would otherwise be three (the session holds loaded objects only weakly).
    signature = db.session.scalar(
        select(Signature)
        .where(Signature.id == signature_id)
        .options(joinedload(Signature.action).joinedload(Action.campaign))
    )
    if signature is None or signature.state is not SignatureState.PENDING:
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
    verb = (
        "RSVP"
        if action.is_event
        else "letter"
        if action.is_letter
        else ("pledge" if action.is_pledge else "signature")
    )
    message = Message(
        subject=f"Please confirm your {verb}: {action.title}",
        recipients=[(signature.name, signature.email)],
        body=render_template("email/confirm_signature.txt", **context),
        html=render_template("email/confirm_signature.html", **context),
        extra_headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    return BuiltEmail(message=message, recipient=signature.email_normalised)
