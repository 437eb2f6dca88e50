from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import pycountry
from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from petitions.core.emails import EmailError, normalise_email
from petitions.core.i18n import current_language
from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.screening.checks import issue_form_stamp
from petitions.signing.postcodes import PostcodeError, normalise_postcode
from petitions.signing.services import SignatureInput

_SOURCE_SHAPE = re.compile(r"[^A-Za-z0-9_.:-]")


def country_choices() -> list[tuple[str, str]]:
    """Countries by name in the page's language (the UK first), as ``(code, name)``."""
    return _country_choices(current_language())


@lru_cache(maxsize=8)
def _country_choices(language: str) -> list[tuple[str, str]]:
    names = Locale.parse(language).territories  # CLDR's names, via Babel
    countries = sorted(
        (
            (c.alpha_2, names.get(c.alpha_2) or getattr(c, "common_name", None) or c.name)
            for c in pycountry.countries
        ),
        key=lambda pair: strxfrm_key(pair[1]),
    )
    uk = next(name for code, name in countries if code == "GB")
    return [("GB", uk)] + [pair for pair in countries if pair[0] != "GB"]


def strxfrm_key(name: str) -> str:
    # Accents sort with their letter ("Åland" by A), whatever the process's C locale.
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


NAME_MAX = 100
POSTCODE_MAX = 16
COMMENT_MAX = 1000
DEFAULT_COUNTRY = "GB"


def clean_source(value: str | None) -> str:
    """Source codes are short tokens; anything else is dropped rather than refused."""
    return _SOURCE_SHAPE.sub("", value or "")[:64]


def referrer_host(referrer: str | None, request_host: str) -> str:
    """The referring site's host name, kept with a signature ("" for our own pages or none)."""
    try:
        host = (urlsplit(referrer or "").hostname or "")[:255]
    except ValueError:
        return ""
    if not host or host == request_host.split(":")[0]:
        return ""
    return "".join(ch for ch in host if ch.isalnum() or ch in ".-")


def source_and_referrer(source: str, referrer: str | None, request_host: str) -> tuple[str, str]:
    """The form's hidden source ("ref:<host>" when the page was reached from another site)
    split into the stored source and referrer; otherwise the referrer comes from the header."""
    if source.startswith("ref:"):
        return "", source[4:]
    return source, referrer_host(referrer, request_host)


def _one_line_ok(value: str) -> bool:
    return not has_control_chars(value) and not has_invisible_chars(value)


def _multi_line_ok(value: str) -> bool:
    return not has_control_chars(value, allow_newlines=True) and not has_invisible_chars(value)


def _one_line(form: Any, field: Any) -> None:
    value = field.data or ""
    if has_control_chars(value):
        raise ValidationError(_l("Use letters, numbers and punctuation only (no line breaks)."))
    if has_invisible_chars(value):
        raise ValidationError(_l("Remove the invisible formatting characters."))


def _multi_line(form: Any, field: Any) -> None:
    if not _multi_line_ok(field.data or ""):
        raise ValidationError(_l("Remove the control or invisible characters."))


class SignForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        filters=[lambda v: (v or "").strip()],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=NAME_MAX, message=_l("Names can be up to 100 characters.")),
            _one_line,
        ],
        render_kw={"autocomplete": "name"},
    )
    email = StringField(
        _l("Email address"),
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired(_l("Enter your email address.")), _one_line],
        render_kw={"autocomplete": "email", "type": "email", "inputmode": "email"},
    )
    # Checked against a set in validate_country: wtforms' own choice check walks all ~250
    # choices on every submission, the largest CPU cost of signing (bench/README.md).
    country = SelectField(_l("Country"), default=DEFAULT_COUNTRY, validate_choice=False)
    postcode = StringField(
        _l("Postcode"),
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired(_l("Enter your postcode.")), Length(max=POSTCODE_MAX), _one_line],
        render_kw={"autocomplete": "postal-code"},
    )
    pledge_option = RadioField(_l("Your pledge"), validate_choice=False)
    comment = TextAreaField(
        _l("Comment (optional)"),
        filters=[lambda v: (v or "").strip()],
        validators=[
            Optional(),
            Length(max=COMMENT_MAX, message=_l("Comments can be up to 1000 characters.")),
            _multi_line,
        ],
    )
    wants_updates = BooleanField(_l("Email me updates about this campaign"), default=False)
    source = HiddenField(filters=[clean_source])
    # Bot traps (petitions.screening.checks): a field people never see, and when the form was shown.
    website = StringField(
        _l("Leave this empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )
    started = HiddenField()

    email_normalised: str = ""
    postcode_area: str = ""

    def __init__(self, *args: Any, pledge_options: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()  # type: ignore[assignment]
        self.country.validators = [DataRequired(_l("Choose your country."))]
        self.pledge_options = pledge_options or []
        self.pledge_option.choices = [(o, o) for o in self.pledge_options]  # type: ignore[assignment]
        if not self.started.data:
            self.started.data = issue_form_stamp()

    def validate_country(self, field: Any) -> None:
        if field.data not in country_codes():
            raise ValidationError(_l("Not a valid choice."))

    def validate_email(self, field: Any) -> None:
        try:
            self.email_normalised = normalise_email(field.data)
        except EmailError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_postcode(self, field: Any) -> None:
        try:
            field.data, self.postcode_area = normalise_postcode(field.data, self.country.data)
        except PostcodeError as exc:
            raise ValidationError(str(exc)) from exc

    def validate_pledge_option(self, field: Any) -> None:
        if not self.pledge_options:
            field.data = None
            return
        if field.data not in self.pledge_options:
            raise ValidationError(_l("Choose what you pledge to do."))

    def signature_input(
        self,
        *,
        source: str,
        referrer: str,
        ip_address: str | None,
        wants_updates: bool | None = None,
    ) -> SignatureInput:
        """The validated submission, as the intake takes it (web form, embed and OSDI alike)."""
        return SignatureInput(
            name=self.name.data or "",
            email=self.email.data or "",
            email_normalised=self.email_normalised,
            postcode=self.postcode.data or "",
            postcode_area=self.postcode_area,
            country=self.country.data or "",
            comment=self.comment.data or "",
            pledge_option=self.pledge_option.data if self.pledge_options else None,
            wants_updates=bool(self.wants_updates.data) if wants_updates is None else wants_updates,
            source=source,
            referrer=referrer,
            ip_address=ip_address,
            language=current_language(),
        )


# --- the hot path's reader ----------------------------------------------------------------------

# The fields a browser sends with the sign form: those every submission has, and the rest.
_REQUIRED_FIELDS = frozenset({"csrf_token", "name", "email", "country", "postcode", "started"})
_OPTIONAL_FIELDS = frozenset({"comment", "pledge_option", "wants_updates", "source", "website"})


@dataclass(frozen=True)
class QuickSubmission:
    """A sign form that ``read_valid_submission`` proved valid, as ``SignForm`` would clean it."""

    name: str
    email: str
    email_normalised: str
    postcode: str
    postcode_area: str
    country: str
    comment: str
    pledge_option: str | None
    wants_updates: bool
    source: str
    website: str
    started: str
    csrf_token: str

    def signature_input(
        self, *, source: str, referrer: str, ip_address: str | None
    ) -> SignatureInput:
        return SignatureInput(
            name=self.name,
            email=self.email,
            email_normalised=self.email_normalised,
            postcode=self.postcode,
            postcode_area=self.postcode_area,
            country=self.country,
            comment=self.comment,
            pledge_option=self.pledge_option,
            wants_updates=self.wants_updates,
            source=source,
            referrer=referrer,
            ip_address=ip_address,
        )


def read_valid_submission(
    fields: Mapping[str, str], pledge_options: Sequence[str]
) -> QuickSubmission | None:
    """``SignForm``'s rules without WTForms, for the hot path: the cleaned submission when every
    rule passes, else None (the caller then hands the request to ``SignForm``, whose page and
    messages are the only ones). It may say None where the form would accept (an unusual but
    valid submission takes the normal path); it must never accept what the form refuses, nor
    clean a value differently: ``tests/hotpath`` compares the two on many inputs.

    The rules are the form's own pieces: the length limits, ``_one_line_ok``/``_multi_line_ok``,
    ``country_codes``, ``normalise_email``, ``normalise_postcode`` and ``clean_source``.
    """
    keys = fields.keys()
    if not keys >= _REQUIRED_FIELDS or not keys <= (_REQUIRED_FIELDS | _OPTIONAL_FIELDS):
        return None
    name = fields["name"].strip()
    email = fields["email"].strip()
    country = fields["country"]
    postcode = fields["postcode"].strip()
    comment = fields.get("comment", "").strip()
    if not name or len(name) > NAME_MAX or not _one_line_ok(name):
        return None
    if not email or not _one_line_ok(email):
        return None
    if country not in country_codes():
        return None
    if not postcode or len(postcode) > POSTCODE_MAX or not _one_line_ok(postcode):
        return None
    if len(comment) > COMMENT_MAX or not _multi_line_ok(comment):
        return None
    pledge: str | None = None
    if pledge_options:
        pledge = fields.get("pledge_option")
        if pledge not in pledge_options:
            return None
    started = fields["started"]
    if not started:
        return None  # the form would issue a fresh stamp: leave that to it
    try:
        email_normalised = normalise_email(email)
        postcode, postcode_area = normalise_postcode(postcode, country)
    except (EmailError, PostcodeError):
        return None
    return QuickSubmission(
        name=name,
        email=email,
        email_normalised=email_normalised,
        postcode=postcode,
        postcode_area=postcode_area,
        country=country,
        comment=comment,
        pledge_option=pledge,
        wants_updates=fields.get("wants_updates", "") not in ("", "false"),
        source=clean_source(fields.get("source")),
        website=fields.get("website", ""),
        started=started,
        csrf_token=fields["csrf_token"],
    )
