"""The OpenAPI schema at /api/v1/schema/ matches what the API does.

schemathesis generates requests for every operation in the served schema (every endpoint of
every app, all methods) and sends them through the WSGI application, authenticated as staff
(the widest view) and, separately, anonymously. Each response must not be a 5xx, must have a
documented status and content type, and its body must validate against the schema.
A second test calls every GET operation with ids of objects that exist, so the detail
responses are validated on real data too.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import api_keys
from registry.actions import certificates_import
from tests.domain import certgen

CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@pytest.fixture
def api_schema(db, settings):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis's WSGI client's host
    # As Django's test client does: a request must not close the test's database connection
    # (on PostgreSQL that would end the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.from_wsgi("/api/v1/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.from_pytest_fixture("api_schema")


@pytest.fixture
def world(db, staff, rep_a, owner_a, owner_b):
    from compliance.actions import incidents as act

    public = act.incident_create(actor=None, ca_owner=owner_a, title="Public", description="d", whiteboard="[ca-compliance]")
    act.incident_create(actor=None, ca_owner=owner_b, title="Secret", description="d", security_sensitive=True)
    question = act.question_ask(actor=staff, incident=public, body="Why?")
    # A certificate no CA owner claims yet (`owner: null`), beside one that has an owner.
    orphan, owned = certgen.root("Unclaimed Root"), certgen.root("Acme Root R1")
    certificates_import(actor=None, items=[(orphan.der, "orphan")])
    certificates_import(actor=None, items=[(owned.der, "owned")], owner=owner_a)
    return {
        "staff_key": api_keys.api_key_create(actor=staff, name="schemathesis").plain,
        "number": public.number,
        "owner": owner_a.pk,
        "question": question.pk,
        "sha256": orphan.parsed().sha256,
    }


FUZZ = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@FUZZ
def test_every_operation_as_staff_no_5xx_and_conforming(case, world):
    response = case.call_wsgi(headers={"Authorization": f"Token {world['staff_key']}"})
    case.validate_response(response, checks=CHECKS)


@schema.parametrize(method="GET")
@FUZZ
def test_every_read_operation_anonymously_no_5xx_and_conforming(case, world):
    response = case.call_wsgi()
    case.validate_response(response, checks=CHECKS)


@pytest.mark.django_db
def test_every_get_operation_on_existing_objects_conforms(api_schema, world):
    """Detail endpoints answered with real objects (random ids mostly meet 404s)."""
    values = {"number": world["number"], "question_id": world["question"], "sha256": world["sha256"]}
    called = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        names = re.findall(r"{(\w+)}", operation.path)
        params = {}
        for name in names:
            if name in values:
                params[name] = values[name]
            elif name == "id" and operation.path.startswith("/api/v1/cas/"):
                params[name] = world["owner"]
        if len(params) != len(names):
            continue
        case = operation.make_case(path_parameters=params)
        response = case.call_wsgi(headers={"Authorization": f"Token {world['staff_key']}"})
        case.validate_response(response, checks=CHECKS)
        assert response.status_code == 200, (operation.path, response.data[:300])
        called += 1
    assert called >= 8


@pytest.mark.django_db
def test_schema_documents_the_token_scheme_and_the_error_body(client):
    spec = client.get("/api/v1/schema/?format=json").json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["apiKey"]["name"] == "Authorization"
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"error", "detail"}
    me = spec["paths"]["/api/v1/me"]["get"]
    assert {"401", "429"} <= set(me["responses"])
