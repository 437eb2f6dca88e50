"""The embed in Welsh (issue 16): /cy/embed/… is the Welsh frame, whatever the visitor's
browser or cookie says (the organiser's snippet decides, like the words around it); it says
nothing of ours in English, signs with the signature's language Welsh, and the confirmation
goes in Welsh. The embed settings page offers the Welsh snippet."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from sqlalchemy import select

from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.signing.models import Signature
from tests.core.test_i18n import SAME_IN_BOTH, _fresh_g, _words
from tests.embeds.test_embeds import _form
from tests.gatherings.conftest import make_event
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.workspace import login, make_organiser

CONTENT = ["Zqx Campaign", "Zqx Petition", "Zqx text", "Zqx Pledge", "Zqx Event", "Zqx venue"]
CONTENT += ["Zqx Target", "Europe/London", "Ema Bed"]


def _world() -> dict[str, str]:
    campaign = make_campaign(slug="mewnblannu", title="Zqx Campaign", embed_origins="")
    petition = make_action(
        campaign,
        slug="deiseb",
        title="Zqx Petition",
        text="Zqx text",
        target="Zqx Target",
        translations={"cy": {"title": "Deiseb Gymraeg"}},
    )
    pledge = make_action(campaign, slug="addewid", title="Zqx Pledge", kind="pledge")
    pledge.closed_at = utcnow()
    event = make_event(campaign, title="Zqx Event", description="Zqx text", venue="Zqx venue")
    event.translations = {"cy": {"title": "Digwyddiad Cymraeg"}}
    db.session.commit()
    return {
        "petition": f"/embed/mewnblannu/{petition.slug}",
        "pledge": f"/embed/mewnblannu/{pledge.slug}",
        "event": f"/embed/mewnblannu/{event.slug}",
    }


def _pages(app: Flask, prefix: str, world: dict[str, str], email: str) -> dict[str, str]:
    _fresh_g()
    frame = app.test_client(use_cookies=False)  # a third-party frame: no cookie of ours
    pages = {}
    for name in ("petition", "event"):
        url = prefix + world[name]
        page = frame.get(url).get_data(as_text=True)
        pages[name] = page
        bad = frame.post(url, data={**_form(page), "email": "nope"})
        assert bad.status_code == 400
        pages[f"{name} with errors"] = bad.get_data(as_text=True)
        expired = frame.post(url, data={**_form(page), "embed_token": "forged"})
        assert expired.status_code == 400
        pages[f"{name}, expired"] = expired.get_data(as_text=True)
        sent = frame.post(url, data={**_form(page), "email": f"{name}-{email}"})
        assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
        pages[f"{name} thanks"] = frame.get(sent.location).get_data(as_text=True)
    pages["closed pledge"] = frame.get(prefix + world["pledge"]).get_data(as_text=True)
    return pages


def test_a_welsh_embed_is_in_welsh_and_signs_in_welsh(
    app: Flask, factories: Any, smtp_sink: Any
) -> None:
    world = _world()
    english = _pages(app, "", world, "saes@example.org")
    welsh = _pages(app, "/cy", world, "cymro@example.org")
    left = {}
    for name, page in welsh.items():
        same = (_words(page, CONTENT) & _words(english[name], CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on the Welsh embed: {left}"
    assert '<html lang="cy">' in welsh["petition"] and '<html lang="en">' in english["petition"]
    assert "Deiseb Gymraeg" in welsh["petition"] and "Zqx Petition" in english["petition"]
    assert 'href="http://localhost/cy/c/mewnblannu/deiseb"' in welsh["petition"]  # Welsh page
    assert "Digwyddiad Cymraeg" in welsh["event"] and "Zqx Event" in english["event"]
    assert "Ffurflen" in welsh["petition, expired"] or "ffurflen" in welsh["petition, expired"]
    assert "Mae'r addewid hwn wedi cau" in welsh["closed pledge"]
    languages = dict(db.session.execute(select(Signature.email, Signature.language)).all())
    assert languages == {
        "petition-cymro@example.org": "cy",
        "event-cymro@example.org": "cy",
        "petition-saes@example.org": "en",
        "event-saes@example.org": "en",
    }
    drain()
    mail = {m.envelope_to[0]: m for m in smtp_sink.messages}
    welsh_mail = mail["petition-cymro@example.org"]
    assert welsh_mail.subject == "Cadarnhewch eich llofnod: Deiseb Gymraeg"
    assert welsh_mail.message["Content-Language"] == "cy"
    assert "/cy/confirm/" in welsh_mail.text() and TOKEN_IN_LINK.search(welsh_mail.text())
    assert mail["event-cymro@example.org"].message["Content-Language"] == "cy"
    assert mail["petition-saes@example.org"].subject.startswith("Please confirm your signature")


def test_the_embed_speaks_its_address_not_the_browser(app: Flask, factories: Any) -> None:
    world = _world()
    _fresh_g()
    frame = app.test_client()
    frame.set_cookie("lang", "cy")
    plain = frame.get(world["petition"], headers={"Accept-Language": "cy"})
    assert '<html lang="en">' in plain.get_data(as_text=True)
    assert "Accept-Language" not in plain.headers.get("Vary", "")  # one answer per address
    welsh = frame.get("/cy" + world["petition"], headers={"Accept-Language": "en"})
    assert '<html lang="cy">' in welsh.get_data(as_text=True)
    # The rest of the site still follows the choice and the browser.
    assert '<html lang="cy">' in frame.get("/c/mewnblannu").get_data(as_text=True)


def test_the_settings_page_offers_the_welsh_snippet(app: Flask, factories: Any) -> None:
    owner = make_organiser("embed-org@example.org")
    campaign = make_campaign(slug="snippet", owner_id=owner.id)
    make_action(campaign, slug="deiseb", title="Zqx", translations={"cy": {"title": "Cymraeg"}})
    db.session.commit()
    client = app.test_client()
    login(client, "embed-org@example.org")
    for prefix in ("", "/cy"):  # the same two snippets whatever language the page is in
        page = html.unescape(client.get(f"{prefix}/organise/campaigns/{campaign.id}/embed").text)
        assert 'src="http://localhost/embed/snippet/deiseb?source=embed"' in page
        assert 'src="http://localhost/cy/embed/snippet/deiseb?source=embed"' in page
        assert 'title="Zqx"' in page and 'title="Cymraeg"' in page
        assert page.count('<script src="http://localhost/static/embed/embed.js" async>') == 2
    assert "Cod mewnblannu: Cymraeg" in page and "Cod mewnblannu: English" in page
