"""Absolute links for API documents, from the request when there is one, else PUBLIC_URL."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import current_app, has_request_context, request


def base_url() -> str:
    if has_request_context():
        return request.host_url.rstrip("/")
    return str(current_app.config["PUBLIC_URL"]).rstrip("/")


def absolute(path: str, **params: object) -> str:
    query = {k: v for k, v in params.items() if v is not None}
    return base_url() + path + (("?" + urlencode(query)) if query else "")


def action_page(campaign_slug: str, action_slug: str) -> str:
    return absolute(f"/c/{quote(campaign_slug)}/{quote(action_slug)}")


def campaign_page(campaign_slug: str) -> str:
    return absolute(f"/c/{quote(campaign_slug)}")


def embed_page(campaign_slug: str, action_slug: str) -> str:
    return absolute(f"/embed/{quote(campaign_slug)}/{quote(action_slug)}")
