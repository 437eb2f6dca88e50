"""The organiser's donation ask form."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.donations.services import AMOUNT_MAX, MAX_AMOUNTS, allowed_hosts, destination_allowed


class AskForm(FlaskForm):
    scope = SelectField(_l("Shown on"), default="")
    text = TextAreaField(
        _l("Ask"),
        validators=[DataRequired(_l("Write the ask.")), Length(max=500)],
        description=_l("For example: Can you chip in to keep this campaign going?"),
    )
    amounts = StringField(
        _l("Suggested amounts (£)"),
        validators=[Length(max=100)],
        description=_l(
            "Up to %(num)s whole amounts, separated by commas, e.g. 5, 10, 25.", num=MAX_AMOUNTS
        ),
    )
    url = URLField(
        _l("Donation page"),
        validators=[DataRequired(_l("Give the donation page.")), Length(max=500)],
    )

    parsed_amounts: list[int]

    def __init__(self, *args: Any, actions: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.scope.choices = [SelectChoice("", _("Every action of the campaign"))] + [  # type: ignore[assignment]
            SelectChoice(str(a.id), _("Only: %(title)s", title=a.title)) for a in actions
        ]
        self.parsed_amounts = []

    def validate_text(self, field: Any) -> None:
        value = field.data or ""
        if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
            raise ValidationError(_("Remove the invisible or control characters."))

    def validate_amounts(self, field: Any) -> None:
        raw = [part.strip().lstrip("£") for part in (field.data or "").split(",") if part.strip()]
        if len(raw) > MAX_AMOUNTS:
            raise ValidationError(_("Give at most %(num)s amounts.", num=MAX_AMOUNTS))
        amounts = []
        for part in raw:
            if not part.isascii() or not part.isdigit() or not 1 <= int(part) <= AMOUNT_MAX:
                raise ValidationError(
                    _(
                        "Use whole amounts from 1 to %(max)s, separated by commas.",
                        max=f"{AMOUNT_MAX:,}",
                    )
                )
            amounts.append(int(part))
        self.parsed_amounts = sorted(set(amounts))

    def validate_url(self, field: Any) -> None:
        if not destination_allowed(field.data or ""):
            hosts = ", ".join(sorted(allowed_hosts())) or _("none configured")
            raise ValidationError(
                _(
                    "Use an https:// address on one of the allowed donation sites "
                    "(DONATION_HOSTS: %(hosts)s).",
                    hosts=hosts,
                )
            )
