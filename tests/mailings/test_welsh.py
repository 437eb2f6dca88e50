"""Campaign updates and mailings reach each person in their own language (issue 16): the
language they signed in (signatures.language), the organiser's Welsh words where written, the
English where not, and the unsubscribe page in that language too."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update

from petitions.campaigns.models import CampaignUpdate
from petitions.core.time import utcnow
from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.mailings import jobs, recipients, services
from petitions.mailings.models import Mailing, MailingDelivery, MailingKind
from petitions.mailings.notifications import unsubscribe_token
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature
from tests.core.test_i18n import SAME_IN_BOTH, _words
from tests.mailings.test_sending import _login
from tests.support.web import csrf_from
from tests.support.workspace import make_organiser
from tests.supporters.conftest import sign_confirmed


def _by_recipient(smtp_sink: Any) -> dict[str, Any]:
    return {m.envelope_to[0]: m for m in smtp_sink.messages}


def test_an_update_goes_to_each_in_their_language(factories: Any, audience: Any, smtp_sink: Any):
    campaign = factories.make_campaign(title="Save the pier")
    audience(campaign, ["saes@example.org", "cymro@example.org"])
    db.session.execute(
        sql_update(Signature).where(Signature.email == "cymro@example.org").values(language="cy")
    )
    update = CampaignUpdate(
        campaign_id=campaign.id,
        title="We won a hearing",
        body="The council **listens**.",
        translations={"cy": {"title": "Cawsom wrandawiad"}},  # no Welsh body: the English one
    )
    db.session.add(update)
    db.session.commit()
    mailing, _ = services.request_update_mailing(update)
    db.session.commit()
    jobs.run(mailing.id, throttle=Throttle(0))
    mail = _by_recipient(smtp_sink)
    welsh, english = mail["cymro@example.org"], mail["saes@example.org"]
    assert welsh.subject == "Cawsom wrandawiad" and english.subject == "We won a hearing"
    assert welsh.message["Content-Language"] == "cy"
    assert "Rhagor am Save the pier" in welsh.text() and "The council" in welsh.text()
    assert "/cy/u/" in welsh.text() and "/cy/u/" not in english.text()
    assert "More about Save the pier" in english.text()
    assert '<html lang="cy">' in welsh.html()


def _unsubscribe_pages(client: Any, prefix: str, token: str) -> dict[str, str]:
    url = f"{prefix}/u/{token}"
    return {
        "ask": client.get(url).get_data(as_text=True),
        "this campaign": client.post(url, data={"scope": "campaign"}).get_data(as_text=True),
        "everything": client.post(url, data={"scope": "all"}).get_data(as_text=True),
    }


def test_the_unsubscribe_pages_in_welsh_have_no_english_of_ours(app: Any, factories: Any):
    campaign = factories.make_campaign(
        title="Zqx Clean air", translations={"cy": {"title": "Zqx Awyr lân"}}
    )
    sign_confirmed(factories.make_action(campaign), "bob@example.org", wants_updates=True)
    mailing, _ = services.request_mailing(campaign.id, "t:cy", "News", MailingKind.UPDATE)
    recipients.prepare(mailing.id)
    db.session.commit()
    token = unsubscribe_token(db.session.scalar(select(MailingDelivery.id)))
    pages = {
        language: _unsubscribe_pages(app.test_client(), prefix, token)
        for language, prefix in (("en", ""), ("cy", "/cy"))
    }
    content = ["Zqx Clean air", "Zqx Awyr lân"]
    left = {}
    for name, html in pages["cy"].items():
        same = (_words(html, content) & _words(pages["en"][name], content)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on the Welsh unsubscribe pages: {left}"
    assert "Atal e-byst am Zqx Awyr lân" in pages["cy"]["ask"]
    assert "Stop emails about Zqx Clean air" in pages["en"]["ask"]
    assert "Rydych wedi dad-danysgrifio" in pages["cy"]["everything"]
    assert 'href="/cy/my"' in pages["cy"]["ask"]


# What the organiser wrote, and names: not ours to translate.
ORGANISER_CONTENT = [
    "Zqx Campaign Title",
    "Zqx Pledge Title",
    "Zqx option",
    "Zqx Update",
    "Zqx Subject",
    "Zqx body",
    "cymraeg-org@example.org",
    "example.org",
    "Markdown",
    "HTML",
    "UTC",
]
# The draft's previews are the email itself, in the language it is written in (tested below).
_PREVIEW = re.compile(r'<pre class="email-text".*?</pre>', re.S)


def _organiser_pages(client: Any, prefix: str, campaign: Any, update: Any) -> dict[str, str]:
    base = f"{prefix}/organise/campaigns/{campaign.id}/mailings"

    def text(answer: Any) -> str:
        return _PREVIEW.sub("", answer.get_data(as_text=True))

    pages = {"new": text(client.get(f"{base}/new"))}
    token = csrf_from(pages["new"])
    pages["new with errors"] = text(
        client.post(f"{base}/new", data={"csrf_token": token, "audience": "campaign"})
    )
    saved = client.post(
        f"{base}/new",
        data={
            "csrf_token": token,
            "subject": "Zqx Subject",
            "body": "Zqx body",
            "audience": "campaign",
            "since": "2026-01-01",
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    draft = saved.location
    pages["draft (just saved)"] = text(client.get(draft))
    mailing_id = int(draft.rstrip("/").rsplit("/", 1)[1])
    pages["edit"] = text(client.get(f"{base}/{mailing_id}/edit"))
    pages["delete"] = text(client.get(f"{base}/{mailing_id}/delete"))
    pages["schedule with errors"] = text(
        client.post(f"{base}/{mailing_id}/schedule", data={"csrf_token": token, "when": "later"})
    )
    pages["confirm now"] = text(
        client.post(f"{base}/{mailing_id}/schedule", data={"csrf_token": token, "when": "now"})
    )
    later = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    pages["confirm later"] = text(
        client.post(
            f"{base}/{mailing_id}/schedule",
            data={"csrf_token": token, "when": "later", "send_at": later},
        )
    )
    iso = re.search(r'name="send_at" value="([^"]+)"', pages["confirm later"]).group(1)  # type: ignore[union-attr]
    sent = client.post(
        f"{base}/{mailing_id}/send", data={"csrf_token": token, "send_at": iso, "recipients": "1"}
    )
    pages["scheduled"] = text(client.get(sent.location))
    paused = client.post(f"{base}/{mailing_id}/pause", data={"csrf_token": token})
    pages["paused"] = text(client.get(paused.location))
    pages["confirm update"] = text(client.get(f"{base}/updates/{update.id}/send"))
    pages["index"] = text(client.get(base))
    return pages


def test_the_mailings_pages_in_welsh_have_no_english_of_ours(app: Any, factories: Any) -> None:
    organiser = make_organiser("cymraeg-org@example.org")
    campaign = factories.make_campaign(owner_id=organiser.id, title="Zqx Campaign Title")
    pledge = factories.make_action(
        campaign, kind="pledge", title="Zqx Pledge Title", pledge_options=["Zqx option"]
    )
    sign_confirmed(pledge, "bob@example.org", wants_updates=True, pledge_option="Zqx option")
    update = CampaignUpdate(campaign_id=campaign.id, title="Zqx Update", body="Zqx body")
    db.session.add(update)
    db.session.commit()
    pages = {}
    for language, prefix in (("en", ""), ("cy", "/cy")):
        client = app.test_client()
        if prefix:
            client.get("/lang/cy?next=/")
        _login(client, "cymraeg-org@example.org")
        pages[language] = _organiser_pages(client, prefix, campaign, update)
    left = {}
    for name, html in pages["cy"].items():
        english = pages["en"][name]
        same = (_words(html, ORGANISER_CONTENT) & _words(english, ORGANISER_CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on the Welsh mailings pages: {left}"
    cy, en = pages["cy"], pages["en"]
    assert "Anfon “Zqx Subject” at 1 person nawr?" in cy["confirm now"]
    assert "Send “Zqx Subject” to 1 person now?" in en["confirm now"]
    assert "Cefnogwyr yr addewid “Zqx Pledge Title”" in cy["new"]
    assert "Supporters of pledge “Zqx Pledge Title”" in en["new"]
    assert "a gadarnhaodd ar 1 Ionawr 2026 neu wedi hynny" in cy["draft (just saved)"]
    assert "Cadwyd y drafft" in cy["draft (just saved)"]
    assert "Rhowch bwnc" in cy["new with errors"]
    assert (
        "Dim fersiwn ar gyfer Cymraeg: mae darllenwyr Cymraeg yn cael y Saesneg"
        in cy["draft (just saved)"]
    )
    assert ">wedi'i drefnu<" in cy["scheduled"] or "wedi&#39;i drefnu<" in cy["scheduled"]


def test_a_composed_mailing_in_welsh_reaches_welsh_readers(
    app: Any, factories: Any, audience: Any, smtp_sink: Any
) -> None:
    organiser = make_organiser("composer@example.org")
    campaign = factories.make_campaign(owner_id=organiser.id, title="Fair fashion")
    audience(campaign, ["saes@example.org", "cymro@example.org"])
    db.session.execute(
        sql_update(Signature).where(Signature.email == "cymro@example.org").values(language="cy")
    )
    db.session.commit()
    client = app.test_client()
    _login(client, "composer@example.org")
    base = f"/organise/campaigns/{campaign.id}/mailings"
    new = client.get(f"{base}/new").get_data(as_text=True)
    assert 'lang="cy"' in new and 'name="subject__cy"' in new and 'name="body__cy"' in new
    english = {"subject": "Boycott starts Monday", "body": "Thank you. **Stop buying**."}
    saved = client.post(
        f"{base}/new", data={"csrf_token": csrf_from(new), "audience": "campaign", **english}
    )
    assert saved.status_code == 303
    mailing = db.session.scalar(select(Mailing).where(Mailing.subject == english["subject"]))
    assert mailing.translations == {}
    draft = client.get(saved.location).get_data(as_text=True)
    assert "No Cymraeg version: Welsh readers get the English" in draft

    # A Welsh subject only: the organiser is told the message is the English one.
    edit = f"{base}/{mailing.id}/edit"
    token = csrf_from(client.get(edit).get_data(as_text=True))
    welsh = {"subject__cy": "Mae'r boicot yn dechrau ddydd Llun", "body__cy": ""}
    client.post(edit, data={"csrf_token": token, "audience": "campaign", **english, **welsh})
    draft = client.get(saved.location).get_data(as_text=True)
    assert "No Cymraeg message: Welsh readers get the English one" in draft

    welsh["body__cy"] = "Diolch. **Peidiwch â phrynu**."
    client.post(edit, data={"csrf_token": token, "audience": "campaign", **english, **welsh})
    db.session.expire_all()
    assert db.session.get(Mailing, mailing.id).translations == {
        "cy": {"subject": welsh["subject__cy"], "body": welsh["body__cy"]}
    }
    form = client.get(edit).get_data(as_text=True)
    assert "Peidiwch â phrynu" in form  # the edit form shows the Welsh words again
    draft = client.get(saved.location).get_data(as_text=True)
    assert "No Cymraeg" not in draft
    assert "Supporters who signed in Cymraeg get the Cymraeg version." in draft

    # Previews of each language.
    assert "**Stop buying**" in draft and "Peidiwch" not in draft
    welsh_draft = client.get(f"{saved.location}?preview=cy").get_data(as_text=True)
    assert "**Peidiwch â phrynu**" in welsh_draft and "ddydd Llun" in welsh_draft
    html = client.get(f"{base}/{mailing.id}/preview.html?language=cy").get_data(as_text=True)
    assert "<strong>Peidiwch â phrynu</strong>" in html and '<html lang="cy">' in html

    # A test copy in the language chosen.
    client.post(f"{base}/{mailing.id}/test", data={"csrf_token": token, "language": "cy"})
    drain()
    [test] = smtp_sink.messages
    assert test.envelope_to == ["composer@example.org"]
    assert test.subject == "[Prawf] Mae'r boicot yn dechrau ddydd Llun"
    assert test.message["Content-Language"] == "cy" and "Peidiwch" in test.text()

    # Sent: each recipient in their own language.
    client.post(f"{base}/{mailing.id}/schedule", data={"csrf_token": token, "when": "now"})
    client.post(
        f"{base}/{mailing.id}/send", data={"csrf_token": token, "send_at": "", "recipients": "2"}
    )
    jobs.run(mailing.id, throttle=Throttle(0))
    mail = _by_recipient(smtp_sink)
    cymro, saes = mail["cymro@example.org"], mail["saes@example.org"]
    assert cymro.subject == welsh["subject__cy"] and saes.subject == english["subject"]
    assert (
        "<strong>Peidiwch â phrynu</strong>" in cymro.html() and "Stop buying" not in cymro.text()
    )
    assert "<strong>Stop buying</strong>" in saes.html() and "Peidiwch" not in saes.text()
    assert cymro.message["Content-Language"] == "cy" and "/cy/u/" in cymro.text()
