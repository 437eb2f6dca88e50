"""Which sites may frame a campaign's embeds, and the embed form's own anti-forgery token.

A signing form inside a third-party iframe can't use the session-based CSRF token: browsers
don't send our SameSite=Lax session cookie on a cross-site iframe POST. Signing needs no
session anyway, so the embed form carries a signed, expiring token naming the action (and
the site that framed it) instead; the POST verifies it and nothing else about the session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from petitions.campaigns.models import Campaign
from petitions.extensions import db

_ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)*(:\d{1,5})?$")
_SALT = "petitions.embed-form"
MAX_ORIGINS = 50


class OriginsError(ValueError):
    pass


def parse_origins(text: str) -> list[str]:
    """One origin a line (``https://example.org``, ``https://*.example.org``); else an error."""
    origins: list[str] = []
    for raw in (text or "").replace(",", "\n").splitlines():
        line = raw.strip().lower().rstrip("/")
        if not line:
            continue
        if not _ORIGIN.match(line):
            raise OriginsError(
                _l(
                    "%(value)s is not a site address like https://www.example.org",
                    value=repr(raw.strip()[:80]),
                )
            )
        if line not in origins:
            origins.append(line)
    if len(origins) > MAX_ORIGINS:
        raise OriginsError(_l("List at most %(num)s sites.", num=MAX_ORIGINS))
    return origins


def allowed_origins(campaign: Campaign) -> list[str]:
    try:
        return parse_origins(campaign.embed_origins or "")
    except OriginsError:
        return []  # stored before validation tightened: frame nowhere rather than anywhere


def frame_ancestors(campaign: Campaign) -> str:
    """The CSP ``frame-ancestors`` value: this site plus the campaign's allowed sites."""
    return " ".join(["'self'", *allowed_origins(campaign)])


def set_origins(campaign: Campaign, text: str) -> list[str]:
    origins = parse_origins(text)
    campaign.embed_origins = "\n".join(origins)
    db.session.flush()
    return origins


@dataclass(frozen=True)
class EmbedToken:
    action_id: int
    referrer: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue_form_token(action_id: int, referrer: str) -> str:
    return _serializer().dumps({"a": action_id, "r": referrer[:255]})


def check_form_token(raw: str | None, action_id: int) -> EmbedToken | None:
    """The token's contents if it is genuine, unexpired and for this action; else None."""
    if not raw or len(raw) > 600:
        return None
    try:
        data = _serializer().loads(raw, max_age=current_app.config["EMBED_FORM_SECONDS"])
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("a") != action_id:
        return None
    referrer = data.get("r")
    return EmbedToken(action_id, referrer if isinstance(referrer, str) else "")
