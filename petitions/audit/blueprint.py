from __future__ import annotations

from flask import Blueprint, render_template, request

from petitions.audit import queries
from petitions.core.ids import id_arg
from petitions.organisers.access import admin_required

bp = Blueprint("audit", __name__, url_prefix="/organise/audit")


@bp.get("/")
@admin_required
def index() -> str:
    before = id_arg(request.args, "before")
    event = (request.args.get("event") or "")[:64] or None
    campaign_id = id_arg(request.args, "campaign")
    events = queries.recent_events(before_id=before, event=event, campaign_id=campaign_id)
    campaigns, actions = queries.names_for(events)
    return render_template(
        "audit/index.html",
        events=events,
        campaigns=campaigns,
        actions=actions,
        event=event,
        campaign_id=campaign_id,
        more=len(events) == queries.PAGE_SIZE,
    )
