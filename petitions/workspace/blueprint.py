"""Building campaigns, previewing drafts, closing actions, managing signatures."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.campaigns import services
from petitions.campaigns.images import MAX_HERO_BYTES, HeroError
from petitions.campaigns.models import Campaign, CampaignUpdate
from petitions.campaigns.services import DEFAULT_CONSENT, DEFAULT_CONSENT_IN
from petitions.core import i18n
from petitions.core.forms import ButtonForm
from petitions.core.i18n import N_
from petitions.core.ids import id_arg, id_list
from petitions.dashboards.queries import action_totals
from petitions.extensions import db
from petitions.organisers import queries as organiser_queries
from petitions.organisers import services as organiser_services
from petitions.organisers.access import (
    action_for_organiser,
    admin_required,
    campaign_for_organiser,
    current_organiser,
    organiser_required,
)
from petitions.organisers.models import Organiser
from petitions.signing.forms import SignForm
from petitions.signing.queries import undelivered_confirmations
from petitions.supporters import consent
from petitions.tallies.queries import pledge_counts, progress_for
from petitions.workspace import queries as signature_queries
from petitions.workspace import services as signature_services
from petitions.workspace.forms import (
    ACTION_TRANSLATABLE,
    CAMPAIGN_TRANSLATABLE,
    UPDATE_TRANSLATABLE,
    ActionForm,
    CampaignForm,
    ShareForm,
    UpdateForm,
    slugify,
    with_translations,
)

bp = Blueprint("workspace", __name__, url_prefix="/organise/campaigns")

# What the flash says once a campaign's status is changed (translated where it is shown).
STATUS_CHANGED = {"live": N_("Published."), "draft": N_("Back to draft."), "closed": N_("Closed.")}
SEARCH_KEYS = ("name", "email", "domain", "source", "from", "to", "state")


def _to_campaign(campaign: Campaign, code: int = 303) -> Response:
    return redirect(url_for("workspace.campaign", campaign_id=campaign.id), code=code)


# --- campaigns --------------------------------------------------------------------------------


def _campaign_fields(form: Any, slug: str) -> dict[str, Any]:
    """What the campaign form says, as ``services.save_campaign`` takes it."""
    upload = form.hero.data
    hero = upload.read(MAX_HERO_BYTES + 1) if upload and getattr(upload, "filename", "") else None
    return {
        "hero": hero,
        "hero_alt": form.hero_alt.data or "",
        "remove_hero": bool(form.remove_hero.data),
        "title": form.title.data or "",
        "slug": slug,
        "summary": form.summary.data or "",
        "body": form.body.data or "",
        "image_url": form.image_url.data,
        "status": form.status.data,
        "translations": form.translations(),
    }


@bp.url_value_preprocessor  # before any before_request reads the body
def _allow_hero_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if (
        endpoint in ("workspace.new_campaign", "workspace.edit_campaign")
        and request.method == "POST"
    ):
        request.max_content_length = MAX_HERO_BYTES + 256 * 1024  # the image and the form


@bp.get("/<int:campaign_id>/hero.jpg")
@organiser_required
def hero_image(campaign_id: int) -> Response:
    """The hero image for organisers (a draft's preview); the public one is the site's."""
    found = campaign_for_organiser(campaign_id)
    if not found.hero_jpeg:
        abort(404)
    return Response(
        found.hero_jpeg, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=300"}
    )


def _campaign_form(**kwargs: Any) -> Any:
    return with_translations(CampaignForm, CAMPAIGN_TRANSLATABLE, _other_languages())(**kwargs)


def _action_form(**kwargs: Any) -> Any:
    return with_translations(ActionForm, ACTION_TRANSLATABLE, _other_languages())(**kwargs)


def _other_languages() -> list[str]:
    return [code for code in i18n.enabled() if code != i18n.default_language()]


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new_campaign() -> Response | tuple[str, int]:
    form = _campaign_form()
    if form.validate_on_submit():
        slug = form.slug.data or slugify(form.title.data or "")
        try:
            campaign = services.save_campaign(
                None, owner_id=current_organiser().id, **_campaign_fields(form, slug)
            )
        except services.SlugTaken:
            form.slug.errors = [_("Another campaign uses that web address.")]
        except HeroError as exc:
            form.hero.errors = [str(exc)]
        else:
            flash(_("Campaign created. Add a petition or a pledge next."), "info")
            return _to_campaign(campaign)
    return render_template("workspace/campaign_form.html", form=form, campaign=None), (
        400 if form.errors else 200
    )


@bp.get("/<int:campaign_id>")
@organiser_required
def campaign(campaign_id: int) -> str:
    found = campaign_for_organiser(campaign_id)
    admin = current_organiser().is_admin
    return render_template(
        "workspace/campaign.html",
        campaign=found,
        totals=action_totals([a.id for a in found.actions]),
        button=ButtonForm(),
        owner=db.session.get(Organiser, found.owner_id) if found.owner_id else None,
        people=organiser_queries.people_with_access(found.id) if admin else [],
        share_form=ShareForm() if admin else None,
    )


@bp.post("/<int:campaign_id>/access")
@admin_required
def share(campaign_id: int) -> Response:
    found = campaign_for_organiser(campaign_id)
    form = ShareForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        person = organiser_services.grant_access(found.id, form.email.data or "")
    except organiser_services.AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(_("%(email)s can now work on this campaign.", email=person.email), "info")
    return _to_campaign(found)


@bp.post("/<int:campaign_id>/access/<int:organiser_id>/remove")
@admin_required
def unshare(campaign_id: int, organiser_id: int) -> Response:
    found = campaign_for_organiser(campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    organiser_services.revoke_access(found.id, organiser_id)
    flash(_("Access removed."), "info")
    return _to_campaign(found)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_campaign(campaign_id: int) -> Response | tuple[str, int]:
    found = campaign_for_organiser(campaign_id)
    form = _campaign_form(obj=found)
    if request.method == "GET":
        form.fill_translations(found)
    if form.validate_on_submit():
        try:
            services.save_campaign(
                found,
                owner_id=found.owner_id or current_organiser().id,
                **_campaign_fields(form, form.slug.data or found.slug),
            )
        except services.SlugTaken:
            form.slug.errors = [_("Another campaign uses that web address.")]
        except HeroError as exc:
            form.hero.errors = [str(exc)]
        else:
            flash(_("Saved."), "info")
            return _to_campaign(found)
    return render_template("workspace/campaign_form.html", form=form, campaign=found), (
        400 if form.errors else 200
    )


@bp.post("/<int:campaign_id>/status/<status>")
@organiser_required
def set_status(campaign_id: int, status: str) -> Response:
    found = campaign_for_organiser(campaign_id)
    if not ButtonForm().validate_on_submit() or status not in ("draft", "live", "closed"):
        abort(400)
    services.set_campaign_status(found, status)
    flash(_(STATUS_CHANGED[status]), "info")
    return _to_campaign(found)


@bp.get("/<int:campaign_id>/preview")
@organiser_required
def preview_campaign(campaign_id: int) -> str:
    found = campaign_for_organiser(campaign_id)
    return render_template(
        "workspace/preview_campaign.html",
        campaign=found,
        preview=True,
        progress=progress_for(found.actions),
    )


# --- actions ----------------------------------------------------------------------------------


def _action_values(form: ActionForm) -> dict[str, object]:
    return {
        "kind": form.kind.data,
        "title": form.title.data or "",
        "slug": form.slug.data or slugify(form.title.data or "", fallback="action"),
        "target": form.target.data or "",
        "text": form.text.data or "",
        "goal": form.goal.data or 1,
        "deadline": form.deadline.data,
        "pledge_options": form.options(),
        "consent": form.consent.data or DEFAULT_CONSENT,
        "thank_you": form.thank_you.data or "",
        "position": form.position.data or 0,
        "translations": form.translations(),
    }


@bp.route("/<int:campaign_id>/actions/new", methods=["GET", "POST"])
@organiser_required
def new_action(campaign_id: int) -> Response | tuple[str, int]:
    found = campaign_for_organiser(campaign_id)
    form = _action_form()
    if request.method == "GET":
        form.consent.data = DEFAULT_CONSENT
        for language in form.languages:
            form[f"consent__{language}"].data = DEFAULT_CONSENT_IN.get(language, "")
        form.position.data = len(found.actions) + 1
    if form.validate_on_submit():
        try:
            services.save_action(found, None, **_action_values(form))  # type: ignore[arg-type]
        except services.SlugTaken:
            form.slug.errors = [_("Another action in this campaign uses that web address.")]
        except services.PledgeOptionsMismatch as exc:
            form[f"pledge_options__{exc.language}"].errors = [str(exc)]
        else:
            flash(_("Action added."), "info")
            return _to_campaign(found)
    return render_template("workspace/action_form.html", form=form, campaign=found, action=None), (
        400 if form.errors else 200
    )


@bp.route("/<int:campaign_id>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_action(campaign_id: int, action_id: int) -> Response | tuple[str, int]:
    action = action_for_organiser(action_id, campaign_id)
    form = _action_form(obj=action, current_deadline=action.deadline)
    if request.method == "GET":
        form.fill_translations(action)
        form.pledge_options.data = "\n".join(action.pledge_options or [])
        form.consent.data = action.consent_version.text if action.consent_version else ""
        for language in form.languages:
            form[f"consent__{language}"].data = action.consent_written_in(language)
    if form.validate_on_submit():
        try:
            services.save_action(action.campaign, action, **_action_values(form))  # type: ignore[arg-type]
        except services.SlugTaken:
            form.slug.errors = [_("Another action in this campaign uses that web address.")]
        except services.PledgeOptionsMismatch as exc:
            form[f"pledge_options__{exc.language}"].errors = [str(exc)]
        else:
            flash(_("Saved."), "info")
            return _to_campaign(action.campaign)
    return render_template(
        "workspace/action_form.html", form=form, campaign=action.campaign, action=action
    ), (400 if form.errors else 200)


@bp.route("/<int:campaign_id>/actions/<int:action_id>/preview", methods=["GET", "POST"])
@organiser_required
def preview_action(campaign_id: int, action_id: int) -> tuple[str, int]:
    """The public page with its live form, open or not. Submitting it checks the form as the
    live page does and says so, but stores nothing and sends nothing."""
    action = action_for_organiser(action_id, campaign_id)
    form = SignForm(pledge_options=action.pledge_options)
    submitted = request.method == "POST"
    if submitted:
        form.validate()
    return render_template(
        "workspace/preview_action.html",
        campaign=action.campaign,
        action=action,
        form=form,
        preview=True,
        preview_submitted=submitted,
        preview_action_url=url_for(
            "workspace.preview_action", campaign_id=campaign_id, action_id=action_id
        ),
        progress=progress_for([action])[action.id],
        pledges=pledge_counts([action]).get(action.id, []),
    ), (400 if form.errors else 200)


@bp.route(
    "/<int:campaign_id>/actions/<int:action_id>/<any(close, reopen):change>",
    methods=["GET", "POST"],
)
@organiser_required
def close_action(campaign_id: int, action_id: int, change: str) -> Response | str:
    action = action_for_organiser(action_id, campaign_id)
    if request.method == "GET":  # closing asks once, on a page (no script dialog)
        if change != "close":
            return _to_campaign(action.campaign)
        totals = action_totals([action.id])[action.id]
        return render_template(
            "confirm.html",
            heading=_("Close \u201c%(title)s\u201d?", title=action.title),
            detail=_(
                "It has %(confirmed)s confirmed and %(pending)s waiting. Once closed, nobody can "
                "sign, and signatures still waiting can no longer be confirmed. You can reopen it "
                "later, but links people were sent meanwhile will have told them it was closed.",
                confirmed=format_decimal(totals.confirmed),
                pending=format_decimal(totals.pending),
            ),
            action=url_for(
                "workspace.close_action",
                campaign_id=campaign_id,
                action_id=action_id,
                change="close",
            ),
            form=ButtonForm(),
            button=_("Close it"),
            danger=True,
            back=url_for("workspace.campaign", campaign_id=campaign_id),
        )
    if not ButtonForm().validate_on_submit():
        abort(400)
    if change == "close":
        services.close_action(action)
        flash(_("Closed: no new signatures or confirmations are accepted."), "info")
    else:
        services.reopen_action(action)
        flash(_("Reopened."), "info")
    return _to_campaign(action.campaign)


# --- updates ----------------------------------------------------------------------------------


def _update_of(campaign: Campaign, update_id: int) -> CampaignUpdate:
    update = db.session.get(CampaignUpdate, update_id)
    if update is None or update.campaign_id != campaign.id:
        abort(404)
    return update


@bp.route("/<int:campaign_id>/updates/new", methods=["GET", "POST"])
@bp.route("/<int:campaign_id>/updates/<int:update_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_update(campaign_id: int, update_id: int | None = None) -> Response | tuple[str, int]:
    found = campaign_for_organiser(campaign_id)
    update = _update_of(found, update_id) if update_id else None
    form = with_translations(UpdateForm, UPDATE_TRANSLATABLE, _other_languages())(obj=update)
    if request.method == "GET" and update is not None:
        form.fill_translations(update)
    if form.validate_on_submit():
        services.save_update(
            found,
            update,
            title=form.title.data or "",
            body=form.body.data or "",
            published_at=form.published_at.data,
            translations=form.translations(),
        )
        flash(_("Update saved."), "info")
        return _to_campaign(found)
    return render_template(
        "workspace/update_form.html", form=form, campaign=found, update=update
    ), (400 if form.errors else 200)


@bp.post("/<int:campaign_id>/updates/<int:update_id>/delete")
@organiser_required
def delete_update(campaign_id: int, update_id: int) -> Response:
    found = campaign_for_organiser(campaign_id)
    update = _update_of(found, update_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.delete_update(update)
    flash(_("Update deleted."), "info")
    return _to_campaign(found)


# --- signatures -------------------------------------------------------------------------------


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _search_from_args() -> signature_queries.SignatureSearch:
    args = request.args
    state = args.get("state", "all")
    return signature_queries.SignatureSearch(
        name=(args.get("name") or "").strip()[:100],
        email=(args.get("email") or "").strip()[:254],
        domain=(args.get("domain") or "").strip()[:254],
        source=(args.get("source") or "").strip()[:64],
        date_from=_parse_date(args.get("from")),
        date_to=_parse_date(args.get("to")),
        state=state if state in ("all", *signature_queries.SEARCH_STATES) else "all",
        before_id=id_arg(args, "before"),
    )


@bp.get("/<int:campaign_id>/actions/<int:action_id>/signatures")
@organiser_required
def signatures(campaign_id: int, action_id: int) -> str:
    action = action_for_organiser(action_id, campaign_id)
    search = _search_from_args()
    rows = signature_queries.search_signatures(action, search)
    return render_template(
        "workspace/signatures.html",
        campaign=action.campaign,
        action=action,
        search=search,
        states=("all", *signature_queries.SEARCH_STATES),
        rows=rows,
        matches=signature_queries.count_matches(action, search),
        undelivered=undelivered_confirmations(action.id),
        more=len(rows) == signature_queries.PAGE_SIZE,
        button=ButtonForm(),
        args={k: v for k, v in request.args.items() if k in SEARCH_KEYS},
    )


@bp.get("/<int:campaign_id>/actions/<int:action_id>/signatures/<int:signature_id>")
@organiser_required
def signature(campaign_id: int, action_id: int, signature_id: int) -> str:
    action = action_for_organiser(action_id, campaign_id)
    found = signature_queries.signature_of(action, signature_id)
    if found is None:
        abort(404)
    return render_template(
        "workspace/signature.html",
        campaign=action.campaign,
        action=action,
        signature=found,
        consenting=found.id in consent.consenting_signatures([found.id]),
        consent_history=consent.history(found.email_normalised, action.campaign_id),
        button=ButtonForm(),
    )


@bp.post("/<int:campaign_id>/actions/<int:action_id>/signatures/<any(invalidate, restore):change>")
@organiser_required
def change_signatures(campaign_id: int, action_id: int, change: str) -> Response:
    action = action_for_organiser(action_id, campaign_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    ids = id_list(request.form, "ids")
    reason = (request.form.get("reason") or "").strip()[:200]
    apply = (
        signature_services.invalidate_signatures
        if change == "invalidate"
        else signature_services.restore_signatures
    )
    changed = apply(
        action,
        ids,
        organiser_id=current_organiser().id,
        reason=reason,
        ip_address=request.remote_addr,
    )
    if change == "invalidate":
        done = ngettext(
            "%(num)d signature invalidated.", "%(num)d signatures invalidated.", len(changed)
        )
    else:
        done = ngettext("%(num)d signature restored.", "%(num)d signatures restored.", len(changed))
    flash(done, "info")
    back = request.form.get("back") or ""
    if back.startswith("/organise/") and not back.startswith("//"):
        return redirect(back, code=303)
    return redirect(
        url_for("workspace.signatures", campaign_id=campaign_id, action_id=action_id), code=303
    )
