"""A person's consent to campaign email: the one definition of "consenting now", and its history.

**Current consent** (what exports, the API and mailing audiences all use) is one SQL
expression, :func:`consenting`, for a person (``email_normalised``) and a campaign. They consent
now when all of these hold:

* they agreed: a *confirmed*, not withdrawn signature of theirs in that campaign has the
  "keep me updated" tick (double opt-in: an unconfirmed tick is not consent yet);
* they have not stopped it since: no "stop all campaign email" and no opt-out of this campaign
  (the one-click unsubscribe link or the My actions preferences);
* their address is not suppressed (it bounced permanently) and not erased.

Ticking the box again on a new signature in that campaign (confirmed) is a fresh consent: it
lifts an earlier opt-out of that campaign (see :func:`record_fresh_consent`).

**The history** is ``consent_events`` (:class:`~petitions.supporters.models.ConsentEvent`):
append-only rows saying what changed, when, through which action and source, and, for an
agreement, the exact wording (``consent_version_id``). It is shown to the supporter on My
actions and in "Download my data", and to organisers on a signature's page. Erasure deletes
it with everything else about the person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, exists, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from petitions.campaigns.models import Action, Campaign, ConsentVersion
from petitions.core.i18n import N_
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.models import SuppressedAddress
from petitions.signing.models import Signature
from petitions.supporters.models import ERASED_PREFIX, CampaignOptOut, ConsentEvent, Supporter

GRANTED = "granted"
WITHDRAWN = "withdrawn"
SUPPRESSED = "suppressed"

# Where a change came from.
SOURCE_SIGNATURE = "signature"  # the "keep me updated" tick, confirmed by email
SOURCE_ONE_CLICK = "one-click unsubscribe"
SOURCE_PREFERENCES = "preferences"
SOURCE_WITHDRAWAL = "signature withdrawn"
SOURCE_BOUNCE = "bounce"
SOURCE_BACKFILL = "recorded before the history existed"


# --- the one definition ----------------------------------------------------------------------


def _campaign(campaign_id: Any) -> Any:
    return literal(campaign_id) if isinstance(campaign_id, int) else campaign_id


def agreed(campaign_id: Any, email_column: Any) -> ColumnElement[bool]:
    """A confirmed, not withdrawn signature of this person in this campaign has the tick."""
    granting = aliased(Signature)
    granting_action = aliased(Action)
    return exists().where(
        granting.email_normalised == email_column,
        granting.wants_updates.is_(True),
        granting.confirmed_at.is_not(None),
        granting.withdrawn_at.is_(None),
        granting_action.id == granting.action_id,
        granting_action.campaign_id == _campaign(campaign_id),
    )


def stopped(campaign_id: Any, email_column: Any) -> ColumnElement[bool]:
    """Unsubscribed from everything or from this campaign, or the address bounced."""
    return or_(
        exists().where(
            Supporter.email_normalised == email_column,
            Supporter.unsubscribed_all_at.is_not(None),
        ),
        exists().where(
            Supporter.email_normalised == email_column,
            CampaignOptOut.supporter_id == Supporter.id,
            CampaignOptOut.campaign_id == _campaign(campaign_id),
        ),
        exists().where(SuppressedAddress.email_normalised == email_column),
    )


def consenting(campaign_id: Any, email_column: Any) -> ColumnElement[bool]:
    """This person consents *now* to email about this campaign (see the module docstring).

    ``campaign_id`` is an int or a column; ``email_column`` a column of normalised addresses.
    """
    return and_(
        email_column.not_like(ERASED_PREFIX + "%"),
        agreed(campaign_id, email_column),
        ~stopped(campaign_id, email_column),
    )


def signature_consenting() -> ColumnElement[bool]:
    """:func:`consenting` for the signer of each ``Signature`` row, about its campaign."""
    # Correlated to the outer ``signatures`` row even from inside the EXISTS clauses.
    campaign_id = (
        select(Action.campaign_id)
        .where(Action.id == Signature.action_id)
        .correlate_except(Action)
        .scalar_subquery()
    )
    return consenting(campaign_id, Signature.email_normalised)


def consenting_signatures(signature_ids: Iterable[int]) -> set[int]:
    """Which of these signatures' signers consent now (one query)."""
    ids = sorted(set(signature_ids))
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Signature.id).where(Signature.id.in_(ids), signature_consenting())
        )
    )


def consents_now(email_normalised: str, campaign_id: int) -> bool:
    return bool(db.session.scalar(select(consenting(campaign_id, literal(email_normalised)))))


# --- the history -----------------------------------------------------------------------------


def record(
    email_normalised: str,
    kind: str,
    source: str,
    *,
    campaign_id: int | None = None,
    action_id: int | None = None,
    signature_id: int | None = None,
    consent_version_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event (``campaign_id=None``: about every campaign). Never updated after."""
    if email_normalised.startswith(ERASED_PREFIX):
        return
    db.session.add(
        ConsentEvent(
            email_normalised=email_normalised,
            kind=kind,
            source=source,
            campaign_id=campaign_id,
            action_id=action_id,
            signature_id=signature_id,
            consent_version_id=consent_version_id,
            created_at=at or utcnow(),
        )
    )


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    kind: str
    source: str
    campaign: str | None  # None: every campaign
    action: str | None
    consent_version_id: int | None
    # The exact words agreed to (in the language they were shown in), for an agreement.
    consent_text: str = ""

    @property
    def summary(self) -> str:
        """What changed, in the page's language (one sentence per kind and scope, so each
        language can word it whole)."""
        if self.campaign:
            sentence = _CAMPAIGN_SUMMARIES.get(self.kind)
            return _(sentence, campaign=self.campaign) if sentence else self.kind
        sentence = _ALL_SUMMARIES.get(self.kind)
        return _(sentence) if sentence else self.kind

    @property
    def source_label(self) -> str:
        """Where the change came from, in the page's language (``source`` is what is stored)."""
        label = _SOURCE_LABELS.get(self.source)
        return _(label) if label else self.source


_CAMPAIGN_SUMMARIES = {
    GRANTED: N_("Agreed to email about %(campaign)s"),
    WITHDRAWN: N_("Stopped email about %(campaign)s"),
    SUPPRESSED: N_("Stopped (bounced) email about %(campaign)s"),
}
_ALL_SUMMARIES = {
    GRANTED: N_("Agreed to all campaign email"),
    WITHDRAWN: N_("Stopped all campaign email"),
    SUPPRESSED: N_("Stopped (bounced) all campaign email"),
}
_SOURCE_LABELS = {
    SOURCE_SIGNATURE: N_("signature"),
    SOURCE_ONE_CLICK: N_("one-click unsubscribe"),
    SOURCE_PREFERENCES: N_("preferences"),
    SOURCE_WITHDRAWAL: N_("signature withdrawn"),
    SOURCE_BOUNCE: N_("bounce"),
    SOURCE_BACKFILL: N_("recorded before the history existed"),
}


def history(email_normalised: str, campaign_id: int | None = None) -> list[HistoryItem]:
    """This person's consent events, oldest first; with ``campaign_id``, only those about that
    campaign or about every campaign (what that campaign's organisers may see)."""
    query = (
        select(
            ConsentEvent.created_at,
            ConsentEvent.kind,
            ConsentEvent.source,
            ConsentEvent.consent_version_id,
            Campaign.title.label("campaign"),
            Action.title.label("action"),
            ConsentVersion.text.label("consent_text"),
        )
        .outerjoin(Campaign, Campaign.id == ConsentEvent.campaign_id)
        .outerjoin(Action, Action.id == ConsentEvent.action_id)
        .outerjoin(ConsentVersion, ConsentVersion.id == ConsentEvent.consent_version_id)
        .where(ConsentEvent.email_normalised == email_normalised)
        .order_by(ConsentEvent.created_at, ConsentEvent.id)
    )
    if campaign_id is not None:
        query = query.where(
            or_(ConsentEvent.campaign_id == campaign_id, ConsentEvent.campaign_id.is_(None))
        )
    return [
        HistoryItem(
            at=row.created_at,
            kind=row.kind,
            source=row.source,
            campaign=row.campaign,
            action=row.action,
            consent_version_id=row.consent_version_id,
            consent_text=row.consent_text or "",
        )
        for row in db.session.execute(query)
    ]


def record_fresh_consent(signature_id: int) -> bool:
    """A confirmed signature with the tick: record the agreement and lift an earlier opt-out
    of that campaign (the newest choice wins). "Stop all" becomes opt-outs of the *other*
    campaigns, so only this one resumes. True if consent was given."""
    row = db.session.execute(
        select(
            Signature.email_normalised,
            Signature.wants_updates,
            Signature.action_id,
            Signature.consent_version_id,
            Signature.confirmed_at,
            Action.campaign_id,
        )
        .join(Action, Action.id == Signature.action_id)
        .where(Signature.id == signature_id)
    ).one_or_none()
    if row is None or not row.wants_updates or row.confirmed_at is None:
        return False
    if row.email_normalised.startswith(ERASED_PREFIX):
        return False
    record(
        row.email_normalised,
        GRANTED,
        SOURCE_SIGNATURE,
        campaign_id=row.campaign_id,
        action_id=row.action_id,
        signature_id=signature_id,
        consent_version_id=row.consent_version_id,
    )
    supporter = db.session.scalar(
        select(Supporter).where(Supporter.email_normalised == row.email_normalised)
    )
    if supporter is None:
        return True
    if supporter.unsubscribed_all_at is not None:
        others = set(
            db.session.scalars(
                select(Action.campaign_id)
                .join(Signature, Signature.action_id == Action.id)
                .where(
                    Signature.email_normalised == row.email_normalised,
                    Action.campaign_id != row.campaign_id,
                )
            )
        )
        known = set(
            db.session.scalars(
                select(CampaignOptOut.campaign_id).where(
                    CampaignOptOut.supporter_id == supporter.id
                )
            )
        )
        for campaign_id in sorted(others - known):
            db.session.add(CampaignOptOut(supporter_id=supporter.id, campaign_id=campaign_id))
        supporter.unsubscribed_all_at = None
        supporter.updated_at = utcnow()
    optout = db.session.get(CampaignOptOut, (supporter.id, row.campaign_id))
    if optout is not None:
        db.session.delete(optout)
    db.session.flush()
    return True
