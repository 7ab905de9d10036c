"""Rate limits per API key and per address: 429 with Retry-After and a message, in both APIs."""

from __future__ import annotations

import pytest

from accounts.throttling import parse_rate

pytestmark = pytest.mark.django_db


def test_key_limit_answers_429_with_retry_after_and_spares_other_keys(api, make_key, reviewer, fresh_throttle):
    fresh_throttle.API_RATE_LIMITS = {"key": "3/minute", "address": None}
    first, second = make_key(reviewer), make_key(reviewer, name="other")
    for _ in range(3):
        assert api("get", "/api/v1/me", first).status_code == 200
    response = api("get", "/api/v1/me", first)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["error"] == "throttled" and "this API key" in body["detail"] and "retry after" in body["detail"]
    assert api("get", "/api/v1/me", second).status_code == 200


def test_address_limit_counts_each_address_separately(client, fresh_throttle):
    fresh_throttle.API_RATE_LIMITS = {"key": None, "address": "2/minute"}
    for _ in range(2):
        assert client.get("/api/v1/me", REMOTE_ADDR="192.0.2.1").status_code == 200
    response = client.get("/api/v1/me", REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 429 and "your address" in response.json()["detail"]
    assert client.get("/api/v1/me", REMOTE_ADDR="192.0.2.2").status_code == 200


def test_bugzilla_api_is_limited_too_in_bugzillas_error_shape(client, fresh_throttle):
    fresh_throttle.API_RATE_LIMITS = {"key": None, "address": "1/minute"}
    assert client.get("/rest/version").status_code == 200
    response = client.get("/rest/version")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["error"] is True and isinstance(body["code"], int) and "Rate limit" in body["message"]


def test_rates_are_read_strictly():
    assert parse_rate("300/minute").count == 300 and parse_rate("300/minute").seconds == 60
    assert parse_rate("") is None
    for bad in ("fast", "10/fortnight", "0/hour", "-1/day"):
        with pytest.raises(ValueError):
            parse_rate(bad)
