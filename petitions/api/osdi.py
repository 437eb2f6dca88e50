"""The petition part of OSDI in HAL+JSON: entry point, petitions, signatures, and the record
signature helper.

Unauthenticated helper posts go through exactly what the web form goes through: the same
form validators (``SignForm`` fed from the JSON), the same intake (abuse checks, rate limits,
deduplication) and the same double opt-in email. A token (header ``OSDI-API-Token``) lets an
organiser read the signatures of their own campaigns; anything else is a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, request
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from petitions.api import queries, schemas, tokens
from petitions.api.http import HAL_JSON, ApiError, json_body, json_response, not_found, paging
from petitions.api.models import ApiToken
from petitions.api.openapi import (
    BAD_PAGING,
    NOT_MODIFIED,
    OPENAPI_PATH,
    TOKEN_HEADER,
    TOKEN_OPTIONAL,
    TOKEN_REQUIRED,
    Reply,
    error,
    ok,
    operation,
)
from petitions.api.representations import (
    CURIES,
    OSDI_ROOT,
    href,
    osdi_petition,
    osdi_signature_doc,
)
from petitions.campaigns.models import Action, Campaign
from petitions.core.unit_of_work import retry_on_disconnect
from petitions.extensions import csrf, db
from petitions.organisers.access import visible_campaigns_clause
from petitions.questions import queries as question_queries
from petitions.screening.checks import RequestFacts
from petitions.signing import services
from petitions.signing.forms import SignForm, clean_source
from petitions.signing.models import Signature
from petitions.signing.services import submit_signature
from petitions.supporters import consent

bp = Blueprint("osdi", __name__, url_prefix=OSDI_ROOT)

HELPER_MAX_BYTES = 16 * 1024
HELPER_INVALID = "The signature could not be recorded."
PETITION_ID = {"petition_id": schemas.MAX_INT}
SIGNATURE_ID = {"signature_id": schemas.MAX_BIGINT}
TOKEN_ERRORS = [
    BAD_PAGING,
    error(401, f"Missing or invalid {TOKEN_HEADER}."),
    error(404, "Not found, or not one of this token's campaigns."),
]


def hal(payload: schemas.Out, status: int = 200, *, public: bool = False) -> Response:
    if public:
        return json_response(payload, status, mimetype=HAL_JSON, public=True, max_age=30, stale=120)
    return json_response(payload, status, mimetype=HAL_JSON)


@bp.after_request
def _no_cache_with_token(response: Response) -> Response:
    if request.headers.get(TOKEN_HEADER):
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Access-Control-Allow-Origin", None)
    response.headers.setdefault("Vary", TOKEN_HEADER)
    return response


def current_token(required: bool) -> ApiToken | None:
    """The request's API token; 401 if one was sent and is invalid, or is needed and missing."""
    raw = request.headers.get(TOKEN_HEADER)
    token = None
    if raw is not None:
        token = tokens.authenticate(raw)
        if token is None:
            raise ApiError(401, f"The {TOKEN_HEADER} header does not name an active API token.")
    elif required:
        raise ApiError(401, f"Send an API token in the {TOKEN_HEADER} header.")
    return token


def _id(raw: int, limit: int = schemas.MAX_INT) -> int:
    if raw < 1 or raw > limit:
        raise not_found()
    return raw


def _collection_links(
    path: str, page: int, per_page: int, total: int
) -> tuple[int, dict[str, Any]]:
    pages = max(1, -(-total // per_page))
    found: dict[str, Any] = {"self_": href(path, page=page, per_page=per_page), "curies": CURIES}
    if page < pages:
        found["next"] = href(path, page=page + 1, per_page=per_page)
    if page > 1:
        found["prev"] = href(path, page=page - 1, per_page=per_page)
    return pages, found


@bp.get("/")
@operation(
    operation_id="osdiEntryPoint",
    summary="OSDI API entry point",
    replies=[ok(schemas.OsdiEntryPoint, HAL_JSON), NOT_MODIFIED],
)
def entry_point() -> Response:
    return hal(
        schemas.OsdiEntryPoint(
            motd="Petitions OSDI API: petitions, signatures, events and attendances.",
            vendor_name="petitions",
            product_name="petitions",
            osdi_version="1.0",
            max_pagesize=schemas.MAX_PER_PAGE,
            namespace="petitions",
            links=schemas.OsdiEntryPointLinks(
                self_=href("/"),
                curies=CURIES,
                petitions=href("/petitions"),
                signatures=href("/signatures"),
                events=href("/events"),
                docs=schemas.Link(href=OPENAPI_PATH),
            ),
        ),
        public=True,
    )


@bp.get("/petitions")
@operation(
    operation_id="osdiListPetitions",
    summary="Petitions and pledges as OSDI petitions",
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiPetitions, HAL_JSON), NOT_MODIFIED, BAD_PAGING],
)
def petitions() -> Response:
    number, per_page = paging()
    page = queries.public_actions_page(number, per_page)
    counts = queries.confirmed_counts([a.id for a in page.items])
    items = [osdi_petition(a, counts.get(a.id, 0)) for a in page.items]
    pages, found = _collection_links("/petitions", page.page, page.per_page, page.total)
    return hal(
        schemas.OsdiPetitions(
            total_pages=pages,
            per_page=page.per_page,
            page=page.page,
            total_records=page.total,
            links=schemas.OsdiPetitionsLinks(
                **found, petitions=[item.links.self_ for item in items]
            ),
            embedded=schemas.OsdiPetitionsEmbedded(petitions=items),
        ),
        public=True,
    )


@bp.get("/petitions/<int:petition_id>")
@operation(
    operation_id="osdiGetPetition",
    summary="One petition",
    id_limits=PETITION_ID,
    replies=[
        ok(schemas.OsdiPetition, HAL_JSON),
        NOT_MODIFIED,
        error(404, "No public petition with this id."),
    ],
)
def petition(petition_id: int) -> Response:
    action = queries.public_action_by_id(_id(petition_id))
    if action is None:
        raise not_found("That petition")
    counts = queries.confirmed_counts([action.id])
    return hal(osdi_petition(action, counts.get(action.id, 0)), public=True)


# --- signatures (a token's own campaigns only) -------------------------------------------------


def _own_signatures(token: ApiToken) -> Any:
    return (
        select(Signature)
        .join(Action, Action.id == Signature.action_id)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(visible_campaigns_clause(token.organiser))
    )


def _own_action(token: ApiToken, action_id: int) -> Action | None:
    return db.session.scalar(
        select(Action)
        .join(Campaign, Campaign.id == Action.campaign_id)
        .where(Action.id == action_id, visible_campaigns_clause(token.organiser))
    )


def _signature_page(query: Any, path: str) -> Response:
    number, per_page = paging()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(
        db.session.scalars(
            query.order_by(Signature.id).offset((number - 1) * per_page).limit(per_page)
        )
    )
    consenting = consent.consenting_signatures(s.id for s in rows)
    answers = question_queries.shareable_answers(s.id for s in rows)
    items = [osdi_signature_doc(s, s.id in consenting, answers.get(s.id, {})) for s in rows]
    pages, found = _collection_links(path, number, per_page, total)
    return hal(
        schemas.OsdiSignatures(
            total_pages=pages,
            per_page=per_page,
            page=number,
            total_records=total,
            links=schemas.OsdiSignaturesLinks(
                **found, signatures=[item.links.self_ for item in items]
            ),
            embedded=schemas.OsdiSignaturesEmbedded(signatures=items),
        )
    )


@bp.get("/signatures")
@operation(
    operation_id="osdiListSignatures",
    summary="Signatures of all the token's campaigns",
    security=TOKEN_REQUIRED,
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiSignatures, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def signatures() -> Response:
    token = current_token(required=True)
    assert token is not None
    return _signature_page(_own_signatures(token), "/signatures")


@bp.get("/signatures/<int:signature_id>")
@operation(
    operation_id="osdiGetSignature",
    summary="One signature of the token's campaigns",
    security=TOKEN_REQUIRED,
    id_limits=SIGNATURE_ID,
    replies=[ok(schemas.OsdiSignature, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def signature(signature_id: int) -> Response:
    token = current_token(required=True)
    assert token is not None
    found = db.session.scalar(
        _own_signatures(token).where(Signature.id == _id(signature_id, schemas.MAX_BIGINT))
    )
    if found is None:
        raise not_found("That signature")
    return hal(osdi_signature_doc(found))


@bp.get("/petitions/<int:petition_id>/signatures")
@operation(
    operation_id="osdiListPetitionSignatures",
    summary="Signatures of one of the token's own petitions",
    security=TOKEN_REQUIRED,
    id_limits=PETITION_ID,
    query=schemas.PageQuery,
    replies=[ok(schemas.OsdiSignatures, HAL_JSON, cached=False), *TOKEN_ERRORS],
)
def petition_signatures(petition_id: int) -> Response:
    token = current_token(required=True)
    assert token is not None
    action = _own_action(token, _id(petition_id))
    if action is None:
        raise not_found("That petition")
    return _signature_page(
        _own_signatures(token).where(Signature.action_id == action.id),
        f"/petitions/{action.id}/signatures",
    )


# --- the record signature helper ---------------------------------------------------------------

_FIELD_PATHS = {
    "name": "person.given_name",
    "email": "person.email_addresses",
    "country": "person.postal_addresses.country",
    "postcode": "person.postal_addresses.postal_code",
    "comment": "comments",
    "pledge_option": "petitions:pledge_option",
}


def _primary(items: list[Any] | None) -> Any:
    """The primary (else the first) entry of an OSDI list such as ``email_addresses``."""
    if not items:
        return None
    return next((item for item in items if item.primary is True), items[0])


def helper_formdata(body: schemas.OsdiRecordSignature) -> MultiDict[str, str]:
    """Map a validated OSDI record-signature body onto the sign form's fields."""
    person = body.person
    email = _primary(person.email_addresses)
    postal = _primary(person.postal_addresses)
    given = (person.given_name or "").strip()
    family = (person.family_name or "").strip()
    data = {
        "name": " ".join(part for part in (given, family) if part),
        "email": (email.address if email else None) or "",
        "postcode": (postal.postal_code if postal else None) or "",
        "country": ((postal.country if postal else None) or "").upper() or "GB",
        "comment": body.comments or "",
        "source": clean_source(body.referrer_data.source if body.referrer_data else None),
    }
    if body.pledge_option:
        data["pledge_option"] = body.pledge_option
    return MultiDict(data)


def _referrer_site(body: schemas.OsdiRecordSignature) -> str:
    website = body.referrer_data.website if body.referrer_data else None
    if not website:
        return ""
    try:
        host = urlsplit(website if "//" in website else "//" + website).hostname or ""
    except ValueError:
        return ""
    return "".join(ch for ch in host if ch.isalnum() or ch in ".-")[:255]


@bp.post("/petitions/<int:petition_id>/signatures")
@operation(
    operation_id="osdiRecordSignature",
    summary="Record signature helper",
    description=(
        "Records a signature exactly as the web form does: same validation, "
        "deduplication per email address, double opt-in (a confirmation email is "
        "always sent; the signature counts once confirmed) and rate limits. "
        "Without a token (or with another organiser's) the answer is the same "
        "whether or not the person had signed before."
    ),
    security=TOKEN_OPTIONAL,
    id_limits=PETITION_ID,
    body=schemas.OsdiRecordSignature,
    replies=[
        Reply(
            200,
            "Recorded (pending email confirmation)",
            media=HAL_JSON,
            alternatives=(schemas.OsdiSignatureAccepted, schemas.OsdiSignature),
        ),
        error(400, "The body is not JSON (or nested too deep) or not a JSON object."),
        error(401, f"An {TOKEN_HEADER} was sent but is not valid."),
        error(404, "No public petition with this id."),
        error(409, "The petition is closed."),
        error(413, "The body is too large."),
        error(415, "The body is not application/json."),
        error(422, "The fields did not validate; errors names them by path."),
        error(429, "Too many signatures from this address; try later."),
    ],
)
@csrf.exempt  # a JSON API for other systems: no browser session, nothing to forge
@retry_on_disconnect  # the UNIQUE index makes a second run the same signature
def record_signature(petition_id: int) -> Response:
    token = current_token(required=False)
    action = queries.public_action_by_id(_id(petition_id))
    if action is None:
        raise not_found("That petition")
    body = json_body(schemas.OsdiRecordSignature, HELPER_MAX_BYTES, HELPER_INVALID)
    if action.is_letter:
        raise ApiError(409, "This is a letter action: letters are written on its page.")
    form = SignForm(
        formdata=helper_formdata(body), meta={"csrf": False}, pledge_options=action.pledge_options
    )
    if not form.validate():
        errors = {
            _FIELD_PATHS.get(name, name): list(messages) for name, messages in form.errors.items()
        }
        raise ApiError(422, HELPER_INVALID, errors)
    if not action.is_open():
        raise ApiError(409, "This petition is closed and no longer takes signatures.")
    data = form.signature_input(
        source=form.source.data or "",
        referrer=_referrer_site(body),
        ip_address=request.remote_addr,
        wants_updates=False,
    )
    try:
        outcome = submit_signature(action, data, RequestFacts(ip=request.remote_addr))
    except services.ActionClosed:
        raise ApiError(409, "This petition is closed and no longer takes signatures.") from None
    if token is not None and outcome.signature_id and _own_action(token, action.id) is not None:
        stored = db.session.get(Signature, outcome.signature_id)
        if stored is not None:
            return hal(osdi_signature_doc(stored))
    # Everyone else gets the same answer whether or not this person had signed before.
    return hal(
        schemas.OsdiSignatureAccepted(
            status="pending_confirmation",
            message=(
                "Thank you. We have emailed a link to confirm this signature; "
                "it counts once it is confirmed."
            ),
            links=schemas.OsdiAcceptedLinks(
                curies=CURIES, petition=href(f"/petitions/{action.id}")
            ),
        )
    )
