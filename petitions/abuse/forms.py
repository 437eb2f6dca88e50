from __future__ import annotations

import ipaddress
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, StringField
from wtforms.validators import Length, Optional, ValidationError

from petitions.core.forms import ButtonForm  # noqa: F401 (used by this area's views)
from petitions.core.text import has_control_chars, has_invisible_chars

_DOMAIN = re.compile(r"^@?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", re.I)
_SOURCE = re.compile(r"^[A-Za-z0-9_.:-]*$")


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise ValidationError(_l("Use letters, numbers and punctuation only."))


def _strip(value: str | None) -> str:
    return (value or "").strip()


class InvalidateForm(FlaskForm):
    ip = StringField(
        _l("IP address or CIDR block"),
        filters=[_strip],
        validators=[Optional(), Length(max=64), _one_line],
    )
    email_domain = StringField(
        _l("Email domain"), filters=[_strip], validators=[Optional(), Length(max=254), _one_line]
    )
    since = DateTimeLocalField(_l("Signed from (UTC)"), validators=[Optional()])
    until = DateTimeLocalField(_l("Signed until (UTC)"), validators=[Optional()])
    name_pattern = StringField(
        _l("Name pattern (* matches anything)"),
        filters=[_strip],
        validators=[Optional(), Length(max=100), _one_line],
    )
    source = StringField(
        _l("Source code"), filters=[_strip], validators=[Optional(), Length(max=64)]
    )
    reason = StringField(
        _l("Why (kept with the job)"),
        filters=[_strip],
        validators=[Optional(), Length(max=200), _one_line],
    )
    step = HiddenField(default="preview")

    def validate_ip(self, field: Any) -> None:
        if field.data:
            try:
                ipaddress.ip_network(field.data, strict=False)
            except ValueError as exc:
                raise ValidationError(
                    _l("Enter an IP address or a block like 203.0.113.0/24.")
                ) from exc

    def validate_email_domain(self, field: Any) -> None:
        if field.data and not _DOMAIN.match(field.data):
            raise ValidationError(_l("Enter a domain like example.org."))

    def validate_source(self, field: Any) -> None:
        if field.data and not _SOURCE.match(field.data):
            raise ValidationError(_l("Source codes use letters, numbers and . _ : - only."))

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end must be after the start."))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not any(
            [
                self.ip.data,
                self.email_domain.data,
                self.since.data,
                self.until.data,
                self.name_pattern.data,
                self.source.data,
            ]
        ):
            self.form_errors.append(_l("Describe at least one thing to match."))
            return False
        return ok
