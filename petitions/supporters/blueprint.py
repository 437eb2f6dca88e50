"""My actions: a supporter's history, withdrawals, preferences, their data and erasure.

A supporter signs in with a single-use emailed link; the link opens a page with a button
(mail scanners follow links but do not press buttons), and pressing it puts the supporter's
id in the session for ``SUPPORTER_SESSION_MINUTES``. Every page here is ``no-store``.
"""

from __future__ import annotations

import json
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.core.dispatch import nudge
from petitions.core.emails import limit_key
from petitions.core.i18n import current_language, localised
from petitions.core.pseudonym import pseudonym, remote_address_key
from petitions.core.unit_of_work import after_commit
from petitions.core.web import no_store
from petitions.counting.jobs import FOLD_TASK
from petitions.extensions import db, limiter
from petitions.gatherings.queries import hosted_pages_for, rsvp_pages_for
from petitions.mailer.services import DRAIN_TASK
from petitions.supporters import consent, queries, services
from petitions.supporters.forms import ButtonForm, EraseForm, PreferencesForm, SigninRequestForm
from petitions.supporters.models import Supporter

bp = Blueprint("supporters", __name__, url_prefix="/my")

SESSION_ID = "supporter_id"
SESSION_UNTIL = "supporter_until"
SESSION_VERSION = "supporter_version"


@bp.after_request
def _no_store(response: Response) -> Response:
    return no_store(response, pragma=True)


def current_supporter() -> Supporter | None:
    """The signed-in supporter: the cookie's id, still in time, and its ``session_version``
    still the supporter's (signing out raises it, so a copied cookie is refused)."""
    supporter_id = session.get(SESSION_ID)
    until = session.get(SESSION_UNTIL, 0)
    version = session.get(SESSION_VERSION)
    if not isinstance(supporter_id, int) or not isinstance(until, int | float):
        return None
    if until < time.time():
        _sign_out()
        return None
    supporter = db.session.get(Supporter, supporter_id)
    if supporter is None or version != (supporter.session_version or 1):
        _sign_out()
        return None
    return supporter


def _start_session(supporter_id: int) -> None:
    supporter = db.session.get(Supporter, supporter_id)
    assert supporter is not None
    minutes = current_app.config["SUPPORTER_SESSION_MINUTES"]
    session[SESSION_ID] = supporter_id
    session[SESSION_UNTIL] = int(time.time()) + minutes * 60
    session[SESSION_VERSION] = supporter.session_version or 1


def _sign_out() -> None:
    session.pop(SESSION_ID, None)
    session.pop(SESSION_UNTIL, None)
    session.pop(SESSION_VERSION, None)


def _require() -> Supporter:
    supporter = current_supporter()
    if supporter is None:
        abort(redirect(url_for("supporters.home"), code=303))
    return supporter


@bp.get("")
def home() -> str:
    supporter = current_supporter()
    if supporter is None:
        return render_template("supporters/signin.html", form=SigninRequestForm())
    entries = queries.history(supporter.email_normalised)
    campaigns = list({e.campaign.id: e.campaign for e in entries}.values())
    campaign_ids = {c.id for c in campaigns}
    taken = {e.action.id for e in entries}
    return render_template(
        "supporters/home.html",
        supporter=supporter,
        entries=entries,
        campaigns=campaigns,
        updates=queries.latest_updates(campaign_ids),
        untaken=queries.untaken_actions(campaigns, taken),
        rsvps=rsvp_pages_for([e.signature.id for e in entries]),
        hosted=hosted_pages_for(supporter.email_normalised),
        opted_out=queries.opted_out_campaigns(supporter),
        consenting={
            c.id for c in campaigns if consent.consents_now(supporter.email_normalised, c.id)
        },
        consent_history=consent.history(supporter.email_normalised),
        button=ButtonForm(),
        preferences=PreferencesForm(all_email=supporter.unsubscribed_all_at is None),
    )


def _address_key() -> str:
    """Sign-in links per address (whatever the IP): the address in any spelling, as a pseudonym."""
    return "signin-address:" + pseudonym(limit_key(request.form.get("email")))


@bp.post("/signin")
@limiter.limit(
    lambda: current_app.config["SIGNIN_LINK_LIMIT_PER_IP"], key_func=remote_address_key
)  # no IP in a Redis key
@limiter.limit(lambda: current_app.config["SIGNIN_LINK_LIMIT_PER_ADDRESS"], key_func=_address_key)
def request_link() -> tuple[str, int]:
    form = SigninRequestForm()
    if not form.validate_on_submit():
        return render_template("supporters/signin.html", form=form), 400
    if services.request_signin(form.email_normalised, language=current_language()):
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
    # The same answer whether or not this address has signed anything.
    return render_template("supporters/link_sent.html"), 200


@bp.route("/signin/<token>", methods=["GET", "POST"])
def signin(token: str) -> Response | tuple[str, int]:
    form = ButtonForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        outcome = services.sign_in(token)
        if outcome.state is services.SigninState.VALID and outcome.supporter_id is not None:
            _start_session(outcome.supporter_id)
            return redirect(url_for("supporters.home"), code=303)
        state = outcome.state
    else:
        state = services.preview_signin(token)
    status = {
        services.SigninState.VALID: 200,
        services.SigninState.USED: 410,
        services.SigninState.EXPIRED: 410,
        services.SigninState.INVALID: 404,
    }[state]
    page = render_template("supporters/signin_link.html", state=state.value, token=token, form=form)
    return page, status  # type: ignore[return-value]


@bp.post("/signout")
def signout() -> Response:
    if not ButtonForm().validate_on_submit():
        abort(400)
    supporter = current_supporter()
    if supporter is not None:
        services.end_sessions(supporter)  # a copy of this cookie no longer works either
    _sign_out()
    flash(_("You are signed out of My actions."), "info")
    return redirect(url_for("supporters.home"), code=303)


@bp.route("/signatures/<int:signature_id>/withdraw", methods=["GET", "POST"])
def withdraw(signature_id: int) -> Response | str:
    supporter = _require()
    if request.method == "GET":  # ask once, on a page of its own (no script dialog)
        entry = next(
            (
                e
                for e in queries.history(supporter.email_normalised)
                if e.signature.id == signature_id
            ),
            None,
        )
        if entry is None or not entry.can_withdraw:
            abort(404)
        title = localised(entry.action, "title")
        if entry.action.is_pledge:
            heading = _("Withdraw your pledge from \u201c%(title)s\u201d?", title=title)
            detail = _(
                "It stops counting straight away, and you are not counted again unless you "
                "pledge again."
            )
            button = _("Withdraw my pledge")
        else:
            heading = _("Withdraw your signature from \u201c%(title)s\u201d?", title=title)
            detail = _(
                "It stops counting straight away, and you are not counted again unless you "
                "sign again."
            )
            button = _("Withdraw my signature")
        if entry.action.is_letter:
            detail += " " + _("A letter already delivered can't be unsent.")
        return render_template(
            "confirm.html",
            layout="base.html",
            heading=heading,
            detail=detail,
            action=url_for("supporters.withdraw", signature_id=signature_id),
            form=ButtonForm(),
            button=button,
            danger=True,
            back=url_for("supporters.home"),
        )
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not services.withdraw(supporter.email_normalised, signature_id):
        abort(404)
    flash(_("Withdrawn. It no longer counts; the total updates within a few seconds."), "info")
    return redirect(url_for("supporters.home"), code=303)


@bp.post("/preferences")
def preferences() -> Response:
    supporter = _require()
    form = PreferencesForm()
    if not form.validate_on_submit():
        abort(400)
    known = {e.campaign.id for e in queries.history(supporter.email_normalised)}
    wanted = {cid for cid in known if request.form.get(f"campaign-{cid}")}
    services.set_preferences(supporter, bool(form.all_email.data), wanted, known)
    flash(_("Your email choices are saved. They take effect at once."), "info")
    return redirect(url_for("supporters.home"), code=303)


@bp.get("/data.json")
def download() -> Response:
    supporter = _require()
    body = json.dumps(queries.export(supporter.email_normalised), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@bp.route("/erase", methods=["GET", "POST"])
def erase() -> Response | tuple[str, int] | str:
    supporter = _require()
    form = EraseForm()
    if request.method == "GET":
        return render_template("supporters/erase.html", form=form)
    if not form.validate_on_submit():
        return render_template("supporters/erase.html", form=form), 400
    services.erase(supporter.email_normalised)
    after_commit(nudge, FOLD_TASK, key=FOLD_TASK)
    _sign_out()
    return render_template("supporters/erased.html")
