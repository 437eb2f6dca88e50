"""Organisers' API tokens: /organise/api-tokens. A new token is shown once, never again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from petitions.api import tokens
from petitions.api.forms import RevokeForm, TokenForm
from petitions.api.models import ApiToken
from petitions.core.web import no_store
from petitions.extensions import db
from petitions.organisers.access import current_organiser, organiser_required

bp = Blueprint("api_tokens", __name__, url_prefix="/organise/api-tokens")


bp.after_request(no_store)


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    organiser = current_organiser()
    return (
        render_template(
            "api/tokens.html",
            form=form,
            revoke_form=RevokeForm(),
            tokens=tokens.tokens_of(organiser),
            new_token=new_token,
        ),
        status,
    )


@bp.get("")
@organiser_required
def index():
    return _page(TokenForm())


@bp.post("")
@organiser_required
def create():
    form = TokenForm()
    if not form.validate():
        return _page(form, status=400)
    _, raw = tokens.create_token(current_organiser(), form.name.data or "")
    # Rendered, not redirected: the raw token exists only in this response.
    return _page(TokenForm(formdata=None), new_token=raw, status=201)


@bp.post("/<int:token_id>/revoke")
@organiser_required
def revoke(token_id: int) -> Response:
    form = RevokeForm()
    if not form.validate():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.organiser_id != current_organiser().id:
        abort(404)
    tokens.revoke_token(token)
    flash(_("Token “%(name)s” revoked: it no longer works.", name=token.name), "info")
    return redirect(url_for("api_tokens.index"), code=303)
