from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import pycountry
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from petitions.core.emails import EmailError, normalise_email
from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.screening.checks import issue_form_stamp
from petitions.signing.postcodes import PostcodeError, normalise_postcode
from petitions.signing.services import SignatureInput

_SOURCE_SHAPE = re.compile(r"[^A-Za-z0-9_.:-]")


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    countries = sorted(
        ((c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries),
        key=lambda pair: pair[1],
    )
    return [("GB", "United Kingdom")] + [pair for pair in countries if pair[0] != "GB"]


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in country_choices())


def clean_source(value: str | None) -> str:
    """Source codes are short tokens; anything else is dropped rather than refused."""
    return _SOURCE_SHAPE.sub("", value or "")[:64]


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value):
        raise ValidationError("Use letters, numbers and punctuation only (no line breaks).")
    if has_invisible_chars(value):
        raise ValidationError("Remove the invisible formatting characters.")


def _multi_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
        raise ValidationError("Remove the control or invisible characters.")


class SignForm(FlaskForm):
    name = StringField(
        "Full name",
        filters=[lambda v: (v or "").strip()],
        validators=[
            DataRequired("Enter your name."),
            Length(max=100, message="Names can be up to 100 characters."),
            _one_line,
        ],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        "Email address",
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired("Enter your email address."), _one_line],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"},
    )
    # Checked against a set in validate_country: wtforms' own choice check walks all ~250
    # choices on every submission, the largest CPU cost of signing (bench/README.md).
    country = SelectField("Country", default="GB", validate_choice=False)
    postcode = StringField(
        "Postcode",
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired("Enter your postcode."), Length(max=16), _one_line],
        render_kw={"autocomplete": "postal-code"},
    )
    pledge_option = RadioField("Your pledge", validate_choice=False)
    comment = TextAreaField(
        "Comment (optional)",
        filters=[lambda v: (v or "").strip()],
        validators=[
            Optional(),
            Length(max=1000, message="Comments can be up to 1000 characters."),
            _multi_line,
        ],
    )
    wants_updates = BooleanField("Email me updates about this campaign", default=False)
    source = HiddenField(filters=[clean_source])
    # Bot traps (petitions.screening.checks): a field people never see, and when the form was shown.
    website = StringField("Leave this empty", render_kw={"autocomplete": "off", "tabindex": "-1"})
    started = HiddenField()

    email_normalised: str = ""
    postcode_area: str = ""

    def __init__(self, *args: Any, pledge_options: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()  # type: ignore[assignment]
        self.country.validators = [DataRequired("Choose your country.")]
        self.pledge_options = pledge_options or []
        self.pledge_option.choices = [(o, o) for o in self.pledge_options]  # type: ignore[assignment]
        if not self.started.data:
            self.started.data = issue_form_stamp()

    def validate_country(self, field: Any) -> None:
        if field.data not in country_codes():
            raise ValidationError("Not a valid choice.")

    def validate_email(self, field: Any) -> None:
        try:
            self.email_normalised = normalise_email(field.data)
        except EmailError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_postcode(self, field: Any) -> None:
        try:
            field.data, self.postcode_area = normalise_postcode(field.data, self.country.data)
        except PostcodeError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_pledge_option(self, field: Any) -> None:
        if not self.pledge_options:
            field.data = None
            return
        if field.data not in self.pledge_options:
            raise ValidationError("Choose what you pledge to do.")

    def signature_input(
        self,
        *,
        source: str,
        referrer: str,
        ip_address: str | None,
        wants_updates: bool | None = None,
    ) -> SignatureInput:
        """The validated submission, as the intake takes it (web form, embed and OSDI alike)."""
        return SignatureInput(
            name=self.name.data or "",
            email=self.email.data or "",
            email_normalised=self.email_normalised,
            postcode=self.postcode.data or "",
            postcode_area=self.postcode_area,
            country=self.country.data or "",
            comment=self.comment.data or "",
            pledge_option=self.pledge_option.data if self.pledge_options else None,
            wants_updates=bool(self.wants_updates.data) if wants_updates is None else wants_updates,
            source=source,
            referrer=referrer,
            ip_address=ip_address,
        )
