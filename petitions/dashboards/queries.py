"""What the dashboards show, read from the worker-maintained tallies.

Nothing here scans the signature table: totals come from ``action_tallies``, series and
breakdowns from the ``tally_*`` tables (a few hundred rows per action at most), and the latest
signers from the ``(action_id, confirmed_at)`` index, newest first, ten rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from petitions.campaigns.models import Action
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.gatherings.queries import dashboard_figures
from petitions.questions.models import QuestionKind, SignatureAnswer
from petitions.questions.queries import questions_of
from petitions.signing.models import Signature
from petitions.tallies.models import ActionTally, TallyArea, TallyDaily, TallyHourly, TallyReferrer
from petitions.tallies.queries import pledge_counts

HOURS_SHOWN = 72
RATE_WINDOW_HOURS = 7 * 24
TOP = 15
LATEST = 10


@dataclass
class Totals:
    pending: int = 0
    confirmed: int = 0
    paper: int = 0  # of ``confirmed``, collected on paper or off-line


def action_totals(action_ids: Sequence[int]) -> dict[int, Totals]:
    ids = list(action_ids)
    totals = {i: Totals() for i in ids}
    if ids:
        for row in db.session.execute(
            select(
                ActionTally.action_id, ActionTally.pending, ActionTally.confirmed, ActionTally.paper
            ).where(ActionTally.action_id.in_(ids))
        ):
            totals[row.action_id] = Totals(row.pending, row.confirmed, row.paper)
    return totals


@dataclass
class Dashboard:
    confirmed: int
    pending: int
    goal: int
    paper: int  # of ``confirmed``, collected on paper or off-line (petitions.paper)
    confirmation_rate: float | None  # confirmed / (confirmed + pending), 0..1
    percent: int
    per_day: float  # confirmed per day over the last week (or since the first signature)
    projected_date: str | None  # ISO date the goal is reached at that rate
    goal_reached: bool
    hourly: list[dict[str, Any]]
    daily: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    referrers: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    uk_areas: list[dict[str, Any]]
    latest: list[dict[str, Any]]
    # Events among the actions: places, waitlist, cancellations, check-ins, attendance rate.
    events: list[dict[str, Any]] = field(default_factory=list)
    # Confirmed pledges per option of each pledge among the actions (label, action, option, n).
    pledges: list[dict[str, Any]] = field(default_factory=list)
    # Why there is no projected date yet (too little data), for the page to say so.
    projection_note: str | None = None
    updated_at: str = field(default_factory=lambda: utcnow().isoformat())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hourly_series(
    action_ids: list[int], now: datetime, hours: int = HOURS_SHOWN
) -> list[dict[str, Any]]:
    end = _hour(now)
    start = end - timedelta(hours=hours - 1)
    counts: dict[datetime, int] = {}
    for row in db.session.execute(
        select(TallyHourly.hour, func.sum(TallyHourly.n))
        .where(TallyHourly.action_id.in_(action_ids), TallyHourly.hour >= start)
        .group_by(TallyHourly.hour)
    ):
        moment = as_utc(row[0])
        if moment is not None:
            counts[_hour(moment)] = int(row[1] or 0)
    return [
        {
            "t": (start + timedelta(hours=i)).isoformat(),
            "n": counts.get(start + timedelta(hours=i), 0),
        }
        for i in range(hours)
    ]


def daily_series(action_ids: list[int], today: date) -> list[dict[str, Any]]:
    counts: dict[date, int] = {}
    for row in db.session.execute(
        select(TallyDaily.day, func.sum(TallyDaily.n))
        .where(TallyDaily.action_id.in_(action_ids))
        .group_by(TallyDaily.day)
    ):
        day = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0]))
        counts[day] = int(row[1] or 0)
    if not counts:
        return []
    first = min(min(counts), today)
    first = max(first, today - timedelta(days=730))  # two years at most
    days = (today - first).days + 1
    return [
        {
            "d": (first + timedelta(days=i)).isoformat(),
            "n": counts.get(first + timedelta(days=i), 0),
        }
        for i in range(days)
    ]


def _top(rows: Any, label: str) -> list[dict[str, Any]]:
    return [{label: (row[0] or ""), "n": int(row[1] or 0)} for row in rows if row[1]]


def breakdowns(action_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    n_daily = func.sum(TallyDaily.n)
    n_ref = func.sum(TallyReferrer.n)
    n_area = func.sum(TallyArea.n)
    return {
        "sources": _top(
            db.session.execute(
                select(TallyDaily.source, n_daily)
                .where(TallyDaily.action_id.in_(action_ids))
                .group_by(TallyDaily.source)
                .order_by(n_daily.desc(), TallyDaily.source)
                .limit(TOP)
            ),
            "source",
        ),
        "referrers": _top(
            db.session.execute(
                select(TallyReferrer.referrer, n_ref)
                .where(TallyReferrer.action_id.in_(action_ids))
                .group_by(TallyReferrer.referrer)
                .order_by(n_ref.desc(), TallyReferrer.referrer)
                .limit(TOP)
            ),
            "referrer",
        ),
        "countries": _top(
            db.session.execute(
                select(TallyArea.country, n_area)
                .where(TallyArea.action_id.in_(action_ids))
                .group_by(TallyArea.country)
                .order_by(n_area.desc(), TallyArea.country)
                .limit(TOP)
            ),
            "country",
        ),
        "uk_areas": _top(
            db.session.execute(
                select(TallyArea.postcode_area, n_area)
                .where(
                    TallyArea.action_id.in_(action_ids),
                    TallyArea.country == "GB",
                    TallyArea.postcode_area != "",
                )
                .group_by(TallyArea.postcode_area)
                .order_by(n_area.desc(), TallyArea.postcode_area)
                .limit(TOP * 2)
            ),
            "area",
        ),
    }


def latest_signers(action_ids: list[int], limit: int = LATEST) -> list[dict[str, Any]]:
    """The newest confirmed, valid signers: one index range per action, merged."""
    found: list[Signature] = []
    for action_id in action_ids:
        found.extend(
            db.session.scalars(
                select(Signature)
                .where(
                    Signature.action_id == action_id,
                    Signature.is_confirmed,
                )
                .order_by(Signature.confirmed_at.desc())
                .limit(limit)
            )
        )
    found.sort(key=lambda s: as_utc(s.confirmed_at) or utcnow(), reverse=True)
    return [
        {
            "id": s.id,
            "name": s.name,
            "place": s.postcode_area if s.country == "GB" and s.postcode_area else s.country,
            "comment": (s.comment or "")[:280],
            "confirmed_at": (as_utc(s.confirmed_at) or utcnow()).isoformat(),
        }
        for s in found[:limit]
    ]


PROJECT_MIN_SIGNATURES = 10  # in the rate window, before a date is projected
PROJECT_MIN_HOURS = 24  # since the first of them


def enough_to_project(window: list[dict[str, Any]]) -> bool:
    """A projection means something only after a day and a few signatures: two signatures
    in the first hour would otherwise promise a date years away (or next week)."""
    first = next((i for i, bucket in enumerate(window) if bucket["n"]), None)
    if first is None:
        return False
    recent = sum(bucket["n"] for bucket in window[first:])
    return recent >= PROJECT_MIN_SIGNATURES and len(window) - first >= PROJECT_MIN_HOURS


def projection(
    confirmed: int, goal: int, window: list[dict[str, Any]], today: date
) -> tuple[float, str | None]:
    """Confirmed per day over the rate window, and the date the goal is reached at that rate.

    The rate is measured from the first signature inside the window (an action younger than a
    week is not averaged over empty days), and over at least a day, so one early burst is
    not extrapolated into a wild forecast.
    """
    first = next((i for i, bucket in enumerate(window) if bucket["n"]), None)
    if first is None:
        return 0.0, None
    span_hours = max(24, len(window) - first)
    recent = sum(bucket["n"] for bucket in window[first:])
    per_day = recent * 24 / span_hours
    if confirmed >= goal or per_day <= 0 or not enough_to_project(window):
        return per_day, None
    days = math.ceil((goal - confirmed) / per_day)
    if days > 3650:
        return per_day, None
    return per_day, (today + timedelta(days=days)).isoformat()


def dashboard_for(actions: Sequence[Action], now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    ids = [a.id for a in actions]
    totals = action_totals(ids)
    confirmed = sum(t.confirmed for t in totals.values())
    pending = sum(t.pending for t in totals.values())
    paper = sum(t.paper for t in totals.values())
    goal = sum(a.goal for a in actions) or 1
    rate_window = hourly_series(ids, now, RATE_WINDOW_HOURS) if ids else []
    per_day, projected = projection(confirmed, goal, rate_window, now.date())
    parts = (
        breakdowns(ids)
        if ids
        else {"sources": [], "referrers": [], "countries": [], "uk_areas": []}
    )
    online = confirmed - paper
    seen = online + pending
    note = None
    if not projected and confirmed < goal:
        note = (
            _("No recent signatures to project from")
            if per_day <= 0
            else _(
                "Not enough data yet to project a date (it needs a day and %(num)d signatures)",
                num=PROJECT_MIN_SIGNATURES,
            )
        )
    several = len([a for a in actions if a.pledge_options]) > 1
    by_id = {a.id: a for a in actions}
    pledges = [
        {
            "action_id": action_id,
            "option": row.option,
            "label": f"{row.option} ({by_id[action_id].title})" if several else row.option,
            "n": row.n,
        }
        for action_id, rows in pledge_counts(list(actions)).items()
        for row in rows
    ]
    return Dashboard(
        pledges=pledges,
        projection_note=note,
        confirmed=confirmed,
        pending=pending,
        goal=goal,
        paper=paper,
        confirmation_rate=(online / seen) if seen else None,
        percent=min(100, int(confirmed * 100 / goal)),
        per_day=round(per_day, 1),
        projected_date=projected,
        goal_reached=confirmed >= goal,
        hourly=rate_window[-HOURS_SHOWN:],
        daily=daily_series(ids, now.date()) if ids else [],
        latest=latest_signers(ids) if ids else [],
        sources=parts["sources"],
        referrers=parts["referrers"],
        countries=parts["countries"],
        uk_areas=parts["uk_areas"],
        events=dashboard_figures(list(actions), now),
    )


def answer_counts(action_id: int) -> list[tuple[Any, list[tuple[str, int]]]]:
    """Per choice or checkbox question of the action, how many confirmed, valid signers
    answered each way (text answers are in the export only)."""
    result = []
    for question in questions_of(action_id):
        if question.kind == QuestionKind.TEXT.value:
            continue
        rows = dict(
            db.session.execute(
                select(SignatureAnswer.value, func.count())
                .join(Signature, Signature.id == SignatureAnswer.signature_id)
                .where(SignatureAnswer.question_id == question.id, Signature.is_confirmed)
                .group_by(SignatureAnswer.value)
            ).all()
        )
        options = question.choices if question.kind == QuestionKind.CHOICE.value else ["yes"]
        result.append((question, [(option, int(rows.get(option, 0))) for option in options]))
    return result
