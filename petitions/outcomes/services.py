"""Recording the target's response and the outcome. Services flush; the unit of work commits.

Each entry may tell the action's supporters by email: a composed mailing to the action's
audience (confirmed signers who consent *now*, ``mailings.recipients``), requested once per
entry with the key ``outcome:<id>`` however often it is asked, sent by the mailings worker
after the commit, written in every enabled language (each supporter gets the one they signed
in). **Declare victory** is an entry of kind ``victory`` that also closes the
action and always tells its supporters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from petitions.audit.services import record
from petitions.campaigns.models import Action
from petitions.campaigns.services import close_action, kept_translations
from petitions.core.dispatch import nudge
from petitions.core.i18n import default_language, enabled, in_language, localised
from petitions.core.text import has_control_chars, has_invisible_chars
from petitions.core.time import utcnow
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.mailings.models import Audience, MailingKind
from petitions.mailings.services import SWEEP_TASK, request_mailing
from petitions.outcomes.models import KIND_LABELS, ActionOutcome, OutcomeKind


class OutcomeError(ValueError):
    """Input that cannot be accepted; the message says why."""


@dataclass(frozen=True)
class OutcomeInput:
    kind: str
    title: str = ""
    text: str = ""
    link: str = ""
    happened_on: date | None = None
    notify: bool = False
    # The title and text in other languages ({"cy": {"title": …, "text": …}}); empty: English.
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


def _clean_title(title: str) -> str:
    if has_control_chars(title) or has_invisible_chars(title):
        raise OutcomeError(
            _l("Title: use one line of text (no line breaks or control characters).")
        )
    if len(title) > 200:
        raise OutcomeError(_l("The title can be up to 200 characters."))
    return title


def _clean_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if has_control_chars(text, allow_newlines=True) or has_invisible_chars(text):
        raise OutcomeError(_l("What happened: remove the control or invisible characters."))
    if len(text) > 20_000:
        raise OutcomeError(_l("What happened can be up to 20,000 characters."))
    return text


def _clean(data: OutcomeInput) -> OutcomeInput:
    if data.kind not in {k.value for k in OutcomeKind}:
        raise OutcomeError(
            _l("Choose what happened: a response, a debate, a milestone or victory.")
        )
    title = _clean_title((data.title or "").strip() or KIND_LABELS[data.kind])
    text = _clean_text(data.text)
    translations = kept_translations(
        {
            language: {
                "title": _clean_title((words.get("title") or "").strip()),
                "text": _clean_text(words.get("text") or ""),
            }
            for language, words in (data.translations or {}).items()
        }
    )
    link = (data.link or "").strip()
    if link:
        if len(link) > 500 or has_control_chars(link) or any(c.isspace() for c in link):
            raise OutcomeError(_l("Enter the link as one web address (up to 500 characters)."))
        try:
            parts = urlsplit(link)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutcomeError(_l("The link must be a full web address starting with https://."))
    on = data.happened_on or utcnow().date()
    if on.year < 1900 or on > utcnow().date() + timedelta(days=366):
        raise OutcomeError(_l("Give the date it happened."))
    return OutcomeInput(data.kind, title, text, link, on, bool(data.notify), translations)


def _email_words(entry: ActionOutcome, action: Action, language: str) -> dict[str, str]:
    """The outcome email's subject and body (Markdown) in ``language``: the organiser's words
    in it where they wrote them (``translations``), ours in that language around them."""
    with in_language(language):
        title = str(localised(action, "title"))
        lines = [f"**{entry.label}**, {format_date(entry.happened_on, 'd MMMM y')}", ""]
        if entry.text:
            lines += [entry.shown_text, ""]
        if entry.link:
            lines += [_("Read more: %(link)s", link=f"<{entry.link}>"), ""]
        lines.append(_('Thank you for taking part in "%(title)s".', title=title))
        return {"subject": f"{title}: {entry.shown_title}"[:200], "body": "\n".join(lines)}


def _mail(entry: ActionOutcome, action: Action, organiser_id: int | None) -> None:
    # One mailing (one delivery per supporter, once), written in every enabled language: each
    # supporter gets the version in the language they signed in (``mailings.notifications``).
    default = default_language()
    words = {code: _email_words(entry, action, code) for code in enabled()}
    mailing, created = request_mailing(
        action.campaign_id,
        f"outcome:{entry.id}",
        words[default]["subject"],
        MailingKind.COMPOSED,
        action_id=action.id,
        organiser_id=organiser_id,
    )
    if created:
        mailing.body = words[default]["body"]
        mailing.translations = {code: w for code, w in words.items() if code != default}
        mailing.audience = Audience.ACTION.value
        entry.mailing_id = mailing.id
        db.session.flush()
        after_commit(nudge, SWEEP_TASK, key=SWEEP_TASK)


def add_entry(action: Action, data: OutcomeInput, organiser_id: int | None) -> ActionOutcome:
    """A new timeline entry; with ``notify`` (always for a victory) an email to supporters."""
    clean = _clean(data)
    assert clean.happened_on is not None
    entry = ActionOutcome(
        action_id=action.id,
        kind=clean.kind,
        title=clean.title,
        text=clean.text,
        link=clean.link,
        happened_on=clean.happened_on,
        translations=clean.translations,
        created_by_id=organiser_id,
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    if clean.kind == OutcomeKind.VICTORY.value:
        close_action(action)
    if clean.notify or clean.kind == OutcomeKind.VICTORY.value:
        _mail(entry, action, organiser_id)
    record(
        "action.outcome.victory" if entry.is_victory else "action.outcome.add",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        subject_ids=[entry.id],
        detail={"kind": entry.kind, "title": entry.title, "emailed": entry.mailing_id is not None},
    )
    return entry


def remove_entry(entry: ActionOutcome, organiser_id: int | None) -> None:
    """Take an entry off the timeline (an email already sent about it stays sent)."""
    action = entry.action
    record(
        "action.outcome.remove",
        organiser_id=organiser_id,
        campaign_id=action.campaign_id,
        action_id=action.id,
        subject_ids=[entry.id],
        detail={"kind": entry.kind, "title": entry.title},
    )
    db.session.delete(entry)
    db.session.flush()
