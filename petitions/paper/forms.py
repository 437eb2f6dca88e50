"""The organiser's forms for paper signatures and offline tallies."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.core.time import utcnow
from petitions.signing.forms import country_choices, country_codes
from petitions.signing.postcodes import PostcodeError, normalise_postcode

TALLY_MAX = 1_000_000
EARLIEST = date(2000, 1, 1)


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise ValidationError(_("Use letters, numbers and punctuation only (no line breaks)."))


def _text(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
        raise ValidationError(_("Remove the invisible or control characters."))


class CountField(IntegerField):
    """A whole number whose errors say what is wrong."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        raw = str((valuelist[0] if valuelist else "") or "").strip().replace(",", "")
        if not raw:
            return
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            raise ValueError(
                _(
                    "Enter how many signatures, a whole number from 1 to %(max)s.",
                    max=f"{TALLY_MAX:,}",
                )
            )
        self.data = int(raw)


def _count(form: Any, field: Any) -> None:
    if field.process_errors:
        raise StopValidation()
    if field.data is None:
        raise StopValidation(_("Enter how many signatures were collected."))
    if not 1 <= field.data <= TALLY_MAX:
        raise StopValidation(_("Enter a number from 1 to %(max)s.", max=f"{TALLY_MAX:,}"))


class CollectedOnField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter the date as a date, e.g. 2027-03-31.")) from None


def _collected_on(form: Any, field: Any) -> None:
    if field.process_errors:
        raise StopValidation()
    if field.data is None:
        raise StopValidation(_("Enter the date the signatures were collected."))
    if field.data > utcnow().date() + timedelta(days=1):
        raise StopValidation(_("The date can't be in the future."))
    if field.data < EARLIEST:
        raise StopValidation(_("The date is too far in the past."))


class TallyForm(FlaskForm):
    count = CountField(_l("Number of signatures"), validators=[_count])
    source = StringField(
        _l("Where they came from"),
        validators=[DataRequired(_l("Say where they came from.")), Length(max=100), _one_line],
        description=_l("For example: Stall at the Cardiff Market, postcards."),
    )
    collected_on = CollectedOnField(_l("Collected on"), validators=[_collected_on])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000), _text])


class PaperSignatureForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=100), _one_line]
    )
    country = SelectField(_l("Country"), default="GB")
    postcode = StringField(_l("Postcode"), validators=[Length(max=16)])
    consent_on_paper = BooleanField(_l("The consent box on the paper form is ticked"))
    collected_on = CollectedOnField(_l("Collected on"), validators=[_collected_on])

    postcode_area: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()  # type: ignore[assignment]

    def validate_country(self, field: Any) -> None:
        if field.data not in country_codes():
            raise ValidationError(_("Choose a country."))

    def validate_postcode(self, field: Any) -> None:
        if self.country.errors:
            return
        try:
            field.data, self.postcode_area = normalise_postcode(field.data, self.country.data)
        except PostcodeError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_consent_on_paper(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(
                _("Only enter signatures whose consent box is ticked on the paper form.")
            )
