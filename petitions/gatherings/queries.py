"""What only reads: event details, how many are going, attendee lists, the public list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased, joinedload

from petitions.campaigns.models import Action, Campaign, CampaignStatus
from petitions.core.i18n import N_
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.gatherings.models import EventDetails, EventHosting, ReviewState, Rsvp, RsvpStatus
from petitions.geo import queries as geo_queries
from petitions.geo.models import PostcodeArea
from petitions.geo.postcodes import compact, is_full
from petitions.signing.models import Signature


@dataclass(frozen=True)
class Places:
    going: int
    waitlisted: int
    capacity: int | None
    checked_in: int = 0
    cancelled: int = 0
    turned_away: int = 0  # confirmed while full, with no waitlist

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.going)

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.going >= self.capacity


def details_of(action_id: int) -> EventDetails | None:
    return db.session.get(EventDetails, action_id)


def awaiting_approval() -> Any:
    """SQL: the action is a supporter's proposed event not (or not yet) approved. Such actions
    are on no public page, list, feed or API until an organiser approves them."""
    return exists().where(
        EventDetails.action_id == Action.id, EventDetails.review != ReviewState.APPROVED.value
    )


def unapproved_among(action_ids: list[int]) -> set[int]:
    """Which of these actions are proposals not approved (one query; none for no events)."""
    if not action_ids:
        return set()
    return set(
        db.session.scalars(
            select(EventDetails.action_id).where(
                EventDetails.action_id.in_(action_ids),
                EventDetails.review != ReviewState.APPROVED.value,
            )
        )
    )


def accepting_rsvps(action: Action, details: EventDetails) -> bool:
    """Open, approved, not cancelled and not started: the RSVP form is shown and taken."""
    return (
        action.is_open()
        and details.is_public
        and not details.is_cancelled
        and not details.has_started()
    )


def details_for(action_ids: list[int]) -> dict[int, EventDetails]:
    if not action_ids:
        return {}
    rows = db.session.scalars(select(EventDetails).where(EventDetails.action_id.in_(action_ids)))
    return {row.action_id: row for row in rows}


def places_for(action_ids: list[int]) -> dict[int, Places]:
    """Going, waitlisted and checked in per event, in one query."""
    if not action_ids:
        return {}
    counts: dict[int, dict[str, int]] = {a: {} for a in action_ids}
    checked: dict[int, int] = {}
    for action_id, status, n, n_in in db.session.execute(
        select(
            Rsvp.action_id,
            Rsvp.status,
            func.count(Rsvp.id),
            func.count(Rsvp.checked_in_at),
        )
        .where(Rsvp.action_id.in_(action_ids))
        .group_by(Rsvp.action_id, Rsvp.status)
    ):
        counts[action_id][status] = n
        if status == RsvpStatus.GOING.value:
            checked[action_id] = n_in
    details = details_for(action_ids)
    return {
        a: Places(
            going=counts[a].get(RsvpStatus.GOING.value, 0),
            waitlisted=counts[a].get(RsvpStatus.WAITLISTED.value, 0),
            capacity=details[a].capacity if a in details else None,
            checked_in=checked.get(a, 0),
            cancelled=counts[a].get(RsvpStatus.CANCELLED.value, 0),
            turned_away=counts[a].get(RsvpStatus.FULL.value, 0),
        )
        for a in action_ids
    }


def dashboard_figures(actions: list[Action], now: datetime | None = None) -> list[dict[str, Any]]:
    """Per event among ``actions``: places, waitlist, cancellations, check-ins and the
    attendance rate (checked in / going, once the event has started or anyone was checked
    in). One grouped count over the RSVPs' (action, status) index; no personal data."""
    now = now or utcnow()
    events = [a for a in actions if a.is_event]
    details = details_for([a.id for a in events])
    places = places_for(list(details))
    figures = []
    for action in events:
        found = details.get(action.id)
        if found is None:
            continue
        p = places[action.id]
        started = found.has_started(now)
        figures.append(
            {
                "action_id": action.id,
                "title": action.title,
                "starts_at": found.starts_utc.isoformat(),
                "starts_local": f"{found.local_start:%a %d %b %Y %H:%M} ({found.timezone})",
                "going": p.going,
                "capacity": p.capacity,
                "places_left": p.left,
                "waitlisted": p.waitlisted,
                "turned_away": p.turned_away,
                "cancelled": p.cancelled,
                "checked_in": p.checked_in,
                "attendance_rate": (
                    round(p.checked_in / p.going, 3)
                    if p.going and (started or p.checked_in)
                    else None
                ),
                "started": started,
                "event_cancelled": found.is_cancelled,
                "review": found.review,
            }
        )
    return figures


def rsvp_of(rsvp_id: int) -> Rsvp | None:
    return db.session.scalar(
        select(Rsvp)
        .where(Rsvp.id == rsvp_id)
        .options(joinedload(Rsvp.signature), joinedload(Rsvp.action).joinedload(Action.campaign))
    )


def rsvp_for_signature(signature_id: int) -> Rsvp | None:
    return db.session.scalar(select(Rsvp).where(Rsvp.signature_id == signature_id))


def rsvps_for_signatures(signature_ids: list[int]) -> dict[int, Rsvp]:
    if not signature_ids:
        return {}
    rows = db.session.scalars(select(Rsvp).where(Rsvp.signature_id.in_(signature_ids)))
    return {row.signature_id: row for row in rows}


def attendees(action_id: int, statuses: list[str] | None = None) -> list[tuple[Rsvp, Signature]]:
    """Confirmed RSVPs of an event, going first then the waitlist in order, then the rest."""
    statuses = statuses or [
        RsvpStatus.GOING.value,
        RsvpStatus.WAITLISTED.value,
        RsvpStatus.FULL.value,
        RsvpStatus.CANCELLED.value,
    ]
    order = {s: i for i, s in enumerate(statuses)}
    rows = db.session.execute(
        select(Rsvp, Signature)
        .join(Signature, Signature.id == Rsvp.signature_id)
        .where(Rsvp.action_id == action_id, Rsvp.status.in_(statuses))
        .order_by(Rsvp.placed_at, Rsvp.id)
    ).all()
    return sorted(
        ((r, s) for r, s in rows), key=lambda pair: (order.get(pair[0].status, 99), pair[0].id)
    )


@dataclass(frozen=True)
class ListedEvent:
    action: Action
    details: EventDetails
    places: Places
    nearness: str = ""  # with a postcode search: how near it is, in words ("" = further)


# Nearest first without coordinates: the postcode data (``petitions.geo``, loaded for letters)
# says which constituency a postcode is in; the postcode itself gives district and area.
# Translated where they are shown (the events list).
NEARNESS = {
    0: N_("At your postcode"),
    1: N_("In your constituency"),
    2: N_("In your postcode district"),
    3: N_("In your postcode area"),
    4: "",
}


def _compact_sql(column: Any) -> Any:
    return func.upper(func.replace(column, " ", ""))


def _nearness_rank(postcode: str) -> Any:
    """A SQL rank of an event's postcode against the visitor's: 0 same postcode, 1 same
    constituency, 2 same district (outward code), 3 same area, 4 anything else (online too)."""
    target = compact(postcode)
    full = is_full(target)
    outward = target[:-3] if full else target
    area = re.match(r"^[A-Z]{1,2}", target)
    event_pc = _compact_sql(EventDetails.postcode)
    event_outward = func.substr(event_pc, 1, func.length(event_pc) - 3)
    codes = [place.code for place in geo_queries.lookup(target)] if full else []
    mine = aliased(PostcodeArea)
    same_constituency = (
        exists().where(mine.postcode == event_pc, mine.constituency_code.in_(codes))
        if codes
        else literal(False)
    )
    return case(
        (and_(literal(full), event_pc == target), 0),
        (same_constituency, 1),
        (and_(func.length(event_pc) >= 5, event_outward == outward), 2),
        (EventDetails.postcode_area == (area.group(0) if area else "-"), 3),
        else_=4,
    )


def upcoming_events(
    *,
    campaign_id: int | None = None,
    on_or_after: datetime | None = None,
    before: datetime | None = None,
    postcode_area: str = "",
    near: str = "",
    limit: int = 100,
) -> list[ListedEvent]:
    """Public, not cancelled, not over, soonest first (no personal data). With ``near`` (a
    full or partial UK postcode), nearest first: same postcode, same constituency, same
    district, same area, then the rest; soonest first within each."""
    since = max(utcnow(), on_or_after) if on_or_after else utcnow()
    rank = _nearness_rank(near) if near else literal(4)
    query = (
        select(Action, EventDetails, rank)
        .join(EventDetails, EventDetails.action_id == Action.id)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(
            Campaign.status == CampaignStatus.LIVE.value,
            EventDetails.cancelled_at.is_(None),
            EventDetails.review == ReviewState.APPROVED.value,
            EventDetails.ends_at > since,
        )
        .options(joinedload(Action.campaign))
        .order_by(rank, EventDetails.starts_at, Action.id)
        .limit(limit)
    )
    if campaign_id is not None:
        query = query.where(Action.campaign_id == campaign_id)
    if before is not None:
        query = query.where(EventDetails.starts_at < before)
    if postcode_area:
        query = query.where(EventDetails.postcode_area == postcode_area.upper())
    rows = db.session.execute(query).all()
    places = places_for([a.id for a, _d, _r in rows])
    return [ListedEvent(a, d, places[a.id], NEARNESS.get(int(r), "")) for a, d, r in rows]


def listed_events(actions: list[Action]) -> dict[int, ListedEvent]:
    """Details and places for these event actions (the campaign page's cards)."""
    ids = [a.id for a in actions]
    details = details_for(ids)
    places = places_for(ids)
    return {
        a.id: ListedEvent(a, details[a.id], places[a.id])
        for a in actions
        if a.id in details and details[a.id].is_public
    }


def hosted_pages_for(email_normalised: str) -> list[tuple[Action, EventDetails, str]]:
    """For "My actions": the events this person proposed, each with its host page's token."""
    from petitions.gatherings.links import host_token

    return [(a, d, host_token(a.id)) for a, d in hosted_by(email_normalised)]


def rsvp_pages_for(signature_ids: list[int]) -> dict[int, tuple[Rsvp, str]]:
    """For "My actions": each RSVP among these signatures, with its own page's token."""
    from petitions.gatherings.links import manage_token

    return {
        signature_id: (rsvp, manage_token(rsvp.id))
        for signature_id, rsvp in rsvps_for_signatures(signature_ids).items()
    }


def hosting_of(campaign_id: int) -> EventHosting | None:
    return db.session.get(EventHosting, campaign_id)


def hosted_by(email_normalised: str) -> list[tuple[Action, EventDetails]]:
    """The events this address proposed (as their host), oldest first."""
    if not email_normalised:
        return []
    rows = db.session.execute(
        select(Action, EventDetails)
        .join(EventDetails, EventDetails.action_id == Action.id)
        .where(EventDetails.host_email == email_normalised)
        .options(joinedload(Action.campaign))
        .order_by(Action.id)
    ).all()
    return [(a, d) for a, d in rows]


def proposals(campaign_id: int) -> list[tuple[Action, EventDetails]]:
    """Supporter-proposed events of a campaign, pending first."""
    rows = db.session.execute(
        select(Action, EventDetails)
        .join(EventDetails, EventDetails.action_id == Action.id)
        .where(Action.campaign_id == campaign_id, EventDetails.hosted.is_(True))
        .order_by(EventDetails.starts_at)
    ).all()
    order = {ReviewState.PENDING.value: 0, ReviewState.APPROVED.value: 1}
    return sorted(((a, d) for a, d in rows), key=lambda pair: order.get(pair[1].review, 2))
