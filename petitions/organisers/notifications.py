"""The invitation email, built by the worker when it sends (so the token is made then)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_mail import Message

from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_builder
from petitions.organisers.models import Organiser
from petitions.organisers.services import INVITE_DAYS, INVITE_EMAIL_KIND, INVITE_PURPOSE


@email_builder(INVITE_EMAIL_KIND)
def build_invitation(organiser_id: int) -> BuiltEmail | None:
    organiser = db.session.get(Organiser, organiser_id)
    if organiser is None or organiser.password_hash or not organiser.active:
        return None  # accepted meanwhile, or withdrawn
    raw = issue_token(INVITE_PURPOSE, organiser.id, timedelta(days=INVITE_DAYS))
    context = {
        "organiser": organiser,
        "link": f"{current_app.config['PUBLIC_URL']}/organise/invite/{raw}",
        "days": INVITE_DAYS,
    }
    message = Message(
        subject="You're invited to organise campaigns on Petitions",
        recipients=[(organiser.name, organiser.email) if organiser.name else organiser.email],
        body=render_template("email/organiser_invite.txt", **context),
        html=render_template("email/organiser_invite.html", **context),
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    return BuiltEmail(message=message, recipient=organiser.email)
