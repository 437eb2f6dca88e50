"""The hand-in PDF: cover, names and areas only (never emails), landscape, a signature never split
across pages, grouped by area with counts, paper signatures included, built by the worker."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from petitions.core.time import utcnow
from petitions.counting.jobs import fold_counts
from petitions.exports import jobs
from petitions.exports.models import ExportJob
from petitions.extensions import db
from petitions.paper.models import OfflineTally, PaperSignature
from tests.conftest import WorkerProcess, wait_for
from tests.support.factories import make_action, make_campaign, make_signature
from tests.support.workspace import confirmed_signature, csrf, login, make_organiser

LONG_NAME = "Gwenllïan " + "Angharad " * 8 + "ap Llywelyn"


@pytest.fixture
def export_dir(app: Flask, tmp_path: Path):  # type: ignore[no-untyped-def]
    app.config["EXPORT_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["EXPORT_DIR"] = ""


def _setup(app: Flask, extra: int = 0) -> tuple[int, int]:
    with app.app_context():
        ann = make_organiser("ann@example.org")
        make_organiser("eve@example.org")
        campaign = make_campaign(owner_id=ann.id, title="Clean rivers")
        action = make_action(
            campaign,
            title="Stop sewage in the Taf",
            target="Welsh Water",
            text="We ask **Welsh Water** to stop dumping sewage.",
        )
        confirmed_signature(action, "sian@example.org", name="Siân Llŷr", postcode_area="CF")
        confirmed_signature(
            action, "bo@example.org", name="Bo Ørsted", country="DK", postcode="2100"
        )
        confirmed_signature(action, "long@example.org", name=LONG_NAME, postcode_area="SA")
        for i in range(extra):
            confirmed_signature(action, f"many{i}@example.org", name=f"Many Person {i:04d}")
        make_signature(action, "pending@example.org", name="Not Confirmed")
        db.session.add(
            PaperSignature(
                action_id=action.id,
                name="Dafydd ap Gruffydd",
                postcode="CF10 1AA",
                postcode_area="CF",
                consent_on_paper=True,
                collected_on=utcnow().date(),
            )
        )
        db.session.add(
            OfflineTally(
                action_id=action.id, count=40, source="Stall", collected_on=utcnow().date()
            )
        )
        db.session.commit()
        fold_counts()
        return campaign.id, action.id


def _ask(
    app: Flask,
    campaign_id: int,
    action_id: int,
    grouping: str = "",
    *,
    language: str | None = None,
    prefix: str = "",
) -> tuple[object, str]:
    client = app.test_client()
    login(client, "ann@example.org")
    page = f"{prefix}/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
    data = {"csrf_token": csrf(client, page), "grouping": grouping}
    if language is not None:
        data["language"] = language
    asked = client.post(
        f"{prefix}/organise/campaigns/{campaign_id}/actions/{action_id}/handin", data=data
    )
    assert asked.status_code == 303, asked.get_data(as_text=True)
    return client, asked.location


def _pages(body: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(body))
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width > height, "landscape"
    return [page.extract_text() for page in reader.pages]


def test_handin_pdf_has_cover_names_and_areas_but_never_emails(
    app: Flask, export_dir: Path
) -> None:
    campaign_id, action_id = _setup(app)
    client, export_url = _ask(app, campaign_id, action_id)
    with app.app_context():
        job_id = db.session.scalar(db.select(ExportJob.id))
        assert jobs.run_export(job_id) is not None
        assert jobs.run_export(job_id) is None  # idempotent
    status = client.get(export_url + ".json").get_json()  # type: ignore[attr-defined]
    assert status["ready"] and status["done"] == 4
    download = client.get(status["download_url"])  # type: ignore[attr-defined]
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert ".pdf" in download.headers["Content-Disposition"]
    pages = _pages(download.data)
    cover, signatures = pages[0], "\n".join(pages[1:])
    assert "Stop sewage in the Taf" in cover and "To: Welsh Water" in cover
    assert "44 confirmed signatures" in cover  # 3 online + 1 paper + a tally of 40
    today = utcnow().date()
    assert f"Signed from {today.day} {today:%B %Y} to {today.day} {today:%B %Y}." in cover
    assert "a further 40 were collected off-line" in cover
    assert "Welsh Water to stop dumping sewage" in cover and "**" not in cover
    for name in ("Siân Llŷr", "Bo Ørsted", "Dafydd ap Gruffydd"):
        assert name in signatures
    assert "DK" in signatures and "CF" in signatures
    everything = "\n".join(pages)
    assert "@" not in everything and "example.org" not in everything
    assert "Not Confirmed" not in everything
    assert "CF10" not in everything and "2100" not in everything  # postcodes stay out


def test_grouped_by_area_with_counts_and_no_signature_split(app: Flask, export_dir: Path) -> None:
    campaign_id, action_id = _setup(app, extra=230)
    _ask(app, campaign_id, action_id, grouping="area")
    with app.app_context():
        job = db.session.scalar(db.select(ExportJob))
        assert (job.kind, job.grouping) == ("handin", "area")
        name = jobs.run_export(job.id)
    pages = _pages((export_dir / str(name)).read_bytes())
    assert len(pages) >= 3
    text = "\n".join(pages[1:])
    assert "CF — 2 signatures" in text  # Siân and the paper signature
    assert "DK — 1 signature" in text
    assert "SW — 230 signatures" in text  # the factory's default area
    # The long name wraps onto lines of its own but stays on one page, and every
    # signature is whole on exactly one page.
    flat = [" ".join(page.split()) for page in pages]
    assert sum(LONG_NAME in page for page in flat) == 1
    for i in range(230):
        assert sum(f"Many Person {i:04d}" in page for page in flat) == 1


def test_handin_form_refuses_bad_input_and_other_organisers(app: Flask, export_dir: Path) -> None:
    campaign_id, action_id = _setup(app)
    client = app.test_client()
    login(client, "ann@example.org")
    page = f"/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
    url = f"/organise/campaigns/{campaign_id}/actions/{action_id}/handin"
    token = csrf(client, page)
    assert client.post(url, data={"grouping": ""}).status_code == 400  # no CSRF
    bad = client.post(url, data={"csrf_token": token, "grouping": "email\r\n"})
    assert bad.status_code == 400
    assert client.post(url, data={"csrf_token": token, "grouping": "x" * 5000}).status_code == 400
    huge = f"/organise/campaigns/{campaign_id}/actions/{2**70}/handin"
    assert client.post(huge, data={"csrf_token": token}).status_code == 404
    other = app.test_client()
    login(other, "eve@example.org")
    assert other.post(url, data={"csrf_token": csrf(other, "/organise/")}).status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ExportJob)) == 0


@pytest.mark.integration
def test_the_worker_builds_the_handin(live_app: Flask, worker: WorkerProcess) -> None:
    app = live_app
    shared = Path(worker.env["PETITIONS_INSTANCE"]) / "exports"
    app.config["EXPORT_DIR"] = str(shared)
    try:
        campaign_id, action_id = _setup(app)
        client, export_url = _ask(app, campaign_id, action_id)
        status = wait_for(
            lambda: (s := client.get(export_url + ".json").get_json())["ready"] and s  # type: ignore[attr-defined]
        )
        pages = _pages(client.get(status["download_url"]).data)  # type: ignore[attr-defined]
        assert "Siân Llŷr" in "\n".join(pages)
    finally:
        app.config["EXPORT_DIR"] = ""


def test_the_cover_names_the_charity_its_branding_names(app: Flask, export_dir: Path) -> None:
    from petitions.branding import services as branding

    campaign_id, action_id = _setup(app)
    with app.app_context():
        branding.save(
            org_name="Cymdeithas yr Afon",
            colour="#0b5cab",
            privacy_url="",
            contact_url="",
            charity_number="",
            sender_name="",
        )
        db.session.commit()
    client, export_url = _ask(app, campaign_id, action_id)
    with app.app_context():
        job_id = db.session.scalar(db.select(ExportJob.id))
        assert jobs.run_export(job_id) is not None
    status = client.get(export_url + ".json").get_json()  # type: ignore[attr-defined]
    cover = _pages(client.get(status["download_url"]).data)[0]  # type: ignore[attr-defined]
    assert "Cymdeithas yr Afon" in cover


# The Welsh hand-in (issue 16): the organiser's Welsh words for the action and campaign.
WELSH = {
    "campaign": "Afonydd glân",
    "title": "Atal carthion yn afon Taf",
    "text": "Gofynnwn i **Dŵr Cymru** roi'r gorau i ollwng carthion.",
}
# What is the same in both PDFs and not ours: the people, their places, the target (an action
# has no Welsh target of its own yet) and the charity's name.
NOT_OURS = [
    "Siân Llŷr",
    "Bo Ørsted",
    "Dafydd ap Gruffydd",
    "Gwenllïan",
    "Angharad",
    "ap Llywelyn",
    "Llywelyn",  # a long name wraps: its pieces are lines of their own
    "ap",
    "Welsh Water",
    "Petitions",
    "CF",
    "DK",
    "SA",
]
WELSH_MONTHS = [
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
]


def _in_welsh(app: Flask, action_id: int) -> None:
    from petitions.campaigns.models import Action

    with app.app_context():
        action = db.session.get(Action, action_id)
        assert action is not None
        action.translations = {"cy": {"title": WELSH["title"], "text": WELSH["text"]}}
        action.campaign.translations = {"cy": {"title": WELSH["campaign"]}}
        db.session.commit()


def _build(app: Flask, export_dir: Path) -> list[str]:
    with app.app_context():
        job = db.session.scalars(db.select(ExportJob).order_by(ExportJob.id.desc())).first()
        assert job is not None
        name = jobs.run_export(job.id)
    return _pages((export_dir / str(name)).read_bytes())


def _ours(pages: list[str]) -> set[str]:
    """Each line of the PDF without the people's and the organiser's words, if letters are left."""
    lines = set()
    for line in "\n".join(pages).splitlines():
        for item in [LONG_NAME, *WELSH.values(), *NOT_OURS]:
            line = re.sub(rf"(?<!\w){re.escape(item)}(?!\w)", "", line)
        line = re.sub(r"[\d,.*:—\-\s]+", " ", line).strip()
        if re.search(r"[A-Za-z]{2,}", line):
            lines.add(line)
    return lines


def test_a_welsh_handin_is_in_welsh_and_the_english_one_unchanged(
    app: Flask, export_dir: Path
) -> None:
    campaign_id, action_id = _setup(app)
    _in_welsh(app, action_id)
    _ask(app, campaign_id, action_id, grouping="area", language="en")
    english = _build(app, export_dir)
    _ask(app, campaign_id, action_id, grouping="area", language="cy")
    welsh = _build(app, export_dir)
    with app.app_context():
        assert [job.language for job in db.session.scalars(db.select(ExportJob))] == ["en", "cy"]

    cover, signatures = " ".join(welsh[0].split()), "\n".join(welsh[1:])
    today = utcnow().date()
    month = WELSH_MONTHS[today.month - 1]
    assert WELSH["campaign"] in cover and WELSH["title"] in cover
    assert "Gofynnwn i Dŵr Cymru roi'r gorau i ollwng carthion." in cover
    assert "At: Welsh Water" in cover
    assert "44 o lofnodion wedi'u cadarnhau" in cover
    assert f"Llofnodwyd o {today.day} {month} {today.year} hyd {today.day} {month}" in cover
    assert "casglwyd 40 arall all-lein" in cover
    assert "Wedi'u grwpio fesul ardal cod post." in cover
    assert "Tudalen 1" in cover
    for welsh_words in ("Atal carthion yn afon Taf: llofnodion", "Rhif", "Enw", "Ardal"):
        assert welsh_words in signatures
    assert "CF — 2 lofnod" in signatures  # Welsh "two": soft mutation
    assert "DK — 1 llofnod" in signatures and "SA — 1 llofnod" in signatures
    assert "* wedi'i lofnodi ar bapur" in signatures
    assert "Siân Llŷr" in signatures and LONG_NAME in " ".join(signatures.split())

    # None of our English is left: no line of ours reads the same in both, no English month.
    assert _ours(welsh) & _ours(english) == set()
    assert f"{today:%B}" not in "\n".join(welsh)
    assert "Stop sewage in the Taf" not in "\n".join(welsh)
    # The English one reads as before (the organiser's English words, our English).
    english_cover = " ".join(english[0].split())
    assert "Stop sewage in the Taf" in english_cover and "Clean rivers" in english_cover
    assert "44 confirmed signatures" in english_cover and "Page 1" in english_cover
    assert "CF — 2 signatures" in "\n".join(english[1:])


def test_the_language_defaults_to_the_pages_and_must_be_enabled(
    app: Flask, export_dir: Path
) -> None:
    campaign_id, action_id = _setup(app)
    page = f"/cy/organise/campaigns/{campaign_id}/actions/{action_id}/exports"
    client = app.test_client()
    login(client, "ann@example.org")
    html = client.get(page).get_data(as_text=True)
    assert "Iaith y PDF cyflwyno" in html
    assert re.search(r'<option selected value="cy">Cymraeg</option>', html), html
    _ask(app, campaign_id, action_id)  # an English page that does not send the field
    _ask(app, campaign_id, action_id, prefix="/cy")  # a Welsh one
    with app.app_context():
        assert [job.language for job in db.session.scalars(db.select(ExportJob))] == ["en", "cy"]
    listed = client.get(page.removeprefix("/cy")).get_data(as_text=True)
    assert "Hand-in PDF (English)" in listed and "Hand-in PDF (Cymraeg)" in listed
    url = f"/organise/campaigns/{campaign_id}/actions/{action_id}/handin"
    token = csrf(client, page)
    assert client.post(url, data={"csrf_token": token, "language": "fr"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ExportJob)) == 2
