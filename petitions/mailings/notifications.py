"""Building mailing emails (one per recipient, with their own unsubscribe link) and the
milestone emails to organisers (through the outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import make_msgid
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import Markup

from petitions.core.i18n import current_language, in_language, language_prefix, localised
from petitions.core.text import render_markdown
from petitions.extensions import db
from petitions.mailer.registry import BuiltEmail, email_builder
from petitions.mailings.models import Mailing, MailingKind, MailingTest, MilestoneNotice
from petitions.organisers.models import Organiser

MILESTONE_EMAIL_KIND = "milestone"
MAILING_TEST_EMAIL_KIND = "mailing_test"
_UNSUBSCRIBE_SALT = "unsubscribe"


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(delivery_id: int) -> str:
    """A link token naming one delivery record: no address in it, and it never expires."""
    return str(_unsubscribe_serializer().dumps(delivery_id))


def read_unsubscribe_token(token: str) -> int | None:
    if not token or len(token) > 100:
        return None
    try:
        value = _unsubscribe_serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def unsubscribe_url(delivery_id: int) -> str:
    """The unsubscribe page in the current language (the recipient's, as their email is)."""
    public = current_app.config["PUBLIC_URL"]
    return f"{public}{language_prefix()}/u/{unsubscribe_token(delivery_id)}"


def _mail_domain() -> str:
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "localhost"


@dataclass
class MailingContent:
    """What every recipient of a mailing gets, rendered once per batch."""

    subject: str
    heading: str
    body_text: str
    body_html: Markup
    campaign_title: str
    campaign_url: str
    list_id: str
    language: str = ""  # what it is written in (the Content-Language of each copy)


def content_for(mailing: Mailing, language: str | None = None) -> MailingContent:
    """The mailing in ``language`` (a recipient's ``signatures.language``; the default if
    None): the organiser's words in it where they wrote them, else the default language's."""
    with in_language(language):
        return _content(mailing)


def _content(mailing: Mailing) -> MailingContent:
    campaign = mailing.campaign
    public = current_app.config["PUBLIC_URL"]
    campaign_url = f"{public}{language_prefix()}/c/{campaign.slug}"
    subject = localised(mailing, "subject")
    if mailing.kind == MailingKind.GOAL_REACHED and mailing.action is not None:
        action = mailing.action
        title = localised(action, "title")
        subject = heading = _("We reached the goal: %(title)s", title=title)
        body = _(
            "Together we passed the goal of %(goal)s for \u201c%(title)s\u201d. "
            "Thank you for being part of it. We will tell you what happens next.",
            goal=format_decimal(action.goal),
            title=title,
        )
    elif mailing.kind == MailingKind.COMPOSED:
        heading = subject
        body = localised(mailing, "body") or ""
    else:
        update = mailing.update
        if update is not None:
            subject = heading = localised(update, "title")
        else:
            heading = subject
        body = localised(update, "body") if update else ""
    campaign_title = localised(campaign, "title")
    return MailingContent(
        subject=subject,
        heading=heading,
        body_text=body,
        body_html=render_markdown(body),
        campaign_title=campaign_title,
        campaign_url=campaign_url,
        list_id=f"{campaign.title[:60]} <campaign-{campaign.id}.{_mail_domain()}>",
        language=current_language(),
    )


def render_parts(content: MailingContent, name: str, link: str | None) -> tuple[str, str]:
    """(text, html) of one copy. ``link`` None: a preview or a test, with no unsubscribe
    link of its own (each real recipient gets theirs)."""
    context = {"content": content, "name": name, "unsubscribe_url": link}
    with in_language(content.language or None):
        return (
            render_template("email/mailing.txt", **context),
            render_template("email/mailing.html", **context),
        )


def mailing_message(content: MailingContent, delivery_id: int, name: str, email: str) -> Message:
    """One recipient's copy: a visible unsubscribe link and RFC 8058 one-click headers."""
    with in_language(content.language or None):
        link = unsubscribe_url(delivery_id)
    text, html = render_parts(content, name, link)
    message = Message(
        subject=content.subject,
        recipients=[(name, email)],
        body=text,
        html=html,
        extra_headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": content.list_id,
            "Precedence": "bulk",
            "Auto-Submitted": "auto-generated",
            "Content-Language": content.language,
        },
    )
    # make_msgid() looks the host name up for every message; name the domain ourselves.
    message.msgId = make_msgid(domain=_mail_domain())
    return message


@email_builder(MILESTONE_EMAIL_KIND)
def build_milestone(notice_id: int) -> BuiltEmail | None:
    """To the campaign's owner: an action passed 25/50/75/100 % of its goal."""
    notice = db.session.get(MilestoneNotice, notice_id)
    if notice is None:
        return None
    from petitions.campaigns.models import Action

    action = db.session.get(Action, notice.action_id)
    if action is None or action.campaign.owner_id is None:
        return None
    owner = db.session.get(Organiser, action.campaign.owner_id)
    if owner is None or not owner.active:
        return None
    context = {
        "organiser": owner,
        "action": action,
        "campaign": action.campaign,
        "percent": notice.percent,
        "confirmed": notice.confirmed,
        "link": f"{current_app.config['PUBLIC_URL']}/c/{action.campaign.slug}/{action.slug}",
    }
    message = Message(
        subject=_(
            "%(percent)s%% of the goal: %(title)s", percent=notice.percent, title=action.title
        ),
        recipients=[(owner.name or owner.email, owner.email)],
        body=render_template("email/milestone.txt", **context),
        html=render_template("email/milestone.html", **context),
        extra_headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    return BuiltEmail(message=message, recipient=owner.email.lower())


@email_builder(MAILING_TEST_EMAIL_KIND)
def build_mailing_test(test_id: int) -> BuiltEmail | None:
    """A test copy of a draft or scheduled mailing, to the organiser who asked for it."""
    test = db.session.get(MailingTest, test_id)
    if test is None:
        return None
    mailing = db.session.get(Mailing, test.mailing_id)
    organiser = db.session.get(Organiser, test.organiser_id)
    if mailing is None or organiser is None or not organiser.active:
        return None
    # In the language the organiser chose: what a recipient who signed in it gets.
    content = content_for(mailing, test.language)
    name = organiser.name or organiser.email
    text, html = render_parts(content, name, None)
    with in_language(content.language):
        subject = _("[Test] %(subject)s", subject=content.subject)
    message = Message(
        subject=subject,
        recipients=[(name, organiser.email)],
        body=text,
        html=html,
        extra_headers={
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "Content-Language": content.language,
        },
    )
    message.msgId = make_msgid(domain=_mail_domain())
    return BuiltEmail(message=message, recipient=organiser.email.lower())
