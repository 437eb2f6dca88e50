"""Rate limits, honeypot and fill time: all silent except the hard limit's 429."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from petitions import create_app
from petitions.extensions import db
from petitions.mailer.models import OutboxMessage
from petitions.screening.checks import RequestFacts, clean_ip, fill_seconds_from_stamp
from petitions.signing.models import Signature
from petitions.signing.services import submit_signature
from tests.support.factories import make_action, make_campaign, signature_input
from tests.support.web import csrf_from

_STARTED = re.compile(
    r'name="started" type="hidden" value="([^"]+)"|name="started" value="([^"]+)"'
)


@pytest.fixture
def action(factories):
    campaign = make_campaign(slug="save-the-park")
    action = make_action(campaign, slug="sign")
    db.session.commit()
    return action


def _form(client, url, **fields):
    page = client.get(url).get_data(as_text=True)
    started = _STARTED.search(page)
    assert started, "the sign form carries a started stamp"
    data = {
        "csrf_token": csrf_from(page),
        "started": started.group(1) or started.group(2),
        "country": "GB",
        "postcode": "SW1A 1AA",
        "name": "Ann Example",
        "email": "ann@example.org",
        "website": "",
    }
    data.update(fields)
    return data


def _rows():
    return list(db.session.scalars(select(Signature).order_by(Signature.id)))


def _outbox() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


URL = "/c/save-the-park/sign"


def test_form_has_honeypot_hidden_from_people(client, action):
    page = client.get(URL).get_data(as_text=True)
    assert 'name="website"' in page
    assert 'aria-hidden="true"' in page
    assert 'tabindex="-1"' in page


def test_honeypot_drops_silently(client, action):
    normal = client.post(URL, data=_form(client, URL, email="real@example.org"))
    trapped = client.post(URL, data=_form(client, URL, email="bot@example.org", website="x"))
    assert trapped.status_code == normal.status_code == 303
    assert trapped.headers["Location"] == normal.headers["Location"]
    assert [s.email for s in _rows()] == ["real@example.org"]
    assert _outbox() == 1


def test_too_fast_is_flagged_and_still_emailed(client, action, config):
    """Issue 11, finding 8: it used to be stored suspect and never emailed."""
    config(ABUSE_MIN_FILL_SECONDS=30.0)
    response = client.post(URL, data=_form(client, URL))
    assert response.status_code == 303
    (row,) = _rows()
    assert row.suspect is False
    assert row.review_reason.startswith("filled in ")
    assert _outbox() == 1


def test_missing_or_forged_stamp_counts_as_too_fast(client, action, config):
    config(ABUSE_MIN_FILL_SECONDS=2.0)
    forged = TimestampSigner("not-our-key", salt="x").sign(b"f").decode()
    assert fill_seconds_from_stamp(forged) == 0.0
    assert fill_seconds_from_stamp(None) == 0.0
    assert fill_seconds_from_stamp("x" * 500) == 0.0
    response = client.post(URL, data=_form(client, URL, started=forged))
    assert response.status_code == 303
    (row,) = _rows()
    assert row.suspect is False
    assert row.review_reason == "filled in 0.0 s; form stamp missing or forged"


def test_slow_enough_is_fine(client, action, config, app):
    config(ABUSE_MIN_FILL_SECONDS=1.0)
    data = _form(client, URL)
    time.sleep(1.1)
    assert client.post(URL, data=data).status_code == 303
    assert _rows()[0].suspect is False
    with app.test_request_context():
        assert fill_seconds_from_stamp(data["started"]) >= 1.0


def test_ip_per_action_soft_then_hard(client, action, limits_on):
    statuses = [
        client.post(URL, data=_form(client, URL, email=f"p{i}@example.org")).status_code
        for i in range(8)
    ]
    # 3 fine, 3 more stored as suspect with the same response, then 429.
    assert statuses == [303] * 6 + [429, 429]
    rows = _rows()
    assert [r.suspect for r in rows] == [False] * 3 + [True] * 3
    assert _outbox() == 3


def test_429_page_is_clear_and_has_retry_after(client, action, limits_on, config):
    config(ABUSE_IP_ACTION_SOFT=0, ABUSE_IP_ACTION_HARD=1)
    client.post(URL, data=_form(client, URL, email="a@example.org"))
    response = client.post(URL, data=_form(client, URL, email="b@example.org"))
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert b"Too many requests" in response.data


def test_limits_are_per_action_and_per_ip(app, action, limits_on):
    with app.test_request_context():
        other = make_action(action.campaign, slug="other")
        db.session.commit()
        for i in range(3):
            submit_signature(
                action, signature_input(f"a{i}@example.org", ip_address="198.51.100.1")
            )
        # Another IP on the same action, and the same IP on another action, are unaffected.
        submit_signature(action, signature_input("b@example.org", ip_address="198.51.100.2"))
        submit_signature(other, signature_input("c@example.org", ip_address="198.51.100.1"))
        submit_signature(action, signature_input("d@example.org", ip_address="198.51.100.1"))
        suspects = {s.email for s in _rows() if s.suspect}
    assert suspects == {"d@example.org"}


def test_ip_overall_limit_across_actions(app, action, limits_on, config):
    config(ABUSE_IP_SOFT=2, ABUSE_IP_HARD=0)
    with app.test_request_context():
        actions = [action] + [make_action(action.campaign) for _ in range(3)]
        db.session.commit()
        for i, each in enumerate(actions):
            submit_signature(each, signature_input(f"x{i}@example.org", ip_address="192.0.2.7"))
        assert [s.suspect for s in _rows()] == [False, False, True, True]


def test_email_domain_per_action(app, action, limits_on):
    with app.test_request_context():
        for i in range(6):
            submit_signature(
                action, signature_input(f"u{i}@spam.example", ip_address=f"10.0.0.{i}")
            )
        # A big provider is never limited by domain.
        for i in range(6):
            submit_signature(action, signature_input(f"g{i}@gmail.com", ip_address=f"10.1.0.{i}"))
        rows = _rows()
    assert [r.suspect for r in rows if r.email.endswith("spam.example")] == [False] * 4 + [True] * 2
    assert not any(r.suspect for r in rows if r.email.endswith("gmail.com"))


def test_suspect_resubmission_never_spoils_a_good_signature(app, action, limits_on, config):
    config(ABUSE_IP_ACTION_SOFT=1)
    with app.test_request_context():
        submit_signature(action, signature_input("ann@example.org", ip_address="10.9.9.9"))
        submit_signature(action, signature_input("ann@example.org", ip_address="10.9.9.9"))
        (row,) = _rows()
    assert row.suspect is False


def test_storage_down_fails_open(app, action, limits_on):
    app.extensions.pop("abuse_storage", None)
    saved = app.config["RATELIMIT_STORAGE_URI"]
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
    try:
        with app.test_request_context():
            for i in range(10):
                submit_signature(
                    action, signature_input(f"z{i}@example.org", ip_address="10.2.2.2")
                )
            assert len(_rows()) == 10
            assert not any(r.suspect for r in _rows())
    finally:
        app.config["RATELIMIT_STORAGE_URI"] = saved
        app.extensions.pop("abuse_storage", None)


def test_api_callers_have_no_fill_time(app, action, config):
    config(ABUSE_MIN_FILL_SECONDS=60.0)
    with app.test_request_context():
        submit_signature(action, signature_input(), RequestFacts(ip="10.0.0.1"))
        assert _rows()[0].suspect is False


def test_clean_ip():
    assert clean_ip(" 203.0.113.5 ") == "203.0.113.5"
    assert clean_ip("2001:DB8::1") == "2001:db8::1"
    assert clean_ip("203.0.113.5, 10.0.0.1") is None
    assert clean_ip("<script>") is None
    assert clean_ip(None) is None


# --- client IPs through trusted proxies ------------------------------------------------------


@pytest.fixture
def proxied_app(app):
    def build(trusted: int):
        settings = {
            k: app.config[k]
            for k in ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "MAIL_SERVER", "MAIL_PORT")
        }
        return create_app(
            "test",
            **settings,
            TRUSTED_PROXIES=trusted,
            TASK_DISPATCH=False,
            RATELIMIT_ENABLED=False,
        )

    return build


def _ip_stored_by(test_app, headers, email):
    client = test_app.test_client()
    page = client.get(URL).get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "country": "GB",
        "postcode": "SW1A 1AA",
        "name": "Ann Example",
        "email": email,
    }
    response = client.post(
        URL, data=data, headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert response.status_code == 303
    with test_app.app_context():
        return db.session.scalar(select(Signature.ip_address).where(Signature.email == email))


def test_spoofed_forwarded_for_changes_nothing_without_trusted_proxies(action, proxied_app):
    spoof = {"X-Forwarded-For": "203.0.113.66"}
    assert _ip_stored_by(proxied_app(0), spoof, "a@example.org") == "10.0.0.9"


def test_one_trusted_proxy_uses_the_hop_it_added(action, proxied_app):
    # The client sent a forged first hop; our proxy appended the real address.
    chain = {"X-Forwarded-For": "203.0.113.66, 198.51.100.23"}
    assert _ip_stored_by(proxied_app(1), chain, "b@example.org") == "198.51.100.23"
