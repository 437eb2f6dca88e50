"""Organiser accounts: creation and password hashing (argon2)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from sqlalchemy import select

from petitions.core.emails import EmailError, normalise_email
from petitions.core.time import utcnow
from petitions.core.tokens import TokenState, check_token, use_token
from petitions.extensions import db
from petitions.organisers.models import Organiser, Role

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(organiser: Organiser, password: str) -> bool:
    if not organiser.password_hash:
        return False
    try:
        _hasher.verify(organiser.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(organiser.password_hash):
        organiser.password_hash = _hasher.hash(password)
    return True


def set_password(organiser: Organiser, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Passwords need at least %(num)d characters.", num=MIN_PASSWORD_LENGTH)
        )
    organiser.password_hash = hash_password(password)


def create_organiser(
    email: str, password: str | None, *, admin: bool = False, name: str = ""
) -> Organiser:
    """Create an organiser, or update the role and password of an existing one."""
    try:
        normalised = normalise_email(email)
    except EmailError as exc:
        raise AccountError(str(exc)) from exc
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == normalised))
    if organiser is None:
        organiser = Organiser(email=normalised, name=name)
        db.session.add(organiser)
    organiser.role = Role.ADMIN.value if admin else organiser.role or Role.ORGANISER.value
    if password is not None:
        set_password(organiser, password)
    db.session.flush()
    return organiser


# --- logging in -------------------------------------------------------------------------------

INVITE_PURPOSE = "organiser_invite"
INVITE_EMAIL_KIND = "organiser_invite"
INVITE_DAYS = 7
# Verified against when the account does not exist, so both paths cost one argon2 check.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-for-timing")


def find_by_email(email: str) -> Organiser | None:
    try:
        normalised = normalise_email(email)
    except EmailError:
        return None
    return db.session.scalar(select(Organiser).where(Organiser.email == normalised))


def authenticate(email: str, password: str) -> Organiser | None:
    """The active organiser with this email and password, or None (same cost either way)."""
    organiser = find_by_email(email)
    if organiser is None or not organiser.password_hash:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    if not verify_password(organiser, password) or not organiser.active:
        return None
    organiser.last_login_at = utcnow()
    return organiser


def end_sessions(organiser: Organiser) -> None:
    """Invalidate every session cookie this organiser has (logout everywhere)."""
    organiser.session_version = (organiser.session_version or 1) + 1


def set_active(organiser: Organiser, active: bool) -> None:
    organiser.active = active
    end_sessions(organiser)


# --- invitations ------------------------------------------------------------------------------


def invite_organiser(email: str, *, name: str = "", role: str = Role.ORGANISER.value) -> Organiser:
    """Create a password-less account and queue the invitation email (the worker sends it)."""
    from petitions.mailer.services import enqueue

    try:
        normalised = normalise_email(email)
    except EmailError as exc:
        raise AccountError(str(exc)) from exc
    organiser = db.session.scalar(select(Organiser).where(Organiser.email == normalised))
    if organiser is not None and organiser.password_hash:
        raise AccountError(_("That person already has an account."))
    if organiser is None:
        organiser = Organiser(email=normalised, name=name, role=Role(role).value, active=True)
        db.session.add(organiser)
        db.session.flush()
    enqueue(INVITE_EMAIL_KIND, organiser.id)
    return organiser


def invited_organiser(raw_token: str) -> Organiser | None:
    check = check_token(raw_token, INVITE_PURPOSE)
    if check.state is not TokenState.VALID or check.token is None:
        return None
    organiser = db.session.get(Organiser, check.token.subject_id)
    return organiser if organiser is not None and organiser.active else None


def accept_invitation(raw_token: str, password: str) -> Organiser | None:
    """Use the invitation token once and set the password."""
    check = check_token(raw_token, INVITE_PURPOSE)
    if check.state is not TokenState.VALID or check.token is None:
        return None
    organiser = db.session.get(Organiser, check.token.subject_id)
    if organiser is None or not organiser.active or not use_token(check.token):
        return None
    set_password(organiser, password)
    end_sessions(organiser)
    organiser.last_login_at = utcnow()
    return organiser


# --- the demo ---------------------------------------------------------------------------------

DEMO_ADMIN_EMAIL = "admin@example.org"
DEMO_ADMIN_PASSWORD = "demo-admin-password"  # noqa: S105 - development demo only, documented


def create_demo_admin(password: str = DEMO_ADMIN_PASSWORD) -> tuple[Organiser, bool]:
    """The demo admin (created once; an existing account's password is left alone).

    Returns the organiser and whether it was created now.
    """
    organiser = find_by_email(DEMO_ADMIN_EMAIL)
    if organiser is not None:
        return organiser, False
    return create_organiser(DEMO_ADMIN_EMAIL, password, admin=True, name="Demo admin"), True


# --- sharing campaigns ------------------------------------------------------------------------


def grant_access(campaign_id: int, email: str) -> Organiser:
    """Give an existing organiser a campaign they do not own."""
    from petitions.organisers.models import CampaignAccess

    organiser = find_by_email(email)
    if organiser is None:
        raise AccountError(_("There is no organiser with that email. Invite them first."))
    if db.session.get(CampaignAccess, (campaign_id, organiser.id)) is None:
        db.session.add(CampaignAccess(campaign_id=campaign_id, organiser_id=organiser.id))
        db.session.flush()
    return organiser


def revoke_access(campaign_id: int, organiser_id: int) -> None:
    from petitions.organisers.models import CampaignAccess

    found = db.session.get(CampaignAccess, (campaign_id, organiser_id))
    if found is not None:
        db.session.delete(found)
