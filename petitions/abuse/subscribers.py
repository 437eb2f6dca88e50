"""How abuse review reacts to other areas: an erased person's address, name or IP is blotted
out of bulk invalidation criteria and reasons and out of trending alerts about their IP.

A criterion blotted while its job still runs matches nothing more (the person's own rows are
already anonymised). Connected once by the app factory; receivers run inside the sender's
unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from petitions.abuse.models import AlertKind, InvalidationJob, TrendingAlert
from petitions.core import events
from petitions.core.erasure import ERASED_MARK, PersonTraces, blot
from petitions.extensions import db


def on_person_erased(_sender: Any, *, traces: PersonTraces | None = None, **_: Any) -> None:
    if not traces:
        return
    for job in db.session.scalars(
        select(InvalidationJob).execution_options(yield_per=500).order_by(InvalidationJob.id)
    ):
        criteria, criteria_changed = blot(job.criteria or {}, traces)
        reason, reason_changed = blot(job.reason or "", traces)
        if criteria_changed:
            job.criteria = criteria
        if reason_changed:
            job.reason = reason
    if traces.ip_addresses:
        db.session.execute(
            update(TrendingAlert)
            .where(
                TrendingAlert.kind == AlertKind.IP.value,
                TrendingAlert.value.in_(sorted(traces.ip_addresses)),
            )
            .values(value=ERASED_MARK)
            .execution_options(synchronize_session=False)
        )


_connected = False


def connect() -> None:
    global _connected
    if _connected:
        return
    events.person_erased.connect(on_person_erased, weak=False)
    _connected = True
