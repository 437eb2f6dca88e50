"""Branding: an admin sets the organisation's name, logo, colour (contrast-checked), footer
links and sender name; pages and emails carry them; uploads are checked and stripped."""

from __future__ import annotations

import io

from flask import Flask
from PIL import Image

from petitions.branding.services import contrast
from petitions.mailer.services import drain
from tests.support.factories import make_action, make_signature
from tests.support.workspace import csrf, login, make_organiser

URL = "/organise/branding"


def _png_with_metadata(size: tuple[int, int] = (1200, 400)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    exif[0x013B] = "Photographer Name"  # Artist
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def _form(client, **values):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf(client, URL),
        "org_name": "Friends of the Pier",
        "colour": "#7a1f5c",
        "privacy_url": "https://pier.example/privacy",
        "contact_url": "https://pier.example/contact",
        "charity_number": "1234567",
        "sender_name": "Friends of the Pier",
    }
    data.update(values)
    return client.post(URL, data=data, content_type="multipart/form-data")


def test_contrast() -> None:
    assert round(contrast("#000000", "#ffffff")) == 21
    assert contrast("#0b5cab", "#ffffff") > 4.5
    assert contrast("#ffcc00", "#ffffff") < 2


def test_an_admin_brands_the_site_and_emails(app: Flask, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        make_organiser("admin@example.org", admin=True)
        make_organiser("org@example.org")
    client = app.test_client()
    login(client, "admin@example.org")

    pale = _form(client, colour="#ffcc00")
    assert pale.status_code == 400
    assert "contrast of 1.5:1" in pale.get_data(as_text=True)
    junk = _form(client, logo=(io.BytesIO(b"not an image at all"), "logo.png"))
    assert junk.status_code == 400 and "not an image we can read" in junk.get_data(as_text=True)
    huge = _form(client, logo=(io.BytesIO(b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10)), "big.png"))
    assert huge.status_code == 400 and "at most 2 MB" in huge.get_data(as_text=True)

    saved = _form(client, logo=(io.BytesIO(_png_with_metadata()), "logo.jpg"))
    assert saved.status_code == 303, saved.get_data(as_text=True)

    home = app.test_client().get("/").get_data(as_text=True)
    assert "Friends of the Pier" in home and "/branding/logo.png?v=" in home
    assert "registered charity, number 1234567" in home and "https://pier.example/privacy" in home
    assert "/branding.css?v=" in home
    css = app.test_client().get("/branding.css").get_data(as_text=True)
    assert "--brand: #7a1f5c" in css

    logo = app.test_client().get("/branding/logo.png")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    with Image.open(io.BytesIO(logo.data)) as served:
        assert served.format == "PNG"
        assert served.width <= 480 and served.height <= 160
        assert not served.getexif() and "exif" not in served.info
    assert b"Photographer" not in logo.data and b"secret description" not in logo.data

    # Emails carry the name, the footer and the sender name.
    with app.app_context():
        make_signature(make_action(), "sam@example.org")
        drain()
    [mail] = smtp_sink.to("sam@example.org")
    assert mail.message["From"].startswith("Friends of the Pier <")
    assert "Friends of the Pier, registered charity 1234567" in mail.text()
    assert "Friends of the Pier" in mail.html() and "#7a1f5c" in mail.html()

    # Only admins.
    other = app.test_client()
    login(other, "org@example.org")
    assert other.get(URL).status_code == 404
