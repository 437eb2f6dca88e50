"""Letters in Welsh (issue 16): the letter page, its errors, the thank-you and the writer's own
page say nothing of ours in English; the organiser's Welsh title is used; the letter that
reaches the target keeps the site's own language, whatever the writer's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from petitions.extensions import db
from petitions.letters import services
from petitions.letters.models import Letter, LetterDelivery
from petitions.letters.notifications import letter_message
from petitions.signing.models import Signature
from tests.core.test_i18n import SAME_IN_BOTH, _fresh_g, _words
from tests.letters.conftest import MP_URL, write
from tests.support.factories import make_campaign

CONTENT = ["Zqx Campaign", "Zqx Letter", "Zqx intro", "Zqx template", "Zqx Target", "Zqx note"]
URL = "/l/llythyr/zqx-letter"


def _letter(factories: Any) -> Any:
    campaign = make_campaign(slug="llythyr", title="Zqx Campaign")
    action = services.create_letter(
        campaign,
        services.LetterInput(
            title="Zqx Letter", intro="Zqx intro", subject="Zqx subject", template="Zqx template"
        ),
    )
    action.translations = {"cy": {"title": "Llythyr Cymraeg"}}
    target = services.add_target(
        action, services.TargetInput(name="Zqx Target", email="target@example.org")
    )
    services.set_stance(target, "supports", "Zqx note", None, "")
    db.session.commit()
    return action


def _pages(app: Any, prefix: str, email: str) -> dict[str, str]:
    _fresh_g()
    client = app.test_client()
    pages = {"letter": client.get(prefix + URL).get_data(as_text=True)}
    pages["letter with errors"] = write(client, prefix + URL, email, message="").get_data(
        as_text=True
    )
    sent = write(client, prefix + URL, email)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    pages["thanks"] = client.get(sent.location).get_data(as_text=True)
    signature_id = db.session.scalar(select(Signature.id).where(Signature.email == email))
    with app.test_request_context(prefix + "/"):
        from petitions.letters.blueprint import letter_link

        own = letter_link(signature_id)
    assert own is not None
    pages["own letter"] = client.get(prefix + own).get_data(as_text=True)
    return pages


def test_the_letter_pages_have_no_english_of_ours_in_welsh(app: Any, factories: Any) -> None:
    _letter(factories)
    english = _pages(app, "", "saes@example.org")
    welsh = _pages(app, "/cy", "cymro@example.org")
    left = {}
    for name, html in welsh.items():
        same = (_words(html, CONTENT) & _words(english[name], CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages: {left}"
    assert "<h1>Llythyr Cymraeg</h1>" in welsh["letter"] and "Anfon fy llythyr" in welsh["letter"]
    assert "<h1>Zqx Letter</h1>" in english["letter"]
    assert "Yn cefnogi" in welsh["thanks"] or "eisoes yn cefnogi" in welsh["thanks"]


def test_a_welsh_writer_gets_welsh_words_and_the_target_gets_english(
    app: Any, app_ctx: Any, demo: Any
) -> None:
    partial = app.test_client().get("/cy" + MP_URL + "?postcode=GU11")
    assert partial.status_code == 400
    assert "rhan o god post" in partial.get_data(as_text=True)
    _fresh_g()
    sent = write(app.test_client(), "/cy" + MP_URL, "cymro@example.org", query="?postcode=GU11 1AA")
    assert sent.status_code == 303
    signature = db.session.scalar(select(Signature).where(Signature.email == "cymro@example.org"))
    assert signature.language == "cy"  # so its confirmation email is Welsh
    signature.confirmed_at = signature.created_at
    letter = db.session.scalar(select(Letter).where(Letter.signature_id == signature.id))
    delivery = LetterDelivery(letter_id=letter.id, target_id=letter.target_ids[0])
    db.session.add(delivery)
    db.session.flush()
    with app.test_request_context("/cy/"):  # even built during a Welsh request
        built = letter_message(delivery)
    assert built is not None
    assert "Sent on behalf of" in built.message.body and "Anfonwyd" not in built.message.body


def _organiser_pages(app: Any, prefix: str, action: Any) -> dict[str, str]:
    from flask import g

    from tests.support.workspace import csrf, login

    g.pop("csrf_token", None)
    g.pop("_login_user", None)
    client = app.test_client()
    login(client, "llythyr-org@example.org")
    g.pop("csrf_token", None)  # the login page's: the signed-in session has a token of its own
    target = action_targets(action)[0]
    pages = {}
    for name, path in {
        "new letter": f"/organise/campaigns/{action.campaign_id}/letters/new",
        "edit letter": f"/organise/letters/{action.id}/edit",
        "manage": f"/organise/letters/{action.id}",
        "edit recipient": f"/organise/letters/{action.id}/targets/{target.id}/edit",
    }.items():
        answer = client.get(prefix + path)
        assert answer.status_code == 200, (name, answer.status_code)
        pages[name] = answer.get_data(as_text=True)
    url = f"{prefix}/organise/campaigns/{action.campaign_id}/letters/new"
    refused = client.post(url, data={"csrf_token": csrf(client, url), "title": ""})
    assert refused.status_code == 400
    pages["new letter with errors"] = refused.get_data(as_text=True)
    return pages


def _ours(html: str, content: list[str]) -> set[str]:
    """The words of the workspace part of the page, without the organiser's content."""
    return _words(html[html.index('<div class="workspace">') :], content)


def action_targets(action: Any) -> list[Any]:
    from petitions.letters.models import LetterTarget

    return list(db.session.scalars(select(LetterTarget).where(LetterTarget.action_id == action.id)))


def test_the_organisers_letter_pages_have_no_english_of_ours_in_welsh(
    app: Any, factories: Any
) -> None:
    from tests.support.workspace import make_organiser

    make_organiser("llythyr-org@example.org", admin=True)
    action = _letter(factories)
    english = _organiser_pages(app, "", action)
    welsh = _organiser_pages(app, "/cy", action)
    content = [*CONTENT, "Zqx subject", "target@example.org", "Markdown"]
    left = {}
    for name, html in welsh.items():
        same = _ours(html, content) & _ours(english[name], content)
        if same - SAME_IN_BOTH - {"UTC"}:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages: {left}"
    assert "Llythyrau fesul derbynnydd" in welsh["manage"]
    assert "Tynnu Zqx Target" in welsh["edit recipient"]
    assert "Letters per recipient" in english["manage"]
