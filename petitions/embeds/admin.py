"""Organisers' embed page: the copy-paste snippet per action and the sites allowed to frame it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import ngettext

from petitions.campaigns.models import Campaign
from petitions.core.i18n import (
    NATIVE_NAMES,
    current_language,
    enabled,
    in_language,
    localised,
    site_root,
    url_in,
)
from petitions.core.web import no_store
from petitions.embeds import services
from petitions.embeds.forms import OriginsForm
from petitions.organisers.access import campaign_for_organiser, organiser_required

bp = Blueprint("embed_settings", __name__, url_prefix="/organise/campaigns/<int:campaign_id>/embed")


bp.after_request(no_store)


@dataclass(frozen=True)
class Snippet:
    """One action's embed in one language: the frame's address and title in it."""

    language: str
    name: str  # the language's name in itself ("Cymraeg")
    src: str
    title: str


def _snippets(campaign: Campaign) -> dict[int, list[Snippet]]:
    """Each action's embed in every enabled language (``/cy/embed/…`` is the Welsh one),
    whatever language this page is in: the organiser copies the one their site speaks."""
    root = request.host_url.rstrip("/")
    found: dict[int, list[Snippet]] = {}
    for action in campaign.actions:
        path = url_for("embeds.action", slug=campaign.slug, action_slug=action.slug)
        path = path.removeprefix(request.script_root)
        found[action.id] = []
        for code in enabled():
            with in_language(code):
                title = str(localised(action, "title"))
            src = root + url_in(code, path)
            found[action.id].append(Snippet(code, NATIVE_NAMES.get(code, code), src, title))
    return found


def _page(campaign: Campaign, form: OriginsForm, status: int = 200):
    script = url_for("static", filename="embed/embed.js").removeprefix(request.script_root)
    return render_template(
        "embeds/settings.html",
        campaign=campaign,
        form=form,
        snippets=_snippets(campaign),
        embed_script=request.host_url.rstrip("/") + site_root() + script,  # one for all languages
        page_language=current_language(),
    ), status


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
