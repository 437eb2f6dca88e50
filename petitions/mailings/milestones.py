"""Milestones: an action passing 25, 50, 75 and 100 % of its goal, noticed once each.

The organiser gets one email for the highest newly passed; at 100 % the action's supporters
may get a mailing (``MILESTONE_TELL_SUPPORTERS``). Runs in the periodic task's unit of work.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from petitions.campaigns.models import Action
from petitions.core import task_names
from petitions.core.dispatch import nudge
from petitions.core.sql import dialect_insert
from petitions.core.time import utcnow
from petitions.core.unit_of_work import after_commit
from petitions.extensions import db
from petitions.mailer.services import DRAIN_TASK, enqueue
from petitions.mailings.models import MailingKind, MilestoneNotice
from petitions.mailings.notifications import MILESTONE_EMAIL_KIND
from petitions.mailings.services import SWEEP_TASK, request_mailing
from petitions.tallies.models import ActionTally

MILESTONE_TASK = task_names.CHECK_MILESTONES
MILESTONES = (25, 50, 75, 100)


def check_milestones() -> list[int]:
    """Record each 25/50/75/100 % an action has passed (once, by a UNIQUE row) and queue one
    email to the organiser for the highest newly passed. At 100 %, optionally tell the
    action's supporters. Returns the new notice ids; the caller's unit of work commits, and
    the outbox and the mailings sweeper are nudged after that."""
    rows = db.session.execute(
        select(Action.id, Action.goal, Action.campaign_id, Action.title, ActionTally.confirmed)
        .join(ActionTally, ActionTally.action_id == Action.id)
        .where(Action.goal > 0, ActionTally.confirmed * 4 >= Action.goal)
    ).all()
    created: list[int] = []
    for row in rows:
        passed = [p for p in MILESTONES if row.confirmed * 100 >= row.goal * p]
        new: list[tuple[int, int]] = []
        for percent in passed:
            notice_id = db.session.execute(
                dialect_insert()(MilestoneNotice)
                .values(
                    action_id=row.id, percent=percent, confirmed=row.confirmed, reached_at=utcnow()
                )
                .on_conflict_do_nothing(index_elements=["action_id", "percent"])
                .returning(MilestoneNotice.id)
            ).scalar()
            if notice_id is not None:
                new.append((percent, notice_id))
        if not new:
            continue
        percent, notice_id = max(new)
        enqueue(MILESTONE_EMAIL_KIND, notice_id)
        created.append(notice_id)
        if percent == 100 and current_app.config["MILESTONE_TELL_SUPPORTERS"]:
            request_mailing(
                row.campaign_id,
                f"goal:{row.id}",
                f"We reached the goal: {row.title}",
                MailingKind.GOAL_REACHED,
                action_id=row.id,
            )
    if created:
        after_commit(nudge, DRAIN_TASK, key=DRAIN_TASK)
        after_commit(nudge, SWEEP_TASK, key=SWEEP_TASK)
    return created
