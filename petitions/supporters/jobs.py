"""Retention, run by the worker: anonymise signatures of long-closed actions, purge expired
unconfirmed ones.

This module owns its transactions: it commits per chunk of rows (``unit_of_work.commit()``),
so a long run keeps its progress and never holds one huge transaction. Idempotent (it works
from row state). Counts move only through the fold: anonymised confirmed signatures keep
counting; purged unconfirmed ones are first taken out of the pending count and deleted on a
later run, once folded.
"""

from __future__ import annotations

from petitions.core import unit_of_work
from petitions.supporters import services

MAX_CHUNKS = 500


def apply_retention() -> dict[str, int]:
    totals = {"anonymised": 0, "unconfirmed_anonymised": 0, "unconfirmed_deleted": 0}
    for _ in range(MAX_CHUNKS):
        n = services.anonymise_closed_actions()
        unit_of_work.commit()
        totals["anonymised"] += n
        if not n:
            break
    for _ in range(MAX_CHUNKS):
        stale, deleted = services.purge_unconfirmed()
        unit_of_work.commit()
        totals["unconfirmed_anonymised"] += stale
        totals["unconfirmed_deleted"] += deleted
        if not stale and not deleted:
            break
    return totals
