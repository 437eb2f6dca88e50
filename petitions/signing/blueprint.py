from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from petitions.campaigns import queries
from petitions.campaigns.models import Action, Campaign
from petitions.core.unit_of_work import retry_on_disconnect
from petitions.donations.queries import ask_for
from petitions.donations.services import record_hit
from petitions.questions import queries as questions
from petitions.questions.services import read_answers, store_answers
from petitions.screening.checks import facts_from_form
from petitions.signing import services
from petitions.signing.forms import SignForm, clean_source, referrer_host, source_and_referrer
from petitions.signing.prefill import apply_prefill, prefill_token
from petitions.signing.queries import taken_action_ids
from petitions.signing.services import submit_signature
from petitions.tallies.queries import pledge_counts, progress_for

bp = Blueprint("signing", __name__)


def _load(slug: str, action_slug: str) -> tuple[Campaign, Action]:
    campaign = queries.public_campaign(slug)
    action = queries.action_of(campaign, action_slug) if campaign else None
    if campaign is None or action is None:
        abort(404)
    return campaign, action


def _referrer_host() -> str:
    return referrer_host(request.referrer, request.host)


def _render_action(
    campaign: Campaign,
    action: Action,
    form: SignForm,
    status: int = 200,
    answer_errors: dict[str, str] | None = None,
):
    return (
        render_template(
            "signing/action.html",
            campaign=campaign,
            action=action,
            form=form,
            questions=questions.questions_of(action.id),
            answered=request.form if request.method == "POST" else {},
            answer_errors=answer_errors or {},
            progress=progress_for([action])[action.id],
            pledges=pledge_counts([action]).get(action.id, []),
        ),
        status,
    )


@bp.get("/c/<slug>/<action_slug>")
def action_page(slug: str, action_slug: str):
    campaign, action = _load(slug, action_slug)
    if action.is_event:  # events have their own page and RSVP form (petitions.gatherings)
        return redirect(url_for("gatherings.event_page", slug=slug, action_slug=action_slug))
    if action.is_letter:  # letters have their own page and form (petitions.letters)
        return redirect(url_for("letters.letter_page", slug=slug, action_slug=action_slug))
    form = SignForm(pledge_options=action.pledge_options)
    form.source.data = clean_source(request.args.get("source"))
    if not form.source.data:
        form.source.data = clean_source(("ref:" + _referrer_host()) if _referrer_host() else "")
    # After confirming, the next action's link carries a signed, short-lived reference.
    apply_prefill(form, request.args.get("p"))
    return _render_action(campaign, action, form)


@bp.post("/c/<slug>/<action_slug>")
@retry_on_disconnect  # the UNIQUE index makes a second run the same signature
def sign(slug: str, action_slug: str) -> Response | tuple[str, int]:
    action = queries.public_action(slug, action_slug)
    if action is None:
        abort(404)
    campaign = action.campaign
    if action.is_letter:  # a letter is written on its own page: nothing is stored here
        return redirect(url_for("letters.letter_page", slug=slug, action_slug=action_slug), 303)
    if not action.is_open():
        return render_template("signing/closed.html", campaign=campaign, action=action), 409
    form = SignForm(pledge_options=action.pledge_options)
    asked = questions.questions_of(action.id)
    answers, answer_errors = read_answers(asked, request.form)
    if not form.validate() or answer_errors:
        return _render_action(campaign, action, form, status=400, answer_errors=answer_errors)
    source, referrer = source_and_referrer(form.source.data or "", request.referrer, request.host)
    data = form.signature_input(source=source, referrer=referrer, ip_address=request.remote_addr)
    try:
        outcome = submit_signature(action, data, facts_from_form(form, request.remote_addr))
    except services.ActionClosed:
        return render_template("signing/closed.html", campaign=campaign, action=action), 409
    if outcome.created:  # answers are the new signature's; nobody rewrites another's by email
        store_answers(outcome.signature_id, asked, answers)
    return redirect(url_for("signing.thanks", slug=slug, action_slug=action_slug), code=303)


@bp.get("/c/<slug>/<action_slug>/thanks")
def thanks(slug: str, action_slug: str) -> str:
    campaign, action = _load(slug, action_slug)
    share_url = url_for("signing.action_page", slug=slug, action_slug=action_slug, _external=True)
    ask = ask_for(action)
    if ask is not None:
        record_hit(ask, "view", "thanks", action.id)
    return render_template(
        "signing/thanks.html",
        campaign=campaign,
        action=action,
        share_url=share_url,
        next_action=queries.next_action(campaign, action),
        ask=ask,
    )


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> tuple[str, int]:
    if request.method == "POST":
        outcome = services.confirm(token)  # the fold's nudge: counting.subscribers
    else:
        outcome = services.preview_confirmation(token)
    status = {
        services.ConfirmState.CONFIRMED: 200,
        services.ConfirmState.ALREADY: 200,
        services.ConfirmState.EXPIRED: 410,
        services.ConfirmState.INVALID: 404,
        services.ConfirmState.WRONG_PURPOSE: 400,
        services.ConfirmState.CLOSED: 409,
    }[outcome.state]
    signature = outcome.signature
    next_action = None
    prefill = None
    ask = None
    ask_source = "confirmed"
    if signature is not None and outcome.state in (
        services.ConfirmState.CONFIRMED,
        services.ConfirmState.ALREADY,
    ):
        campaign = signature.action.campaign
        taken = taken_action_ids(signature.email_normalised, campaign.id)
        next_action = queries.next_action(campaign, signature.action, taken=taken)
        if (
            next_action
            and request.method == "POST"
            and outcome.state is services.ConfirmState.CONFIRMED
        ):
            prefill = prefill_token(signature.id)
        # The donation ask: with the next action when there is one (the ladder), else alone.
        if request.method == "POST" or outcome.state is services.ConfirmState.ALREADY:
            ask = ask_for(signature.action)
            ask_source = "ladder" if next_action else "confirmed"
        if ask is not None:
            record_hit(ask, "view", ask_source, signature.action_id)
    return (
        render_template(
            "signing/confirm.html",
            state=outcome.state.value,
            posted=request.method == "POST",
            signature=signature,
            next_action=next_action,
            prefill=prefill,
            token=token,
            ask=ask,
            ask_source=ask_source,
            ask_action=signature.action if signature is not None else None,
            share_url=url_for(
                "signing.action_page",
                slug=signature.action.campaign.slug,
                action_slug=signature.action.slug,
                _external=True,
            )
            if signature is not None
            else None,
        ),
        status,
    )
