"""The organisers' workspace in Welsh (issue 16): every page an organiser works on, rendered in
both languages, shows none of our English words on its Welsh version (the campaign's own words,
and names such as the organiser's email, are theirs)."""

from __future__ import annotations

from typing import Any

from flask import g

from petitions.extensions import db
from tests.core.test_i18n import SAME_IN_BOTH, _words
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from
from tests.support.workspace import confirmed_signature, login, make_organiser

CONTENT = [
    "Zqx Campaign Title",
    "Zqx summary",
    "Zqx Action Title",
    "Zqx text",
    "Ann Example",
    "cymraeg-admin@example.org",
    "signer@example.org",
    "SW1A 1AA",
    "SW",  # its postcode area, on the dashboard
    "(GB)",
    "GB",
    "Petitions",  # the default organisation name, in the logo's alt text
    "Markdown",
    "UTC",
    "Logo",
    "Cymraeg",
    "/c/iaith",
    "example.org",
]
# Included from another area's template, translated there (supporters/_consent_history.html).
CONTENT += ["Consent history", "No changes recorded"]


def _client(app: Any, prefix: str) -> Any:
    # The test's app context is shared by the clients' requests: each gets its own CSRF token
    # and its own logged-in organiser (tests/core/test_i18n.py).
    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    client = app.test_client()
    if prefix:
        client.get("/lang/cy?next=/")
    answer = login(client, "cymraeg-admin@example.org")
    assert answer.status_code == 303, answer.status_code
    g.pop("csrf_token", None)  # logging in starts a new session
    return client


def test_the_workspace_in_welsh_has_no_english_of_ours(app: Any, factories: Any) -> None:
    make_organiser("cymraeg-admin@example.org", admin=True)
    campaign = make_campaign(slug="iaith", title="Zqx Campaign Title", summary="Zqx summary")
    action = make_action(campaign, slug="deiseb", title="Zqx Action Title", text="Zqx text")
    db.session.commit()
    signature_id = confirmed_signature(action, "signer@example.org", name="Ann Example")
    base = f"/organise/campaigns/{campaign.id}"
    paths = {
        "home": "/organise/",
        "organisers": "/organise/organisers",
        "branding": "/organise/branding",
        "campaign": base,
        "new campaign": "/organise/campaigns/new",
        "edit campaign": f"{base}/edit",
        "new action": f"{base}/actions/new",
        "edit action": f"{base}/actions/{action.id}/edit",
        "close action": f"{base}/actions/{action.id}/close",
        "new update": f"{base}/updates/new",
        "signatures": f"{base}/actions/{action.id}/signatures",
        "signature": f"{base}/actions/{action.id}/signatures/{signature_id}",
        "campaign dashboard": f"/organise/campaigns/{campaign.id}/dashboard",
        "action dashboard": f"/organise/campaigns/{campaign.id}/actions/{action.id}/dashboard",
        "exports": f"{base}/actions/{action.id}/exports",
    }
    pages: dict[str, dict[str, str]] = {}
    for language, prefix in (("en", ""), ("cy", "/cy")):
        client = _client(app, prefix)
        pages[language] = {
            name: client.get(prefix + path).get_data(as_text=True) for name, path in paths.items()
        }
        form = pages[language]["edit action"]
        pages[language]["action with errors"] = client.post(
            prefix + paths["edit action"],
            data={"csrf_token": csrf_from(form), "kind": "petition", "goal": "lots"},
        ).get_data(as_text=True)
    left = {}
    for name, html in pages["cy"].items():
        same = (_words(html, CONTENT) & _words(pages["en"][name], CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh workspace pages: {left}"
    assert "Eich ymgyrchoedd" in pages["cy"]["home"]
    assert "Rhowch y nod fel nifer cyfan" in pages["cy"]["action with errors"]
    assert "Your campaigns" in pages["en"]["home"]
