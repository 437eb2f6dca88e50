"""Organiser accounts: creation and password hashing (argon2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from petitions.extensions import db
from petitions.organisers.models import Organiser, Role
from petitions.signing.emails import EmailError, normalise_email

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
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
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
