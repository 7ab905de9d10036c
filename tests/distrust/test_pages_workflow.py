"""The whole workflow driven through the pages, and who may see and do what there."""

import base64
import json
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from distrust.models import DistrustAction

USAGE_CSV = b"root,metric,value,period\nDistrust Test Root One,TLS handshakes (%),0.012,2025-02\n"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def classified_incident(incident, staff):
    from compliance.models import Assessment

    Assessment.objects.create(incident=incident, cert_type="intermediate", count=1, enumerable=True,
                              problem="intermediate_few_enumerable", updated_at=datetime.now(UTC))
    return incident


@pytest.mark.django_db
def test_whole_workflow_through_the_pages(staff, client_for, scenario, classified_incident):
    web = client_for(staff)
    # Started from the incident: the course of action is the classification's immediate minimum response.
    r = web.get(f"/distrust/new/?incident={classified_incident.number}")
    assert r.status_code == 200
    assert r.context["form"].initial["decision"].startswith("Actively distrust the intermediate certificates")
    assert "mis-issued a small number of intermediate certificates" in r.content.decode()
    initial = r.context["form"].initial
    r = web.post("/distrust/new/", {
        "title": "Distrust the Acme issuing CA", "incident_numbers": str(classified_incident.number),
        "kind": "full", "purpose_server": "on", "decision": initial["decision"], "bug": "1900001",
    }, follow=True)
    action = DistrustAction.objects.get()
    assert r.redirect_chain[-1][0] == f"/distrust/{action.pk}/"
    step = f"/distrust/{action.pk}/steps"

    # 1. Report: "Save and complete" with something missing shows it, keeps the input, changes nothing.
    r = web.post(f"{step}/report/", {"reported_by": "", "incident_numbers": str(classified_incident.number),
                                     "complete": "1"}, follow=True)
    assert any("say who reported" in m for m in messages_of(r))
    action.refresh_from_db()
    assert action.state == "report"
    r = web.post(f"{step}/report/", {"reported_by": "A researcher", "reported_on": "2025-03-01",
                                     "incident_numbers": str(classified_incident.number), "complete": "1"})
    assert r.status_code == 302

    # 2. Decide: a target from the registry; a bad serial is refused with a message.
    r = web.post(f"/distrust/{action.pk}/targets/", {"issuer": "MAA=", "serial": "not-hex"}, follow=True)
    assert any("not hexadecimal" in m for m in messages_of(r))
    web.post(f"/distrust/{action.pk}/targets/", {"sha256": scenario.sha("inter")})
    r = web.post(f"{step}/decide/", {"decision": initial["decision"], "rationale": "Key compromise.",
                                     "discussed_in": "private", "decided_on": "2025-03-02", "kind": "full",
                                     "purpose_server": "on", "bug": "1900001", "complete": "1"})
    assert r.status_code == 302, messages_of(r)

    # 3. Impact: usage figures from a CSV file.
    web.post(f"/distrust/{action.pk}/usage/csv/", {"csv_file": SimpleUploadedFile("usage.csv", USAGE_CSV)})
    r = web.get(f"{step}/impact/")
    assert "TLS handshakes (%)" in r.content.decode()
    assert web.post(f"{step}/impact/", {"impact_notes": "Few users.", "complete": "1"}).status_code == 302

    # 4. Implement: generate, see the cross-sign, add it, regenerate, complete.
    web.post(f"/distrust/{action.pk}/artifacts/generate/")
    r = web.get(f"{step}/implement/")
    page = r.content.decode()
    assert "Cross-sign closure" in page and "Waiting for a decision" in page
    item = action.closure_items.get()
    r = web.post(f"/distrust/{action.pk}/closure/{item.pk}/", {"decision": "waived", "reason": ""}, follow=True)
    assert any("needs a reason" in m for m in messages_of(r))
    web.post(f"/distrust/{action.pk}/closure/{item.pk}/", {"decision": "added"})
    web.post(f"/distrust/{action.pk}/artifacts/generate/")
    assert web.post(f"{step}/implement/", {"complete": "1"}).status_code == 302
    download = web.get(f"/distrust/{action.pk}/onecrl.json")
    assert download["Content-Disposition"].startswith("attachment")
    assert len(json.loads(download.content)["data"]) == 2
    assert b"CKT_NSS_NOT_TRUSTED" in web.get(f"/distrust/{action.pk}/certdata.diff").content

    # 5. Test: upload the bad leaf as DER, run, complete.
    r = web.post(f"/distrust/{action.pk}/test-certificates/",
                 {"upload": SimpleUploadedFile("junk.der", b"junk")}, follow=True)
    assert any("cannot be parsed" in m for m in messages_of(r))
    web.post(f"/distrust/{action.pk}/test-certificates/", {"upload": SimpleUploadedFile("leaf.der", scenario.leaf.der)})
    r = web.post(f"/distrust/{action.pk}/test-runs/", follow=True)
    assert any(m.startswith("Test passed") for m in messages_of(r))
    assert "not trusted" in r.content.decode()
    assert web.post(f"{step}/test/", {"complete": "1"}).status_code == 302

    # 6-8.
    assert web.post(f"{step}/release/", {"nss_version": "3.110", "release_kind": "regular",
                                         "release_date": "2025-03-10", "onecrl_published_on": "2025-03-09",
                                         "complete": "1"}).status_code == 302
    r = web.get(f"{step}/communicate/")
    draft = r.context["form"].initial["announcement"]
    assert "NSS 3.110" in draft and scenario.certs["inter"].label in draft
    assert web.post(f"{step}/communicate/", {"announcement": draft, "all_cas_mailed": "on",
                                             "complete": "1"}).status_code == 302
    r = web.get(f"{step}/result/")
    result_text = r.context["form"].initial["user_visible_result"]
    assert web.post(f"{step}/result/", {"user_visible_result": result_text, "complete": "1"}).status_code == 302

    r = web.get(f"/distrust/{action.pk}/")
    page = r.content.decode()
    assert "Closed" in page and page.count("badge-ok\">Done") == 8
    action.refresh_from_db()
    assert action.state == "closed" and action.closed_at is not None

    # Reopen from the page, with a reason.
    r = web.post(f"{step}/result/reopen/", {"reason": "wording"}, follow=True)
    assert any("reopened" in m for m in messages_of(r))
    action.refresh_from_db()
    assert action.state == "result"


@pytest.mark.django_db
def test_only_staff_reach_step_pages_and_embargoed_actions_stay_hidden(staff, rep_a, reviewer, client_for,
                                                                        make_action):
    secret = make_action(title="Embargoed action", is_embargoed=True)
    public = make_action(title="Public action")
    for user in (rep_a, reviewer, None):
        c = client_for(user)
        listing = c.get("/distrust/").content.decode()
        assert "Public action" in listing and "Embargoed action" not in listing
        assert c.get(f"/distrust/{secret.pk}/").status_code == 404
        assert c.get(f"/distrust/{public.pk}/").status_code == 200
        assert c.get(f"/distrust/{public.pk}/steps/report/").status_code == 403
        assert c.post(f"/distrust/{public.pk}/steps/report/", {"complete": "1"}).status_code == 403
        assert c.get("/distrust/new/").status_code == 403
    public.refresh_from_db()
    assert public.state == "report"
    assert "Embargoed action" in client_for(staff).get("/distrust/").content.decode()


@pytest.mark.django_db
def test_list_page_runs_a_fixed_number_of_queries(staff, client_for, make_action, django_assert_num_queries,
                                                  django_assert_max_num_queries):
    web = client_for(staff)
    make_action(title="one")
    web.get("/distrust/")
    with django_assert_max_num_queries(12) as small:
        web.get("/distrust/")
    for n in range(8):
        make_action(title=f"more {n}")
    with django_assert_num_queries(len(small.captured_queries)):
        r = web.get("/distrust/")
    assert r.content.decode().count("<tr>") == 1 + 9


@pytest.mark.django_db
def test_a_target_already_in_onecrl_is_shown_as_blocked_and_gets_no_new_record(staff, client_for, scenario,
                                                                              make_action):
    from distrust import actions
    from pki.onecrl import record_for
    from tests.distrust.distrust_helpers import advance

    inter = scenario.certs["inter"]
    dump = {"data": [dict(record_for(issuer_der=bytes(inter.issuer_der), serial_content=bytes.fromhex(inter.serial_hex),
                                     bug="1", who="", why="", name="old", created="2019-01-01T00:00:00Z"),
                          last_modified=1)]}
    actions.onecrl_import(actor=None, text=json.dumps(dump), source="dump")
    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    page = client_for(staff).get(f"/distrust/{action.pk}/").content.decode()
    assert "Already blocked" in page
    onecrl = json.loads(action.artifacts.get(kind="onecrl").content)["data"]
    serials = {r["serialNumber"] for r in onecrl}
    assert base64.b64encode(bytes.fromhex(inter.serial_hex)).decode() not in serials
