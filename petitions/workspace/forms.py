"""Forms for building campaigns, their actions and their updates."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from petitions.campaigns.models import ActionKind, CampaignStatus
from petitions.campaigns.services import pledge_option_lines
from petitions.core.i18n import N_
from petitions.core.text import has_control_chars, has_invisible_chars, slugify
from petitions.core.time import utcnow

SLUG_SHAPE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

__all__ = ["ActionForm", "CampaignForm", "ShareForm", "UpdateForm", "slugify"]


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise ValidationError(_l("Use letters, numbers and punctuation only (no line breaks)."))


def _text(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
        raise ValidationError(_l("Remove the invisible or control characters."))


def _slug(form: Any, field: Any) -> None:
    if field.data and not SLUG_SHAPE.match(field.data):
        raise ValidationError(
            _l("Use lower-case letters, digits and single hyphens, e.g. save-the-pier.")
        )


GOAL_MAX = 100_000_000


class GoalField(IntegerField):
    """A whole number whose errors say what is wrong, not "This field is required"."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        raw = (valuelist[0] if valuelist else "") or ""
        raw = str(raw).strip().replace(",", "").replace("_", "")
        if not raw:
            return
        try:
            self.data = int(raw)
        except ValueError:
            raise ValueError(
                _l("Enter the goal as a whole number of signatures, e.g. 1000.")
            ) from None


def _goal(form: Any, field: Any) -> None:
    if field.process_errors:
        raise StopValidation()  # the parse error already says what is wrong
    if field.data is None:
        raise StopValidation(_l("Enter a goal: how many signatures you are aiming for, e.g. 1000."))
    if field.data < 1:
        raise StopValidation(_l("The goal must be at least 1."))
    if field.data > GOAL_MAX:
        raise StopValidation(_("The goal can be at most %(num)s.", num=format_decimal(GOAL_MAX)))


class DeadlineField(DateField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter the deadline as a date, e.g. 2027-03-31.")) from None


class CampaignForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), _one_line])
    slug = StringField(
        _l("Web address"),
        validators=[Optional(), Length(max=80), _slug],
        description=_l("The part after /c/ in the link. Left empty, it is made from the title."),
    )
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=1000), _text])
    body = TextAreaField(_l("Body (Markdown)"), validators=[Optional(), Length(max=50_000), _text])
    image_url = URLField(
        _l("Image URL"), validators=[Optional(), Length(max=500), URL(require_tld=False)]
    )
    hero = FileField(_l("Hero image (upload)"))
    hero_alt = StringField(
        _l("Describe the image"),
        validators=[Optional(), Length(max=300), _one_line],
        description=_l(
            "For people who can't see it, e.g. \"Supporters outside the venue with "
            'placards". Needed with an image.'
        ),
    )
    remove_hero = BooleanField(_l("Remove the hero image"))
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(CampaignStatus.DRAFT.value, _l("Draft (only organisers can see it)")),
            SelectChoice(CampaignStatus.LIVE.value, _l("Live")),
            SelectChoice(CampaignStatus.CLOSED.value, _l("Closed")),
        ],
        default=CampaignStatus.DRAFT.value,
    )

    def validate_hero(self, field: Any) -> None:
        # Here, not on hero_alt: its Optional() stops the chain when it is empty.
        upload = field.data
        if upload and getattr(upload, "filename", "") and not (self.hero_alt.data or "").strip():
            raise ValidationError(
                _l("Describe the image for people who can't see it (what it shows, in a sentence).")
            )

    def validate_image_url(self, field: Any) -> None:
        if field.data and not field.data.startswith("https://"):
            raise ValidationError(_l("Use an https:// address."))


class ActionForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(ActionKind.PETITION.value, _l("Petition")),
            SelectChoice(ActionKind.PLEDGE.value, _l("Pledge")),
        ],
        default=ActionKind.PETITION.value,
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), _one_line])
    slug = StringField(_l("Web address"), validators=[Optional(), Length(max=80), _slug])
    target = StringField(_l("Addressed to"), validators=[Optional(), Length(max=200), _one_line])
    text = TextAreaField(
        _l("Text (Markdown)"), validators=[DataRequired(), Length(max=20_000), _text]
    )
    goal = GoalField(_l("Goal"), default=1000, validators=[_goal])
    deadline = DeadlineField(_l("Deadline"), validators=[Optional()])
    pledge_options = TextAreaField(
        _l("Pledge options (one per line)"), validators=[Optional(), Length(max=5000), _text]
    )
    consent = TextAreaField(
        _l("Consent wording"), validators=[DataRequired(), Length(max=5000), _text]
    )
    thank_you = TextAreaField(
        _l("Thank-you message"), validators=[Optional(), Length(max=5000), _text]
    )
    position = IntegerField(
        _l("Order on the page"), default=0, validators=[Optional(), NumberRange(0, 1000)]
    )

    def __init__(self, *args: Any, current_deadline: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An action's saved deadline may already have passed (that is how it closed); it can
        # be kept, but no form may set a new deadline in the past.
        self._current_deadline = current_deadline

    def validate_deadline(self, field: Any) -> None:
        if field.data is None or field.data == self._current_deadline:
            return
        if field.data < utcnow().date():
            raise ValidationError(
                _l("The deadline is in the past: choose today or a later day, or leave it empty.")
            )

    def options(self) -> list[str]:
        return pledge_option_lines(self.pledge_options.data or "")


class UpdateForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), _one_line])
    body = TextAreaField(
        _l("Body (Markdown)"), validators=[DataRequired(), Length(max=50_000), _text]
    )
    published_at = DateTimeLocalField(
        _l("Date (UTC)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class ShareForm(FlaskForm):
    email = StringField(_l("Organiser's email"), validators=[DataRequired(), Length(max=254)])


# --- the organiser's words in other languages -----------------------------------------------

# Field name → (label, longest, several lines). What a campaign and an action can say in
# each language besides the default one (core.i18n.localised reads them back).
CAMPAIGN_TRANSLATABLE = {
    "title": (N_("Title"), 200, False),
    "summary": (N_("Summary"), 1000, True),
    "body": (N_("Body (Markdown)"), 50_000, True),
}
ACTION_TRANSLATABLE = {
    "title": (N_("Title"), 200, False),
    "target": (N_("Addressed to"), 200, False),
    "text": (N_("Text (Markdown)"), 20_000, True),
    "thank_you": (N_("Thank-you message"), 5000, True),
    # One a line, each standing for the default option at its place (checked by
    # campaigns.services.save_action, kept as a list: Action.pledge_options_in).
    "pledge_options": (N_("Pledge options (one per line, in the same order)"), 5000, True),
    # Not kept with the others: a consent version of its own (campaigns.services.set_consents).
    "consent": (N_("Consent wording"), 5000, True),
}
UPDATE_TRANSLATABLE = {
    "title": (N_("Title"), 200, False),
    "body": (N_("Body (Markdown)"), 50_000, True),
}
_WITH_TRANSLATIONS: dict[tuple[type, tuple[str, ...]], type] = {}


def with_translations(
    base: type, spec: dict[str, tuple[str, int, bool]], languages: list[str]
) -> Any:
    """``base`` with one optional field per translatable field and language (``title__cy``)."""
    key = (base, tuple(languages))
    if key not in _WITH_TRANSLATIONS:
        attrs: dict[str, Any] = {"translatable": spec, "languages": list(languages)}
        for language in languages:
            for name, (label, longest, several_lines) in spec.items():
                field_class = TextAreaField if several_lines else StringField
                attrs[f"{name}__{language}"] = field_class(
                    _l(label),
                    filters=[lambda v: (v or "").strip()],
                    validators=[
                        Optional(),
                        Length(max=longest),
                        _text if several_lines else _one_line,
                    ],
                )
        attrs["translation_groups"] = _translation_groups
        attrs["translations"] = _translations
        attrs["fill_translations"] = _fill_translations
        _WITH_TRANSLATIONS[key] = type(base.__name__ + "WithTranslations", (base,), attrs)
    return _WITH_TRANSLATIONS[key]


def _translation_groups(form: Any) -> list[tuple[str, list[Any]]]:
    return [
        (language, [form[f"{name}__{language}"] for name in form.translatable])
        for language in form.languages
    ]


def _translations(form: Any) -> dict[str, dict[str, str]]:
    return {
        language: {name: form[f"{name}__{language}"].data or "" for name in form.translatable}
        for language in form.languages
    }


def _fill_translations(form: Any, thing: Any) -> None:
    written = getattr(thing, "translations", None) or {}
    for language in form.languages:
        for name in form.translatable:
            value = written.get(language, {}).get(name, "")
            # A list (pledge options) is edited one a line.
            form[f"{name}__{language}"].data = (
                "\n".join(value) if isinstance(value, list) else value
            )
