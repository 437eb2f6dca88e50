"""Email preferences from My actions and from the unsubscribe page, and who a mailing reaches."""

from __future__ import annotations

from sqlalchemy import select

from petitions.extensions import db
from petitions.mailings import recipients
from petitions.mailings import services as mailings
from petitions.mailings.models import Mailing, MailingDelivery, MailingKind
from petitions.mailings.notifications import unsubscribe_token
from petitions.supporters.models import CampaignOptOut, Supporter
from tests.support.web import csrf_from
from tests.supporters.conftest import sign_confirmed


def _audience(campaign_id: int) -> int:
    probe = Mailing(campaign_id=campaign_id, kind=MailingKind.UPDATE.value)
    return len(db.session.execute(recipients.recipients_query(probe)).all())


def test_preferences_form(client, factories, signed_in):
    first, second = factories.make_campaign(), factories.make_campaign()
    sign_confirmed(factories.make_action(first), "ann@example.org", wants_updates=True)
    sign_confirmed(factories.make_action(second), "ann@example.org", wants_updates=True)
    supporter_id = signed_in("ann@example.org")
    token = csrf_from(client.get("/my").get_data(as_text=True))

    # Keep the second campaign only.
    client.post(
        "/my/preferences",
        data={"csrf_token": token, "all_email": "y", f"campaign-{second.id}": "y"},
    )
    assert db.session.get(CampaignOptOut, (supporter_id, first.id)) is not None
    assert (_audience(first.id), _audience(second.id)) == (0, 1)

    # Nothing at all.
    client.post("/my/preferences", data={"csrf_token": token, f"campaign-{second.id}": "y"})
    db.session.expire_all()
    assert db.session.get(Supporter, supporter_id).unsubscribed_all_at is not None
    assert _audience(second.id) == 0

    # Everything again.
    client.post(
        "/my/preferences",
        data={
            "csrf_token": token,
            "all_email": "y",
            f"campaign-{first.id}": "y",
            f"campaign-{second.id}": "y",
        },
    )
    db.session.expire_all()
    assert db.session.get(Supporter, supporter_id).unsubscribed_all_at is None
    assert (_audience(first.id), _audience(second.id)) == (1, 1)


def test_unsubscribe_page_buttons(client, factories):
    campaign, other = factories.make_campaign(title="Clean air"), factories.make_campaign()
    sign_confirmed(factories.make_action(campaign), "bob@example.org", wants_updates=True)
    sign_confirmed(factories.make_action(other), "bob@example.org", wants_updates=True)
    mailing, _ = mailings.request_mailing(campaign.id, "t:1", "News", MailingKind.UPDATE)
    recipients.prepare(mailing.id)
    db.session.commit()
    delivery_id = db.session.scalar(select(MailingDelivery.id))
    url = f"/u/{unsubscribe_token(delivery_id)}"

    page = client.get(url)
    assert page.status_code == 200 and "Clean air" in page.get_data(as_text=True)
    assert client.get("/u/not-a-real-token").status_code == 404
    assert client.post(url, data={"scope": "all"}).status_code == 200
    assert _audience(campaign.id) == 0 and _audience(other.id) == 0
