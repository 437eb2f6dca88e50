"""Signing and confirming. Services flush; the unit of work commits.

:func:`submit_signature` is the one path from a submission to a stored signature, shared by
the web form, the embed, the hot path, the API and the letters and events intakes: it runs the
screening checks, records the signature (flushed, in the caller's unit of work) and registers
the workers' nudge to run after that unit of work commits, so a broker failure loses nothing
and a rollback drops the nudge with the row.

What other areas do about a new or confirmed signature (webhooks, counting, ...) they do in
receivers of ``petitions.core.events``; signing imports none of them.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import Date, and_, bindparam, exists, func, join, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from petitions.campaigns.models import Action, ActionConsent, Campaign
from petitions.core import events
from petitions.core.dispatch import nudge
from petitions.core.emails import canonical_email
from petitions.core.time import utcnow
from petitions.core.tokens import TokenState, check_token, use_token
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.mailer.services import DRAIN_TASK, enqueue, outbox_rows_for
from petitions.screening.checks import RequestFacts, Verdict, assess, clean_ip
from petitions.signing.models import Signature

log = logging.getLogger(__name__)

CONFIRM_PURPOSE = "confirm_signature"
CONFIRM_EMAIL_KIND = "confirm_signature"


class ActionClosed(Exception):
    """The action no longer takes signatures."""


@dataclass(frozen=True)
class SignatureInput:
    name: str
    email: str
    email_normalised: str
    postcode: str
    postcode_area: str
    country: str
    comment: str = ""
    pledge_option: str | None = None
    wants_updates: bool = False
    source: str = ""
    referrer: str = ""
    ip_address: str | None = None
    # Set by the abuse checks: held for review (stored, not counted, not emailed until an
    # organiser approves it), and why; or only the reason, for a signature sent as usual.
    suspect: bool = False
    review_reason: str | None = None
    # The language the person used (core.i18n): their emails are written in it. Empty: the
    # site's default.
    language: str = ""


@dataclass(frozen=True)
class SignOutcome:
    signature_id: int
    created: bool
    email_queued: bool


class Signable(Protocol):
    """What signing needs of an action: a loaded ``Action``, or the hot path's snapshot of one."""

    @property
    def id(self) -> int: ...

    def is_open(self, today: date | None = None) -> bool: ...


_INSERTS: dict[tuple[str, bool], Any] = {}


def _insert_statement(dialect: str, with_outbox: bool) -> Any:
    """The one statement that writes a signature, built once per dialect and reused.

    ``INSERT INTO signatures ... SELECT ... FROM actions JOIN campaigns WHERE <the action is
    open> ON CONFLICT DO NOTHING RETURNING id``: the open/deadline check is in SQL
    (``Action.open_clause``) and the consent wording recorded is the action's current one in
    the signer's language (``Action.consent_in``: its own version in that language, else the
    default one), read in the same statement, so a signature is never stored on an action that
    closed a moment ago (however the caller decided it was open: a loaded row or the hot
    path's snapshot) and always names the words its signer was shown.

    With ``with_outbox`` (PostgreSQL), the confirmation email's outbox row is written by the
    same statement (a data-modifying CTE): one round trip for both rows. Building either per
    request (22 values, coerced and cache-keyed each time) was a fifth of a signature's web CPU.
    """
    statement = _INSERTS.get((dialect, with_outbox))
    if statement is None:
        table: Any = Signature.__table__
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        columns = [name for name in _SIGNATURE_COLUMNS if name != "consent_version_id"]
        params = {name: bindparam(f"p_{name}", type_=table.c[name].type) for name in columns}
        in_language = (
            select(ActionConsent.consent_version_id)
            .where(
                ActionConsent.action_id == Action.id,
                ActionConsent.language == params["language"],
            )
            .scalar_subquery()
        )
        source = (
            select(
                *params.values(),
                func.coalesce(in_language, Action.consent_version_id),
            )
            .select_from(join(Action, Campaign, Action.campaign_id == Campaign.id))
            .where(
                Action.id == bindparam("p_action_id"),
                Action.open_clause(bindparam("p_today", type_=Date)),
            )
        )
        written = (
            insert(table)
            .from_select([*columns, "consent_version_id"], source)
            .on_conflict_do_nothing(index_elements=["action_id", "email_canonical"])
            .returning(table.c.id)
        )
        if with_outbox:
            signature = written.cte("new_signature")
            now = bindparam("p_created_at", type_=table.c.created_at.type)
            outbox = outbox_rows_for(CONFIRM_EMAIL_KIND, signature.c.id, now).cte("new_outbox")
            statement = select(signature.c.id).add_cte(outbox)
        else:
            statement = written
        _INSERTS[(dialect, with_outbox)] = statement
    return statement


_SIGNATURE_COLUMNS = (
    "action_id",
    "email",
    "email_normalised",
    "email_canonical",
    "name",
    "postcode",
    "postcode_area",
    "country",
    "comment",
    "pledge_option",
    "wants_updates",
    "consent_version_id",
    "source",
    "referrer",
    "ip_address",
    "created_at",
    "confirm_emails_sent",
    "counted",
    "needs_count",
    "suspect",
    "review_reason",
    "language",
)


def sign(action: Signable, data: SignatureInput) -> SignOutcome:
    """Record a signature (or find the existing one) and queue its confirmation email.

    The caller gets the same outcome shape whether or not this person had signed before;
    the page shown must not differ, so nothing reveals who has signed.
    """
    today = utcnow().date()
    if not action.is_open(today):
        raise ActionClosed
    params = signature_params(action, data, today)
    canonical = params["p_email_canonical"]
    dialect = db.session.get_bind().dialect.name
    with_outbox = dialect == "postgresql" and not data.suspect
    new_id = db.session.execute(_insert_statement(dialect, with_outbox), params).scalar()
    if new_id is None and not _open_now(action.id, today):
        raise ActionClosed  # closed since the caller looked: nothing was written
    if new_id is not None and data.suspect:
        events.signature_created.send(
            "signing", signature_id=new_id, action_id=action.id, email_queued=False
        )
        return SignOutcome(new_id, created=True, email_queued=False)
    if data.suspect:
        return SignOutcome(0, created=False, email_queued=False)
    if new_id is not None:
        if not with_outbox:
            enqueue(CONFIRM_EMAIL_KIND, new_id)
        announce_signature(action.id, new_id)
        return SignOutcome(new_id, created=True, email_queued=True)
    return _signed_before(action, canonical, params["p_language"])


def signature_params(action: Signable, data: SignatureInput, today: date) -> dict[str, Any]:
    """The bound values of the statement that writes a signature (``signature_statement``)."""
    # One inbox, one signature: the duplicate check uses the canonical key; the address as
    # typed is what is stored and mailed.
    canonical = canonical_email(data.email_normalised)
    values = {
        "action_id": action.id,
        "email": data.email,
        "email_normalised": data.email_normalised,
        "email_canonical": canonical,
        "name": data.name,
        "postcode": data.postcode,
        "postcode_area": data.postcode_area,
        "country": data.country,
        "comment": data.comment,
        "pledge_option": data.pledge_option,
        "wants_updates": data.wants_updates,
        "source": data.source,
        "referrer": data.referrer,
        "ip_address": data.ip_address,
        "created_at": utcnow(),
        "confirm_emails_sent": 1,
        "counted": 0,
        "needs_count": True,
        "suspect": data.suspect,
        "review_reason": data.review_reason[:200] if data.review_reason else None,
        "language": data.language or current_app.config["DEFAULT_LANGUAGE"],
    }
    params = {f"p_{k}": v for k, v in values.items()}
    params["p_today"] = today
    return params


def signature_statement(dialect: str) -> Any:
    """The one statement writing a signature and, on PostgreSQL, its confirmation email's
    outbox row, for a caller that executes it itself (the hot path, on its own connection):
    ``signature_params`` are its values; it returns the new id, or no row (a duplicate, or
    the action closed), after which ``sign`` says what happened. Elsewhere (SQLite: no
    data-modifying CTE) ``confirmation_statement`` then writes the outbox row, in the same
    transaction."""
    return _insert_statement(dialect, dialect == "postgresql")


_CONFIRMATION: list[Any] = []


def confirmation_statement() -> Any:
    """The outbox row of a new signature's confirmation email (``enqueue``'s row), for the
    same caller: ``p_ref_id`` the signature's id, ``p_created_at`` its ``created_at``."""
    if not _CONFIRMATION:
        now = bindparam("p_created_at", type_=Signature.__table__.c.created_at.type)
        ref = bindparam("p_ref_id", type_=Signature.__table__.c.id.type)
        _CONFIRMATION.append(outbox_rows_for(CONFIRM_EMAIL_KIND, ref, now))
    return _CONFIRMATION[0]


def announce_signature(action_id: int, signature_id: int) -> None:
    """A new signature whose email is queued: tell the other areas, nudge the outbox after
    the commit (``submit_signature``'s and the hot path's, the same calls in the same order)."""
    events.signature_created.send(
        "signing", signature_id=signature_id, action_id=action_id, email_queued=True
    )
    after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)


def announced_effects_only() -> bool:
    """``announce_signature``'s receivers write nothing (``core.events.effects_only``), so a
    signature may commit before they run: the hot path's statement then commits itself."""
    return events.only_effects_listen(events.signature_created, "signing")


def _signed_before(action: Signable, canonical: str, language: str) -> SignOutcome:
    # Already signed: while pending, re-send the confirmation, up to a cap per signature.
    cap = current_app.config["CONFIRM_EMAIL_CAP"]
    existing_id = db.session.scalar(
        update(Signature)
        .where(
            Signature.action_id == action.id,
            Signature.email_canonical == canonical,
            Signature.confirmed_at.is_(None),
            Signature.confirm_emails_sent < cap,
            Signature.suspect.is_(False),
            Signature.invalidated_at.is_(None),
            *_resend_spacing(),
        )
        .values(
            confirm_emails_sent=Signature.confirm_emails_sent + 1,
            # Asked again in another language: the new email is in the one used now.
            language=language,
        )
        .returning(Signature.id)
        .execution_options(synchronize_session=False)
    )
    if existing_id is not None:
        enqueue(CONFIRM_EMAIL_KIND, existing_id)
        return SignOutcome(existing_id, created=False, email_queued=True)
    found = db.session.scalar(
        select(Signature.id).where(
            Signature.action_id == action.id,
            Signature.email_canonical == canonical,
        )
    )
    return SignOutcome(found or 0, created=False, email_queued=False)


def _open_now(action_id: int, today: date) -> bool:
    """Whether the action takes signatures, asked of the database (``Action.open_clause``)."""
    return (
        db.session.scalar(
            select(Action.id)
            .join(Campaign, Action.campaign_id == Campaign.id)
            .where(Action.id == action_id, Action.open_clause(today))
        )
        is not None
    )


def _resend_spacing() -> list[Any]:
    """No re-send while a confirmation for this signature is queued or went out moments ago.

    However many times (and however concurrently) one address is submitted, it gets at most
    ``CONFIRM_EMAIL_CAP`` emails per action, spaced ``CONFIRM_RESEND_SECONDS`` apart
    (0 turns the spacing off).
    """
    seconds = current_app.config.get("CONFIRM_RESEND_SECONDS", 60)
    if not seconds:
        return []
    since = utcnow() - timedelta(seconds=seconds)
    return [
        ~exists().where(
            OutboxMessage.kind == CONFIRM_EMAIL_KIND,
            OutboxMessage.ref_id == Signature.id,
            or_(
                and_(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)),
                OutboxMessage.created_at > since,
            ),
        )
    ]


class ConfirmState(enum.Enum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    EXPIRED = "expired"
    INVALID = "invalid"
    WRONG_PURPOSE = "wrong_purpose"
    CLOSED = "closed"


@dataclass(frozen=True)
class ConfirmOutcome:
    state: ConfirmState
    signature: Signature | None = None


def preview_confirmation(raw_token: str) -> ConfirmOutcome:
    """What confirming would do, without doing it (for the GET page)."""
    check = check_token(raw_token, CONFIRM_PURPOSE)
    return _outcome_for(check.state, check.token.subject_id if check.token else None)


def _outcome_for(state: TokenState, signature_id: int | None) -> ConfirmOutcome:
    signature = db.session.get(Signature, signature_id) if signature_id else None
    if state is TokenState.UNKNOWN or (state is not TokenState.WRONG_PURPOSE and not signature):
        return ConfirmOutcome(ConfirmState.INVALID)
    if state is TokenState.WRONG_PURPOSE:
        return ConfirmOutcome(ConfirmState.WRONG_PURPOSE)
    if signature is not None and signature.confirmed_at is not None:
        return ConfirmOutcome(ConfirmState.ALREADY, signature)
    if state is TokenState.EXPIRED:
        return ConfirmOutcome(ConfirmState.EXPIRED, signature)
    if state is TokenState.USED:
        return ConfirmOutcome(ConfirmState.INVALID, signature)
    if signature is not None and not signature.action.is_open():
        return ConfirmOutcome(ConfirmState.CLOSED, signature)
    return ConfirmOutcome(ConfirmState.CONFIRMED, signature)


def confirm(raw_token: str) -> ConfirmOutcome:
    """Confirm the signature a token names. Safe to call concurrently: counts once."""
    check = check_token(raw_token, CONFIRM_PURPOSE)
    outcome = _outcome_for(check.state, check.token.subject_id if check.token else None)
    if outcome.state is not ConfirmState.CONFIRMED:
        return outcome
    assert check.token is not None and outcome.signature is not None
    signature = outcome.signature
    use_token(check.token)
    changed = db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.confirmed_at.is_(None))
        .values(confirmed_at=utcnow(), needs_count=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.refresh(signature)
    if not changed:
        return ConfirmOutcome(ConfirmState.ALREADY, signature)
    # Webhooks queue their deliveries, counting nudges its fold (their subscribers).
    events.signature_confirmed.send(
        "signing", signature_id=signature.id, action_id=signature.action_id
    )
    return ConfirmOutcome(ConfirmState.CONFIRMED, signature)


def submit_signature(
    action: Signable, data: SignatureInput, facts: RequestFacts | None = None
) -> SignOutcome:
    """Record a signature and queue its confirmation. Raises ``ActionClosed``.

    ``facts`` carries what the view knows about the request (form fill time, honeypot); the
    client IP defaults to ``data.ip_address``. Past a hard rate limit this raises
    ``petitions.screening.checks.RateLimited`` (an HTTP 429); a dropped, held or flagged
    submission returns an outcome shaped like any other, so the caller shows the normal
    response.
    """
    screened = screen(action, data, facts)
    if screened is None:
        return SignOutcome(0, created=False, email_queued=False)
    return record_signature(action, screened)


def record_signature(action: Signable, data: SignatureInput) -> SignOutcome:
    """The rest of ``submit_signature`` for a submission ``screen`` let through."""
    outcome = sign(action, data)  # on error the unit of work rolls back: no nudge
    if outcome.email_queued:
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
    return outcome


def screen(
    action: Signable, data: SignatureInput, facts: RequestFacts | None = None
) -> SignatureInput | None:
    """The screening of ``submit_signature``: the submission as it is to be stored (held for
    review, or with the signal kept), or None when it is dropped. Raises ``RateLimited``."""
    facts = facts or RequestFacts()
    ip = clean_ip(facts.ip or data.ip_address)
    if ip != data.ip_address:
        data = dataclasses.replace(data, ip_address=ip)
    assessment = assess(action.id, data.email_normalised, dataclasses.replace(facts, ip=ip))
    if assessment.verdict is Verdict.DROP:
        log.info("signature dropped on action %s: %s", action.id, ", ".join(assessment.reasons))
        return None
    reasons = "; ".join(assessment.reasons)
    if assessment.verdict is Verdict.SUSPECT:
        log.info("signature held for review on action %s: %s", action.id, reasons)
        data = dataclasses.replace(data, suspect=True, review_reason=reasons)
    elif assessment.verdict is Verdict.REVIEW:
        # Sent and counted as usual (the mailbox proves a person); the signal is kept.
        data = dataclasses.replace(data, review_reason=reasons)
    return data
