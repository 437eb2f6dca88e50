"""Organisers create API tokens in the workspace: shown once, stored hashed, revocable."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from petitions.api.models import ApiToken
from petitions.extensions import db
from tests.support.workspace import csrf, login, make_organiser

RAW = re.compile(r'id="new-token" type="text" readonly value="(pt_[A-Za-z0-9_-]+)"')


def test_token_is_shown_once_works_and_can_be_revoked(app: Flask) -> None:
    with app.app_context():
        make_organiser("ann-org@example.org")
        make_organiser("bob-org@example.org")
    client = app.test_client()
    login(client, "ann-org@example.org")
    token = csrf(client, "/organise/api-tokens")
    created = client.post("/organise/api-tokens", data={"csrf_token": token, "name": "CRM sync"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    match = RAW.search(created.get_data(as_text=True))
    assert match
    raw = match.group(1)
    listing = client.get("/organise/api-tokens").get_data(as_text=True)
    assert "CRM sync" in listing and raw not in listing  # never shown again

    api = app.test_client()
    assert api.get("/api/osdi/v1/signatures", headers={"OSDI-API-Token": raw}).status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored is not None and stored.last_used_at is not None
        token_id = stored.id

    other = app.test_client()
    login(other, "bob-org@example.org")
    bob_csrf = csrf(other, "/organise/api-tokens")
    stolen = other.post(f"/organise/api-tokens/{token_id}/revoke", data={"csrf_token": bob_csrf})
    assert stolen.status_code == 404
    assert client.post(f"/organise/api-tokens/{token_id}/revoke").status_code == 400  # no CSRF

    revoked = client.post(f"/organise/api-tokens/{token_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert api.get("/api/osdi/v1/signatures", headers={"OSDI-API-Token": raw}).status_code == 401


def test_token_pages_need_a_login(app: Flask) -> None:
    response = app.test_client().get("/organise/api-tokens")
    assert response.status_code in (302, 303)
    assert "/organise/login" in response.headers["Location"]
