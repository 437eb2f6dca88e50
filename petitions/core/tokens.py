"""Random, hashed, single-use, expiring tokens for links in emails."""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from petitions.core.models import Token
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db

_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


class TokenState(enum.Enum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    WRONG_PURPOSE = "wrong_purpose"
    UNKNOWN = "unknown"


@dataclass
class TokenCheck:
    state: TokenState
    token: Token | None = None


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii")).hexdigest()


def issue_token(purpose: str, subject_id: int, lifetime: timedelta) -> str:
    """Create a token row (flushed, not committed) and return the raw token for the link."""
    raw = secrets.token_urlsafe(32)
    db.session.add(
        Token(
            purpose=purpose,
            token_hash=hash_token(raw),
            subject_id=subject_id,
            expires_at=utcnow() + lifetime,
        )
    )
    db.session.flush()
    return raw


def check_token(raw: str, purpose: str) -> TokenCheck:
    """Look a token up without changing it."""
    if not _TOKEN_SHAPE.match(raw or ""):
        return TokenCheck(TokenState.UNKNOWN)
    token = db.session.scalar(
        select(Token)
        .where(Token.token_hash == hash_token(raw))
        .execution_options(populate_existing=True)
    )
    if token is None:
        return TokenCheck(TokenState.UNKNOWN)
    if token.purpose != purpose:
        return TokenCheck(TokenState.WRONG_PURPOSE)
    if token.used_at is not None:
        return TokenCheck(TokenState.USED, token)
    expires_at = as_utc(token.expires_at)
    assert expires_at is not None
    if expires_at <= utcnow():
        return TokenCheck(TokenState.EXPIRED, token)
    return TokenCheck(TokenState.VALID, token)


def use_token(token: Token) -> bool:
    """Mark a token used. Returns False if another request used it first."""
    result = db.session.execute(
        update(Token)
        .where(Token.id == token.id, Token.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
