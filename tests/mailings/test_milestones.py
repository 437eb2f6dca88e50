"""Milestones: organisers hear about 25/50/75/100 % once each; supporters when it's reached."""

from __future__ import annotations

from sqlalchemy import func, select

from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.mailer.services import drain
from petitions.mailings import jobs, milestones
from petitions.mailings.models import Mailing, MailingKind, MilestoneNotice
from petitions.mailings.throttle import Throttle
from tests.support.workspace import make_organiser
from tests.supporters.conftest import sign_confirmed


def _check() -> list[int]:
    fold_counts()
    created = milestones.check_milestones()
    db.session.commit()
    return created


def test_each_milestone_is_mailed_once(factories, smtp_sink):
    owner = make_organiser("org@example.org")
    campaign = factories.make_campaign(owner_id=owner.id)
    action = factories.make_action(campaign, goal=4, title="Ban the dump")
    sign_confirmed(action, "a@example.org", wants_updates=True)
    assert len(_check()) == 1
    assert _check() == [], "nothing new: nothing sent"
    sign_confirmed(action, "b@example.org")
    sign_confirmed(action, "c@example.org", wants_updates=True)
    assert len(_check()) == 1  # 50 and 75 passed together: one email, for 75 %
    drain()
    subjects = sorted(m.subject for m in smtp_sink.to("org@example.org"))
    assert subjects == ["25% of the goal: Ban the dump", "75% of the goal: Ban the dump"]
    percents = db.session.scalars(select(MilestoneNotice.percent).order_by(MilestoneNotice.percent))
    assert list(percents) == [25, 50, 75]

    sign_confirmed(action, "d@example.org")
    _check()
    _check()
    drain()
    assert len(smtp_sink.to("org@example.org")) == 3
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "milestone")
        )
        == 3
    )

    # Reaching the goal also tells the action's opted-in supporters, once.
    goal = db.session.scalar(select(Mailing).where(Mailing.kind == MailingKind.GOAL_REACHED.value))
    jobs.run(goal.id, throttle=Throttle(0))
    told = sorted(m.envelope_to[0] for m in smtp_sink.messages if "reached the goal" in m.subject)
    assert told == ["a@example.org", "c@example.org"]
    assert smtp_sink.messages[-1].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
