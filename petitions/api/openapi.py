"""The OpenAPI 3.1 document at /api/openapi.json, generated — never written by hand.

* **Schemas** come from the pydantic classes in ``schemas.py`` (their JSON Schema, draft
  2020-12, is what OpenAPI 3.1 uses), collected into ``components/schemas``.
* **Operations** are declared on the views themselves with :func:`operation` (summary, the
  schema of each status code, the query model, the body model, security); paths and path
  parameters come from the Flask URL map, so a route cannot exist undocumented
  (``tests/api/test_schemathesis.py`` checks that, then runs schemathesis over the document).
* **apispec** (the marshmallow project's OpenAPI builder) assembles and checks the document;
  no marshmallow is involved.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from flask import Blueprint, Response, current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from petitions.api import links, schemas
from petitions.api.http import HAL_JSON, JSON, json_response

bp = Blueprint("openapi", __name__)

OPENAPI_PATH = "/api/openapi.json"
TOKEN_HEADER = "OSDI-API-Token"  # noqa: S105 - a header name
F = TypeVar("F", bound=Callable[..., Any])
_REF = "#/components/schemas/{model}"
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Reply:
    """One status code of an operation: its description and, if it has a body, its schema."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    media: str = JSON
    cached: bool = False  # ETag and Cache-Control headers (and so 304s)
    alternatives: tuple[type[BaseModel], ...] = ()  # a body that is one of several shapes
    any_object: bool = False  # a JSON object of no declared shape (this document)


def ok(model: type[BaseModel], media: str = JSON, *, cached: bool = True) -> Reply:
    return Reply(200, "OK", model, media, cached)


def error(status: int, description: str) -> Reply:
    return Reply(status, description, schemas.Error)


NOT_MODIFIED = Reply(304, "Not modified (the If-None-Match ETag still matches).")
BAD_PAGING = error(400, "Malformed paging parameters.")
TOKEN_REQUIRED: list[dict[str, list[str]]] = [{"osdiToken": []}]
TOKEN_OPTIONAL: list[dict[str, list[str]]] = [{}, {"osdiToken": []}]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    replies: Sequence[Reply]
    description: str = ""
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_media: tuple[str, ...] = (JSON, HAL_JSON)
    security: list[dict[str, list[str]]] | None = None
    id_limits: dict[str, int] = field(default_factory=dict)


def operation(**declared: Any) -> Callable[[F], F]:
    """Declare a view's operation for the document (see :class:`Operation` for the fields)."""
    spec = Operation(**declared)

    def mark(view: F) -> F:
        view.openapi_operation = spec  # type: ignore[attr-defined]
        return view

    return mark


# --- generation -------------------------------------------------------------------------------

_HEADERS = {
    "ETag": {"schema": {"type": "string"}, "description": "Send back in If-None-Match for a 304."},
    "Cache-Control": {"schema": {"type": "string"}},
}


def _reply(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    schema: dict[str, Any] | None = None
    if reply.alternatives:
        schema = {"oneOf": [{"$ref": _REF.format(model=m.__name__)} for m in reply.alternatives]}
    elif reply.model is not None:
        schema = {"$ref": _REF.format(model=reply.model.__name__)}
    elif reply.any_object:
        schema = {"type": "object"}
    if schema is not None:
        out["content"] = {reply.media: {"schema": schema}}
    if reply.cached:
        out["headers"] = _HEADERS
    return out


def _path_parameters(rule: str, limits: dict[str, int]) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for match in _ARGUMENT.finditer(rule):
        name = match["name"]
        schema: dict[str, Any] = {"type": "string"}
        if match["converter"] == "int":
            schema = {"type": "integer", "minimum": 1}
            if name in limits:
                schema["maximum"] = limits[name]
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _ARGUMENT.sub(r"{\g<name>}", rule), parameters


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _operation_dict(op: Operation, path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        out["description"] = op.description
    parameters = path_parameters + (_query_parameters(op.query) if op.query else [])
    if parameters:
        out["parameters"] = parameters
    if op.security is not None:
        out["security"] = op.security
    if op.body is not None:
        ref = {"$ref": _REF.format(model=op.body.__name__)}
        out["requestBody"] = {
            "required": True,
            "content": {media: {"schema": ref} for media in op.body_media},
        }
    out["responses"] = {str(r.status): _reply(r) for r in op.replies}
    return out


def _operations() -> list[tuple[str, str, Operation, list[dict[str, Any]]]]:
    found = []
    for rule in current_app.url_map.iter_rules():
        op = getattr(current_app.view_functions[rule.endpoint], "openapi_operation", None)
        if op is None:
            continue
        path, parameters = _path_parameters(rule.rule, op.id_limits)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), op, parameters))
    return found


def _components(operations: list[Operation]) -> dict[str, Any]:
    models: dict[type[BaseModel], str] = {schemas.Error: "serialization"}
    for op in operations:
        if op.body is not None:
            models[op.body] = "validation"
        for reply in op.replies:
            for model in (reply.model, *reply.alternatives):
                if model is not None:
                    models.setdefault(model, "serialization")
    return _json_schemas(tuple(models.items()))


@functools.lru_cache(maxsize=4)
def _json_schemas(models: tuple[tuple[type[BaseModel], str], ...]) -> dict[str, Any]:
    """The classes' JSON Schemas as components (cached: they are fixed at import)."""
    _, top = models_json_schema(models, ref_template=_REF)  # type: ignore[arg-type]
    return dict(sorted(top.get("$defs", {}).items()))


def document() -> dict[str, Any]:
    operations = _operations()
    spec = APISpec(
        title="Petitions API",
        version="1.0.0",
        openapi_version="3.1.0",
        info={
            "description": (
                "Public read API (no key, cacheable, CORS open) and the petition part of the "
                "Open Supporter Data Interface (OSDI) in HAL+JSON. Generated from the schema "
                "classes in petitions/api/schemas.py; see docs/api.md."
            )
        },
        servers=[{"url": links.base_url()}],
    )
    components = copy.deepcopy(_components([op for _, _, op, _ in operations]))
    for name, schema in components.items():
        spec.components.schema(name, schema)
    spec.components.security_scheme(
        "osdiToken", {"type": "apiKey", "in": "header", "name": TOKEN_HEADER}
    )
    by_path: dict[str, dict[str, Any]] = {}
    for path, method, op, parameters in operations:
        by_path.setdefault(path, {})[method] = _operation_dict(op, parameters)
    for path in sorted(by_path):
        spec.path(path=path, operations=by_path[path])
    return spec.to_dict()


@bp.get(OPENAPI_PATH)
@operation(
    operation_id="openapi",
    summary="This document",
    replies=[Reply(200, "OK", any_object=True)],
)
def openapi_json() -> Response:
    response = json_response(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
