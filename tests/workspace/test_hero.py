"""A campaign's hero image (issue 15): uploaded with alt text, shrunk, stripped of metadata,
served by the app; uploads that can't be used get a clear error and change nothing."""

from __future__ import annotations

import io
import struct
import zlib
from types import SimpleNamespace
from typing import Any

from PIL import Image

from petitions.campaigns.models import Campaign
from petitions.extensions import db
from tests.support.factories import make_campaign
from tests.support.workspace import csrf, login, make_organiser


def _photo(size: tuple[int, int] = (3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (20, 120, 200))
    exif = Image.Exif()
    exif[0x013B] = "Photographer Name"  # Artist
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS: where the photo was taken
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _save(client: Any, campaign: Any, **values: Any) -> Any:
    url = f"/organise/campaigns/{campaign.id}/edit"
    data = {
        "csrf_token": csrf(client, url),
        "title": "Clean rivers",
        "slug": campaign.slug,
        "summary": "Stop the sewage.",
        "body": "",
        "status": campaign.status,
    }
    data.update(values)
    return client.post(url, data=data, content_type="multipart/form-data")


def _setup(app: Any, client: Any, **campaign: Any) -> Any:
    with app.app_context():
        owner = make_organiser("hero@example.org")
        found = make_campaign(slug="rivers", title="Clean rivers", owner_id=owner.id, **campaign)
        db.session.commit()
        made = SimpleNamespace(id=found.id, slug=found.slug, status=found.status)
        db.session.remove()
    login(client, "hero@example.org")
    return made


def test_an_uploaded_image_is_shrunk_stripped_and_shown_with_its_alt_text(app, client) -> None:  # type: ignore[no-untyped-def]
    campaign = _setup(app, client)
    saved = _save(
        client,
        campaign,
        hero=(io.BytesIO(_photo()), "march.jpg"),
        hero_alt="Supporters by the river with banners",
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    page = app.test_client().get("/c/rivers").get_data(as_text=True)
    assert 'alt="Supporters by the river with banners"' in page
    assert 'class="hero" src="/c/rivers/hero.jpg?v=1"' in page
    assert 'property="og:image" content="http://localhost/c/rivers/hero.jpg?v=1"' in page
    served = app.test_client().get("/c/rivers/hero.jpg?v=1")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.size == (1350, 900)  # fits 1600 × 900, proportions kept
        assert not image.getexif()  # no artist, no GPS
        assert "exif" not in image.info


def test_uploads_that_cannot_be_used_say_why_and_change_nothing(app, client) -> None:  # type: ignore[no-untyped-def]
    campaign = _setup(app, client)
    no_alt = _save(client, campaign, hero=(io.BytesIO(_photo((800, 600))), "a.jpg"))
    assert no_alt.status_code == 400
    assert "Describe the image for people who can" in no_alt.get_data(as_text=True)
    text = _save(client, campaign, hero=(io.BytesIO(b"not an image"), "a.jpg"), hero_alt="x y")
    assert text.status_code == 400
    assert "not an image we can read" in text.get_data(as_text=True)
    big = _save(
        client,
        campaign,
        hero=(io.BytesIO(b"\xff" * (5 * 1024 * 1024 + 10)), "b.jpg"),
        hero_alt="x y",
    )
    assert big.status_code == 400
    assert "an image can be at most 5 MB" in big.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Campaign, campaign.id).hero_version == 0
        db.session.remove()
    assert app.test_client().get("/c/rivers/hero.jpg").status_code == 404


def test_a_drafts_image_is_for_organisers_and_can_be_removed(app, client) -> None:  # type: ignore[no-untyped-def]
    campaign = _setup(app, client, status="draft")
    saved = _save(
        client, campaign, hero=(io.BytesIO(_photo((640, 480))), "d.jpg"), hero_alt="A river"
    )
    assert saved.status_code == 303
    assert app.test_client().get("/c/rivers/hero.jpg").status_code == 404  # not public yet
    own = client.get(f"/organise/campaigns/{campaign.id}/hero.jpg")
    assert own.status_code == 200 and own.mimetype == "image/jpeg"
    assert _save(client, campaign, remove_hero="y").status_code == 303
    assert client.get(f"/organise/campaigns/{campaign.id}/hero.jpg").status_code == 404


def _bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A PNG of a few hundred bytes whose header claims 3.6 billion pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_in_words(app, client) -> None:  # type: ignore[no-untyped-def]
    campaign = _setup(app, client)
    bomb = _save(client, campaign, hero=(io.BytesIO(_bomb()), "bomb.png"), hero_alt="x y")
    assert bomb.status_code == 400
    assert "too large in pixels" in bomb.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Campaign, campaign.id).hero_version == 0
        db.session.remove()
