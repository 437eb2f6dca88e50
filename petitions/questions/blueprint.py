"""The organiser's page of an action's questions. Thin views; the unit of work commits."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.campaigns.models import Action
from petitions.core import i18n
from petitions.core.forms import ButtonForm
from petitions.organisers.access import action_for_organiser, organiser_required
from petitions.questions import queries, services
from petitions.questions.forms import QuestionForm, question_form

bp = Blueprint("questions", __name__)

NO_STORE = {"Cache-Control": "no-store"}


def _render(
    action: Action, form: QuestionForm | None = None, status: int = 200, error: str | None = None
) -> tuple[str, int, dict[str, str]]:
    return (
        render_template(
            "questions/manage.html",
            action=action,
            campaign=action.campaign,
            questions=queries.questions_of(action.id),
            form=form or _form(),
            button=ButtonForm(),
            error=error,
            limit=services.MAX_QUESTIONS,
        ),
        status,
        NO_STORE,
    )


def _form() -> QuestionForm:
    others = [code for code in i18n.enabled() if code != i18n.default_language()]
    return question_form(others)


@bp.get("/organise/actions/<int:action_id>/questions")
@organiser_required
def manage(action_id: int) -> tuple[str, int, dict[str, str]]:
    return _render(action_for_organiser(action_id))


@bp.post("/organise/actions/<int:action_id>/questions")
@organiser_required
def add(action_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action = action_for_organiser(action_id)
    form = _form()
    if not form.validate():
        return _render(action, form, 400, _("Check the question."))
    try:
        question = services.add_question(action, form.question_input())
    except services.QuestionError as exc:
        return _render(action, form, 400, str(exc))
    flash(_("Question added: %(label)s", label=question.label))
    return redirect(url_for("questions.manage", action_id=action.id), code=303)


@bp.post("/organise/actions/<int:action_id>/questions/<int:question_id>/remove")
@organiser_required
def remove(action_id: int, question_id: int) -> Response:
    action = action_for_organiser(action_id)
    question = next((q for q in queries.questions_of(action.id) if q.id == question_id), None)
    if question is None:
        abort(404)
    if not ButtonForm().validate():
        abort(400)
    services.remove_question(question)
    flash(_("Question removed, with its answers (exports already made keep them)."))
    return redirect(url_for("questions.manage", action_id=action.id), code=303)
