"""The organiser's donation ask form."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.donations.services import AMOUNT_MAX, MAX_AMOUNTS, allowed_hosts, destination_allowed


class AskForm(FlaskForm):
    scope = SelectField("Shown on", default="")
    text = TextAreaField(
        "Ask",
        validators=[DataRequired("Write the ask."), Length(max=500)],
        description="For example: Can you chip in to keep this campaign going?",
    )
    amounts = StringField(
        "Suggested amounts (£)",
        validators=[Length(max=100)],
        description=f"Up to {MAX_AMOUNTS} whole amounts, separated by commas, e.g. 5, 10, 25.",
    )
    url = URLField(
        "Donation page", validators=[DataRequired("Give the donation page."), Length(max=500)]
    )

    parsed_amounts: list[int]

    def __init__(self, *args: Any, actions: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.scope.choices = [SelectChoice("", "Every action of the campaign")] + [  # type: ignore[assignment]
            SelectChoice(str(a.id), f"Only: {a.title}") for a in actions
        ]
        self.parsed_amounts = []

    def validate_text(self, field: Any) -> None:
        value = field.data or ""
        if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
            raise ValidationError("Remove the invisible or control characters.")

    def validate_amounts(self, field: Any) -> None:
        raw = [part.strip().lstrip("£") for part in (field.data or "").split(",") if part.strip()]
        if len(raw) > MAX_AMOUNTS:
            raise ValidationError(f"Give at most {MAX_AMOUNTS} amounts.")
        amounts = []
        for part in raw:
            if not part.isascii() or not part.isdigit() or not 1 <= int(part) <= AMOUNT_MAX:
                raise ValidationError(
                    f"Use whole amounts from 1 to {AMOUNT_MAX:,}, separated by commas."
                )
            amounts.append(int(part))
        self.parsed_amounts = sorted(set(amounts))

    def validate_url(self, field: Any) -> None:
        if not destination_allowed(field.data or ""):
            hosts = ", ".join(sorted(allowed_hosts())) or "none configured"
            raise ValidationError(
                "Use an https:// address on one of the allowed donation sites "
                f"(DONATION_HOSTS: {hosts})."
            )
