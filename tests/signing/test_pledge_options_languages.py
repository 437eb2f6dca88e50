"""A pledge's options in Welsh (issue 16): the organiser writes one Welsh option for each
English one (or none); a Welsh supporter picks from the Welsh words on the page and the embed,
and what is stored, counted and exported is the English option, so the tallies add up across
languages. A Welsh list that does not pair one for one is refused, in words."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, g
from sqlalchemy import select

from petitions.campaigns.models import Action, ActionKind, Campaign
from petitions.counting.jobs import fold_counts
from petitions.extensions import db
from petitions.signing.models import Signature
from petitions.tallies.queries import pledge_counts
from tests.support.factories import make_action, make_campaign
from tests.support.web import sign_via_form
from tests.support.workspace import confirmed_signature, csrf, login, make_organiser
from tests.supporters.test_welsh import _signed_in

OPTIONS = ["I will buy second-hand first", "I will ask brands who made my clothes"]
WELSH = ["Byddaf yn prynu'n ail-law yn gyntaf", "Byddaf yn gofyn i frandiau pwy wnaeth fy nillad"]


def _fresh_g() -> None:
    g.pop("csrf_token", None)  # each client its own CSRF token (the app context is shared)


def _welsh_pledge(**values: Any) -> Action:
    campaign = make_campaign(slug="dillad", embed_origins="https://partner.example")
    values.setdefault("translations", {"cy": {"title": "Addewid Zqx", "pledge_options": WELSH}})
    action = make_action(
        campaign, slug="addewid", kind=ActionKind.PLEDGE.value, pledge_options=OPTIONS, **values
    )
    db.session.commit()
    return action


def _radios(html: str) -> list[tuple[str, str]]:
    """(value sent, words shown) for each pledge option on the form."""
    return re.findall(
        r'<input[^>]*name="pledge_option"[^>]*value="([^"]*)"[^>]*>\s*<label[^>]*>([^<]*)</label>',
        html,
    )


def test_a_welsh_signer_sees_welsh_options_and_the_english_one_is_stored(
    app: Flask, factories: Any
) -> None:
    _welsh_pledge()
    welsh = app.test_client().get("/cy/c/dillad/addewid").get_data(as_text=True)
    shown = [(value, words.replace("&#39;", "'")) for value, words in _radios(welsh)]
    assert shown == list(zip(OPTIONS, WELSH, strict=True))
    _fresh_g()
    english = app.test_client().get("/c/dillad/addewid").get_data(as_text=True)
    assert _radios(english) == list(zip(OPTIONS, OPTIONS, strict=True))

    _fresh_g()
    signed = sign_via_form(
        app.test_client(),
        "/cy/c/dillad/addewid",
        email="cymro@example.org",
        pledge_option=OPTIONS[1],
    )
    assert signed.status_code == 303
    stored = db.session.execute(
        select(Signature.language, Signature.pledge_option).where(
            Signature.email == "cymro@example.org"
        )
    ).one()
    assert tuple(stored) == ("cy", OPTIONS[1])


def test_a_welsh_option_cannot_be_sent_in_place_of_the_english(app: Flask, factories: Any) -> None:
    _welsh_pledge()
    refused = sign_via_form(
        app.test_client(), "/cy/c/dillad/addewid", email="cymro@example.org", pledge_option=WELSH[0]
    )
    assert refused.status_code == 400
    assert db.session.scalar(select(Signature.id)) is None


def test_the_welsh_embed_shows_the_welsh_options(app: Flask, factories: Any) -> None:
    _welsh_pledge()
    framed = app.test_client(use_cookies=False).get("/cy/embed/dillad/addewid")
    shown = [(v, w.replace("&#39;", "'")) for v, w in _radios(framed.get_data(as_text=True))]
    assert shown == list(zip(OPTIONS, WELSH, strict=True))


def test_the_tally_on_the_welsh_page_names_the_welsh_options(app: Flask, factories: Any) -> None:
    action = _welsh_pledge()
    for email, option in [("a@example.org", OPTIONS[0]), ("b@example.org", OPTIONS[1])]:
        confirmed_signature(action, email, pledge_option=option)
    fold_counts()
    welsh = app.test_client().get("/cy/c/dillad/addewid").get_data(as_text=True)
    tally = re.search(r'<ul class="pledge-counts".*?</ul>', welsh, re.S)
    assert tally is not None
    assert "wedi dewis" in tally.group(0)
    assert WELSH[0] in tally.group(0).replace("&#39;", "'") and OPTIONS[0] not in tally.group(0)
    rows = pledge_counts([action])[action.id]  # outside a Welsh page: the English, counted once
    assert [(r.option, r.n) for r in rows] == [(OPTIONS[0], 1), (OPTIONS[1], 1)]


def test_without_welsh_options_the_english_are_shown(app: Flask, factories: Any) -> None:
    _welsh_pledge(translations={"cy": {"title": "Addewid Zqx"}})
    welsh = app.test_client().get("/cy/c/dillad/addewid").get_data(as_text=True)
    assert _radios(welsh) == list(zip(OPTIONS, OPTIONS, strict=True))


def test_my_actions_in_welsh_names_the_welsh_option(app: Flask, factories: Any) -> None:
    action = _welsh_pledge()
    confirmed_signature(action, "ann@example.org", pledge_option=OPTIONS[0])
    client = _signed_in(app, "ann@example.org")
    welsh = client.get("/cy/my").get_data(as_text=True).replace("&#39;", "'")
    assert f"<small>{WELSH[0]}</small>" in welsh and OPTIONS[0] not in welsh
    english = client.get("/my").get_data(as_text=True)
    assert f"<small>{OPTIONS[0]}</small>" in english


def _action_form(**fields: str) -> dict[str, str]:
    data = {
        "kind": "pledge",
        "title": "Wear it fair",
        "slug": "wear-it-fair",
        "target": "",
        "text": "We pledge to buy fairly made clothes.",
        "goal": "500",
        "deadline": "",
        "pledge_options": "\n".join(OPTIONS),
        "consent": "We keep your details to count your pledge.",
        "thank_you": "",
        "position": "1",
    }
    data.update(fields)
    return data


def test_the_action_form_takes_welsh_options_one_for_one_and_refuses_a_mismatch(
    app: Flask,
) -> None:
    with app.app_context():
        owner = make_organiser("ann@example.org")
        campaign_id = make_campaign(owner_id=owner.id, slug="wardrobe").id
        db.session.commit()
    client = app.test_client()
    login(client, "ann@example.org")
    url = f"/organise/campaigns/{campaign_id}/actions/new"

    mismatched = client.post(
        url,
        data={"csrf_token": csrf(client, url), **_action_form(pledge_options__cy=WELSH[0])},
    )
    assert mismatched.status_code == 400
    html = mismatched.get_data(as_text=True)
    assert "There are 2 pledge options: write one for each, one a line in the same order" in html
    with app.app_context():
        assert db.session.scalar(select(Action.id)) is None  # nothing saved

    added = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            **_action_form(pledge_options__cy="\n".join(WELSH) + "\n\n"),
        },
    )
    assert added.status_code == 303
    with app.app_context():
        action = db.session.scalar(select(Action))
        assert action.pledge_options == OPTIONS
        assert action.translations["cy"]["pledge_options"] == WELSH
        action_id = action.id
    edit = client.get(f"/organise/campaigns/{campaign_id}/actions/{action_id}/edit")
    assert "\n".join(WELSH).replace("'", "&#39;") in edit.get_data(as_text=True)
    page = client.get(f"/organise/campaigns/{campaign_id}").get_data(as_text=True)
    assert "pledge options: shown in English" not in page

    emptied = client.post(
        f"/organise/campaigns/{campaign_id}/actions/{action_id}/edit",
        data={"csrf_token": csrf(client, url), **_action_form(pledge_options__cy="")},
    )
    assert emptied.status_code == 303
    with app.app_context():
        assert "pledge_options" not in (db.session.get(Action, action_id).translations or {}).get(
            "cy", {}
        )
        assert db.session.scalar(select(Campaign.id)) == campaign_id
    page = client.get(f"/organise/campaigns/{campaign_id}").get_data(as_text=True)
    assert "(no Cymraeg pledge options: shown in English)" in page
