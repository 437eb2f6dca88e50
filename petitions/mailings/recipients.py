"""Who a mailing is for, and listing them once when it starts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, insert, literal, or_, select, update

from petitions.campaigns.models import Action
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailings.models import (
    Audience,
    DeliveryStatus,
    Mailing,
    MailingDelivery,
    MailingKind,
    MailingStatus,
)
from petitions.signing.models import Signature
from petitions.supporters.consent import consenting


def recipients_query(mailing: Mailing) -> Any:
    """(email_normalised, newest signature id) of everyone this mailing is for: confirmed,
    valid signers who consent *now* (``supporters.consent.consenting``: the one definition
    exports and the API use too), narrowed to a composed mailing's audience."""
    where = [
        Signature.is_confirmed,
        consenting(mailing.campaign_id, Signature.email_normalised),
    ]
    one_action = mailing.kind == MailingKind.GOAL_REACHED or (
        mailing.kind == MailingKind.COMPOSED and mailing.audience != Audience.CAMPAIGN
    )
    if one_action and mailing.action_id is not None:
        where.append(Signature.action_id == mailing.action_id)
        if mailing.kind == MailingKind.COMPOSED and mailing.audience == Audience.PLEDGE:
            where.append(Signature.pledge_option == (mailing.pledge_option or ""))
    else:
        where.append(
            Signature.action_id.in_(
                select(Action.id).where(Action.campaign_id == mailing.campaign_id)
            )
        )
    if mailing.confirmed_since is not None:
        where.append(Signature.confirmed_at >= mailing.confirmed_since)
    return (
        select(Signature.email_normalised, func.max(Signature.id))
        .where(and_(*where))
        .group_by(Signature.email_normalised)
    )


def due(now: Any) -> Any:
    """A queued mailing may start: it has no send time (composer: "send now"), or that
    time has come."""
    return or_(Mailing.send_at.is_(None), Mailing.send_at <= now)


def prepare(mailing_id: int) -> bool:
    """List the recipients of a queued mailing and start it. Once only (status guard), and
    not before its ``send_at``."""
    now = utcnow()
    started = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.status == MailingStatus.QUEUED.value, due(now))
        .values(status=MailingStatus.SENDING.value, started_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not started:
        return False
    mailing = db.session.get(Mailing, mailing_id)
    assert mailing is not None
    source = recipients_query(mailing).subquery()
    columns = ["mailing_id", "email_normalised", "signature_id", "status", "attempts"]
    # The status guard above makes this run once; the UNIQUE index is the backstop.
    db.session.execute(
        insert(MailingDelivery).from_select(
            columns,
            select(
                literal(mailing_id),
                source.c[0],
                source.c[1],
                literal(DeliveryStatus.PENDING.value),
                literal(0),
            ),
        )
    )
    total = db.session.scalar(select(func.count()).where(MailingDelivery.mailing_id == mailing_id))
    db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id)
        .values(total=total or 0)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(mailing)
    return True
