"""The confirmation email, built by the worker when it sends (so the token is made then)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from petitions.campaigns.models import Action
from petitions.core.i18n import current_language, in_language, language_prefix, localised
from petitions.core.tokens import issue_token
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_builder
from petitions.signing.models import Signature, SignatureState
from petitions.signing.services import CONFIRM_EMAIL_KIND, CONFIRM_PURPOSE

_KEPT = "signing.notifications.actions"


def _action(action_id: int) -> Action:
    """The action and its campaign, loaded once per worker session and held (the session
    holds loaded objects only weakly): a batch's emails are mostly about one action. A commit
    expires them as usual, so each batch reads them fresh, once."""
    kept: dict[int, Action] = db.session.info.setdefault(_KEPT, {})
    action = kept.get(action_id)
    if action is None:
        action = db.session.scalar(
            select(Action).where(Action.id == action_id).options(joinedload(Action.campaign))
        )
        assert action is not None  # a signature's action is never deleted before it
        if len(kept) > 1000:
            kept.clear()
        kept[action_id] = action
    return action


@email_builder(CONFIRM_EMAIL_KIND)
def build_confirmation(signature_id: int) -> BuiltEmail | None:
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.state is not SignatureState.PENDING:
        return None
    action = _action(signature.action_id)
    lifetime = timedelta(days=current_app.config["CONFIRM_TOKEN_DAYS"])
    raw = issue_token(CONFIRM_PURPOSE, signature.id, lifetime)
    with in_language(signature.language):
        # The link opens the confirmation page in the language they signed in.
        link = f"{current_app.config['PUBLIC_URL']}{language_prefix()}/confirm/{raw}"
        context = {
            "signature": signature,
            "action": action,
            "campaign": action.campaign,
            "link": link,
            "days": lifetime.days,
        }
        if action.is_event:
            subject = _("Please confirm your RSVP: %(title)s", title=localised(action, "title"))
        elif action.is_letter:
            subject = _("Please confirm your letter: %(title)s", title=localised(action, "title"))
        elif action.is_pledge:
            subject = _("Please confirm your pledge: %(title)s", title=localised(action, "title"))
        else:
            subject = _(
                "Please confirm your signature: %(title)s", title=localised(action, "title")
            )
        message = Message(
            subject=subject,
            recipients=[(signature.name, signature.email)],
            body=render_template("email/confirm_signature.txt", **context),
            html=render_template("email/confirm_signature.html", **context),
            extra_headers={
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
                "Content-Language": current_language(),
            },
        )
    return BuiltEmail(message=message, recipient=signature.email_normalised)
