"""Fuzz of the list, search, filter, feed, export and `/rest/` query parameters: whatever a client
sends (NUL bytes, digits int() refuses, numbers past any column, negative numbers, dates past the
calendar, regular expressions either database refuses), the answer is never a 5xx.

Hypothesis draws the values; the run is derandomized, so a failure names its example and repeats.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.actions import incidents as act
from compliance.bugzilla import search

NASTY = [
    "", "\x00", "a\x00b", "²", "١٢", "0", "-1", "-0", "1e309", "NaN", "9" * 30, "-" + "9" * 30, str(2**63), str(2**63 - 1),
    str(-(2**63) - 1), "2024-13-45", "0000-00-00", "9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+14:00",
    "2024-05-01T12:00:00Z", "-999999999999d", "-99999y", "-1d", "Now", "(", ")", "[[:foo:]]", "a{99999}", "(a+)+$",
    "(?<=a+)b", "\\", "*", "%", "_", "'", '"', "';--", "../../etc/passwd", "\u202e", "\ud7ff", "a" * 2000, " ", ",,,",
    "last", "true", "maybe", "__all__", "__open__", "needinfo?(x)",
]
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Every list, search and filter parameter of the pages, the API, the feeds and the export.
ENDPOINTS = {
    "/incidents/": ["q", "ca", "status", "tag", "overdue", "open_questions", "security_sensitive", "sort", "page"],
    "/incidents/export.csv": ["q", "ca", "status", "tag", "overdue", "open_questions", "sort"],
    "/feeds/incidents.atom": ["q", "page"],
    "/cas/": ["q", "page"],
    "/certificates/": ["q", "kind", "page", "sha256"],
    "/root-store/": ["trust", "page", "download", "done"],
    "/audits/": ["family", "verification", "page"],
    "/distrust/": ["state", "page"],
    "/distrust/new/": ["incident"],
    "/notifications/": ["page"],
    "/api/v1/incidents/": ["q", "ca", "status", "tag", "overdue", "open_questions", "security_sensitive", "sort",
                           "page", "page_size", "ordering"],
    "/api/v1/cas/": ["page", "page_size", "ordering", "q"],
    "/api/v1/certificates/": ["sha256", "owner", "kind", "issuer_sha256", "trusted_for", "q", "page", "ordering"],
    "/api/v1/audits/": ["ca_owner", "family", "verification", "source", "page", "page_size"],
    "/api/v1/auditors/": ["page", "q"],
    "/api/v1/distrust/": ["state", "page"],
}
REST_SIMPLE = ["id", "bug_id", "limit", "offset", "creation_time", "last_change_time", "summary", "short_desc",
               "short_desc_type", "whiteboard", "status_whiteboard_type", "quicksearch", "order", "creator", "reporter",
               "assigned_to", "keywords", "status", "resolution", "product", "component", "count_only",
               "include_fields", "exclude_fields", "api_key", "Bugzilla_api_key", "j_top"]


@pytest.fixture
def world(db, staff, rep_a, owner_a, owner_b):
    public = act.incident_create(actor=None, ca_owner=owner_a, title="OCSP outage", description="d",
                                 whiteboard="[ca-compliance]")
    act.incident_create(actor=None, ca_owner=owner_b, title="Secret", description="d", security_sensitive=True)
    act.comment_create(actor=staff, incident=public, body="A comment to search.")
    return {"number": public.number}


@pytest.fixture
def as_staff(client_for, staff):
    return client_for(staff)


def _no_5xx(response, url, params):
    assert response.status_code < 500, (url, params, response.content[:300])


@FUZZ
@given(data=st.data())
def test_list_search_filter_feed_and_export_parameters_never_5xx(world, client, as_staff, data):
    url = data.draw(st.sampled_from(sorted(ENDPOINTS)), label="url")
    params = data.draw(st.dictionaries(st.sampled_from(ENDPOINTS[url]), VALUES, min_size=1, max_size=3), label="params")
    for who in (client, as_staff):
        _no_5xx(who.get(url, params), url, params)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(REST_SIMPLE), VALUES, min_size=1, max_size=4))
def test_rest_search_parameters_never_5xx(world, client, params):
    _no_5xx(client.get("/rest/bug", params), "/rest/bug", params)


@FUZZ
@given(
    charts=st.lists(
        st.tuples(st.sampled_from(sorted(search.FIELDS) + ["OP", "CP", "noop", "nonsense"]),
                  st.sampled_from(sorted(search.TEXT_OPS) + ["noop", "bogus"]), VALUES, st.booleans()),
        min_size=1, max_size=4,
    ),
    old_style=st.booleans(),
)
def test_rest_boolean_charts_never_5xx(world, client, charts, old_style):
    params = {}
    for n, (field, op, value, negate) in enumerate(charts, start=1):
        if old_style:
            params.update({f"field0-{n}-0": field, f"type0-{n}-0": op, f"value0-{n}-0": value})
        else:
            params.update({f"f{n}": field, f"o{n}": op, f"v{n}": value, f"n{n}": "1" if negate else "0"})
    _no_5xx(client.get("/rest/bug", params), "/rest/bug", params)


@FUZZ
@given(value=VALUES, kind=st.sampled_from(["comment", "history"]), bug=st.one_of(st.just(None), VALUES))
def test_rest_bug_paths_and_new_since_never_5xx(world, client, value, kind, bug):
    number = world["number"] if bug is None else bug
    url = f"/rest/bug/{number}/{kind}".replace("?", "%3F").replace("#", "%23")
    _no_5xx(client.get(url, {"new_since": value}), url, value)
