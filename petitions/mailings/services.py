"""Creating and controlling mailings: what an organiser (or a milestone) asks for.

A mailing is requested once per ``dedupe_key`` (a second "send" returns the same mailing) and
then paused, resumed or cancelled. Listing its recipients is ``recipients.py``; sending it in
batches, which owns its transactions, is ``jobs.py``; what the pages read (progress included)
is ``queries.py``; the 25/50/75/100 % notices are ``milestones.py``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from petitions.campaigns.models import CampaignUpdate
from petitions.core import task_names
from petitions.core.sql import dialect_insert
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailings.models import (
    DeliveryStatus,
    Mailing,
    MailingDelivery,
    MailingKind,
    MailingStatus,
)

SEND_TASK = task_names.SEND_MAILING
SWEEP_TASK = task_names.RESUME_MAILINGS


def request_mailing(
    campaign_id: int,
    dedupe_key: str,
    subject: str,
    kind: MailingKind,
    update_id: int | None = None,
    action_id: int | None = None,
    organiser_id: int | None = None,
) -> tuple[Mailing, bool]:
    """Create the mailing, or return the existing one with this key. (mailing, created)."""
    new_id = db.session.execute(
        dialect_insert()(Mailing)
        .values(
            campaign_id=campaign_id,
            update_id=update_id,
            action_id=action_id,
            kind=kind.value,
            dedupe_key=dedupe_key,
            subject=subject[:200],
            status=MailingStatus.QUEUED.value,
            created_by_id=organiser_id,
            created_at=utcnow(),
            total=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Mailing.id)
    ).scalar()
    mailing = db.session.scalar(select(Mailing).where(Mailing.dedupe_key == dedupe_key))
    assert mailing is not None
    return mailing, new_id is not None


def request_update_mailing(
    update: CampaignUpdate, organiser_id: int | None = None
) -> tuple[Mailing, bool]:
    """Email a campaign update to its opted-in supporters (once, however often it is asked)."""
    return request_mailing(
        update.campaign_id,
        f"update:{update.id}",
        update.title,
        MailingKind.UPDATE,
        update_id=update.id,
        organiser_id=organiser_id,
    )


def set_status(mailing: Mailing, wanted: MailingStatus) -> bool:
    """Pause, resume or cancel. Returns False when that change is not possible now."""
    allowed = {
        MailingStatus.PAUSED: {MailingStatus.SENDING, MailingStatus.QUEUED},
        MailingStatus.SENDING: {MailingStatus.PAUSED},
        MailingStatus.CANCELLED: {
            MailingStatus.SENDING,
            MailingStatus.QUEUED,
            MailingStatus.PAUSED,
        },
    }[wanted]
    if wanted is MailingStatus.SENDING and mailing.started_at is None:
        wanted = MailingStatus.QUEUED  # resumed before the recipients were listed
    values: dict[str, Any] = {"status": wanted.value}
    if wanted is MailingStatus.CANCELLED:
        values["finished_at"] = utcnow()
    changed = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status.in_([s.value for s in allowed]))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed and wanted is MailingStatus.CANCELLED:
        db.session.execute(
            update(MailingDelivery)
            .where(
                MailingDelivery.mailing_id == mailing.id,
                MailingDelivery.status == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.SKIPPED.value, error="cancelled")
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(mailing)
    return bool(changed)
