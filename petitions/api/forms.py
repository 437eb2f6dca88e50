from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenForm(FlaskForm):
    name = StringField(
        "What the token is for",
        validators=[DataRequired("Name the token."), Length(max=100)],
        render_kw={"placeholder": "e.g. CRM sync"},
    )


class RevokeForm(FlaskForm):
    pass
