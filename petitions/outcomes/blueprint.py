"""The organiser's response-and-outcome page of an action, and the timeline for templates.
Thin views: load, check, call one service; the unit of work commits."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.campaigns.models import Action
from petitions.core import i18n
from petitions.core.forms import ButtonForm
from petitions.organisers.access import action_for_organiser, current_organiser, organiser_required
from petitions.outcomes import queries, services
from petitions.outcomes.forms import OutcomeForm, VictoryForm, outcome_form
from petitions.outcomes.models import ActionOutcome

bp = Blueprint("outcomes", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@bp.app_template_global("outcomes_of")
def outcomes_of(action_id: int) -> list[ActionOutcome]:
    """An action's public timeline, for any page that shows the action."""
    return queries.timeline(action_id)


def _others() -> list[str]:
    return [code for code in i18n.enabled() if code != i18n.default_language()]


def _outcome_form() -> OutcomeForm:
    return outcome_form(OutcomeForm, _others())  # type: ignore[no-any-return]


def _victory_form() -> VictoryForm:
    return outcome_form(VictoryForm, _others(), prefix="v")  # type: ignore[no-any-return]


def _render(
    action: Action,
    form: OutcomeForm | None = None,
    victory: VictoryForm | None = None,
    status: int = 200,
    error: str | None = None,
) -> tuple[str, int, dict[str, str]]:
    return (
        render_template(
            "outcomes/manage.html",
            action=action,
            campaign=action.campaign,
            entries=queries.timeline(action.id),
            form=form or _outcome_form(),
            victory=victory or _victory_form(),
            button=ButtonForm(),
            error=error,
        ),
        status,
        NO_STORE,
    )


@bp.get("/organise/actions/<int:action_id>/outcomes")
@organiser_required
def manage(action_id: int) -> tuple[str, int, dict[str, str]]:
    return _render(action_for_organiser(action_id))


@bp.post("/organise/actions/<int:action_id>/outcomes")
@organiser_required
def add(action_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action = action_for_organiser(action_id)
    form = _outcome_form()
    if not form.validate():
        return _render(action, form, None, 400, _("Check the entry's details."))
    try:
        entry = services.add_entry(action, form.outcome_input(), current_organiser().id)
    except services.OutcomeError as exc:
        return _render(action, form, None, 400, str(exc))
    added = _("Added to the timeline: %(title)s.", title=entry.title)
    if entry.mailing_id:
        added += " " + _("Supporters who want updates are being emailed.")
    flash(added)
    return redirect(url_for("outcomes.manage", action_id=action.id), code=303)


@bp.post("/organise/actions/<int:action_id>/victory")
@organiser_required
def victory(action_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action = action_for_organiser(action_id)
    form = _victory_form()
    if not form.validate():
        return _render(action, None, form, 400, _("Check the victory's details."))
    if any(e.is_victory for e in queries.timeline(action.id)):
        return _render(action, None, form, 409, _("Victory has already been declared here."))
    try:
        services.add_entry(action, form.outcome_input(), current_organiser().id)
    except services.OutcomeError as exc:
        return _render(action, None, form, 400, str(exc))
    flash(
        _(
            "Victory declared: the action is closed, and everyone who signed and wants updates "
            "is being emailed."
        )
    )
    return redirect(url_for("outcomes.manage", action_id=action.id), code=303)


@bp.post("/organise/actions/<int:action_id>/outcomes/<int:entry_id>/remove")
@organiser_required
def remove(action_id: int, entry_id: int) -> Response:
    action = action_for_organiser(action_id)
    entry = queries.entry_of(action.id, entry_id)
    if entry is None:
        abort(404)
    if not ButtonForm().validate():
        abort(400)
    services.remove_entry(entry, current_organiser().id)
    flash(_("Removed from the timeline. (An email already sent about it can't be unsent.)"))
    return redirect(url_for("outcomes.manage", action_id=action.id), code=303)
