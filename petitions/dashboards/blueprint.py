"""Live dashboards: a page that an organiser leaves open, and the JSON it polls."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from werkzeug.wrappers import Response

from petitions.dashboards.queries import action_totals, answer_counts, dashboard_for
from petitions.donations.queries import ask_stats
from petitions.letters.queries import counts_per_target
from petitions.organisers.access import (
    action_for_organiser,
    campaign_for_organiser,
    organiser_required,
)

bp = Blueprint("dashboards", __name__, url_prefix="/organise/campaigns")


def _poll_ms() -> int:
    return int(current_app.config.get("DASHBOARD_POLL_MS", 3000))


@bp.get("/<int:campaign_id>/dashboard")
@organiser_required
def campaign_dashboard(campaign_id: int) -> str:
    campaign = campaign_for_organiser(campaign_id)
    return render_template(
        "dashboards/dashboard.html",
        campaign=campaign,
        action=None,
        data=dashboard_for(campaign.actions),
        asks=ask_stats(campaign.id),
        totals=action_totals([a.id for a in campaign.actions]),
        letters=[],
        poll_ms=_poll_ms(),
    )


@bp.get("/<int:campaign_id>/dashboard.json")
@organiser_required
def campaign_dashboard_json(campaign_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    return jsonify(dashboard_for(campaign.actions).as_json())


@bp.get("/<int:campaign_id>/actions/<int:action_id>/dashboard")
@organiser_required
def action_dashboard(campaign_id: int, action_id: int) -> str:
    action = action_for_organiser(action_id, campaign_id)
    return render_template(
        "dashboards/dashboard.html",
        campaign=action.campaign,
        action=action,
        data=dashboard_for([action]),
        asks=ask_stats(action.campaign_id, [action.id]),
        totals={},
        letters=counts_per_target(action.id) if action.is_letter else [],
        answers=answer_counts(action.id),
        poll_ms=_poll_ms(),
    )


@bp.get("/<int:campaign_id>/actions/<int:action_id>/dashboard.json")
@organiser_required
def action_dashboard_json(campaign_id: int, action_id: int) -> Response:
    action = action_for_organiser(action_id, campaign_id)
    return jsonify(dashboard_for([action]).as_json())
