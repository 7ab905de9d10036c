"""Saved searches (issue 16): a user saves the list's filter under a name; it is in their navigation
with its Atom feed and CSV; they rename and delete it; nobody else (staff neither) sees or touches it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest

from compliance.actions import saved_searches as acts
from compliance.models import SavedSearch
from config.errors import DomainError, NotPermitted

pytestmark = pytest.mark.django_db

LIST = "/incidents/"
SEARCHES = "/incidents/searches/"


def _save(client, name: str, query: str):
    return client.post(SEARCHES, {"name": name, "query": query})


def test_save_the_current_filter_and_find_it_in_the_navigation_with_its_feed_and_csv(
        make_incident, owner_a, owner_b, reviewer, client_for):
    wanted = make_incident(owner_a, title="OCSP outage", whiteboard="")
    make_incident(owner_b, title="Other CA")
    c = client_for(reviewer)
    query = f"ca={owner_a.pk}&status=open&columnlist=owner&columnlist=opened"
    page = c.get(f"{LIST}?{query}").content.decode()
    form = re.search(r'<form[^>]*data-testid="save-search".*?</form>', page, re.S).group(0)
    shown_query = re.search(r'name="query" value="([^"]*)"', form).group(1).replace("&amp;", "&")
    assert parse_qs(shown_query) == parse_qs(query)
    response = _save(c, "  Acme   open ", shown_query)
    assert response.status_code == 302
    search = SavedSearch.objects.get(owner=reviewer)
    assert search.name == "Acme open" and parse_qs(search.query) == {
        "ca": [str(owner_a.pk)], "status": ["open"], "columnlist": ["owner", "opened"]}
    assert response["Location"] == f"{LIST}?{search.query}"
    # In the navigation of every page, with its feed and CSV of the same filter.
    home = c.get("/cas/").content.decode()
    nav = re.search(r'data-testid="nav-saved-searches".*?</details>', home, re.S).group(0)
    escaped = search.query.replace("&", "&amp;")
    assert f'href="{LIST}?{escaped}">Acme open</a>' in nav
    assert f'href="/feeds/incidents.atom?{escaped}"' in nav and f'href="/incidents/export.csv?{escaped}"' in nav
    feed = c.get(f"/feeds/incidents.atom?{search.query}").content.decode()
    assert "OCSP outage" in feed and "Other CA" not in feed
    csv = c.get(f"/incidents/export.csv?{search.query}").content.decode()
    assert "OCSP outage" in csv and "Other CA" not in csv
    listed = c.get(f"{LIST}?{search.query}").content.decode()
    assert f"/incidents/{wanted.number}/" in listed and "Other CA" not in listed


def test_rename_and_delete(reviewer, client_for):
    c = client_for(reviewer)
    assert _save(c, "Open", "status=open").status_code == 302
    assert _save(c, "Closed", "status=closed").status_code == 302
    first, second = SavedSearch.objects.get(name="Open"), SavedSearch.objects.get(name="Closed")
    assert c.post(f"{SEARCHES}{first.pk}/rename/", {"name": "Still open"}).status_code == 302
    first.refresh_from_db()
    assert first.name == "Still open"
    taken = c.post(f"{SEARCHES}{first.pk}/rename/", {"name": "closed"})
    page = taken.content.decode()
    assert taken.status_code == 400 and "You already have a search with this name." in page
    assert 'value="closed"' in page  # what was typed is kept
    first.refresh_from_db()
    assert first.name == "Still open"
    assert c.post(f"{SEARCHES}{second.pk}/delete/").status_code == 302
    assert list(SavedSearch.objects.values_list("name", flat=True)) == ["Still open"]


def test_a_bad_filter_or_name_saves_nothing(reviewer, client_for):
    c = client_for(reviewer)
    for name, query, message in [("Bad date", "opened_from=2024-13-01", "must be a date as YYYY-MM-DD"),
                                 ("Bad column", "columnlist=severity", "no column named"),
                                 ("", "status=open", "This field is required."),
                                 ("x" * 81, "status=open", "at most 80 characters")]:
        response = _save(c, name, query)
        assert response.status_code == 400 and message in response.content.decode(), name
    assert not SavedSearch.objects.exists()
    # The page is dropped from what is kept; unknown parameters are too.
    search = acts.search_save(actor=reviewer, name="Paged", query="status=open&page=3&utm=x")
    assert search.query == "status=open"


def test_only_the_owner_sees_renames_or_deletes_it(reviewer, rep_a, rep_b, staff, anonymous, client_for):
    mine = acts.search_save(actor=reviewer, name="Mine secretly", query="status=open")
    for other in (rep_a, rep_b, staff):
        c = client_for(other)
        assert "Mine secretly" not in c.get(SEARCHES).content.decode()
        assert "Mine secretly" not in c.get(LIST).content.decode()  # not in their navigation
        assert c.post(f"{SEARCHES}{mine.pk}/rename/", {"name": "Taken over"}).status_code == 404
        assert c.post(f"{SEARCHES}{mine.pk}/delete/").status_code == 404
        with pytest.raises(NotPermitted):
            acts.search_rename(actor=other, search=mine, name="Taken over")
        with pytest.raises(NotPermitted):
            acts.search_delete(actor=other, search=mine)
    anon = client_for(None)
    assert anon.get(SEARCHES).status_code == 302
    assert anon.post(SEARCHES, {"name": "A", "query": ""}).status_code == 302
    assert anon.post(f"{SEARCHES}{mine.pk}/delete/").status_code == 302
    assert 'data-testid="save-search"' not in anon.get(LIST).content.decode()
    assert 'data-testid="nav-saved-searches"' not in anon.get(LIST).content.decode()
    with pytest.raises(NotPermitted):
        acts.search_save(actor=anonymous, name="A", query="")
    mine.refresh_from_db()
    assert mine.name == "Mine secretly" and SavedSearch.objects.count() == 1
    # Two users may use the same name; one user may not use it twice.
    acts.search_save(actor=rep_a, name="Mine secretly", query="")
    with pytest.raises(DomainError):
        acts.search_save(actor=reviewer, name="MINE SECRETLY", query="")


def test_the_navigation_costs_one_query_whatever_the_number_of_searches(reviewer, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(reviewer)
    counts = []
    for total in (1, 15):
        while SavedSearch.objects.count() < total:
            acts.search_save(actor=reviewer, name=f"S{SavedSearch.objects.count()}", query="status=open")
        c.get("/cas/")
        with CaptureQueriesContext(connection) as ctx:
            page = c.get("/cas/").content.decode()
        assert page.count("S0") >= 1
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
