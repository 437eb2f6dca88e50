"""Prefilling the next call to action after a confirmation, without personal data in URLs.

The link carries only a signed, 30-minute reference to the signature just confirmed; the
action page reads the name, postcode and country from that row. The email is never
prefilled: the supporter types it again, so a forwarded link cannot sign for them.
"""

from __future__ import annotations

from typing import Any

from flask import after_this_request, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from petitions.core.web import no_store
from petitions.extensions import db
from petitions.signing.models import Signature

_SALT = "next-action-prefill"
MAX_AGE_SECONDS = 30 * 60


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def prefill_token(signature_id: int) -> str:
    return _serializer().dumps(signature_id)


def prefill_values(token: str | None) -> dict[str, str] | None:
    """The safe fields to prefill, or None if the token is absent, forged or stale."""
    if not token or len(token) > 200:
        return None
    try:
        signature_id = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(signature_id, int):
        return None
    signature = db.session.get(Signature, signature_id)
    if signature is None or not signature.is_confirmed:
        return None
    return {"name": signature.name, "postcode": signature.postcode, "country": signature.country}


def apply_prefill(form: Any, token: str | None) -> bool:
    values = prefill_values(token)
    if not values:
        return False
    for name, value in values.items():
        if value and name in form:
            form[name].data = value

    after_this_request(no_store)  # the page now holds personal data

    return True
