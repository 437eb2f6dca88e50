"""Mailing tests: short leases and a fast sweeper for the real worker, and audience helpers.

The environment is set at import (collection), before the session's worker starts, so the
worker signs links with the test app's key, leases mailing rows for 3 s and looks for
interrupted mailings every second.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import select

from petitions.extensions import db
from petitions.mailings.models import Mailing, MailingStatus

# Web and worker share SECRET_KEY in any real deployment; unsubscribe links are signed with it.
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("MAILING_LEASE_SECONDS", "3")
os.environ.setdefault("MAILING_SWEEP_SECONDS", "1")
os.environ.setdefault("MAILING_RATE_PER_SECOND", "25")
os.environ.setdefault("MILESTONE_INTERVAL_SECONDS", "1")


@pytest.fixture
def audience(app: Any) -> Any:
    """``audience(campaign, emails)``: confirmed, opted-in signatures on a new action."""
    from tests.support import factories
    from tests.supporters.conftest import sign_confirmed

    def make(campaign: Any, emails: list[str], **values: Any) -> Any:
        action = factories.make_action(campaign)
        values.setdefault("wants_updates", True)
        for email in emails:
            sign_confirmed(action, email, **values)
        return action

    return make


def wait_done(app: Any, mailing_id: int, timeout: float = 30.0) -> Mailing:
    from tests.conftest import wait_for

    def finished() -> Mailing | None:
        with app.app_context():
            mailing = db.session.scalar(select(Mailing).where(Mailing.id == mailing_id))
            done = mailing is not None and mailing.status == MailingStatus.DONE
            db.session.remove()
            return mailing if done else None

    return wait_for(finished, timeout=timeout)
