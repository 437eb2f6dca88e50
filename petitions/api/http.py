"""HTTP details shared by the API views: JSON bodies, caching, ETags, CORS, paging, errors."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from flask import Response, current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from petitions.api import schemas

JSON = "application/json"
HAL_JSON = "application/hal+json"
M = TypeVar("M", bound=BaseModel)


class ApiError(HTTPException):
    """A 4xx with a JSON body naming what was wrong (and, for 422, which fields)."""

    def __init__(self, code: int, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(description=str(message))
        self.code = code
        # Form messages may be lazy translations: made into text in the request's language.
        self.errors = {
            field: [str(m) for m in messages] for field, messages in (errors or {}).items()
        }

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:  # type: ignore[override]
        body = schemas.Error(
            error=self.description or "", status=self.code or 400, errors=self.errors or None
        )
        return json_response(body, self.code or 400)


def dumps(payload: Any) -> bytes:
    """Compact UTF-8 JSON; a schema object is serialised by its class."""
    if isinstance(payload, BaseModel):
        return payload.model_dump_json().encode("utf-8")
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
    """``page`` and ``per_page`` from the query string (``schemas.PageQuery``); 400 if malformed."""
    raw = {
        name: request.args[name] for name in schemas.PageQuery.model_fields if name in request.args
    }
    try:
        query = schemas.PageQuery.model_validate(raw)
    except ValidationError as error:
        errors = field_errors(error)
        first = next(iter(errors.items()))
        raise ApiError(400, f"{first[0]}: {first[1][0]}.", errors) from None
    return query.page, query.per_page


def not_found(what: str = "That resource") -> ApiError:
    return ApiError(404, f"{what} was not found.")


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """Pydantic's errors by dotted path (``person.email_addresses.0.address``)."""
    errors: dict[str, list[str]] = {}
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        errors.setdefault(path, []).append(item["msg"])
    return errors


_RAW_BODY = "petitions.api.raw_body"


def json_body(
    model: type[M], max_bytes: int, invalid: str = "The request body did not validate."
) -> M:
    """The request body validated against ``model``, or a 4xx that says what is wrong.

    415 unless the body is JSON, 413 past ``max_bytes``, 400 when it is not JSON (invalid
    UTF-8, nested past the parser's limit, numbers out of range) or not an object, 422 with
    ``errors`` by field path when members have the wrong type or are missing.
    """
    if request.mimetype not in (JSON, HAL_JSON):
        raise ApiError(415, "Send the body as application/json.")
    length = request.content_length
    if length is not None and length > max_bytes:
        raise ApiError(413, f"The body must be at most {max_bytes} bytes.")
    # Kept with the request: a unit of work run again after a lost database connection
    # (``retry_on_disconnect``) reads the same body, not an exhausted stream.
    raw = request.environ.get(_RAW_BODY)
    if raw is None:
        raw = request.environ[_RAW_BODY] = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ApiError(413, f"The body must be at most {max_bytes} bytes.")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        problems = error.errors(include_url=False, include_input=False)
        for item in problems:
            if item["type"] == "json_invalid":
                detail = item["msg"].removeprefix("Invalid JSON: ")
                raise ApiError(400, f"The body is not valid JSON: {detail}.") from None
            if not item["loc"]:
                raise ApiError(400, "The body must be a JSON object.") from None
        raise ApiError(422, invalid, field_errors(error)) from None
