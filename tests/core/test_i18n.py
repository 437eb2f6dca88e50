"""Languages (issue 16): which language a page is in, that nothing English is left on a Welsh
page, that the catalogues are complete, and that a Welsh signer is written to in Welsh."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import g
from flask_babel import force_locale, ngettext
from sqlalchemy import select

from petitions.branding.models import DEFAULT_NAME
from petitions.campaigns.services import DEFAULT_CONSENT, DEFAULT_CONSENT_IN
from petitions.core import i18n
from petitions.extensions import db
from petitions.mailer.services import drain
from petitions.signing.models import Signature
from tests.gatherings.conftest import make_event
from tests.support.factories import TOKEN_IN_LINK, make_action, make_campaign
from tests.support.web import csrf_from, sign_via_form

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = ROOT / "petitions" / "translations"
WELSH = CATALOGUES / "cy" / "LC_MESSAGES"
EVENT_SLUG = "zqx-event-title"


def _marked_messages() -> set[tuple[str, str | None]]:
    """Every string marked for translation in the code and templates, as `make translations`
    extracts them (the same method map as petitions/translations/babel.cfg)."""
    method_map = [
        ("petitions/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {
        "_": None,
        "_l": None,
        "N_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "pgettext": ((1, "c"), 2),
        "npgettext": ((1, "c"), 2, 3),
    }
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add((message[0] if isinstance(message, tuple) else message, context))
    return found


def _welsh_catalogue() -> Any:
    with (WELSH / "messages.po").open("rb") as handle:
        return read_po(handle, locale="cy")


def test_every_marked_string_has_a_welsh_translation() -> None:
    catalogue = _welsh_catalogue()
    assert catalogue.num_plurals == 6  # zero, one, two, few, many, other
    problems = []
    for msgid, context in sorted(_marked_messages(), key=str):
        entry = catalogue.get(msgid, context=context)
        if entry is None:
            problems.append(f"missing: {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif isinstance(entry.string, tuple):
            if len(entry.string) != 6 or not all(entry.string):
                problems.append(f"plural forms incomplete: {msgid!r}")
        elif not entry.string:
            problems.append(f"untranslated: {msgid!r}")
    assert problems == [], "run `make translations` and translate:\n" + "\n".join(problems)


def _entries(catalogue: Any) -> dict[Any, Any]:
    def plain(value: Any) -> Any:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(plain(m.id), m.context): plain(m.string) for m in catalogue if m.id}


def test_the_compiled_catalogue_matches_the_source() -> None:
    with (WELSH / "messages.mo").open("rb") as handle:
        compiled = _entries(read_mo(handle))
    assert compiled == _entries(_welsh_catalogue()), "run `make compile-translations`"


def test_welsh_plural_forms(app: Any) -> None:
    with app.test_request_context("/"), force_locale("cy"):
        forms = [ngettext("The link works for %(num)d day.", "", n) for n in (0, 1, 2, 3, 6, 7)]
    assert forms[2] == "Mae'r ddolen yn gweithio am 2 ddiwrnod."  # dau ddiwrnod: soft mutation
    assert forms[1] == "Mae'r ddolen yn gweithio am 1 diwrnod."


class _Text(HTMLParser):
    """The words a person reads on a page: text nodes and the attributes read aloud."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Country names in the select are CLDR's (Babel's), many the same in Welsh.
        if tag in ("script", "style", "option"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "alt", "placeholder") and value:
                self.chunks.append(value)
            if (
                tag == "input"
                and name == "value"
                and value
                and dict(attrs).get("type")
                in (
                    "submit",
                    "button",
                )
            ):
                self.chunks.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "option"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.chunks.append(" ".join(data.split()))


def _words(html: str, content: list[str]) -> set[str]:
    consents = [" ".join(text.split()) for text in (DEFAULT_CONSENT, *DEFAULT_CONSENT_IN.values())]
    content = [*content, *consents, DEFAULT_NAME]  # the charity's name
    parser = _Text()
    parser.feed(html)
    words = set()
    for chunk in parser.chunks:
        for item in content:  # what the organiser wrote is not ours to translate
            chunk = chunk.replace(item, "")
        chunk = re.sub(r"[\d,.%£·:()/\-–—\s]+", " ", chunk).strip()
        if re.search(r"[A-Za-z]{2,}", chunk):
            words.add(chunk)
    return words


# The consent wording is the organiser's (versioned, recorded with each signature): content,
# like the campaign's own words (the test's actions have no Welsh wording: the English shows).
# Names that are the same in both languages.
SAME_IN_BOTH = {
    "English",
    "Cymraeg",
    "RSVP",
    "WhatsApp",
    "Facebook",
    "X",
    "Google Calendar",
    "Outlook com",
}


@pytest.fixture
def world(factories: Any) -> dict[str, Any]:
    campaign = make_campaign(slug="iaith", title="Zqx Campaign Title", summary="Zqx summary")
    action = make_action(campaign, slug="deiseb", title="Zqx Action Title", text="Zqx text")
    closed = make_action(campaign, slug="closed", title="Zqx Closed Title", text="Zqx closed")
    closed.closed_at = closed.created_at
    db.session.commit()
    event = make_event(campaign, title="Zqx Event Title", description="Zqx event text")
    return {"campaign": campaign, "action": action, "event": event}


CONTENT = [
    "Zqx Event Title",
    "Zqx event text",
    "Town hall steps",  # the venue, as the organiser wrote it
    "Europe/London",
    "GMT",
    "BST",
    "Zqx Campaign Title",
    "Zqx summary",
    "Zqx Action Title",
    "Zqx text",
    "Zqx Closed Title",
    "Zqx closed",
    "Ann Example",
]


def _fresh_g() -> None:
    # The test's app context is shared by the clients' requests (see tests/mailings): each
    # client must get its own CSRF token.
    g.pop("csrf_token", None)


def _pages(client: Any, prefix: str) -> dict[str, str]:
    _fresh_g()
    pages = {}
    for name, path in {
        "home": "/",
        "campaign": "/c/iaith",
        "action": "/c/iaith/deiseb",
        "closed": "/c/iaith/closed",
        "not found": "/no-such-page",
        "confirm, bad link": "/confirm/not-a-token",
        "my actions": "/my",
        "my actions, bad link": "/my/signin/not-a-token",
    }.items():
        pages[name] = client.get(prefix + path).get_data(as_text=True)
    form = client.get(prefix + "/c/iaith/deiseb").get_data(as_text=True)
    pages["action with errors"] = client.post(
        prefix + "/c/iaith/deiseb",
        data={"csrf_token": csrf_from(form), "email": "not an address", "postcode": "zz"},
    ).get_data(as_text=True)
    event = client.get(prefix + f"/e/iaith/{EVENT_SLUG}")
    pages["event"] = event.get_data(as_text=True)
    rsvp = client.post(
        prefix + f"/e/iaith/{EVENT_SLUG}",
        data={
            "csrf_token": csrf_from(pages["event"]),
            "name": "Ann Example",
            "email": f"e{len(prefix)}@example.org",
            "country": "GB",
            "postcode": "SW1A 1AA",
        },
    )
    assert rsvp.status_code in (200, 303), rsvp.status_code
    if rsvp.status_code == 303:
        rsvp = client.get(rsvp.headers["Location"])
    pages["event, RSVP sent"] = rsvp.get_data(as_text=True)
    my = client.get(prefix + "/my").get_data(as_text=True)
    pages["my actions, link sent"] = client.post(
        prefix + "/my/signin", data={"csrf_token": csrf_from(my), "email": "nobody@example.org"}
    ).get_data(as_text=True)
    signed = sign_via_form(client, prefix + "/c/iaith/deiseb", email=f"w{len(prefix)}@example.org")
    pages["thanks"] = client.get(signed.headers["Location"]).get_data(as_text=True)
    return pages


def test_nothing_english_is_left_on_a_welsh_page(app: Any, client: Any, world: Any) -> None:
    english = _pages(client, "")
    welsh = _pages(app.test_client(), "/cy")
    left = {}
    for name, html in welsh.items():
        same = (_words(html, CONTENT) & _words(english[name], CONTENT)) - SAME_IN_BOTH
        if same:
            left[name] = sorted(same)
    assert left == {}, f"English left on Welsh pages (mark these for translation): {left}"
    assert '<html lang="cy">' in welsh["action"]
    assert "Ychwanegwch eich enw" in welsh["action"]
    assert "Rhowch gyfeiriad e-bost dilys" in welsh["action with errors"]


def test_the_address_then_the_choice_then_the_browser_decide(
    app: Any, client: Any, world: Any
) -> None:
    assert '<html lang="en">' in client.get("/c/iaith").get_data(as_text=True)
    assert '<html lang="cy">' in client.get("/cy/c/iaith").get_data(as_text=True)
    browser = app.test_client()
    _fresh_g()
    page = browser.get("/c/iaith", headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"})
    assert '<html lang="cy">' in page.get_data(as_text=True)
    assert "Accept-Language" in page.headers["Vary"]
    # The switcher remembers the choice, over what the browser asks for.
    switched = browser.get("/lang/en?next=/cy/c/iaith")
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/c/iaith")
    page = browser.get("/c/iaith", headers={"Accept-Language": "cy"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    # The address wins over the choice; links on a Welsh page stay Welsh.
    welsh = browser.get("/cy/c/iaith").get_data(as_text=True)
    assert '<html lang="cy">' in welsh and 'href="/cy/c/iaith/deiseb"' in welsh
    assert '<link rel="alternate" hreflang="en" href="/c/iaith">' in welsh
    assert '<link rel="alternate" hreflang="cy" href="/cy/c/iaith">' in welsh
    assert browser.get("/cy").status_code == 200  # the Welsh home page, without the slash


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", ""])
def test_the_switcher_only_goes_to_this_site(client: Any, target: str) -> None:
    answer = client.get("/lang/cy", query_string={"next": target})
    assert answer.status_code == 303
    assert answer.headers["Location"] in ("/cy/", "http://localhost/cy/")


def test_an_unknown_language_is_a_404(client: Any) -> None:
    assert client.get("/lang/xx").status_code == 404
    assert client.get("/xx/c/iaith").status_code == 404


def test_a_welsh_signer_is_written_to_in_welsh(
    app: Any, client: Any, world: Any, smtp_sink: Any
) -> None:
    sign_via_form(client, "/cy/c/iaith/deiseb", email="cymro@example.org")
    # The same language from the remembered choice, through the unprefixed address (the one
    # the hot path answers for English speakers).
    chooser = app.test_client()
    _fresh_g()
    chooser.get("/lang/cy?next=/")
    sign_via_form(chooser, "/c/iaith/deiseb", email="dewis@example.org")
    _fresh_g()
    sign_via_form(app.test_client(), "/c/iaith/deiseb", email="saes@example.org")
    languages = dict(db.session.execute(select(Signature.email, Signature.language)).all())
    assert languages == {
        "cymro@example.org": "cy",
        "dewis@example.org": "cy",
        "saes@example.org": "en",
    }
    drain()
    mail = {m.envelope_to[0]: m for m in smtp_sink.messages}
    welsh = mail["cymro@example.org"]
    assert welsh.subject == "Cadarnhewch eich llofnod: Zqx Action Title"
    assert "Helo Ann Example," in welsh.text()
    assert "/cy/confirm/" in welsh.text()
    assert mail["dewis@example.org"].subject.startswith("Cadarnhewch")
    assert mail["saes@example.org"].subject == "Please confirm your signature: Zqx Action Title"
    token = TOKEN_IN_LINK.search(welsh.text()).group(1)
    page = client.get(f"/cy/confirm/{token}").get_data(as_text=True)
    assert "Cadarnhewch eich llofnod" in page


def test_every_enabled_language_has_a_name_and_a_catalogue(app: Any) -> None:
    for code in app.config["LANGUAGES"]:
        assert code in i18n.NATIVE_NAMES
        if code != app.config["DEFAULT_LANGUAGE"]:
            assert (CATALOGUES / code / "LC_MESSAGES" / "messages.po").exists()


def test_the_organisers_words_in_welsh_with_the_english_where_none(
    app: Any, client: Any, world: Any, smtp_sink: Any
) -> None:
    from tests.support.workspace import login, make_organiser

    campaign, action = world["campaign"], world["action"]
    owner = make_organiser("iaith-owner@example.org")
    campaign.owner_id = owner.id
    db.session.commit()
    _fresh_g()
    organiser = app.test_client()
    login(organiser, "iaith-owner@example.org")
    _fresh_g()
    page = organiser.get(f"/organise/campaigns/{campaign.id}").get_data(as_text=True)
    assert "No Cymraeg version of this campaign yet" in page  # the organiser is told
    edit = f"/organise/campaigns/{campaign.id}/actions/{action.id}/edit"
    form = organiser.get(edit).get_data(as_text=True)
    assert 'name="title__cy"' in form
    saved = organiser.post(
        edit,
        data={
            "csrf_token": csrf_from(form),
            "kind": "petition",
            "title": "Zqx Action Title",
            "slug": "deiseb",
            "text": "Zqx text",
            "goal": "100",
            "consent": DEFAULT_CONSENT,
            "position": "1",
            "title__cy": "Teitl Cymraeg y weithred",
            "text__cy": "  ",  # empty: the English text is shown
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(action), action.id).translations == {
        "cy": {"title": "Teitl Cymraeg y weithred"}
    }
    _fresh_g()
    welsh = app.test_client().get("/cy/c/iaith/deiseb").get_data(as_text=True)
    assert "<h1>Teitl Cymraeg y weithred</h1>" in welsh and "Zqx text" in welsh
    _fresh_g()
    english = app.test_client().get("/c/iaith/deiseb").get_data(as_text=True)
    assert "<h1>Zqx Action Title</h1>" in english
    _fresh_g()
    sign_via_form(app.test_client(), "/cy/c/iaith/deiseb", email="teitl@example.org")
    drain()
    mail = next(m for m in smtp_sink.messages if m.envelope_to == ["teitl@example.org"])
    assert mail.subject == "Cadarnhewch eich llofnod: Teitl Cymraeg y weithred"


def test_scripts_write_numbers_in_the_pages_language() -> None:
    """Our scripts format figures for the page's <html lang>, as the server does: none names a
    fixed locale (the vendored libraries are not ours)."""
    static = Path(i18n.__file__).resolve().parents[1] / "static"
    fixed = []
    for script in sorted(static.rglob("*.js")):
        if "vendor" in script.parts:
            continue
        source = script.read_text(encoding="utf-8")
        if re.search(r"toLocaleString\(\s*[\"']", source) or (
            "toLocaleString(" in source and "documentElement.lang" not in source
        ):
            fixed.append(str(script.relative_to(static)))
    assert fixed == [], f"format numbers with the page's language: {fixed}"


@pytest.mark.parametrize(
    "cookie",
    [None, "", "lang=cy", "lang=en", "lang=fr", "session=x; lang=cy", "slang=cy", "lang =cy"],
)
@pytest.mark.parametrize(
    "accept", [None, "", "cy", "cy-GB,en;q=0.5", "en-GB,cy;q=0.9", "fr", "*", "cy;q=0, en"]
)
def test_speaks_default_agrees_with_select_locale(app: Any, cookie: Any, accept: Any) -> None:
    """The raw-request check the hot path routes by (its cookie shortcut and the kept
    Accept-Language answers) says what the app's own choice says, asked twice."""
    from werkzeug.test import EnvironBuilder

    headers = {k: v for k, v in (("Cookie", cookie), ("Accept-Language", accept)) if v is not None}
    environ = EnvironBuilder(path="/c/x", headers=headers).get_environ()
    with app.request_context(environ):
        expected = i18n.select_locale() == app.config["DEFAULT_LANGUAGE"]
    for _ in range(2):
        assert i18n.speaks_default(environ, app.config) is expected
