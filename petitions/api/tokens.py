"""API tokens: issued to an organiser, stored hashed, checked per request, revocable."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from petitions.api.models import ApiToken
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.organisers.models import Organiser

TOKEN_PREFIX = "pt_"  # noqa: S105 - not a secret
_SHAPE = re.compile(r"^pt_[A-Za-z0-9_-]{40,60}$")
# last_used_at is a hint for the organiser, not an audit log: write it at most this often.
_TOUCH_EVERY = timedelta(minutes=5)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def create_token(organiser: Organiser, name: str) -> tuple[ApiToken, str]:
    """A new token (flushed). Returns the row and the raw value, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organiser_id=organiser.id,
        name=(name.strip() or "API token")[:100],
        token_hash=_hash(raw),
        prefix=raw[:10],
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def tokens_of(organiser: Organiser) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.organiser_id == organiser.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())
        )
    )


def authenticate(raw: str | None) -> ApiToken | None:
    """The active token with this raw value whose organiser is still active, else None.

    Notes when it was last used (flushed; the caller commits).
    """
    if not raw or not _SHAPE.match(raw.strip()):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(raw.strip())))
    if token is None or token.revoked_at is not None or not token.organiser.active:
        return None
    now = utcnow()
    last = as_utc(token.last_used_at)
    if last is None or now - last > _TOUCH_EVERY:
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return token
