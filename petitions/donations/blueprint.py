"""The organiser's donation ask page, and the public click-through redirect."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.campaigns.models import CampaignStatus
from petitions.core.forms import ButtonForm
from petitions.core.ids import id_arg
from petitions.donations import queries, services
from petitions.donations.forms import AskForm
from petitions.donations.models import DonationAsk
from petitions.extensions import db
from petitions.organisers.access import (
    campaign_for_organiser,
    current_organiser,
    organiser_required,
)

bp = Blueprint("donations", __name__)


@bp.route("/organise/campaigns/<int:campaign_id>/donations", methods=["GET", "POST"])
@organiser_required
def settings(campaign_id: int) -> Response | tuple[str, int]:
    campaign = campaign_for_organiser(campaign_id)
    form = AskForm(actions=campaign.actions)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            action = next((a for a in campaign.actions if str(a.id) == form.scope.data), None)
            services.save_ask(
                campaign,
                action=action,
                text=form.text.data or "",
                amounts=form.parsed_amounts,
                url=form.url.data or "",
                organiser_id=current_organiser().id,
                ip_address=request.remote_addr,
            )
            flash(_("Donation ask saved."))
            return redirect(url_for("donations.settings", campaign_id=campaign.id), code=303)
        status = 400
    asks = queries.asks_of(campaign.id)
    titles = {a.id: a.title for a in campaign.actions}
    return (
        render_template(
            "donations/settings.html",
            campaign=campaign,
            form=form,
            asks=asks,
            titles=titles,
            stats=queries.ask_stats(campaign.id),
            hosts=sorted(services.allowed_hosts()),
            button=ButtonForm(),
        ),
        status,
    )


@bp.post("/organise/campaigns/<int:campaign_id>/donations/<int:ask_id>/delete")
@organiser_required
def delete(campaign_id: int, ask_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    ask = db.session.get(DonationAsk, ask_id)
    if ask is None or ask.campaign_id != campaign.id:
        abort(404)
    services.delete_ask(ask, organiser_id=current_organiser().id, ip_address=request.remote_addr)
    flash(_("Donation ask removed."))
    return redirect(url_for("donations.settings", campaign_id=campaign.id), code=303)


@bp.get("/give/<int:ask_id>")
def give(ask_id: int) -> Response:
    """Count the click, then send the supporter to the ask's own, allowed, donation page.

    The destination is never read from the request: only the stored URL, re-checked against
    the allow-list now (a host taken off the list stops working at once).
    """
    ask = db.session.get(DonationAsk, ask_id)
    if ask is None or ask.campaign.status == CampaignStatus.DRAFT:
        abort(404)
    source = request.args.get("from", "")
    if source not in services.SOURCES:
        abort(400, description="Unknown link.")
    amount = None
    if request.args.get("amount"):
        raw = request.args["amount"]
        if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) not in ask.amounts:
            abort(400, description="Unknown amount.")
        amount = int(raw)
    action_id = id_arg(request.args, "action")
    if action_id is not None and not any(a.id == action_id for a in ask.campaign.actions):
        abort(400, description="Unknown action.")
    if not services.destination_allowed(ask.url):
        abort(404)
    services.record_hit(ask, "click", source, action_id, amount)
    response = redirect(ask.url, code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
