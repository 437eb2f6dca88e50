from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField(
        _l("What the token is for"),
        validators=[DataRequired(_l("Name the token.")), Length(max=100)],
        render_kw={"placeholder": _l("e.g. CRM sync")},
    )


class RevokeForm(FlaskForm):
    pass
