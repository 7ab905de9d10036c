"""/rest/ writes against Bugzilla 5.0's contract: codes and statuses, shapes, and the actions' rules
(issue 16). The python-bugzilla round trips are in test_python_bugzilla_writes.py."""

from __future__ import annotations

import base64
import json

import pytest

from compliance.models import Attachment, Comment, Incident, IncidentRelation, Question

pytestmark = pytest.mark.django_db
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def call(client, make_key):
    """call(method, path, user, body) -> response; user None: no key."""
    keys = {}

    def run(method, path, user=None, body=None, *, read_only=False):
        headers = {}
        if user is not None:
            if (user.pk, read_only) not in keys:
                keys[(user.pk, read_only)] = make_key(user, read_only=read_only)
            headers["X-BUGZILLA-API-KEY"] = keys[(user.pk, read_only)]
        if method == "GET":
            return client.get(path, headers=headers)
        data = json.dumps(body if body is not None else {})
        return getattr(client, method.lower())(path, data=data, content_type="application/json", headers=headers)

    return run


def err(response, code, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] is True and body["code"] == code, body
    return body["message"]


NEW_BUG = {"product": "CA Program", "component": "CA Certificate Compliance", "version": "other",
           "summary": "Acme Trust: OCSP outage", "description": "The responder was down for 2 hours."}


# ------------------------------------------------------------------------------ create


def test_post_bug_files_an_incident_201(call, rep_a, owner_a):
    response = call("POST", "/rest/bug", rep_a, NEW_BUG)
    assert response.status_code == 201
    incident = Incident.objects.get(number=response.json()["id"])
    assert (incident.ca_owner, incident.title, incident.reporter) == (owner_a, "Acme Trust: OCSP outage", rep_a)


def test_post_bug_finds_the_ca_owner_by_cf_ca_owner_or_the_reps_one_ca(call, reviewer, rep_b, owner_a, owner_b):
    response = call("POST", "/rest/bug", reviewer, {**NEW_BUG, "summary": "Late CRL", "cf_ca_owner": "acme trust"})
    assert Incident.objects.get(number=response.json()["id"]).title == "Acme Trust: Late CRL"
    response = call("POST", "/rest/bug", rep_b, {**NEW_BUG, "summary": "Our own late CRL"})
    assert Incident.objects.get(number=response.json()["id"]).ca_owner == owner_b
    message = err(call("POST", "/rest/bug", reviewer, {**NEW_BUG, "summary": "No CA named"}), 50, 400)
    assert "cf_ca_owner" in message


@pytest.mark.parametrize(("change", "code", "status"), [
    ({"product": "Firefox"}, 106, 401),
    ({"product": ""}, 50, 400),
    ({"component": "General"}, 105, 400),
    ({"summary": "  "}, 107, 400),
    ({"description": ""}, 50, 400),
    ({"groups": ["admin"]}, 120, 401),
    ({"whiteboard": "[ca-compliance]"}, 115, 401),  # only staff set the whiteboard
    ({"comment_is_private": True}, 113, 401),
])
def test_post_bug_refusals_use_bugzillas_codes_and_change_nothing(call, rep_a, owner_a, change, code, status):
    err(call("POST", "/rest/bug", rep_a, {**NEW_BUG, **change}), code, status)
    assert not Incident.objects.exists()


def test_writes_need_a_key_that_may_write(call, client, rep_a, owner_a, bugs):
    err(call("POST", "/rest/bug", None, NEW_BUG), 410, 401)
    err(call("POST", "/rest/bug", rep_a, NEW_BUG, read_only=True), 410, 401)
    # A browser session is not enough: /rest/ takes no CSRF token.
    client.force_login(rep_a)
    err(client.post("/rest/bug", data=json.dumps(NEW_BUG), content_type="application/json"), 410, 401)
    assert Incident.objects.count() == 4
    err(call("DELETE", f"/rest/bug/{bugs['public_a'].number}", rep_a), 32614, 404)


def test_malformed_body_is_refused(client, make_key, rep_a, owner_a):
    response = client.post("/rest/bug", data="{not json", content_type="application/json",
                           headers={"X-BUGZILLA-API-KEY": make_key(rep_a, read_only=False)})
    assert response.status_code == 400 and "JSON" in response.json()["message"]


# ------------------------------------------------------------------------------ comments


def test_post_comment_201_and_private_refused_for_non_staff(call, staff, rep_a, reviewer, bugs):
    number = bugs["public_a"].number
    response = call("POST", f"/rest/bug/{number}/comment", reviewer, {"comment": "Is this fixed?"})
    assert response.status_code == 201
    assert Comment.objects.get(pk=response.json()["id"]).body == "Is this fixed?"
    for user in (rep_a, reviewer):
        err(call("POST", f"/rest/bug/{number}/comment", user, {"comment": "secret", "is_private": True}), 113, 401)
    assert not Comment.objects.filter(body="secret").exists()
    response = call("POST", f"/rest/bug/{number}/comment", staff, {"comment": "staff only", "is_private": True})
    assert Comment.objects.get(pk=response.json()["id"]).is_private
    err(call("POST", f"/rest/bug/{number}/comment", reviewer, {"comment": "  "}), 50, 400)


def test_comment_on_a_bug_one_may_not_see_is_102(call, rep_b, bugs):
    err(call("POST", f"/rest/bug/{bugs['secret_a'].number}/comment", rep_b, {"comment": "hi"}), 102, 401)
    err(call("POST", "/rest/bug/999999/comment", rep_b, {"comment": "hi"}), 101, 404)


# ------------------------------------------------------------------------------ update


def test_put_bug_triage_changes_in_bugzillas_shape(call, staff, bugs):
    number = bugs["public_b"].number
    response = call("PUT", f"/rest/bug/{number}", staff, {
        "ids": [number], "status": "RESOLVED", "resolution": "FIXED", "summary": "Borealis PKI: late audit",
        "comment": {"body": "Audit received."}})
    assert response.status_code == 200, response.content
    [bug] = response.json()["bugs"]
    assert bug["id"] == number and bug["alias"] == []
    assert bug["changes"]["status"] == {"removed": "ASSIGNED", "added": "RESOLVED"}
    assert bug["changes"]["resolution"] == {"removed": "", "added": "FIXED"}
    assert bug["changes"]["summary"]["added"] == "Borealis PKI: late audit"
    assert Comment.objects.filter(incident=bugs["public_b"], body="Audit received.").exists()


@pytest.mark.parametrize(("change", "code", "status"), [
    ({"status": "RESOLVED"}, 121, 400),
    ({"resolution": "FIXED"}, 122, 400),
    ({"status": "REOPENED"}, 123, 400),
    ({"status": "RESOLVED", "resolution": "DUPLICATE"}, 119, 400),
    ({"assigned_to": "nobody-such"}, 504, 401),
])
def test_put_bug_refusals_use_bugzillas_codes(call, staff, bugs, change, code, status):
    err(call("PUT", f"/rest/bug/{bugs['public_b'].number}", staff, {**change, "comment": {"body": "x"}}), code, status)
    bugs["public_b"].refresh_from_db()
    assert bugs["public_b"].status == "ASSIGNED"
    assert not Comment.objects.filter(body="x").exists()  # one transaction: nothing changed


def test_put_bug_dupe_of_and_dependency_loop(call, staff, bugs):
    a, b = bugs["public_a"].number, bugs["public_b"].number
    response = call("PUT", f"/rest/bug/{b}", staff, {"dupe_of": a})
    assert response.status_code == 200, response.content
    bugs["public_b"].refresh_from_db()
    assert (bugs["public_b"].status, bugs["public_b"].resolution) == ("RESOLVED", "DUPLICATE")
    assert IncidentRelation.objects.filter(source=bugs["public_b"], target=bugs["public_a"], kind="duplicate_of").exists()
    assert call("PUT", f"/rest/bug/{a}", staff, {"depends_on": {"add": [b]}}).status_code == 200
    err(call("PUT", f"/rest/bug/{a}", staff, {"blocks": {"add": [b]}}), 116, 400)


def test_put_bug_triage_by_non_staff_is_illegal_change(call, rep_a, reviewer, bugs):
    for user in (rep_a, reviewer):
        err(call("PUT", f"/rest/bug/{bugs['public_a'].number}", user, {"whiteboard": "x"}), 115, 401)


def test_put_bug_cc_add_and_remove(call, staff, rep_a, reviewer, bugs):
    number = bugs["secret_a"].number
    response = call("PUT", f"/rest/bug/{number}", rep_a, {"cc": {"add": ["staff"]}})
    assert response.json()["bugs"][0]["changes"]["cc"] == {"removed": "", "added": "staff"}
    assert list(bugs["secret_a"].cc.values_list("username", flat=True)) == ["staff"]
    response = call("PUT", f"/rest/bug/{number}", rep_a, {"cc": {"remove": ["staff"]}})
    assert response.json()["bugs"][0]["changes"]["cc"] == {"removed": "staff", "added": ""}
    err(call("PUT", f"/rest/bug/{number}", rep_a, {"cc": {"add": ["no-such-login"]}}), 504, 401)


def test_needinfo_asks_and_the_ca_answers_by_clearing_it(call, staff, rep_a, rep_b, bugs):
    number = bugs["public_b"].number
    response = call("PUT", f"/rest/bug/{number}", staff, {
        "flags": [{"name": "needinfo", "status": "?"}], "comment": {"body": "When is the audit due?"}})
    assert response.json()["bugs"][0]["changes"]["flagtypes.name"] == {"removed": "", "added": "needinfo?(Borealis PKI)"}
    question = Question.objects.get(incident=bugs["public_b"])
    assert question.comment.body == "When is the audit due?" and question.is_open
    # Only whom it asks answers it, and an answer needs text.
    err(call("PUT", f"/rest/bug/{number}", rep_a, {"flags": [{"name": "needinfo", "status": "X"}],
                                                   "comment": {"body": "not mine"}}), 130, 400)
    err(call("PUT", f"/rest/bug/{number}", rep_b, {"flags": [{"name": "needinfo", "status": "X"}]}), 50, 400)
    response = call("PUT", f"/rest/bug/{number}", rep_b, {"flags": [{"name": "needinfo", "status": "X"}],
                                                          "comment": {"body": "By 2027-01-31."}})
    assert response.status_code == 200, response.content
    question.refresh_from_db()
    assert not question.is_open and question.answered_by.body == "By 2027-01-31."
    bug = call("GET", f"/rest/bug/{number}", staff).json()["bugs"][0]
    assert bug["flags"] == []


def test_needinfo_refusals(call, staff, bugs):
    number = bugs["public_b"].number
    err(call("PUT", f"/rest/bug/{number}", staff, {"flags": [{"name": "review", "status": "?"}]}), 53, 400)
    err(call("PUT", f"/rest/bug/{number}", staff, {"flags": [{"name": "needinfo", "status": "!"}]}), 129, 400)
    err(call("PUT", f"/rest/bug/{number}", staff, {"flags": [{"name": "needinfo", "status": "?"}],
                                                   "comment": {"body": "q", "is_private": True}}), 117, 400)
    assert not Question.objects.filter(incident=bugs["public_b"]).exists()


# ------------------------------------------------------------------------------ attachments


def attach(call, user, number, data=PNG, **kw):
    body = {"ids": [number], "data": base64.b64encode(data).decode(), "file_name": "shot.txt",
            "summary": "Screenshot", "content_type": "text/plain", **kw}
    return call("POST", f"/rest/bug/{number}/attachment", user, body)


def test_post_attachment_201_sniffs_the_type_and_lists_in_bugzillas_shape(call, rep_a, reviewer, bugs):
    number = bugs["public_a"].number
    response = attach(call, rep_a, number)
    assert response.status_code == 201
    [pk] = response.json()["ids"]
    assert Attachment.objects.get(pk=pk).content_type == "image/png"
    listed = call("GET", f"/rest/bug/{number}/attachment", reviewer).json()
    assert listed["attachments"] == {}
    [row] = listed["bugs"][str(number)]
    assert row["id"] == pk and row["bug_id"] == number and row["file_name"] == "shot.txt"
    assert row["summary"] == "Screenshot" and row["content_type"] == "image/png" and row["size"] == len(PNG)
    assert (row["is_private"], row["is_obsolete"], row["is_patch"]) == (0, 0, 0) and row["creator"] == "rep_a"
    assert base64.b64decode(row["data"]) == PNG
    one = call("GET", f"/rest/bug/attachment/{pk}?exclude_fields=data", reviewer).json()
    assert one["bugs"] == {} and "data" not in one["attachments"][str(pk)]
    assert call("GET", "/rest/bug/attachment/999999", reviewer).json() == {"bugs": {}, "attachments": {}}


def test_post_attachment_with_a_comment_links_it(call, rep_a, bugs):
    number = bugs["public_a"].number
    [pk] = attach(call, rep_a, number, comment="The screenshot of the outage.").json()["ids"]
    comment = Attachment.objects.get(pk=pk).comment
    assert comment.body == "The screenshot of the outage."


@pytest.mark.parametrize(("change", "code"), [
    ({"data": ""}, 50), ({"data": "***"}, 53), ({"summary": ""}, 604), ({"file_name": ""}, 603),
    ({"data": base64.b64encode(b"").decode() or "", "summary": "x"}, 50),
])
def test_post_attachment_refusals(call, rep_a, bugs, change, code):
    err(call("POST", f"/rest/bug/{bugs['public_a'].number}/attachment", rep_a, {
        "data": base64.b64encode(PNG).decode(), "file_name": "a.png", "summary": "s", **change}), code, 400)
    assert not Attachment.objects.exists()


def test_post_attachment_size_limit_is_600(settings, call, rep_a, bugs):
    settings.ATTACHMENT_MAX_BYTES = 100
    message = err(attach(call, rep_a, bugs["public_a"].number, data=b"x" * 101), 600, 400)
    assert "at most" in message and "101 bytes" in message
    assert not Attachment.objects.exists()


def test_a_json_attachment_larger_than_a_form_body_is_accepted(call, rep_a, bugs, settings):
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    data = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)  # 2 MB: base64 makes the JSON body ~2.7 MB
    response = attach(call, rep_a, bugs["public_a"].number, data=data)
    assert response.status_code == 201, response.content[:300]
    assert Attachment.objects.get().content_type == "application/pdf"


def test_private_attachment_through_rest_is_for_staff_and_the_ca(call, staff, rep_a, rep_b, reviewer, client, bugs):
    number = bugs["public_a"].number
    [pk] = attach(call, rep_a, number, is_private=True, file_name="customers.csv").json()["ids"]
    for user in (staff, rep_a):
        assert [a["id"] for a in call("GET", f"/rest/bug/{number}/attachment", user).json()["bugs"][str(number)]] == [pk]
        assert call("GET", f"/rest/bug/attachment/{pk}", user).json()["attachments"][str(pk)]["is_private"] == 1
    for user in (rep_b, reviewer, None):
        assert call("GET", f"/rest/bug/{number}/attachment", user).json()["bugs"][str(number)] == []
        err(call("GET", f"/rest/bug/attachment/{pk}", user), 304, 401)
    err(attach(call, reviewer, number, is_private=True), 113, 401)


def test_attachment_of_an_incident_one_may_not_see_is_102(call, rep_a, rep_b, bugs):
    [pk] = attach(call, rep_a, bugs["secret_a"].number).json()["ids"]
    err(call("GET", f"/rest/bug/attachment/{pk}", rep_b), 102, 401)
    err(call("GET", f"/rest/bug/{bugs['secret_a'].number}/attachment", rep_b), 102, 401)
    err(attach(call, rep_b, bugs["secret_a"].number), 102, 401)


def test_put_attachment_obsolete_and_who_may(call, staff, rep_a, reviewer, bugs):
    [pk] = attach(call, rep_a, bugs["public_a"].number).json()["ids"]
    err(call("PUT", f"/rest/bug/attachment/{pk}", reviewer, {"is_obsolete": True}), 109, 401)
    response = call("PUT", f"/rest/bug/attachment/{pk}", rep_a, {"ids": [pk], "is_obsolete": True})
    assert response.json()["attachments"][0]["changes"] == {"is_obsolete": {"removed": "0", "added": "1"}}
    assert call("GET", f"/rest/bug/attachment/{pk}", reviewer).json()["attachments"][str(pk)]["is_obsolete"] == 1
    assert call("PUT", f"/rest/bug/attachment/{pk}", staff, {"is_obsolete": False}).status_code == 200
    assert not Attachment.objects.get(pk=pk).is_obsolete


def test_attachment_list_runs_a_fixed_number_of_queries(call, rep_a, reviewer, bugs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    number = bugs["public_a"].number
    url = f"/rest/bug/{number}/attachment?exclude_fields=data"
    attach(call, rep_a, number)
    call("GET", url, reviewer)
    with CaptureQueriesContext(connection) as one:
        call("GET", url, reviewer)
    for _ in range(5):
        attach(call, rep_a, number)
    with CaptureQueriesContext(connection) as six:
        response = call("GET", url, reviewer)
    assert len(response.json()["bugs"][str(number)]) == 6
    assert len(one.captured_queries) > 0 and len(six.captured_queries) == len(one.captured_queries)


def test_the_comment_posted_with_an_attachment_names_it(call, rep_a, reviewer, bugs):
    number = bugs["public_a"].number
    [pk] = attach(call, rep_a, number, comment="Timeline attached.").json()["ids"]
    comments = call("GET", f"/rest/bug/{number}/comment", reviewer).json()["bugs"][str(number)]["comments"]
    assert [c["attachment_id"] for c in comments if c["text"] == "Timeline attached."] == [pk]
    assert all(c["attachment_id"] is None for c in comments if c["text"] != "Timeline attached.")
