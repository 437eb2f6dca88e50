from datetime import timedelta

from sqlalchemy import update

from petitions.core.models import Token
from petitions.core.tokens import TokenState, check_token, hash_token, issue_token, use_token
from petitions.extensions import db


def test_token_is_stored_only_as_hash(app_ctx):
    raw = issue_token("confirm_signature", 7, timedelta(days=1))
    token = db.session.query(Token).one()
    assert token.token_hash == hash_token(raw)
    assert raw not in token.token_hash


def test_token_states(app_ctx):
    raw = issue_token("confirm_signature", 7, timedelta(days=1))
    assert check_token(raw, "confirm_signature").state is TokenState.VALID
    assert check_token(raw, "signin").state is TokenState.WRONG_PURPOSE
    assert check_token(raw[:-2] + "xx", "confirm_signature").state is TokenState.UNKNOWN
    assert check_token("not a token!", "confirm_signature").state is TokenState.UNKNOWN
    check = check_token(raw, "confirm_signature")
    assert use_token(check.token) is True
    assert use_token(check.token) is False, "a token is single-use"
    assert check_token(raw, "confirm_signature").state is TokenState.USED


def test_expired_token(app_ctx):
    raw = issue_token("confirm_signature", 7, timedelta(days=7))
    db.session.execute(update(Token).values(expires_at=Token.created_at - timedelta(seconds=1)))
    assert check_token(raw, "confirm_signature").state is TokenState.EXPIRED
