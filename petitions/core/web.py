"""Request-wide behaviour: security headers, CSP nonces, template helpers."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_babel import format_decimal
from werkzeug.wrappers import Response

from petitions.core.text import markdown_to_plain, render_markdown


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = new_csp_nonce()
    return str(g.csp_nonce)


def init_app(app: Flask) -> None:
    from petitions.core import logredact

    logredact.install()  # no emails or link tokens in any log line
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["plain"] = markdown_to_plain  # Markdown as the words, for summaries

    @app.template_filter("thousands")
    def thousands(value: int) -> str:
        # Grouped the page's language's way (Babel): 12,345 in English and Welsh.
        return str(format_decimal(int(value)))

    app.before_request(reject_nul_bytes)
    app.before_request(forms_take_form_data)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        """Liveness and database reachability, for load balancers and compose health checks."""
        from sqlalchemy import text

        from petitions.extensions import db

        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # report, don't raise: the checker wants a status code
            return {"status": "database unavailable"}, 503
        return {"status": "ok"}, 200

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        secure = request.is_secure or app.config["SESSION_COOKIE_SECURE"]
        for name, value in security_header_items(
            csp_nonce(), g.get("frame_ancestors", "'none'"), secure
        ):
            headers.setdefault(name, value)
        return response


def security_header_items(nonce: str, frame_ancestors: str, secure: bool) -> list[tuple[str, str]]:
    """Every response's security headers, in order: the one definition (the app's after-request
    hook and the hot path, ``petitions.hotpath``, both send these)."""
    items = [
        (
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
            f"form-action 'self'; frame-ancestors {frame_ancestors}",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if frame_ancestors == "'none'":
        items.append(("X-Frame-Options", "DENY"))
    if secure:
        items.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return items


def new_csp_nonce() -> str:
    """A fresh nonce, as ``csp_nonce`` makes one per request."""
    return secrets.token_urlsafe(16)


def reject_nul_bytes() -> None:
    """NUL can't be stored (PostgreSQL refuses it) and is never legitimate in our input."""
    from flask import abort

    if "\x00" in request.path or any("\x00" in v for v in request.args.values()):
        abort(400)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and any(
        "\x00" in v for v in request.form.values()
    ):
        abort(400)


def forms_take_form_data() -> None:
    """Outside ``/api/``, a POST is a submitted form: a JSON body is refused (400, a message).

    Flask-WTF reads a JSON body as form data when there is no form, and a JSON list, string or
    nested object there made every form view answer 500. No page of ours sends JSON; the API
    (``/api/…``) reads its own bodies (``api.http.json_body``).
    """
    from werkzeug.exceptions import BadRequest

    if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith("/api/"):
        return
    if request.is_json:
        error = BadRequest()
        error.public_message = (  # type: ignore[attr-defined]
            "This address takes a submitted form, not JSON."
        )
        raise error


def no_store(response: Response, *, pragma: bool = False) -> Response:
    """Never cache this response anywhere (it holds personal data or a secret)."""
    response.headers["Cache-Control"] = "no-store"
    if pragma:
        response.headers["Pragma"] = "no-cache"
    return response


def safe_next(target: str | None) -> str | None:
    """A ``next=`` target only if it is a path on this site."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
