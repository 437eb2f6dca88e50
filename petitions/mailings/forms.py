from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import DataRequired

from petitions.core.ids import valid_id


class SendUpdateForm(FlaskForm):
    update_id = IntegerField(validators=[DataRequired(), valid_id])


class ControlForm(FlaskForm):
    """Pause, resume or cancel: only the CSRF token."""
