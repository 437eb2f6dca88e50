"""Letter pages: the public page (postcode, recipients, message, name and email), the
supporter's own letter page, and the organisers' pages (create, edit, targets and stances,
counts, CSV). Thin views: load, check, call one service; the unit of work commits."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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
from flask_babel import ngettext
from werkzeug.wrappers import Response

from petitions.campaigns import queries as campaign_queries
from petitions.campaigns.models import Action, Campaign
from petitions.core import i18n
from petitions.core.csvsafe import safe_cell
from petitions.core.dispatch import nudge
from petitions.core.forms import ButtonForm
from petitions.core.task_names import SEND_LETTER_DIGESTS as DIGEST_TASK
from petitions.core.unit_of_work import after_commit, retry_on_disconnect
from petitions.geo import postcodes
from petitions.geo import queries as geo
from petitions.letters import intake, queries, services
from petitions.letters.forms import (
    LetterForm,
    LetterSignForm,
    TargetForm,
    in_languages,
    stance_form,
)
from petitions.letters.links import letter_id_from, letter_token
from petitions.letters.models import LetterDetails, LetterTarget
from petitions.letters.notifications import Recipient, letter_text, recipient_of
from petitions.organisers.access import (
    action_for_organiser,
    campaign_for_organiser,
    organiser_required,
)
from petitions.screening.checks import facts_from_form
from petitions.signing.forms import clean_source
from petitions.signing.services import ActionClosed
from petitions.tallies.queries import progress_for

bp = Blueprint("letters", __name__)

NO_STORE = {"Cache-Control": "no-store"}
THANKS_KEY = "letter_thanks"


@bp.app_template_global("letter_link")
def letter_link(signature_id: int) -> str | None:
    """The supporter's own letter page, for templates outside this area (confirm, My actions)."""
    letter = queries.letter_for_signature(signature_id)
    if letter is None:
        return None
    return url_for("letters.own_letter", token=letter_token(letter.id))


def _public_letter(slug: str, action_slug: str) -> tuple[Campaign, Action, LetterDetails]:
    action = campaign_queries.public_action(slug, action_slug)
    details = queries.details_of(action.id) if action is not None and action.is_letter else None
    if action is None or details is None:
        abort(404)
    return action.campaign, action, details


@dataclass
class Lookup:
    """Where the supporter's letter goes, worked out from the query string."""

    postcode: str = ""
    message: str = ""  # why we could not find one constituency
    choices: list[geo.Place] = field(default_factory=list)  # a split postcode
    by_name: bool = False  # offer the choose-by-name list
    place: geo.Place | None = None
    outside: bool = False  # not in the UK: no MP


def _lookup(details: LetterDetails) -> Lookup:
    found = Lookup(outside=request.args.get("outside") == "1")
    if not details.to_representative or found.outside:
        return found
    raw = (request.args.get("postcode") or "")[:16]
    code = (request.args.get("constituency") or "")[:16]
    found.postcode = postcodes.pretty(raw) if postcodes.is_full(raw) else raw.strip()
    if code:
        found.place = geo.place(code)
        if found.place is None:
            found.message = _("We don't know that constituency: choose it from the list.")
            found.by_name = True
        return found
    if not raw.strip():
        return found
    if postcodes.is_partial(raw):
        found.message = _(
            "That looks like part of a postcode. Enter your full postcode (like SW1A 1AA), "
            "or choose your constituency by name."
        )
        found.by_name = True
        return found
    if not postcodes.is_full(raw):
        found.message = _(
            "Enter a full UK postcode, like SW1A 1AA, or choose your constituency by name."
        )
        found.by_name = True
        return found
    places = geo.lookup(raw)
    if len(places) == 1:
        found.place = places[0]
    elif len(places) > 1:
        found.choices = places
    elif postcodes.is_northern_ireland(raw):
        found.message = _(
            "We couldn't find that Northern Ireland postcode. Choose your constituency by name "
            "below (Northern Ireland's 18 Westminster constituencies are listed)."
        )
        found.by_name = True
    else:
        found.message = _(
            "We couldn't find that postcode. Check it, or choose your constituency by name."
        )
        found.by_name = True
    return found


def _recipients(
    action: Action, details: LetterDetails, place: geo.Place | None
) -> list[tuple[LetterTarget, Recipient | None, str]]:
    """(target row, where it goes, label) for each recipient the supporter will write to."""
    return [(a.target, a.recipient, a.label) for a in intake.addressees(action, details, place)]


def _ready(details: LetterDetails, lookup: Lookup, recipients: list[Any]) -> bool:
    """Enough is known to write: the MP is found (or not needed) and someone receives it."""
    if details.to_representative and lookup.place is None and not lookup.outside:
        return False
    return any(r for _, r, _ in recipients)


def _prefill(details: LetterDetails, lookup: Lookup, place: geo.Place | None) -> tuple[str, bool]:
    """The suggested text, and whether it is the thank-you variant."""
    thanks = intake.uses_thank_you(details, intake.addressees(details.action, details, place))
    # The page's language: a Welsh writer starts from the organiser's Welsh letter, and what
    # they send is what they wrote (``Letter.body``), whichever language it is in.
    text = details.words("thank_you_template" if thanks else "template")
    values = {"postcode": lookup.postcode, "constituency": place.name if place else ""}
    for key, value in values.items():
        if value:
            text = text.replace("{" + key + "}", value)
    return text, thanks


def _render(
    campaign: Campaign,
    action: Action,
    details: LetterDetails,
    form: LetterSignForm | None = None,
    status: int = 200,
    error: str | None = None,
) -> tuple[str, int]:
    lookup = _lookup(details)
    if lookup.place is None and form is not None and form.constituency.data:
        lookup.place = geo.place(form.constituency.data[:16])  # a POST shown again
    recipients = _recipients(action, details, lookup.place)
    ready = _ready(details, lookup, recipients)
    text, thanks = _prefill(details, lookup, lookup.place)
    if form is None:
        form = LetterSignForm()
        form.source.data = clean_source(request.args.get("source"))
        form.message.data = text
        if lookup.postcode:
            form.postcode.data = lookup.postcode
        if lookup.outside:
            form.country.data = ""
    if lookup.place is not None:
        form.constituency.data = lookup.place.code
    return (
        render_template(
            "letters/letter.html",
            campaign=campaign,
            action=action,
            details=details,
            form=form,
            lookup=lookup,
            recipients=recipients,
            ready=ready,
            thanks_variant=thanks,
            constituencies=geo.constituencies() if lookup.by_name else [],
            progress=progress_for([action])[action.id],
            error=error,
            placeholders=services.PLACEHOLDERS,
        ),
        status,
    )


@bp.get("/l/<slug>/<action_slug>")
def letter_page(slug: str, action_slug: str) -> tuple[str, int]:
    campaign, action, details = _public_letter(slug, action_slug)
    page, status = _render(campaign, action, details)
    # A postcode we could not place is a clear 400 (the page says why and offers the list).
    if details.to_representative and _lookup(details).message:
        status = 400
    return page, status


@bp.post("/l/<slug>/<action_slug>")
@retry_on_disconnect  # a second run finds the same signature and replaces the words
def send(slug: str, action_slug: str) -> Response | tuple[str, int]:
    campaign, action, details = _public_letter(slug, action_slug)
    if not action.is_open():
        return render_template("signing/closed.html", campaign=campaign, action=action), 409
    form = LetterSignForm()
    code = (form.constituency.data or "")[:16]
    place = geo.place(code) if code else None
    if code and place is None:
        return _render(campaign, action, details, form, 400, _("Choose your constituency again."))
    if not form.validate():
        return _render(campaign, action, details, form, 400)
    data = form.signature_input(
        source=form.source.data or "", referrer="", ip_address=request.remote_addr
    )
    try:
        outcome = intake.submit_letter(
            action,
            details,
            data,
            message=form.message.data or "",
            personal=form.personal.data or "",
            place=place if details.to_representative else None,
            facts=facts_from_form(form, request.remote_addr),
        )
    except services.LetterError as exc:
        return _render(campaign, action, details, form, 400, str(exc))
    except ActionClosed:
        return render_template("signing/closed.html", campaign=campaign, action=action), 409
    session[THANKS_KEY] = [t.id for t in outcome.targets] if outcome.letter is not None else []
    return redirect(url_for("letters.thanks", slug=slug, action_slug=action_slug), code=303)


@bp.get("/l/<slug>/<action_slug>/thanks")
def thanks(slug: str, action_slug: str) -> tuple[str, int, dict[str, str]]:
    campaign, action, details = _public_letter(slug, action_slug)
    ids = [i for i in session.get(THANKS_KEY, []) if isinstance(i, int)]
    targets = [t for t in (queries.target_of(action.id, i) for i in ids[:20]) if t is not None]
    return (
        render_template(
            "letters/thanks.html",
            campaign=campaign,
            action=action,
            details=details,
            targets=targets,
            next_action=campaign_queries.next_action(campaign, action),
        ),
        200,
        NO_STORE,
    )


# --- the supporter's own letter: read it, send it yourself, "I sent it" ----------------------


def _own(token: str):  # type: ignore[no-untyped-def]
    letter_id = letter_id_from(token)
    letter = queries.letter_of(letter_id) if letter_id else None
    if letter is None:
        abort(404)
    return letter


@bp.route("/letter/<token>", methods=["GET", "POST"])
def own_letter(token: str) -> Response | tuple[str, int, dict[str, str]]:
    letter = _own(token)
    details = queries.details_of(letter.action_id)
    if details is None:
        abort(404)
    signature = letter.signature
    if request.method == "POST":
        if not ButtonForm().validate():
            abort(400)
        if not signature.is_confirmed:
            return (_("Confirm your email first: then your letter can be counted."), 409, NO_STORE)
        services.mark_self_sent(letter)
        flash(_("Thank you: your letter is counted."))
        return redirect(url_for("letters.own_letter", token=token), code=303)
    deliveries = {d.target_id: d for d in queries.deliveries_of(letter.id)}
    parts = []
    for target_id in letter.target_ids:
        target = queries.target_of(letter.action_id, int(target_id))
        recipient = recipient_of(target) if target is not None else None
        if target is None or recipient is None:
            continue
        delivered = deliveries.get(target.id)
        if target.removed_at is not None and (delivered is None or not delivered.delivered):
            continue  # the organiser took this recipient off before it was delivered
        text = letter_text(letter, recipient, signature.name, signature.postcode)
        text += f"\n\n{signature.name}\n{signature.postcode}"
        if letter.constituency_name:
            text += f" ({letter.constituency_name})"
        subject = services.fill(
            details.subject_for(letter.thank_you, signature.language),
            {
                "supporter_name": signature.name,
                "postcode": signature.postcode,
                "constituency": letter.constituency_name,
                "target_name": recipient.name,
                "target_title": recipient.title,
            },
        )
        mailto = f"mailto:{quote(recipient.email)}?subject={quote(subject)}&body={quote(text)}"
        parts.append({"target": target, "recipient": recipient, "text": text, "mailto": mailto})
    return (
        render_template(
            "letters/own.html",
            letter=letter,
            action=letter.action,
            details=details,
            signature=signature,
            parts=parts,
            deliveries=deliveries,
            form=ButtonForm(),
        ),
        200,
        NO_STORE,
    )


# --- organisers -------------------------------------------------------------------------------


def _other_languages() -> list[str]:
    return [code for code in i18n.enabled() if code != i18n.default_language()]


def _letter_form() -> Any:
    """The letter editor, with an "In …" fieldset per other language."""
    return in_languages(LetterForm, _other_languages())


def _target_form() -> Any:
    return in_languages(TargetForm, _other_languages())


def _letter_for_organiser(action_id: int) -> tuple[Action, LetterDetails]:
    action = action_for_organiser(action_id)
    details = queries.details_of(action.id) if action.is_letter else None
    if details is None:
        abort(404)
    return action, details


@bp.route("/organise/campaigns/<int:campaign_id>/letters/new", methods=["GET", "POST"])
@organiser_required
def new_letter(campaign_id: int) -> Response | tuple[str, int]:
    campaign = campaign_for_organiser(campaign_id)
    form = _letter_form()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                action = services.create_letter(campaign, form.letter_input())
            except services.LetterError as exc:
                error = str(exc)
            else:
                flash(_("Letter created. Add its recipients below."))
                return redirect(url_for("letters.manage", action_id=action.id), code=303)
        status = 400
    return render_template(
        "letters/letter_form.html",
        campaign=campaign,
        form=form,
        error=error,
        action=None,
        digest_hour=current_app.config["LETTER_DIGEST_HOUR"],
    ), status


@bp.route("/organise/letters/<int:action_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_letter(action_id: int) -> Response | tuple[str, int]:
    action, details = _letter_for_organiser(action_id)
    form = _letter_form()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                services.update_letter(action, details, form.letter_input())
            except services.LetterError as exc:
                error = str(exc)
            else:
                flash(_("Saved."))
                return redirect(url_for("letters.manage", action_id=action.id), code=303)
        status = 400
    else:
        form.title.data = action.title
        form.intro.data = action.text
        form.subject.data = details.subject
        form.template.data = details.template
        form.thank_you_template.data = details.thank_you_template
        form.thank_you_subject.data = details.thank_you_subject
        form.personal_prompt.data = details.personal_prompt
        form.personal_required.data = details.personal_required
        form.delivery_mode.data = details.delivery_mode
        form.to_representative.data = details.to_representative
        form.rate_per_minute.data = details.rate_per_minute
        form.digest.data = details.digest
        form.goal.data = action.goal
        form.deadline.data = action.deadline
        form.fill_translations(action.translations)
    return render_template(
        "letters/letter_form.html",
        campaign=action.campaign,
        form=form,
        error=error,
        action=action,
        digest_hour=current_app.config["LETTER_DIGEST_HOUR"],
    ), status


def _render_manage(
    action: Action,
    details: LetterDetails,
    target_form: TargetForm | None = None,
    status: int = 200,
    error: str | None = None,
) -> tuple[str, int, dict[str, str]]:
    counts = queries.counts_per_target(action.id)
    return (
        render_template(
            "letters/manage.html",
            action=action,
            campaign=action.campaign,
            details=details,
            counts=counts,
            stance_forms={c.target.id: stance_form(c.target) for c in counts},
            fixed=services.fixed_targets(action.id),
            constituencies=queries.counts_per_constituency(action.id),
            identical=queries.identical_letters(action.id),
            digest_waiting=queries.waiting_for_digest(action.id),
            digest_hour=current_app.config["LETTER_DIGEST_HOUR"],
            digest_form=ButtonForm(),
            target_form=target_form or TargetForm(),
            error=error,
            chart={
                "labels": [c.target.name or c.target.title for c in counts][:30],
                "letters": [c.letters for c in counts][:30],
                "delivered": [c.delivered for c in counts][:30],
            },
        ),
        status,
        NO_STORE,
    )


@bp.get("/organise/letters/<int:action_id>")
@organiser_required
def manage(action_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action, details = _letter_for_organiser(action_id)
    if request.args.get("format") == "csv":
        return _csv(action)
    return _render_manage(action, details)


@bp.post("/organise/letters/<int:action_id>/targets")
@organiser_required
def add_target(action_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action, details = _letter_for_organiser(action_id)
    form = TargetForm()
    if not form.validate():
        return _render_manage(action, details, form, 400, _("Check the recipient's details."))
    try:
        services.add_target(action, form.target_input())
    except services.LetterError as exc:
        return _render_manage(action, details, form, 400, str(exc))
    flash(_("Recipient added."))
    return redirect(url_for("letters.manage", action_id=action.id), code=303)


@bp.post("/organise/letters/<int:action_id>/targets/<int:target_id>/stance")
@organiser_required
def set_stance(action_id: int, target_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action, details = _letter_for_organiser(action_id)
    target = queries.target_of(action.id, target_id)
    if target is None:
        abort(404)
    form = stance_form(target)
    if not form.validate():
        return _render_manage(action, details, None, 400, _("Check the stance's details."))
    try:
        services.set_stance(
            target,
            form.stance.data or "",
            form.note.data or "",
            form.on.data,
            form.response.data or "",
        )
    except services.LetterError as exc:
        return _render_manage(action, details, None, 400, str(exc))
    flash(_("Stance saved for %(name)s.", name=target.name or target.title))
    return redirect(url_for("letters.manage", action_id=action.id), code=303)


@bp.post("/organise/letters/<int:action_id>/digest")
@organiser_required
def send_digest(action_id: int) -> Response:
    """Send what is waiting for today's digests now (the worker sends one email each)."""
    action, _details = _letter_for_organiser(action_id)
    if not ButtonForm().validate():
        abort(400)
    waiting = services.send_digest_now(action)
    if waiting:
        after_commit(nudge, DIGEST_TASK, key=("nudge", DIGEST_TASK))
        flash(
            ngettext(
                # The English keeps its "letter(s)"; other languages have their plural forms.
                "Sending %(num)d letter(s) now: one digest per recipient.",
                "Sending %(num)d letter(s) now: one digest per recipient.",
                waiting,
            )
        )
    else:
        flash(_("No letters are waiting for a digest."))
    return redirect(url_for("letters.manage", action_id=action.id), code=303)


def _fixed_target(action: Action, target_id: int) -> LetterTarget:
    target = queries.target_of(action.id, target_id)
    if target is None or target.is_representative or target.removed_at is not None:
        abort(404)
    return target


@bp.route("/organise/letters/<int:action_id>/targets/<int:target_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_target(action_id: int, target_id: int) -> Response | tuple[str, int, dict[str, str]]:
    action, _details = _letter_for_organiser(action_id)
    target = _fixed_target(action, target_id)
    form = _target_form()
    error = None
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                services.update_target(target, form.target_input())
            except services.LetterError as exc:
                error = str(exc)
            else:
                flash(_("Saved %(name)s.", name=target.name))
                return redirect(url_for("letters.manage", action_id=action.id), code=303)
        else:
            error = _("Check the recipient's details.")
        status = 400
    else:
        form.name.data = target.name
        form.title.data = target.title
        form.organisation.data = target.organisation
        form.email.data = target.email
        form.fill_translations(target.translations)
    return (
        render_template(
            "letters/target_form.html",
            action=action,
            campaign=action.campaign,
            target=target,
            form=form,
            remove_form=ButtonForm(),
            error=error,
        ),
        status,
        NO_STORE,
    )


@bp.post("/organise/letters/<int:action_id>/targets/<int:target_id>/remove")
@organiser_required
def remove_target(action_id: int, target_id: int) -> Response:
    action, _details = _letter_for_organiser(action_id)
    target = _fixed_target(action, target_id)
    if not ButtonForm().validate():
        abort(400)
    stopped = services.remove_target(target)
    removed = _("Removed %(name)s: new letters no longer go to them.", name=target.name)
    if stopped:
        removed += " " + ngettext(
            "%(num)d letter(s) not yet delivered to them will not be sent.",
            "%(num)d letter(s) not yet delivered to them will not be sent.",
            stopped,
        )
    flash(removed)
    return redirect(url_for("letters.manage", action_id=action.id), code=303)


def _csv(action: Action) -> Response:
    """One row per letter per target; every cell formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "letter_id",
            "name",
            "email",
            "postcode",
            "constituency",
            "target",
            "target_title",
            "target_organisation",
            "status",
            "confirmed_at",
            "sent_at",
            "identical_hash",
        ]
    )
    for letter, signature, delivery, target in queries.export_rows(action.id):
        writer.writerow(
            [
                letter.id,
                safe_cell(signature.name),
                safe_cell(signature.email),
                safe_cell(signature.postcode),
                safe_cell(letter.constituency_name),
                safe_cell(target.name),
                safe_cell(target.title),
                safe_cell(target.organisation),
                delivery.status,
                signature.confirmed_at.isoformat() if signature.confirmed_at else "",
                delivery.sent_at.isoformat() if delivery.sent_at else "",
                letter.body_hash[:12],
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{action.slug}-letters.csv"',
            **NO_STORE,
        },
    )
