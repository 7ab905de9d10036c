"""Pages work under the strict Content-Security-Policy: nothing the browser refuses, the report
form's "Add a row" (a static script now), Swagger UI and Redoc (drf-spectacular-sidecar) render."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    return refused


def test_pages_load_without_a_single_csp_refusal(page, sign_in, rep_a, owner_a):
    from compliance.actions import incidents as act

    incident = act.incident_create(actor=rep_a, ca_owner=owner_a, title="OU misuse", description="Filed by the CA.")
    refused = _watch(page)
    for url in ("/", "/incidents/", "/cas/", "/audits/", f"/audits/ca/{owner_a.pk}/", "/distrust/", "/admin/login/"):
        response = page.goto(url)
        assert "script-src 'self'" in response.headers["content-security-policy"], url
    sign_in("rep_a", PASSWORD)
    page.goto(f"/incidents/{incident.number}/reports/full/")
    rows = page.locator("[data-table=action_items] [data-row]").count()
    page.locator("[data-table=action_items] [data-add-row]").click()
    assert page.locator("[data-table=action_items] [data-row]").count() == rows + 1
    assert refused == []


def test_swagger_ui_renders_under_the_policy(page):
    refused = _watch(page)
    response = page.goto("/api/v1/docs/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    page.wait_for_selector(".opblock-summary-path", timeout=20000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/me").count() >= 1
    assert refused == []


def test_redoc_renders_under_its_policy_with_scripts_still_self_only(page):
    refused = _watch(page)
    response = page.goto("/api/v1/redoc/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-eval" not in policy
    page.wait_for_selector(".redoc-wrap", timeout=20000)
    assert page.get_by_text("Rootwatch API").first.is_visible()
    assert "/api/v1/me" in page.content()
    # Redoc's "API docs by Redocly" link shows a logo from Redocly's CDN: the policy keeps that
    # request from leaving the browser, and nothing else is refused.
    assert [text for text in refused if "https://cdn.redoc.ly/" not in text] == []
