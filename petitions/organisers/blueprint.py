"""The organisers' workspace entrance: login, logout, home, and (admins) managing organisers."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
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
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from petitions.core import unit_of_work
from petitions.core.dispatch import nudge
from petitions.core.emails import limit_key
from petitions.core.i18n import N_
from petitions.core.pseudonym import pseudonym, remote_address_key
from petitions.core.web import no_store, safe_next
from petitions.extensions import db, limiter, login_manager
from petitions.mailer.services import DRAIN_TASK
from petitions.organisers import queries, services
from petitions.organisers.access import (
    admin_required,
    campaigns_for,
    current_organiser,
    organiser_required,
)
from petitions.organisers.forms import (
    InviteForm,
    LoginForm,
    LogoutForm,
    SetPasswordForm,
    ToggleForm,
)
from petitions.organisers.models import Organiser

bp = Blueprint("organisers", __name__, url_prefix="/organise")

LOGIN_FAILED = N_("That email and password do not match an account.")


@bp.record_once
def _configure(state: object) -> None:
    login_manager.login_view = "organisers.login"
    login_manager.login_message = N_("Please log in to continue.")
    login_manager.localize_callback = _  # flashed in the language of the page asked for
    login_manager.login_message_category = "info"
    app: Flask = state.app  # type: ignore[attr-defined]
    app.after_request(_no_store_for_organisers)
    app.context_processor(lambda: {"logout_form": LogoutForm})


def _no_store_for_organisers(response: Response) -> Response:
    """Organisers' pages carry personal data: never cached anywhere."""
    if request.path == "/organise" or request.path.startswith("/organise/"):
        return no_store(response, pragma=True)
    return response


def _account_key() -> str:
    """Per-account login limit: the address as login looks it up, in any spelling, as a
    pseudonym (the address itself is never a Redis key name)."""
    return "login-account:" + pseudonym(limit_key(request.form.get("email")))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], key_func=remote_address_key, methods=["POST"]
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=_account_key, methods=["POST"]
)
def login() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("organisers.home"))
    form = LoginForm()
    if form.validate_on_submit():
        organiser = services.authenticate(form.email.data or "", form.password.data or "")
        if organiser is not None:
            destination = safe_next(request.args.get("next")) or url_for("organisers.home")
            session.clear()  # rotate: nothing from before the login survives it
            login_user(organiser)
            return redirect(destination, code=303)
        unit_of_work.rollback()  # a failed login records nothing (not even a rehash)
        form.password.errors = [_(LOGIN_FAILED)]
    status = 400 if request.method == "POST" else 200
    return render_template("organisers/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    form = LogoutForm()
    if request.method == "GET":
        return render_template("organisers/logout.html", form=form)
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        services.end_sessions(current_organiser())
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("organisers.login"), code=303)


@bp.get("/")
@organiser_required
def home() -> str:
    organiser = current_organiser()
    return render_template(
        "organisers/home.html", organiser=organiser, campaigns=campaigns_for(organiser)
    )


# --- admins: organisers and invitations ---------------------------------------------------


@bp.route("/organisers", methods=["GET", "POST"])
@admin_required
def organisers() -> Response | str | tuple[str, int]:
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invited = services.invite_organiser(
                form.email.data or "", name=form.name.data or "", role=form.role.data
            )
        except services.AccountError as exc:
            form.email.errors = [str(exc)]
        else:
            unit_of_work.after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
            flash(_("Invitation sent to %(email)s.", email=invited.email), "info")
            return redirect(url_for("organisers.organisers"), code=303)
    status = 400 if form.errors else 200
    return (
        render_template(
            "organisers/organisers.html",
            form=form,
            toggle=ToggleForm(),
            people=queries.all_organisers(),
        ),
        status,
    )


@bp.post("/organisers/<int:organiser_id>/active")
@admin_required
def toggle_active(organiser_id: int) -> Response:
    if not ToggleForm().validate_on_submit():
        abort(400)
    person = db.session.get(Organiser, organiser_id)
    if person is None:
        abort(404)
    if person.id == current_organiser().id:
        flash(_("You can't deactivate yourself."), "error")
    else:
        services.set_active(person, not person.active)
        flash(
            _("%(email)s is now active.", email=person.email)
            if person.active
            else _("%(email)s is now deactivated.", email=person.email),
            "info",
        )
    return redirect(url_for("organisers.organisers"), code=303)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", key_func=remote_address_key)
def accept_invite(token: str) -> Response | str | tuple[str, int]:
    organiser = services.invited_organiser(token)
    if organiser is None:
        return render_template("organisers/invite_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        if services.accept_invitation(token, form.password.data or "") is None:
            unit_of_work.rollback()
            return render_template("organisers/invite_invalid.html"), 404
        session.clear()
        login_user(organiser)
        flash(_("Your password is set. Welcome!"), "info")
        return redirect(url_for("organisers.home"), code=303)
    status = 400 if form.errors else 200
    return render_template("organisers/accept_invite.html", form=form, organiser=organiser), status
