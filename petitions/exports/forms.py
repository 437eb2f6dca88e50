"""The hand-in form: how to group the signatures and which language to write the PDF in (each
a choice from a fixed list)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from petitions.core.i18n import NATIVE_NAMES, current_language, enabled
from petitions.exports.handin import GROUPINGS


class HandinForm(FlaskForm):
    grouping = SelectField(
        _l("Signatures"),
        choices=[SelectChoice(value, _l(label)) for value, label in GROUPINGS.items()],
        default="",
        validate_choice=True,
    )
    # The enabled languages, each in its own words; an older page without it gets the page's.
    language = SelectField(
        _l("Language of the hand-in"), default=current_language, validate_choice=True
    )

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.language.choices = [  # type: ignore[assignment]
            (code, NATIVE_NAMES.get(code, code)) for code in enabled()
        ]

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return _("The form could not be read.")
