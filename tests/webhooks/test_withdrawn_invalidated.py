"""Withdrawals and invalidations queue webhook deliveries in the same transaction."""

from sqlalchemy import select

from petitions.extensions import db
from petitions.supporters.services import withdraw
from petitions.webhooks.models import (
    SIGNATURE_INVALIDATED,
    SIGNATURE_WITHDRAWN,
    WebhookDelivery,
    WebhookEndpoint,
)
from petitions.workspace.services import invalidate_signatures
from tests.support.factories import make_action, make_signature


def _events() -> list[str]:
    return sorted(db.session.scalars(select(WebhookDelivery.event)))


def test_withdrawal_and_invalidation_emit_events(factories):
    action = make_action()
    db.session.add(
        WebhookEndpoint(
            campaign_id=action.campaign_id, url="https://hooks.example.org/x", secret="s" * 32
        )
    )
    db.session.commit()
    first = make_signature(action, "one@example.org")
    second = make_signature(action, "two@example.org")

    assert withdraw("one@example.org", first)
    db.session.commit()
    assert _events() == [SIGNATURE_WITHDRAWN]

    invalidate_signatures(action, [second], organiser_id=None, reason="test", ip_address=None)
    db.session.commit()
    assert _events() == sorted([SIGNATURE_WITHDRAWN, SIGNATURE_INVALIDATED])

    assert not withdraw("one@example.org", first), "a second withdrawal changes nothing"
    db.session.commit()
    assert len(_events()) == 2
