"""The sign-in email for "My actions", built by the worker when it sends (token made then)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select

from petitions.core.i18n import current_language, in_language, language_prefix
from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_builder
from petitions.signing.models import Signature
from petitions.supporters.models import Supporter
from petitions.supporters.services import SIGNIN_EMAIL_KIND, SIGNIN_PURPOSE


@email_builder(SIGNIN_EMAIL_KIND)
def build_signin(supporter_id: int) -> BuiltEmail | None:
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None:
        return None
    # Write to the address as the supporter last typed it (the normalised one is lower-cased).
    latest = db.session.execute(
        select(Signature.email, Signature.name)
        .where(Signature.email_normalised == supporter.email_normalised)
        .order_by(Signature.created_at.desc(), Signature.id.desc())
        .limit(1)
    ).first()
    # Someone known only to another area (the host of a proposed event) has no signature:
    # they are written to at the address they gave there, which is stored normalised.
    name, address = (latest.name, latest.email) if latest else ("", supporter.email_normalised)
    minutes = current_app.config["SUPPORTER_SIGNIN_MINUTES"]
    raw = issue_token(SIGNIN_PURPOSE, supporter.id, timedelta(minutes=minutes))
    with in_language(supporter.language):
        # In the language of the page they asked on; the link opens My actions in it too.
        context = {
            "name": name,
            "link": f"{current_app.config['PUBLIC_URL']}{language_prefix()}/my/signin/{raw}",
            "minutes": minutes,
        }
        message = Message(
            subject=_("Your link to My actions"),
            recipients=[(name, address)],
            body=render_template("email/supporter_signin.txt", **context),
            html=render_template("email/supporter_signin.html", **context),
            extra_headers={
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
                "Content-Language": current_language(),
            },
        )
    return BuiltEmail(message=message, recipient=supporter.email_normalised)
