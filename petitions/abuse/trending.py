"""Spotting IPs and email domains with an unusual share of an action's recent signatures.

Run periodically by the worker. For each action with at least ``TRENDING_MIN_SIGNATURES`` in
the last ``TRENDING_WINDOW_MINUTES``:

* an IP is trending when it has ``TRENDING_IP_SHARE`` or more of the window's signatures;
* an email domain (other than the big mail providers) is trending when it has
  ``TRENDING_DOMAIN_SHARE`` or more of the window and at least three times its share of the
  action's signatures over the week before.

Each finding is kept as an open ``TrendingAlert`` until an organiser dismisses it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text

from petitions.abuse.models import AlertKind, TrendingAlert
from petitions.core.time import as_utc, utcnow
from petitions.extensions import db
from petitions.screening.checks import _common_domains
from petitions.signing.models import Signature

log = logging.getLogger(__name__)

_LOCK_KEY = 7_413_006
_MIN_PER_VALUE = 5


def _domain_expr() -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.split_part(Signature.email_normalised, "@", 2)
    return func.substr(Signature.email_normalised, func.instr(Signature.email_normalised, "@") + 1)


def _counts(action_id: int, column: Any, since: datetime, until: datetime) -> dict[str, int]:
    rows = db.session.execute(
        select(column, func.count())
        .where(
            Signature.action_id == action_id,
            Signature.created_at >= since,
            Signature.created_at < until,
            column.is_not(None),
        )
        .group_by(column)
    )
    return {str(value): int(n) for value, n in rows}


def _record(
    action_id: int, kind: AlertKind, value: str, n: int, total: int, baseline: float, now: datetime
) -> TrendingAlert | None:
    window = timedelta(minutes=current_app.config["TRENDING_WINDOW_MINUTES"])
    alert = db.session.scalar(
        select(TrendingAlert)
        .where(
            TrendingAlert.action_id == action_id,
            TrendingAlert.kind == kind.value,
            TrendingAlert.value == value,
        )
        .order_by(TrendingAlert.id.desc())
        .limit(1)
    )
    dismissed_at = as_utc(alert.dismissed_at) if alert is not None else None
    if dismissed_at is not None and dismissed_at > now - window:
        return None  # dismissed moments ago: don't nag
    if alert is None or alert.dismissed_at is not None:
        alert = TrendingAlert(action_id=action_id, kind=kind.value, value=value, first_seen_at=now)
        db.session.add(alert)
    alert.recent = n
    alert.window_total = total
    alert.share = n / total
    alert.baseline_share = baseline
    alert.last_seen_at = now
    return alert


def detect_trending(now: datetime | None = None) -> list[TrendingAlert]:
    """Find what is trending now and store it as alerts; the caller commits."""
    config = current_app.config
    now = now or utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        locked = db.session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
        ).scalar()
        if not locked:
            return []
    since = now - timedelta(minutes=config["TRENDING_WINDOW_MINUTES"])
    minimum = config["TRENDING_MIN_SIGNATURES"]
    busy = db.session.execute(
        select(Signature.action_id, func.count())
        .where(Signature.created_at >= since, Signature.created_at < now)
        .group_by(Signature.action_id)
        .having(func.count() >= minimum)
    ).all()
    common = _common_domains()
    found: list[TrendingAlert] = []
    for action_id, total in busy:
        total = int(total)
        for ip, n in _counts(action_id, Signature.ip_address, since, now).items():
            if n >= _MIN_PER_VALUE and n / total >= config["TRENDING_IP_SHARE"]:
                alert = _record(action_id, AlertKind.IP, ip, n, total, 0.0, now)
                if alert is not None:
                    found.append(alert)
        domains = _counts(action_id, _domain_expr(), since, now)
        baseline_counts: dict[str, int] | None = None
        for domain, n in domains.items():
            if domain in common or n < _MIN_PER_VALUE:
                continue
            share = n / total
            if share < config["TRENDING_DOMAIN_SHARE"]:
                continue
            if baseline_counts is None:
                baseline_counts = _counts(
                    action_id, _domain_expr(), since - timedelta(days=7), since
                )
            baseline_total = sum(baseline_counts.values())
            baseline = (
                baseline_counts.get(domain, 0) / baseline_total
                if baseline_total >= minimum
                else 0.0
            )
            if share < 3 * baseline:
                continue
            alert = _record(action_id, AlertKind.DOMAIN, domain, n, total, baseline, now)
            if alert is not None:
                found.append(alert)
    db.session.flush()
    for alert in found:
        log.warning(
            "trending on action %s: %s %s has %d of %d recent signatures",
            alert.action_id,
            alert.kind,
            alert.value if alert.kind == AlertKind.DOMAIN else "(an address)",
            alert.recent,
            alert.window_total,
        )
    return found


def open_alerts(action_id: int) -> list[TrendingAlert]:
    return list(
        db.session.scalars(
            select(TrendingAlert)
            .where(TrendingAlert.action_id == action_id, TrendingAlert.dismissed_at.is_(None))
            .order_by(TrendingAlert.share.desc())
        )
    )


def open_alert_counts(action_ids: list[int]) -> dict[int, int]:
    """Open alerts per action, for the organiser dashboard's alert badge."""
    if not action_ids:
        return {}
    rows = db.session.execute(
        select(TrendingAlert.action_id, func.count())
        .where(TrendingAlert.action_id.in_(action_ids), TrendingAlert.dismissed_at.is_(None))
        .group_by(TrendingAlert.action_id)
    )
    return {int(a): int(n) for a, n in rows}


def dismiss(alert: TrendingAlert) -> None:
    alert.dismissed_at = utcnow()
    db.session.flush()
