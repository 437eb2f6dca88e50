"""Schemathesis over every operation of /api/openapi.json, through the app's WSGI interface.

A bounded number of generated examples per operation, positive (valid per the document) and
negative (invalid), must never produce a 500, and every response must match the status
codes, content types, headers and schemas the document declares. Hypothesis is driven
directly (not through schemathesis' pytest plugin) so the app fixture can be used.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import positive_data_acceptance

from petitions.extensions import db

EXAMPLES = 12


@pytest.fixture
def seeded(app: Flask) -> None:
    """Something real to find, so not every generated request is a 404."""
    from tests.support import factories

    with app.app_context():
        campaign = factories.make_campaign(slug="demo")
        factories.make_action(campaign, slug="sign")
        from tests.gatherings.conftest import make_event

        make_event(campaign, title="Meet up", postcode="SW1A 1AA")
        db.session.commit()
        db.session.remove()


def _excluded(operation: Any) -> list[Any]:
    """The helpers that record a signature, letter or RSVP check their fields as the web form
    does (a real UK postcode, a deliverable address, the action's own questions): JSON Schema
    cannot say that, so a schema-valid body may rightly get the documented 422. Every other
    check (status codes, content types, headers, response schemas, no 5xx) still applies."""
    responses = operation.definition.raw.get("responses", {})
    return (
        [positive_data_acceptance]
        if operation.method.upper() == "POST" and "422" in responses
        else []
    )


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_document_covers_every_api_route(app: Flask) -> None:
    documented = set(app.test_client().get("/api/openapi.json").get_json()["paths"])
    routes = {
        rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
    }
    assert routes == documented, (routes - documented, documented - routes)


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_api_conforms_to_its_openapi_document(app: Flask, seeded: None, mode: Any) -> None:
    operations = _operations(app)
    assert len(operations) >= 13
    for operation in operations:
        excluded = _excluded(operation)

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(excluded_checks=excluded)  # noqa: B023 (run at once, below)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters or body): the positive run covers it.
            assert mode is schemathesis.GenerationMode.NEGATIVE


def test_document_is_generated_from_the_schema_classes(app: Flask) -> None:
    from pydantic.json_schema import models_json_schema

    from petitions.api import schemas

    document = app.test_client().get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    components = document["components"]["schemas"]
    _, expected = models_json_schema(
        [
            (schemas.OsdiSignature, "serialization"),
            (schemas.ActionDetail, "serialization"),
            (schemas.OsdiRecordSignature, "validation"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    for name, schema in expected["$defs"].items():
        assert components[name] == schema, name
    helper = document["paths"]["/api/osdi/v1/petitions/{petition_id}/signatures"]["post"]
    body = helper["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/OsdiRecordSignature"}
    paging = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/actions"]["get"]["parameters"]
    }
    assert paging["per_page"]["maximum"] == schemas.MAX_PER_PAGE


def test_no_api_module_commits() -> None:
    """The unit of work commits once per request; API modules only flush."""
    from pathlib import Path

    import petitions.api

    package = Path(petitions.api.__file__).parent
    offenders = [p.name for p in package.glob("*.py") if ".commit(" in p.read_text()]
    assert offenders == []
