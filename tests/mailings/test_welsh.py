"""Campaign updates and mailings reach each person in their own language (issue 16): the
language they signed in (signatures.language), the organiser's Welsh words where written, the
English where not, and the unsubscribe page in that language too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update

from petitions.campaigns.models import CampaignUpdate
from petitions.extensions import db
from petitions.mailings import jobs, recipients, services
from petitions.mailings.models import MailingDelivery, MailingKind
from petitions.mailings.notifications import unsubscribe_token
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature
from tests.core.test_i18n import SAME_IN_BOTH, _words
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
