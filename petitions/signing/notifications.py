"""The confirmation email, built by the worker when it sends (so the token is made then).

``build_confirmation`` builds one; ``build_confirmations`` a worker's whole batch: one query
for the signatures, one INSERT for their tokens, and the two templates rendered once per
action and language with stand-ins for the only things that differ between emails (the
signer's name and the link's token), which are then put in place (``_Prebuilt``). A template
that uses anything else of the signature, or does anything to the name but print it, is
detected (``_NameOnly``, and the first email of each group checked against a full rendering)
and its emails are built one by one instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_mail import Message
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from petitions.campaigns.models import Action
from petitions.core.i18n import current_language, in_language, language_prefix, localised
from petitions.core.tokens import issue_token, issue_tokens
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_batch_builder, email_builder
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


def _subject(action: Action) -> str:
    title = localised(action, "title")
    if action.is_event:
        return _("Please confirm your RSVP: %(title)s", title=title)
    if action.is_letter:
        return _("Please confirm your letter: %(title)s", title=title)
    if action.is_pledge:
        return _("Please confirm your pledge: %(title)s", title=title)
    return _("Please confirm your signature: %(title)s", title=title)


_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def _message(subject: str, name: str, email: str, text: str, html: str) -> Message:
    return Message(
        subject=subject,
        recipients=[(name, email)],
        body=text,
        html=html,
        extra_headers={**_HEADERS, "Content-Language": current_language()},
    )


def _render(signature: Any, action: Action, token: str, lifetime: timedelta) -> tuple[str, str]:
    """The text and HTML bodies, in the current language."""
    # The link opens the confirmation page in the language they signed in.
    link = f"{current_app.config['PUBLIC_URL']}{language_prefix()}/confirm/{token}"
    context = {
        "signature": signature,
        "action": action,
        "campaign": action.campaign,
        "link": link,
        "days": lifetime.days,
    }
    return (
        render_template("email/confirm_signature.txt", **context),
        render_template("email/confirm_signature.html", **context),
    )


@email_builder(CONFIRM_EMAIL_KIND)
def build_confirmation(signature_id: int) -> BuiltEmail | None:
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.state is not SignatureState.PENDING:
        return None
    action = _action(signature.action_id)
    lifetime = timedelta(days=current_app.config["CONFIRM_TOKEN_DAYS"])
    raw = issue_token(CONFIRM_PURPOSE, signature.id, lifetime)
    with in_language(signature.language):
        text, html = _render(signature, action, raw, lifetime)
        message = _message(_subject(action), signature.name, signature.email, text, html)
    return BuiltEmail(message=message, recipient=signature.email_normalised)


# --- a batch at once ---------------------------------------------------------------------

# Stand-ins that no template filter or escaping changes (private-use code points).
_NAME_SLOT = "\ue000name\ue001"
_TOKEN_SLOT = "\ue000token\ue001"  # noqa: S105 - a placeholder, not a secret
_SLOTS = re.compile(f"({_NAME_SLOT}|{_TOKEN_SLOT})")


class _NotPrebuildable(Exception):
    """The template used more of the signature than its name."""


class _NameOnly:
    """A signature as the prebuilt templates may see it: its name, nothing else. Any other
    attribute raises (not AttributeError, which Jinja would quietly render as empty)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        raise _NotPrebuildable(attribute)


@dataclass(frozen=True)
class _Prebuilt:
    """One action's email in one language, rendered once with the stand-ins; ``text`` and
    ``html`` alternate literal text and slot names (odd indexes)."""

    subject: str
    text: list[str]
    html: list[str]

    def fill(self, name: str, token: str) -> tuple[str, str]:
        text = {_NAME_SLOT: name, _TOKEN_SLOT: token}
        html = {_NAME_SLOT: str(escape(name)), _TOKEN_SLOT: str(escape(token))}
        return _join(self.text, text), _join(self.html, html)


def _join(parts: list[str], values: dict[str, str]) -> str:
    return "".join(values[part] if index % 2 else part for index, part in enumerate(parts))


def _prebuild(action: Action, lifetime: timedelta) -> _Prebuilt:
    text, html = _render(_NameOnly(_NAME_SLOT), action, _TOKEN_SLOT, lifetime)
    return _Prebuilt(_subject(action), _SLOTS.split(text), _SLOTS.split(html))


_SIGNERS = select(
    Signature.id,
    Signature.action_id,
    Signature.name,
    Signature.email,
    Signature.email_normalised,
    Signature.language,
).where(Signature.state == SignatureState.PENDING.value)


@email_batch_builder(CONFIRM_EMAIL_KIND)
def build_confirmations(signature_ids: Sequence[int]) -> dict[int, BuiltEmail | None | Exception]:
    """``build_confirmation`` for a batch (mailer/registry.py): the same emails."""
    built: dict[int, BuiltEmail | None | Exception] = dict.fromkeys(signature_ids)
    signers = db.session.execute(_SIGNERS.where(Signature.id.in_(signature_ids))).all()
    if not signers:
        return built
    lifetime = timedelta(days=current_app.config["CONFIRM_TOKEN_DAYS"])
    tokens = dict(
        zip(
            [s.id for s in signers],
            issue_tokens(CONFIRM_PURPOSE, [s.id for s in signers], lifetime),
            strict=True,
        )
    )
    groups: dict[tuple[int, str | None], list[Any]] = {}
    for signer in signers:
        groups.setdefault((signer.action_id, signer.language), []).append(signer)
    for (action_id, language), group in groups.items():
        action = _action(action_id)
        with in_language(language):
            try:
                prebuilt = _prebuild(action, lifetime)
                first = group[0]
                checked = _render(_NameOnly(first.name), action, tokens[first.id], lifetime)
                if prebuilt.fill(first.name, tokens[first.id]) != checked:
                    raise _NotPrebuildable("the name or link is changed by the template")
            except Exception:  # noqa: BLE001 - these are built one by one instead
                for signer in group:
                    del built[signer.id]
                continue
            for signer in group:
                try:
                    text, html = prebuilt.fill(signer.name, tokens[signer.id])
                    message = _message(prebuilt.subject, signer.name, signer.email, text, html)
                except Exception as exc:  # noqa: BLE001 - this email alone
                    built[signer.id] = exc
                    continue
                built[signer.id] = BuiltEmail(message=message, recipient=signer.email_normalised)
    return built
