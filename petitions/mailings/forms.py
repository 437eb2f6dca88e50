from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from petitions.core.ids import valid_id
from petitions.core.text import has_control_chars, has_invisible_chars


class SendUpdateForm(FlaskForm):
    update_id = IntegerField(validators=[DataRequired(), valid_id])


class ControlForm(FlaskForm):
    """Pause, resume or cancel: only the CSRF token."""


class SendTestForm(FlaskForm):
    """Send a test copy to yourself, in the language a recipient in it would get."""

    # Not checked against the choices: a form without it (an older page) tests the default.
    language = SelectField(_l("Language of the test"), validate_choice=False)

    def __init__(self, *args: Any, languages: list[tuple[str, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.language.choices = languages or []  # type: ignore[assignment]


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise ValidationError(_l("Use letters, numbers and punctuation only (no line breaks)."))


def _text(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
        raise ValidationError(_l("Remove the invisible or control characters."))


class SinceField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                _l("Enter the date as a date, e.g. 2026-11-01, or leave it empty.")
            ) from None


class ComposeForm(FlaskForm):
    subject = StringField(
        _l("Subject"),
        validators=[
            InputRequired(_l("Enter a subject: it is the first thing people see in their inbox.")),
            Length(max=200, message=_l("Keep the subject under 200 characters.")),
            _one_line,
        ],
    )
    body = TextAreaField(
        _l("Message (Markdown)"),
        validators=[
            InputRequired(_l("Write the message.")),
            Length(max=50_000, message=_l("Keep the message under 50,000 characters.")),
            _text,
        ],
        description=_l(
            "**bold**, *italic*, [a link](https://example.org), lists with - or 1. "
            "HTML tags are not applied: they are shown as typed, never run."
        ),
    )
    audience = SelectField(_l("Who gets it"), validate_choice=False)
    since = SinceField(
        _l("Only supporters who confirmed on or after (optional)"), validators=[Optional()]
    )

    languages: list[str] = []  # the other languages it has fields for (``compose_form``)

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.audience.choices = [SelectChoice(v, label) for v, label in choices or []]

    def translation_groups(self) -> list[tuple[str, list[Any]]]:
        """(language, its fields) for the form's "In …" fieldsets."""
        return [
            (language, [self[f"{name}__{language}"] for name in TRANSLATABLE])
            for language in self.languages
        ]

    def translations(self) -> dict[str, dict[str, str]]:
        return {
            language: {name: self[f"{name}__{language}"].data or "" for name in TRANSLATABLE}
            for language in self.languages
        }

    def fill_translations(self, written: dict[str, dict[str, str]] | None) -> None:
        for language in self.languages:
            for name in TRANSLATABLE:
                self[f"{name}__{language}"].data = (written or {}).get(language, {}).get(name, "")


# What a composed mailing has in each other language (mailings.translations), and its checks.
TRANSLATABLE = ("subject", "body")
_WITH_TRANSLATIONS: dict[tuple[str, ...], type[ComposeForm]] = {}


def _strip(value: Any) -> str:
    return (value or "").strip()


def compose_form(languages: list[str], **kwargs: Any) -> ComposeForm:
    """The composer's form with an optional subject and message per language in ``languages``
    (``subject__cy``, ``body__cy``): empty ones send the default language's words."""
    key = tuple(languages)
    if key not in _WITH_TRANSLATIONS:
        attrs: dict[str, Any] = {"languages": list(languages)}
        for language in languages:
            attrs[f"subject__{language}"] = StringField(
                _l("Subject"),
                filters=[_strip],
                validators=[
                    Optional(),
                    Length(max=200, message=_l("Keep the subject under 200 characters.")),
                    _one_line,
                ],
            )
            attrs[f"body__{language}"] = TextAreaField(
                _l("Message (Markdown)"),
                validators=[
                    Optional(),
                    Length(max=50_000, message=_l("Keep the message under 50,000 characters.")),
                    _text,
                ],
            )
        _WITH_TRANSLATIONS[key] = type("ComposeFormWithTranslations", (ComposeForm,), attrs)
    return _WITH_TRANSLATIONS[key](**kwargs)


class SendAtField(DateTimeLocalField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(
                _l("Enter the time as a date and time, e.g. 2026-12-24 09:00.")
            ) from None


class ScheduleForm(FlaskForm):
    """Step one of sending: now, or at a time. The next page asks to confirm."""

    when = RadioField(_l("When"), default="now")
    send_at = SendAtField(_l("Send at (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons render from (value, label) pairs, set after construction as SignForm
        # sets its pledge options.
        self.when.choices = [("now", _l("Send now")), ("later", _l("At a time"))]  # type: ignore[assignment]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.when.data == "later" and self.send_at.data is None and not self.send_at.errors:
            self.send_at.errors = [_l("Choose the date and time to send it, or choose Send now.")]
            return False
        return valid


class ConfirmSendForm(FlaskForm):
    """Step two: the organiser has seen who and how many; this sends or schedules it."""

    send_at = HiddenField()
    recipients = HiddenField()
