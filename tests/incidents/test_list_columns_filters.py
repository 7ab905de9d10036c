"""The incident list's filters for assignee, reporter and date ranges, and its column chooser
(Bugzilla's `columnlist`), on the page, the API, the feed and the export (issue 16)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.models import Incident
from tests.conftest import _user

pytestmark = pytest.mark.django_db


def _numbers(response, status: int = 200) -> list[int]:
    assert response.status_code == status, response.content[:500]
    numbers: list[int] = []
    for found in re.findall(r'href="/incidents/(\d+)/"', response.content.decode()):
        if not numbers or numbers[-1] != int(found):
            numbers.append(int(found))
    return numbers


@pytest.fixture
def three(make_incident, owner_a, owner_b, staff):
    """Three incidents with distinct assignees, reporters, filing and change dates."""
    alice, bob = _user("alice"), _user("bob")
    a = make_incident(owner_a, title="Alpha", actor=alice)
    b = make_incident(owner_b, title="Bravo", actor=bob)
    c = make_incident(owner_a, title="Charlie", actor=bob)
    dates = {a.pk: (datetime(2023, 1, 10, 8, tzinfo=UTC), datetime(2023, 2, 1, 8, tzinfo=UTC)),
             b.pk: (datetime(2023, 3, 5, 23, 30, tzinfo=UTC), datetime(2023, 3, 20, 8, tzinfo=UTC)),
             c.pk: (datetime(2024, 6, 1, 0, 0, tzinfo=UTC), datetime(2024, 6, 30, 23, 59, tzinfo=UTC))}
    for pk, (opened, changed) in dates.items():
        Incident.objects.filter(pk=pk).update(created_at=opened, updated_at=changed)
    Incident.objects.filter(pk=a.pk).update(assignee=bob)
    Incident.objects.filter(pk=c.pk).update(assignee=alice)
    return a, b, c


@pytest.mark.parametrize("query, expect", [
    ("assignee=bob", "a"), ("assignee=ALICE", "c"), ("reporter=bob", "cb"), ("reporter=nobody", ""),
    ("opened_from=2023-03-05", "cb"), ("opened_to=2023-03-05", "ba"),  # whole days, both ends included (UTC)
    ("opened_from=2023-01-11&opened_to=2023-12-31", "b"), ("changed_from=2024-06-30", "c"),
    ("changed_to=2023-02-01", "a"), ("changed_from=2023-02-02&changed_to=2023-03-20", "b"),
    ("reporter=bob&assignee=alice", "c"),
])
def test_filters_for_people_and_date_ranges(three, query, expect, reviewer, client_for):
    by_letter = dict(zip("abc", (i.number for i in three), strict=True))
    wanted = [by_letter[x] for x in expect]
    c = client_for(reviewer)
    assert _numbers(c.get(f"/incidents/?{query}")) == wanted
    assert [b["number"] for b in c.get(f"/api/v1/incidents/?{query}").json()["results"]] == wanted
    csv = c.get(f"/incidents/export.csv?{query}").content.decode()
    assert {n for n in by_letter.values() if f"\n{n}," in csv} == set(wanted)
    feed = c.get(f"/feeds/incidents.atom?{query}").content.decode()
    assert {i.title for i in three if f"{i.title}</title>" in feed} == {i.title for i in three if i.number in wanted}


@pytest.mark.parametrize("query, field, message", [
    ("opened_from=2023-13-01", "opened_from", "must be a date as YYYY-MM-DD, not &#x27;2023-13-01&#x27;"),
    ("changed_to=yesterday", "changed_to", "must be a date as YYYY-MM-DD, not &#x27;yesterday&#x27;"),
    ("opened_from=2024-01-02&opened_to=2024-01-01", "opened_to", "must not be before opened_from (2024-01-02)"),
])
def test_a_wrong_date_is_a_clear_error_and_lists_nothing(three, query, field, message, reviewer, client_for):
    c = client_for(reviewer)
    page = c.get(f"/incidents/?{query}")
    text = page.content.decode()
    assert _numbers(page, status=400) == []  # not the unfiltered list
    assert message in text and 'data-testid="filter-refused"' in text
    assert text.index(f'name="{field}"') < text.index(message)  # beside its field
    assert f'value="{query.split("&")[0].split("=")[1]}"' in text  # what was typed is kept
    api = c.get(f"/api/v1/incidents/?{query}")
    assert api.status_code == 400 and field in api.json()["errors"]
    assert c.get(f"/incidents/export.csv?{query}").status_code == 400


def test_the_column_chooser(three, reviewer, client_for):
    a, b, c_ = three
    client = client_for(reviewer)

    def headers(query: str) -> list[str]:
        page = client.get(f"/incidents/?{query}").content.decode()
        return re.findall(r'<th scope="col" data-column="(\w+)">', page)

    assert headers("") == ["owner", "changed"]  # the default
    assert headers("columnlist=assignee,opened") == ["assignee", "opened"]
    assert headers("columnlist=opened&columnlist=owner&columnlist=assignee&columnlist=changed") == [
        "owner", "assignee", "opened", "changed"]
    assert headers("columnlist=") == []
    page = client.get("/incidents/?columnlist=owner,assignee,opened&sort=number").content.decode()
    row = re.search(rf'<tr>\s*<td><a href="/incidents/{a.number}/">.*?</tr>', page, re.S).group(0)
    assert f"<td>{a.ca_owner.name}</td>" in row and "<td>bob</td>" in row and ">2023-01-10</time>" in row
    # The chooser ticks what is shown, and paging keeps the choice.
    chooser = re.search(r'data-testid="column-chooser".*?</fieldset>', page, re.S).group(0)
    assert re.findall(r'value="(\w+)" checked', chooser) == ["owner", "assignee", "opened"]
    refused = client.get("/incidents/?columnlist=owner,severity").content.decode()
    assert "columnlist: no column named &#x27;severity&#x27;" in refused


@pytest.mark.parametrize("role", ["staff", "rep_a", "reviewer", "anonymous"])
def test_the_list_runs_the_same_queries_whatever_the_columns(role, request, make_incident, owner_a, owner_b,
                                                               client_for, django_assert_max_num_queries):
    user = request.getfixturevalue(role) if role != "anonymous" else None
    for n in range(12):
        made = make_incident(owner_a if n % 2 else owner_b, title=f"Incident {n}", actor=_user(f"filer{n}"))
        Incident.objects.filter(pk=made.pk).update(assignee=_user(f"assignee{n}"))
    client = client_for(user)
    client.get("/incidents/")
    counts = {}
    for columns in ("", "owner", "owner,assignee,opened,changed"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/incidents/?columnlist={columns}&assignee=assignee3&opened_from=2000-01-01")
        assert response.status_code == 200
        counts[columns] = len(ctx.captured_queries)
    assert len(set(counts.values())) == 1, counts
    with django_assert_max_num_queries(10):
        client.get("/incidents/?columnlist=owner,assignee,opened,changed&reporter=filer1&changed_to=2999-01-01")
