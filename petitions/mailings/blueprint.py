"""Unsubscribing (public, RFC 8058 one-click) and the organiser's mailing pages."""

from __future__ import annotations

from datetime import UTC, datetime

from babel import Locale
from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_locale, pgettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.campaigns.models import Campaign, CampaignUpdate
from petitions.core.dispatch import nudge
from petitions.core.i18n import NATIVE_NAMES, default_language, enabled
from petitions.core.time import as_utc, utcnow
from petitions.core.unit_of_work import after_commit
from petitions.core.web import no_store
from petitions.extensions import csrf, db
from petitions.mailer.services import DRAIN_TASK
from petitions.mailings import composer, queries, services
from petitions.mailings.forms import (
    TRANSLATABLE,
    ComposeForm,
    ConfirmSendForm,
    ControlForm,
    ScheduleForm,
    SendTestForm,
    SendUpdateForm,
    compose_form,
)
from petitions.mailings.models import Mailing, MailingDelivery, MailingKind, MailingStatus
from petitions.mailings.notifications import content_for, read_unsubscribe_token, render_parts
from petitions.organisers.access import (
    campaign_for_organiser,
    current_organiser,
    organiser_required,
)
from petitions.supporters.models import ERASED_PREFIX
from petitions.supporters.services import unsubscribe as unsubscribe_service

unsubscribe_bp = Blueprint("unsubscribe", __name__)
bp = Blueprint("mailings", __name__, url_prefix="/organise/campaigns/<int:campaign_id>/mailings")


# --- unsubscribe -----------------------------------------------------------------------------


@unsubscribe_bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: mail providers POST here with no cookies and no form token
def unsubscribe(token: str) -> tuple[str, int]:
    delivery_id = read_unsubscribe_token(token)
    delivery = db.session.get(MailingDelivery, delivery_id) if delivery_id else None
    if delivery is None:
        abort(404)
    mailing = db.session.get(Mailing, delivery.mailing_id)
    campaign = db.session.get(Campaign, mailing.campaign_id) if mailing else None
    if request.method == "GET":
        # Never unsubscribes by itself: link scanners and previews only GET.
        return render_template("mailings/unsubscribe.html", token=token, campaign=campaign), 200
    scope = "all" if request.form.get("scope") == "all" else "campaign"
    if not delivery.email_normalised.startswith(ERASED_PREFIX):
        unsubscribe_service(
            delivery.email_normalised, None if scope == "all" or campaign is None else campaign.id
        )
    return render_template("mailings/unsubscribed.html", scope=scope, campaign=campaign), 200


# --- organisers ------------------------------------------------------------------------------


def mailing_status_name(status: str) -> str:
    """A mailing's stored status ("queued" with a time to come: "scheduled") in the page's
    language."""
    names = {
        "draft": pgettext("mailing status", "draft"),
        "queued": pgettext("mailing status", "queued"),
        "scheduled": pgettext("mailing status", "scheduled"),
        "sending": pgettext("mailing status", "sending"),
        "paused": pgettext("mailing status", "paused"),
        "cancelled": pgettext("mailing status", "cancelled"),
        "done": pgettext("mailing status", "done"),
    }
    return names.get(status, status)


def delivery_status_name(status: str) -> str:
    """One recipient's delivery status (the counts on a mailing's page) in the page's language."""
    names = {
        "pending": pgettext("delivery status", "pending"),
        "claimed": pgettext("delivery status", "claimed"),
        "sending": pgettext("delivery status", "sending"),
        "sent": pgettext("delivery status", "sent"),
        "skipped": pgettext("delivery status", "skipped"),
        "failed": pgettext("delivery status", "failed"),
        "unknown": pgettext("delivery status", "unknown"),
    }
    return names.get(status, status)


def when_utc(moment: datetime) -> str:
    """A sending time as the pages and flashes write it: "24 December 2026 at 09:00 UTC"."""
    return _(
        "%(date)s at %(time)s UTC",
        date=format_datetime(moment, "d MMMM y"),
        time=format_datetime(moment, "HH:mm"),
    )


def _other_languages() -> list[str]:
    return [code for code in enabled() if code != default_language()]


def _readers(language: str) -> str:
    """What the language is called in the page's language ("Welsh" on an English page)."""
    return str(Locale.parse(language).get_display_name(get_locale()) or language)


def fallback_note(mailing: Mailing, language: str) -> str | None:
    """What readers in ``language`` get where the organiser wrote nothing in it (None: it
    is all written). Shown to the organiser: the English stands in for what is missing."""
    written = (mailing.translations or {}).get(language, {})
    missing = [name for name in TRANSLATABLE if not written.get(name)]
    words = {"language": NATIVE_NAMES.get(language, language), "name": _readers(language)}
    if missing == ["subject", "body"]:
        return _("No %(language)s version: %(name)s readers get the English", **words)
    if missing == ["subject"]:
        return _("No %(language)s subject: %(name)s readers get the English one", **words)
    if missing == ["body"]:
        return _("No %(language)s message: %(name)s readers get the English one", **words)
    return None


@bp.context_processor
def _names() -> dict[str, object]:
    return {
        "mailing_status_name": mailing_status_name,
        "delivery_status_name": delivery_status_name,
        "when_utc": when_utc,
        "fallback_note": fallback_note,
        "other_languages": _other_languages,
    }


@bp.after_request
def _no_store(response: Response) -> Response:
    return no_store(response)


def _mailing(campaign: Campaign, mailing_id: int) -> Mailing:
    mailing = queries.mailing_of(campaign, mailing_id)
    if mailing is None:
        abort(404)
    return mailing


@bp.get("")
@organiser_required
def index(campaign_id: int) -> str:
    campaign = campaign_for_organiser(campaign_id)
    mailings = queries.mailings_of(campaign)
    sent_updates = {m.update_id for m in mailings if m.update_id}
    progress = {m.id: queries.progress(m) for m in mailings}
    return render_template(
        "mailings/index.html",
        drafts=[m for m in mailings if m.status == MailingStatus.DRAFT],
        campaign=campaign,
        mailings=mailings,
        progress=progress,
        sent_updates=sent_updates,
        audience=queries.audience_size(campaign),
        form=SendUpdateForm(),
        control=ControlForm(),
    )


@bp.get("/updates/<int:update_id>/send")
@organiser_required
def confirm_update(campaign_id: int, update_id: int) -> str:
    """Ask once, naming how many people it goes to, before emailing an update."""
    campaign = campaign_for_organiser(campaign_id)
    update = db.session.get(CampaignUpdate, update_id)
    if update is None or update.campaign_id != campaign.id:
        abort(404)
    return render_template(
        "mailings/confirm_update.html",
        campaign=campaign,
        update=update,
        audience=queries.audience_size(campaign),
        form=SendUpdateForm(),
    )


@bp.post("")
@organiser_required
def send_update(campaign_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    form = SendUpdateForm()
    if not form.validate_on_submit():
        abort(400)
    update = db.session.get(CampaignUpdate, form.update_id.data)
    if update is None or update.campaign_id != campaign.id:
        abort(404)
    mailing, created = services.request_update_mailing(update, current_organiser().id)
    after_commit(nudge, services.SWEEP_TASK, key=services.SWEEP_TASK)
    if not created:
        flash(_("This update has already been emailed; here is that mailing."), "info")
    return redirect(
        url_for("mailings.show", campaign_id=campaign.id, mailing_id=mailing.id), code=303
    )


@bp.get("/<int:mailing_id>")
@organiser_required
def show(campaign_id: int, mailing_id: int) -> str:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _mailing(campaign, mailing_id)
    if mailing.status == MailingStatus.DRAFT:
        return _draft_page(campaign, mailing, ScheduleForm())[0]
    send_at = as_utc(mailing.send_at)
    return render_template(
        "mailings/show.html",
        campaign=campaign,
        mailing=mailing,
        progress=queries.progress(mailing),
        control=ControlForm(),
        scheduled=send_at if send_at and send_at > utcnow() else None,
        audience=composer.describe_audience(mailing)
        if mailing.kind == MailingKind.COMPOSED
        else None,
    )


@bp.get("/<int:mailing_id>/progress.json")
@organiser_required
def progress_json(campaign_id: int, mailing_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _mailing(campaign, mailing_id)
    p = queries.progress(mailing)
    return jsonify(status=mailing.status, total=p.total, sent=p.sent, done=p.done, counts=p.counts)


_CONTROLS = {
    "pause": MailingStatus.PAUSED,
    "resume": MailingStatus.SENDING,
    "cancel": MailingStatus.CANCELLED,
}


@bp.post("/<int:mailing_id>/<any(pause, resume, cancel):command>")
@organiser_required
def control(campaign_id: int, mailing_id: int, command: str) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _mailing(campaign, mailing_id)
    if not ControlForm().validate_on_submit():
        abort(400)
    if services.set_status(mailing, _CONTROLS[command]):
        if command == "resume":
            after_commit(nudge, services.SWEEP_TASK, key=services.SWEEP_TASK)
        done = {
            MailingStatus.PAUSED: _("Mailing paused."),
            MailingStatus.SENDING: _("Mailing sending."),
            MailingStatus.QUEUED: _("Mailing queued."),
            MailingStatus.CANCELLED: _("Mailing cancelled."),
        }
        flash(done.get(MailingStatus(mailing.status), mailing_status_name(mailing.status)), "info")
    else:
        db.session.rollback()
        status = mailing_status_name(mailing.status)
        refused = {
            "pause": _("That mailing can't be paused now (it is %(status)s).", status=status),
            "resume": _("That mailing can't be resumed now (it is %(status)s).", status=status),
            "cancel": _("That mailing can't be cancelled now (it is %(status)s).", status=status),
        }
        flash(refused[command], "error")
    return redirect(
        url_for("mailings.show", campaign_id=campaign.id, mailing_id=mailing.id), code=303
    )


# --- the composer ----------------------------------------------------------------------------


def _composed(campaign: Campaign, mailing_id: int) -> Mailing:
    mailing = _mailing(campaign, mailing_id)
    if mailing.kind != MailingKind.COMPOSED:
        abort(404)
    return mailing


def _draft_from(campaign: Campaign, form: ComposeForm) -> composer.Draft | None:
    """The form as a draft, or None with the audience error set on the form."""
    try:
        audience, action_id, option = composer.parse_audience(campaign, form.audience.data or "")
    except composer.ComposeError as exc:
        form.audience.errors = [str(exc)]
        return None
    since = form.since.data
    return composer.Draft(
        subject=(form.subject.data or "").strip(),
        body=form.body.data or "",
        audience=audience,
        action_id=action_id,
        pledge_option=option,
        confirmed_since=datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None,
        translations=form.translations(),
    )


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:mailing_id>/edit", methods=["GET", "POST"])
@organiser_required
def compose(campaign_id: int, mailing_id: int | None = None) -> Response | tuple[str, int]:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _composed(campaign, mailing_id) if mailing_id else None
    if mailing is not None and mailing.status != MailingStatus.DRAFT:
        flash(_("This email has been sent or scheduled; it can't be changed now."), "error")
        return redirect(url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id), 303)
    form = compose_form(_other_languages(), choices=composer.audience_choices(campaign))
    if request.method == "GET":
        if mailing is not None:
            form.subject.data = mailing.subject
            form.body.data = mailing.body
            form.fill_translations(mailing.translations)
            form.audience.data = composer.audience_value(mailing)
            form.since.data = mailing.confirmed_since.date() if mailing.confirmed_since else None
        else:
            chosen = request.args.get("audience", "campaign")
            valid = {value for value, _ in composer.audience_choices(campaign)}
            form.audience.data = chosen if chosen in valid else "campaign"
    elif form.validate_on_submit():
        draft = _draft_from(campaign, form)
        if draft is not None:
            saved = composer.save_draft(campaign, mailing, draft, current_organiser().id)
            flash(
                _("Draft saved. Nothing has been sent: preview it, test it, then send it."), "info"
            )
            return redirect(url_for(".show", campaign_id=campaign.id, mailing_id=saved.id), 303)
    return render_template(
        "mailings/compose.html", campaign=campaign, mailing=mailing, form=form
    ), (400 if form.errors else 200)


def _language_asked(name: str) -> str:
    """``?<name>=cy``: one of the enabled languages, else the default."""
    asked = request.args.get(name, "")
    return asked if asked in enabled() else default_language()


def _test_form(selected: str | None = None) -> SendTestForm:
    form = SendTestForm(languages=[(code, NATIVE_NAMES.get(code, code)) for code in enabled()])
    if selected:
        form.language.data = selected
    return form


def _draft_page(
    campaign: Campaign, mailing: Mailing, schedule_form: ScheduleForm
) -> tuple[str, int]:
    """The draft with a preview in one language (``?preview=cy``; the default's first)."""
    language = _language_asked("preview")
    content = content_for(mailing, language)
    text, _html = render_parts(content, current_organiser().name or "Alex", None)
    return render_template(
        "mailings/draft.html",
        campaign=campaign,
        mailing=mailing,
        audience=composer.describe_audience(mailing),
        recipients=composer.audience_size(mailing),
        preview_language=language,
        preview_subject=content.subject,
        preview_text=text,
        languages=[(code, NATIVE_NAMES.get(code, code)) for code in enabled()],
        schedule_form=schedule_form,
        test_form=_test_form(language),
    ), (400 if schedule_form.errors else 200)


@bp.get("/<int:mailing_id>/preview.html")
@organiser_required
def preview_html(campaign_id: int, mailing_id: int) -> Response:
    """The HTML part as a recipient sees it (``?language=cy``: one who signed in Welsh),
    framed by the draft page (sandboxed, no script)."""
    campaign = campaign_for_organiser(campaign_id)
    mailing = _composed(campaign, mailing_id)
    content = content_for(mailing, _language_asked("language"))
    _text, html = render_parts(content, current_organiser().name or "Alex", None)
    g.frame_ancestors = "'self'"
    response = make_response(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data: https:; style-src 'unsafe-inline'; "
        "frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<int:mailing_id>/test")
@organiser_required
def send_test(campaign_id: int, mailing_id: int) -> Response:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _composed(campaign, mailing_id)
    form = _test_form()
    if not form.validate_on_submit():
        abort(400)
    organiser = current_organiser()
    language = form.language.data if form.language.data in enabled() else default_language()
    try:
        composer.send_test(mailing, organiser.id, language)
    except composer.ComposeError as exc:
        flash(str(exc), "error")
    else:
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
        flash(
            _(
                "A test copy in %(language)s is on its way to %(email)s.",
                language=NATIVE_NAMES.get(language, language),
                email=organiser.email,
            ),
            "info",
        )
    back = url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id)
    if language != default_language():
        back = url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id, preview=language)
    return redirect(back, 303)


def _send_at(form: ScheduleForm) -> datetime | None:
    if form.when.data != "later" or form.send_at.data is None:
        return None
    return form.send_at.data.replace(tzinfo=UTC)


@bp.post("/<int:mailing_id>/schedule")
@organiser_required
def schedule(campaign_id: int, mailing_id: int) -> Response | tuple[str, int]:
    """Step one: when. Answers with the confirmation page (or the draft with the error)."""
    campaign = campaign_for_organiser(campaign_id)
    mailing = _composed(campaign, mailing_id)
    if mailing.status != MailingStatus.DRAFT:
        return redirect(url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id), 303)
    form = ScheduleForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _draft_page(campaign, mailing, form)
    send_at = _send_at(form)
    try:
        composer.check_send_at(send_at)
    except composer.ComposeError as exc:
        form.send_at.errors = [str(exc)]
        return _draft_page(campaign, mailing, form)
    return render_template(
        "mailings/confirm_send.html",
        campaign=campaign,
        mailing=mailing,
        send_at=send_at,
        audience=composer.describe_audience(mailing),
        recipients=composer.audience_size(mailing),
        form=ConfirmSendForm(),
    ), 200


@bp.post("/<int:mailing_id>/send")
@organiser_required
def send(campaign_id: int, mailing_id: int) -> Response:
    """Step two: confirmed. Queues the draft (once, however often this is posted)."""
    campaign = campaign_for_organiser(campaign_id)
    mailing = _composed(campaign, mailing_id)
    form = ConfirmSendForm()
    if not form.validate_on_submit():
        abort(400)
    send_at: datetime | None = None
    if form.send_at.data:
        try:
            send_at = datetime.fromisoformat(form.send_at.data)
        except ValueError:
            abort(400)
        send_at = send_at if send_at.tzinfo else send_at.replace(tzinfo=UTC)
    recipients = int(form.recipients.data) if (form.recipients.data or "").isdigit() else 0
    try:
        queued = composer.schedule(mailing, send_at, current_organiser().id, recipients)
    except composer.ComposeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id), 303)
    if queued:
        after_commit(nudge, services.SWEEP_TASK, key=services.SWEEP_TASK)
        if send_at:
            flash(_("Scheduled for %(when)s.", when=when_utc(send_at)), "info")
        else:
            flash(_("Sending now. You can pause or cancel it below."), "info")
    else:
        flash(_("This email was already sent or scheduled; here it is."), "info")
    return redirect(url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id), 303)


@bp.route("/<int:mailing_id>/delete", methods=["GET", "POST"])
@organiser_required
def delete(campaign_id: int, mailing_id: int) -> Response | str:
    campaign = campaign_for_organiser(campaign_id)
    mailing = _composed(campaign, mailing_id)
    form = ControlForm()
    if request.method == "GET":
        return render_template(
            "confirm.html",
            heading=_("Delete the draft “%(subject)s”?", subject=mailing.subject),
            detail=_("It has not been sent to anyone. Deleting it can't be undone."),
            action=url_for(".delete", campaign_id=campaign.id, mailing_id=mailing.id),
            form=form,
            button=_("Delete the draft"),
            danger=True,
            back=url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id),
        )
    if not form.validate_on_submit():
        abort(400)
    try:
        composer.delete_draft(mailing)
    except composer.ComposeError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".show", campaign_id=campaign.id, mailing_id=mailing.id), 303)
    flash(_("Draft deleted."), "info")
    return redirect(url_for(".index", campaign_id=campaign.id), 303)
