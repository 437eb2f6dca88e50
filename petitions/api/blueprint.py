"""The public read API: campaigns, actions, breakdowns and a near-free counter. No key."""

from __future__ import annotations

import hashlib
import threading
import time
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from petitions.api import links, queries
from petitions.api.http import ApiError, dumps, json_response, not_found, paging
from petitions.api.representations import V1_ROOT, v1_action, v1_campaign
from petitions.extensions import limiter

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


def _paged_links(path: str, page: queries.Page) -> dict[str, str | None]:
    per_page = page.per_page

    def at(n: int) -> str:
        return links.absolute(path, page=n, per_page=per_page)

    return {
        "self": at(page.page),
        "first": at(1),
        "last": at(page.pages),
        "next": at(page.page + 1) if page.has_next else None,
        "prev": at(page.page - 1) if page.has_prev else None,
    }


@bp.get("/")
def index() -> Response:
    return json_response(
        {
            "name": "petitions public API",
            "version": 1,
            "links": {
                "campaigns": links.absolute(f"{V1_ROOT}/campaigns"),
                "actions": links.absolute(f"{V1_ROOT}/actions"),
                "openapi": links.absolute("/api/openapi.json"),
                "osdi": links.absolute("/api/osdi/v1/"),
            },
        },
        public=True,
        max_age=PAGE_MAX_AGE,
        stale=PAGE_STALE,
    )


@bp.get("/campaigns")
def campaigns() -> Response:
    number, per_page = paging()
    page = queries.campaigns_page(number, per_page)
    counts = queries.confirmed_counts([a.id for c in page.items for a in c.actions])
    return json_response(
        {
            "data": [v1_campaign(c, counts) for c in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
            "links": _paged_links(f"{V1_ROOT}/campaigns", page),
        },
        public=True,
        max_age=PAGE_MAX_AGE,
        stale=PAGE_STALE,
    )


@bp.get("/campaigns/<slug>")
def campaign(slug: str) -> Response:
    found = queries.public_campaign(slug)
    if found is None:
        raise not_found("That campaign")
    counts = queries.confirmed_counts([a.id for a in found.actions])
    return json_response(
        v1_campaign(found, counts), public=True, max_age=PAGE_MAX_AGE, stale=PAGE_STALE
    )


@bp.get("/actions")
def actions() -> Response:
    number, per_page = paging()
    page = queries.public_actions_page(number, per_page)
    counts = queries.confirmed_counts([a.id for a in page.items])
    return json_response(
        {
            "data": [v1_action(a.campaign, a, counts.get(a.id, 0)) for a in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
            "links": _paged_links(f"{V1_ROOT}/actions", page),
        },
        public=True,
        max_age=PAGE_MAX_AGE,
        stale=PAGE_STALE,
    )


@bp.get("/campaigns/<slug>/actions/<action_slug>")
def action(slug: str, action_slug: str) -> Response:
    found = queries.public_action(slug, action_slug)
    if found is None:
        raise not_found("That action")
    counts = queries.confirmed_counts([found.id])
    body = v1_action(found.campaign, found, counts.get(found.id, 0))
    body["breakdowns"] = queries.breakdowns(found.id)
    return json_response(body, public=True, max_age=PAGE_MAX_AGE, stale=PAGE_STALE)


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
    percent = 100 if row.goal <= 0 else min(100, row.confirmed * 100 // row.goal)
    body = dumps(
        {
            "action": row.action_id,
            "confirmed": row.confirmed,
            "goal": row.goal,
            "percent": percent,
            "state": "open" if row.is_open else "closed",
            "updated_at": row.updated_at,
        }
    )
    if ttl > 0:
        with _count_lock:
            if len(_count_cache) >= _COUNT_CACHE_MAX:
                _count_cache.clear()
            _count_cache[key] = (now, body)
    return body


@bp.get("/campaigns/<slug>/actions/<action_slug>/count")
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
