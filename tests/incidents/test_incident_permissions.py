"""The permission matrix: every incident page and endpoint, for each role, on a public and a
security-sensitive incident of two CAs. Written as an explicit table, not derived from the
permission module, so it specifies the rules rather than repeating them."""

from __future__ import annotations

import pytest

from compliance.models import Comment

INCIDENTS = ("public_a", "secret_a", "public_b", "secret_b")
ROLES = ("staff", "rep_a", "rep_b", "reviewer", "anonymous")

VISIBLE = {
    "staff": set(INCIDENTS),
    "rep_a": {"public_a", "secret_a", "public_b"},
    "rep_b": {"public_a", "public_b", "secret_b"},
    "reviewer": {"public_a", "public_b"},
    "anonymous": {"public_a", "public_b"},
}
FILES_REPORTS = {"staff": set(INCIDENTS), "rep_a": {"public_a", "secret_a"}, "rep_b": {"public_b", "secret_b"}}
SIGNED_IN = {"staff", "rep_a", "rep_b", "reviewer"}


@pytest.fixture
def cast(request, staff, rep_a, rep_b, reviewer, public_a, secret_a, public_b, secret_b):
    users = {"staff": staff, "rep_a": rep_a, "rep_b": rep_b, "reviewer": reviewer, "anonymous": None}
    incidents = {"public_a": public_a, "secret_a": secret_a, "public_b": public_b, "secret_b": secret_b}
    return users, incidents


def _expect_gated(role: str, name: str, allowed: set[str], *, page: bool) -> int:
    """404 when hidden; 200 when allowed; anonymous: 302 to sign in (pages) or 401 (API); else 403."""
    if name not in VISIBLE[role]:
        return 404
    if name in allowed:
        return 200
    if role == "anonymous":
        return 302 if page else 401
    return 403


PAGES = {
    # path suffix -> the incidents each role may use it on
    "": lambda role: VISIBLE[role],
    "history/": lambda role: VISIBLE[role],
    "reports/preliminary/": lambda role: FILES_REPORTS.get(role, set()),
    "reports/full/": lambda role: FILES_REPORTS.get(role, set()),
    "reports/closure/": lambda role: FILES_REPORTS.get(role, set()),
    "reports/full/versions/": lambda role: VISIBLE[role],
    "triage/": lambda role: set(INCIDENTS) if role == "staff" else set(),
    "assessment/": lambda role: set(INCIDENTS) if role == "staff" else set(),
}

API_GETS = ("", "comments/", "questions/", "reports/", "status/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_incident_page_answers_each_role_on_public_and_sensitive_incidents_of_two_cas(role, cast, client_for):
    users, incidents = cast
    client = client_for(users[role])
    for name, incident in incidents.items():
        for suffix, allowed in PAGES.items():
            response = client.get(f"/incidents/{incident.number}/{suffix}")
            assert response.status_code == _expect_gated(role, name, allowed(role), page=True), (role, name, suffix)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_incident_endpoint_answers_each_role(role, cast, client_for):
    users, incidents = cast
    client = client_for(users[role])
    for name, incident in incidents.items():
        for suffix in API_GETS:
            response = client.get(f"/api/v1/incidents/{incident.number}/{suffix}")
            assert response.status_code == (200 if name in VISIBLE[role] else 404), (role, name, suffix)
        # Staff-only triage.
        response = client.patch(f"/api/v1/incidents/{incident.number}/", {"whiteboard": "[ca-compliance]"},
                                content_type="application/json")
        assert response.status_code == _expect_gated(role, name, set(INCIDENTS) if role == "staff" else set(),
                                                     page=False), (role, name, "patch")
        # Reports: the CA's own representatives and staff.
        response = client.post(f"/api/v1/incidents/{incident.number}/reports/",
                               {"kind": "preliminary", "preview": True, "data": {
                                   "incident_description": "x", "relevant_policies": "N/A",
                                   "source_of_disclosure": "Audit"}}, content_type="application/json")
        assert response.status_code == _expect_gated(role, name, FILES_REPORTS.get(role, set()), page=False), \
            (role, name, "report")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_comments_by_page_and_api_follow_visibility_and_sign_in(role, cast, client_for):
    users, incidents = cast
    client = client_for(users[role])
    for name, incident in incidents.items():
        before = Comment.objects.filter(incident=incident).count()
        page = client.post(f"/incidents/{incident.number}/comment/", {"body": "page comment", "post": "1"})
        api = client.post(f"/api/v1/incidents/{incident.number}/comments/", {"body": "api comment"},
                          content_type="application/json")
        after = Comment.objects.filter(incident=incident).count()
        if name not in VISIBLE[role]:
            assert (page.status_code, api.status_code, after) == (404, 404, before)
        elif role in SIGNED_IN:
            assert (page.status_code, api.status_code, after) == (302, 201, before + 2)
        else:
            assert page.status_code == 302 and "/accounts/login/" in page["Location"]
            assert (api.status_code, after) == (401, before)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_lists_show_exactly_the_incidents_each_role_may_see(role, cast, client_for):
    users, incidents = cast
    client = client_for(users[role])
    expected = {incidents[n].number for n in VISIBLE[role]}
    api = client.get("/api/v1/incidents/").json()
    assert {row["id"] for row in api["results"]} == expected
    assert api["count"] == len(expected)
    page = client.get("/incidents/").content.decode()
    for name, incident in incidents.items():
        assert (incident.title in page) == (name in VISIBLE[role]), (role, name)


@pytest.mark.django_db
def test_private_comments_are_staff_only_everywhere(cast, client_for, make_incident):
    from compliance.actions import incidents as act

    users, incidents = cast
    act.comment_create(actor=users["staff"], incident=incidents["public_a"], body="PRIVATE-NOTE", is_private=True)
    number = incidents["public_a"].number
    for role in ROLES:
        client = client_for(users[role])
        detail = client.get(f"/incidents/{number}/").content.decode()
        comments = client.get(f"/api/v1/incidents/{number}/comments/").json()
        row = [r for r in client.get("/api/v1/incidents/").json()["results"] if r["id"] == number][0]
        sees = role == "staff"
        assert ("PRIVATE-NOTE" in detail) == sees, role
        assert any(c["body"] == "PRIVATE-NOTE" for c in comments["results"]) == sees, role
        assert comments["count"] == (2 if sees else 1)
        assert row["comment_count"] == (2 if sees else 1), role


@pytest.mark.django_db
def test_only_staff_post_private_comments(cast, client_for):
    users, incidents = cast
    response = client_for(users["rep_a"]).post(
        f"/api/v1/incidents/{incidents['public_a'].number}/comments/", {"body": "x", "is_private": True},
        content_type="application/json")
    assert response.status_code == 403
    assert not Comment.objects.filter(is_private=True).exists()
