"""Organisers' embed page: the copy-paste snippet per action and the sites allowed to frame it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import ngettext

from petitions.campaigns.models import Campaign
from petitions.core.web import no_store
from petitions.embeds import services
from petitions.embeds.forms import OriginsForm
from petitions.organisers.access import campaign_for_organiser, organiser_required

bp = Blueprint("embed_settings", __name__, url_prefix="/organise/campaigns/<int:campaign_id>/embed")


bp.after_request(no_store)


def _page(campaign: Campaign, form: OriginsForm, status: int = 200):
    return render_template("embeds/settings.html", campaign=campaign, form=form), status


@bp.get("")
@organiser_required
def settings(campaign_id: int):
    campaign = campaign_for_organiser(campaign_id)
    form = OriginsForm(origins="\n".join(services.allowed_origins(campaign)))
    return _page(campaign, form)


@bp.post("")
@organiser_required
def save(campaign_id: int):
    campaign = campaign_for_organiser(campaign_id)
    form = OriginsForm()
    if not form.validate():
        return _page(campaign, form, 400)
    try:
        origins = services.set_origins(campaign, form.origins.data or "")
    except services.OriginsError as exc:
        form.origins.errors = [str(exc)]
        return _page(campaign, form, 400)
    flash(
        ngettext(
            "Saved: %(num)d site may show this campaign's embeds.",
            "Saved: %(num)d sites may show this campaign's embeds.",
            len(origins),
        ),
        "info",
    )
    return redirect(url_for("embed_settings.settings", campaign_id=campaign.id), code=303)
