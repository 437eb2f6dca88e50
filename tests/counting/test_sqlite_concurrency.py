"""On SQLite (the embedded default, two worker processes) concurrent folds count once."""

import threading

from sqlalchemy import update

from petitions import create_app
from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts, reconcile_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally
from tests.support.factories import make_action, make_signature


def test_concurrent_folds_on_sqlite_count_each_change_once(tmp_path):
    app = create_app(
        "test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'c.sqlite3'}", COUNT_BATCH_SIZE=7
    )
    with app.app_context():
        db.create_all()
        action = make_action()
        db.session.commit()
        action_id = action.id
        for i in range(120):
            make_signature(action, f"p{i}@example.org")
        db.session.remove()

    def fold_repeatedly() -> None:
        with app.app_context():
            for _ in range(30):
                fold_counts()
            db.session.remove()

    def confirm_all() -> None:
        with app.app_context():
            for sig_id in range(1, 121):
                db.session.execute(
                    update(Signature)
                    .where(Signature.id == sig_id)
                    .values(confirmed_at=utcnow(), needs_count=True)
                )
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=fold_repeatedly) for _ in range(3)]
    threads.append(threading.Thread(target=confirm_all))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with app.app_context():
        fold_counts()
        tally = db.session.get(ActionTally, action_id)
        assert (tally.pending, tally.confirmed) == (0, 120)
        assert reconcile_counts() == []
        db.engine.dispose()
