"""Bad input is a 400 naming the parameter, in the shape of the surface it reaches, never a 500:
NUL bytes (PostgreSQL refuses them inside the driver), integers past what a column holds, dates
past year 9999 or before year 1 once in UTC, offsets past what LIMIT/OFFSET take, regular
expressions either database refuses, and pathological ones that would hold a worker."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from compliance.actions import incidents as act
from compliance.bugzilla import regexp

HUGE = "9" * 30


@pytest.fixture
def incident(db, owner_a, staff):
    public = act.incident_create(actor=None, ca_owner=owner_a, title="OCSP outage", description="d", whiteboard="[ca-compliance]")
    act.comment_create(actor=staff, incident=public, body="a" * 20000)
    return public


@pytest.mark.parametrize("url", ["/api/v1/incidents/", "/api/v1/certificates/", "/api/v1/audits/", "/api/v1/cas/"])
def test_a_nul_byte_in_an_api_parameter_is_a_json_400_naming_it(client, url):
    response = client.get(url, {"q": "ocsp\x00"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid" and "'q' must not contain a NUL byte" in body["detail"]
    assert body["errors"] == {"q": ["must not contain a NUL byte (\\x00)."]}


def test_a_nul_byte_in_a_parameter_name_or_the_path_is_refused_too(client):
    response = client.get("/api/v1/incidents/?q%00x=1")
    assert response.status_code == 400 and "parameter name must not contain a NUL byte" in response.json()["detail"]
    assert client.get("/certificates/%00/").status_code == 400


@pytest.mark.parametrize("params", [{"summary": "a\x00"}, {"f1": "short_desc", "o1": "regexp", "v1": "\x00"},
                                    {"api_key": "\x00"}, {"creator": "x\x00"}])
def test_a_nul_byte_under_rest_is_bugzillas_error_shape(client, incident, params):
    response = client.get("/rest/bug", params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] is True and body["code"] == 53
    name = next(name for name, value in params.items() if "\x00" in value)
    assert f"'{name}' must not contain a NUL byte" in body["message"]


@pytest.mark.parametrize("url", ["/incidents/", "/cas/", "/certificates/", "/distrust/"])
def test_a_nul_byte_on_a_page_is_a_400_page_naming_the_parameter(client_for, staff, url):
    response = client_for(staff).get(url, {"q": "x\x00", "kind": "\x00"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Request refused" in text and "<code>q</code>" in text and "NUL byte" in text


@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "²"])
def test_an_integer_past_a_columns_range_is_a_400_on_api_page_and_export(db, client, value):
    api = client.get("/api/v1/incidents/", {"ca": value})
    assert api.status_code == 400 and "ca" in api.json()["errors"]
    page = client.get("/incidents/", {"ca": value})
    assert page.status_code == 400
    assert '<p class="error" role="alert">ca must be an integer' in page.content.decode()
    export = client.get("/incidents/export.csv", {"ca": value})
    assert export.status_code == 400 and b"ca" in export.content
    assert client.get("/api/v1/audits/", {"ca_owner": value}).status_code == 400


def test_an_owner_id_past_a_columns_range_matches_nothing_instead_of_failing(client_for, staff):
    # `owner` takes an id or an exact name: 30 digits is neither an id a column holds nor a name.
    response = client_for(staff).get("/api/v1/certificates/", {"owner": HUGE})
    assert response.status_code == 200 and response.json()["count"] == 0


@pytest.mark.parametrize("value, code", [(HUGE, 53), ("²", 52), ("-1", 52)])
def test_rest_offset_and_limit_out_of_range_are_400s_naming_them(client, incident, value, code):
    for name in ("offset", "limit"):
        response = client.get("/rest/bug", {name: value})
        assert response.status_code == 400, (name, value)
        assert response.json()["code"] == code and f"'{name}'" in response.json()["message"]


@pytest.mark.parametrize("value", ["-999999999999d", "-99999y", "9999-12-31T23:59:59-23:00", "0001-01-01T00:00:00+14:00"])
def test_rest_dates_past_the_calendar_are_400s_naming_the_parameter(client, incident, value):
    for params in ({"creation_time": value}, {"last_change_time": value},
                   {"f1": "creation_ts", "o1": "greaterthan", "v1": value}):
        response = client.get("/rest/bug", params)
        assert response.status_code == 400, params
        body = response.json()
        assert body["code"] == 56
        name = "v1" if "f1" in params else next(iter(params))
        assert name in body["message"]
    for kind in ("comment", "history"):
        response = client.get(f"/rest/bug/{incident.number}/{kind}", {"new_since": value})
        assert response.status_code == 400 and "new_since" in response.json()["message"]


def test_api_dates_past_the_calendar_are_refused_by_the_shared_parser():
    from config.api import parse_iso_datetime

    assert parse_iso_datetime("9999-12-31T23:59:59-23:00") is None
    assert parse_iso_datetime("0001-01-01T00:00:00+14:00") is None
    assert parse_iso_datetime("2024-05-01T12:00:00+02:00").isoformat() == "2024-05-01T10:00:00+00:00"


@pytest.mark.parametrize(
    "pattern, says",
    [
        ("(a+)+$", "repeats a group that itself repeats"),
        ("(a|aa)*$", "repeats a group of alternatives"),
        (".*.*.*.*x", "more than 3 unbounded repetitions"),
        ("a{300}", "repeats more than 255 times"),
        (r"(a)\1", "back-reference"),
        ("(?<=a+)b", "not a valid regular expression"),
        ("(", "not a valid regular expression"),
        ("x" * 300, "longer than 255 characters"),
    ],
)
def test_regexps_that_could_hold_a_worker_or_that_a_database_refuses_are_400s(client, incident, pattern, says):
    for params, name in (({"f1": "short_desc", "o1": "regexp", "v1": pattern}, "v1"),
                         ({"field0-0-0": "longdesc", "type0-0-0": "notregexp", "value0-0-0": pattern}, "value0-0-0"),
                         ({"short_desc_type": "regexp", "short_desc": pattern}, "summary"),
                         ({"f1": "bug_status", "o1": "regexp", "v1": pattern}, "v1")):
        started = time.monotonic()
        response = client.get("/rest/bug", params)
        assert time.monotonic() - started < 2
        assert response.status_code == 400, (params, response.content[:200])
        body = response.json()
        assert body["code"] == 53 and says in body["message"] and f"'{name}'" in body["message"]


def test_a_regexp_postgresql_refuses_is_a_400_there_and_harmless_on_sqlite(client, incident):
    # Python reads "[[:foo:]]" as a character class; PostgreSQL knows no class "foo".
    response = client.get("/rest/bug", {"f1": "short_desc", "o1": "regexp", "v1": "[[:foo:]]"})
    if connection.vendor == "postgresql":
        assert response.status_code == 400 and "PostgreSQL" in response.json()["message"]
    else:
        assert response.status_code == 200


def test_an_allowed_but_slow_regexp_is_stopped_at_the_deadline(client, incident, monkeypatch):
    """Three unbounded repetitions over a 20,000-character comment: cubic backtracking on SQLite's
    Python REGEXP, stopped by the interval timer; PostgreSQL's engine answers it quickly or the
    statement_timeout stops it. Either way the worker is free within the deadline."""
    monkeypatch.setattr(regexp, "TIMEOUT_SECONDS", 0.5)
    started = time.monotonic()
    response = client.get("/rest/bug", {"f1": "longdesc", "o1": "regexp", "v1": "a.*a.*a.*x"})
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    if response.status_code == 400:
        assert "took longer than" in response.json()["message"]
    else:
        assert response.status_code == 200 and response.json()["bugs"] == []
    # The connection is usable afterwards (the timeout did not leave a transaction aborted).
    assert client.get("/rest/bug", {"summary": "ocsp"}).json()["bugs"][0]["id"] == incident.number


def test_a_sane_regexp_still_searches(client, incident):
    response = client.get("/rest/bug", {"f1": "short_desc", "o1": "regexp", "v1": "ocsp (out|down)age$"})
    assert [bug["id"] for bug in response.json()["bugs"]] == [incident.number]


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"incident_description": "Issued with an OU\x00."}, "incident_description"),
        ({"timeline": [{"at": "2024-02-01 09:30", "event": "Report\x00 received."}]}, "timeline"),
        ({"total_certificates": "9" * 30}, None),
    ],
)
def test_a_report_with_a_nul_byte_or_a_huge_count_is_refused_or_stored_never_a_500(
    client_for, rep_a, owner_a, overrides, field
):
    import json

    from accounts import api_keys
    from compliance.models import Comment
    from tests.incidents.incident_helpers import full_report_data

    incident = act.incident_create(actor=rep_a, ca_owner=owner_a, title="OU misuse", description="d")
    key = api_keys.api_key_create(actor=rep_a, name="reports", read_only=False).plain
    before = Comment.objects.count()
    response = client_for(None).post(
        f"/api/v1/incidents/{incident.number}/reports/", json.dumps({"kind": "full", "data": full_report_data(**overrides)}),
        content_type="application/json", headers={"Authorization": f"Token {key}"},
    )
    if field is None:  # a count past any column is still a count: the report text holds it
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(name.startswith(field) and "NUL byte" in " ".join(messages) for name, messages in errors.items()), errors
    assert Comment.objects.count() == before
    # The page: the same refusal beside the field, with what was typed kept.
    page = client_for(rep_a).post(
        f"/incidents/{incident.number}/reports/preliminary/",
        {"action": "preview", "incident_description": "Issued with an OU\x00.", "ca_owner_ccadb_id": "A000001"},
    )
    assert page.status_code == 400 and "NUL byte" in page.content.decode()


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00-23:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_form_time_with_an_offset_the_database_refuses_is_stored_in_utc_or_refused(client_for, rep_a, owner_a, value):
    from compliance.models import Incident

    response = client_for(rep_a).post("/incidents/new/", {
        "ca_owner": owner_a.pk, "title": "Late audit", "description": "d", "source": "self_reported", "became_aware_at": value,
    })
    if value.startswith("2024"):
        assert response.status_code == 302
        aware = Incident.objects.get().became_aware_at
        assert aware.utcoffset().total_seconds() == 0 and aware.isoformat().startswith("2024-01-01T23:00")
    else:
        assert response.status_code in (200, 400) and Incident.objects.count() == 0
        assert "between years 1 and 9999" in response.content.decode()
