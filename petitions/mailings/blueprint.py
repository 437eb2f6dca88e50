"""Unsubscribing (public, RFC 8058 one-click) and the organiser's mailing pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from petitions.campaigns.models import Campaign, CampaignUpdate
from petitions.core.dispatch import nudge
from petitions.core.unit_of_work import after_commit
from petitions.extensions import csrf, db
from petitions.mailings import queries, services
from petitions.mailings.forms import ControlForm, SendUpdateForm
from petitions.mailings.models import Mailing, MailingDelivery, MailingStatus
from petitions.mailings.notifications import read_unsubscribe_token
from petitions.organisers.access import (
    campaign_for_organiser,
    current_organiser,
    organiser_required,
)
from petitions.supporters.models import ERASED_PREFIX
from petitions.supporters.services import unsubscribe as unsubscribe_service

unsubscribe_bp = Blueprint("unsubscribe", __name__)
bp = Blueprint("mailings", __name__, url_prefix="/organise/campaigns/<int:campaign_id>/mailings")


# --- unsubscribe -----------------------------------------------------------------------------


@unsubscribe_bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers POST here with no cookies and no form token
def unsubscribe(token: str) -> tuple[str, int]:
    delivery_id = read_unsubscribe_token(token)
    delivery = db.session.get(MailingDelivery, delivery_id) if delivery_id else None
    if delivery is None:
        abort(404)
    mailing = db.session.get(Mailing, delivery.mailing_id)
    campaign = db.session.get(Campaign, mailing.campaign_id) if mailing else None
    if request.method == "GET":
        # Never unsubscribes by itself: link scanners and previews only GET.
        return render_template("mailings/unsubscribe.html", token=token, campaign=campaign), 200
    scope = "all" if request.form.get("scope") == "all" else "campaign"
    if not delivery.email_normalised.startswith(ERASED_PREFIX):
        unsubscribe_service(
            delivery.email_normalised, None if scope == "all" or campaign is None else campaign.id
        )
    return render_template("mailings/unsubscribed.html", scope=scope, campaign=campaign), 200


# --- organisers ------------------------------------------------------------------------------


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _mailing(campaign: Campaign, mailing_id: int) -> Mailing:
    mailing = queries.mailing_of(campaign, mailing_id)
    if mailing is None:
        abort(404)
    return mailing


@bp.get("")
@organiser_required
def index(campaign_id: int) -> str:
    campaign = campaign_for_organiser(campaign_id)
    mailings = queries.mailings_of(campaign)
    sent_updates = {m.update_id for m in mailings if m.update_id}
    return render_template(
        "mailings/index.html",
        campaign=campaign,
        mailings=mailings,
        progress={m.id: queries.progress(m) for m in mailings},
        sent_updates=sent_updates,
        audience=queries.audience_size(campaign),
        form=SendUpdateForm(),
        control=ControlForm(),
    )


@bp.post("")
@organiser_required
def send_update(campaign_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    form = SendUpdateForm()
    if not form.validate_on_submit():
        abort(400)
    update = db.session.get(CampaignUpdate, form.update_id.data)
    if update is None or update.campaign_id != campaign.id:
        abort(404)
    mailing, created = services.request_update_mailing(update, current_organiser().id)
    after_commit(nudge, services.SWEEP_TASK, key=services.SWEEP_TASK)
    if not created:
        flash("This update has already been emailed; here is that mailing.", "info")
    return redirect(
        url_for("mailings.show", campaign_id=campaign.id, mailing_id=mailing.id), code=303
    )


@bp.get("/<int:mailing_id>")
@organiser_required
def show(campaign_id: int, mailing_id: int) -> str:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _mailing(campaign, mailing_id)
    return render_template(
        "mailings/show.html",
        campaign=campaign,
        mailing=mailing,
        progress=queries.progress(mailing),
        control=ControlForm(),
    )


@bp.get("/<int:mailing_id>/progress.json")
@organiser_required
def progress_json(campaign_id: int, mailing_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _mailing(campaign, mailing_id)
    p = queries.progress(mailing)
    return jsonify(status=mailing.status, total=p.total, sent=p.sent, done=p.done, counts=p.counts)


_CONTROLS = {
    "pause": MailingStatus.PAUSED,
    "resume": MailingStatus.SENDING,
    "cancel": MailingStatus.CANCELLED,
}


@bp.post("/<int:mailing_id>/<any(pause, resume, cancel):command>")
@organiser_required
def control(campaign_id: int, mailing_id: int, command: str) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _mailing(campaign, mailing_id)
    if not ControlForm().validate_on_submit():
        abort(400)
    if services.set_status(mailing, _CONTROLS[command]):
        if command == "resume":
            after_commit(nudge, services.SWEEP_TASK, key=services.SWEEP_TASK)
        flash(f"Mailing {mailing.status}.", "info")
    else:
        db.session.rollback()
        flash(f"That mailing can't be {command}d now (it is {mailing.status}).", "error")
    return redirect(
        url_for("mailings.show", campaign_id=campaign.id, mailing_id=mailing.id), code=303
    )
