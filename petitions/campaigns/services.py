"""Changing campaigns, their actions and updates (what organisers do), and consent wording.

Flushes, never commits. The demo campaign is in ``campaigns/demo.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask_babel import ngettext
from sqlalchemy import select

from petitions.campaigns.images import prepare_hero
from petitions.campaigns.models import (
    Action,
    ActionConsent,
    ActionKind,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    ConsentVersion,
)
from petitions.core.time import utcnow
from petitions.extensions import db

DEFAULT_CONSENT = (
    "We will use your name, email and postcode to count and verify your signature, and share "
    "the total (never your details) with the target. If you tick the box, we will also email "
    "you about this campaign; every email has a link to stop them."
)
# The same wording in the other languages, offered for a new action (the organiser may change
# or clear it: where there is none, signers in that language see the default one).
DEFAULT_CONSENT_IN = {
    "cy": (
        "Byddwn yn defnyddio eich enw, eich cyfeiriad e-bost a'ch cod post i gyfrif a dilysu "
        "eich llofnod, ac yn rhannu'r cyfanswm (byth eich manylion) gyda'r targed. Os byddwch "
        "yn ticio'r blwch, byddwn hefyd yn anfon e-bost atoch am yr ymgyrch hon; mae dolen ym "
        "mhob e-bost i'w hatal."
    ),
}


def consent_version(text: str) -> ConsentVersion:
    """The stored version of this exact wording, created the first time it is used."""
    text_hash = ConsentVersion.hash_of(text)
    found = db.session.scalar(select(ConsentVersion).where(ConsentVersion.text_hash == text_hash))
    if found is None:
        found = ConsentVersion(text=text, text_hash=text_hash)
        db.session.add(found)
        db.session.flush()
    return found


class SlugTaken(ValueError):
    pass


class PledgeOptionsMismatch(ValueError):
    """Pledge options in another language that do not pair one for one with the default
    language's: a Welsh option stands for the English one at the same place."""

    def __init__(self, language: str, message: str) -> None:
        super().__init__(message)
        self.language = language


PLEDGE_OPTIONS_MAX = 20


def pledge_option_lines(text: str) -> list[str]:
    """Pledge options written one a line: blank lines dropped, each up to 200 characters."""
    lines = (text or "").splitlines()
    return [line.strip()[:200] for line in lines if line.strip()][:PLEDGE_OPTIONS_MAX]


def _free_campaign_slug(slug: str, campaign_id: int | None) -> bool:
    found = db.session.scalar(select(Campaign.id).where(Campaign.slug == slug))
    return found is None or found == campaign_id


def _free_action_slug(campaign_id: int, slug: str, action_id: int | None) -> bool:
    found = db.session.scalar(
        select(Action.id).where(Action.campaign_id == campaign_id, Action.slug == slug)
    )
    return found is None or found == action_id


def save_campaign(
    campaign: Campaign | None,
    *,
    owner_id: int,
    title: str,
    slug: str,
    summary: str,
    body: str,
    image_url: str | None,
    status: str,
    translations: dict[str, dict[str, str]] | None = None,
    hero: bytes | None = None,
    hero_alt: str | None = None,
    remove_hero: bool = False,
) -> Campaign:
    """Create (campaign None) or edit a campaign. Raises SlugTaken."""
    if not _free_campaign_slug(slug, campaign.id if campaign else None):
        raise SlugTaken(slug)
    if campaign is None:
        campaign = Campaign(owner_id=owner_id)
        db.session.add(campaign)
    campaign.title = title
    campaign.slug = slug
    campaign.summary = summary
    campaign.body = body
    campaign.image_url = image_url or None
    if translations is not None:
        campaign.translations = kept_translations(translations)
    if hero is not None:
        jpeg, campaign.hero_width, campaign.hero_height = prepare_hero(hero)  # may raise HeroError
        campaign.hero_jpeg = jpeg
        campaign.hero_version = (campaign.hero_version or 0) + 1
    elif remove_hero:
        campaign.hero_jpeg = None
        campaign.hero_width = campaign.hero_height = campaign.hero_version = 0
    if hero_alt is not None:
        campaign.hero_alt = hero_alt.strip()[:300]
    set_campaign_status(campaign, status)
    db.session.flush()
    return campaign


def kept_translations(translations: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Only what was written: an empty field falls back to the default language's words."""
    kept = {}
    for language, fields in translations.items():
        written = {name: value.strip() for name, value in fields.items() if value and value.strip()}
        if written:
            kept[language] = written
    return kept


def merged_translations(
    written: dict[str, dict[str, Any]] | None, changed: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``written`` with the fields ``changed`` names set (an empty one taken off: it falls
    back to the default language's words); fields it does not name are kept, so each form
    keeps only its own words (the action form's title, the letter editor's subject, the
    event form's venue) in the one ``translations`` of a row."""
    merged = {code: dict(fields) for code, fields in (written or {}).items()}
    for code, fields in changed.items():
        mine = merged.setdefault(code, {})
        for name, value in fields.items():
            value = value.strip() if isinstance(value, str) else value
            if value:
                mine[name] = value
            else:
                mine.pop(name, None)
    return {code: fields for code, fields in merged.items() if fields}


def set_campaign_status(campaign: Campaign, status: str) -> None:
    status = CampaignStatus(status).value
    if status == CampaignStatus.LIVE and campaign.published_at is None:
        campaign.published_at = utcnow()
    campaign.status = status


def save_action(
    campaign: Campaign,
    action: Action | None,
    *,
    kind: str,
    title: str,
    slug: str,
    target: str,
    text: str,
    goal: int,
    deadline: date | None,
    pledge_options: list[str],
    consent: str,
    thank_you: str,
    position: int,
    translations: dict[str, dict[str, str]] | None = None,
) -> Action:
    """Create or change an action. ``translations`` are the other languages' words, as typed
    (``pledge_options`` one a line); PledgeOptionsMismatch when those options do not pair
    one for one with ``pledge_options``."""
    if not _free_action_slug(campaign.id, slug, action.id if action else None):
        raise SlugTaken(slug)
    offered = pledge_options if ActionKind(kind) == ActionKind.PLEDGE else []
    # Checked before anything changes, as the slug is.
    translated_options = {
        code: _translated_options(code, fields.get("pledge_options", ""), offered)
        for code, fields in (translations or {}).items()
    }
    if action is None:
        action = Action(campaign_id=campaign.id)
        db.session.add(action)
    action.kind = ActionKind(kind).value
    action.title = title
    action.slug = slug
    action.target = target or None
    action.text = text
    action.goal = goal
    action.deadline = deadline
    action.pledge_options = offered
    action.consent_version_id = consent_version(consent.strip()).id
    action.thank_you = thank_you
    action.position = position
    if translations is not None:
        # The consent wording is not kept with the other words: each language's is a
        # consent version of its own (``set_consents``), as exact as the default one.
        words = {
            code: {
                name: value
                for name, value in fields.items()
                if name not in ("consent", "pledge_options")
            }
            for code, fields in translations.items()
        }
        changed: dict[str, dict[str, Any]] = {code: dict(w) for code, w in words.items()}
        for code, options in translated_options.items():
            changed.setdefault(code, {})["pledge_options"] = options
        # Words this form does not edit (a letter's subject, an event's venue) are kept.
        action.translations = merged_translations(action.translations, changed)
        set_consents(
            action,
            {
                code: fields["consent"]
                for code, fields in translations.items()
                if "consent" in fields
            },
        )
    db.session.flush()
    return action


def _translated_options(language: str, text: str, offered: list[str]) -> list[str]:
    """The options in ``language``, one a line: one for each default option, in its order
    (each stands for the one at its place), or none (the default ones are shown)."""
    options = pledge_option_lines(text) if offered else []
    if options and len(options) != len(offered):
        count = len(offered)
        raise PledgeOptionsMismatch(
            language,
            ngettext(
                "There is %(num)s pledge option: write it here on one line, or leave this "
                "empty to show it as it is.",
                "There are %(num)s pledge options: write one for each, one a line in the same "
                "order, or leave this empty to show them as they are.",
                count,
            ),
        )
    return options


def set_consents(action: Action, wording: dict[str, str]) -> None:
    """The consent wording per other language (``{"cy": text}``); an empty one is taken off,
    and signers in that language see (and agree to) the default wording again."""
    kept = {written.language: written for written in action.consents}
    for language, text in wording.items():
        text = (text or "").strip()
        if not text:
            if language in kept:
                action.consents.remove(kept[language])
            continue
        version_id = consent_version(text).id
        if language in kept:
            kept[language].consent_version_id = version_id
        else:
            action.consents.append(ActionConsent(language=language, consent_version_id=version_id))


def close_action(action: Action) -> None:
    """No new signatures or confirmations from now on."""
    if action.closed_at is None:
        action.closed_at = utcnow()


def reopen_action(action: Action) -> None:
    action.closed_at = None


def save_update(
    campaign: Campaign,
    update: CampaignUpdate | None,
    *,
    title: str,
    body: str,
    published_at: datetime | None,
    translations: dict[str, dict[str, str]] | None = None,
) -> CampaignUpdate:
    if update is None:
        update = CampaignUpdate(campaign_id=campaign.id)
        db.session.add(update)
    update.title = title
    update.body = body
    if translations is not None:
        update.translations = kept_translations(translations)
    update.published_at = published_at.replace(tzinfo=UTC) if published_at else utcnow()
    db.session.flush()
    return update


def delete_update(update: CampaignUpdate) -> None:
    db.session.delete(update)
