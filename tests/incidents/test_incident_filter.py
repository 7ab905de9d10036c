"""The incident filter is declared once (compliance.filters.IncidentFilter): the list page, the API,
the CSV export and the OpenAPI schema read the same parameters and select the same incidents,
and no filter value shows an incident its reader may not see."""

from __future__ import annotations

import csv
import io
import re

import pytest

from compliance.actions import incidents as act
from compliance.filters import IncidentFilter
from compliance.models import Incident

PAGING = {"page", "page_size"}


def _page_numbers(response, status: int = 200) -> list[int]:
    assert response.status_code == status
    numbers: list[int] = []
    for found in re.findall(r'href="/incidents/(\d+)/"', response.content.decode()):
        if not numbers or numbers[-1] != int(found):  # each row links its number and its title
            numbers.append(int(found))
    return numbers


def _api_numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _csv_numbers(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [int(row["number"]) for row in csv.DictReader(io.StringIO(response.content.decode()))]


@pytest.mark.django_db
def test_the_schema_lists_exactly_the_filters_parameters_with_their_choices(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/incidents/"]["get"]
    assert operation["operationId"] == "incidents_list"
    parameters = {p["name"]: p for p in operation["parameters"] if p["name"] not in PAGING}
    assert set(parameters) == set(IncidentFilter.base_filters)
    for name, declared in IncidentFilter.base_filters.items():
        choices = declared.extra.get("choices")
        if choices:
            assert sorted(parameters[name]["schema"]["enum"]) == sorted(value for value, _ in choices), name
    assert parameters["ca"]["schema"]["type"] == "integer"
    assert {parameters[n]["schema"]["type"] for n in ("overdue", "open_questions", "security_sensitive")} == {"boolean"}


def test_the_filter_will_not_start_from_every_incident():
    with pytest.raises(TypeError):
        IncidentFilter({"status": "open"})


QUERIES = [
    "",
    "status=open",
    "status=closed",
    "status=RESOLVED",
    "tag=crl-failure",
    "ca={a}",
    "ca={b}",
    "ca={b}&sort=number",
    "q=Secret",
    "q={secret_b}",
    "open_questions=true",
    "security_sensitive=yes",
    "security_sensitive=true",
    "security_sensitive=no",
    "ca={b}&security_sensitive=yes",
    "sort=-updated",
    "sort=due&status=open",
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff", "rep_a", "reviewer", "anonymous"])
def test_page_api_and_csv_select_the_same_incidents_for_each_reader(role, request, client_for, staff, reviewer,
                                                                     owner_a, owner_b, make_incident):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    public_a = make_incident(owner_a, title="Public A", whiteboard="[ca-compliance] [crl-failure]")
    secret_a = make_incident(owner_a, title="Secret A", sensitive=True, whiteboard="[crl-failure]")
    public_b = make_incident(owner_b, title="Public B")
    secret_b = make_incident(owner_b, title="Secret B", sensitive=True)
    act.incident_update(actor=staff, incident=public_b, status="RESOLVED", resolution="FIXED")
    act.question_ask(actor=staff, incident=secret_b, body="Which serials?")
    act.question_ask(actor=reviewer, incident=public_a, body="When?")
    may_see = {
        "staff": {public_a, secret_a, public_b, secret_b},
        "rep_a": {public_a, secret_a, public_b},
        "reviewer": {public_a, public_b},
        "anonymous": {public_a, public_b},
    }[role]
    hidden = {i.number for i in (public_a, secret_a, public_b, secret_b) if i not in may_see}
    client = client_for(user)
    seen_somewhere: set[int] = set()
    for template in QUERIES:
        query = template.format(a=owner_a.pk, b=owner_b.pk, secret_b=secret_b.number)
        page = _page_numbers(client.get(f"/incidents/?{query}"))
        api = _api_numbers(client.get(f"/api/v1/incidents/?{query}"))
        export = _csv_numbers(client.get(f"/incidents/export.csv?{query}"))
        assert page == api == export, (role, query, page, api, export)
        assert not hidden & set(page), (role, query)
        seen_somewhere |= set(page)
    assert seen_somewhere == {i.number for i in may_see}


@pytest.mark.django_db
def test_the_security_sensitive_filter_is_ignored_for_those_who_see_no_such_incident(client_for, reviewer, staff,
                                                                                   owner_a, make_incident):
    public = make_incident(owner_a, title="Public")
    secret = make_incident(owner_a, title="Secret", sensitive=True)
    for user in (None, reviewer):
        client = client_for(user)
        for path in ("/incidents/", "/api/v1/incidents/", "/incidents/export.csv"):
            response = client.get(f"{path}?security_sensitive=yes")
            assert response.status_code == 200
            assert f"/incidents/{public.number}/".encode() in response.content
            assert f"/incidents/{secret.number}/".encode() not in response.content
        assert b'name="security_sensitive"' not in client.get("/incidents/").content
    assert b'name="security_sensitive"' in client_for(staff).get("/incidents/").content
    assert _api_numbers(client_for(staff).get("/api/v1/incidents/?security_sensitive=no")) == [public.number]


@pytest.mark.django_db
def test_a_bad_value_is_refused_alike_by_the_api_the_export_and_the_page_which_lists_nothing(client, owner_a,
                                                                                                  make_incident):
    open_one = make_incident(owner_a, title="Open")
    for query, problem in [("overdue=maybe", "'overdue' must be true or false, not 'maybe'."),
                           ("ca=acme", "'ca' must be an integer, not 'acme'."),
                           ("sort=bogus", "'sort' must be one of -number, number, -updated, updated, due, not 'bogus'.")]:
        body = client.get(f"/api/v1/incidents/?{query}").json()
        assert body["error"] == "invalid" and body["detail"] == problem
        assert list(body["errors"]) == [query.split("=")[0]]
        export = client.get(f"/incidents/export.csv?{query}")
        assert export.status_code == 400 and query.split("=")[0].encode() in export.content
        page = client.get(f"/incidents/?{query}")
        # The page says what is wrong beside the field, with a 400 (issue 12), and lists nothing rather
        # than the unfiltered list (issue 16).
        assert page.status_code == 400 and problem.split(" must ")[1].split(",")[0] in page.content.decode()
        assert _page_numbers(page, status=400) == [] and open_one.number
        assert 'data-testid="filter-refused"' in page.content.decode()


@pytest.mark.django_db
def test_a_feed_for_an_unknown_tag_is_empty_not_unfiltered(client, owner_a, make_incident):
    make_incident(owner_a, title="Tagged", whiteboard="[crl-failure]")
    assert b"<entry>" in client.get("/feeds/tags/crl-failure.atom").content
    response = client.get("/feeds/tags/no-such-tag.atom")
    assert response.status_code == 200 and b"<entry>" not in response.content
    assert Incident.objects.count() == 1
