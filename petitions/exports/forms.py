"""The hand-in form: how to group the signatures (a choice from a fixed list)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from petitions.exports.handin import GROUPINGS


class HandinForm(FlaskForm):
    grouping = SelectField(
        _l("Signatures"),
        choices=[SelectChoice(value, _l(label)) for value, label in GROUPINGS.items()],
        default="",
        validate_choice=True,
    )

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return _("The form could not be read.")
