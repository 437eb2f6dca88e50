"""KeptKeySigner is itsdangerous' TimestampSigner, only cheaper: the same bytes both ways."""

from __future__ import annotations

import hashlib

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from petitions.core.signers import KeptKeySigner, keep_signers, kept_signer


@pytest.mark.parametrize(
    "options",
    [
        {},  # Flask-WTF's CSRF tokens and the form stamp
        {"key_derivation": "hmac"},  # Flask's session cookie
        {"key_derivation": "concat", "digest_method": hashlib.sha256},
        {"key_derivation": "none"},
    ],
)
def test_signs_and_checks_exactly_as_timestamp_signer(options):
    secrets = ["old secret", "current secret"]
    plain = TimestampSigner(secrets, salt="a salt", **options)
    kept = KeptKeySigner(secrets, salt="a salt", **options)
    for value in (b"", b"value", "unicode \u00e9".encode()):
        signed = plain.sign(value)
        assert kept.unsign(signed) == value
        assert plain.unsign(kept.sign(value)) == value
        assert kept.get_signature(value) == plain.get_signature(value)
        with pytest.raises(BadSignature):
            kept.unsign(b"x" + signed)  # the value changed under its signature
    # Signed with the old secret (a rotation): still good; with another salt: not.
    assert kept.unsign(TimestampSigner("old secret", salt="a salt", **options).sign(b"x")) == b"x"
    if options.get("key_derivation") != "none":  # "none" signs with the secret alone
        with pytest.raises(BadSignature):
            kept.unsign(TimestampSigner(secrets, salt="other salt", **options).sign(b"x"))


def test_expiry_is_checked_as_before():
    signed = TimestampSigner("s", salt="t").sign(b"x")
    with pytest.raises(SignatureExpired):
        KeptKeySigner("s", salt="t").unsign(signed, max_age=-1)


def test_flask_session_serializer_with_kept_keys_reads_flask_cookies(app):
    interface = SecureCookieSessionInterface()
    serializer = interface.get_signing_serializer(app)
    assert serializer is not None
    cookie = serializer.dumps({"csrf_token": "abc", "_fresh": False})
    serializer.signer = KeptKeySigner
    assert serializer.loads(cookie) == {"csrf_token": "abc", "_fresh": False}
    assert interface.get_signing_serializer(app).loads(serializer.dumps({"a": 1})) == {"a": 1}


def test_csrf_serializer_with_kept_keys_reads_flask_wtf_tokens():
    token = URLSafeTimedSerializer("secret", salt="wtf-csrf-token").dumps("raw")
    kept = URLSafeTimedSerializer("secret", salt="wtf-csrf-token", signer=KeptKeySigner)
    assert kept.loads(token, max_age=3600) == "raw"
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer("other", salt="wtf-csrf-token", signer=KeptKeySigner).loads(token)


def test_kept_signers_of_a_serializer_read_and_write_as_before():
    plain = URLSafeTimedSerializer("secret", salt="wtf-csrf-token")
    kept = keep_signers(URLSafeTimedSerializer("secret", salt="wtf-csrf-token"))
    for value in ("raw", {"a": [1, 2]}):
        assert kept.loads(plain.dumps(value), max_age=60) == value
        assert plain.loads(kept.dumps(value), max_age=60) == value
    assert kept.make_signer() is kept.make_signer()  # made once
    with pytest.raises(BadSignature):
        kept.loads(URLSafeTimedSerializer("other", salt="wtf-csrf-token").dumps("raw"))
    assert kept_signer("s", "t") is kept_signer("s", "t")
    assert kept_signer("s", "t").unsign(TimestampSigner("s", salt="t").sign(b"x")) == b"x"
