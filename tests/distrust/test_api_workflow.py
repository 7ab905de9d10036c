"""The whole workflow driven through the REST API, with the refusals along the way."""

import base64
import json

import pytest

from distrust.models import DistrustAction, OneCRLEntry
from history.models import Event

USAGE_CSV = "root,metric,value,period\nDistrust Test Root One,TLS handshakes (%),0.012,2025-02\n"


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


@pytest.mark.django_db
def test_whole_workflow_through_the_api(staff, client_for, scenario, incident):
    api = client_for(staff)
    r = post(api, "/api/v1/distrust/", {"title": "Distrust Acme issuing CA", "incident_numbers": [incident.number],
                                        "bug": "1900001", "is_embargoed": True})
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    base = f"/api/v1/distrust/{pk}"
    assert [s["status"] for s in r.json()["steps"]] == ["open"] + ["pending"] * 7

    # 1. Report: the gate names what is missing (409) and nothing changes.
    r = post(api, f"{base}/steps/report/", {"complete": True})
    assert r.status_code == 409
    assert "say who reported" in r.json()["detail"] and "date of the report" in r.json()["detail"]
    r = post(api, f"{base}/steps/report/", {"reported_by": "researcher@example.test", "reported_on": "2025-03-01",
                                           "complete": True})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "decide"

    # 2. Decide: targets, one by issuer + serial alone; bad input is refused.
    inter = scenario.certs["inter"]
    r = post(api, f"{base}/targets/", {"issuer": base64.b64encode(bytes(inter.issuer_der)).decode(), "serial": "xyz"})
    assert r.status_code == 400 and "not hexadecimal" in r.json()["detail"]
    r = post(api, f"{base}/targets/", {"issuer": "bm90IGEgbmFtZQ==", "serial": "01"})
    assert r.status_code == 400 and "not a DER Name" in r.json()["detail"]
    r = post(api, f"{base}/targets/", {"issuer": base64.b64encode(bytes(inter.issuer_der)).decode(),
                                       "serial": inter.serial_hex})
    assert r.status_code == 201 and r.json()["sha256"] == inter.sha256  # matched to the registry certificate
    r = post(api, f"{base}/steps/decide/", {"decision": "Distrust the intermediate.", "rationale": "Key compromise.",
                                           "discussed_in": "private", "decided_on": "2025-03-02", "complete": True})
    assert r.status_code == 200, r.content

    # 3. Impact: CSV figures; the registry count of certificates chaining through the target.
    assert post(api, f"{base}/usage/", {"csv": "root,value\nx,1\n"}).status_code == 400
    assert post(api, f"{base}/usage/", {"csv": USAGE_CSV}).status_code == 201
    r = post(api, f"{base}/steps/impact/", {"impact_notes": "Few users.", "complete": True})
    assert r.status_code == 200 and r.json()["chain_count"] == 1 and r.json()["chain_leaves"] == 1

    # 4. Implement: generate, add the cross-sign, regenerate, complete.
    r = post(api, f"{base}/artifacts/")
    assert r.status_code == 200
    (item,) = r.json()["closure_items"]
    assert item["sha256"] == scenario.sha("inter_x")
    assert post(api, f"{base}/steps/implement/", {"complete": True}).status_code == 409
    assert post(api, f"{base}/closure/{item['id']}/", {"decision": "waived"}).status_code == 400  # needs a reason
    assert post(api, f"{base}/closure/{item['id']}/", {"decision": "added"}).status_code == 200
    assert post(api, f"{base}/artifacts/").status_code == 200
    assert post(api, f"{base}/steps/implement/", {"complete": True}).status_code == 200
    onecrl = api.get(f"{base}/onecrl.json")
    assert onecrl.status_code == 200 and onecrl["Content-Type"] == "application/json"
    records = onecrl.json()["data"]
    assert sorted(r["serialNumber"] for r in records) == sorted(
        base64.b64encode(bytes.fromhex(c.serial_hex)).decode() for c in (inter, scenario.certs["inter_x"]))
    diff = api.get(f"{base}/certdata.diff")
    assert diff.status_code == 200 and diff.content.decode().startswith("--- a/lib/ckfw/builtins/certdata.txt")

    # 5. Test: an unparseable upload is refused; the leaf fails to reach a trusted root on both paths.
    r = post(api, f"{base}/test-certificates/", {"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})
    assert r.status_code == 400 and "cannot be parsed" in r.json()["detail"]
    r = post(api, f"{base}/test-certificates/", {"pem": scenario.leaf.pem})
    assert r.status_code == 201
    r = post(api, f"{base}/test-runs/")
    assert r.status_code == 201 and r.json()["passed"], r.json()["summary"]
    assert post(api, f"{base}/steps/test/", {"complete": True}).status_code == 200

    # 6-8. Release (lifts the embargo, publishes OneCRL), communicate, result.
    r = post(api, f"{base}/steps/release/", {"nss_version": "3.110", "release_kind": "chemspill",
                                            "release_date": "2025-03-10", "complete": True})
    assert r.status_code == 409 and "OneCRL publication date" in r.json()["detail"]
    assert DistrustAction.objects.get(pk=pk).nss_version == ""  # the refused save changed nothing
    r = post(api, f"{base}/steps/release/", {"nss_version": "3.110", "release_kind": "chemspill",
                                            "release_date": "2025-03-10", "onecrl_published_on": "2025-03-09",
                                            "complete": True})
    # Prepared under embargo: Release also waits for the public wording, chosen and confirmed by staff.
    assert r.status_code == 409 and "write the public title" in r.json()["detail"]
    r = post(api, f"{base}/steps/release/", {"nss_version": "3.110", "release_kind": "chemspill",
                                            "release_date": "2025-03-10", "onecrl_published_on": "2025-03-09",
                                            "public_title": "Distrust of an Acme issuing CA", "complete": True})
    assert r.status_code == 409 and "confirm that the public title" in r.json()["detail"]
    r = post(api, f"{base}/steps/release/", {"nss_version": "3.110", "release_kind": "chemspill",
                                            "release_date": "2025-03-10", "onecrl_published_on": "2025-03-09",
                                            "public_title": "Distrust of an Acme issuing CA",
                                            "public_wording_confirmed": True, "complete": True})
    assert r.status_code == 200 and r.json()["is_embargoed"] is False
    assert OneCRLEntry.objects.filter(action_id=pk).count() == 2
    r = post(api, f"{base}/steps/communicate/", {"announcement": "Mozilla will no longer trust ...",
                                                "is_security_incident": True, "cve_id": "CVE-2025", "complete": True})
    assert r.status_code == 400 and "not a CVE id" in r.json()["detail"]
    r = post(api, f"{base}/steps/communicate/", {"announcement": "Mozilla will no longer trust ...",
                                                "is_security_incident": True, "cve_id": "CVE-2025-12345",
                                                "complete": True})
    assert r.status_code == 200
    r = post(api, f"{base}/steps/result/", {"user_visible_result": "An error page.", "complete": True})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert all(s["status"] == "done" for s in r.json()["steps"])

    # Reopen needs a reason, and sends later steps back.
    assert post(api, f"{base}/steps/communicate/reopen/", {"reason": ""}).status_code == 400
    r = post(api, f"{base}/steps/communicate/reopen/", {"reason": "wrong blog link"})
    assert r.status_code == 200 and r.json()["state"] == "communicate"
    assert [s["status"] for s in r.json()["steps"]][-2:] == ["open", "pending"]
    kinds = list(Event.objects.filter(subject_type="distrust.distrustaction", subject_id=pk,
                                      action__in=["completed", "reopened"]).values_list("action", "field", "old", "new"))
    assert kinds[-1] == ("reopened", "communicate", "closed", "communicate")
    assert len([k for k in kinds if k[0] == "completed"]) == 8


@pytest.mark.django_db
def test_api_refuses_everyone_but_staff_and_hides_embargoed_actions(staff, rep_a, reviewer, anonymous, client_for,
                                                                    make_action):
    secret = make_action(title="Embargoed", is_embargoed=True)
    public = make_action(title="Public")
    for user in (rep_a, reviewer, None):
        c = client_for(user)
        assert c.get(f"/api/v1/distrust/{secret.pk}/").status_code == 404
        assert [a["title"] for a in c.get("/api/v1/distrust/").json()["results"]] == ["Public"]
        refused = 401 if user is None else 403  # anonymous: authenticate first
        assert post(c, "/api/v1/distrust/", {"title": "x"}).status_code == refused
        r = post(c, f"/api/v1/distrust/{public.pk}/steps/report/", {"complete": True})
        assert r.status_code == refused
    assert DistrustAction.objects.count() == 2
    assert client_for(staff).get(f"/api/v1/distrust/{secret.pk}/").status_code == 200


@pytest.mark.django_db
def test_api_list_runs_a_fixed_number_of_queries(staff, client_for, make_action, django_assert_num_queries,
                                                  django_assert_max_num_queries):
    api = client_for(staff)
    make_action(title="one")
    api.get("/api/v1/distrust/")  # warm the session
    with django_assert_max_num_queries(8) as small:
        api.get("/api/v1/distrust/")
    for n in range(6):
        make_action(title=f"more {n}")
    with django_assert_num_queries(len(small.captured_queries)):
        r = api.get("/api/v1/distrust/")
    assert r.json()["count"] == 7


@pytest.mark.django_db
def test_artifact_endpoints_say_when_not_generated(staff, client_for, make_action):
    action = make_action()
    r = client_for(staff).get(f"/api/v1/distrust/{action.pk}/onecrl.json")
    assert r.status_code == 404 and "implement step" in r.json()["detail"]
