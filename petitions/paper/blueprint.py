"""The organiser's paper page: offline tallies and paper signatures for one action."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.core.forms import ButtonForm
from petitions.organisers.access import action_for_organiser, current_organiser, organiser_required
from petitions.paper import queries, services
from petitions.paper.forms import PaperSignatureForm, TallyForm

bp = Blueprint("paper", __name__, url_prefix="/organise/campaigns")

PAGE = "/<int:campaign_id>/actions/<int:action_id>/paper"


def _page(campaign_id: int, action_id: int) -> Response:
    return redirect(url_for("paper.index", campaign_id=campaign_id, action_id=action_id), code=303)


def _render(action, tally_form=None, signature_form=None, status=200):  # type: ignore[no-untyped-def]
    return (
        render_template(
            "paper/index.html",
            campaign=action.campaign,
            action=action,
            summary=queries.summary(action.id),
            tallies=queries.tallies(action.id),
            signatures=queries.recent_signatures(action.id),
            tally_form=tally_form or TallyForm(formdata=None, prefix="tally"),
            signature_form=signature_form or PaperSignatureForm(formdata=None, prefix="paper"),
            button=ButtonForm(),
        ),
        status,
    )


@bp.get(PAGE)
@organiser_required
def index(campaign_id: int, action_id: int) -> tuple[str, int]:
    return _render(action_for_organiser(action_id, campaign_id))  # type: ignore[no-any-return]


@bp.post(PAGE + "/tallies")
@organiser_required
def add_tally(campaign_id: int, action_id: int) -> Response | tuple[str, int]:
    action = action_for_organiser(action_id, campaign_id)
    form = TallyForm(prefix="tally")
    if not form.validate_on_submit():
        return _render(action, tally_form=form, status=400)  # type: ignore[no-any-return]
    services.record_tally(
        action,
        count=form.count.data or 0,
        source=form.source.data or "",
        collected_on=form.collected_on.data,  # type: ignore[arg-type]
        note=form.note.data or "",
        organiser_id=current_organiser().id,
        ip_address=request.remote_addr,
    )
    flash(
        _(
            "Recorded %(count)s offline signatures. The count updates in a few seconds.",
            count=f"{form.count.data:,}",
        )
    )
    return _page(campaign_id, action_id)


@bp.post(PAGE + "/signatures")
@organiser_required
def add_signature(campaign_id: int, action_id: int) -> Response | tuple[str, int]:
    action = action_for_organiser(action_id, campaign_id)
    form = PaperSignatureForm(prefix="paper")
    if not form.validate_on_submit():
        return _render(action, signature_form=form, status=400)  # type: ignore[no-any-return]
    services.add_signature(
        action,
        name=form.name.data or "",
        postcode=form.postcode.data or "",
        postcode_area=form.postcode_area,
        country=form.country.data or "GB",
        collected_on=form.collected_on.data,  # type: ignore[arg-type]
        organiser_id=current_organiser().id,
        ip_address=request.remote_addr,
    )
    flash(_("Paper signature added."))
    return _page(campaign_id, action_id)


@bp.post(PAGE + "/<string:kind>/<int:row_id>/remove")
@organiser_required
def remove(campaign_id: int, action_id: int, kind: str, row_id: int) -> Response:
    action = action_for_organiser(action_id, campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if kind == "tallies":
        row = queries.tally_of(action.id, row_id)
    elif kind == "signatures":
        row = queries.signature_of(action.id, row_id)  # type: ignore[assignment]
    else:
        abort(404)
    if row is None:
        abort(404)
    if services.remove(
        action, row, organiser_id=current_organiser().id, ip_address=request.remote_addr
    ):
        flash(_("Removed from the count."))
    return _page(campaign_id, action_id)
