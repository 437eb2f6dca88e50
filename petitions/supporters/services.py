"""What changes a supporter's state: sign-in links, withdrawal, preferences, erasure, retention.

Services flush and never commit; the view or task commits, then nudges the count worker.
Every change that can move a count sets ``needs_count`` so the fold (and, failing that, the
reconciliation) keeps the tallies equal to the signature rows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import String, cast, delete, exists, literal, or_, select, update

from petitions.campaigns.models import Action
from petitions.core import events as domain_events
from petitions.core.erasure import PersonTraces
from petitions.core.models import Token
from petitions.core.sql import dialect_insert
from petitions.core.time import utcnow
from petitions.core.tokens import TokenState, check_token, use_token
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage, SuppressedAddress
from petitions.mailer.services import enqueue
from petitions.paper import services as paper_services
from petitions.signing.models import Signature
from petitions.signing.services import CONFIRM_EMAIL_KIND, CONFIRM_PURPOSE
from petitions.supporters import consent
from petitions.supporters.models import ERASED_PREFIX, CampaignOptOut, ConsentEvent, Supporter

SIGNIN_PURPOSE = "supporter_signin"
SIGNIN_EMAIL_KIND = "supporter_signin"
SIGNIN_RESEND_SECONDS = 60  # at most one sign-in email a minute per supporter


def supporter_for(email_normalised: str) -> Supporter:
    """The supporter row for this address, created if needed (safe under concurrency)."""
    now = utcnow()
    db.session.execute(
        dialect_insert()(Supporter)
        .values(email_normalised=email_normalised, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["email_normalised"])
    )
    found = db.session.scalar(
        select(Supporter).where(Supporter.email_normalised == email_normalised)
    )
    assert found is not None
    return found


def has_signed(email_normalised: str) -> bool:
    """Whether we hold anything about this address: a signature (of any kind), or data another
    area answers for on ``person_known`` (a supporter who only proposed an event)."""
    if db.session.scalar(select(exists().where(Signature.email_normalised == email_normalised))):
        return True
    return any(
        bool(known)
        for _receiver, known in domain_events.person_known.send(
            None, email_normalised=email_normalised
        )
    )


# --- sign-in links ---------------------------------------------------------------------------


def request_signin(email_normalised: str, language: str = "") -> bool:
    """Queue a sign-in email if this address has signed anything. True if one was queued.

    The email is written in ``language``, the page's where they asked (empty: the default).
    The caller shows the same page either way, so nobody learns who has signed.
    """
    if not has_signed(email_normalised):
        return False
    supporter = supporter_for(email_normalised)
    supporter.language = language or current_app.config["DEFAULT_LANGUAGE"]
    unsent = db.session.scalar(
        select(
            exists().where(
                OutboxMessage.kind == SIGNIN_EMAIL_KIND,
                OutboxMessage.ref_id == supporter.id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
            )
        )
    )
    recent = db.session.scalar(
        select(
            exists().where(
                Token.purpose == SIGNIN_PURPOSE,
                Token.subject_id == supporter.id,
                Token.created_at > utcnow() - timedelta(seconds=SIGNIN_RESEND_SECONDS),
            )
        )
    )
    if unsent or recent:
        return False
    enqueue(SIGNIN_EMAIL_KIND, supporter.id)
    return True


class SigninState(enum.Enum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class SigninOutcome:
    state: SigninState
    supporter_id: int | None = None


def _signin_state(raw_token: str) -> tuple[SigninState, Token | None]:
    check = check_token(raw_token, SIGNIN_PURPOSE)
    state = {
        TokenState.VALID: SigninState.VALID,
        TokenState.USED: SigninState.USED,
        TokenState.EXPIRED: SigninState.EXPIRED,
    }.get(check.state, SigninState.INVALID)
    token = check.token
    if state is SigninState.VALID and token and db.session.get(Supporter, token.subject_id) is None:
        state = SigninState.INVALID  # erased meanwhile
    return state, check.token


def preview_signin(raw_token: str) -> SigninState:
    """What following the link would do (the GET page), without using it."""
    return _signin_state(raw_token)[0]


def sign_in(raw_token: str) -> SigninOutcome:
    """Use the link (once). The caller commits and then puts the id in the session."""
    state, token = _signin_state(raw_token)
    if state is not SigninState.VALID or token is None:
        return SigninOutcome(state)
    if not use_token(token):
        return SigninOutcome(SigninState.USED)
    return SigninOutcome(SigninState.VALID, token.subject_id)


def end_sessions(supporter: Supporter) -> None:
    """Invalidate every My actions session of this supporter (sign-out, everywhere)."""
    supporter.session_version = (supporter.session_version or 1) + 1
    db.session.flush()


# --- withdrawal and preferences --------------------------------------------------------------


def withdraw(email_normalised: str, signature_id: int) -> bool:
    """Withdraw one of this supporter's signatures. False if not theirs or already withdrawn."""
    changed = db.session.execute(
        update(Signature)
        .where(
            Signature.id == signature_id,
            Signature.email_normalised == email_normalised,
            Signature.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=utcnow(), needs_count=True)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if changed:
        domain_events.signatures_withdrawn.send("supporters", signature_ids=[signature_id])
    return bool(changed)


def unsubscribe(
    email_normalised: str, campaign_id: int | None, source: str = consent.SOURCE_ONE_CLICK
) -> None:
    """Stop email about one campaign, or (``campaign_id=None``) about everything. Idempotent;
    a change is added to the person's consent history."""
    supporter = supporter_for(email_normalised)
    now = utcnow()
    changed = False
    if campaign_id is None:
        if supporter.unsubscribed_all_at is None:
            supporter.unsubscribed_all_at = now
            supporter.updated_at = now
            changed = True
    else:
        changed = bool(
            db.session.execute(
                dialect_insert()(CampaignOptOut)
                .values(supporter_id=supporter.id, campaign_id=campaign_id, created_at=now)
                .on_conflict_do_nothing()
            ).rowcount  # type: ignore[attr-defined]
        )
    if changed:
        consent.record(email_normalised, consent.WITHDRAWN, source, campaign_id=campaign_id, at=now)
    db.session.flush()


def set_preferences(
    supporter: Supporter, all_email: bool, wanted_campaigns: set[int], known_campaigns: set[int]
) -> None:
    """Save the preferences form: ``wanted_campaigns`` out of ``known_campaigns``. Each change
    is added to the consent history."""
    now = utcnow()
    email = supporter.email_normalised
    source = consent.SOURCE_PREFERENCES
    was_stopped = supporter.unsubscribed_all_at is not None
    if all_email and was_stopped:
        consent.record(email, consent.GRANTED, source, at=now)
    elif not all_email and not was_stopped:
        consent.record(email, consent.WITHDRAWN, source, at=now)
    supporter.unsubscribed_all_at = None if all_email else (supporter.unsubscribed_all_at or now)
    supporter.updated_at = now
    opted_out = set(
        db.session.scalars(
            select(CampaignOptOut.campaign_id).where(CampaignOptOut.supporter_id == supporter.id)
        )
    )
    unwanted = known_campaigns - wanted_campaigns
    resumed = wanted_campaigns & opted_out
    if resumed:
        db.session.execute(
            delete(CampaignOptOut).where(
                CampaignOptOut.supporter_id == supporter.id,
                CampaignOptOut.campaign_id.in_(resumed),
            )
        )
    for campaign_id in sorted(resumed):
        consent.record(email, consent.GRANTED, source, campaign_id=campaign_id, at=now)
    for campaign_id in sorted(unwanted - opted_out):
        db.session.execute(
            dialect_insert()(CampaignOptOut)
            .values(supporter_id=supporter.id, campaign_id=campaign_id, created_at=now)
            .on_conflict_do_nothing()
        )
        consent.record(email, consent.WITHDRAWN, source, campaign_id=campaign_id, at=now)
    db.session.flush()


# --- anonymising -----------------------------------------------------------------------------

_ANONYMOUS = {
    "email": "",
    "email_normalised": literal(ERASED_PREFIX) + cast(Signature.id, String),
    "email_canonical": literal(ERASED_PREFIX) + cast(Signature.id, String),
    "name": "",
    "postcode": "",
    "comment": "",
    "ip_address": None,
}


def not_anonymised() -> Any:
    return Signature.email_normalised.not_like(ERASED_PREFIX + "%")


def _forget_signature_side_data(ids: list[int], now: datetime) -> None:
    """Unsent confirmation emails are dropped and their tokens deleted."""
    if not ids:
        return
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.kind == CONFIRM_EMAIL_KIND,
            OutboxMessage.ref_id.in_(ids),
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )
        .values(failed_at=now, claimed_until=None, last_error="erased")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(Token)
        .where(Token.purpose == CONFIRM_PURPOSE, Token.subject_id.in_(ids))
        .execution_options(synchronize_session=False)
    )


def _anonymise(ids: list[int], now: datetime) -> None:
    """Blank the personal fields of these signatures. Confirmed ones still count (anonymously);
    unconfirmed ones stop counting as pending. The tally keys (country, postcode area, source,
    referrer) are coarse and kept, so no tally changes."""
    if not ids:
        return
    db.session.execute(
        update(Signature)
        .where(Signature.id.in_(ids), Signature.confirmed_at.is_(None))
        .values(invalidated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Signature)
        .where(Signature.id.in_(ids))
        .values(needs_count=True, **_ANONYMOUS)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(ConsentEvent)
        .where(ConsentEvent.signature_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    _forget_signature_side_data(ids, now)


@dataclass
class ErasureReport:
    signatures: int = 0
    outbox: int = 0
    campaigns: set[int] = field(default_factory=set)


def erase(email_normalised: str) -> ErasureReport:
    """Erase everything held about this address: signatures are anonymised (confirmed ones
    keep counting, with no way back to the person), preferences, consent history and tokens
    are deleted, unsent email is cancelled, bounce records are deleted; other areas erase
    their own copies on ``person_erased`` (mailing records keep their status but lose the
    address; stored exports are regenerated without the person)."""
    now = utcnow()
    report = ErasureReport()
    rows = db.session.execute(
        select(Signature.id, Action.campaign_id)
        .join(Action, Action.id == Signature.action_id)
        .where(Signature.email_normalised == email_normalised)
    ).all()
    ids = [row.id for row in rows]
    report.signatures = len(ids)
    report.campaigns = {row.campaign_id for row in rows}
    # What other areas may hold about the person in text of their own (an audit reason, a
    # bulk invalidation's criteria, a trending alert): read before the rows are blanked.
    held = db.session.execute(
        select(Signature.email, Signature.name, Signature.ip_address).where(Signature.id.in_(ids))
    ).all()
    traces = PersonTraces.of(
        emails=[email_normalised, *(row.email for row in held)],
        names=[row.name for row in held],
        ip_addresses=[row.ip_address for row in held],
    )
    _anonymise(ids, now)
    domain_events.person_erased.send(
        None, email_normalised=email_normalised, signature_ids=ids, traces=traces
    )

    supporter = db.session.scalar(
        select(Supporter).where(Supporter.email_normalised == email_normalised)
    )
    if supporter is not None:
        report.outbox = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.kind == SIGNIN_EMAIL_KIND,
                OutboxMessage.ref_id == supporter.id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
            )
            .values(failed_at=now, claimed_until=None, last_error="erased")
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        db.session.execute(
            delete(Token)
            .where(Token.purpose == SIGNIN_PURPOSE, Token.subject_id == supporter.id)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(CampaignOptOut).where(CampaignOptOut.supporter_id == supporter.id)
        )
        db.session.delete(supporter)

    db.session.execute(
        delete(SuppressedAddress).where(SuppressedAddress.email_normalised == email_normalised)
    )
    db.session.execute(
        delete(ConsentEvent)
        .where(ConsentEvent.email_normalised == email_normalised)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return report


# --- retention -------------------------------------------------------------------------------


def retention_cutoff(now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now - timedelta(days=current_app.config["RETENTION_DAYS_AFTER_CLOSE"])


def anonymise_closed_actions(now: datetime | None = None, limit: int = 2000) -> int:
    """Anonymise one chunk of signatures of actions closed longer ago than the retention
    period. Returns how many; the task repeats until 0. Counts are unchanged."""
    now = now or utcnow()
    cutoff = retention_cutoff(now)
    closed_long_ago = or_(Action.closed_at <= cutoff, Action.deadline < cutoff.date())
    ids = list(
        db.session.scalars(
            select(Signature.id)
            .join(Action, Action.id == Signature.action_id)
            .where(closed_long_ago, not_anonymised())
            .order_by(Signature.id)
            .limit(limit)
        )
    )
    _anonymise(ids, now)
    if ids:
        domain_events.signatures_anonymised.send(None, signature_ids=ids)
    # Paper signatures of those actions too (names typed in from paper forms).
    on_paper = paper_services.anonymise_for_actions(select(Action.id).where(closed_long_ago), limit)
    db.session.flush()
    return len(ids) + on_paper


def purge_unconfirmed(now: datetime | None = None, limit: int = 2000) -> tuple[int, int]:
    """Unconfirmed signatures whose last link has expired: first anonymised and taken out of
    the pending count (the fold does that), then, once folded, deleted.

    Returns (anonymised, deleted) for one chunk of each.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["CONFIRM_TOKEN_DAYS"])
    live_link = exists().where(
        Token.purpose == CONFIRM_PURPOSE,
        Token.subject_id == Signature.id,
        Token.used_at.is_(None),
        Token.expires_at > now,
    )
    stale = list(
        db.session.scalars(
            select(Signature.id)
            .where(
                Signature.confirmed_at.is_(None),
                Signature.created_at < cutoff,
                not_anonymised(),
                ~live_link,
            )
            .order_by(Signature.id)
            .limit(limit)
        )
    )
    _anonymise(stale, now)
    folded = list(
        db.session.scalars(
            select(Signature.id)
            .where(
                Signature.confirmed_at.is_(None),
                Signature.created_at < cutoff,
                Signature.email_normalised.like(ERASED_PREFIX + "%"),
                Signature.needs_count.is_(False),
                Signature.counted == 0,
            )
            .order_by(Signature.id)
            .limit(limit)
        )
    )
    if folded:
        _forget_signature_side_data(folded, now)
        db.session.execute(
            delete(Signature)
            .where(Signature.id.in_(folded))
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    return len(stale), len(folded)
