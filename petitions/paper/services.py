"""Recording and removing offline tallies and paper signatures (flushes, never commits).

Each change flags the row for the count worker and announces ``counts_changed``; counting
nudges its fold after the commit, which adds the row to ``action_tallies`` (``confirmed`` and
``paper``). Removing a row keeps it (for the audit trail) and folds it back out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.core import events
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.paper.models import OfflineTally, PaperSignature


def record_tally(
    action: Action,
    *,
    count: int,
    source: str,
    collected_on: date,
    note: str = "",
    organiser_id: int | None,
    ip_address: str | None = None,
) -> OfflineTally:
    tally = OfflineTally(
        action_id=action.id,
        count=count,
        source=source.strip(),
        collected_on=collected_on,
        note=note.strip(),
        organiser_id=organiser_id,
    )
    db.session.add(tally)
    db.session.flush()
    record(
        "paper.tally",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        subject_ids=[tally.id],
        detail={"count": count},
        ip_address=ip_address,
    )
    events.counts_changed.send("paper", action_ids=[action.id])
    return tally


def add_signature(
    action: Action,
    *,
    name: str,
    postcode: str,
    postcode_area: str,
    country: str,
    collected_on: date,
    organiser_id: int | None,
    ip_address: str | None = None,
) -> PaperSignature:
    """One paper signature; the caller has checked its consent box was ticked."""
    row = PaperSignature(
        action_id=action.id,
        name=" ".join(name.split()),
        postcode=postcode,
        postcode_area=postcode_area,
        country=country,
        consent_on_paper=True,
        collected_on=collected_on,
        organiser_id=organiser_id,
    )
    db.session.add(row)
    db.session.flush()
    record(
        "paper.signature",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        subject_ids=[row.id],
        ip_address=ip_address,
    )
    events.counts_changed.send("paper", action_ids=[action.id])
    return row


def remove(
    action: Action,
    row: OfflineTally | PaperSignature,
    *,
    organiser_id: int | None,
    ip_address: str | None = None,
) -> bool:
    """Take a tally or paper signature out of the count. False if it was removed already."""
    if row.removed_at is not None:
        return False
    row.removed_at = utcnow()
    row.needs_count = True
    db.session.flush()
    kind = "tally" if isinstance(row, OfflineTally) else "signature"
    record(
        f"paper.{kind}.remove",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        subject_ids=[row.id],
        ip_address=ip_address,
    )
    events.counts_changed.send("paper", action_ids=[action.id])
    return True


ANONYMISED_NAME = ""


def anonymise_for_actions(action_ids_clause: Any, limit: int = 2000) -> int:
    """Blank the name and postcode (keep the area: counts and breakdowns stay) of one chunk of
    paper signatures of the actions ``action_ids_clause`` selects. Returns how many."""
    ids = list(
        db.session.scalars(
            select(PaperSignature.id)
            .where(PaperSignature.action_id.in_(action_ids_clause), PaperSignature.name != "")
            .order_by(PaperSignature.id)
            .limit(limit)
        )
    )
    if ids:
        db.session.execute(
            update(PaperSignature)
            .where(PaperSignature.id.in_(ids))
            .values(name=ANONYMISED_NAME, postcode="")
            .execution_options(synchronize_session=False)
        )
    return len(ids)
