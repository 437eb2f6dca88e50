from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from petitions.core.models import Token
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.mailer.services import claim_batch, send_batch
from petitions.signing import services
from petitions.signing.models import Signature
from tests.support.factories import TOKEN_IN_LINK, make_action, make_signature, signature_input


def _outbox_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def test_sign_records_signature_and_outbox_row_together(factories):
    action = make_action()
    sig_id = make_signature(action, " Ann@Example.ORG ", source="tw")
    signature = db.session.get(Signature, sig_id)
    assert signature.email_normalised == "ann@example.org"
    assert signature.source == "tw"
    assert signature.consent_version_id == action.consent_version_id
    assert signature.confirmed_at is None
    row = db.session.scalar(select(OutboxMessage))
    assert (row.kind, row.ref_id) == ("confirm_signature", sig_id)


def test_repeat_signing_is_one_row_and_resends_up_to_cap(factories, app):
    action = make_action()
    ids = {make_signature(action, "bob@example.org") for _ in range(6)}
    assert len(ids) == 1
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
    assert _outbox_count() == app.config["CONFIRM_EMAIL_CAP"]


def test_closed_action_refuses(factories):
    action = make_action(closed_at=utcnow())
    with pytest.raises(services.ActionClosed):
        services.sign(action, signature_input())
    expired = make_action(deadline=(utcnow() - timedelta(days=1)).date())
    with pytest.raises(services.ActionClosed):
        services.sign(expired, signature_input())


def test_concurrent_duplicate_submits_leave_one_row(app, factories):
    action = make_action()
    db.session.commit()
    action_id = action.id

    def submit(_: int) -> int:
        with app.app_context():
            from petitions.campaigns.models import Action

            outcome = services.sign(db.session.get(Action, action_id), signature_input("c@x.org"))
            db.session.commit()
            return outcome.signature_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(submit, range(24)))
    assert len(ids) == 1
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def _send_and_get_token(smtp_sink) -> str:
    send_batch(claim_batch())
    message = smtp_sink.wait_for(1)[-1]
    match = TOKEN_IN_LINK.search(message.text())
    assert match, message.text()
    assert TOKEN_IN_LINK.search(message.html())
    return match.group(1)


def test_confirm_flow_counts_once(factories, smtp_sink):
    action = make_action()
    sig_id = make_signature(action)
    token = _send_and_get_token(smtp_sink)

    assert services.preview_confirmation(token).state is services.ConfirmState.CONFIRMED
    assert db.session.get(Signature, sig_id).confirmed_at is None, "a GET must not confirm"

    assert services.confirm(token).state is services.ConfirmState.CONFIRMED
    db.session.commit()
    assert services.confirm(token).state is services.ConfirmState.ALREADY
    fold_counts()
    from petitions.tallies.queries import confirmed_counts

    assert confirmed_counts([action.id]) == {action.id: 1}


def test_confirm_rejects_forged_expired_and_foreign_tokens(factories, smtp_sink):
    action = make_action()
    sig_id = make_signature(action)
    token = _send_and_get_token(smtp_sink)
    assert services.confirm("x" * 43).state is services.ConfirmState.INVALID
    assert services.confirm("../../etc").state is services.ConfirmState.INVALID
    db.session.execute(update(Token).values(expires_at=utcnow() - timedelta(minutes=1)))
    assert services.confirm(token).state is services.ConfirmState.EXPIRED
    db.session.execute(update(Token).values(purpose="organiser_invite"))
    assert services.confirm(token).state is services.ConfirmState.WRONG_PURPOSE
    assert db.session.get(Signature, sig_id).confirmed_at is None


def test_confirm_after_close_changes_nothing(factories, smtp_sink):
    action = make_action()
    sig_id = make_signature(action)
    token = _send_and_get_token(smtp_sink)
    action.closed_at = utcnow()
    db.session.commit()
    assert services.confirm(token).state is services.ConfirmState.CLOSED
    assert db.session.get(Signature, sig_id).confirmed_at is None


def test_confirmation_email_is_skipped_once_confirmed(factories, smtp_sink):
    action = make_action()
    sig_id = make_signature(action)
    db.session.execute(
        update(Signature).where(Signature.id == sig_id).values(confirmed_at=utcnow())
    )
    db.session.commit()
    report = send_batch(claim_batch())
    assert (report.sent, report.skipped) == (0, 1)
    assert smtp_sink.messages == []
