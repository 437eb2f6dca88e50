"""HTTP details shared by the API views: JSON bodies, caching, ETags, CORS, paging, errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, current_app, request
from werkzeug.exceptions import HTTPException

JSON = "application/json"
HAL_JSON = "application/hal+json"
MAX_PER_PAGE = 100
MAX_PAGE = 100_000


class ApiError(HTTPException):
    """A 4xx with a JSON body naming what was wrong (and, for 422, which fields)."""

    def __init__(self, code: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(description=message)
        self.code = code
        self.errors = errors or {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:  # type: ignore[override]
        body: dict[str, Any] = {"error": self.description, "status": self.code}
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, self.code or 400)


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    payload: Any,
    status: int = 200,
    *,
    mimetype: str = JSON,
    max_age: int | None = None,
    stale: int | None = None,
    public: bool = False,
) -> Response:
    """A JSON response. Public ones get Cache-Control, a strong ETag and 304s, and open CORS."""
    response = current_app.response_class(dumps(payload), status=status, mimetype=mimetype)
    if public:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
        if max_age is not None:
            directives = [f"public, max-age={max_age}"]
            if stale:
                directives.append(f"stale-while-revalidate={stale}")
                directives.append(f"stale-if-error={stale * 10}")
            response.headers["Cache-Control"] = ", ".join(directives)
        response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
        response.make_conditional(request)
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def paging() -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (1 to 100) from the query string; 400 if malformed."""
    page = _positive("page", 1)
    per_page = _positive("per_page", 25)
    if page > MAX_PAGE:
        raise ApiError(400, f"page must be at most {MAX_PAGE}.")
    if per_page > MAX_PER_PAGE:
        raise ApiError(400, f"per_page must be at most {MAX_PER_PAGE}.")
    return page, per_page


def _positive(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        raise ApiError(400, f"{name} must be a whole number from 1.")
    return int(raw)


def not_found(what: str = "That resource") -> ApiError:
    return ApiError(404, f"{what} was not found.")


def require_json_object(max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, or a clear 4xx."""
    if request.mimetype not in (JSON, HAL_JSON):
        raise ApiError(415, "Send the body as application/json.")
    length = request.content_length
    if length is not None and length > max_bytes:
        raise ApiError(413, f"The body must be at most {max_bytes} bytes.")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ApiError(413, f"The body must be at most {max_bytes} bytes.")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return payload
