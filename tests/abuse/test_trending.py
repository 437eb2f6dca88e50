"""The periodic scan flags IPs and email domains with an unusual share of recent signatures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from petitions.abuse import trending
from petitions.abuse.models import TrendingAlert
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.signing.models import Signature
from tests.support.factories import make_action, make_signature


@pytest.fixture
def action(factories, config):
    config(TRENDING_MIN_SIGNATURES=20, TRENDING_IP_SHARE=0.1, TRENDING_DOMAIN_SHARE=0.25)
    return make_action()


def _people(action, n, start=0):
    for i in range(start, start + n):
        make_signature(action, f"p{i}@gmail.com", ip_address=f"10.0.{i // 200}.{i % 200}")


def test_nothing_unusual_means_no_alert(action):
    _people(action, 40)
    assert trending.detect_trending() == []


def test_one_ip_with_a_big_share_is_flagged(action):
    _people(action, 30)
    for i in range(8):
        make_signature(action, f"bot{i}@gmail.com", ip_address="203.0.113.9")
    found = trending.detect_trending()
    db.session.commit()
    assert [(a.kind, a.value, a.recent, a.window_total) for a in found] == [
        ("ip", "203.0.113.9", 8, 38)
    ]
    # Seen again: the same alert is updated, not duplicated.
    make_signature(action, "bot-more@gmail.com", ip_address="203.0.113.9")
    trending.detect_trending()
    db.session.commit()
    (alert,) = trending.open_alerts(action.id)
    assert alert.recent == 9
    assert trending.open_alert_counts([action.id]) == {action.id: 1}


def test_a_domain_surge_is_flagged_but_big_providers_are_not(action):
    _people(action, 20)
    for i in range(12):
        make_signature(action, f"x{i}@throwaway.example", ip_address=f"192.0.2.{i}")
    found = trending.detect_trending()
    assert [(a.kind, a.value) for a in found] == [("domain", "throwaway.example")]


def test_a_domain_that_is_always_common_here_is_not_flagged(action):
    # Last week, half the signers used the charity's own domain...
    for i in range(30):
        make_signature(action, f"old{i}@charity.example", ip_address=f"10.9.0.{i}")
        make_signature(action, f"oldp{i}@gmail.com", ip_address=f"10.8.0.{i}")
    db.session.execute(update(Signature).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    # ...and this hour too.
    _people(action, 20)
    for i in range(15):
        make_signature(action, f"new{i}@charity.example", ip_address=f"10.7.0.{i}")
    assert trending.detect_trending() == []


def test_dismissed_alerts_stay_quiet_for_a_window(action):
    _people(action, 30)
    for i in range(8):
        make_signature(action, f"bot{i}@gmail.com", ip_address="203.0.113.9")
    (alert,) = trending.detect_trending()
    trending.dismiss(alert)
    db.session.commit()
    assert trending.detect_trending() == []
    assert trending.open_alerts(action.id) == []
    assert db.session.query(TrendingAlert).count() == 1
