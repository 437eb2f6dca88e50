"""Forms for letters. The supporter's form is the sign form (same fields, checks and bot
traps) plus the message, their own line and the chosen constituency."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from petitions.core.i18n import N_
from petitions.letters.models import DeliveryMode, Stance
from petitions.letters.services import MESSAGE_LIMIT, LetterInput, TargetInput
from petitions.signing.forms import SignForm


class LetterSignForm(SignForm):
    message = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("Write your message (the suggested text is a start).")),
            Length(
                max=MESSAGE_LIMIT,
                message=_l(
                    "Your message can be up to %(limit)s characters.", limit=f"{MESSAGE_LIMIT:,}"
                ),
            ),
        ],
    )
    personal = TextAreaField(
        _l("In your own words"),
        validators=[
            Optional(),
            Length(max=1000, message=_l("Your own words can be up to 1,000 characters.")),
        ],
    )
    constituency = HiddenField()


class LetterForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)]
    )
    intro = TextAreaField(
        _l("Introduction (Markdown)"), validators=[Optional(), Length(max=20_000)]
    )
    subject = StringField(
        _l("Email subject"), validators=[DataRequired(_l("Enter a subject.")), Length(max=200)]
    )
    template = TextAreaField(
        _l("Message template"),
        validators=[DataRequired(_l("Write the suggested message.")), Length(max=MESSAGE_LIMIT)],
        description=_l(
            "Placeholders: {supporter_name} {postcode} {constituency} {target_name} "
            "{target_title}. Supporters can edit it before sending."
        ),
    )
    thank_you_template = TextAreaField(
        _l("Thank-you variant"),
        validators=[Optional(), Length(max=MESSAGE_LIMIT)],
        description=_l("Used instead when the supporter's target already supports the ask."),
    )
    thank_you_subject = StringField(
        _l("Thank-you subject"),
        validators=[Optional(), Length(max=200)],
        description=_l("The subject of the thank-you variant (leave empty to use the usual one)."),
    )
    personal_prompt = StringField(
        _l("Prompt for the supporter's own words"), validators=[Optional(), Length(max=300)]
    )
    personal_required = BooleanField(_l("Require a line in their own words"))
    delivery_mode = RadioField(
        _l("Delivery"),
        choices=[
            SelectChoice(
                DeliveryMode.SENT_FOR_YOU.value,
                _l("Sent for them, from our address, Reply-To the supporter"),
            ),
            SelectChoice(
                DeliveryMode.SEND_YOURSELF.value,
                _l("They send it themselves (mailto link); they tell us"),
            ),
        ],
        default=DeliveryMode.SENT_FOR_YOU.value,
        validate_choice=False,  # checked by services.create_letter
    )
    to_representative = BooleanField(_l("Send to the supporter's MP (found by postcode)"))
    rate_per_minute = IntegerField(
        _l("Letters per target per minute"),
        default=4,
        validators=[NumberRange(min=1, max=600, message=_l("Between 1 and 600 a minute."))],
    )
    digest = BooleanField(
        _l("Send each recipient one daily digest instead of one email per letter"),
        description=_l("Identical letters are printed once with everyone who sent them."),
    )
    goal = IntegerField(_l("Goal"), default=1000, validators=[NumberRange(min=1, max=100_000_000)])
    deadline = DateField(_l("Deadline"), validators=[Optional()])

    def letter_input(self) -> LetterInput:
        return LetterInput(
            title=self.title.data or "",
            intro=self.intro.data or "",
            subject=self.subject.data or "",
            template=self.template.data or "",
            thank_you_template=self.thank_you_template.data or "",
            thank_you_subject=self.thank_you_subject.data or "",
            personal_prompt=self.personal_prompt.data or "",
            personal_required=bool(self.personal_required.data),
            delivery_mode=self.delivery_mode.data or "",
            to_representative=bool(self.to_representative.data),
            rate_per_minute=int(self.rate_per_minute.data or 4),
            digest=bool(self.digest.data),
            goal=int(self.goal.data or 1000),
            deadline=self.deadline.data,
            translations=_typed(self),
        )

    def fill_translations(self, written: dict[str, dict[str, Any]] | None) -> None:
        _fill(self, written)

    def translation_groups(self) -> list[tuple[str, list[Any]]]:
        return _groups(self)


# What a letter says in each other language, kept with its action's other words
# (``actions.translations``; ``LetterDetails.words`` reads them back): name → (label, longest,
# several lines). ``text`` is the introduction, the action's text.
LETTER_TRANSLATABLE = {
    "title": (N_("Title"), 200, False),
    "text": (N_("Introduction (Markdown)"), 20_000, True),
    "subject": (N_("Email subject"), 200, False),
    "template": (N_("Message template"), MESSAGE_LIMIT, True),
    "thank_you_template": (N_("Thank-you variant"), MESSAGE_LIMIT, True),
    "thank_you_subject": (N_("Thank-you subject"), 200, False),
    "personal_prompt": (N_("Prompt for the supporter's own words"), 300, False),
}
# A fixed recipient's words in each other language (``letter_targets.translations``).
TARGET_TRANSLATABLE = {
    "title": (N_("Title"), 120, False),
    "stance_note": (N_("Public note"), 300, False),
    "response": (N_("Response text"), 20_000, True),
}
_IN_LANGUAGES: dict[tuple[type, tuple[str, ...]], type] = {}


def in_languages(base: type, languages: list[str], **kwargs: Any) -> Any:
    """``base`` (``LetterForm`` or ``TargetForm``) with a field per translatable word and
    other language (``template__cy``), all optional: an empty one shows the default's."""
    key = (base, tuple(languages))
    if key not in _IN_LANGUAGES:
        spec = LETTER_TRANSLATABLE if base is LetterForm else TARGET_TRANSLATABLE
        attrs: dict[str, Any] = {"translatable": spec, "languages": list(languages)}
        for language in languages:
            for name, (label, longest, several_lines) in spec.items():
                field_class = TextAreaField if several_lines else StringField
                attrs[f"{name}__{language}"] = field_class(
                    _l(label), validators=[Optional(), Length(max=longest)]
                )
        _IN_LANGUAGES[key] = type(base.__name__ + "InLanguages", (base,), attrs)
    return _IN_LANGUAGES[key](**kwargs)


def _groups(form: Any) -> list[tuple[str, list[Any]]]:
    """(language, its fields) for the form's "In …" fieldsets (``translation_fieldsets``)."""
    return [
        (language, [form[f"{name}__{language}"] for name in form.translatable])
        for language in getattr(form, "languages", [])
    ]


def _typed(form: Any) -> dict[str, dict[str, str]]:
    return {
        language: {name: form[f"{name}__{language}"].data or "" for name in form.translatable}
        for language in getattr(form, "languages", [])
    }


def _fill(form: Any, written: dict[str, dict[str, Any]] | None) -> None:
    for language in getattr(form, "languages", []):
        for name in form.translatable:
            form[f"{name}__{language}"].data = (written or {}).get(language, {}).get(name, "")


class TargetForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Enter the target's name.")), Length(max=120)]
    )
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=120)])
    email = StringField(
        _l("Email"), validators=[DataRequired(_l("Enter the target's email.")), Length(max=254)]
    )

    def target_input(self) -> TargetInput:
        return TargetInput(
            name=self.name.data or "",
            title=self.title.data or "",
            organisation=self.organisation.data or "",
            email=(self.email.data or "").strip(),
            translations=_typed(self),
        )

    def fill_translations(self, written: dict[str, dict[str, Any]] | None) -> None:
        _fill(self, written)

    def translation_groups(self) -> list[tuple[str, list[Any]]]:
        return _groups(self)


class StanceForm(FlaskForm):
    stance = SelectField(
        _l("Stance"),
        choices=[
            SelectChoice(Stance.NONE.value, _l("Not known")),
            SelectChoice(Stance.SUPPORTS.value, _l("Supports")),
            SelectChoice(Stance.OPPOSES.value, _l("Opposes")),
            SelectChoice(Stance.RESPONDED.value, _l("Has responded")),
        ],
        validate_choice=False,  # checked by services.set_stance
    )
    note = StringField(_l("Public note"), validators=[Optional(), Length(max=300)])
    on = DateField(_l("Date"), validators=[Optional()])
    response = TextAreaField(_l("Response text"), validators=[Optional(), Length(max=20_000)])


def stance_form(target: Any) -> StanceForm:
    form = StanceForm(prefix=f"t{target.id}")
    if not form.is_submitted():
        form.stance.data = target.stance
        form.note.data = target.stance_note
        form.on.data = target.stance_on
        form.response.data = target.response
    return form
