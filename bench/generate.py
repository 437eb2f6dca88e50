"""Generate many confirmed signatures for one action, fast, with tallies that match.

    python -m bench.generate --count 1000000                 # a new 'bench' campaign/action
    python -m bench.generate --count 1000000 --action-id 3   # add to an existing action

The rows are made inside PostgreSQL by ``INSERT ... SELECT FROM generate_series`` in batches
(no Python per row), already counted (``counted=2, needs_count=false``), with a realistic
spread: mostly UK supporters across the UK postcode areas (the big cities weigh more), some from
abroad, a handful of sources and referring sites, and ``confirmed_at`` over the last weeks,
skewed towards recent days. Afterwards ``reconcile_counts()`` rebuilds every tally from the
signature table, so the tallies agree exactly with the rows. PostgreSQL only.

The database is the app's: ``DATABASE_URL`` (or ``--database-url``).
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from petitions.extensions import db

COUNTRIES = ["GB"] * 17 + ["IE", "FR", "DE", "US", "ES", "NL", "AU", "CA"]
# Every UK postcode area; the populous ones repeat so they weigh more.
_AREA_WORDS = (
    "AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT "
    "DY E EC EH EN EX FK FY G GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY L LA LD LE LL "
    "LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL "
    "SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE "
    "B B B M M M L L G G E E N N SW SW SE SE LS LS BS S NE NG"
)
UK_AREAS = _AREA_WORDS.split(" ")
SOURCES = ["", "", "", "email", "email", "facebook", "twitter", "whatsapp", "newsletter", "web"]
REFERRERS = [
    "",
    "",
    "",
    "",
    "www.facebook.com",
    "t.co",
    "www.google.com",
    "www.bbc.co.uk",
    "l.instagram.com",
    "www.reddit.com",
    "news.ycombinator.com",
]


def _array(values: list[str]) -> str:
    # Literal constants chosen above (no user input), so building the SQL text is safe.
    return "ARRAY[" + ",".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def _pick(values: list[str], random_column: str) -> str:
    return f"({_array(values)})[1 + floor({random_column} * {len(values)})::int]"


_INSERT = f"""
INSERT INTO signatures (
    action_id, email, email_normalised, email_canonical, name, postcode, postcode_area, country,
    comment, pledge_option, wants_updates, consent_version_id, source, referrer, ip_address,
    created_at, confirmed_at, suspect, confirm_emails_sent, counted, needs_count
)
SELECT
    :action_id,
    s.email, s.email, s.email, 'Supporter ' || s.g,
    CASE WHEN s.country = 'GB'
         THEN s.area || (1 + floor(s.r4 * 9))::int || ' ' || (1 + floor(s.r5 * 9))::int || 'AB'
         ELSE '' END,
    CASE WHEN s.country = 'GB' THEN s.area ELSE '' END,
    s.country, '', NULL, s.r5 < 0.3, :consent_version_id,
    {_pick(SOURCES, "s.r2")},
    {_pick(REFERRERS, "s.r3")},
    NULL,
    s.confirmed_at - make_interval(secs => 30 + floor(s.r4 * 3600)),
    s.confirmed_at, false, 1, 2, false
FROM (
    SELECT g,
           'bench-' || :tag || '-' || g || '@example.org' AS email,
           {_pick(COUNTRIES, "random()")} AS country,
           {_pick(UK_AREAS, "random()")} AS area,
           random() AS r2, random() AS r3, random() AS r4, random() AS r5,
           now() - make_interval(
               secs => power(random(), 2) * CAST(:span_seconds AS double precision)
           ) AS confirmed_at
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS g
) AS s
"""


_PENDING = """
WITH made AS (
    INSERT INTO signatures (
        action_id, email, email_normalised, email_canonical, name, postcode, postcode_area,
        country, comment, wants_updates, consent_version_id, source, referrer, created_at,
        suspect, confirm_emails_sent, counted, needs_count
    )
    SELECT :action_id, s.email, s.email, s.email, 'Supporter ' || s.g, 'SW1A 1AA', 'SW', 'GB', '',
           false, :consent_version_id, 'bench', '', now(), false, 1, 0, true
    FROM (
        SELECT g, 'pending-' || :tag || '-' || g || '@gmail.com' AS email
        FROM generate_series(1, CAST(:count AS bigint)) AS g
    ) AS s
    RETURNING id
)
INSERT INTO outbox (kind, ref_id, created_at, available_at, attempts)
SELECT :kind, id, now(), now(), 0 FROM made
"""


@dataclass
class Generated:
    action_id: int
    inserted: int
    seconds: float
    confirmed_total: int


def bench_action() -> int:
    """The id of a live 'bench' campaign's action, created when missing."""
    from petitions.campaigns.models import Action, ActionKind, Campaign, CampaignStatus
    from petitions.campaigns.services import DEFAULT_CONSENT, consent_version

    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "bench"))
    if campaign is None:
        campaign = Campaign(
            slug="bench",
            title="Benchmark campaign",
            summary="Generated for benchmarks.",
            status=CampaignStatus.LIVE.value,
        )
        db.session.add(campaign)
        db.session.flush()
    action = db.session.scalar(
        select(Action).where(Action.campaign_id == campaign.id, Action.slug == "million")
    )
    if action is None:
        action = Action(
            campaign_id=campaign.id,
            slug="million",
            title="A petition with a million signatures",
            text="Generated for benchmarks.",
            kind=ActionKind.PETITION.value,
            goal=1_000_000,
            consent_version_id=consent_version(DEFAULT_CONSENT).id,
        )
        db.session.add(action)
        db.session.flush()
    db.session.commit()
    return action.id


def generate(
    action_id: int,
    count: int,
    *,
    weeks: int = 8,
    batch: int = 100_000,
    reconcile: bool = True,
    progress: Any = None,
) -> Generated:
    """Insert ``count`` confirmed signatures for the action, then reconcile the tallies.

    Call inside an app context on PostgreSQL. Commits after each batch.
    """
    from petitions.campaigns.models import Action
    from petitions.counting.jobs import reconcile_counts
    from petitions.tallies.models import ActionTally

    if db.session.get_bind().dialect.name != "postgresql":
        raise RuntimeError("bench.generate needs PostgreSQL")
    action = db.session.get(Action, action_id)
    if action is None:
        raise LookupError(f"no action with id {action_id}")
    consent_id = action.consent_version_id
    tag = secrets.token_hex(4)  # distinct emails on every run
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(batch, count - done)
        db.session.execute(
            text(_INSERT),
            {
                "action_id": action_id,
                "consent_version_id": consent_id,
                "tag": tag,
                "first": done + 1,
                "last": done + size,
                "span_seconds": weeks * 7 * 86400,
            },
        )
        db.session.commit()
        done += size
        if progress:
            progress(f"  inserted {done:,} / {count:,} ({time.perf_counter() - started:.1f}s)")
    db.session.execute(text("ANALYZE signatures"))
    db.session.commit()
    if reconcile:
        # Every bucket is a "repair" from empty: don't log thousands of warnings about it.
        counting_log = logging.getLogger("petitions.counting")
        level = counting_log.level
        counting_log.setLevel(logging.ERROR)
        try:
            reconcile_counts()
        finally:
            counting_log.setLevel(level)
    tally = db.session.get(ActionTally, action_id)
    db.session.expire_all()
    confirmed = tally.confirmed if tally is not None else 0
    return Generated(action_id, done, time.perf_counter() - started, confirmed)


def generate_pending(action_id: int, count: int) -> int:
    """Insert ``count`` unconfirmed signatures, each with its confirmation email queued in the
    outbox (as signing leaves them), for timing the workers. Commits; returns ``count``."""
    from petitions.campaigns.models import Action
    from petitions.signing.services import CONFIRM_EMAIL_KIND

    action = db.session.get(Action, action_id)
    if action is None:
        raise LookupError(f"no action with id {action_id}")
    db.session.execute(
        text(_PENDING),
        {
            "action_id": action_id,
            "consent_version_id": action.consent_version_id,
            "tag": secrets.token_hex(4),
            "count": count,
            "kind": CONFIRM_EMAIL_KIND,
        },
    )
    db.session.commit()
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--action-id", type=int, help="default: a 'bench' campaign's action")
    parser.add_argument("--weeks", type=int, default=8, help="spread confirmed_at over N weeks")
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: DATABASE_URL")
    parser.add_argument("--no-reconcile", action="store_true", help="skip rebuilding tallies")
    parser.add_argument("--create-schema", action="store_true", help="db.create_all() first")
    parser.add_argument(
        "--pending",
        action="store_true",
        help="unconfirmed signatures with their confirmation emails queued, instead",
    )
    args = parser.parse_args(argv)

    from petitions import create_app

    overrides: dict[str, Any] = {"TASK_DISPATCH": False}
    if args.database_url:
        overrides["SQLALCHEMY_DATABASE_URI"] = args.database_url
    app = create_app(overrides)
    with app.app_context():
        if args.create_schema:
            db.create_all()
        action_id = args.action_id or bench_action()
        if args.pending:
            generate_pending(action_id, args.count)
            print(f"action {action_id}: {args.count:,} pending signatures, emails queued")
            return 0
        result = generate(
            action_id,
            args.count,
            weeks=args.weeks,
            batch=args.batch,
            reconcile=not args.no_reconcile,
            progress=lambda line: print(line, file=sys.stderr),
        )
    print(
        f"action {result.action_id}: inserted {result.inserted:,} confirmed signatures in "
        f"{result.seconds:.1f}s; tally now says {result.confirmed_total:,} confirmed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
