"""Every response carries the Content-Security-Policy and no template needs inline script; request
bodies are refused from their Content-Length before being read (413 in each API's shape)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from accounts import api_keys

ROOT = Path(__file__).resolve().parents[2]
FIFTY_MB = 50 * 1024 * 1024


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/incidents/", "/cas/", "/audits/", "/distrust/", "/accounts/login/", "/admin/login/", "/api/v1/me",
            "/api/v1/docs/", "/rest/version", "/feeds/incidents.atom", "/incidents/export.csv", "/no-such-page/",
            "/api/v1/nothing", "/healthz"],
)
def test_every_response_carries_the_strict_policy(client, url):
    policy = client.get(url)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_redoc_alone_may_insert_styles_and_its_scripts_are_still_self_only(client):
    policy = client.get("/api/v1/redoc/")["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self' 'unsafe-inline'" in policy
    assert "unsafe-inline" not in client.get("/api/v1/docs/")["Content-Security-Policy"].split("style-src-attr")[0]


def test_no_template_holds_an_inline_script_or_event_handler():
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1):
                offenders.append(f"{path.relative_to(ROOT)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text) or "javascript:" in text:
            offenders.append(f"{path.relative_to(ROOT)}: event handler attribute or javascript: URL")
    assert offenders == []


@pytest.mark.django_db
def test_a_50_mb_api_body_is_refused_from_its_content_length_without_being_read(client, staff):
    key = api_keys.api_key_create(actor=staff, name="big", read_only=False).plain
    # The declared length is what is refused: the payload behind it is never read.
    response = client.generic(
        "POST", "/api/v1/incidents/", b"{}", content_type="application/json",
        headers={"Authorization": f"Token {key}"}, CONTENT_LENGTH=str(FIFTY_MB),
    )
    assert response.status_code == 413
    body = response.json()
    assert body["error"] == "too_large" and str(settings.MAX_REQUEST_BODY_BYTES) in body["detail"]
    assert str(FIFTY_MB) in body["detail"]


@pytest.mark.django_db
def test_a_real_body_just_over_the_limit_is_refused_and_nothing_is_created(client, staff, owner_a):
    from compliance.models import Incident

    key = api_keys.api_key_create(actor=staff, name="big", read_only=False).plain
    payload = json.dumps({"ca_owner": owner_a.pk, "title": "x", "description": "y" * settings.MAX_REQUEST_BODY_BYTES})
    response = client.post("/api/v1/incidents/", payload, content_type="application/json",
                           headers={"Authorization": f"Token {key}"})
    assert response.status_code == 413 and Incident.objects.count() == 0


@pytest.mark.django_db
def test_under_rest_and_on_pages_the_refusal_has_their_shape(client):
    rest = client.generic("POST", "/rest/bug", b"{}", content_type="application/json", CONTENT_LENGTH=str(FIFTY_MB))
    assert rest.status_code == 413 and rest.json()["error"] is True and rest.json()["code"] == 53
    page = client.generic("POST", "/accounts/login/", b"a=b", content_type="application/x-www-form-urlencoded",
                          CONTENT_LENGTH=str(FIFTY_MB))
    assert page.status_code == 413 and b"Request refused" in page.content


@pytest.mark.django_db
def test_uploads_keep_their_own_larger_limit(client_for, rep_a):
    # A multipart body of 5 MB passes the guard (statement PDFs may be 25 MB); past 26 MB it does not.
    client = client_for(rep_a)
    ok = client.generic("POST", "/certificates/upload/", b"--x--", content_type="multipart/form-data; boundary=x",
                        CONTENT_LENGTH=str(5 * 1024 * 1024))
    assert ok.status_code != 413
    too_big = client.generic("POST", "/certificates/upload/", b"--x--", content_type="multipart/form-data; boundary=x",
                             CONTENT_LENGTH=str(settings.MAX_UPLOAD_BODY_BYTES + 1))
    assert too_big.status_code == 413 and b"An upload may be at most" in too_big.content


@pytest.mark.django_db
def test_a_malformed_content_length_is_a_400(client):
    response = client.generic("POST", "/api/v1/incidents/", b"{}", content_type="application/json", CONTENT_LENGTH="lots")
    assert response.status_code == 400 and "Content-Length" in response.json()["detail"]


@pytest.mark.django_db
def test_the_schema_documents_the_413_on_writes(client):
    spec = client.get("/api/v1/schema/?format=json").json()
    create = spec["paths"]["/api/v1/incidents/"]["post"]["responses"]["413"]
    assert create["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "413" not in spec["paths"]["/api/v1/incidents/"]["get"]["responses"]
