from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from petitions.core.emails import EmailError, normalise_email
from petitions.core.forms import ButtonForm  # noqa: F401 (used by this area's views)


class SigninRequestForm(FlaskForm):
    email = StringField(
        _l("Email address"),
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    email_normalised = ""

    def validate_email(self, field: Any) -> None:
        try:
            self.email_normalised = normalise_email(field.data or "")
        except EmailError as exc:
            raise ValidationError(str(exc)) from exc


class PreferencesForm(FlaskForm):
    """``all_email`` plus one ``campaign-<id>`` checkbox per campaign, read from the request."""

    all_email = BooleanField(_l("Email me about the campaigns I chose"))


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand this cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
