from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from petitions.questions.models import QuestionKind
from petitions.questions.services import QuestionInput


class QuestionForm(FlaskForm):
    label = StringField(
        _l("Question"), validators=[DataRequired(_l("Write the question.")), Length(max=200)]
    )
    kind = SelectField(
        _l("Answer"),
        choices=[
            SelectChoice(QuestionKind.TEXT.value, _l("A short text")),
            SelectChoice(QuestionKind.CHOICE.value, _l("One of several choices")),
            SelectChoice(QuestionKind.CHECKBOX.value, _l("A tick box")),
        ],
        validate_choice=False,  # checked by services.add_question
    )
    choices = TextAreaField(_l("Choices (one a line)"), validators=[Optional(), Length(max=2000)])
    required = BooleanField(_l("An answer is required"))
    sensitive = BooleanField(_l("Sensitive (e.g. health or beliefs): handle with care in exports"))

    languages: list[str] = []

    def translation_groups(self) -> list[tuple[str, list[Any]]]:
        return [
            (language, [self[f"label__{language}"], self[f"choices__{language}"]])
            for language in self.languages
        ]

    def question_input(self) -> QuestionInput:
        return QuestionInput(
            label=self.label.data or "",
            kind=self.kind.data or "",
            choices=self.choices.data or "",
            required=bool(self.required.data),
            sensitive=bool(self.sensitive.data),
            translations={
                language: {
                    "label": self[f"label__{language}"].data or "",
                    "choices": self[f"choices__{language}"].data or "",
                }
                for language in self.languages
            },
        )


_WITH_LANGUAGES: dict[tuple[str, ...], type[QuestionForm]] = {}


def question_form(languages: list[str], **kwargs: Any) -> QuestionForm:
    """The form with the question's words in each other language (``label__cy``)."""
    key = tuple(languages)
    if key not in _WITH_LANGUAGES:
        attrs: dict[str, Any] = {"languages": list(languages)}
        for language in languages:
            attrs[f"label__{language}"] = StringField(
                _l("Question"), validators=[Optional(), Length(max=200)]
            )
            attrs[f"choices__{language}"] = TextAreaField(
                _l("Choices (one a line, in the same order)"),
                validators=[Optional(), Length(max=2000)],
            )
        _WITH_LANGUAGES[key] = type("QuestionFormWithLanguages", (QuestionForm,), attrs)
    return _WITH_LANGUAGES[key](**kwargs)
