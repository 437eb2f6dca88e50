"""Campaign updates and mailings reach each person in their own language (issue 16): the
language they signed in (signatures.language), the organiser's Welsh words where written, the
English where not, and the unsubscribe page in that language too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update as sql_update

from petitions.campaigns.models import CampaignUpdate
from petitions.extensions import db
from petitions.mailings import jobs, services
from petitions.mailings.throttle import Throttle
from petitions.signing.models import Signature


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
