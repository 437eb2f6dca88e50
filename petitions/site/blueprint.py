from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request
from werkzeug.wrappers import Response

from petitions.campaigns import queries
from petitions.core import i18n
from petitions.core.web import safe_next
from petitions.gatherings.queries import hosting_of, listed_events
from petitions.tallies.queries import progress_for

# Endpoints keep the name "campaigns" (campaigns.home, campaigns.campaign): they are its pages.
bp = Blueprint("campaigns", __name__)


@bp.get("/")
def home() -> str:
    campaigns = queries.public_campaigns()
    actions = [a for c in campaigns for a in c.actions]
    return render_template(
        "campaigns/home.html", campaigns=campaigns, progress=progress_for(actions)
    )


@bp.get("/c/<slug>")
def campaign(slug: str) -> str:
    found = queries.public_campaign(slug)
    if found is None:
        abort(404)
    return render_template(
        "campaigns/campaign.html",
        campaign=found,
        progress=progress_for(found.actions),
        events=listed_events([a for a in found.actions if a.is_event]),
        hosting_open=bool((h := hosting_of(found.id)) and h.closed_at is None),
    )


@bp.get("/c/<slug>/hero.jpg")
def hero_image(slug: str) -> Response:
    """A public campaign's hero image (``?v=`` changes with each upload, so it can be kept)."""
    found = queries.public_campaign(slug)
    if found is None or not found.hero_jpeg:
        abort(404)
    response = Response(found.hero_jpeg, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/lang/<code>")
def choose_language(code: str) -> Response:
    """The switcher on every page: remember the choice, then show the same page in it."""
    if code not in i18n.enabled():
        abort(404)
    path = safe_next(request.args.get("next")) or "/"
    for other in i18n.enabled():  # a path that already carries a language loses it
        if path == "/" + other or path.startswith("/" + other + "/"):
            path = path[len(other) + 1 :] or "/"
    response = redirect(i18n.url_in(code, path), code=303)
    response.set_cookie(
        i18n.COOKIE,
        code,
        max_age=365 * 24 * 3600,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response
