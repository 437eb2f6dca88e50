"""Errors are pages (or JSON for API paths) with a clear message, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: _l("Something in that request was not right."),
    403: _l("You can't do that here."),
    404: _l("We couldn't find that page."),
    405: _l("That page can't be used that way."),
    409: _l("That can't be done any more."),
    410: _l("That link has expired."),
    413: _l("That was too much data to send at once."),
    415: _l("That content type isn't accepted here."),
    429: _l("Too many requests. Please wait a minute and try again."),
    500: _l("Something went wrong on our side. Nothing you did caused it."),
}


def _render(code: int, message: object):
    message = str(message)  # a lazy translation, made in the page's language
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": message, "status": code}), code
    return render_template("errors/error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _render(
            400,
            _l(
                "Your form session expired or the security token was missing. "
                "Please go back, reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        message = getattr(error, "public_message", None) or MESSAGES.get(
            code, error.description or _l("Request failed.")
        )
        body, status = _render(code, message)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:  # a 429 from the rate limits says when to come back
            return body, status, {"Retry-After": str(retry_after)}
        return body, status

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        return _render(500, MESSAGES[500])

    @app.errorhandler(UnicodeError)
    def unicode_error(error: UnicodeError):
        return _render(400, _l("The request contained text we could not read."))
