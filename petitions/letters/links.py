"""The supporter's link to their own letter (the text, "send it yourself", "I sent it").

Signed, reusable; shown on the confirmation page and in "My actions". Marking a letter as
sent is a POST from that page, so a mail scanner following the link changes nothing.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "letter-own"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def letter_token(letter_id: int) -> str:
    return str(_serializer().dumps(letter_id))


def letter_id_from(token: str) -> int | None:
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
