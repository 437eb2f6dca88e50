"""Organisers' webhook pages: /organise/campaigns/<id>/webhooks."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.campaigns.models import Campaign
from petitions.core.web import no_store
from petitions.extensions import db
from petitions.organisers.access import (
    campaign_for_organiser,
    current_organiser,
    organiser_required,
)
from petitions.webhooks import services
from petitions.webhooks.forms import EndpointForm, WebhookForm
from petitions.webhooks.models import WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/organise/campaigns/<int:campaign_id>/webhooks")


bp.after_request(no_store)


def _page(campaign: Campaign, form: WebhookForm, new_secret: str | None = None, status=200):
    return (
        render_template(
            "webhooks/index.html",
            campaign=campaign,
            form=form,
            endpoint_form=EndpointForm(),
            endpoints=services.endpoints_of(campaign),
            deliveries=services.recent_deliveries(campaign),
            new_secret=new_secret,
        ),
        status,
    )


def _endpoint(campaign: Campaign, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.campaign_id != campaign.id:
        abort(404)
    if not EndpointForm().validate():
        abort(400)
    return endpoint


@bp.get("")
@organiser_required
def index(campaign_id: int):
    return _page(campaign_for_organiser(campaign_id), WebhookForm())


@bp.post("")
@organiser_required
def create(campaign_id: int):
    campaign = campaign_for_organiser(campaign_id)
    form = WebhookForm()
    if not form.validate():
        return _page(campaign, form, status=400)
    try:
        endpoint = services.register(
            campaign,
            form.url.data or "",
            form.chosen_events(),
            current_organiser(),
            include_sensitive=bool(form.include_sensitive.data),
        )
    except services.WebhookError as exc:
        form.url.errors = [str(exc)]
        return _page(campaign, form, status=400)
    return _page(campaign, WebhookForm(formdata=None), new_secret=endpoint.secret, status=201)


@bp.post("/<int:endpoint_id>/active")
@organiser_required
def toggle(campaign_id: int, endpoint_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    endpoint = _endpoint(campaign, endpoint_id)
    services.set_active(endpoint, not endpoint.active)
    flash(_("Webhook resumed.") if endpoint.active else _("Webhook paused."), "info")
    return redirect(url_for("webhooks.index", campaign_id=campaign.id), code=303)


@bp.post("/<int:endpoint_id>/secret")
@organiser_required
def rotate(campaign_id: int, endpoint_id: int):
    campaign = campaign_for_organiser(campaign_id)
    endpoint = _endpoint(campaign, endpoint_id)
    secret = services.rotate_secret(endpoint)
    return _page(campaign, WebhookForm(formdata=None), new_secret=secret)


@bp.post("/<int:endpoint_id>/delete")
@organiser_required
def remove(campaign_id: int, endpoint_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    services.delete(_endpoint(campaign, endpoint_id))
    flash(_("Webhook deleted."), "info")
    return redirect(url_for("webhooks.index", campaign_id=campaign.id), code=303)
