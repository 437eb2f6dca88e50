from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from petitions.questions.models import QuestionKind
from petitions.questions.services import QuestionInput


class QuestionForm(FlaskForm):
    label = StringField(
        "Question", validators=[DataRequired("Write the question."), Length(max=200)]
    )
    kind = SelectField(
        "Answer",
        choices=[
            SelectChoice(QuestionKind.TEXT.value, "A short text"),
            SelectChoice(QuestionKind.CHOICE.value, "One of several choices"),
            SelectChoice(QuestionKind.CHECKBOX.value, "A tick box"),
        ],
        validate_choice=False,  # checked by services.add_question
    )
    choices = TextAreaField("Choices (one a line)", validators=[Optional(), Length(max=2000)])
    required = BooleanField("An answer is required")
    sensitive = BooleanField("Sensitive (e.g. health or beliefs): handle with care in exports")

    def question_input(self) -> QuestionInput:
        return QuestionInput(
            label=self.label.data or "",
            kind=self.kind.data or "",
            choices=self.choices.data or "",
            required=bool(self.required.data),
            sensitive=bool(self.sensitive.data),
        )
