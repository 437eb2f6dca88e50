"""The embeddable widget: an action's live counter, progress and signing form in an iframe;
for an event, when and where, the places left and the RSVP form (the same intake as the
event page: ``gatherings.intake.submit_rsvp``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.api.blueprint import count_path
from petitions.campaigns import queries
from petitions.campaigns.models import Action, Campaign
from petitions.core.i18n import language_from_address_only
from petitions.core.unit_of_work import retry_on_disconnect
from petitions.core.web import no_store
from petitions.embeds import services as embeds
from petitions.extensions import csrf
from petitions.gatherings import queries as gatherings_queries
from petitions.gatherings import services as gatherings_services
from petitions.gatherings.intake import submit_rsvp
from petitions.questions import queries as questions
from petitions.questions.services import read_answers, store_answers
from petitions.screening.checks import facts_from_form
from petitions.signing import services
from petitions.signing.forms import SignForm, clean_source
from petitions.signing.services import submit_signature
from petitions.tallies.queries import progress_for

bp = Blueprint("embeds", __name__, url_prefix="/embed")
# In the organiser's snippet's language (/cy/embed/… is Welsh), not the visitor's browser's:
# the frame sits among the host site's own words.
bp.before_request(language_from_address_only)


def _load(slug: str, action_slug: str) -> tuple[Campaign, Action]:
    campaign = queries.public_campaign(slug)
    action = queries.action_of(campaign, action_slug) if campaign else None
    if campaign is None or action is None:
        abort(404)
    if action.is_event:
        details = gatherings_queries.details_of(action.id)
        if details is None or not details.is_public:  # a proposal waiting for approval
            abort(404)
    g.frame_ancestors = embeds.frame_ancestors(campaign)
    return campaign, action


def _event_page_url(campaign: Campaign, action: Action) -> str:
    return url_for(
        "gatherings.event_page", slug=campaign.slug, action_slug=action.slug, _external=True
    )


def _render_event(
    campaign: Campaign,
    action: Action,
    form: SignForm,
    token: str,
    status: int = 200,
    answers: dict[str, str] | None = None,
    error: str | None = None,
) -> Response:
    details = gatherings_queries.details_of(action.id)
    assert details is not None
    html = render_template(
        "embeds/event.html",
        campaign=campaign,
        action=action,
        details=details,
        form=form,
        embed_token=token,
        places=gatherings_queries.places_for([action.id])[action.id],
        accepting=gatherings_queries.accepting_rsvps(action, details),
        answers=answers or {},
        answer_error=error,
        page_url=_event_page_url(campaign, action),
    )
    return no_store(Response(html, status=status, mimetype="text/html"))


def _rsvp(campaign: Campaign, found: Action, token: embeds.EmbedToken) -> Response:
    """The event embed's POST: the event page's checks and intake, answers included."""
    details = gatherings_queries.details_of(found.id)
    assert details is not None
    closed = no_store(
        Response(
            render_template("embeds/closed.html", campaign=campaign, action=found),
            status=409,
        )
    )
    if not gatherings_queries.accepting_rsvps(found, details):
        return closed
    raw = request.form.get("embed_token", "")
    form = SignForm(meta={"csrf": False})
    submitted = {q["key"]: request.form.get(f"q_{q['key']}", "") for q in details.questions}
    if not form.validate():
        return _render_event(campaign, found, form, raw, 400, submitted)
    try:
        answers, sensitive = gatherings_services.clean_answers(details.questions, submitted)
    except gatherings_services.EventError as exc:
        return _render_event(campaign, found, form, raw, 400, submitted, str(exc))
    data = form.signature_input(
        source=form.source.data or "embed", referrer=token.referrer, ip_address=request.remote_addr
    )
    try:
        submit_rsvp(found, data, facts_from_form(form, request.remote_addr), answers, sensitive)
    except services.ActionClosed:
        return closed
    return redirect(url_for("embeds.thanks", slug=campaign.slug, action_slug=found.slug), code=303)


def _host_of(url: str | None) -> str:
    try:
        host = (urlsplit(url or "").hostname or "")[:255]
    except ValueError:
        return ""
    if not host or host == request.host.split(":")[0]:
        return ""
    return "".join(ch for ch in host if ch.isalnum() or ch in ".-")


def _render(
    campaign: Campaign,
    action: Action,
    form: SignForm,
    token: str,
    status: int = 200,
    answer_errors: dict[str, str] | None = None,
):
    html = render_template(
        "embeds/action.html",
        campaign=campaign,
        action=action,
        form=form,
        embed_token=token,
        # The action's own questions, asked and checked as on its page.
        questions=questions.questions_of(action.id),
        answered=request.form if request.method == "POST" else {},
        answer_errors=answer_errors or {},
        progress=progress_for([action])[action.id],
        count_url=count_path(campaign.slug, action.slug),
        page_url=url_for(
            "signing.action_page", slug=campaign.slug, action_slug=action.slug, _external=True
        ),
    )
    return no_store(Response(html, status=status, mimetype="text/html"))


@bp.get("/<slug>/<action_slug>")
def action(slug: str, action_slug: str) -> Response:
    campaign, found = _load(slug, action_slug)
    form = SignForm(meta={"csrf": False}, pledge_options=found.pledge_options)
    form.source.data = clean_source(request.args.get("source")) or "embed"
    token = embeds.issue_form_token(found.id, _host_of(request.referrer))
    if found.is_event:
        return _render_event(campaign, found, form, token)
    return _render(campaign, found, form, token)


@bp.post("/<slug>/<action_slug>")
@csrf.exempt  # cross-site iframes get no session cookie; the signed embed token stands in
@retry_on_disconnect  # the UNIQUE index makes a second run the same signature
def sign(slug: str, action_slug: str) -> Response:
    campaign, found = _load(slug, action_slug)
    if found.is_letter:  # written on the letter's own page (the embed links to it)
        form = SignForm(meta={"csrf": False})
        return _render(campaign, found, form, "", 409)
    token = embeds.check_form_token(request.form.get("embed_token"), found.id)
    if token is None:
        # An old or forged form: show a fresh one rather than an error page.
        form = SignForm(meta={"csrf": False}, pledge_options=found.pledge_options)
        form.form_errors.append(_("This form had expired. Check your details and send it again."))
        fresh = embeds.issue_form_token(found.id, "")
        if found.is_event:
            return _render_event(campaign, found, form, fresh, 400)
        return _render(campaign, found, form, fresh, 400)
    if found.is_event:
        return _rsvp(campaign, found, token)
    if not found.is_open():
        return no_store(
            Response(
                render_template("embeds/closed.html", campaign=campaign, action=found),
                status=409,
            )
        )
    form = SignForm(meta={"csrf": False}, pledge_options=found.pledge_options)
    asked = questions.questions_of(found.id)
    answers, answer_errors = read_answers(asked, request.form)
    if not form.validate() or answer_errors:
        raw = request.form.get("embed_token", "")
        return _render(campaign, found, form, raw, 400, answer_errors)
    data = form.signature_input(
        source=form.source.data or "embed",
        referrer=token.referrer,
        ip_address=request.remote_addr,
    )
    try:
        outcome = submit_signature(found, data, facts_from_form(form, request.remote_addr))
    except services.ActionClosed:
        return no_store(
            Response(
                render_template("embeds/closed.html", campaign=campaign, action=found),
                status=409,
            )
        )
    if outcome.created:  # answers are the new signature's; nobody rewrites another's by email
        store_answers(outcome.signature_id, asked, answers)
    return redirect(url_for("embeds.thanks", slug=slug, action_slug=action_slug), code=303)


@bp.get("/<slug>/<action_slug>/thanks")
def thanks(slug: str, action_slug: str) -> Response:
    campaign, found = _load(slug, action_slug)
    share_url = (
        _event_page_url(campaign, found)
        if found.is_event
        else url_for(
            "signing.action_page", slug=campaign.slug, action_slug=found.slug, _external=True
        )
    )
    html = render_template(
        "embeds/thanks.html",
        campaign=campaign,
        action=found,
        share_url=share_url,
        progress=progress_for([found])[found.id],
        count_url="" if found.is_event else count_path(campaign.slug, found.slug),
    )
    return no_store(Response(html, mimetype="text/html"))
