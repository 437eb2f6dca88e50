"""Event pages: the public page and RSVP form, the RSVP's own page, and the organisers' pages
(create, edit, cancel, attendees, check-in, CSV). Thin views: load, check, call one service;
the unit of work commits."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext, pgettext
from werkzeug.wrappers import Response

from petitions.campaigns import queries as campaign_queries
from petitions.campaigns.models import Action, Campaign
from petitions.core import i18n
from petitions.core.csvsafe import safe_cell
from petitions.core.dispatch import nudge
from petitions.core.emails import limit_key
from petitions.core.i18n import current_language, localised
from petitions.core.pseudonym import pseudonym, remote_address_key
from petitions.core.unit_of_work import after_commit, retry_on_disconnect
from petitions.extensions import limiter
from petitions.gatherings import jobs, queries, services
from petitions.gatherings.forms import (
    ButtonForm,
    EventForm,
    FollowUpForm,
    HostEventForm,
    event_form,
)
from petitions.gatherings.ics import build_calendar, build_feed, google_link, outlook_link
from petitions.gatherings.intake import submit_rsvp
from petitions.gatherings.links import action_id_from_host_token, rsvp_id_from
from petitions.gatherings.models import EventDetails, RsvpStatus
from petitions.geo.postcodes import compact, is_full, is_partial, pretty
from petitions.mailer.services import DRAIN_TASK
from petitions.organisers.access import (
    action_for_organiser,
    campaign_for_organiser,
    organiser_required,
)
from petitions.screening.checks import facts_from_form
from petitions.signing.forms import SignForm, clean_source
from petitions.signing.services import ActionClosed

bp = Blueprint("gatherings", __name__)

NO_STORE = {"Cache-Control": "no-store"}


def _nudge_mail() -> None:
    after_commit(nudge, DRAIN_TASK, key=("nudge", DRAIN_TASK))


def _public_event(slug: str, action_slug: str) -> tuple[Campaign, Action, EventDetails]:
    action = campaign_queries.public_action(slug, action_slug)
    details = queries.details_of(action.id) if action is not None and action.is_event else None
    if action is None or details is None or not details.is_public:
        abort(404)
    return action.campaign, action, details


def _accepting(action: Action, details: EventDetails) -> bool:
    return queries.accepting_rsvps(action, details)


def _render_event(
    campaign: Campaign,
    action: Action,
    details: EventDetails,
    form: SignForm,
    status: int = 200,
    answers: dict[str, str] | None = None,
    error: str | None = None,
) -> tuple[str, int]:
    url = url_for(
        "gatherings.event_page", slug=campaign.slug, action_slug=action.slug, _external=True
    )
    return (
        render_template(
            "gatherings/event.html",
            campaign=campaign,
            action=action,
            details=details,
            form=form,
            places=queries.places_for([action.id])[action.id],
            accepting=_accepting(action, details),
            answers=answers or {},
            answer_error=error,
            # In the page's language: the organiser's Welsh title on a Welsh page.
            google_link=google_link(details, localised(action, "title"), url),
            outlook_link=outlook_link(details, localised(action, "title"), url),
        ),
        status,
    )


@bp.get("/e/<slug>/<action_slug>")
def event_page(slug: str, action_slug: str) -> tuple[str, int]:
    campaign, action, details = _public_event(slug, action_slug)
    form = SignForm()
    form.source.data = clean_source(request.args.get("source"))
    return _render_event(campaign, action, details, form)


@bp.post("/e/<slug>/<action_slug>")
@retry_on_disconnect  # a second run finds the same signature and the same RSVP
def rsvp(slug: str, action_slug: str) -> Response | tuple[str, int]:
    campaign, action, details = _public_event(slug, action_slug)
    if not _accepting(action, details):
        return render_template(
            "gatherings/closed.html", campaign=campaign, action=action, details=details
        ), 409
    form = SignForm()
    submitted = {q["key"]: request.form.get(f"q_{q['key']}", "") for q in details.questions}
    if not form.validate():
        return _render_event(campaign, action, details, form, 400, submitted)
    try:
        answers, sensitive = services.clean_answers(details.questions, submitted)
    except services.EventError as exc:
        return _render_event(campaign, action, details, form, 400, submitted, str(exc))
    data = form.signature_input(
        source=form.source.data or "", referrer="", ip_address=request.remote_addr
    )
    try:
        submit_rsvp(action, data, facts_from_form(form, request.remote_addr), answers, sensitive)
    except ActionClosed:
        return render_template(
            "gatherings/closed.html", campaign=campaign, action=action, details=details
        ), 409
    return redirect(url_for("gatherings.thanks", slug=slug, action_slug=action_slug), code=303)


@bp.get("/e/<slug>/<action_slug>/thanks")
def thanks(slug: str, action_slug: str) -> str:
    campaign, action, details = _public_event(slug, action_slug)
    return render_template(
        "gatherings/thanks.html", campaign=campaign, action=action, details=details
    )


@bp.get("/e/<slug>/<action_slug>/event.ics")
def event_ics(slug: str, action_slug: str) -> Response:
    """The public calendar entry (no online link: that goes only to confirmed attendees)."""
    campaign, action, details = _public_event(slug, action_slug)
    url = url_for("gatherings.event_page", slug=slug, action_slug=action_slug, _external=True)
    body = build_calendar(
        details,
        title=localised(action, "title"),  # /cy/e/…/event.ics: the organiser's Welsh words
        description=localised(action, "text"),
        url=url,
        method="CANCEL" if details.is_cancelled else "PUBLISH",
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{action.slug}.ics"'},
    )


def _listed_campaign() -> Campaign | None:
    """``?campaign=<slug>``: that public campaign (404 if there is none), or None for all."""
    wanted = (request.args.get("campaign") or "").strip()[:100]
    campaign = campaign_queries.public_campaign(wanted) if wanted else None
    if wanted and campaign is None:
        abort(404)
    return campaign


@bp.get("/events.ics")
def public_feed() -> Response:
    """Upcoming events as a calendar to subscribe to (no online links, no people)."""
    campaign = _listed_campaign()
    events = queries.upcoming_events(campaign_id=campaign.id if campaign else None)
    items = [
        (
            item.details,
            item.action.title,
            item.action.text or "",
            url_for(
                "gatherings.event_page",
                slug=item.action.campaign.slug,
                action_slug=item.action.slug,
                _external=True,
            ),
        )
        for item in events
    ]
    name = f"{campaign.title}: events" if campaign else "Upcoming events"
    return Response(
        build_feed(items, name=name),
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="events.ics"',
            "Cache-Control": "public, max-age=300",
        },
    )


@bp.get("/events")
def public_list() -> str:
    """Upcoming events, filterable by date, postcode area and campaign, nearest first to a
    postcode (no personal data)."""
    campaign = _listed_campaign()
    day = _parse_day(request.args.get("from", ""))
    until = _parse_day(request.args.get("to", ""))
    area = "".join(ch for ch in request.args.get("area", "").upper() if ch.isalpha())[:2]
    near = compact(request.args.get("postcode", ""))
    bad_postcode = bool(near) and not (
        is_full(near) or is_partial(near) or re.fullmatch(r"[A-Z]{1,2}", near)
    )
    events = queries.upcoming_events(
        on_or_after=datetime.combine(day, time(), UTC) if day else None,
        before=datetime.combine(until, time(), UTC) + timedelta(days=1) if until else None,
        postcode_area=area,
        near="" if bad_postcode else near,
        campaign_id=campaign.id if campaign is not None else None,
    )
    return render_template(
        "gatherings/list.html",
        events=events,
        campaign=campaign,
        area=area,
        near=pretty(near) if near and not bad_postcode else "",
        bad_postcode=bad_postcode,
        day=day,
        until=until,
        bad_date=bool(request.args.get("from") and not day)
        or bool(request.args.get("to") and not until),
    )


def _parse_day(value: str):  # -> date | None
    try:
        return datetime.strptime(value.strip()[:10], "%Y-%m-%d").date() if value else None
    except ValueError:
        return None


# --- an RSVP's own page: see the place, cancel ------------------------------------------------


def _rsvp_from_token(token: str):
    rsvp_id = rsvp_id_from(token)
    found = queries.rsvp_of(rsvp_id) if rsvp_id else None
    if found is None:
        abort(404)
    return found


@bp.get("/rsvp/<token>")
def manage(token: str) -> tuple[str, int, dict[str, str]]:
    found = _rsvp_from_token(token)
    details = queries.details_of(found.action_id)
    return (
        render_template(
            "gatherings/manage.html",
            rsvp=found,
            action=found.action,
            details=details,
            form=ButtonForm(),
            token=token,
        ),
        200,
        NO_STORE,
    )


@bp.post("/rsvp/<token>")
def cancel_rsvp(token: str) -> Response | tuple[str, int]:
    found = _rsvp_from_token(token)
    form = ButtonForm()
    if not form.validate():
        abort(400)
    if found.status == RsvpStatus.PENDING.value:
        return _("This RSVP was never confirmed, so there is nothing to cancel."), 409
    services.cancel_rsvp(found)
    _nudge_mail()
    flash(_("Your RSVP is cancelled. Thank you for letting us know."), "success")
    return redirect(url_for("gatherings.manage", token=token), code=303)


# --- organisers -------------------------------------------------------------------------------


def _changed_words(changed: list[str]) -> str:
    """What changed ("time", "place", "online link") in the page's language: "time and place"."""
    names = {
        "time": pgettext("what changed", "time"),
        "place": pgettext("what changed", "place"),
        "online link": pgettext("what changed", "online link"),
    }
    words = [names.get(item, item) for item in changed]
    if len(words) < 2:
        return "".join(words)
    return _("%(items)s and %(last)s", items=", ".join(words[:-1]), last=words[-1])


def _event_for_organiser(action_id: int) -> tuple[Action, EventDetails]:
    action = action_for_organiser(action_id)
    details = queries.details_of(action.id) if action.is_event else None
    if details is None:
        abort(404)
    return action, details


def _other_languages() -> list[str]:
    return [code for code in i18n.enabled() if code != i18n.default_language()]


def _form_from(details: EventDetails, action: Action) -> EventForm:
    form: EventForm = event_form(_other_languages())
    if request.method == "GET":
        form.fill_translations(action.translations)
        form.title.data = action.title
        form.description.data = action.text
        form.starts.data = details.local_start.replace(tzinfo=None)
        form.ends.data = details.local_end.replace(tzinfo=None)
        form.timezone.data = details.timezone
        form.venue.data = details.venue
        form.address.data = details.address
        form.postcode.data = details.postcode
        form.online_url.data = details.online_url
        form.capacity.data = details.capacity
        form.waitlist.data = details.waitlist
        form.questions.data = "\n".join(
            ("!" if q.get("sensitive") else "") + q["label"] for q in details.questions
        )
    return form


@bp.route("/organise/campaigns/<int:campaign_id>/events/new", methods=["GET", "POST"])
@organiser_required
def new_event(campaign_id: int) -> Response | tuple[str, int]:
    campaign = campaign_for_organiser(campaign_id)
    form = event_form(_other_languages())
    error = None
    if request.method == "POST":
        if form.validate():
            try:
                action = services.create_event(campaign, form.event_input())
            except services.EventError as exc:
                error = str(exc)
            else:
                flash(_("Event created. It shows on the campaign page while the campaign is live."))
                return redirect(url_for("gatherings.attendees", action_id=action.id), code=303)
        status = 400
    else:
        status = 200
    return render_template(
        "gatherings/event_form.html", campaign=campaign, form=form, error=error, action=None
    ), status


@bp.route("/organise/events/<int:action_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_event(action_id: int) -> Response | tuple[str, int]:
    action, details = _event_for_organiser(action_id)
    form = _form_from(details, action)
    error = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                outcome = services.update_event(action, form.event_input())
            except services.EventError as exc:
                error = str(exc)
            else:
                if outcome.changed:
                    _nudge_mail()
                    flash(
                        ngettext(
                            "Saved. The %(changed)s changed: %(num)s attendee is being told.",
                            "Saved. The %(changed)s changed: %(num)s attendees are being told.",
                            outcome.told,
                            changed=_changed_words(outcome.changed),
                        )
                    )
                else:
                    flash(_("Saved."))
                return redirect(url_for("gatherings.attendees", action_id=action.id), code=303)
        status = 400
    return render_template(
        "gatherings/event_form.html",
        campaign=action.campaign,
        form=form,
        error=error,
        action=action,
        details=details,
    ), status


@bp.post("/organise/events/<int:action_id>/cancel")
@organiser_required
def cancel_event(action_id: int) -> Response:
    action, _details = _event_for_organiser(action_id)
    if not ButtonForm().validate():
        abort(400)
    told = services.cancel_event(action)
    _nudge_mail()
    flash(
        ngettext(
            "Event cancelled. %(num)s attendee is being told.",
            "Event cancelled. %(num)s attendees are being told.",
            told,
        )
    )
    return redirect(url_for("gatherings.attendees", action_id=action.id), code=303)


@bp.get("/organise/events/<int:action_id>/attendees")
@organiser_required
def attendees(action_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action, details = _event_for_organiser(action_id)
    rows = queries.attendees(action.id)
    if request.args.get("format") == "csv":
        return _attendee_csv(action, details, rows)
    return (
        render_template(
            "gatherings/attendees.html",
            action=action,
            campaign=action.campaign,
            details=details,
            rows=rows,
            places=queries.places_for([action.id])[action.id],
            form=ButtonForm(),
            followup_form=FollowUpForm(),
            audiences=services.FOLLOWUP_AUDIENCES,
            deliveries=jobs.delivery_counts(action.id),
            sheet=request.args.get("view") == "sheet",
        ),
        200,
        NO_STORE,
    )


def _attendee_csv(action: Action, details: EventDetails, rows) -> Response:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    writer = csv.writer(out)
    keys = [q["key"] for q in details.questions]
    writer.writerow(
        ["name", "email", "postcode", "status", "confirmed_at", "checked_in_at"]
        + [q["label"] for q in details.questions]
    )
    for rsvp, signature in rows:
        answers = {**rsvp.answers, **rsvp.sensitive_answers}
        writer.writerow(
            [
                safe_cell(signature.name),
                safe_cell(signature.email),
                safe_cell(signature.postcode),
                rsvp.status,
                rsvp.placed_at.isoformat() if rsvp.placed_at else "",
                rsvp.checked_in_at.isoformat() if rsvp.checked_in_at else "",
            ]
            + [safe_cell(answers.get(k, "")) for k in keys]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{action.slug}-attendees.csv"',
            **NO_STORE,
        },
    )


@bp.post("/organise/events/<int:action_id>/attendees/<int:rsvp_id>/check-in")
@organiser_required
def check_in(action_id: int, rsvp_id: int) -> Response:
    action, _details = _event_for_organiser(action_id)
    found = queries.rsvp_of(rsvp_id)
    if found is None or found.action_id != action.id or not ButtonForm().validate():
        abort(404)
    if found.status != RsvpStatus.GOING.value:
        abort(409)
    services.check_in(found, undo=request.form.get("undo") == "1")
    view = request.args.get("view")
    return redirect(
        url_for("gatherings.attendees", action_id=action.id, view=view) + f"#rsvp-{found.id}",
        code=303,
    )


@bp.post("/organise/events/<int:action_id>/follow-up")
@organiser_required
def follow_up(action_id: int) -> Response | tuple[str, int]:
    action, _details = _event_for_organiser(action_id)
    form = FollowUpForm()
    if not form.validate():
        return _("Enter a subject and a message (and keep the page's form token)."), 400
    try:
        _followup, count = services.create_followup(
            action, request.form.get("audience", ""), form.subject.data or "", form.body.data or ""
        )
    except services.EventError as exc:
        return str(exc), 400
    after_commit(nudge, jobs.REMINDER_TASK, key=("nudge", jobs.REMINDER_TASK))
    flash(
        ngettext(
            "Follow-up queued for %(num)s attendee; it goes out within a minute.",
            "Follow-up queued for %(num)s attendees; it goes out within a minute.",
            count,
        )
    )
    return redirect(url_for("gatherings.attendees", action_id=action.id), code=303)


# --- supporter-hosted events ------------------------------------------------------------------


def _host_address_key() -> str:
    """Proposals per host address (whatever the IP): the address in any spelling, pseudonymised."""
    return "event-proposal-address:" + pseudonym(limit_key(request.form.get("host_email")))


@bp.route("/c/<slug>/host-an-event", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["EVENT_PROPOSAL_LIMIT_PER_IP"],
    key_func=remote_address_key,
    methods=["POST"],
)  # no IP in a Redis key
@limiter.limit(
    lambda: current_app.config["EVENT_PROPOSAL_LIMIT_PER_ADDRESS"],
    key_func=_host_address_key,
    methods=["POST"],
)
def propose(slug: str) -> Response | tuple[str, int]:
    campaign = campaign_queries.public_campaign(slug)
    hosting = queries.hosting_of(campaign.id) if campaign is not None else None
    if campaign is None or hosting is None or hosting.closed_at is not None:
        abort(404)
    form = HostEventForm()
    error = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            try:
                services.propose_event(
                    campaign,
                    form.event_input(),
                    form.host_name.data or "",
                    form.email_normalised,
                    language=current_language(),
                )
            except services.EventError as exc:
                error = str(exc)
            else:
                _nudge_mail()
                return redirect(url_for("gatherings.proposed", slug=slug), code=303)
    return render_template(
        "gatherings/propose.html", campaign=campaign, hosting=hosting, form=form, error=error
    ), status


@bp.get("/c/<slug>/host-an-event/thanks")
def proposed(slug: str) -> str:
    campaign = campaign_queries.public_campaign(slug)
    if campaign is None:
        abort(404)
    return render_template("gatherings/proposed.html", campaign=campaign)


def _hosted_from_token(token: str) -> tuple[Action, EventDetails]:
    action_id = action_id_from_host_token(token)
    details = queries.details_of(action_id) if action_id else None
    if details is None or not details.is_hosted or details.host_erased:
        abort(404)
    return details.action, details


@bp.get("/host/<token>")
def host_page(token: str) -> tuple[str, int, dict[str, str]]:
    action, details = _hosted_from_token(token)
    rows = queries.attendees(action.id, [RsvpStatus.GOING.value, RsvpStatus.WAITLISTED.value])
    return (
        render_template(
            "gatherings/host.html",
            action=action,
            details=details,
            rows=rows,
            places=queries.places_for([action.id])[action.id],
            form=FollowUpForm(),
            confirm_form=ButtonForm(),
            token=token,
        ),
        200,
        NO_STORE,
    )


@bp.post("/host/<token>/confirm")
def host_confirm(token: str) -> Response:
    """The host confirms their proposal (a POST from their host page: a mail scanner following
    the emailed link changes nothing)."""
    action, _details = _hosted_from_token(token)
    if not ButtonForm().validate():
        abort(400)
    if services.confirm_host(action):
        _nudge_mail()
        flash(_("Thank you: your event is with the organisers now."))
    return redirect(url_for("gatherings.host_page", token=token), code=303)


@bp.post("/host/<token>")
def host_message(token: str) -> Response | tuple[str, int]:
    """The host messages their attendees through the service: addresses are never shown."""
    action, details = _hosted_from_token(token)
    form = FollowUpForm()
    if not details.is_public or not form.validate():
        return _("Enter a subject and a message (the event must be approved)."), 400
    try:
        _followup, count = services.create_followup(
            action, "going", form.subject.data or "", form.body.data or ""
        )
    except services.EventError as exc:
        return str(exc), 400
    after_commit(nudge, jobs.REMINDER_TASK, key=("nudge", jobs.REMINDER_TASK))
    flash(
        ngettext(
            "Your message is on its way to %(num)s attendee.",
            "Your message is on its way to %(num)s attendees.",
            count,
        )
    )
    return redirect(url_for("gatherings.host_page", token=token), code=303)


@bp.route("/organise/campaigns/<int:campaign_id>/hosting", methods=["GET", "POST"])
@organiser_required
def hosting(campaign_id: int) -> Response | tuple[str, int]:
    campaign = campaign_for_organiser(campaign_id)
    if request.method == "POST":
        if not ButtonForm().validate():
            abort(400)
        try:
            services.set_hosting(
                campaign,
                request.form.get("open") == "1",
                request.form.get("intro", ""),
                {
                    code: {"intro": request.form.get(f"intro__{code}", "")}
                    for code in _other_languages()
                    if f"intro__{code}" in request.form
                },
            )
        except services.EventError as exc:
            return str(exc), 400
        return redirect(url_for("gatherings.hosting", campaign_id=campaign.id), code=303)
    return render_template(
        "gatherings/hosting.html",
        campaign=campaign,
        hosting=queries.hosting_of(campaign.id),
        proposals=queries.proposals(campaign.id),
        form=ButtonForm(),
        other_languages=_other_languages(),
    ), 200


@bp.post("/organise/events/<int:action_id>/review")
@organiser_required
def review(action_id: int) -> Response | tuple[str, int]:
    action = action_for_organiser(action_id)
    details = queries.details_of(action.id) if action.is_event else None
    decision = request.form.get("decision")
    if details is None:
        abort(404)
    if not ButtonForm().validate() or decision not in ("approve", "reject"):
        return _("Choose approve or reject."), 400
    try:
        services.review_event(action, decision == "approve", request.form.get("note", ""))
    except services.EventError as exc:
        return str(exc), 409
    _nudge_mail()
    flash(_("Approved: it is public now.") if decision == "approve" else _("Rejected."))
    return redirect(url_for("gatherings.hosting", campaign_id=action.campaign_id), code=303)
