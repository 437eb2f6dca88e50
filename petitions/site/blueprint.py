from __future__ import annotations

from flask import Blueprint, abort, render_template

from petitions.campaigns import queries
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
