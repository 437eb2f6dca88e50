from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length


class OriginsForm(FlaskForm):
    origins = TextAreaField(
        _l("Sites allowed to show the embed"),
        validators=[Length(max=5000)],
        render_kw={"rows": 5, "placeholder": "https://www.example.org"},
    )
