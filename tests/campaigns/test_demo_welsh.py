"""The demo in Welsh (issue 16, "a newcomer switches the demo to Welsh"): every demo action's
page, its embed and the campaign page, read at /cy/, carry the organiser's Welsh words: none
of the English titles of the campaign, its actions (petition, pledge, letters, events) or its
updates is on them, nor the pledge's English options or text, nor the letters' suggested text,
subject, prompt and recipients' titles and notes, the events' venues or the host-an-event
introduction."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from petitions.campaigns.demo import create_demo_campaign
from petitions.campaigns.models import Action, CampaignUpdate
from petitions.extensions import db
from petitions.gatherings.demo import create_demo_events
from petitions.letters.demo import create_demo_letters
from tests.core.test_i18n import _fresh_g


def _demo() -> tuple[str, list[Action], list[str]]:
    campaign = create_demo_campaign()
    create_demo_events(campaign)
    create_demo_letters(campaign)
    db.session.commit()
    actions = list(db.session.scalars(select(Action).where(Action.campaign_id == campaign.id)))
    updates = db.session.scalars(
        select(CampaignUpdate.title).where(CampaignUpdate.campaign_id == campaign.id)
    )
    english = [campaign.title, *(a.title for a in actions), *updates]
    return campaign.slug, actions, english


def _get(app: Flask, path: str) -> str:
    _fresh_g()
    answer = app.test_client().get(path, follow_redirects=True)
    assert answer.status_code == 200, path
    html = answer.get_data(as_text=True).replace("&#39;", "'")
    # A pledge option's value is the English one on purpose (it is what is stored): not read.
    return re.sub(r'(<input[^>]*name="pledge_option"[^>]*) value="[^"]*"', r"\1", html)


def test_every_demo_page_in_welsh_has_none_of_the_english_titles(
    app: Flask, factories: Any
) -> None:
    slug, actions, english = _demo()
    assert len(actions) == 6 and all("cy" in a.translations for a in actions)
    paths = [f"/cy/c/{slug}"]
    for action in actions:
        paths.append(f"/cy/c/{slug}/{action.slug}")  # letters and events redirect to theirs
        if not action.is_letter:
            paths.append(f"/cy/embed/{slug}/{action.slug}")
    pledge = next(a for a in actions if a.is_pledge)
    left = {}
    for path in paths:
        html = _get(app, path)
        assert '<html lang="cy"' in html, path
        found = [title for title in english if title in html]
        if pledge.slug in path:
            found += [words for words in [*pledge.pledge_options, pledge.text] if words in html]
        if found:
            left[path] = found
    assert left == {}, f"the organiser's English on Welsh demo pages: {left}"

    # The English pages still say it in English (the Welsh is an addition, not a replacement).
    english_page = _get(app, f"/c/{slug}/{pledge.slug}")
    assert pledge.title in english_page and pledge.pledge_options[0] in english_page


def test_the_demo_actions_have_welsh_consent_wording(app: Flask, factories: Any) -> None:
    _, actions, _ = _demo()
    assert {a.slug: a.consent_written_in("cy") != "" for a in actions} == {
        a.slug: True for a in actions
    }


def _sentences(text: str) -> list[str]:
    """The pieces of the organiser's text a page shows as written (placeholders are filled)."""
    pieces = [p for line in text.splitlines() for p in re.split(r"(?<=[.,:?]) ", line)]
    return [p for p in pieces if len(p) > 12 and "{" not in p]


def test_the_demo_letters_and_events_own_words_are_welsh_at_cy(app: Flask, factories: Any) -> None:
    from petitions.gatherings.models import EventDetails, EventHosting
    from petitions.letters.models import LetterDetails, LetterTarget

    slug, actions, _ = _demo()
    letters = [a for a in actions if a.is_letter]
    events = [a for a in actions if a.is_event]
    english: list[str] = []
    paths = [f"/cy/c/{slug}/host-an-event", f"/cy/c/{slug}", "/cy/events"]
    for action in letters:
        details = db.session.get(LetterDetails, action.id)
        assert details is not None
        english += [details.subject, details.thank_you_subject, details.personal_prompt]
        english += _sentences(details.template) + _sentences(details.thank_you_template)
        targets = db.session.scalars(
            select(LetterTarget).where(LetterTarget.action_id == action.id)
        )
        english += [w for t in targets for w in (t.title, t.stance_note) if len(w) > 2]
        base = f"/cy/l/{slug}/{action.slug}"
        paths += (
            [base + "?postcode=GU11+1AA", base + "?postcode=WS9+8AA"]
            if details.to_representative
            else [base]
        )
    for action in events:
        details = db.session.get(EventDetails, action.id)
        assert details is not None
        english += [w for w in (details.venue, details.address) if w]
        paths += [f"/cy/e/{slug}/{action.slug}", f"/cy/embed/{slug}/{action.slug}"]
    hosting = db.session.get(EventHosting, db.session.get(Action, letters[0].id).campaign_id)
    assert hosting is not None
    english += _sentences(hosting.intro)
    english = [w for w in english if w and w != "MP"]
    assert len(english) > 15, english
    left = {}
    for path in paths:
        html = _get(app, path)
        found = [words for words in english if words in html]
        if found:
            left[path] = found
    assert left == {}, f"the organiser's English on Welsh demo pages: {left}"
    # The English pages still have it.
    company = next(a for a in letters if a.slug == "write-to-threadline")
    first = db.session.get(LetterDetails, company.id)
    assert first is not None
    assert _sentences(first.template)[0] in _get(app, f"/l/{slug}/{company.slug}")
