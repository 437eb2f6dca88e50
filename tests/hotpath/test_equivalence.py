"""The hot path and the normal view give the same answer and store the same rows.

Each case is sent twice, once with ``HOTPATH_ENABLED`` off (the Flask view answers) and once
on, from a fresh browser session each time, with the database's signatures and outbox and the
Redis counters emptied in between. The two runs must agree on the status, the headers, the
body (random CSP nonces, CSRF tokens and form stamps aside), every stored column of every
signature and outbox row, and the screening counters. ``hot`` says whether the hot path must
have answered the case itself (True) or handed it to the view (False): the ordinary cases must
take the fast lane, or the test proves nothing about it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask, g
from sqlalchemy import select, text

from petitions.campaigns.models import ActionKind, CampaignStatus
from petitions.core.dispatch import NUDGE_KEY
from petitions.core.time import utcnow
from petitions.counting.jobs import FOLD_TASK
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.mailer.services import DRAIN_TASK
from petitions.signing.models import Signature
from tests.conftest import TEST_REDIS_URL, wait_for
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from

_STARTED = re.compile(
    r'name="started" type="hidden" value="([^"]*)"|name="started" value="([^"]*)"'
)
_RANDOM = [
    (re.compile(r"nonce-[A-Za-z0-9_-]+"), "nonce-N"),
    (re.compile(r'nonce="[A-Za-z0-9_-]+"'), 'nonce="N"'),
    (re.compile(r'(name="(?:csrf_token|started)"[^>]*value=")[^"]*'), r"\1X"),
    (re.compile(r'(value=")[^"]*("[^>]*name="(?:csrf_token|started)")'), r"\1X\2"),
]
_SKIP_SIGNATURE = {"id", "created_at"}
_SKIP_OUTBOX = {"id", "created_at", "available_at"}
PLEDGES = ["I will write to my MP", "I will tell a friend"]


@dataclass
class Case:
    fields: dict[str, Any] = field(default_factory=dict)  # over the good defaults; None drops
    hot: bool = False
    action: str = "petition"  # which fixture action the form is posted to
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    session: dict[str, Any] = field(default_factory=dict)  # extra session keys
    csrf: str | None = "good"  # "good", "other-session", "forged" or None (no cookie)
    raw_body: bytes | None = None
    content_type: str = "application/x-www-form-urlencoded"
    https: bool = False
    repeat: int = 1  # submit the same form this many times (duplicates)
    config: dict[str, Any] = field(default_factory=dict)


def _good(action: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "Ann Example",
        "email": "ann@example.org",
        "country": "GB",
        "postcode": "SW1A 1AA",
    }
    if action == "pledge":
        fields["pledge_option"] = PLEDGES[1]
    return fields


CASES: dict[str, Case] = {
    # --- ordinary submissions: answered by the hot path, the same 303 and rows ---------------
    "plain": Case(hot=True),
    "comment": Case({"comment": "  Please act now.\r\nThank you.  "}, hot=True),
    "comment-1000": Case({"comment": "c" * 1000}, hot=True),
    "comment-blank": Case({"comment": "   "}, hot=True),
    "name-100": Case({"name": "n" * 100}, hot=True),
    "name-spaces-unicode": Case({"name": "  Zoë Ångström-Łukasz  "}, hot=True),
    "email-case-and-spaces": Case({"email": "  ANN@Example.ORG "}, hot=True),
    "email-unicode-domain": Case({"email": "ann@bücher.example"}, hot=True),
    "gmail-dots-plus": Case({"email": "A.nn+news@googlemail.com"}, hot=True),
    "postcode-loose": Case({"postcode": " sw1a1aa "}, hot=True),
    "other-country": Case({"country": "FR", "postcode": "75001"}, hot=True),
    "wants-updates": Case({"wants_updates": "y"}, hot=True),
    "wants-updates-false": Case({"wants_updates": "false"}, hot=True),
    "wants-updates-empty": Case({"wants_updates": ""}, hot=True),
    "source": Case({"source": "newsletter"}, hot=True),
    "source-dirty": Case({"source": "news letter!<script>" + "x" * 80}, hot=True),
    "source-ref": Case({"source": "ref:partner.example.org"}, hot=True),
    "referrer-other-site": Case(hot=True, headers={"Referer": "https://blog.example.net/post"}),
    "referrer-same-site": Case(hot=True, headers={"Referer": "http://localhost/c/x/y"}),
    "query-string": Case(hot=True, query="source=newsletter"),
    "pledge": Case(action="pledge", hot=True),
    "pledge-ignored-on-petition": Case({"pledge_option": "anything"}, hot=True),
    "honeypot": Case({"website": "http://spam.example"}, hot=True),
    "forged-stamp": Case({"started": "forged.stamp"}, hot=True),
    "stamp-from-other-session": Case({"started": "other-session"}, hot=True),
    "empty-website": Case({"website": ""}, hot=True),
    "duplicate": Case(hot=True, repeat=3),
    "duplicate-gmail-spellings": Case({"email": "ann.e@gmail.com"}, hot=True, repeat=2),
    "https-good-referrer": Case(
        hot=True, https=True, headers={"Referer": "https://localhost/c/stop-it/now"}
    ),
    "volume-held-for-review": Case(
        hot=True,
        repeat=3,
        config={"RATELIMIT_ENABLED": True, "ABUSE_IP_ACTION_SOFT": 1, "ABUSE_IP_ACTION_HARD": 0},
    ),
    "abuse-counts-kept": Case(
        hot=True, config={"RATELIMIT_ENABLED": True, "ABUSE_COMMON_DOMAINS": ""}
    ),
    # --- everything else: handed to the view, which answers as always ------------------------
    "name-empty": Case({"name": "  "}),
    "name-101": Case({"name": "n" * 101}),
    "name-line-break": Case({"name": "Ann\r\nBcc: victim@example.org"}),
    "name-invisible": Case({"name": "Ann\u202eevil"}),
    "email-invalid": Case({"email": "not-an-email"}),
    "email-too-long": Case({"email": "a@" + "b" * 300 + ".org"}),
    "email-non-ascii-local": Case({"email": "zoë@example.org"}),
    "postcode-bad": Case({"postcode": "ZZ"}),
    "postcode-17": Case({"postcode": "SW1A 1AA" + "x" * 9}),
    "country-bad": Case({"country": "XX"}),
    "country-missing": Case({"country": None}),
    "comment-1001": Case({"comment": "c" * 1001}),
    "comment-control": Case({"comment": "bell\x07"}),
    "pledge-missing": Case({"pledge_option": None}, action="pledge"),
    "pledge-unknown": Case({"pledge_option": "Something else"}, action="pledge"),
    "csrf-missing": Case({"csrf_token": None}),
    "csrf-forged": Case(csrf="forged"),
    "csrf-other-session": Case(csrf="other-session"),
    "no-session-cookie": Case(csrf=None),
    "nul-byte": Case({"name": "Ann\x00"}),
    "nul-in-query": Case(query="source=%00"),
    "stamp-missing": Case({"started": None}),
    "extra-field": Case({"favourite": "blue"}),
    "repeated-field": Case(raw_body=b"name=Ann&name=Bob"),
    "not-utf8": Case(raw_body=b"name=Ann\xff"),
    "json-body": Case(raw_body=b'{"name": "Ann"}', content_type="application/json"),
    "multipart": Case(content_type="multipart/form-data"),
    "https-no-referrer": Case(https=True),
    "https-other-referrer": Case(https=True, headers={"Referer": "https://evil.example/"}),
    "signed-in-session": Case(session={"supporter_id": 1, "supporter_until": 0}),
    "flash-waiting": Case(session={"_flashes": [["info", "Hello"]]}),
    "closed-action": Case(action="closed"),
    "past-deadline": Case(action="past-deadline"),
    "draft-campaign": Case(action="draft"),
    "no-such-action": Case(action="missing"),
    "letter": Case(action="letter"),
    # The second is refused (429): counted once, and answered with the app's error page.
    "rate-limited": Case(
        hot=True,
        repeat=2,
        config={"RATELIMIT_ENABLED": True, "ABUSE_IP_ACTION_SOFT": 0, "ABUSE_IP_ACTION_HARD": 1},
    ),
}


@pytest.fixture
def actions(factories) -> dict[str, str]:
    live = make_campaign(slug="stop-it")
    draft = make_campaign(slug="draft-one", status=CampaignStatus.DRAFT.value)
    urls = {}
    for name, campaign, values in [
        ("petition", live, {"slug": "now", "position": 1}),
        ("pledge", live, {"slug": "pledge", "kind": ActionKind.PLEDGE.value, "position": 2}),
        ("closed", live, {"slug": "closed", "closed_at": utcnow()}),
        ("past-deadline", live, {"slug": "late", "deadline": date.today() - timedelta(days=2)}),
        ("letter", live, {"slug": "letter", "kind": ActionKind.LETTER.value}),
        ("draft", draft, {"slug": "hidden"}),
    ]:
        if name == "pledge":
            values["pledge_options"] = PLEDGES
        action = make_action(campaign, **values)
        urls[name] = f"/c/{campaign.slug}/{action.slug}"
    urls["missing"] = "/c/stop-it/nothing-here"
    db.session.commit()
    return urls


def _reset(app: Flask) -> None:
    db.session.rollback()
    db.session.execute(text("DELETE FROM outbox"))
    db.session.execute(text("DELETE FROM signatures"))
    db.session.commit()
    redis_lib.Redis.from_url(TEST_REDIS_URL).flushdb()
    app.extensions["hotpath"].clear()


def _normalise(body: str) -> str:
    for pattern, replacement in _RANDOM:
        body = pattern.sub(replacement, body)
    return body


def _rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    db.session.rollback()
    signatures = [
        {k: v for k, v in row._asdict().items() if k not in _SKIP_SIGNATURE}
        for row in db.session.execute(select(*Signature.__table__.c).order_by(Signature.id))
    ]
    outbox = [
        {k: v for k, v in row._asdict().items() if k not in _SKIP_OUTBOX}
        for row in db.session.execute(select(*OutboxMessage.__table__.c).order_by("id"))
    ]
    # Ids differ between runs only by sequence; compare which signature each row is about.
    ids = [r for (r,) in db.session.execute(select(Signature.id).order_by(Signature.id))]
    for row in outbox:
        row["ref_id"] = ids.index(row["ref_id"]) if row["ref_id"] in ids else row["ref_id"]
    return signatures, outbox


def _redis_state() -> dict[str, str]:
    client = redis_lib.Redis.from_url(TEST_REDIS_URL)
    state = {}
    for key in client.scan_iter("*"):
        name = key.decode()
        if ":abuse:stamp:" in name:
            state[re.sub(r"stamp:.*", "stamp:*", name)] = "claimed"
        elif client.type(key) == b"string":
            state[name] = client.get(key).decode()
        elif client.type(key) == b"list":  # the Celery broker's queue: which tasks were sent
            messages = [json.loads(m) for m in client.lrange(key, 0, -1)]
            state["queue:" + name] = ",".join(sorted(m["headers"]["task"] for m in messages))
    return state


def _headers(response: Any) -> list[tuple[str, str]]:
    # Retry-After counts the seconds left in the window: it moves between the two runs.
    return sorted(
        (k, "S" if k == "Retry-After" else _normalise(v)) for k, v in response.headers.items()
    )


def _fresh_request_globals() -> None:
    """The test's app context is shared by the requests made in it (Flask reuses it): forget
    what an earlier request cached in ``g`` (its CSRF token, its CSP nonce), as a new request
    context in a server would."""
    g.__dict__.clear()


def _form(client: Any, page_url: str) -> tuple[str, str]:
    _fresh_request_globals()
    html = client.get(page_url).get_data(as_text=True)
    match = _STARTED.search(html)
    assert match
    return csrf_from(html), match.group(1) or match.group(2)


def _send(app: Flask, urls: dict[str, str], case: Case) -> dict[str, Any]:
    client = app.test_client()
    token, started = _form(client, urls["petition"])
    if case.session:  # after the page: showing it would have used up a flash
        with client.session_transaction() as session:
            session.update(case.session)
    fields = {"csrf_token": token, "started": started, **_good(case.action)}
    if case.csrf == "forged":
        fields["csrf_token"] = token[:-4] + "AAAA"
    elif case.csrf == "other-session":
        fields["csrf_token"] = _form(app.test_client(), urls["petition"])[0]
    elif case.csrf is None:
        client.delete_cookie("session", domain="localhost")
    for key, value in case.fields.items():
        if key == "started" and value == "other-session":
            value = _form(app.test_client(), urls["petition"])[1]
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    url = urls[case.action] + (f"?{case.query}" if case.query else "")
    options: dict[str, Any] = {"headers": case.headers}
    if case.https:
        options["base_url"] = "https://localhost"
    if case.raw_body is not None:
        options.update(data=case.raw_body, content_type=case.content_type)
    elif case.content_type == "multipart/form-data":
        options.update(data=fields, content_type="multipart/form-data")
    else:
        options.update(data=fields, content_type=case.content_type)
    hot = app.extensions["hotpath"]
    before = hot.taken
    answers = []
    for _ in range(case.repeat):
        _fresh_request_globals()
        response = client.post(url, **options)
        answers.append((response.status_code, _headers(response), _normalise(response.text)))
    signatures, outbox = _rows()
    nudger = app.extensions.get("petitions_nudger")  # after-commit nudges: sent by its thread
    wait_for(lambda: nudger is None or nudger.idle())
    return {
        "answers": answers,
        "signatures": signatures,
        "outbox": outbox,
        "redis": _redis_state(),
        "taken": hot.taken - before,
    }


def run_both(app: Flask, monkeypatch: pytest.MonkeyPatch, urls: dict[str, str], case: Case):
    for key, value in case.config.items():
        monkeypatch.setitem(app.config, key, value)
    results = []
    for enabled in (False, True):
        monkeypatch.setitem(app.config, "HOTPATH_ENABLED", enabled)
        _reset(app)
        results.append(_send(app, urls, case))
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_both_paths_answer_and_store_the_same(app, actions, monkeypatch, name):
    case = CASES[name]
    normal, fast = run_both(app, monkeypatch, actions, case)
    assert normal["taken"] == 0
    assert fast["taken"] == (case.repeat if case.hot else 0), "which path answered"
    assert fast["answers"] == normal["answers"]
    assert fast["signatures"] == normal["signatures"]
    assert fast["outbox"] == normal["outbox"]
    assert fast["redis"] == normal["redis"]
    if case.hot:
        assert normal["answers"][0][0] == 303


def test_a_closed_action_is_never_signed_within_the_snapshot_ttl(app, actions, monkeypatch):
    """The snapshot still says open; the statement's own check refuses, and the view answers."""
    monkeypatch.setitem(app.config, "HOTPATH_SNAPSHOT_SECONDS", 3600.0)
    app.extensions["hotpath"].snapshots.ttl = 3600.0
    try:
        client = app.test_client()
        token, started = _form(client, actions["petition"])
        fields = {"csrf_token": token, "started": started, **_good("petition")}
        assert client.post(actions["petition"], data=fields).status_code == 303
        db.session.execute(text("UPDATE actions SET closed_at = now() WHERE slug = 'now'"))
        db.session.commit()
        taken = app.extensions["hotpath"].taken
        _fresh_request_globals()
        response = client.post(actions["petition"], data={**fields, "email": "bob@example.org"})
        assert response.status_code == 409
        assert app.extensions["hotpath"].taken == taken
        emails = db.session.scalars(select(Signature.email)).all()
        assert emails == ["ann@example.org"]
    finally:
        app.extensions["hotpath"].snapshots.ttl = 2.0


def test_the_consent_recorded_is_the_actions_current_one(app, actions, monkeypatch):
    """Consent wording changed inside the snapshot's TTL: the row records the new wording."""
    from petitions.campaigns.services import consent_version

    app.extensions["hotpath"].snapshots.ttl = 3600.0
    try:
        client = app.test_client()
        token, started = _form(client, actions["petition"])
        fields = {"csrf_token": token, "started": started, **_good("petition")}
        assert client.post(actions["petition"], data=fields).status_code == 303
        new = consent_version("New wording, agreed today.")
        db.session.execute(
            text("UPDATE actions SET consent_version_id = :c WHERE slug = 'now'"), {"c": new.id}
        )
        db.session.commit()
        taken = app.extensions["hotpath"].taken
        assert (
            client.post(actions["petition"], data={**fields, "email": "b@example.org"}).status_code
            == 303
        )
        assert app.extensions["hotpath"].taken == taken + 1
        rows = db.session.execute(select(Signature.email, Signature.consent_version_id)).all()
        versions = dict(rows)  # type: ignore[arg-type]
        assert versions["b@example.org"] == new.id != versions["ann@example.org"]
    finally:
        app.extensions["hotpath"].snapshots.ttl = 2.0


def test_both_paths_nudge_the_workers_once(app, actions, monkeypatch):
    """The debounced nudges (outbox drain, count fold) reach the real broker alike: once each."""
    monkeypatch.setitem(app.config, "TASK_DISPATCH", True)
    normal, fast = run_both(app, monkeypatch, actions, Case(hot=True, repeat=2))
    assert fast["taken"] == 2
    for result in (normal, fast):
        assert NUDGE_KEY.format(DRAIN_TASK) in result["redis"]
        assert NUDGE_KEY.format(FOLD_TASK) in result["redis"]
        sent = [v for k, v in result["redis"].items() if k.startswith("queue:")]
        assert sent == [",".join(sorted([DRAIN_TASK, FOLD_TASK]))]
    assert fast["redis"] == normal["redis"]


def test_a_lost_kept_connection_still_gives_one_signature(app, actions):
    """The hot path's kept connection (``hotpath.store``) is never pinged: when its backend has
    gone, the signature is written through the ORM session instead, once, with its email."""
    hot = app.extensions["hotpath"]
    client = app.test_client()
    token, started = _form(client, actions["petition"])
    fields = {"csrf_token": token, "started": started, **_good("petition")}
    assert client.post(actions["petition"], data=fields).status_code == 303
    kept = hot.store._local.kept
    assert kept is not None, "the first signature was not written on a kept connection"
    pid = kept[1].driver_connection.info.backend_pid
    db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    db.session.commit()
    taken = hot.taken
    token, started = _form(client, actions["petition"])
    fields.update(csrf_token=token, started=started, email="bob@example.org")
    _fresh_request_globals()
    response = client.post(actions["petition"], data=fields)
    assert response.status_code == 303
    assert hot.taken == taken + 1
    db.session.rollback()
    ids = db.session.scalars(select(Signature.id).where(Signature.email == "bob@example.org")).all()
    assert len(ids) == 1
    queued = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.ref_id == ids[0]))
    assert len(queued.all()) == 1
    # The next signature gets a fresh kept connection again.
    token, started = _form(client, actions["petition"])
    fields.update(csrf_token=token, started=started, email="cy@example.org")
    _fresh_request_globals()
    response = client.post(actions["petition"], data=fields)
    assert response.status_code == 303
    assert hot.store._local.kept is not None
    assert hot.store._local.kept[1].driver_connection.info.backend_pid != pid


def test_a_connection_lost_before_the_commit_still_gives_one_signature(app, actions):
    """The kept connection dies between the statement and its COMMIT (killed while the
    signature is announced): nothing was committed there, so the ORM writes it, once."""
    from petitions.core import events

    hot = app.extensions["hotpath"]
    client = app.test_client()
    killed: list[int] = []

    def kill_kept_backend(sender: Any, **_: Any) -> None:
        kept = hot.store._local.kept
        if killed or kept is None:
            return
        pid = kept[1].driver_connection.info.backend_pid
        engine = db.engine
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        killed.append(pid)

    token, started = _form(client, actions["petition"])
    fields = {"csrf_token": token, "started": started, **_good("petition")}
    events.signature_created.connect(kill_kept_backend)
    try:
        _fresh_request_globals()
        response = client.post(actions["petition"], data=fields)
    finally:
        events.signature_created.disconnect(kill_kept_backend)
    assert killed, "the kept connection was never killed"
    assert response.status_code == 303
    db.session.rollback()
    ids = db.session.scalars(select(Signature.id)).all()
    assert len(ids) == 1
    assert len(db.session.scalars(select(OutboxMessage.id)).all()) == 1


def test_a_listener_writing_through_the_session_keeps_one_unit(app, actions):
    """A listener of ``signature_created`` that writes through the ORM session: the hot path's
    statement is rolled back and the intake runs in the session, so the signature, its email
    and the listener's row are committed together, once."""
    from petitions.campaigns.models import ConsentVersion
    from petitions.core import events

    hot = app.extensions["hotpath"]
    client = app.test_client()
    heard: list[int] = []

    def write_a_row(sender: Any, signature_id: int, **_: Any) -> None:
        heard.append(signature_id)
        text_ = f"listener {len(heard)}"
        db.session.add(ConsentVersion(text=text_, text_hash=ConsentVersion.hash_of(text_)))
        db.session.flush()

    token, started = _form(client, actions["petition"])
    fields = {"csrf_token": token, "started": started, **_good("petition")}
    taken = hot.taken
    events.signature_created.connect(write_a_row)
    try:
        _fresh_request_globals()
        response = client.post(actions["petition"], data=fields)
    finally:
        events.signature_created.disconnect(write_a_row)
    assert response.status_code == 303
    assert hot.taken == taken + 1
    assert len(heard) == 2  # the hot path's attempt (rolled back), then the intake's
    db.session.rollback()
    ids = db.session.scalars(select(Signature.id)).all()
    assert ids == [heard[-1]]
    assert len(db.session.scalars(select(OutboxMessage.id)).all()) == 1
    rows = db.session.scalars(
        select(ConsentVersion.text).where(ConsentVersion.text.like("listener %"))
    ).all()
    assert rows == ["listener 2"]


def test_the_statement_commits_itself_when_receivers_only_nudge(app, actions, monkeypatch):
    """With only effect-only receivers of ``signature_created`` (``core.events.effects_only``:
    counting's nudge), the signature and its email commit in the statement itself, no COMMIT
    after it; the nudges still come after, and the kept connection is left as the pool's."""
    from petitions.core import events
    from petitions.hotpath.store import Store
    from petitions.signing.services import announced_effects_only

    assert announced_effects_only()
    monkeypatch.setitem(app.config, "TASK_DISPATCH", True)

    def no_commit(self: Any) -> None:
        raise AssertionError("a COMMIT after the statement")

    monkeypatch.setattr(Store, "complete", no_commit)
    hot = app.extensions["hotpath"]
    client = app.test_client()
    token, started = _form(client, actions["petition"])
    fields = {"csrf_token": token, "started": started, **_good("petition")}
    _fresh_request_globals()
    taken = hot.taken
    assert client.post(actions["petition"], data=fields).status_code == 303
    assert hot.taken == taken + 1
    assert hot.store._local.kept[1].driver_connection.autocommit is False
    db.session.rollback()
    ids = db.session.scalars(select(Signature.id)).all()
    assert len(ids) == 1
    assert len(db.session.scalars(select(OutboxMessage.id)).all()) == 1
    keys = redis_lib.Redis.from_url(TEST_REDIS_URL).keys("*")
    assert NUDGE_KEY.format(DRAIN_TASK).encode() in keys
    assert NUDGE_KEY.format(FOLD_TASK).encode() in keys

    # A receiver that is not marked may write: the statement and COMMIT are separate again.
    def unmarked(sender: Any, **_: Any) -> None:
        pass

    events.signature_created.connect(unmarked)
    try:
        assert not announced_effects_only()
    finally:
        events.signature_created.disconnect(unmarked)
    assert announced_effects_only()
