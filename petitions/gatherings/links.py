"""The RSVP management link in every event email: signed, reusable until the event is over.

It names one RSVP and lets its holder see their place (and the online link, when they hold
one) and cancel. Cancelling is a POST from that page, so a mail scanner following the link
changes nothing.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "rsvp-manage"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def manage_token(rsvp_id: int) -> str:
    return str(_serializer().dumps(rsvp_id))


def rsvp_id_from(token: str) -> int | None:
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def manage_url(rsvp_id: int, base: str | None = None) -> str:
    """``base``: the site in a language (``PUBLIC_URL`` + ``/cy``), the default's if not given."""
    base = current_app.config["PUBLIC_URL"] if base is None else base
    return f"{base}/rsvp/{manage_token(rsvp_id)}"


_HOST_SALT = "event-host"


def host_token(action_id: int) -> str:
    """The host's link to their own event page (attendee list, messages)."""
    return str(
        URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_HOST_SALT).dumps(action_id)
    )


def action_id_from_host_token(token: str) -> int | None:
    if not token or len(token) > 200:
        return None
    try:
        value = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_HOST_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
