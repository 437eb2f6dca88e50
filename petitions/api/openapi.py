"""The OpenAPI 3 document for every API endpoint, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from petitions.api import links
from petitions.api.http import json_response

bp = Blueprint("openapi", __name__)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


STR = {"type": "string"}
INT = {"type": "integer"}
LINK = {"type": "object", "required": ["href"], "properties": {"href": STR}}
COUNT_ROW = {"type": "integer", "minimum": 0}


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


def _ok(schema: dict[str, Any], media: str = "application/json", cached: bool = True):
    response: dict[str, Any] = {"description": "OK", **_json(schema, media)}
    if cached:
        response["headers"] = {
            "ETag": {"schema": STR, "description": "Send back in If-None-Match for a 304."},
            "Cache-Control": {"schema": STR},
        }
    return response


NOT_MODIFIED = {"description": "Not modified (the If-None-Match ETag still matches)."}
PAGE_PARAMS = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
    },
    {
        "name": "per_page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
    },
]
SLUGS = [
    {"name": "slug", "in": "path", "required": True, "schema": STR},
    {"name": "action_slug", "in": "path", "required": True, "schema": STR},
]
TOKEN: list[dict[str, list[str]]] = [{"osdiToken": []}]


def _id_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    }


def _paged(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", "page", "per_page", "total", "pages", "links"],
        "properties": {
            "data": {"type": "array", "items": _ref(item)},
            "page": INT,
            "per_page": INT,
            "total": INT,
            "pages": INT,
            "links": _ref("PageLinks"),
        },
    }


def _osdi_collection(name: str, item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["total_pages", "per_page", "page", "total_records", "_links", "_embedded"],
        "properties": {
            "total_pages": INT,
            "per_page": INT,
            "page": INT,
            "total_records": INT,
            "_links": {
                "type": "object",
                "required": ["self"],
                "properties": {"self": LINK, "next": LINK, "prev": LINK},
            },
            "_embedded": {
                "type": "object",
                "required": [f"osdi:{name}"],
                "properties": {f"osdi:{name}": {"type": "array", "items": _ref(item)}},
            },
        },
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "status"],
        "properties": {
            "error": STR,
            "status": INT,
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": STR},
            },
        },
    },
    "PageLinks": {
        "type": "object",
        "required": ["self", "first", "last", "next", "prev"],
        "properties": {
            "self": STR,
            "first": STR,
            "last": STR,
            "next": _nullable(STR),
            "prev": _nullable(STR),
        },
    },
    "Action": {
        "type": "object",
        "required": ["id", "slug", "campaign", "kind", "title", "goal", "state", "confirmed"],
        "properties": {
            "id": INT,
            "slug": STR,
            "campaign": STR,
            "kind": {"type": "string", "enum": ["petition", "pledge"]},
            "title": STR,
            "text": STR,
            "target": _nullable(STR),
            "goal": INT,
            "deadline": _nullable({"type": "string", "format": "date"}),
            "state": {"type": "string", "enum": ["open", "closed"]},
            "confirmed": COUNT_ROW,
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "links": {"type": "object", "additionalProperties": STR},
        },
    },
    "Breakdowns": {
        "type": "object",
        "required": ["by_country", "by_postcode_area", "by_day", "by_source", "by_referrer"],
        "properties": {
            key: {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [field, "count"],
                    "properties": {field: STR, "count": COUNT_ROW},
                },
            }
            for key, field in (
                ("by_country", "country"),
                ("by_postcode_area", "area"),
                ("by_day", "day"),
                ("by_source", "source"),
                ("by_referrer", "site"),
            )
        },
    },
    "ActionDetail": {
        "allOf": [
            _ref("Action"),
            {
                "type": "object",
                "required": ["breakdowns"],
                "properties": {"breakdowns": _ref("Breakdowns")},
            },
        ]
    },
    "Campaign": {
        "type": "object",
        "required": ["slug", "title", "state", "actions", "links"],
        "properties": {
            "slug": STR,
            "title": STR,
            "summary": STR,
            "body": STR,
            "image_url": _nullable(STR),
            "state": {"type": "string", "enum": ["live", "closed"]},
            "published_at": _nullable({"type": "string", "format": "date-time"}),
            "actions": {"type": "array", "items": _ref("Action")},
            "links": {"type": "object", "additionalProperties": STR},
        },
    },
    "Count": {
        "type": "object",
        "required": ["action", "confirmed", "goal", "percent", "state"],
        "properties": {
            "action": INT,
            "confirmed": COUNT_ROW,
            "goal": INT,
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "state": {"type": "string", "enum": ["open", "closed"]},
            "updated_at": _nullable(STR),
        },
    },
    "OsdiEntryPoint": {
        "type": "object",
        "required": ["osdi_version", "_links"],
        "properties": {
            "motd": STR,
            "vendor_name": STR,
            "product_name": STR,
            "osdi_version": STR,
            "max_pagesize": INT,
            "namespace": STR,
            "_links": {"type": "object"},
        },
    },
    "OsdiPetition": {
        "type": "object",
        "required": [
            "identifiers",
            "origin_system",
            "title",
            "total_signatures",
            "browser_url",
            "_links",
        ],
        "properties": {
            "identifiers": {"type": "array", "items": STR},
            "origin_system": STR,
            "created_date": STR,
            "modified_date": STR,
            "name": STR,
            "title": STR,
            "description": STR,
            "petition_text": STR,
            "target": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": STR}},
            },
            "total_signatures": COUNT_ROW,
            "browser_url": STR,
            "featured_image_url": _nullable(STR),
            "petitions:kind": {"type": "string", "enum": ["petition", "pledge"]},
            "petitions:goal": INT,
            "petitions:end_date": _nullable(STR),
            "petitions:state": {"type": "string", "enum": ["open", "closed"]},
            "petitions:campaign": STR,
            "petitions:pledge_options": {"type": "array", "items": STR},
            "_links": {
                "type": "object",
                "required": ["self", "osdi:signatures", "osdi:record_signature_helper"],
                "properties": {
                    "self": LINK,
                    "osdi:signatures": LINK,
                    "osdi:record_signature_helper": LINK,
                },
            },
        },
    },
    "OsdiPerson": {
        "type": "object",
        "properties": {
            "given_name": STR,
            "family_name": STR,
            "email_addresses": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["address"],
                    "properties": {
                        "address": STR,
                        "primary": {"type": "boolean"},
                        "status": STR,
                    },
                },
            },
            "postal_addresses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "postal_code": STR,
                        "country": STR,
                        "primary": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "OsdiSignature": {
        "type": "object",
        "required": ["identifiers", "origin_system", "created_date", "_links", "_embedded"],
        "properties": {
            "identifiers": {"type": "array", "items": STR},
            "origin_system": STR,
            "created_date": STR,
            "modified_date": STR,
            "comments": STR,
            "referrer_data": {
                "type": "object",
                "properties": {"source": STR, "website": STR},
            },
            "petitions:status": {
                "type": "string",
                "enum": ["pending", "confirmed", "withdrawn", "invalidated"],
            },
            "petitions:confirmed_date": _nullable(STR),
            "petitions:pledge_option": _nullable(STR),
            "_embedded": {
                "type": "object",
                "properties": {"osdi:person": _ref("OsdiPerson")},
            },
            "_links": {
                "type": "object",
                "required": ["self", "osdi:petition"],
                "properties": {"self": LINK, "osdi:petition": LINK},
            },
        },
    },
    "OsdiRecordSignature": {
        "type": "object",
        "required": ["person"],
        "properties": {
            "person": _ref("OsdiPerson"),
            "comments": STR,
            "referrer_data": {
                "type": "object",
                "properties": {"source": STR, "website": STR},
            },
            "triggers": {
                "type": "object",
                "properties": {
                    "autoresponse": {
                        "type": "object",
                        "properties": {"enabled": {"type": "boolean"}},
                    }
                },
            },
            "petitions:pledge_option": STR,
        },
    },
    "OsdiSignatureAccepted": {
        "type": "object",
        "required": ["petitions:status", "_links"],
        "properties": {
            "petitions:status": {"type": "string", "enum": ["pending_confirmation"]},
            "message": STR,
            "_links": {"type": "object"},
        },
    },
}


def document() -> dict[str, Any]:
    hal = "application/hal+json"
    osdi_errors = {
        "400": _error("Malformed paging parameters."),
        "401": _error("Missing or invalid OSDI-API-Token."),
        "404": _error("Not found, or not one of this token's campaigns."),
    }
    paths: dict[str, Any] = {
        "/api/v1/": {
            "get": {
                "operationId": "apiIndex",
                "summary": "Links to the API's collections",
                "responses": {"200": _ok({"type": "object"}), "304": NOT_MODIFIED},
            }
        },
        "/api/v1/campaigns": {
            "get": {
                "operationId": "listCampaigns",
                "summary": "Public campaigns with their actions and confirmed counts",
                "parameters": PAGE_PARAMS,
                "responses": {
                    "200": _ok(_paged("Campaign")),
                    "304": NOT_MODIFIED,
                    "400": _error("Malformed paging parameters."),
                },
            }
        },
        "/api/v1/campaigns/{slug}": {
            "get": {
                "operationId": "getCampaign",
                "summary": "One public campaign",
                "parameters": SLUGS[:1],
                "responses": {
                    "200": _ok(_ref("Campaign")),
                    "304": NOT_MODIFIED,
                    "404": _error("No public campaign with this slug."),
                },
            }
        },
        "/api/v1/actions": {
            "get": {
                "operationId": "listActions",
                "summary": "Public actions (petitions and pledges), newest first",
                "parameters": PAGE_PARAMS,
                "responses": {
                    "200": _ok(_paged("Action")),
                    "304": NOT_MODIFIED,
                    "400": _error("Malformed paging parameters."),
                },
            }
        },
        "/api/v1/campaigns/{slug}/actions/{action_slug}": {
            "get": {
                "operationId": "getAction",
                "summary": "One action with confirmed counts by country, area, day, source, site",
                "parameters": SLUGS,
                "responses": {
                    "200": _ok(_ref("ActionDetail")),
                    "304": NOT_MODIFIED,
                    "404": _error("No public action here."),
                },
            }
        },
        "/api/v1/campaigns/{slug}/actions/{action_slug}/count": {
            "get": {
                "operationId": "getActionCount",
                "summary": "The confirmed count alone, for counters that poll",
                "parameters": SLUGS,
                "responses": {
                    "200": _ok(_ref("Count")),
                    "304": NOT_MODIFIED,
                    "404": _error("No public action here."),
                },
            }
        },
        "/api/osdi/v1/": {
            "get": {
                "operationId": "osdiEntryPoint",
                "summary": "OSDI API entry point",
                "responses": {"200": _ok(_ref("OsdiEntryPoint"), hal), "304": NOT_MODIFIED},
            }
        },
        "/api/osdi/v1/petitions": {
            "get": {
                "operationId": "osdiListPetitions",
                "summary": "Petitions and pledges as OSDI petitions",
                "parameters": PAGE_PARAMS,
                "responses": {
                    "200": _ok(_osdi_collection("petitions", "OsdiPetition"), hal),
                    "304": NOT_MODIFIED,
                    "400": _error("Malformed paging parameters."),
                },
            }
        },
        "/api/osdi/v1/petitions/{petition_id}": {
            "get": {
                "operationId": "osdiGetPetition",
                "parameters": [_id_param("petition_id")],
                "responses": {
                    "200": _ok(_ref("OsdiPetition"), hal),
                    "304": NOT_MODIFIED,
                    "404": _error("No public petition with this id."),
                },
            }
        },
        "/api/osdi/v1/petitions/{petition_id}/signatures": {
            "get": {
                "operationId": "osdiListPetitionSignatures",
                "summary": "Signatures of one of the token's own petitions",
                "security": TOKEN,
                "parameters": [_id_param("petition_id"), *PAGE_PARAMS],
                "responses": {
                    "200": _ok(_osdi_collection("signatures", "OsdiSignature"), hal, False),
                    **osdi_errors,
                },
            },
            "post": {
                "operationId": "osdiRecordSignature",
                "summary": "Record signature helper",
                "description": (
                    "Records a signature exactly as the web form does: same validation, "
                    "deduplication per email address, double opt-in (a confirmation email is "
                    "always sent; the signature counts once confirmed) and rate limits. "
                    "Without a token (or with another organiser's) the answer is the same "
                    "whether or not the person had signed before."
                ),
                "security": [{}, {"osdiToken": []}],
                "parameters": [_id_param("petition_id")],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref("OsdiRecordSignature")},
                        hal: {"schema": _ref("OsdiRecordSignature")},
                    },
                },
                "responses": {
                    "200": {
                        "description": "Recorded (pending email confirmation)",
                        "content": {
                            hal: {
                                "schema": {
                                    "oneOf": [
                                        _ref("OsdiSignatureAccepted"),
                                        _ref("OsdiSignature"),
                                    ]
                                }
                            }
                        },
                    },
                    "400": _error("The body is not a JSON object."),
                    "401": _error("An OSDI-API-Token was sent but is not valid."),
                    "404": _error("No public petition with this id."),
                    "409": _error("The petition is closed."),
                    "413": _error("The body is too large."),
                    "415": _error("The body is not application/json."),
                    "422": _error("The fields did not validate; errors names them."),
                    "429": _error("Too many signatures from this address; try later."),
                },
            },
        },
        "/api/osdi/v1/signatures": {
            "get": {
                "operationId": "osdiListSignatures",
                "summary": "Signatures of all the token's campaigns",
                "security": TOKEN,
                "parameters": PAGE_PARAMS,
                "responses": {
                    "200": _ok(_osdi_collection("signatures", "OsdiSignature"), hal, False),
                    **osdi_errors,
                },
            }
        },
        "/api/osdi/v1/signatures/{signature_id}": {
            "get": {
                "operationId": "osdiGetSignature",
                "security": TOKEN,
                "parameters": [
                    {
                        "name": "signature_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {"200": _ok(_ref("OsdiSignature"), hal, False), **osdi_errors},
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _ok({"type": "object"}, cached=False)},
            }
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Petitions API",
            "version": "1.0.0",
            "description": (
                "Public read API (no key, cacheable, CORS open) and the petition part of the "
                "Open Supporter Data Interface (OSDI) in HAL+JSON. See docs/api.md."
            ),
        },
        "servers": [{"url": links.base_url()}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "osdiToken": {"type": "apiKey", "in": "header", "name": "OSDI-API-Token"}
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    response = json_response(document())
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
