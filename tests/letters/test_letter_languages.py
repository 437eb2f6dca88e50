"""A letter's own words in Welsh (issue 16): the suggested letter, its subject and prompt (kept
with the action's words) and a fixed recipient's title, note and response
(``letter_targets.translations``), edited in the letter editor's and the recipient form's
"In Cymraeg" fieldsets; the Welsh page shows them and starts a Welsh writer from the Welsh
letter; what is delivered is what the writer wrote; the English is shown where there is no
Welsh, and the organiser is told."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from petitions.campaigns import services as campaign_services
from petitions.extensions import db
from petitions.letters import services
from petitions.letters.models import Letter, LetterDelivery, LetterDetails, LetterTarget
from petitions.letters.notifications import letter_message
from petitions.signing.models import Signature
from tests.core.test_i18n import _fresh_g
from tests.letters.conftest import write
from tests.support.factories import make_campaign
from tests.support.workspace import csrf, login, make_organiser

URL = "/l/geiriau/zqx-letter"
MISSING = "(no Cymraeg version: shown in English)"


def _letter() -> tuple[Any, Any]:
    campaign = make_campaign(slug="geiriau", title="Zqx Campaign")
    action = services.create_letter(
        campaign,
        services.LetterInput(
            title="Zqx Letter",
            intro="Zqx intro",
            subject="Zqx subject",
            template="Dear {target_name}, please act.",
            personal_prompt="Tell them why",
            translations={
                "cy": {
                    "title": "Llythyr Zqx",
                    "subject": "Pwnc Zqx",
                    "template": "Annwyl {target_name}, gweithredwch os gwelwch yn dda.",
                    "personal_prompt": "Dywedwch wrthyn nhw pam",
                }
            },
        ),
    )
    target = services.add_target(
        action,
        services.TargetInput(
            name="Zqx Target",
            title="Chief Executive",
            email="target@example.org",
            translations={"cy": {"title": "Prif Weithredwr", "stance_note": "Nodyn Cymraeg"}},
        ),
    )
    services.set_stance(target, "opposes", "English note", None, "")
    db.session.commit()
    return action, target


def _organiser(app: Any) -> Any:
    from flask import g

    make_organiser("geiriau@example.org", admin=True)
    _fresh_g()
    g.pop("_login_user", None)
    client = app.test_client()
    login(client, "geiriau@example.org")
    g.pop("csrf_token", None)  # the login page's: the signed-in session has a token of its own
    return client


def _message_box(html: str) -> str:
    found = re.search(r'<textarea[^>]*name="message"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert found is not None
    return found.group(1)


def test_the_welsh_page_shows_the_welsh_letter_and_delivers_what_was_written(
    app: Any, factories: Any
) -> None:
    action, target = _letter()
    _fresh_g()
    english = app.test_client().get(URL).get_data(as_text=True)
    _fresh_g()
    welsh = app.test_client().get("/cy" + URL).get_data(as_text=True)
    assert "please act." in _message_box(english) and "Tell them why" in english
    assert "Chief Executive" in english and "English note" in english
    assert "gweithredwch os gwelwch yn dda." in _message_box(welsh)
    assert "Dywedwch wrthyn nhw pam" in welsh and "Tell them why" not in welsh
    assert "Prif Weithredwr" in welsh and "Chief Executive" not in welsh
    assert "Nodyn Cymraeg" in welsh and "English note" not in welsh

    _fresh_g()
    sent = write(app.test_client(), "/cy" + URL, "cymro@example.org", personal="Achos fy mod i")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    signature = db.session.scalar(select(Signature).where(Signature.email == "cymro@example.org"))
    letter = db.session.scalar(select(Letter).where(Letter.signature_id == signature.id))
    assert letter.body.startswith("Annwyl {target_name}, gweithredwch")
    assert letter.body.endswith("Achos fy mod i")
    signature.confirmed_at = signature.created_at
    delivery = LetterDelivery(letter_id=letter.id, target_id=target.id)
    db.session.add(delivery)
    db.session.flush()
    built = letter_message(delivery)
    assert built is not None
    # The writer's words, to the target's own name and title as written.
    assert "Annwyl Zqx Target, gweithredwch" in built.message.body
    assert "Sent on behalf of" in built.message.body
    assert built.message.subject == "Pwnc Zqx"  # the subject goes with the letter's words


def test_without_welsh_the_english_is_shown_and_the_organiser_is_told(
    app: Any, factories: Any
) -> None:
    action, target = _letter()
    action.translations = {"cy": {"title": "Llythyr Zqx"}}
    target.translations = {}
    db.session.commit()
    _fresh_g()
    welsh = app.test_client().get("/cy" + URL).get_data(as_text=True)
    assert "please act." in _message_box(welsh) and "Tell them why" in welsh
    assert "Chief Executive" in welsh

    client = _organiser(app)
    manage = client.get(f"/organise/letters/{action.id}").get_data(as_text=True)
    assert manage.count(MISSING) == 2  # the suggested letter, and the recipient
    editor = client.get(f"/organise/letters/{action.id}/edit").get_data(as_text=True)
    assert "In Cymraeg" in editor and MISSING in editor


def test_the_editors_keep_each_others_welsh(app: Any, factories: Any) -> None:
    action, target = _letter()
    client = _organiser(app)
    url = f"/organise/letters/{action.id}/edit"
    editor = client.get(url).get_data(as_text=True)
    assert 'name="template__cy"' in editor and "gweithredwch os gwelwch" in editor
    answer = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "title": "Zqx Letter",
            "subject": "Zqx subject",
            "template": "Dear {target_name}, please act.",
            "personal_prompt": "Tell them why",
            "delivery_mode": "sent_for_you",
            "rate_per_minute": "4",
            "goal": "1000",
            "title__cy": "Llythyr Zqx",
            "template__cy": "Annwyl {target_name}, newydd.",
            "personal_prompt__cy": "",  # emptied: the English prompt again
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    db.session.expire_all()
    words = db.session.get(LetterDetails, action.id)
    assert words is not None
    assert words.words("template", "cy") == "Annwyl {target_name}, newydd."
    assert words.words("personal_prompt", "cy") == "Tell them why"
    assert words.subject_for(False, "cy") == "Zqx subject"  # none sent: the English

    # The action form's save (Edit on the campaign page) keeps the letter's Welsh words.
    campaign_services.save_action(
        action.campaign,
        action,
        kind="letter",
        title=action.title,
        slug=action.slug,
        target="",
        text=action.text,
        goal=action.goal,
        deadline=None,
        pledge_options=[],
        consent="I agree.",
        thank_you="",
        position=action.position,
        translations={"cy": {"title": "Teitl newydd", "target": "", "text": "", "thank_you": ""}},
    )
    assert action.translations["cy"] == {
        "title": "Teitl newydd",
        "template": "Annwyl {target_name}, newydd.",
    }

    url = f"/organise/letters/{action.id}/targets/{target.id}/edit"
    form = client.get(url).get_data(as_text=True)
    assert 'name="title__cy"' in form and "Prif Weithredwr" in form
    answer = client.post(
        url,
        data={
            "csrf_token": csrf(client, url),
            "name": "Zqx Target",
            "title": "Chief Executive",
            "email": "target@example.org",
            "title__cy": "Prif Swyddog",
            "stance_note__cy": "Nodyn",
            "response__cy": "Ymateb",
        },
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(LetterTarget, target.id)
    assert kept is not None
    assert kept.translations == {
        "cy": {"title": "Prif Swyddog", "stance_note": "Nodyn", "response": "Ymateb"}
    }


def test_welsh_words_are_checked_as_the_english_are(app: Any, factories: Any) -> None:
    action, _target = _letter()
    details = db.session.get(LetterDetails, action.id)
    try:
        services.update_letter(
            action,
            details,
            services.LetterInput(
                title="Zqx Letter",
                intro="",
                subject="Zqx subject",
                template="Dear you",
                translations={"cy": {"template": "Annwyl <b>chi</b>"}},
            ),
        )
    except services.LetterError as exc:
        assert "(Cymraeg)" in str(exc)
    else:
        raise AssertionError("HTML in the Welsh letter was accepted")
