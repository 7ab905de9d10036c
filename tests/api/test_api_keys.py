"""API keys: created on the account page, shown once, stored as a hash, acting as their user."""

from __future__ import annotations

import hashlib

import pytest

from accounts import api_keys
from accounts.models import ApiKey
from config.errors import NotPermitted

pytestmark = pytest.mark.django_db


def test_key_is_shown_once_and_only_its_sha256_is_stored(client_for, reviewer):
    client = client_for(reviewer)
    response = client.post("/accounts/api-keys/", {"name": "dashboard", "read_only": "on"})
    assert response.status_code == 200
    key = ApiKey.objects.get(user=reviewer)
    plain = response.context["created"].plain
    assert plain.startswith("rw_") and len(plain) >= 40
    assert plain in response.content.decode()
    assert key.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert key.prefix == plain[:11] and key.read_only and key.name == "dashboard"
    # Nothing stored holds the key itself, and the list never shows it again.
    stored = [str(v) for v in ApiKey.objects.values_list("name", "prefix", "key_hash").get()]
    assert all(plain not in v for v in stored)
    listing = client.get("/accounts/api-keys/").content.decode()
    assert plain not in listing and key.prefix in listing and "dashboard" in listing


def test_key_without_a_name_is_refused_and_nothing_is_created(client_for, reviewer):
    response = client_for(reviewer).post("/accounts/api-keys/", {"name": "  "})
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def test_anonymous_cannot_open_the_key_page(client):
    response = client.get("/accounts/api-keys/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_key_acts_as_its_user(api, make_key, rep_a, owner_a):
    key = make_key(rep_a, read_only=True)
    body = api("get", "/api/v1/me", key).json()
    assert body["username"] == "rep_a" and body["role"] == "ca_rep"
    assert body["represented_ca_owner_ids"] == [owner_a.pk]
    assert body["key"]["read_only"] is True and body["key"]["prefix"] == key[:11]
    assert ApiKey.objects.get().last_used_at is not None


def test_revoked_key_fails_with_401_and_a_json_message(api, client_for, make_key, reviewer):
    key = make_key(reviewer)
    assert api("get", "/api/v1/me", key).status_code == 200
    row = ApiKey.objects.get()
    response = client_for(reviewer).post(f"/accounts/api-keys/{row.pk}/revoke/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    response = api("get", "/api/v1/me", key)
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "authentication_failed"
    assert "revoked" in body["detail"] and "account page" in body["detail"]
    assert response["WWW-Authenticate"].startswith("Token")


def test_unknown_or_malformed_key_is_401_never_anonymous(api):
    assert api("get", "/api/v1/me", "rw_not-a-key").status_code == 401
    response = api("get", "/api/v1/me", headers={"Authorization": "Token"})
    assert response.status_code == 401 and "Malformed" in response.json()["detail"]


def test_key_of_a_deactivated_user_fails(api, make_key, reviewer):
    key = make_key(reviewer)
    reviewer.is_active = False
    reviewer.save()
    assert api("get", "/api/v1/me", key).status_code == 401


def test_nobody_revokes_someone_elses_key(client_for, make_key, reviewer, rep_a, staff):
    make_key(reviewer)
    row = ApiKey.objects.get()
    assert client_for(rep_a).post(f"/accounts/api-keys/{row.pk}/revoke/").status_code == 404
    with pytest.raises(NotPermitted):
        api_keys.api_key_revoke(actor=staff, key=row)
    row.refresh_from_db()
    assert row.revoked_at is None


def test_read_only_key_cannot_write_but_read_write_key_can(api, make_key, reviewer, incidents):
    number = incidents["public_a"].number
    path = f"/api/v1/incidents/{number}/comments/"
    read_only = make_key(reviewer, read_only=True)
    assert api("get", path, read_only).status_code == 200
    response = api("post", path, read_only, data={"body": "From a read-only key"}, content_type="application/json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    read_write = make_key(reviewer, name="writer")
    response = api("post", path, read_write, data={"body": "From a read-write key"}, content_type="application/json")
    assert response.status_code == 201, response.content
    from compliance.models import Comment

    assert list(Comment.objects.filter(incident=incidents["public_a"], author=reviewer).values_list("body", flat=True)) == [
        "From a read-write key"
    ]


def test_read_only_key_is_refused_even_where_a_view_sets_its_own_permissions(api, make_key, staff):
    """The registry views set permission_classes; the key's scope is still enforced (at authentication)."""
    key = make_key(staff, read_only=True)
    response = api("post", "/api/v1/cas/", key, data={"name": "New CA"}, content_type="application/json")
    assert response.status_code in (403, 405)
    if response.status_code == 403:
        assert "read-only" in response.json()["detail"]


def test_ca_rep_key_sees_own_cas_security_incidents_and_no_others(api, make_key, rep_a, reviewer, incidents):
    titles = lambda key: {row["title"] for row in api("get", "/api/v1/incidents/", key).json()["results"]}  # noqa: E731
    rep_titles = titles(make_key(rep_a))
    assert "Acme Trust: Secret A" in rep_titles and "Borealis PKI: Secret B" not in rep_titles
    assert {"Acme Trust: Public A", "Borealis PKI: Public B"} <= rep_titles
    reviewer_titles = titles(make_key(reviewer))
    assert not {"Acme Trust: Secret A", "Borealis PKI: Secret B"} & reviewer_titles
    secret_b = incidents["secret_b"].number
    assert api("get", f"/api/v1/incidents/{secret_b}/", make_key(rep_a, name="2")).status_code == 404
