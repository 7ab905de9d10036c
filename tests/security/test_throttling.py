"""Rate limits and throttles a client cannot talk its way around: failed sign-ins per account and per
address (the right password is refused while paused), password reset requests, feeds and the CSV
export under the API's limits, and a client address that a forged X-Forwarded-For cannot change."""

from __future__ import annotations

import time

import pytest
from django.core import mail
from django.test import Client

from accounts import throttling
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PUBLIC = "203.0.113.9"  # not one of TRUSTED_PROXIES: a client reaching the app directly
PROXY = "10.0.0.2"  # the deployment's own proxy


def _sign_in(username, password, address=PUBLIC):
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return client, response


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_forty_wrong_passwords_then_the_right_one_is_refused_while_paused(fresh_counts, reviewer):
    for attempt in range(40):
        _, response = _sign_in("reviewer", f"guess {attempt}")
        assert response.status_code in (200, 429)
    client, response = _sign_in("reviewer", PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins" in response.content.decode() and "even with the right password" in response.content.decode()
    assert not _signed_in(client)


def test_the_eleventh_attempt_is_refused_and_the_typed_name_is_kept(fresh_counts, reviewer):
    for attempt in range(10):
        _, response = _sign_in("reviewer", f"guess {attempt}")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    client, response = _sign_in("reviewer", PASSWORD)
    assert response.status_code == 429 and not _signed_in(client)
    assert 'value="reviewer"' in response.content.decode()


def test_the_pause_is_per_account_from_any_address_and_per_address_for_any_account(fresh_counts, reviewer, staff):
    for attempt in range(10):
        _sign_in("reviewer", f"guess {attempt}", address=f"198.51.100.{attempt + 1}")
    # The account is paused whatever address the right password comes from.
    client, response = _sign_in("reviewer", PASSWORD, address="198.51.100.200")
    assert response.status_code == 429 and not _signed_in(client)
    # One address guessing across many accounts pauses that address, for every account.
    for attempt in range(10):
        _sign_in(f"nobody{attempt}", "x", address="192.0.2.77")
    client, response = _sign_in("staff", PASSWORD, address="192.0.2.77")
    assert response.status_code == 429 and not _signed_in(client)
    # Others are unaffected.
    client, response = _sign_in("staff", PASSWORD, address="192.0.2.78")
    assert response.status_code == 302 and _signed_in(client)


def test_the_admin_sign_in_is_paused_too(fresh_counts, staff):
    for attempt in range(10):
        _sign_in("staff", f"guess {attempt}")
    client = Client(REMOTE_ADDR=PUBLIC)
    response = client.post("/admin/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 200 and not _signed_in(client)


def test_after_the_window_the_right_password_signs_in_again(fresh_counts, reviewer):
    fresh_counts.SIGNIN_MAX_FAILURES, fresh_counts.SIGNIN_WINDOW_SECONDS = 3, 4
    for attempt in range(3):
        _sign_in("reviewer", f"guess {attempt}")
    refused = _sign_in("reviewer", PASSWORD)[1]
    assert refused.status_code == 429
    time.sleep(int(refused["Retry-After"]) + 0.2)
    client, response = _sign_in("reviewer", PASSWORD)
    assert response.status_code == 302 and _signed_in(client)


def test_a_right_password_below_the_limit_clears_the_accounts_failures(fresh_counts, reviewer):
    for attempt in range(9):
        _sign_in("reviewer", f"guess {attempt}", address=f"198.51.100.{attempt + 1}")
    assert _sign_in("reviewer", PASSWORD, address="198.51.100.50")[1].status_code == 302
    for attempt in range(9):
        _sign_in("reviewer", f"again {attempt}", address=f"198.51.100.{attempt + 101}")
    assert _sign_in("reviewer", PASSWORD, address="198.51.100.51")[1].status_code == 302


def test_password_reset_requests_are_limited_and_send_nothing_past_the_limit(
        fresh_counts, reviewer, django_capture_on_commit_callbacks):
    client = Client(REMOTE_ADDR=PUBLIC)
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/accounts/password_reset/", {"email": reviewer.email}).status_code == 302
    assert len(mail.outbox) == 5
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password_reset/", {"email": reviewer.email})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert "Too many password reset requests" in response.content.decode()
    assert len(mail.outbox) == 5


def test_feeds_and_the_csv_export_are_under_the_apis_address_limit(fresh_counts, client):
    fresh_counts.API_RATE_LIMITS = {"key": None, "address": "2/day"}
    for url, address in (("/feeds/incidents.atom", "203.0.113.10"), ("/incidents/export.csv", "203.0.113.11")):
        for _ in range(2):
            assert client.get(url, REMOTE_ADDR=address).status_code == 200
        response = client.get(url, REMOTE_ADDR=address)
        assert response.status_code == 429, url
        assert int(response["Retry-After"]) >= 1 and b"Rate limit exceeded" in response.content
        assert client.get(url, REMOTE_ADDR="198.51.100.1").status_code == 200


def test_a_feed_read_with_a_key_counts_against_the_key(fresh_counts, client, reviewer):
    from accounts import api_keys

    fresh_counts.API_RATE_LIMITS = {"key": "1/day", "address": None}
    plain = api_keys.api_key_create(actor=reviewer, name="reader", read_only=True).plain
    headers = {"Authorization": f"Token {plain}"}
    assert client.get("/feeds/incidents.atom", headers=headers).status_code == 200
    response = client.get("/incidents/export.csv", headers=headers)
    assert response.status_code == 429 and b"this API key" in response.content


# ---------------------------------------------------------------- the client address


def _meta(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return meta


def test_without_behind_proxy_the_header_is_never_read(settings):
    from config.proxies import client_address

    settings.BEHIND_PROXY, settings.TRUSTED_PROXY_COUNT = False, 1
    assert client_address(_meta(PROXY, "6.6.6.6")) == PROXY


def test_behind_proxies_the_address_is_the_configured_number_of_hops_from_the_right(settings):
    from config.proxies import client_address

    settings.BEHIND_PROXY, settings.TRUSTED_PROXY_COUNT = True, 1
    # The client wrote "6.6.6.6"; the proxy appended the address it saw.
    assert client_address(_meta(PROXY, "6.6.6.6, 198.51.100.4")) == "198.51.100.4"
    settings.TRUSTED_PROXY_COUNT = 2  # a CDN, then the proxy
    assert client_address(_meta(PROXY, "6.6.6.6, 198.51.100.4, 192.0.2.10")) == "198.51.100.4"
    # The request skipped the CDN: the only entry was written by the proxy.
    assert client_address(_meta(PROXY, "198.51.100.4")) == "198.51.100.4"
    assert client_address(_meta(PROXY)) == PROXY


def test_a_client_reaching_the_app_directly_is_its_own_address_whatever_it_forwards(settings):
    from config.proxies import client_address

    settings.BEHIND_PROXY, settings.TRUSTED_PROXY_COUNT = True, 1
    assert client_address(_meta(PUBLIC, "198.51.100.4")) == PUBLIC
    settings.TRUSTED_PROXIES = ["192.0.2.0/24"]
    assert client_address(_meta(PROXY, "198.51.100.4")) == PROXY


def test_a_forged_forwarded_for_does_not_change_the_rate_limit_key_when_reached_directly(fresh_counts, client):
    fresh_counts.BEHIND_PROXY, fresh_counts.TRUSTED_PROXY_COUNT = True, 1
    fresh_counts.API_RATE_LIMITS = {"key": None, "address": "3/day"}
    for n in range(3):
        response = client.get("/api/v1/me", REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code != 429
    response = client.get("/api/v1/me", REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert response.status_code == 429


def test_a_forged_forwarded_for_does_not_unpause_a_sign_in(fresh_counts, reviewer, staff):
    fresh_counts.BEHIND_PROXY, fresh_counts.TRUSTED_PROXY_COUNT = True, 1
    for attempt in range(10):
        client = Client(REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
        client.post("/accounts/login/", {"username": f"nobody{attempt}", "password": "x"})
    client = Client(REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="198.51.100.200")
    response = client.post("/accounts/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 429 and not _signed_in(client)


def test_through_the_proxy_each_client_is_counted_apart(fresh_counts, client):
    fresh_counts.BEHIND_PROXY, fresh_counts.TRUSTED_PROXY_COUNT = True, 1
    fresh_counts.API_RATE_LIMITS = {"key": None, "address": "1/day"}
    assert client.get("/api/v1/me", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert client.get("/api/v1/me", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200
    assert client.get("/api/v1/me", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1").status_code == 429


def test_the_throttles_client_address_is_config_proxies_one(rf, settings):
    settings.BEHIND_PROXY, settings.TRUSTED_PROXY_COUNT = True, 1
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    assert throttling.client_address(request) == "198.51.100.4"
