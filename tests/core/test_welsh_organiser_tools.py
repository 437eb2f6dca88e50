"""Languages (issue 16): the organisers' tools in Welsh — abuse review and invalidation, API
tokens, the audit log, webhooks, donation asks, embed settings, paper signatures, questions and
outcomes. Each page is rendered in both languages and what a person reads in the workspace
(the page's own part, not the shared workspace layout) is compared: any of our English words
left on the Welsh page fail the test."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import g

from petitions.abuse.models import InvalidationJob, TrendingAlert
from petitions.abuse.services import Criteria
from petitions.api.tokens import create_token
from petitions.audit.services import record
from petitions.core.time import utcnow
from petitions.donations.services import record_hit, save_ask
from petitions.extensions import db
from petitions.organisers.models import Organiser
from petitions.outcomes.services import OutcomeInput, add_entry
from petitions.paper.services import add_signature, record_tally
from petitions.questions.services import QuestionInput, add_question
from petitions.signing.models import Signature
from petitions.webhooks.models import WebhookDelivery
from petitions.webhooks.services import register
from tests.core.test_i18n import _Text
from tests.support.factories import make_action, make_campaign, make_signature
from tests.support.workspace import login, make_organiser

# The organiser's own words and the data on the page: not ours to translate.
CONTENT = [
    "Zqx Campaign",
    "Zqx Action",
    "Ann Example",
    "Zqx reason",
    "Zqx token",
    "https://hooks.example.org/zqx",
    "held for zqx",
    "https://crm.example.org/hooks/petitions",  # an example address
    "signature.confirmed",  # event names are codes, the same in the JSON
    "signature.invalidate",
    "job_id",
    "Zqx ask",
    "https://donate.example.org/zqx",
    "Zqx stall",
    "Zqx note",
    "Paper Person",
    "thanks",  # a source code
    "embed-preview",
    "https://www.example.org",
    "CF10 1AA",
    # The audit log's event names and details are codes, as the API and exports give them.
    "donation.ask",
    "paper.signature",
    "paper.tally",
    "count:",
    "host: donate.example.org",
    "action.outcome.add",
    "kind: response; title: Zqx outcome; emailed: False",
    "Zqx question",
    "Zqx bus",
    "Zqx train",
    "Zqx outcome",
]
_CODE = re.compile(
    r"<code>.*?</code>|<textarea[^>]*class=\"snippet\"[^>]*>.*?</textarea>", re.S
)  # header names, token prefixes, addresses; the embed snippets (HTML to paste)
_EMAIL = re.compile(r"\S+@\S+")
# Codes and names that read the same in both languages.
SAME_IN_BOTH = {"IP", "UTC", "JSON", "CRM", "OSDI", "API"}


def _workspace_words(html: str) -> set[str]:
    """The words of the page's own part (``<div class="workspace">``), without the content."""
    start = html.index('<div class="workspace">')
    parser = _Text()
    parser.feed(_CODE.sub("", html[start:]))
    words = set()
    for chunk in parser.chunks:
        for item in CONTENT:
            chunk = chunk.replace(item, "")
        chunk = _EMAIL.sub("", chunk)
        chunk = re.sub(r"[\d,.%£·:;()/\-–—#…\s]+", " ", chunk).strip()
        if re.search(r"[A-Za-z]{2,}", chunk) and chunk not in SAME_IN_BOTH:
            words.add(chunk)
    return words


@pytest.fixture
def tools(app: Any, factories: Any) -> Iterator[dict[str, Any]]:
    hosts = app.config["DONATION_HOSTS"]
    owner = make_organiser("tools-owner@example.org", admin=True)
    campaign = make_campaign(slug="offer", title="Zqx Campaign", owner_id=owner.id)
    action = make_action(campaign, slug="deiseb", title="Zqx Action")
    signature_id = make_signature(action, "bot@bots.example", ip_address="203.0.113.5")
    held_id = make_signature(action, "held@bots.example", ip_address="203.0.113.5")
    flagged_id = make_signature(action, "fast@example.org")
    db.session.execute(
        db.update(Signature)
        .where(Signature.id == held_id)
        .values(suspect=True, review_reason="held for zqx")
    )
    db.session.execute(
        db.update(Signature).where(Signature.id == flagged_id).values(review_reason="held for zqx")
    )
    db.session.add(
        TrendingAlert(
            action_id=action.id,
            kind="ip",
            value="203.0.113.5",
            recent=3,
            window_total=4,
            share=0.75,
        )
    )
    job = InvalidationJob(
        action_id=action.id,
        organiser_id=owner.id,
        criteria=Criteria(ip="203.0.113.5", name_pattern="bot*").to_json(),
        reason="Zqx reason",
        status="done",
        matched=1,
        processed=1,
        changed=1,
    )
    db.session.add(job)
    create_token(db.session.get(Organiser, owner.id), "Zqx token")
    endpoint = register(campaign, "https://hooks.example.org/zqx", ["signature.confirmed"], None)
    db.session.flush()
    db.session.add(
        WebhookDelivery(
            endpoint_id=endpoint.id,
            event="signature.confirmed",
            signature_id=signature_id,
            idempotency_key=str(uuid.uuid4()),
            attempts=1,
        )
    )
    record(
        "signature.invalidate",
        organiser_id=owner.id,
        campaign_id=campaign.id,
        action_id=action.id,
        subject_ids=[signature_id],
        detail={"job_id": 1},
    )
    app.config["DONATION_HOSTS"] = "donate.example.org"
    ask = save_ask(
        campaign,
        action=None,
        text="Zqx ask",
        amounts=[5, 10],
        url="https://donate.example.org/zqx",
        organiser_id=owner.id,
    )
    record_hit(ask, "view", "thanks", action.id)
    record_hit(ask, "click", "thanks", action.id)
    today = utcnow().date()
    record_tally(
        action, count=12, source="Zqx stall", collected_on=today, note="Zqx note", organiser_id=None
    )
    add_signature(
        action,
        name="Paper Person",
        postcode="CF10 1AA",
        postcode_area="CF",
        country="GB",
        collected_on=today,
        organiser_id=None,
    )
    add_question(
        action,
        QuestionInput(
            label="Zqx question",
            kind="choice",
            choices="Zqx bus\nZqx train",
            translations={"cy": {"label": "Sut daethoch chi?", "choices": "Bws\nTrên"}},
        ),
    )
    add_entry(
        action,
        OutcomeInput(kind="response", title="Zqx outcome", happened_on=today),
        organiser_id=None,
    )
    db.session.commit()
    yield {"campaign": campaign.id, "action": action.id, "job": job.id}
    app.config["DONATION_HOSTS"] = hosts


def _pages(app: Any, ids: dict[str, Any], prefix: str) -> dict[str, str]:
    # The test's app context is shared by the requests: each client logs in afresh.
    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    client = app.test_client()
    login(client, "tools-owner@example.org")
    paths = {
        "abuse overview": "/organise/actions/{action}/abuse",
        "invalidate": "/organise/actions/{action}/invalidate",
        "invalidation job": "/organise/actions/{action}/invalidate/jobs/{job}",
        "review": "/organise/actions/{action}/review",
        "api tokens": "/organise/api-tokens",
        "audit log": "/organise/audit/",
        "webhooks": "/organise/campaigns/{campaign}/webhooks",
        "donation ask": "/organise/campaigns/{campaign}/donations",
        "embed settings": "/organise/campaigns/{campaign}/embed",
        "paper": "/organise/campaigns/{campaign}/actions/{action}/paper",
        "questions": "/organise/actions/{action}/questions",
        "outcomes": "/organise/actions/{action}/outcomes",
    }
    pages = {}
    for name, path in paths.items():
        answer = client.get(prefix + path.format(**ids))
        assert answer.status_code == 200, (name, answer.status_code)
        pages[name] = answer.get_data(as_text=True)
    return pages


def test_nothing_english_is_left_on_the_welsh_tools(app: Any, tools: dict[str, Any]) -> None:
    english = _pages(app, tools, "")
    welsh = _pages(app, tools, "/cy")
    left = {}
    for name, html in welsh.items():
        same = _workspace_words(html) & _workspace_words(english[name])
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages (mark these for translation): {left}"
    assert "Rhybuddion ac annilysu" in welsh["abuse overview"]
    assert "ffynhonnell anarferol o lofnodion" in welsh["abuse overview"]
    assert "Tocynnau API" in welsh["api tokens"]
    assert "Bachau gwe" in welsh["webhooks"]
    assert "enw fel “bot*”" in welsh["invalidation job"]  # the criteria, in words
    assert "Llofnodion papur ac all-lein" in welsh["paper"]
    assert "Mewnblannu ar wefannau eraill" in welsh["embed settings"]


def test_a_welsh_signer_reads_the_questions_in_welsh(app: Any, tools: dict[str, Any]) -> None:
    g.pop("csrf_token", None)
    welsh = app.test_client().get("/cy/c/offer/deiseb").get_data(as_text=True)
    assert "Sut daethoch chi?" in welsh and ">Trên</label>" in welsh
    assert 'value="Zqx train"' in welsh  # the answer stored is the English choice
    g.pop("csrf_token", None)
    english = app.test_client().get("/c/offer/deiseb").get_data(as_text=True)
    assert "Zqx question" in english and ">Zqx train</label>" in english
