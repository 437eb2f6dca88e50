"""Who may see what in the organisers' workspace.

Every page under ``/organise/`` loads its objects through these helpers: an organiser sees the
campaigns they own (``Campaign.owner_id``) or were given (``CampaignAccess``); an admin sees
every campaign. Anything else is a 404, so nobody learns that someone else's campaign exists.

    @bp.get("/organise/campaigns/<int:campaign_id>/thing")
    @organiser_required
    def thing(campaign_id: int) -> str:
        campaign = campaign_for_organiser(campaign_id)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import exists, or_, select

from petitions.campaigns.models import Action, Campaign
from petitions.extensions import db
from petitions.organisers.models import CampaignAccess, Organiser

F = TypeVar("F", bound=Callable[..., Any])


def current_organiser() -> Organiser:
    """The logged-in organiser (only call behind ``organiser_required``)."""
    return cast(Organiser, current_user._get_current_object())


def organiser_required(view: F) -> F:
    """Logged in (else redirect to the login page) and the account is active (else 404)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not getattr(current_user, "active", False):
            abort(404)
        return view(*args, **kwargs)

    return cast(F, login_required(wrapped))


def admin_required(view: F) -> F:
    """An active admin; anyone else gets a 404."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_organiser().is_admin:
            abort(404)
        return view(*args, **kwargs)

    return organiser_required(cast(F, wrapped))


def visible_campaigns_clause(organiser: Organiser) -> Any:
    """A WHERE clause on ``Campaign`` matching what this organiser may see."""
    if organiser.is_admin:
        return Campaign.id.is_not(None)
    granted = exists().where(
        CampaignAccess.campaign_id == Campaign.id, CampaignAccess.organiser_id == organiser.id
    )
    return or_(Campaign.owner_id == organiser.id, granted)


def can_access(organiser: Organiser, campaign: Campaign) -> bool:
    if organiser.is_admin or campaign.owner_id == organiser.id:
        return True
    return db.session.get(CampaignAccess, (campaign.id, organiser.id)) is not None


def campaign_for_organiser(campaign_id: int) -> Campaign:
    """The campaign, if the current organiser may see it; otherwise 404."""
    campaign = db.session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id, visible_campaigns_clause(current_organiser())
        )
    )
    if campaign is None:
        abort(404)
    return campaign


def action_for_organiser(action_id: int, campaign_id: int | None = None) -> Action:
    """The action, if its campaign is visible to the current organiser; otherwise 404."""
    action = db.session.get(Action, action_id)
    if action is None or (campaign_id is not None and action.campaign_id != campaign_id):
        abort(404)
    campaign_for_organiser(action.campaign_id)
    return action


def campaigns_for(organiser: Organiser) -> list[Campaign]:
    return list(
        db.session.scalars(
            select(Campaign)
            .where(visible_campaigns_clause(organiser))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
    )
