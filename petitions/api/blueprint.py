"""The public read API: campaigns, actions, breakdowns and a near-free counter. No key."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request
from pydantic import ValidationError

from petitions.api import links, queries, schemas
from petitions.api.http import ApiError, dumps, json_response, not_found, paging
from petitions.api.openapi import BAD_PAGING, NOT_MODIFIED, OPENAPI_PATH, error, ok, operation
from petitions.api.representations import (
    V1_ROOT,
    action_detail,
    action_doc,
    campaign_doc,
    event_doc,
    percent_of,
)
from petitions.extensions import limiter
from petitions.gatherings.queries import upcoming_events
from petitions.geo.postcodes import compact, is_full, is_partial
from petitions.letters.queries import counts_per_target

bp = Blueprint("api", __name__, url_prefix=V1_ROOT)

# Cache lifetimes: counters poll, so theirs are short; everything may be served stale while a
# cache revalidates, so a surge of readers costs the origin next to nothing.
COUNT_MAX_AGE, COUNT_STALE = 10, 60
PAGE_MAX_AGE, PAGE_STALE = 60, 300


@bp.app_errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    return error.get_response()


@bp.after_request
def open_cors(response: Response) -> Response:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


def _paged_links(path: str, page: queries.Page) -> schemas.PageLinks:
    per_page = page.per_page

    def at(n: int) -> str:
        return links.absolute(path, page=n, per_page=per_page)

    return schemas.PageLinks(
        self_=at(page.page),
        first=at(1),
        last=at(page.pages),
        next=at(page.page + 1) if page.has_next else None,
        prev=at(page.page - 1) if page.has_prev else None,
    )


def _public(body: schemas.Out) -> Response:
    return json_response(body, public=True, max_age=PAGE_MAX_AGE, stale=PAGE_STALE)


@bp.get("/")
@operation(
    operation_id="apiIndex",
    summary="Links to the API's collections",
    replies=[ok(schemas.ApiIndex), NOT_MODIFIED],
)
def index() -> Response:
    return _public(
        schemas.ApiIndex(
            name="petitions public API",
            version=1,
            links=schemas.ApiIndexLinks(
                campaigns=links.absolute(f"{V1_ROOT}/campaigns"),
                actions=links.absolute(f"{V1_ROOT}/actions"),
                events=links.absolute(f"{V1_ROOT}/events"),
                openapi=links.absolute(OPENAPI_PATH),
                osdi=links.absolute("/api/osdi/v1/"),
            ),
        )
    )


@bp.get("/campaigns")
@operation(
    operation_id="listCampaigns",
    summary="Public campaigns with their actions and confirmed counts",
    query=schemas.PageQuery,
    replies=[ok(schemas.CampaignPage), NOT_MODIFIED, BAD_PAGING],
)
def campaigns() -> Response:
    number, per_page = paging()
    page = queries.campaigns_page(number, per_page)
    counts = queries.confirmed_counts([a.id for c in page.items for a in c.actions])
    hidden = queries.hidden_actions(page.items)
    return _public(
        schemas.CampaignPage(
            data=[campaign_doc(c, counts, hidden) for c in page.items],
            page=page.page,
            per_page=page.per_page,
            total=page.total,
            pages=page.pages,
            links=_paged_links(f"{V1_ROOT}/campaigns", page),
        )
    )


@bp.get("/campaigns/<slug>")
@operation(
    operation_id="getCampaign",
    summary="One public campaign",
    replies=[ok(schemas.Campaign), NOT_MODIFIED, error(404, "No public campaign with this slug.")],
)
def campaign(slug: str) -> Response:
    found = queries.public_campaign(slug)
    if found is None:
        raise not_found("That campaign")
    counts = queries.confirmed_counts([a.id for a in found.actions])
    return _public(campaign_doc(found, counts, queries.hidden_actions([found])))


@bp.get("/actions")
@operation(
    operation_id="listActions",
    summary="Public actions (petitions and pledges), newest first",
    query=schemas.PageQuery,
    replies=[ok(schemas.ActionPage), NOT_MODIFIED, BAD_PAGING],
)
def actions() -> Response:
    number, per_page = paging()
    page = queries.public_actions_page(number, per_page)
    counts = queries.confirmed_counts([a.id for a in page.items])
    return _public(
        schemas.ActionPage(
            data=[action_doc(a.campaign, a, counts.get(a.id, 0)) for a in page.items],
            page=page.page,
            per_page=page.per_page,
            total=page.total,
            pages=page.pages,
            links=_paged_links(f"{V1_ROOT}/actions", page),
        )
    )


@bp.get("/campaigns/<slug>/actions/<action_slug>")
@operation(
    operation_id="getAction",
    summary="One action with confirmed counts by country, area, day, source, site",
    replies=[ok(schemas.ActionDetail), NOT_MODIFIED, error(404, "No public action here.")],
)
def action(slug: str, action_slug: str) -> Response:
    found = queries.public_action(slug, action_slug)
    if found is None:
        raise not_found("That action")
    counts = queries.confirmed_counts([found.id])
    return _public(
        action_detail(found.campaign, found, counts.get(found.id, 0), queries.breakdowns(found.id))
    )


@bp.get("/campaigns/<slug>/actions/<action_slug>/targets")
@operation(
    operation_id="getLetterTargets",
    summary="A letter action's recipients, their stances and the letters delivered to each",
    replies=[
        ok(schemas.LetterTargets),
        NOT_MODIFIED,
        error(404, "No public letter action here."),
    ],
)
def letter_targets(slug: str, action_slug: str) -> Response:
    found = queries.public_action(slug, action_slug)
    if found is None or not found.is_letter:
        raise not_found("That letter action")
    return json_response(
        schemas.LetterTargets(
            action=found.id,
            targets=[
                schemas.TargetCount(
                    target=c.target.id,
                    name=c.target.name,
                    title=c.target.title,
                    organisation=c.target.organisation,
                    constituency_code=c.target.constituency_code,
                    stance=c.target.stance or None,  # type: ignore[arg-type]
                    letters=c.letters,
                    delivered=c.delivered,
                )
                for c in counts_per_target(found.id, live=False)
            ],
        ),
        public=True,
        max_age=COUNT_MAX_AGE,
        stale=COUNT_STALE,
    )


EVENTS_LIMIT = 100


def _events_query() -> schemas.EventsQuery:
    try:
        return schemas.EventsQuery.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise ApiError(400, "The postcode must be a UK postcode, full or partial.") from exc


def _near(postcode: str) -> str:
    """A postcode to order by, or "" (an unrecognisable one is ignored, never an error)."""
    code = compact(postcode)
    if is_full(code) or is_partial(code) or (code.isalpha() and 1 <= len(code) <= 2):
        return code
    return ""


def _event_list(items: list[Any]) -> Response:
    return _public(
        schemas.EventList(
            data=[event_doc(item) for item in items], total=len(items), limit=EVENTS_LIMIT
        )
    )


@bp.get("/events")
@operation(
    operation_id="listEvents",
    summary="Upcoming public events, soonest first, or nearest first to ?postcode=",
    query=schemas.EventsQuery,
    replies=[ok(schemas.EventList), NOT_MODIFIED, error(400, "Malformed postcode.")],
)
def events() -> Response:
    query = _events_query()
    return _event_list(upcoming_events(near=_near(query.postcode), limit=EVENTS_LIMIT))


@bp.get("/campaigns/<slug>/events")
@operation(
    operation_id="listCampaignEvents",
    summary="A public campaign's upcoming events (no personal data)",
    query=schemas.EventsQuery,
    replies=[
        ok(schemas.EventList),
        NOT_MODIFIED,
        error(400, "Malformed postcode."),
        error(404, "No public campaign with this slug."),
    ],
)
def campaign_events(slug: str) -> Response:
    found = queries.public_campaign(slug)
    if found is None:
        raise not_found("That campaign")
    query = _events_query()
    return _event_list(
        upcoming_events(campaign_id=found.id, near=_near(query.postcode), limit=EVENTS_LIMIT)
    )


# --- the counter ------------------------------------------------------------------------------

_count_cache: dict[tuple[str, str], tuple[float, bytes]] = {}
_count_lock = threading.Lock()
_COUNT_CACHE_MAX = 5000


def _count_body(slug: str, action_slug: str) -> bytes | None:
    """The counter's JSON, kept in this process for ``API_COUNT_CACHE_SECONDS`` (default 1).

    Behind a CDN the Cache-Control headers do the work; without one, this keeps a surge of
    polling counters to about one small indexed query per second per action per process.
    """
    ttl = float(current_app.config.get("API_COUNT_CACHE_SECONDS", 1.0))
    key = (slug, action_slug)
    now = time.monotonic()
    if ttl > 0:
        cached = _count_cache.get(key)
        if cached is not None and now - cached[0] < ttl:
            return cached[1]
    row = queries.action_count(slug, action_slug)
    if row is None:
        return None
    body = dumps(
        schemas.ActionCount(
            action=row.action_id,
            confirmed=row.confirmed,
            goal=row.goal,
            percent=percent_of(row.confirmed, row.goal),
            state="open" if row.is_open else "closed",
            updated_at=row.updated_at,
        )
    )
    if ttl > 0:
        with _count_lock:
            if len(_count_cache) >= _COUNT_CACHE_MAX:
                _count_cache.clear()
            _count_cache[key] = (now, body)
    return body


@bp.get("/campaigns/<slug>/actions/<action_slug>/count")
@operation(
    operation_id="getActionCount",
    summary="The confirmed count alone, for counters that poll",
    replies=[ok(schemas.ActionCount), NOT_MODIFIED, error(404, "No public action here.")],
)
@limiter.exempt  # no limit applies, and the limiter's per-request check was a quarter of its CPU
def count(slug: str, action_slug: str) -> Response:
    body = _count_body(slug, action_slug)
    if body is None:
        raise not_found("That action")
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Cache-Control"] = (
        f"public, max-age={COUNT_MAX_AGE}, stale-while-revalidate={COUNT_STALE}, "
        f"stale-if-error={COUNT_STALE * 10}"
    )
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.set_etag(_etag_of(body))
    response.make_conditional(request)
    return response


def _etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def count_path(campaign_slug: str, action_slug: str) -> str:
    return f"{V1_ROOT}/campaigns/{quote(campaign_slug)}/actions/{quote(action_slug)}/count"
