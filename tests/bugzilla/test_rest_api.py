"""The /rest/ endpoints against Bugzilla 5.0's REST contract: shapes, searches, errors, permissions."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(bug["id"] for bug in response.json()["bugs"])


def test_version_and_no_trailing_slash_needed(client):
    assert client.get("/rest/version").json() == {"version": "5.0.4"}
    assert client.get("/rest/version/").json() == {"version": "5.0.4"}


def test_bug_has_bugzillas_fields_types_and_time_format(client, bugs):
    bug = client.get(f"/rest/bug/{bugs['public_a'].number}").json()["bugs"][0]
    assert bug["id"] == bugs["public_a"].number and isinstance(bug["id"], int)
    assert bug["product"] == "CA Program" and bug["component"] == "CA Certificate Compliance"
    assert bug["summary"] == "Acme Trust: OCSP responder returned unknown"
    assert bug["status"] == "ASSIGNED" and bug["resolution"] == "" and bug["is_open"] is True
    assert "[ocsp-failure]" in bug["whiteboard"] and bug["groups"] == []
    assert TIME.match(bug["creation_time"]) and TIME.match(bug["last_change_time"])
    assert bug["keywords"] == ["ca-compliance", "ocsp-failure"]
    [flag] = bug["flags"]
    assert flag["name"] == "needinfo" and flag["status"] == "?" and flag["setter"] == "staff"
    assert TIME.match(flag["creation_date"])


def test_security_sensitive_bug_is_component_ca_security_vulnerability_in_group(client_for, staff, bugs):
    bug = client_for(staff).get(f"/rest/bug/{bugs['secret_a'].number}").json()["bugs"][0]
    assert bug["component"] == "CA Security Vulnerability" and bug["groups"] == ["ca-program-security"]


def test_unknown_bug_is_404_code_101_and_a_bug_you_may_not_see_is_401_code_102(client, bugs):
    response = client.get("/rest/bug/999999")
    assert response.status_code == 404
    assert response.json() == {"error": True, "code": 101, "message": "Bug #999999 does not exist."}
    response = client.get(f"/rest/bug/{bugs['secret_a'].number}")
    assert response.status_code == 401 and response.json()["code"] == 102
    assert "Key compromise" not in response.content.decode()


def test_malformed_values_get_bugzillas_codes(client, bugs):
    assert client.get("/rest/bug/abc").json()["code"] == 100
    assert client.get("/rest/bug?id=12x").json()["code"] == 100
    response = client.get("/rest/bug?creation_time=yesterday-ish")
    assert response.status_code == 400 and response.json()["code"] == 56
    assert client.get("/rest/bug?limit=ten").json()["code"] == 52
    assert client.get("/rest/bug?f1=no_such_field&o1=equals&v1=x").json()["code"] == 108


def test_unknown_parameters_are_ignored(client, bugs):
    assert ids(client.get("/rest/bug?frobnicate=1&product=CA+Program")) == sorted(
        [bugs["public_a"].number, bugs["public_b"].number]
    )


def test_search_hides_security_bugs_from_those_who_may_not_see_them(client, client_for, make_key, rep_a, rep_b, bugs):
    public = {bugs["public_a"].number, bugs["public_b"].number}
    assert set(ids(client.get("/rest/bug?product=CA Program"))) == public
    key_a = make_key(rep_a)
    assert set(ids(client.get(f"/rest/bug?product=CA Program&Bugzilla_api_key={key_a}"))) == public | {bugs["secret_a"].number}
    assert set(ids(client.get("/rest/bug", {"component": "CA Security Vulnerability"}, headers={"X-BUGZILLA-API-KEY": make_key(rep_b)}))) == {
        bugs["secret_b"].number
    }


def test_every_key_carrier_is_accepted_and_a_bad_key_is_code_306(client, make_key, rep_a, bugs):
    secret = bugs["secret_a"].number
    key = make_key(rep_a)
    assert client.get(f"/rest/bug/{secret}?api_key={key}").status_code == 200
    assert client.get(f"/rest/bug/{secret}?Bugzilla_api_key={key}").status_code == 200
    assert client.get(f"/rest/bug/{secret}", headers={"X-BUGZILLA-API-KEY": key}).status_code == 200
    assert client.get(f"/rest/bug/{secret}", headers={"Authorization": f"Token {key}"}).status_code == 200
    response = client.get(f"/rest/bug/{secret}?api_key=rw_wrong")
    assert response.status_code == 400 and response.json()["code"] == 306


def test_search_by_fields_and_boolean_charts(client, bugs):
    a, b = bugs["public_a"].number, bugs["public_b"].number
    assert ids(client.get(f"/rest/bug?id={a},{b}")) == sorted([a, b])
    assert ids(client.get("/rest/bug?status=ASSIGNED&component=CA Certificate Compliance")) == sorted([a, b])
    assert ids(client.get("/rest/bug?bug_status=RESOLVED")) == []
    assert ids(client.get("/rest/bug?whiteboard=audit-delay")) == [b]
    assert ids(client.get("/rest/bug?summary=responder")) == [a]
    # python-bugzilla's whiteboard and flag searches:
    assert ids(client.get("/rest/bug?query_format=advanced&field0-0-0=status_whiteboard&type0-0-0=substring&value0-0-0=ocsp")) == [a]
    assert ids(client.get("/rest/bug?field0-0-0=flagtypes.name&type0-0-0=substring&value0-0-0=needinfo?")) == [a]
    # fN/oN/vN with OR, negation and parentheses:
    assert ids(client.get("/rest/bug?j_top=OR&f1=short_desc&o1=substring&v1=OCSP&f2=short_desc&o2=substring&v2=audit")) == sorted([a, b])
    assert ids(client.get("/rest/bug?f1=OP&n1=1&f2=status_whiteboard&o2=substring&v2=ocsp&f3=CP")) == [b]
    # columns OR, rows AND:
    assert ids(client.get("/rest/bug?field0-0-0=short_desc&type0-0-0=substring&value0-0-0=OCSP&field0-0-1=short_desc&type0-0-1=substring&value0-0-1=audit&field0-1-0=status_whiteboard&type0-1-0=substring&value0-1-0=audit")) == [b]


def test_comment_search_never_matches_a_private_comment_for_the_public(client, client_for, staff, bugs):
    assert ids(client.get("/rest/bug?f1=longdesc&o1=substring&v1=Staff-only")) == []
    assert ids(client_for(staff).get("/rest/bug?f1=longdesc&o1=substring&v1=Staff-only")) == [bugs["public_a"].number]


def test_times_limit_offset_count_only_and_fields(client, bugs):
    assert ids(client.get("/rest/bug?creation_time=2000-01-01T00:00:00Z")) == sorted([bugs["public_a"].number, bugs["public_b"].number])
    assert ids(client.get("/rest/bug?last_change_time=2999-01-01")) == []
    assert client.get("/rest/bug?count_only=1").json() == {"bug_count": 2}
    assert len(client.get("/rest/bug?limit=1&offset=1").json()["bugs"]) == 1
    bug = client.get("/rest/bug?include_fields=id,summary&include_fields=status").json()["bugs"][0]
    assert set(bug) == {"id", "summary", "status"}
    bug = client.get("/rest/bug?exclude_fields=flags,cc").json()["bugs"][0]
    assert "flags" not in bug and "cc" not in bug and "summary" in bug


def test_comments_leave_private_ones_out_and_keep_bugzillas_numbering(client, client_for, staff, bugs):
    number = bugs["public_a"].number
    body = client.get(f"/rest/bug/{number}/comment").json()
    comments = body["bugs"][str(number)]["comments"]
    assert [c["count"] for c in comments] == [0, 1, 3]  # 2 is the private comment
    assert all("Staff-only" not in c["text"] for c in comments)
    assert comments[0]["text"].startswith("Description of") and TIME.match(comments[0]["time"])
    staff_comments = client_for(staff).get(f"/rest/bug/{number}/comment").json()["bugs"][str(number)]["comments"]
    assert [c["count"] for c in staff_comments] == [0, 1, 2, 3] and staff_comments[2]["is_private"] is True


def test_history_lists_changes_with_who_and_when(client, bugs):
    [entry] = client.get(f"/rest/bug/{bugs['public_a'].number}/history").json()["bugs"]
    assert entry["id"] == bugs["public_a"].number
    changes = [c for h in entry["history"] for c in h["changes"]]
    assert any(c["field_name"] == "whiteboard" and "Next update" in c["added"] for c in changes)
    assert any(c["field_name"] == "flagtypes.name" and c["added"] == "needinfo?(Acme Trust)" for c in changes)
    assert all(TIME.match(h["when"]) and h["who"] for h in entry["history"])
    assert client.get(f"/rest/bug/{bugs['secret_b'].number}/history").json()["code"] == 102


def test_field_bug_lists_fields_and_legal_values(client):
    fields = client.get("/rest/field/bug").json()["fields"]
    status = next(f for f in fields if f["name"] == "bug_status")
    assert {v["name"] for v in status["values"]} >= {"NEW", "ASSIGNED", "RESOLVED"}
    names = client.get("/rest/field/bug?include_fields=name").json()["fields"]
    assert all(set(f) == {"name"} for f in names)


def test_writes_need_a_login_and_unknown_resources_are_code_32614(client, bugs):
    # Writes (test_rest_writes.py) need an API key: without one, Bugzilla's login_required.
    response = client.post("/rest/bug", {"summary": "x"})
    assert response.status_code == 401 and response.json()["code"] == 410
    response = client.delete(f"/rest/bug/{bugs['public_a'].number}")
    assert response.status_code == 404 and response.json()["code"] == 32614
    assert client.post("/rest/version").json()["code"] == 32614
    assert client.get("/rest/nothing/here").json()["code"] == 32614


def test_search_runs_a_fixed_number_of_queries(client, make_key, staff, owner_a, django_assert_max_num_queries):
    from compliance.actions import incidents as act

    def make(n):
        for i in range(n):
            incident = act.incident_create(actor=None, ca_owner=owner_a, title=f"Bug {i}", description="d")
            act.question_ask(actor=staff, incident=incident, body="Why?")
            incident.cc.add(staff)

    key = make_key(staff)
    client.get(f"/rest/version?api_key={key}")  # the key's last_used_at is written once a minute at most
    make(3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert len(client.get(f"/rest/bug?api_key={key}").json()["bugs"]) == 3
    make(20)
    with CaptureQueriesContext(connection) as large:
        assert len(client.get(f"/rest/bug?api_key={key}").json()["bugs"]) == 23
    assert len(large) == len(small) <= 13  # +1: the page's keys first (config.pagination.deferred_slice)
