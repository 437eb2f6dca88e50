"""Events in OSDI, as Action Network maps them: each public event is an ``osdi:event``, each
RSVP an ``osdi:attendance`` (for the campaign's own organisers, with a token), and the
**record attendance helper** RSVPs for a person.

The helper goes through exactly what the RSVP form goes through: the sign form's validators
fed from the JSON, the event's questions checked by ``gatherings.services.clean_answers``,
then ``gatherings.intake.submit_rsvp`` (the signing intake's abuse checks, rate limits and
double opt-in email; the place is given when the person confirms). Anyone gets the same
answer whether or not this person had RSVPed before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request
from sqlalchemy import Select, func, select

from petitions.api import links, schemas
from petitions.api.http import HAL_JSON, ApiError, json_body, not_found, paging
from petitions.api.openapi import (
    BAD_PAGING,
    NOT_MODIFIED,
    TOKEN_REQUIRED,
    Reply,
    error,
    ok,
    operation,
)
from petitions.api.osdi import (
    HELPER_MAX_BYTES,
    TOKEN_ERRORS,
    _collection_links,
    _id,
    current_token,
    hal,
    helper_formdata,
)
from petitions.api.representations import (
    CURIES,
    ORIGIN_SYSTEM,
    _utc,
    action_state,
    href,
    osdi_person,
)
from petitions.campaigns.models import Action, ActionKind, Campaign, CampaignStatus
from petitions.core.unit_of_work import retry_on_disconnect
from petitions.extensions import csrf, db
from petitions.gatherings import queries as gatherings
from petitions.gatherings.intake import submit_rsvp
from petitions.gatherings.models import EventDetails, ReviewState, Rsvp, RsvpStatus
from petitions.gatherings.services import EventError, clean_answers
from petitions.organisers.access import visible_campaigns_clause
from petitions.screening.checks import RequestFacts
from petitions.signing.forms import SignForm
from petitions.signing.models import Signature
from petitions.signing.services import ActionClosed
from petitions.supporters import consent

bp = Blueprint("osdi_events", __name__, url_prefix="/api/osdi/v1")

ATTENDANCE_INVALID = "The attendance could not be recorded."
EVENT_ID = {"event_id": schemas.MAX_INT}
_PUBLIC = [CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value]
_OSDI_STATUS = {
    RsvpStatus.PENDING.value: "needs action",
    RsvpStatus.GOING.value: "accepted",
    RsvpStatus.WAITLISTED.value: "tentative",
    RsvpStatus.FULL.value: "declined",
    RsvpStatus.CANCELLED.value: "declined",
}
_FIELD_PATHS = {
    "name": "person.given_name",
    "email": "person.email_addresses",
    "country": "person.postal_addresses.country",
    "postcode": "person.postal_addresses.postal_code",
}


def _events() -> Select[Action, EventDetails]:
    """Public events: of public campaigns, approved (a proposal waiting is in none of this)."""
    return (
        select(Action, EventDetails)
        .join(EventDetails, EventDetails.action_id == Action.id)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(
            Action.kind == ActionKind.EVENT.value,
            Campaign.status.in_(_PUBLIC),
            EventDetails.review == ReviewState.APPROVED.value,
        )
    )


def _doc(action: Action, details: EventDetails, places: gatherings.Places) -> schemas.OsdiEvent:
    created = _utc(action.created_at)
    location = None
    if details.is_in_person or details.postcode:
        location = schemas.OsdiEventLocation(
            venue=details.venue,
            address_lines=[details.address] if details.address else [],
            postal_code=details.postcode,
            country="GB" if details.postcode_area else "",
        )
    return schemas.OsdiEvent(
        identifiers=[f"{ORIGIN_SYSTEM}:{action.id}", f"{ORIGIN_SYSTEM}:uid:{details.uid}"],
        origin_system=ORIGIN_SYSTEM,
        created_date=created,
        modified_date=max(created, _utc(details.updated_at)),
        name=action.slug,
        title=action.title,
        description=action.text or "",
        browser_url=links.absolute(f"/e/{quote(action.campaign.slug)}/{quote(action.slug)}"),
        type="ticketed" if details.capacity else "open",
        status="cancelled" if details.is_cancelled else "confirmed",
        start_date=details.starts_utc,
        end_date=details.ends_utc,
        timezone=details.timezone,
        location=location,
        online=details.is_online,
        capacity=details.capacity,
        total_accepted=places.going,
        waitlisted=places.waitlisted,
        visibility="public",
        guests_can_invite_others=True,
        state=action_state(action),
        campaign=action.campaign.slug,
        links=schemas.OsdiEventLinks(
            self_=href(f"/events/{action.id}"),
            attendances=href(f"/events/{action.id}/attendances"),
            record_attendance_helper=href(f"/events/{action.id}/attendances"),
        ),
    )


def _docs(rows: list[Any]) -> list[schemas.OsdiEvent]:
    places = gatherings.places_for([a.id for a, _ in rows])
    return [_doc(a, d, places[a.id]) for a, d in rows]


def _public_event(event_id: int) -> tuple[Action, EventDetails]:
    row = db.session.execute(_events().where(Action.id == _id(event_id))).first()
    if row is None:
        raise not_found("That event")
    return row[0], row[1]


@bp.get("/events")
@operation(
    operation_id="osdiListEvents",
    summary="Public events (approved, of public campaigns), newest first",
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiEvents, HAL_JSON), NOT_MODIFIED, BAD_PAGING],
)
def events() -> Response:
    number, per_page = paging()
    query = _events()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.session.execute(
            query.order_by(Action.id.desc()).offset((number - 1) * per_page).limit(per_page)
        ).all()
    )
    items = _docs(rows)
    pages, found = _collection_links("/events", number, per_page, total)
    return hal(
        schemas.OsdiEvents(
            total_pages=pages,
            per_page=per_page,
            page=number,
            total_records=total,
            links=schemas.OsdiEventsLinks(**found, events=[item.links.self_ for item in items]),
            embedded=schemas.OsdiEventsEmbedded(events=items),
        ),
        public=True,
    )


@bp.get("/events/<int:event_id>")
@operation(
    operation_id="osdiGetEvent",
    summary="One public event",
    id_limits=EVENT_ID,
    replies=[ok(schemas.OsdiEvent, HAL_JSON), NOT_MODIFIED, error(404, "No public event here.")],
)
def event(event_id: int) -> Response:
    action, details = _public_event(event_id)
    return hal(_docs([(action, details)])[0], public=True)


# --- attendances (a token's own campaigns only) ---------------------------------------------


def _attendance(rsvp: Rsvp, signature: Signature, consenting: bool) -> schemas.OsdiAttendance:
    created = _utc(rsvp.created_at)
    modified = rsvp.cancelled_at or rsvp.checked_in_at or rsvp.placed_at or rsvp.created_at
    return schemas.OsdiAttendance(
        identifiers=[f"{ORIGIN_SYSTEM}:rsvp:{rsvp.id}", f"{ORIGIN_SYSTEM}:{signature.id}"],
        origin_system=ORIGIN_SYSTEM,
        created_date=created,
        modified_date=max(created, _utc(modified)),
        status=_OSDI_STATUS.get(rsvp.status, "needs action"),  # type: ignore[arg-type]
        rsvp_status=rsvp.status,  # type: ignore[arg-type]
        attended=rsvp.checked_in_at is not None,
        answers=dict(rsvp.answers or {}),
        referrer_data=schemas.OsdiReferrerData(
            source=signature.source or "", website=signature.referrer or ""
        ),
        embedded=schemas.OsdiSignatureEmbedded(person=osdi_person(signature, consenting)),
        links=schemas.OsdiAttendanceLinks(
            self_=href(f"/events/{rsvp.action_id}/attendances/{rsvp.id}"),
            event=href(f"/events/{rsvp.action_id}"),
        ),
    )


def _own_event(token: Any, event_id: int) -> Action:
    action = db.session.scalar(
        select(Action)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(
            Action.id == _id(event_id),
            Action.kind == ActionKind.EVENT.value,
            visible_campaigns_clause(token.organiser),
        )
    )
    if action is None:
        raise not_found("That event")
    return action


@bp.get("/events/<int:event_id>/attendances/<int:attendance_id>")
@operation(
    operation_id="osdiGetAttendance",
    summary="One RSVP to one of the token's own events",
    security=TOKEN_REQUIRED,
    id_limits={**EVENT_ID, "attendance_id": schemas.MAX_BIGINT},
    replies=[ok(schemas.OsdiAttendance, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def attendance(event_id: int, attendance_id: int) -> Response:
    token = current_token(required=True)
    assert token is not None
    action = _own_event(token, event_id)
    row = db.session.execute(
        select(Rsvp, Signature)
        .join(Signature, Signature.id == Rsvp.signature_id)
        .where(Rsvp.action_id == action.id, Rsvp.id == _id(attendance_id, schemas.MAX_BIGINT))
    ).first()
    if row is None:
        raise not_found("That attendance")
    rsvp, signature = row
    consenting = signature.id in consent.consenting_signatures([signature.id])
    return hal(_attendance(rsvp, signature, consenting))


@bp.get("/events/<int:event_id>/attendances")
@operation(
    operation_id="osdiListAttendances",
    summary="RSVPs to one of the token's own events, with their people",
    security=TOKEN_REQUIRED,
    id_limits=EVENT_ID,
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiAttendances, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def attendances(event_id: int) -> Response:
    token = current_token(required=True)
    assert token is not None
    number, per_page = paging()
    action = _own_event(token, event_id)
    query = (
        select(Rsvp, Signature)
        .join(Signature, Signature.id == Rsvp.signature_id)
        .where(Rsvp.action_id == action.id)
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.session.execute(
            query.order_by(Rsvp.id).offset((number - 1) * per_page).limit(per_page)
        ).all()
    )
    consenting = consent.consenting_signatures(s.id for _, s in rows)
    items = [_attendance(r, s, s.id in consenting) for r, s in rows]
    path = f"/events/{action.id}/attendances"
    pages, found = _collection_links(path, number, per_page, total)
    return hal(
        schemas.OsdiAttendances(
            total_pages=pages,
            per_page=per_page,
            page=number,
            total_records=total,
            links=schemas.OsdiAttendancesLinks(
                **found, attendances=[item.links.self_ for item in items]
            ),
            embedded=schemas.OsdiAttendancesEmbedded(attendances=items),
        )
    )


# --- the record attendance helper -------------------------------------------------------------


@bp.post("/events/<int:event_id>/attendances")
@operation(
    operation_id="osdiRecordAttendance",
    summary="Record attendance helper",
    description=(
        "RSVPs for a person exactly as the event page does: same validation, the event's "
        "questions (``petitions:answers`` by key), deduplication per email address, double "
        "opt-in (a confirmation email is always sent; the place, or the waitlist, is given "
        "once it is confirmed) and rate limits. The answer is the same whether or not the "
        "person had RSVPed before."
    ),
    id_limits=EVENT_ID,
    body=schemas.OsdiRecordAttendance,
    replies=[
        Reply(
            200,
            "Recorded (pending email confirmation)",
            media=HAL_JSON,
            model=schemas.OsdiAttendanceAccepted,
        ),
        error(400, "The body is not JSON (or nested too deep) or not a JSON object."),
        error(404, "No public event with this id."),
        error(409, "The event no longer takes RSVPs (cancelled, started or closed)."),
        error(413, "The body is too large."),
        error(415, "The body is not application/json."),
        error(422, "The fields did not validate; errors names them by path."),
        error(429, "Too many submissions from this address; try later."),
    ],
)
@csrf.exempt  # a JSON API for other systems: no browser session, nothing to forge
@retry_on_disconnect  # a second run finds the same signature and the same RSVP
def record_attendance(event_id: int) -> Response:
    action, details = _public_event(event_id)
    body = json_body(schemas.OsdiRecordAttendance, HELPER_MAX_BYTES, ATTENDANCE_INVALID)
    form = SignForm(
        formdata=helper_formdata(
            schemas.OsdiRecordSignature.model_validate(
                {"person": body.person, "referrer_data": body.referrer_data}
            )
        ),
        meta={"csrf": False},
    )
    if not form.validate():
        errors = {_FIELD_PATHS.get(k, k): list(v) for k, v in form.errors.items()}
        raise ApiError(422, ATTENDANCE_INVALID, errors)
    try:
        answers, sensitive = clean_answers(details.questions, dict(body.answers or {}))
    except EventError as exc:
        raise ApiError(422, ATTENDANCE_INVALID, {"petitions:answers": [str(exc)]}) from None
    if not gatherings.accepting_rsvps(action, details):
        raise ApiError(409, "This event no longer takes RSVPs.")
    data = form.signature_input(
        source=form.source.data or "",
        referrer="",
        ip_address=request.remote_addr,
        wants_updates=False,
    )
    try:
        submit_rsvp(action, data, RequestFacts(ip=request.remote_addr), answers, sensitive)
    except ActionClosed:
        raise ApiError(409, "This event no longer takes RSVPs.") from None
    return hal(
        schemas.OsdiAttendanceAccepted(
            status="pending_confirmation",
            message=(
                "Thank you. We have emailed a link to confirm this RSVP; the place (or the "
                "waitlist) is given once it is confirmed."
            ),
            links=schemas.OsdiAttendanceAcceptedLinks(
                curies=CURIES, event=href(f"/events/{action.id}")
            ),
        )
    )
