from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from petitions.outcomes.models import OutcomeKind
from petitions.outcomes.services import OutcomeInput


class OutcomeForm(FlaskForm):
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
        )


class VictoryForm(FlaskForm):
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
        )
