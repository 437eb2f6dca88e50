"""Organiser pages: trending alerts, bulk invalidation (preview, run, progress, undo)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from petitions.abuse import review as review_queue
from petitions.abuse import services as invalidation
from petitions.abuse import trending
from petitions.abuse.forms import ButtonForm, InvalidateForm
from petitions.abuse.models import InvalidationJob, TrendingAlert
from petitions.audit.services import record
from petitions.core.ids import id_list
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.organisers.access import action_for_organiser, current_organiser, organiser_required

bp = Blueprint("abuse", __name__, url_prefix="/organise/actions/<int:action_id>")

MAX_DECISION = 1000  # signatures per approve or reject


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


def _criteria(form: InvalidateForm) -> invalidation.Criteria:
    return invalidation.Criteria(
        ip=form.ip.data or "",
        email_domain=(form.email_domain.data or "").lstrip("@").lower(),
        since=_utc(form.since.data),
        until=_utc(form.until.data),
        name_pattern=form.name_pattern.data or "",
        source=form.source.data or "",
    )


def _job(action_id: int, job_id: int) -> InvalidationJob:
    job = db.session.get(InvalidationJob, job_id)
    if job is None or job.action_id != action_id:
        abort(404)
    return job


@bp.get("/abuse")
@organiser_required
def overview(action_id: int) -> str:
    action = action_for_organiser(action_id)
    jobs = list(
        db.session.scalars(
            select(InvalidationJob)
            .where(InvalidationJob.action_id == action.id)
            .order_by(InvalidationJob.id.desc())
            .limit(50)
        )
    )
    return render_template(
        "abuse/overview.html",
        action=action,
        alerts=trending.open_alerts(action.id),
        held=review_queue.count_held([action.id]).get(action.id, 0),
        jobs=jobs,
        button=ButtonForm(),
    )


@bp.route("/invalidate", methods=["GET", "POST"])
@organiser_required
def invalidate(action_id: int) -> str | Response | tuple[str, int]:
    action = action_for_organiser(action_id)
    form = InvalidateForm()
    if request.method == "GET":
        form.ip.data = request.args.get("ip", "")[:64]
        form.email_domain.data = request.args.get("email_domain", "")[:254]
        return render_template("abuse/invalidate.html", action=action, form=form, preview=None)
    if not form.validate():
        return render_template("abuse/invalidate.html", action=action, form=form, preview=None), 400
    criteria = _criteria(form)
    if form.step.data != "run":
        count = invalidation.count_matching(action.id, criteria)
        sample = invalidation.sample_matching(action.id, criteria)
        form.step.data = "run"
        return render_template(
            "abuse/invalidate.html",
            action=action,
            form=form,
            preview={"count": count, "sample": sample, "criteria": criteria.describe()},
        )
    organiser = current_organiser()
    job = invalidation.create_job(action.id, criteria, organiser.id, form.reason.data or "")
    record(
        "signatures.invalidate",
        organiser_id=organiser.id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        detail={"job_id": job.id, "criteria": criteria.to_json(), "matched": job.matched},
    )
    after_commit(invalidation.dispatch, invalidation.RUN_TASK, job.id)
    return redirect(url_for("abuse.job", action_id=action.id, job_id=job.id), code=303)


@bp.get("/invalidate/jobs/<int:job_id>")
@organiser_required
def job(action_id: int, job_id: int) -> str | Response:
    action = action_for_organiser(action_id)
    job = _job(action.id, job_id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(
            {
                "id": job.id,
                "status": job.status,
                "matched": job.matched,
                "processed": job.processed,
                "changed": job.changed,
                "restored": job.restored,
                "progress": job.progress,
            }
        )
    criteria = invalidation.Criteria.from_json(job.criteria).describe()
    return render_template(
        "abuse/job.html", action=action, job=job, criteria=criteria, button=ButtonForm()
    )


@bp.post("/invalidate/jobs/<int:job_id>/undo")
@organiser_required
def undo(action_id: int, job_id: int) -> Response:
    action = action_for_organiser(action_id)
    job = _job(action.id, job_id)
    if not ButtonForm().validate():
        abort(400)
    if invalidation.request_undo(job):
        record(
            "signatures.invalidate.undo",
            organiser_id=current_organiser().id,
            campaign_id=action.campaign_id,
            action_id=action.id,
            detail={"job_id": job.id},
        )
        after_commit(invalidation.dispatch, invalidation.UNDO_TASK, job.id)
        flash(_("Undo started: the signatures are being restored."), "info")
    else:
        flash(_("Only a finished job can be undone."), "error")
    return redirect(url_for("abuse.job", action_id=action.id, job_id=job.id), code=303)


@bp.post("/alerts/<int:alert_id>/dismiss")
@organiser_required
def dismiss(action_id: int, alert_id: int) -> Response:
    action = action_for_organiser(action_id)
    alert = db.session.get(TrendingAlert, alert_id)
    if alert is None or alert.action_id != action.id:
        abort(404)
    if not ButtonForm().validate():
        abort(400)
    trending.dismiss(alert)
    return redirect(url_for("abuse.overview", action_id=action.id), code=303)


@bp.app_context_processor
def _alerts_helper() -> dict[str, Any]:
    """``abuse_alerts(campaign, action)`` for the organiser dashboard's alert banner."""

    def abuse_alerts(campaign: Any, action: Any = None) -> list[dict[str, Any]]:
        actions = [action] if action is not None else list(campaign.actions)
        counts = trending.open_alert_counts([a.id for a in actions])
        return [
            {
                "title": a.title,
                "count": counts[a.id],
                "url": url_for("abuse.overview", action_id=a.id),
            }
            for a in actions
            if counts.get(a.id)
        ]

    return {"abuse_alerts": abuse_alerts}


@bp.get("/review")
@organiser_required
def review(action_id: int) -> str:
    action = action_for_organiser(action_id)
    held = review_queue.held_signatures(action.id)
    return render_template(
        "abuse/review.html",
        action=action,
        held=held,
        held_total=review_queue.count_held([action.id]).get(action.id, 0),
        flagged=review_queue.flagged_signatures(action.id),
        page_size=review_queue.PAGE_SIZE,
        button=ButtonForm(),
    )


@bp.post("/review/<any(approve, reject):decision>")
@organiser_required
def review_decide(action_id: int, decision: str) -> Response:
    action = action_for_organiser(action_id)
    if not ButtonForm().validate():
        abort(400)
    if request.form.get("scope") == "all":
        ids = [s.id for s in review_queue.held_signatures(action.id, limit=MAX_DECISION)]
    else:
        ids = id_list(request.form, "ids")[:MAX_DECISION]
    decide = review_queue.approve if decision == "approve" else review_queue.reject
    changed = decide(action, ids, organiser_id=current_organiser().id)
    if decision == "approve":
        message = ngettext(
            "%(num)d signature approved: their confirmation emails are on the way.",
            "%(num)d signatures approved: their confirmation emails are on the way.",
            len(changed),
        )
    else:
        message = ngettext(
            "%(num)d signature rejected.", "%(num)d signatures rejected.", len(changed)
        )
    flash(message, "info")
    return redirect(url_for("abuse.review", action_id=action.id), code=303)
