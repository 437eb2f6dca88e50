"""Forms for events. The RSVP form is the sign form (same fields, checks and bot traps);
answers to an event's own questions are read by key next to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from petitions.core.emails import EmailError, normalise_email
from petitions.core.forms import ButtonForm  # noqa: F401 (used by this area's views)
from petitions.gatherings.services import EventInput, parse_questions

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class EventForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)]
    )
    description = TextAreaField(
        _l("Description (Markdown)"), validators=[Optional(), Length(max=20_000)]
    )
    starts = DateTimeLocalField(
        _l("Starts"),
        format=DATETIME_FORMATS,
        validators=[DataRequired(_l("Enter when it starts, e.g. 2026-03-14T10:00."))],
    )
    ends = DateTimeLocalField(
        _l("Ends"),
        format=DATETIME_FORMATS,
        validators=[DataRequired(_l("Enter when it ends, e.g. 2026-03-14T12:00."))],
    )
    timezone = StringField(
        _l("Time zone"),
        default="Europe/London",
        validators=[DataRequired(_l("Enter a time zone, e.g. Europe/London.")), Length(max=64)],
        description=_l("The times above are in this zone, e.g. Europe/London or America/New_York."),
    )
    venue = StringField(_l("Venue (in person)"), validators=[Optional(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=16)])
    online_url = StringField(
        _l("Online link"),
        validators=[Optional(), Length(max=500)],
        description=_l("Shown only to people with a confirmed place, in their emails."),
    )
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            Optional(),
            NumberRange(min=1, max=1_000_000, message=_l("Capacity must be 1 or more (or empty).")),
        ],
        description=_l("Leave empty for no limit."),
    )
    waitlist = BooleanField(_l("Open a waitlist when it is full"), default=True)
    questions = TextAreaField(
        _l("RSVP questions"),
        validators=[Optional(), Length(max=3000)],
        description=_l(
            "One a line. Start a line with ! to keep its answers sensitive "
            "(e.g. !Access needs): only organisers see them, and they are erased with the person."
        ),
    )

    def validate_questions(self, field: Any) -> None:
        from petitions.gatherings.services import EventError

        try:
            parse_questions(field.data or "")
        except EventError as exc:
            raise ValidationError(str(exc)) from exc

    def event_input(self) -> EventInput:
        starts: datetime = self.starts.data  # type: ignore[assignment]
        ends: datetime = self.ends.data  # type: ignore[assignment]
        return EventInput(
            title=self.title.data or "",
            description=self.description.data or "",
            starts_local=starts,
            ends_local=ends,
            timezone=(self.timezone.data or "").strip(),
            venue=self.venue.data or "",
            address=self.address.data or "",
            postcode=self.postcode.data or "",
            online_url=(self.online_url.data or "").strip(),
            capacity=self.capacity.data,
            waitlist=bool(self.waitlist.data),
            questions=parse_questions(self.questions.data or ""),
            translations={
                language: {
                    name: self[f"{name}__{language}"].data or "" for name in ("venue", "address")
                }
                for language in getattr(self, "languages", [])
            },
        )

    def translation_groups(self) -> list[tuple[str, list[Any]]]:
        return [
            (language, [self[f"venue__{language}"], self[f"address__{language}"]])
            for language in getattr(self, "languages", [])
        ]

    def fill_translations(self, written: dict[str, dict[str, Any]] | None) -> None:
        for language in getattr(self, "languages", []):
            for name in ("venue", "address"):
                self[f"{name}__{language}"].data = (written or {}).get(language, {}).get(name, "")


_IN_LANGUAGES: dict[tuple[str, ...], type] = {}


def event_form(languages: list[str], **kwargs: Any) -> Any:
    """The organiser's event form with the venue and address in each of ``languages``
    (``venue__cy``); empty ones show the default language's."""
    key = tuple(languages)
    if key not in _IN_LANGUAGES:
        attrs: dict[str, Any] = {"languages": list(languages)}
        for language in languages:
            attrs[f"venue__{language}"] = StringField(
                _l("Venue (in person)"), validators=[Optional(), Length(max=200)]
            )
            attrs[f"address__{language}"] = StringField(
                _l("Address"), validators=[Optional(), Length(max=300)]
            )
        _IN_LANGUAGES[key] = type("EventFormInLanguages", (EventForm,), attrs)
    return _IN_LANGUAGES[key](**kwargs)


class FollowUpForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message (Markdown)"), validators=[DataRequired(), Length(max=20_000)])


class HostEventForm(EventForm):
    """A supporter proposing their own local event: the event form, plus who they are."""

    host_name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Enter your name.")), Length(max=100)]
    )
    host_email = StringField(
        _l("Your email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
        render_kw={"type": "email", "autocomplete": "email"},
    )
    email_normalised: str = ""

    def validate_host_email(self, field: Any) -> None:
        try:
            self.email_normalised = normalise_email(field.data or "")
        except EmailError as exc:
            raise ValidationError(str(exc)) from exc
