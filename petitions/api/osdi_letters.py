"""Letter actions in OSDI, mapped the way Action Network maps letter campaigns: each letter
action is an ``advocacy_campaign`` (type ``email``) with its fixed targets, the **record
outreach helper** writes a letter for a person, and a token lists its own campaigns' letters
as ``outreaches`` (with the person, like signatures).

The helper goes through exactly what the web form goes through: the letter form's validators
fed from the JSON, then ``letters.intake.submit_letter`` (recipients resolved from the
postcode, the words checked, the signing intake's abuse checks, rate limits and double opt-in
email). Nothing is sent to any target until the person confirms their email. Anyone gets the
same answer whether or not this person had written before.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, request
from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict

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
    _own_action,
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
    signature_status,
)
from petitions.campaigns.models import Action, ActionKind, Campaign, CampaignStatus
from petitions.core.unit_of_work import retry_on_disconnect
from petitions.extensions import csrf, db
from petitions.geo import queries as geo
from petitions.letters import intake, queries, services
from petitions.letters.forms import LetterSignForm
from petitions.letters.models import Letter, LetterDetails, LetterTarget
from petitions.letters.notifications import letter_text, recipient_of
from petitions.letters.services import LetterError, fill
from petitions.screening.checks import RequestFacts
from petitions.signing.models import Signature
from petitions.signing.services import ActionClosed
from petitions.supporters import consent

bp = Blueprint("osdi_letters", __name__, url_prefix="/api/osdi/v1")

OUTREACH_INVALID = "The outreach could not be recorded."
CAMPAIGN_ID = {"campaign_id": schemas.MAX_INT}
OUTREACH_ID = {"campaign_id": schemas.MAX_INT, "outreach_id": schemas.MAX_BIGINT}
_PUBLIC = [CampaignStatus.LIVE.value, CampaignStatus.CLOSED.value]


def _letters() -> Select[Action]:
    return (
        select(Action)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(Action.kind == ActionKind.LETTER.value, Campaign.status.in_(_PUBLIC))
    )


def _target(target: LetterTarget) -> schemas.OsdiAdvocacyTarget:
    given, _, family = (target.name or "").partition(" ")
    return schemas.OsdiAdvocacyTarget(
        title=target.title, organization=target.organisation, given_name=given, family_name=family
    )


def _doc(action: Action) -> schemas.OsdiAdvocacyCampaign:
    details = queries.details_of(action.id)
    assert details is not None
    counts = queries.counts_per_target(action.id, live=False)
    created = _utc(action.created_at)
    return schemas.OsdiAdvocacyCampaign(
        identifiers=[f"{ORIGIN_SYSTEM}:{action.id}"],
        origin_system=ORIGIN_SYSTEM,
        created_date=created,
        modified_date=_utc(action.closed_at) if action.closed_at else created,
        name=action.slug,
        title=action.title,
        description=action.text or "",
        template=details.template,
        browser_url=links.absolute(f"/l/{quote(action.campaign.slug)}/{quote(action.slug)}"),
        type="email",
        targets=[_target(t) for t in services.fixed_targets(action.id)],
        total_outreaches=sum(c.delivered for c in counts),
        state=action_state(action),
        campaign=action.campaign.slug,
        to_representative=details.to_representative,
        links=schemas.OsdiAdvocacyCampaignLinks(
            self_=href(f"/advocacy_campaigns/{action.id}"),
            record_outreach_helper=href(f"/advocacy_campaigns/{action.id}/outreaches"),
        ),
    )


def _public_letter(campaign_id: int) -> tuple[Action, LetterDetails]:
    action = db.session.scalar(_letters().where(Action.id == _id(campaign_id)))
    details = queries.details_of(action.id) if action is not None else None
    if action is None or details is None:
        raise not_found("That advocacy campaign")
    return action, details


@bp.get("/advocacy_campaigns")
@operation(
    operation_id="osdiListAdvocacyCampaigns",
    summary="Letter actions as OSDI advocacy campaigns",
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiAdvocacyCampaigns, HAL_JSON), NOT_MODIFIED, BAD_PAGING],
)
def advocacy_campaigns() -> Response:
    number, per_page = paging()
    query = _letters()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    actions = list(
        db.session.scalars(
            query.order_by(Action.id.desc()).offset((number - 1) * per_page).limit(per_page)
        )
    )
    items = [_doc(a) for a in actions]
    pages, found = _collection_links("/advocacy_campaigns", number, per_page, total)
    return hal(
        schemas.OsdiAdvocacyCampaigns(
            total_pages=pages,
            per_page=per_page,
            page=number,
            total_records=total,
            links=schemas.OsdiAdvocacyCampaignsLinks(
                **found, advocacy_campaigns=[item.links.self_ for item in items]
            ),
            embedded=schemas.OsdiAdvocacyCampaignsEmbedded(advocacy_campaigns=items),
        ),
        public=True,
    )


@bp.get("/advocacy_campaigns/<int:campaign_id>")
@operation(
    operation_id="osdiGetAdvocacyCampaign",
    summary="One letter action as an advocacy campaign",
    id_limits=CAMPAIGN_ID,
    replies=[
        ok(schemas.OsdiAdvocacyCampaign, HAL_JSON),
        NOT_MODIFIED,
        error(404, "No public letter action with this id."),
    ],
)
def advocacy_campaign(campaign_id: int) -> Response:
    action, _details = _public_letter(campaign_id)
    return hal(_doc(action), public=True)


@bp.post("/advocacy_campaigns/<int:campaign_id>/outreaches")
@operation(
    operation_id="osdiRecordOutreach",
    summary="Record outreach helper",
    description=(
        "Writes a letter for a person exactly as the web form does: same validation, the "
        "recipients found from the postcode (the MP) plus the fixed targets, deduplication per "
        "email address, double opt-in (nothing is sent to any target until the person confirms) "
        "and rate limits. The answer is the same whether or not the person had written before."
    ),
    id_limits=CAMPAIGN_ID,
    body=schemas.OsdiRecordOutreach,
    replies=[
        Reply(
            200,
            "Recorded (pending email confirmation)",
            media=HAL_JSON,
            model=schemas.OsdiOutreachAccepted,
        ),
        error(400, "The body is not JSON (or nested too deep) or not a JSON object."),
        error(404, "No public letter action with this id."),
        error(409, "The letter action is closed."),
        error(413, "The body is too large."),
        error(415, "The body is not application/json."),
        error(422, "The fields did not validate; errors names them by path."),
        error(429, "Too many submissions from this address; try later."),
    ],
)
@csrf.exempt  # a JSON API for other systems: no browser session, nothing to forge
@retry_on_disconnect  # a second run finds the same signature and replaces the words
def record_outreach(campaign_id: int) -> Response:
    action, details = _public_letter(campaign_id)
    body = json_body(schemas.OsdiRecordOutreach, HELPER_MAX_BYTES, OUTREACH_INVALID)
    fields = helper_formdata(
        schemas.OsdiRecordSignature.model_validate(
            {"person": body.person, "referrer_data": body.referrer_data}
        )
    ).to_dict()
    fields["message"] = body.message if body.message is not None else details.template
    form = LetterSignForm(formdata=MultiDict(fields), meta={"csrf": False})
    if not form.validate():
        names = {
            "name": "person.given_name",
            "email": "person.email_addresses",
            "postcode": "person.postal_addresses.postal_code",
            "message": "message",
        }
        errors = {names.get(k, k): list(v) for k, v in form.errors.items()}
        raise ApiError(422, OUTREACH_INVALID, errors)
    if not action.is_open():
        raise ApiError(409, "This letter action is closed.")
    place = None
    if details.to_representative and form.country.data == "GB":
        places = geo.lookup(form.postcode.data or "")
        if body.constituency:
            place = next((p for p in places if p.code == body.constituency), None)
        elif len(places) == 1:
            place = places[0]
        if place is None:
            why = (
                "This postcode is in more than one constituency: send petitions:constituency."
                if len(places) > 1
                else "We couldn't find that postcode."
            )
            raise ApiError(422, OUTREACH_INVALID, {"person.postal_addresses.postal_code": [why]})
    data = form.signature_input(
        source=form.source.data or "",
        referrer="",
        ip_address=request.remote_addr,
        wants_updates=False,
    )
    try:
        outcome = intake.submit_letter(
            action,
            details,
            data,
            message=form.message.data or "",
            personal="",
            place=place,
            facts=RequestFacts(ip=request.remote_addr),
        )
    except LetterError as exc:
        raise ApiError(422, OUTREACH_INVALID, {"message": [str(exc)]}) from None
    except ActionClosed:
        raise ApiError(409, "This letter action is closed.") from None
    return hal(
        schemas.OsdiOutreachAccepted(
            status="pending_confirmation",
            message=(
                "Thank you. We have emailed a link to confirm; the letter goes to its targets "
                "once it is confirmed."
            ),
            targets=[_target(t) for t in outcome.targets],
            links=schemas.OsdiOutreachAcceptedLinks(
                curies=CURIES, advocacy_campaign=href(f"/advocacy_campaigns/{action.id}")
            ),
        )
    )


# --- outreaches: a token's own letters ---------------------------------------------------------


def _outreach_doc(
    letter: Letter, signature: Signature, details: LetterDetails, consenting: bool
) -> schemas.OsdiOutreach:
    """One letter as an OSDI outreach: the words as written, the recipients and each copy's
    delivery, the person. Organisers of the campaign only."""
    deliveries = {d.target_id: d.status for d in queries.deliveries_of(letter.id)}
    targets = []
    for target_id in letter.target_ids:
        target = queries.target_of(letter.action_id, int(target_id))
        if target is None:
            continue
        base = _target(target)
        targets.append(
            schemas.OsdiOutreachTarget(**base.model_dump(), delivery=deliveries.get(target.id))
        )
    first = next(
        (t for t in (queries.target_of(letter.action_id, int(i)) for i in letter.target_ids) if t),
        None,
    )
    recipient = recipient_of(first) if first is not None else None
    subject = details.subject_for(letter.thank_you)
    if recipient is not None:
        subject = fill(subject, {"target_name": recipient.name, "target_title": recipient.title})
    modified = signature.withdrawn_at or signature.invalidated_at or signature.confirmed_at
    path = f"/advocacy_campaigns/{letter.action_id}/outreaches/{letter.id}"
    return schemas.OsdiOutreach(
        identifiers=[f"{ORIGIN_SYSTEM}:outreach:{letter.id}"],
        origin_system=ORIGIN_SYSTEM,
        created_date=_utc(letter.created_at),
        modified_date=_utc(modified or letter.created_at),
        type="email",
        subject=subject,
        message=(
            letter_text(letter, recipient, signature.name, signature.postcode)
            if recipient is not None
            else letter.body
        ),
        targets=targets,
        status=signature_status(signature),
        constituency=letter.constituency_code or None,
        embedded=schemas.OsdiSignatureEmbedded(person=osdi_person(signature, consenting)),
        links=schemas.OsdiOutreachLinks(
            self_=href(path),
            advocacy_campaign=href(f"/advocacy_campaigns/{letter.action_id}"),
            signature=href(f"/signatures/{signature.id}"),
        ),
    )


def _own_letter_action(campaign_id: int) -> tuple[Action, LetterDetails]:
    token = current_token(required=True)
    assert token is not None
    action = _own_action(token, _id(campaign_id))
    details = queries.details_of(action.id) if action is not None and action.is_letter else None
    if action is None or details is None:
        raise not_found("That advocacy campaign")
    return action, details


@bp.get("/advocacy_campaigns/<int:campaign_id>/outreaches")
@operation(
    operation_id="osdiListOutreaches",
    summary="Letters written to one of the token's own letter actions",
    security=TOKEN_REQUIRED,
    id_limits=CAMPAIGN_ID,
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiOutreaches, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def outreaches(campaign_id: int) -> Response:
    action, details = _own_letter_action(campaign_id)
    number, per_page = paging()
    query = (
        select(Letter, Signature)
        .join(Signature, Signature.id == Letter.signature_id)
        .where(Letter.action_id == action.id)
    )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(Letter.id).offset((number - 1) * per_page).limit(per_page)
    ).all()
    consenting = consent.consenting_signatures(s.id for _, s in rows)
    items = [_outreach_doc(letter, s, details, s.id in consenting) for letter, s in rows]
    pages, found = _collection_links(
        f"/advocacy_campaigns/{action.id}/outreaches", number, per_page, total
    )
    return hal(
        schemas.OsdiOutreaches(
            total_pages=pages,
            per_page=per_page,
            page=number,
            total_records=total,
            links=schemas.OsdiOutreachesLinks(
                **found, outreaches=[item.links.self_ for item in items]
            ),
            embedded=schemas.OsdiOutreachesEmbedded(outreaches=items),
        )
    )


@bp.get("/advocacy_campaigns/<int:campaign_id>/outreaches/<int:outreach_id>")
@operation(
    operation_id="osdiGetOutreach",
    summary="One letter written to one of the token's own letter actions",
    security=TOKEN_REQUIRED,
    id_limits=OUTREACH_ID,
    replies=[ok(schemas.OsdiOutreach, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def outreach(campaign_id: int, outreach_id: int) -> Response:
    action, details = _own_letter_action(campaign_id)
    found = db.session.execute(
        select(Letter, Signature)
        .join(Signature, Signature.id == Letter.signature_id)
        .where(Letter.action_id == action.id, Letter.id == _id(outreach_id, schemas.MAX_BIGINT))
    ).first()
    if found is None:
        raise not_found("That outreach")
    letter, signature = found
    consenting = signature.id in consent.consenting_signatures([signature.id])
    return hal(_outreach_doc(letter, signature, details, consenting))
