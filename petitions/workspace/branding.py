"""The operator's branding page (admins) and the logo and colour the site serves from it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, StringField, URLField
from wtforms.validators import URL, Length, Optional, ValidationError

from petitions.branding import queries, services
from petitions.branding.models import DEFAULT_COLOUR
from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.organisers.access import admin_required

bp = Blueprint("branding", __name__)

UPLOAD_LIMIT = 3 * 1024 * 1024  # this form only: a 2 MB logo plus the rest of the form


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise ValidationError(_l("Use letters, numbers and punctuation only (no line breaks)."))


def _https(form: Any, field: Any) -> None:
    if field.data and not field.data.startswith("https://"):
        raise ValidationError(_l("Use an https:// address."))


class BrandingForm(FlaskForm):
    org_name = StringField(
        _l("Organisation's name"),
        validators=[Length(max=120, message=_l("At most 120 characters.")), _one_line],
        description=_l("Shown in the header of every page and in emails."),
    )
    colour = StringField(
        _l("Main colour"),
        validators=[Length(max=7)],
        description=_l(
            "The header, buttons and links. # and six hex digits, e.g. #0b5cab; white "
            "text on it must have a contrast of at least 4.5:1."
        ),
        render_kw={"type": "color"},
    )
    logo = FileField(
        _l("Logo"),
        description=_l(
            "PNG, JPEG, GIF or WebP, at most 2 MB. It is shrunk to fit 480 × 160 "
            "pixels and saved again without its metadata."
        ),
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"},
    )
    remove_logo = BooleanField(_l("Remove the logo"))
    privacy_url = URLField(
        _l("Privacy policy (link)"),
        validators=[Optional(), Length(max=500), URL(require_tld=False), _https],
    )
    contact_url = URLField(
        _l("Contact page (link)"),
        validators=[Optional(), Length(max=500), URL(require_tld=False), _https],
    )
    charity_number = StringField(
        _l("Registered charity number"),
        validators=[Optional(), Length(max=60), _one_line],
        description=_l("Shown in the footer of pages and emails, e.g. 1234567."),
    )
    sender_name = StringField(
        _l("Emails come from (name)"),
        validators=[Optional(), Length(max=120), _one_line],
        description=_l("The name people see in their inbox; the address stays the configured one."),
    )


@bp.url_value_preprocessor  # runs before every before_request (which may read the form)
def _allow_logo_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if endpoint == "branding.settings" and request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT


@bp.route("/organise/branding", methods=["GET", "POST"])
@admin_required
def settings() -> BaseResponse | tuple[str, int]:
    brand = queries.current()
    form = BrandingForm()
    if request.method == "GET":
        form.org_name.data = brand.org_name
        form.colour.data = brand.colour
        form.privacy_url.data = brand.privacy_url
        form.contact_url.data = brand.contact_url
        form.charity_number.data = brand.charity_number
        form.sender_name.data = brand.sender_name
    elif form.validate_on_submit():
        upload = form.logo.data
        data = upload.read(services.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
        try:
            services.save(
                org_name=form.org_name.data or "",
                colour=form.colour.data or DEFAULT_COLOUR,
                privacy_url=form.privacy_url.data or "",
                contact_url=form.contact_url.data or "",
                charity_number=form.charity_number.data or "",
                sender_name=form.sender_name.data or "",
                logo=data,
                remove_logo=bool(form.remove_logo.data),
            )
        except services.BrandingError as exc:
            form[exc.field].errors = [str(exc)]
        else:
            flash(_("Branding saved: every page and email uses it now."), "info")
            return redirect(url_for("branding.settings"), code=303)
    return render_template("workspace/branding.html", form=form, brand=brand), (
        400 if form.errors else 200
    )


@bp.get("/branding/logo.png")
def logo() -> Response:
    data = queries.logo()
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/branding.css")
def stylesheet() -> Response:
    """The main colour as a CSS variable (inline styles are not allowed by the CSP)."""
    try:
        colour = services.check_colour(queries.current().colour)
    except services.BrandingError:
        colour = DEFAULT_COLOUR
    css = f":root {{ --brand: {colour}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
