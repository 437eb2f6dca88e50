"""Letters: what changes state. Services flush; the unit of work commits.

A supporter's letter is a :class:`~petitions.signing.models.Signature` (stored through the
signing intake, so the same checks, double opt-in and rate limits apply) plus a
:class:`Letter` with their words. Nothing is sent before the signature is confirmed: then
:func:`plan_deliveries` writes one :class:`LetterDelivery` row per target in the confirming
transaction (the outbox), and ``petitions.letters.jobs`` sends them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.campaigns.models import Action, ActionKind, Campaign
from petitions.campaigns.services import DEFAULT_CONSENT, consent_version, merged_translations
from petitions.core.emails import EmailError, normalise_email
from petitions.core.i18n import NATIVE_NAMES
from petitions.core.text import has_control_chars, has_invisible_chars, slugify
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.geo import queries as geo
from petitions.letters.models import (
    DeliveryMode,
    DeliveryStatus,
    Letter,
    LetterDelivery,
    LetterDetails,
    LetterTarget,
    Stance,
    TargetKind,
)
from petitions.signing.models import Signature

MESSAGE_LIMIT = 5000
# Not delivered and not on its way: what withdrawal, erasure or a removed recipient stops.
UNDELIVERED = (
    DeliveryStatus.PENDING.value,
    DeliveryStatus.AWAITING.value,
    DeliveryStatus.DIGEST.value,
)
PLACEHOLDERS = ("supporter_name", "postcode", "constituency", "target_name", "target_title")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")


class LetterError(ValueError):
    """Input that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class LetterInput:
    title: str
    intro: str
    subject: str
    template: str
    thank_you_template: str = ""
    thank_you_subject: str = ""
    personal_prompt: str = ""
    personal_required: bool = False
    delivery_mode: str = DeliveryMode.SENT_FOR_YOU.value
    to_representative: bool = False
    rate_per_minute: int = 4
    digest: bool = False
    goal: int = 1000
    deadline: date | None = None
    # The letter's words in other languages ({"cy": {"title": …, "text": …, "subject": …,
    # "template": …, …}}), kept with the action's; an empty one falls back to the default's.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetInput:
    name: str
    title: str = ""
    organisation: str = ""
    email: str = ""
    # {"cy": {"title": …, "stance_note": …, "response": …}}, as on LetterInput.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


def one_line(label: str, value: str, limit: int, *, required: bool = False) -> str:
    value = value or ""
    if has_control_chars(value) or has_invisible_chars(value):
        raise LetterError(
            _(
                "%(label)s: use one line of text (no line breaks or control characters).",
                label=label,
            )
        )
    value = value.strip()
    if len(value) > limit:
        raise LetterError(
            _("%(label)s can be up to %(limit)s characters.", label=label, limit=limit)
        )
    if required and not value:
        raise LetterError(_("Enter %(label)s.", label=label.lower()))
    return value


def clean_text(label: str, value: str, limit: int, *, required: bool = False) -> str:
    """Several lines of plain text: no HTML, no control or invisible characters."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if has_control_chars(value, allow_newlines=True) or has_invisible_chars(value):
        raise LetterError(_("%(label)s: remove the control or invisible characters.", label=label))
    if _HTML.search(value):
        raise LetterError(
            _("%(label)s: write plain text; HTML tags like <b> are not allowed.", label=label)
        )
    if len(value) > limit:
        raise LetterError(
            _(
                "%(label)s can be up to %(limit)s characters (it has %(length)s).",
                label=label,
                limit=format_number(limit),
                length=format_number(len(value)),
            )
        )
    if required and not value:
        raise LetterError(_("Enter %(label)s.", label=label.lower()))
    return value


def fill(text: str, values: dict[str, str]) -> str:
    """Replace the known ``{placeholders}``; anything else in braces is left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def _free_slug(campaign_id: int, title: str) -> str:
    base = slugify(title, max_length=70, fallback="letter")
    slug, n = base, 1
    while db.session.scalar(
        select(Action.id).where(Action.campaign_id == campaign_id, Action.slug == slug)
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_input(data: LetterInput) -> LetterInput:
    if data.delivery_mode not in {m.value for m in DeliveryMode}:
        raise LetterError(_("Choose how letters are delivered."))
    if not 1 <= int(data.rate_per_minute) <= 600:
        raise LetterError(_("The send rate per target must be between 1 and 600 a minute."))
    if not 1 <= int(data.goal) <= 100_000_000:
        raise LetterError(_("The goal must be a whole number above 0."))
    return LetterInput(
        title=one_line(_("Title"), data.title, 200, required=True),
        intro=clean_text(_("Introduction"), data.intro, 20_000),
        subject=one_line(_("Subject"), data.subject, 200, required=True),
        template=clean_text(_("Message template"), data.template, MESSAGE_LIMIT, required=True),
        thank_you_template=clean_text(
            _("Thank-you template"), data.thank_you_template, MESSAGE_LIMIT
        ),
        thank_you_subject=one_line(_("Thank-you subject"), data.thank_you_subject, 200),
        personal_prompt=one_line(_("Personal line prompt"), data.personal_prompt, 300),
        personal_required=bool(data.personal_required),
        delivery_mode=data.delivery_mode,
        to_representative=bool(data.to_representative),
        rate_per_minute=int(data.rate_per_minute),
        digest=bool(data.digest),
        goal=int(data.goal),
        deadline=data.deadline,
        translations=_clean_translations(data.translations, _LETTER_WORDS),
    )


# Each translatable word of a letter: (how it is checked, its label, its longest).
_LETTER_WORDS = {
    "title": (one_line, "Title", 200),
    "text": (clean_text, "Introduction", 20_000),
    "subject": (one_line, "Subject", 200),
    "template": (clean_text, "Message template", MESSAGE_LIMIT),
    "thank_you_template": (clean_text, "Thank-you template", MESSAGE_LIMIT),
    "thank_you_subject": (one_line, "Thank-you subject", 200),
    "personal_prompt": (one_line, "Personal line prompt", 300),
}


_TARGET_WORDS = {
    "title": (one_line, "Title", 120),
    "stance_note": (one_line, "Public note", 300),
    "response": (clean_text, "Response", 20_000),
}


def _clean_translations(
    translations: dict[str, dict[str, str]], words: dict[str, tuple[Any, str, int]]
) -> dict[str, dict[str, str]]:
    """The other languages' words, checked as the default ones are (none is required)."""
    clean: dict[str, dict[str, str]] = {}
    for language, written in (translations or {}).items():
        name = NATIVE_NAMES.get(language, language)
        clean[language] = {}
        for key, value in written.items():
            check, label, limit = words[key]
            clean[language][key] = check(f"{_(label)} ({name})", value, limit)
    return clean


def create_letter(campaign: Campaign, data: LetterInput) -> Action:
    """A new letter action on ``campaign``. Flushes."""
    clean = _clean_input(data)
    last = db.session.scalar(
        select(func.max(Action.position)).where(Action.campaign_id == campaign.id)
    )
    action = Action(
        campaign_id=campaign.id,
        kind=ActionKind.LETTER.value,
        slug=_free_slug(campaign.id, clean.title),
        title=clean.title,
        text=clean.intro,
        goal=clean.goal,
        deadline=clean.deadline,
        consent_version_id=consent_version(DEFAULT_CONSENT).id,
        thank_you="",
        position=(last or 0) + 1,
    )
    db.session.add(action)
    action.translations = merged_translations({}, clean.translations)
    db.session.flush()
    details = LetterDetails(action_id=action.id)
    _apply(details, clean)
    db.session.add(details)
    db.session.flush()
    return action


def _apply(details: LetterDetails, clean: LetterInput) -> None:
    details.subject = clean.subject
    details.template = clean.template
    details.thank_you_template = clean.thank_you_template
    details.thank_you_subject = clean.thank_you_subject
    details.personal_prompt = clean.personal_prompt
    details.personal_required = clean.personal_required
    details.delivery_mode = clean.delivery_mode
    details.to_representative = clean.to_representative
    details.rate_per_minute = clean.rate_per_minute
    details.digest = clean.digest


def update_letter(action: Action, details: LetterDetails, data: LetterInput) -> None:
    clean = _clean_input(data)
    action.title = clean.title
    action.text = clean.intro
    action.goal = clean.goal
    action.deadline = clean.deadline
    # Only the words this editor has: the action form's (the target, the consent) stay.
    action.translations = merged_translations(action.translations, clean.translations)
    _apply(details, clean)
    db.session.flush()


def _clean_target(data: TargetInput) -> TargetInput:
    name = one_line(_("Name"), data.name, 120, required=True)
    email = one_line(_("Email"), data.email, 254, required=True)
    try:
        normalise_email(email)
    except EmailError as exc:
        raise LetterError(_("Target email: %(error)s", error=exc)) from exc
    return TargetInput(
        name=name,
        title=one_line(_("Title"), data.title, 120),
        organisation=one_line(_("Organisation"), data.organisation, 120),
        email=email,
        translations=_clean_translations(data.translations, _TARGET_WORDS),
    )


def add_target(action: Action, data: TargetInput) -> LetterTarget:
    """A fixed recipient. The email must be a valid address (letters are sent to it)."""
    clean = _clean_target(data)
    last = db.session.scalar(
        select(func.max(LetterTarget.position)).where(LetterTarget.action_id == action.id)
    )
    target = LetterTarget(
        action_id=action.id,
        kind=TargetKind.FIXED.value,
        name=clean.name,
        title=clean.title,
        organisation=clean.organisation,
        email=clean.email,
        position=(last or 0) + 1,
        translations=merged_translations({}, clean.translations),
    )
    db.session.add(target)
    db.session.flush()
    return target


def update_target(target: LetterTarget, data: TargetInput) -> None:
    """Change a fixed recipient's details. Letters not yet delivered go to the new address;
    delivered ones keep the address they went to (``LetterDelivery.recipient``)."""
    if target.is_representative:
        raise LetterError(_("An MP's details come from the representatives data, not from here."))
    if target.removed_at is not None:
        raise LetterError(_("This recipient was removed."))
    clean = _clean_target(data)
    target.name = clean.name
    target.title = clean.title
    target.organisation = clean.organisation
    target.email = clean.email
    target.translations = merged_translations(target.translations, clean.translations)
    db.session.flush()


def remove_target(target: LetterTarget) -> int:
    """Take a fixed recipient off the letter: new letters no longer go to it and whatever has
    not been delivered to it is stopped. Delivered letters stay counted and in the CSV (they
    can't be unsent). Returns how many undelivered letters were stopped."""
    if target.is_representative:
        raise LetterError(
            _("Each supporter's MP is found from their postcode: it can't be removed.")
        )
    if target.removed_at is None:
        target.removed_at = utcnow()
    stopped = db.session.execute(
        update(LetterDelivery)
        .where(
            LetterDelivery.target_id == target.id,
            LetterDelivery.status.in_(UNDELIVERED),
        )
        .values(status=DeliveryStatus.SKIPPED.value, error="recipient removed")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.flush()
    return int(stopped or 0)


def set_stance(
    target: LetterTarget, stance: str, note: str = "", on: date | None = None, response: str = ""
) -> None:
    if stance not in {s.value for s in Stance}:
        raise LetterError(_("Choose a stance: supports, opposes, has responded, or none."))
    target.stance = stance
    target.stance_note = one_line(_("Public note"), note, 300)
    target.stance_on = on or (utcnow().date() if stance else None)
    target.response = clean_text(_("Response"), response, 20_000)
    db.session.flush()


def representative_target(action_id: int, code: str) -> LetterTarget | None:
    """The target row for the MP of ``code`` on this action (made on first use)."""
    found = db.session.scalar(
        select(LetterTarget).where(
            LetterTarget.action_id == action_id, LetterTarget.constituency_code == code
        )
    )
    if found is not None:
        return found
    place = geo.place(code)
    if place is None:
        return None
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(LetterTarget)
        .values(
            action_id=action_id,
            kind=TargetKind.REPRESENTATIVE.value,
            name=place.mp_name or "",
            title="MP for " + place.name,
            organisation="House of Commons",
            email="",
            constituency_code=code,
            stance="",
            stance_note="",
            response="",
            position=0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["action_id", "constituency_code"])
    )
    return db.session.scalar(
        select(LetterTarget).where(
            LetterTarget.action_id == action_id, LetterTarget.constituency_code == code
        )
    )


def fixed_targets(action_id: int) -> list[LetterTarget]:
    return list(
        db.session.scalars(
            select(LetterTarget)
            .where(
                LetterTarget.action_id == action_id,
                LetterTarget.kind == TargetKind.FIXED.value,
                LetterTarget.removed_at.is_(None),
            )
            .order_by(LetterTarget.position, LetterTarget.id)
        )
    )


def body_hash(text: str) -> str:
    words = " ".join(text.lower().split())
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def clean_message(details: LetterDetails, message: str, personal: str) -> str:
    """The supporter's finished text (the edited message, then their own line)."""
    body = clean_text(_("Your message"), message, MESSAGE_LIMIT, required=True)
    own = clean_text(_("Your own words"), personal, 1000)
    if details.personal_required and not own:
        raise LetterError(
            _(
                "%(prompt)s: this is required.",
                prompt=details.words("personal_prompt") or _("Add a line in your own words"),
            )
        )
    full = body + ("\n\n" + own if own else "")
    if len(full) > MESSAGE_LIMIT:
        raise LetterError(
            _(
                "Your message can be up to %(limit)s characters in all.",
                limit=format_number(MESSAGE_LIMIT),
            )
        )
    return full


def record_letter(
    action: Action,
    signature_id: int,
    *,
    body: str,
    thank_you: bool,
    constituency_code: str,
    constituency_name: str,
    target_ids: list[int],
) -> Letter | None:
    """The letter row for a stored signature. While unconfirmed, a new submission by the same
    person replaces the words and targets; once confirmed, it is fixed. Id 0 records nothing."""
    if not signature_id:
        return None
    letter = db.session.scalar(select(Letter).where(Letter.signature_id == signature_id))
    signature = db.session.get(Signature, signature_id)
    if letter is not None and signature is not None and signature.confirmed_at is not None:
        return letter
    if letter is None:
        letter = Letter(signature_id=signature_id, action_id=action.id)
        db.session.add(letter)
    letter.body = body
    letter.body_hash = body_hash(body)
    letter.thank_you = thank_you
    letter.constituency_code = constituency_code
    letter.constituency_name = constituency_name
    letter.target_ids = list(target_ids)
    db.session.flush()
    return letter


def plan_deliveries(signature_id: int) -> int:
    """On confirmation: one delivery row per target (``UNIQUE``: planning twice adds none)."""
    letter = db.session.scalar(select(Letter).where(Letter.signature_id == signature_id))
    if letter is None or not letter.target_ids:
        return 0
    details = db.session.get(LetterDetails, letter.action_id)
    if details is None:
        return 0
    status = (DeliveryStatus.PENDING if details.sends_for_you else DeliveryStatus.AWAITING).value
    due = None
    if details.sends_for_you and details.digest:
        status, due = DeliveryStatus.DIGEST.value, next_digest_at(utcnow())
    valid = set(
        db.session.scalars(
            select(LetterTarget.id).where(
                LetterTarget.action_id == letter.action_id,
                LetterTarget.id.in_([int(t) for t in letter.target_ids]),
                LetterTarget.removed_at.is_(None),
            )
        )
    )
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [
        {
            "letter_id": letter.id,
            "target_id": target_id,
            "status": status,
            "attempts": 0,
            "created_at": now,
            "recipient": "",
            "not_before": due,
            "counted": 0,
            "needs_count": True,  # the count fold adds it to the recipient's tally
        }
        for target_id in letter.target_ids
        if target_id in valid
    ]
    if not rows:
        return 0
    added = db.session.scalars(
        insert(LetterDelivery)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["letter_id", "target_id"])
        .returning(LetterDelivery.id)
    ).all()
    return len(added)


def next_digest_at(now: datetime) -> datetime:
    """When the next daily digest goes: today at ``LETTER_DIGEST_HOUR`` (UTC), or tomorrow."""
    hour = int(current_app.config["LETTER_DIGEST_HOUR"])
    at = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def send_digest_now(action: Action) -> int:
    """The organiser sends what is waiting for this letter's digests now (the worker sends one
    email per recipient). Returns how many letters were waiting."""
    target_ids = select(LetterTarget.id).where(LetterTarget.action_id == action.id)
    changed = db.session.execute(
        update(LetterDelivery)
        .where(
            LetterDelivery.target_id.in_(target_ids),
            LetterDelivery.status == DeliveryStatus.DIGEST.value,
        )
        .values(not_before=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(changed or 0)


def mark_self_sent(letter: Letter) -> int:
    """ "I sent it" (send-it-yourself letters): counted for each target. Idempotent."""
    if letter.self_sent_at is None:
        letter.self_sent_at = utcnow()
    changed = db.session.execute(
        update(LetterDelivery)
        .where(
            LetterDelivery.letter_id == letter.id,
            LetterDelivery.status == DeliveryStatus.AWAITING.value,
        )
        .values(status=DeliveryStatus.SELF_SENT.value, sent_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.flush()
    return int(changed or 0)


def stop_undelivered(signature_ids: list[int]) -> int:
    """Withdrawn letters: what has not gone yet never goes. Delivered ones cannot be unsent."""
    if not signature_ids:
        return 0
    letter_ids = select(Letter.id).where(Letter.signature_id.in_(signature_ids))
    changed = db.session.execute(
        update(LetterDelivery)
        .where(
            LetterDelivery.letter_id.in_(letter_ids),
            LetterDelivery.status.in_(UNDELIVERED),
        )
        .values(status=DeliveryStatus.SKIPPED.value, error="withdrawn")
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(changed or 0)


def flag_for_count(signature_ids: list[int]) -> int:
    """Queue these signatures' delivery rows for the per-recipient count fold."""
    if not signature_ids:
        return 0
    letter_ids = select(Letter.id).where(Letter.signature_id.in_(signature_ids))
    changed = db.session.execute(
        update(LetterDelivery)
        .where(LetterDelivery.letter_id.in_(letter_ids), LetterDelivery.needs_count.is_(False))
        .values(needs_count=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(changed or 0)


def forget(signature_ids: list[int] | None = None) -> int:
    """Erasure and retention: an anonymised signature's letter loses its words and whatever was
    not yet delivered is stopped. Delivered letters stay counted (per target, anonymously).

    With ids (a person erased), those letters; without (the retention sweep), every letter
    whose signature has been anonymised since."""
    from petitions.supporters.models import ERASED_PREFIX

    if signature_ids is not None and not signature_ids:
        return 0
    anonymised = select(Signature.id).where(Signature.email_normalised.like(ERASED_PREFIX + "%"))
    which = Letter.signature_id.in_(signature_ids if signature_ids is not None else anonymised)
    ids = list(db.session.scalars(select(Letter.signature_id).where(which, Letter.body != "")))
    if not ids:
        return 0
    stop_undelivered(ids)
    db.session.execute(
        update(Letter)
        .where(Letter.signature_id.in_(ids))
        .values(body="", body_hash="", constituency_code="", constituency_name="")
        .execution_options(synchronize_session=False)
    )
    return len(ids)
