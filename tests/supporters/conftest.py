"""Helpers for supporters' tests: confirmed signatures and the count invariant."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts, reconcile_counts
from petitions.extensions import db
from petitions.signing import services as signing
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.support import factories


def sign_confirmed(action: Any, email: str, **values: Any) -> int:
    """A signature, confirmed (as the confirm link would), not yet folded."""
    # One commit for both, so a running worker never sees it pending and mails a confirmation.
    signature_id = signing.sign(action, factories.signature_input(email, **values)).signature_id
    db.session.execute(
        update(Signature)
        .where(Signature.id == signature_id)
        .values(confirmed_at=utcnow(), needs_count=True)
    )
    db.session.commit()
    return signature_id


def assert_counts_match_rows() -> None:
    """After the fold, every tally equals its confirmed, valid rows; reconcile finds nothing."""
    fold_counts()
    valid = (
        Signature.confirmed_at.is_not(None),
        Signature.withdrawn_at.is_(None),
        Signature.invalidated_at.is_(None),
        Signature.suspect.is_(False),
    )
    expected = dict(
        db.session.execute(
            select(Signature.action_id, func.count()).where(*valid).group_by(Signature.action_id)
        ).all()
    )
    stored = {t.action_id: t.confirmed for t in db.session.scalars(select(ActionTally))}
    for action_id in set(expected) | set(stored):
        assert stored.get(action_id, 0) == expected.get(action_id, 0), action_id
    assert reconcile_counts() == []


@pytest.fixture
def signed_in(client: Any) -> Any:
    """Put a supporter in the test client's session, as the sign-in link does."""
    import time

    from petitions.supporters.services import supporter_for

    def sign_in(email_normalised: str) -> int:
        supporter = supporter_for(email_normalised)
        db.session.commit()
        with client.session_transaction() as sess:
            sess["supporter_id"] = supporter.id
            sess["supporter_until"] = int(time.time()) + 600
            sess["supporter_version"] = 1
        return supporter.id

    return sign_in
