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

from petitions.abuse.checks import RequestFacts
from petitions.api import queries, tokens
from petitions.api.http import (
    HAL_JSON,
    ApiError,
    json_response,
    not_found,
    paging,
    require_json_object,
)
from petitions.api.models import ApiToken
from petitions.api.representations import OSDI_ROOT, href, osdi_petition, osdi_signature
from petitions.campaigns.models import Action, Campaign
from petitions.extensions import csrf, db
from petitions.organisers.access import visible_campaigns_clause
from petitions.signing import services
from petitions.signing.forms import SignForm, clean_source
from petitions.signing.intake import submit_signature
from petitions.signing.models import Signature

bp = Blueprint("osdi", __name__, url_prefix=OSDI_ROOT)

TOKEN_HEADER = "OSDI-API-Token"  # noqa: S105 - a header name
HELPER_MAX_BYTES = 16 * 1024
_MAX_INT = 2**31 - 1
_MAX_BIGINT = 2**63 - 1
CURIES = [
    {"name": "osdi", "href": "https://opensupporter.github.io/osdi-docs/{rel}", "templated": True}
]


def hal(payload: Any, status: int = 200, *, public: bool = False) -> Response:
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
        db.session.commit()  # last_used_at
    elif required:
        raise ApiError(401, f"Send an API token in the {TOKEN_HEADER} header.")
    return token


def _id(raw: int, limit: int = _MAX_INT) -> int:
    if raw < 1 or raw > limit:
        raise not_found()
    return raw


def _collection(
    name: str, items: list[dict[str, Any]], path: str, page: int, per_page: int, total: int
) -> dict[str, Any]:
    pages = max(1, -(-total // per_page))
    links: dict[str, Any] = {"self": href(path, page=page, per_page=per_page), "curies": CURIES}
    if page < pages:
        links["next"] = href(path, page=page + 1, per_page=per_page)
    if page > 1:
        links["prev"] = href(path, page=page - 1, per_page=per_page)
    links[f"osdi:{name}"] = [item["_links"]["self"] for item in items]
    return {
        "total_pages": pages,
        "per_page": per_page,
        "page": page,
        "total_records": total,
        "_links": links,
        "_embedded": {f"osdi:{name}": items},
    }


@bp.get("/")
def entry_point() -> Response:
    return hal(
        {
            "motd": "Petitions OSDI API: petitions and signatures.",
            "vendor_name": "petitions",
            "product_name": "petitions",
            "osdi_version": "1.0",
            "max_pagesize": 100,
            "namespace": "petitions",
            "_links": {
                "self": href("/"),
                "curies": CURIES,
                "osdi:petitions": href("/petitions"),
                "osdi:signatures": href("/signatures"),
                "docs": {"href": "/api/openapi.json"},
            },
        },
        public=True,
    )


@bp.get("/petitions")
def petitions() -> Response:
    number, per_page = paging()
    page = queries.public_actions_page(number, per_page)
    counts = queries.confirmed_counts([a.id for a in page.items])
    items = [osdi_petition(a, counts.get(a.id, 0)) for a in page.items]
    return hal(
        _collection("petitions", items, "/petitions", page.page, page.per_page, page.total),
        public=True,
    )


@bp.get("/petitions/<int:petition_id>")
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
    items = [osdi_signature(s) for s in rows]
    return hal(_collection("signatures", items, path, number, per_page, total))


@bp.get("/signatures")
def signatures() -> Response:
    token = current_token(required=True)
    assert token is not None
    return _signature_page(_own_signatures(token), "/signatures")


@bp.get("/signatures/<int:signature_id>")
def signature(signature_id: int) -> Response:
    token = current_token(required=True)
    assert token is not None
    found = db.session.scalar(
        _own_signatures(token).where(Signature.id == _id(signature_id, _MAX_BIGINT))
    )
    if found is None:
        raise not_found("That signature")
    return hal(osdi_signature(found))


@bp.get("/petitions/<int:petition_id>/signatures")
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


def _obj(value: Any, path: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors[path] = ["must be an object"]
        return {}
    return value


def _text(container: dict[str, Any], key: str, path: str, errors: dict[str, list[str]]) -> str:
    value = container.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[path] = ["must be a string"]
        return ""
    return value


def _first(
    container: dict[str, Any], key: str, path: str, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """The primary (else the first) object of an OSDI list such as ``email_addresses``."""
    value = container.get(key)
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        errors[path] = ["must be a list of objects"]
        return {}
    primary = [v for v in value if v.get("primary") is True]
    return (primary or value or [{}])[0]


def helper_formdata(body: dict[str, Any]) -> tuple[MultiDict[str, str], dict[str, list[str]]]:
    """Map an OSDI record-signature body onto the sign form's fields."""
    errors: dict[str, list[str]] = {}
    person = _obj(body.get("person"), "person", errors)
    if "person" not in body:
        errors["person"] = ["is required"]
    email = _first(person, "email_addresses", "person.email_addresses", errors)
    postal = _first(person, "postal_addresses", "person.postal_addresses", errors)
    referrer = _obj(body.get("referrer_data"), "referrer_data", errors)
    given = _text(person, "given_name", "person.given_name", errors).strip()
    family = _text(person, "family_name", "person.family_name", errors).strip()
    data = {
        "name": " ".join(part for part in (given, family) if part),
        "email": _text(email, "address", "person.email_addresses.address", errors),
        "postcode": _text(postal, "postal_code", "person.postal_addresses.postal_code", errors),
        "country": (
            _text(postal, "country", "person.postal_addresses.country", errors).upper() or "GB"
        ),
        "comment": _text(body, "comments", "comments", errors),
        "source": clean_source(_text(referrer, "source", "referrer_data.source", errors)),
    }
    pledge = _text(body, "petitions:pledge_option", "petitions:pledge_option", errors)
    if pledge:
        data["pledge_option"] = pledge
    triggers = _obj(body.get("triggers"), "triggers", errors)
    autoresponse = _obj(triggers.get("autoresponse"), "triggers.autoresponse", errors)
    enabled = autoresponse.get("enabled", True)
    if not isinstance(enabled, bool):
        errors["triggers.autoresponse.enabled"] = ["must be true or false"]
    return MultiDict(data), errors


def _referrer_site(body: dict[str, Any]) -> str:
    referrer = body.get("referrer_data")
    website = referrer.get("website") if isinstance(referrer, dict) else None
    if not isinstance(website, str) or not website:
        return ""
    try:
        host = urlsplit(website if "//" in website else "//" + website).hostname or ""
    except ValueError:
        return ""
    return "".join(ch for ch in host if ch.isalnum() or ch in ".-")[:255]


@bp.post("/petitions/<int:petition_id>/signatures")
@csrf.exempt  # a JSON API for other systems: no browser session, nothing to forge
def record_signature(petition_id: int) -> Response:
    token = current_token(required=False)
    action = queries.public_action_by_id(_id(petition_id))
    if action is None:
        raise not_found("That petition")
    body = require_body()
    formdata, errors = helper_formdata(body)
    if errors:
        raise ApiError(422, "The signature could not be recorded.", errors)
    form = SignForm(formdata=formdata, meta={"csrf": False}, pledge_options=action.pledge_options)
    if not form.validate():
        errors = {
            _FIELD_PATHS.get(name, name): list(messages) for name, messages in form.errors.items()
        }
        raise ApiError(422, "The signature could not be recorded.", errors)
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
            return hal(osdi_signature(stored))
    # Everyone else gets the same answer whether or not this person had signed before.
    return hal(
        {
            "petitions:status": "pending_confirmation",
            "message": (
                "Thank you. We have emailed a link to confirm this signature; "
                "it counts once it is confirmed."
            ),
            "_links": {"curies": CURIES, "osdi:petition": href(f"/petitions/{action.id}")},
        }
    )


def require_body() -> dict[str, Any]:
    return require_json_object(HELPER_MAX_BYTES)
