"""/api/v1/docs/ (Swagger UI from drf-spectacular's sidecar) works offline: no request leaves the server."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_load_and_every_request_stays_on_the_live_server(page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/v1/docs/")
    # Swagger UI renders the operations from the schema it fetched.
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/me").count() >= 1
    assert page.get_by_text("Rootwatch API").first.is_visible()
    server = urlsplit(live_server.url).netloc
    outside = [url for url in requested if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != server]
    assert outside == [], outside
    assert any("/api/v1/schema/" in url for url in requested)
    assert any("/static/drf_spectacular_sidecar/" in url for url in requested)


def test_account_page_creates_a_key_shown_once_then_revokes_it(page, sign_in, reviewer):
    sign_in("reviewer", PASSWORD)
    page.goto("/accounts/")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("my dashboard")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("Your new key").input_value()
    assert key.startswith("rw_")
    assert page.get_by_role("cell", name="my dashboard", exact=True).is_visible()
    page.goto("/accounts/api-keys/")
    assert key not in page.content()
    page.get_by_role("button", name="Revoke key my dashboard").click()
    assert "is revoked" in page.get_by_role("status").first.inner_text()
    assert page.get_by_text("Revoked").first.is_visible()
