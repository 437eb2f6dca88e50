"""Letters per recipient are counted by the worker's fold, like signatures: confirmed letters
and deliveries per target (and so per constituency), folded once however often the fold runs,
a withdrawal takes a letter out (a delivered one stays delivered), and reconciling repairs a
tally that drifted from the rows."""

from __future__ import annotations

from sqlalchemy import select, update

from petitions.extensions import db
from petitions.letters import jobs, queries
from petitions.letters.counts import jobs as counts
from petitions.letters.models import LetterDelivery, LetterTarget, LetterTargetTally
from petitions.signing.models import Signature
from petitions.supporters.services import withdraw
from tests.letters.conftest import COMPANY_URL, MP_URL, confirm, write


def _per_target(action_id):  # type: ignore[no-untyped-def]
    return {
        c.target.name: (c.letters, c.delivered, c.waiting)
        for c in queries.counts_per_target(action_id)
    }


def test_the_fold_counts_letters_and_deliveries_per_target(app, client, smtp_sink, demo):
    for address in ("ann@example.org", "bob@example.org"):
        assert write(client, COMPANY_URL, address).status_code == 303
        confirm(app, client, smtp_sink, address)
    assert write(client, MP_URL, "cat@example.org", query="?postcode=GU11+1AA").status_code == 303
    assert write(client, MP_URL, "dan@example.org", query="?postcode=GU11+1AA").status_code == 303
    assert write(client, MP_URL, "eve@example.org", query="?postcode=WS9+8AA").status_code == 303
    for address in ("cat@example.org", "dan@example.org", "eve@example.org"):
        confirm(app, client, smtp_sink, address)
    with app.app_context():
        # Nothing is counted per target until the worker folds.
        assert db.session.scalar(select(LetterTargetTally.target_id)) is None
        assert counts.fold() == 7
        assert counts.fold() == 0  # folded once, however often it runs
        assert _per_target(demo["company"]) == {
            "Jordan Vale": (2, 0, 2),
            "Morgan Ellis": (2, 0, 2),
        }
        jobs.run()
        counts.fold()
        assert _per_target(demo["company"]) == {
            "Jordan Vale": (2, 2, 0),
            "Morgan Ellis": (2, 2, 0),
        }
        assert [row[:3] for row in queries.counts_per_constituency(demo["mp"])] == [
            ("E14001063", "Aldershot", 2),
            ("E14001064", "Aldridge-Brownhills", 1),
        ]
        assert counts.reconcile() == []
        db.session.remove()

    # Withdrawing a delivered letter: no longer a letter from a supporter, still delivered.
    with app.app_context():
        ann = db.session.scalar(select(Signature).where(Signature.email == "ann@example.org"))
        assert withdraw(ann.email_normalised, ann.id)
        db.session.commit()
        counts.fold()
        assert _per_target(demo["company"]) == {
            "Jordan Vale": (1, 2, 0),
            "Morgan Ellis": (1, 2, 0),
        }
        db.session.remove()


def test_reconcile_repairs_a_drifted_tally_and_requeues_lost_rows(app, client, smtp_sink, demo):
    assert write(client, COMPANY_URL, "ann@example.org").status_code == 303
    confirm(app, client, smtp_sink, "ann@example.org")
    with app.app_context():
        counts.fold()
        ceo = db.session.scalar(select(LetterTarget.id).where(LetterTarget.name == "Jordan Vale"))
        # A tally changed by hand, and a row whose change was never queued.
        db.session.execute(
            update(LetterTargetTally).where(LetterTargetTally.target_id == ceo).values(letters=9)
        )
        db.session.execute(
            update(LetterDelivery)
            .where(LetterDelivery.target_id != ceo)
            .values(counted=0, needs_count=False)
        )
        db.session.commit()
        repairs = counts.reconcile()
        assert {(r.stored, r.expected) for r in repairs} == {((9, 0), (1, 0)), ((1, 0), (0, 0))}
        counts.fold()
        assert _per_target(demo["company"]) == {
            "Jordan Vale": (1, 0, 1),
            "Morgan Ellis": (1, 0, 1),
        }
        assert counts.reconcile() == []
        db.session.remove()
