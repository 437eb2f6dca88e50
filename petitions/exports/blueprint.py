"""Asking for a CSV export, watching it run, and downloading it (only its requester)."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from petitions.audit.services import record
from petitions.core.forms import ButtonForm
from petitions.core.unit_of_work import after_commit
from petitions.exports import services
from petitions.exports.forms import HandinForm
from petitions.exports.models import ExportJob, ExportKind
from petitions.extensions import db
from petitions.organisers.access import (
    action_for_organiser,
    campaign_for_organiser,
    current_organiser,
    organiser_required,
)

bp = Blueprint("exports", __name__, url_prefix="/organise")


def _my_job(export_id: int) -> ExportJob:
    """The export, if the current organiser asked for it and still has the campaign."""
    job = db.session.get(ExportJob, export_id)
    if job is None or job.organiser_id != current_organiser().id:
        abort(404)
    campaign_for_organiser(job.action.campaign_id)
    return job


@bp.route("/campaigns/<int:campaign_id>/actions/<int:action_id>/exports", methods=["GET", "POST"])
@organiser_required
def action_exports(campaign_id: int, action_id: int) -> Response | str:
    action = action_for_organiser(action_id, campaign_id)
    form = ButtonForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        job = services.request_export(action, current_organiser().id, request.remote_addr)
        after_commit(services.dispatch, job.id)
        return redirect(url_for("exports.export", export_id=job.id), code=303)
    return render_template(
        "exports/list.html",
        campaign=action.campaign,
        action=action,
        jobs=services.jobs_for(current_organiser().id, action.id),
        form=form,
        handin_form=HandinForm(formdata=None),
    )


@bp.post("/campaigns/<int:campaign_id>/actions/<int:action_id>/handin")
@organiser_required
def action_handin(campaign_id: int, action_id: int) -> Response:
    """Ask for the hand-in PDF (built by the worker, like the CSV)."""
    action = action_for_organiser(action_id, campaign_id)
    form = HandinForm()
    if not form.validate_on_submit():
        abort(400, description=form.first_error())
    job = services.request_export(
        action,
        current_organiser().id,
        request.remote_addr,
        kind=ExportKind.HANDIN,
        grouping=form.grouping.data or "",
        language=form.language.data,
    )
    after_commit(services.dispatch, job.id)
    return redirect(url_for("exports.export", export_id=job.id), code=303)


@bp.get("/exports/<int:export_id>")
@organiser_required
def export(export_id: int) -> str:
    job = _my_job(export_id)
    return render_template(
        "exports/export.html",
        job=job,
        action=job.action,
        campaign=job.action.campaign,
        ready=services.file_of(job) is not None,
    )


@bp.get("/exports/<int:export_id>.json")
@organiser_required
def export_json(export_id: int) -> Response:
    job = _my_job(export_id)
    ready = services.file_of(job) is not None
    return jsonify(
        {
            "status": job.status,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "ready": ready,
            "download_url": url_for("exports.download", export_id=job.id) if ready else None,
        }
    )


@bp.get("/exports/<int:export_id>/download")
@organiser_required
def download(export_id: int) -> Response:
    job = _my_job(export_id)
    path = services.file_of(job)
    if path is None:
        abort(410 if job.status in ("done", "expired") else 404)
    record(
        "export.download",
        organiser_id=current_organiser().id,
        campaign_id=job.action.campaign_id,
        action_id=job.action_id,
        detail={"export_id": job.id, "rows": job.done},
        ip_address=request.remote_addr,
    )
    if job.is_handin:
        name = f"{job.action.slug}-hand-in-{job.created_at:%Y%m%d-%H%M}.pdf"
        mimetype = "application/pdf"
    else:
        name = f"{job.action.slug}-signatures-{job.created_at:%Y%m%d-%H%M}.csv"
        mimetype = "text/csv"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
