"""My actions in Welsh (issue 16): the signed-in page and the withdraw step say nothing of ours
in English, the organiser's Welsh titles are used, and the sign-in link is written in the
language of the page it was asked for on."""

from __future__ import annotations

from typing import Any

from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.supporters import services
from tests.core.test_i18n import SAME_IN_BOTH, _fresh_g, _words
from tests.support.factories import make_action, make_campaign
from tests.support.web import csrf_from
from tests.supporters.conftest import sign_confirmed

CONTENT = ["Zqx Campaign", "Zqx Petition", "Zqx Pledge", "Zqx Letter", "ann@example.org"]


def _signed_in(app: Any, email: str) -> Any:
    import time

    supporter = services.supporter_for(email)
    db.session.commit()
    _fresh_g()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["supporter_id"] = supporter.id
        sess["supporter_until"] = int(time.time()) + 600
        sess["supporter_version"] = 1
    return client


def test_my_actions_has_no_english_of_ours_in_welsh(app: Any, factories: Any) -> None:
    campaign = make_campaign(slug="fy-ngweithredoedd", title="Zqx Campaign")
    petition = make_action(
        campaign,
        slug="deiseb",
        title="Zqx Petition",
        translations={"cy": {"title": "Deiseb Gymraeg"}},
    )
    pledge = make_action(campaign, slug="addewid", title="Zqx Pledge", kind="pledge")
    sign_confirmed(petition, "ann@example.org", wants_updates=True)
    withdrawn = sign_confirmed(pledge, "ann@example.org")
    services.withdraw("ann@example.org", withdrawn)
    services.set_preferences(
        services.supporter_for("ann@example.org"), True, set(), {campaign.id}
    )  # a consent event for the history
    db.session.commit()
    pages = {}
    for prefix in ("", "/cy"):
        client = _signed_in(app, "ann@example.org")
        home = client.get(prefix + "/my")
        assert home.status_code == 200
        signature_id = sign_confirmed(make_action(campaign, title="Zqx Letter"), "ann@example.org")
        pages[prefix] = {
            "home": home.get_data(as_text=True),
            "withdraw": client.get(prefix + f"/my/signatures/{signature_id}/withdraw").get_data(
                as_text=True
            ),
        }
    left = {}
    for name, html in pages["/cy"].items():
        same = (_words(html, CONTENT) & _words(pages[""][name], CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages: {left}"
    welsh = pages["/cy"]["home"]
    assert '<html lang="cy">' in welsh and "Deiseb Gymraeg" in welsh  # the organiser's Welsh
    assert "Zqx Petition" in pages[""]["home"] and "Hanes caniatâd" in welsh
    assert "Tynnu eich llofnod yn ôl o" in pages["/cy"]["withdraw"]


def _ask(app: Any, prefix: str, email: str) -> None:
    _fresh_g()
    client = app.test_client()
    page = client.get(prefix + "/my").get_data(as_text=True)
    sent = client.post(prefix + "/my/signin", data={"csrf_token": csrf_from(page), "email": email})
    assert sent.status_code == 200


def test_the_signin_link_is_written_in_the_language_it_was_asked_in(
    app: Any, factories: Any, smtp_sink: Any
) -> None:
    action = make_action(title="Zqx Petition")
    sign_confirmed(action, "cymro@example.org")
    sign_confirmed(action, "saes@example.org")
    _ask(app, "/cy", "cymro@example.org")
    _ask(app, "", "saes@example.org")
    drain()
    mail = {m.envelope_to[0]: m for m in smtp_sink.messages}
    welsh, english = mail["cymro@example.org"], mail["saes@example.org"]
    assert welsh.subject == "Eich dolen i Fy ngweithredoedd"
    assert welsh.message["Content-Language"] == "cy"
    assert "/cy/my/signin/" in welsh.text() and "Dyma eich dolen" in welsh.text()
    assert "Fy ngweithredoedd" in welsh.html()
    assert english.subject == "Your link to My actions"
    assert "/cy/" not in english.text() and "/my/signin/" in english.text()
    assert english.message["Content-Language"] == "en"
