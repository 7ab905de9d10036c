"""Every /api/v1/ error is JSON `{"error", "detail"}` with a message that says what to fix."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"error", "detail"} and body["detail"], body
    if code:
        assert body["error"] == code, body
    return body


def test_unknown_api_url_is_a_json_404_pointing_to_the_docs(client):
    body = assert_error(client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert "/api/v1/docs/" in body["detail"]


def test_missing_object_is_a_json_404(client, incidents):
    body = assert_error(client.get("/api/v1/incidents/999999/"), 404, "not_found")
    assert "999999" in body["detail"] or "id" in body["detail"]


def test_security_sensitive_incident_is_a_404_to_others(client, incidents):
    assert_error(client.get(f"/api/v1/incidents/{incidents['secret_a'].number}/"), 404)


def test_writing_without_credentials_is_401_naming_the_token_scheme(client, incidents):
    response = client.post(
        f"/api/v1/incidents/{incidents['public_a'].number}/comments/", {"body": "hi"}, content_type="application/json"
    )
    body = assert_error(response, 401)
    assert "Authorization: Token" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


def test_signed_in_but_not_permitted_is_403(api, make_key, reviewer, incidents):
    """A community reviewer may not triage: PATCH on an incident is staff's."""
    response = api(
        "patch", f"/api/v1/incidents/{incidents['public_a'].number}/", make_key(reviewer),
        data={"status": "RESOLVED", "resolution": "FIXED"}, content_type="application/json",
    )
    assert_error(response, 403)
    incidents["public_a"].refresh_from_db()
    assert incidents["public_a"].status != "RESOLVED"


def test_method_not_allowed_names_the_allowed_methods(client):
    body = assert_error(client.delete("/api/v1/me"), 405, "method_not_allowed")
    assert "GET" in body["detail"] and "DELETE" in body["detail"]


def test_malformed_page_and_filters_are_400s_that_say_what_to_fix(client, incidents):
    body = assert_error(client.get("/api/v1/incidents/?page=abc"), 400, "invalid")
    assert "'page' must be a positive integer" in body["detail"]
    body = assert_error(client.get("/api/v1/incidents/?ca=acme"), 400)
    assert "'ca' must be an integer" in body["detail"]
    body = assert_error(client.get("/api/v1/incidents/?status=SLEEPING"), 400)
    assert "one of" in body["detail"]


def test_unknown_ordering_field_is_a_400_listing_the_allowed_ones(client, owner_a):
    body = assert_error(client.get("/api/v1/cas/?ordering=secret_field"), 400)
    assert "name" in body["detail"] and "secret_field" in body["detail"]
    assert client.get("/api/v1/cas/?ordering=-name").status_code == 200


def test_malformed_json_body_is_a_400_parse_error(api, make_key, reviewer, incidents):
    response = api(
        "post", f"/api/v1/incidents/{incidents['public_a'].number}/comments/", make_key(reviewer),
        data="{not json", content_type="application/json",
    )
    body = assert_error(response, 400, "parse_error")
    assert "JSON" in body["detail"]


def test_list_is_paged_with_a_count_and_utc_times(client, incidents):
    body = client.get("/api/v1/incidents/?page_size=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]
    row = body["results"][0]
    times = [v for k, v in row.items() if k.endswith("_at") and v]
    assert times and all(t.endswith("Z") and "T" in t for t in times)
