"""The mailing composer: write an email without publishing anything, choose who gets it, see
how many that is, preview it, send a test to yourself, then send it now or at a time.

A composed mailing is a ``Mailing`` row of kind ``composed``. It starts as a ``draft``
(editable, sent to nobody); ``schedule`` turns it into a ``queued`` mailing with an optional
``send_at``, after which the sending machinery in ``mailings.services`` takes it exactly as
it takes an update mailing (the sweeper starts it once ``send_at`` has come). Pause, resume
and cancel are unchanged. Services flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from petitions.audit.services import record
from petitions.campaigns.models import ActionKind, Campaign
from petitions.core.i18n import N_
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.services import enqueue
from petitions.mailings.models import (
    Audience,
    Mailing,
    MailingKind,
    MailingStatus,
    MailingTest,
)
from petitions.mailings.notifications import MAILING_TEST_EMAIL_KIND
from petitions.mailings.recipients import recipients_query

TESTS_PER_HOUR = 10  # test copies one mailing may send in an hour
MAX_SCHEDULE_DAYS = 365


class ComposeError(ValueError):
    """What the organiser asked for can't be done; the message says why (in the page's
    language: these are raised while an organiser's request is handled)."""


# "Supporters of petition “…”": one sentence per kind, so each language words it its own way.
_SUPPORTERS_OF_KIND: dict[str, str] = {
    ActionKind.PETITION.value: N_("Supporters of petition “%(title)s”"),
    ActionKind.PLEDGE.value: N_("Supporters of pledge “%(title)s”"),
    ActionKind.EVENT.value: N_("Supporters of event “%(title)s”"),
    ActionKind.LETTER.value: N_("Supporters of letter “%(title)s”"),
}


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str
    audience: Audience
    action_id: int | None = None
    pledge_option: str | None = None
    confirmed_since: datetime | None = None
    # The subject and body in other languages ({"cy": {"subject": …, "body": …}}); an empty
    # one sends the default language's (core.i18n.localised, as every recipient's copy does).
    translations: dict[str, dict[str, str]] = field(default_factory=dict)


def audience_choices(campaign: Campaign) -> list[tuple[str, str]]:
    """(value, label) for the audience picker: the campaign, each action, each pledge option.

    Values are ``campaign``, ``action:<id>`` and ``pledge:<id>:<option number>``.
    """
    choices = [
        (
            "campaign",
            _("Everyone who opted in, on any action of %(campaign)s", campaign=campaign.title),
        )
    ]
    for action in campaign.actions:
        wording = _SUPPORTERS_OF_KIND.get(action.kind)
        label = (
            _(wording, title=action.title)
            if wording
            else _("Supporters of “%(title)s”", title=action.title)
        )
        choices.append((f"action:{action.id}", label))
        if action.kind == ActionKind.PLEDGE:
            for n, option in enumerate(action.pledge_options or []):
                label = _(
                    "Who pledged “%(option)s” on “%(title)s”", option=option, title=action.title
                )
                choices.append((f"pledge:{action.id}:{n}", label))
    return choices


def parse_audience(campaign: Campaign, value: str) -> tuple[Audience, int | None, str | None]:
    """The picker's value as (audience, action id, pledge option); ComposeError if foreign."""
    if value == "campaign":
        return Audience.CAMPAIGN, None, None
    parts = value.split(":")
    actions = {a.id: a for a in campaign.actions}
    try:
        action = actions[int(parts[1])]
    except (IndexError, ValueError, KeyError):
        raise ComposeError(_("Choose who the email is for from the list.")) from None
    if parts[0] == "action" and len(parts) == 2:
        return Audience.ACTION, action.id, None
    if parts[0] == "pledge" and len(parts) == 3 and parts[2].isdigit():
        options = action.pledge_options or []
        index = int(parts[2])
        if index < len(options):
            return Audience.PLEDGE, action.id, options[index]
    raise ComposeError(_("Choose who the email is for from the list."))


def audience_value(mailing: Mailing) -> str:
    """The picker's value for a saved mailing (the inverse of ``parse_audience``)."""
    if mailing.audience == Audience.ACTION and mailing.action_id:
        return f"action:{mailing.action_id}"
    if mailing.audience == Audience.PLEDGE and mailing.action_id and mailing.action:
        options = mailing.action.pledge_options or []
        if mailing.pledge_option in options:
            return f"pledge:{mailing.action_id}:{options.index(mailing.pledge_option)}"
    return "campaign"


def describe_audience(mailing: Mailing) -> str:
    """Who it is for, in words, for the confirmation and the mailing's page."""
    action = mailing.action
    if mailing.audience == Audience.PLEDGE and action is not None:
        who = _(
            "supporters who pledged “%(option)s” on “%(title)s”",
            option=mailing.pledge_option,
            title=action.title,
        )
    elif mailing.audience == Audience.ACTION and action is not None:
        who = _("supporters of “%(title)s”", title=action.title)
    else:
        who = _("supporters of %(campaign)s", campaign=mailing.campaign.title)
    if mailing.confirmed_since is not None:
        who = _(
            "%(who)s who confirmed on or after %(date)s",
            who=who,
            date=format_date(mailing.confirmed_since, "d MMMM y"),
        )
    return _("%(who)s who asked for news and have not unsubscribed", who=who)


def audience_size(mailing: Mailing) -> int:
    """How many people it would go to if it were sent now."""
    query = recipients_query(mailing).subquery()
    return int(db.session.scalar(select(func.count()).select_from(query)) or 0)


def probe(campaign: Campaign, draft: Draft) -> Mailing:
    """An unsaved mailing with this draft's audience, to count it before saving."""
    mailing = Mailing(
        campaign_id=campaign.id,
        kind=MailingKind.COMPOSED.value,
        audience=draft.audience.value,
        action_id=draft.action_id,
        pledge_option=draft.pledge_option,
        confirmed_since=draft.confirmed_since,
    )
    mailing.campaign = campaign
    return mailing


def save_draft(
    campaign: Campaign, mailing: Mailing | None, draft: Draft, organiser_id: int | None
) -> Mailing:
    """Create a draft, or change one that is still a draft."""
    if mailing is not None and mailing.status != MailingStatus.DRAFT:
        raise ComposeError(_("This email has been sent or scheduled; it can't be changed now."))
    if mailing is None:
        mailing = Mailing(
            campaign_id=campaign.id,
            kind=MailingKind.COMPOSED.value,
            dedupe_key=f"composed:{uuid.uuid4().hex}",
            status=MailingStatus.DRAFT.value,
            created_by_id=organiser_id,
            created_at=utcnow(),
            total=0,
        )
        db.session.add(mailing)
    mailing.subject = draft.subject[:200]
    mailing.body = draft.body
    mailing.translations = _written(draft.translations)
    mailing.audience = draft.audience.value
    mailing.action_id = draft.action_id
    mailing.pledge_option = draft.pledge_option
    mailing.confirmed_since = draft.confirmed_since
    db.session.flush()
    db.session.refresh(mailing)
    return mailing


def _written(translations: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Only what was written: an empty field is no translation (the default's words go)."""
    kept = {}
    for language, fields in translations.items():
        words = {name: value for name, value in fields.items() if (value or "").strip()}
        if "subject" in words:
            words["subject"] = words["subject"].strip()[:200]
        if words:
            kept[language] = words
    return kept


def delete_draft(mailing: Mailing) -> None:
    if mailing.status != MailingStatus.DRAFT:
        raise ComposeError(_("Only a draft can be deleted; cancel a scheduled email instead."))
    db.session.delete(mailing)
    db.session.flush()


def send_test(mailing: Mailing, organiser_id: int, language: str | None = None) -> int:
    """Queue a test copy to this organiser (through the outbox), written in ``language`` as a
    recipient in it gets it (None: the default); returns the test's id."""
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count()).where(
            MailingTest.mailing_id == mailing.id, MailingTest.created_at >= since
        )
    )
    if (recent or 0) >= TESTS_PER_HOUR:
        raise ComposeError(
            ngettext(
                "%(num)d test copy of this email was sent in the last hour; "
                "check your inbox (and spam folder), or try again later.",
                "%(num)d test copies of this email were sent in the last hour; "
                "check your inbox (and spam folder), or try again later.",
                TESTS_PER_HOUR,
            )
        )
    test = MailingTest(
        mailing_id=mailing.id, organiser_id=organiser_id, created_at=utcnow(), language=language
    )
    db.session.add(test)
    db.session.flush()
    enqueue(MAILING_TEST_EMAIL_KIND, test.id)
    return test.id


def check_send_at(send_at: datetime | None, now: datetime | None = None) -> None:
    now = now or utcnow()
    if send_at is None:
        return
    if send_at < now - timedelta(minutes=1):
        raise ComposeError(_("That time has passed: choose a time in the future, or send now."))
    if send_at > now + timedelta(days=MAX_SCHEDULE_DAYS):
        raise ComposeError(_("Schedule it within a year."))


def schedule(
    mailing: Mailing, send_at: datetime | None, organiser_id: int | None, recipients: int
) -> bool:
    """Queue a draft: sent at ``send_at`` (None: now). False if it was no longer a draft (a
    second click, or another organiser got there first): nobody is mailed twice."""
    check_send_at(send_at)
    if not (mailing.subject or "").strip():
        raise ComposeError(_("Give the email a subject before sending it."))
    changed = db.session.execute(
        update(Mailing)
        .where(Mailing.id == mailing.id, Mailing.status == MailingStatus.DRAFT.value)
        .values(status=MailingStatus.QUEUED.value, send_at=send_at)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.refresh(mailing)
    if changed:
        record(
            "mailing.scheduled" if send_at else "mailing.sent",
            organiser_id=organiser_id,
            campaign_id=mailing.campaign_id,
            action_id=mailing.action_id,
            subject_ids=[mailing.id],
            detail={
                "subject": mailing.subject,
                "recipients_when_confirmed": recipients,
                "send_at": send_at.isoformat() if send_at else None,
            },
        )
    return bool(changed)
