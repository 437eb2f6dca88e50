from __future__ import annotations

from flask import Blueprint, render_template, request

from petitions.audit import queries
from petitions.organisers.access import admin_required

bp = Blueprint("audit", __name__, url_prefix="/organise/audit")


@bp.get("/")
@admin_required
def index() -> str:
    before = request.args.get("before", type=int)
    event = (request.args.get("event") or "")[:64] or None
    campaign_id = request.args.get("campaign", type=int)
    events = queries.recent_events(before_id=before, event=event, campaign_id=campaign_id)
    return render_template(
        "audit/index.html",
        events=events,
        event=event,
        campaign_id=campaign_id,
        more=len(events) == queries.PAGE_SIZE,
    )
