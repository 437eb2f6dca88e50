from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from petitions.outcomes.models import OutcomeKind
from petitions.outcomes.services import OutcomeInput


class _InLanguages(FlaskForm):
    """The entry's title and text in each other language (``title__cy``: ``outcome_form``)."""

    languages: list[str] = []

    def translation_groups(self) -> list[tuple[str, list[Any]]]:
        return [
            (language, [self[f"title__{language}"], self[f"text__{language}"]])
            for language in self.languages
        ]

    def translations(self) -> dict[str, dict[str, str]]:
        return {
            language: {
                "title": self[f"title__{language}"].data or "",
                "text": self[f"text__{language}"].data or "",
            }
            for language in self.languages
        }


class OutcomeForm(_InLanguages):
    kind = SelectField(
        _l("What happened"),
        choices=[
            SelectChoice(OutcomeKind.RESPONSE.value, _l("Response received")),
            SelectChoice(OutcomeKind.DEBATED.value, _l("Debated")),
            SelectChoice(OutcomeKind.UPDATE.value, _l("Another milestone")),
        ],
        validate_choice=False,  # checked by services.add_entry
    )
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    text = TextAreaField(
        _l("Their response, or what happened (Markdown)"),
        validators=[Optional(), Length(max=20_000)],
    )
    link = StringField(_l("Link (e.g. the response letter or the debate)"), validators=[Optional()])
    happened_on = DateField(_l("Date"), validators=[Optional()])
    notify = BooleanField(_l("Email the action's supporters who want updates"))

    def outcome_input(self, kind: str | None = None) -> OutcomeInput:
        return OutcomeInput(
            kind=kind or self.kind.data or "",
            title=self.title.data or "",
            text=self.text.data or "",
            link=self.link.data or "",
            happened_on=self.happened_on.data,
            notify=bool(self.notify.data),
            translations=self.translations(),
        )


class VictoryForm(_InLanguages):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    text = TextAreaField(_l("What was won (Markdown)"), validators=[Optional(), Length(max=20_000)])
    link = StringField(_l("Link"), validators=[Optional()])
    happened_on = DateField(_l("Date"), validators=[Optional()])

    def outcome_input(self) -> OutcomeInput:
        return OutcomeInput(
            kind=OutcomeKind.VICTORY.value,
            title=self.title.data or "Victory",
            text=self.text.data or "",
            link=self.link.data or "",
            happened_on=self.happened_on.data,
            notify=True,
            translations=self.translations(),
        )


_TEXT_LABELS = {
    OutcomeForm: _l("Their response, or what happened (Markdown)"),
    VictoryForm: _l("What was won (Markdown)"),
}
_WITH_LANGUAGES: dict[tuple[type, tuple[str, ...]], type] = {}


def outcome_form(base: type[_InLanguages], languages: list[str], **kwargs: Any) -> Any:
    """``base`` (``OutcomeForm`` or ``VictoryForm``) with the entry's words in each of
    ``languages`` (``title__cy``, ``text__cy``); empty ones show the default language's."""
    key = (base, tuple(languages))
    if key not in _WITH_LANGUAGES:
        attrs: dict[str, Any] = {"languages": list(languages)}
        for language in languages:
            attrs[f"title__{language}"] = StringField(
                _l("Title"), validators=[Optional(), Length(max=200)]
            )
            attrs[f"text__{language}"] = TextAreaField(
                _TEXT_LABELS[base], validators=[Optional(), Length(max=20_000)]
            )
        _WITH_LANGUAGES[key] = type(base.__name__ + "WithLanguages", (base,), attrs)
    return _WITH_LANGUAGES[key](**kwargs)
