"""The Test step tests the files that ship: the certdata.txt diff and the OneCRL JSON are read back (applied to the
registry's certdata.txt, parsed) and applied to a copy of the trust graph; the path test runs on that. A file that
differs from the plan -- corrupted after generation here -- fails the step with a message naming the difference.
And the NSS-style test vector (seed step 5, "add test to cert.sh") is a download with the expected results."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from config.errors import TransitionError
from distrust import actions, workflow
from distrust.models import Artifact
from tests.distrust.distrust_helpers import advance


def _at_test(staff, scenario, make_action, **kw):
    action = advance(staff, make_action(**kw), "test", scenario, waive=False)  # the cross-sign added too
    actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("leaf"))
    return action


def _corrupt(action, kind, fn):
    """Change a stored artifact behind the workflow's back (as a bad generator, or a hand edit, would)."""
    art = Artifact.objects.get(action=action, kind=kind)
    content = fn(art.content)
    assert content != art.content
    Artifact.objects.filter(pk=art.pk).update(content=content)


@pytest.mark.django_db
def test_the_files_as_generated_pass(staff, scenario, make_action):
    action = _at_test(staff, scenario, make_action)
    run = actions.test_run(actor=staff, action=action)
    assert run.passed, run.summary
    assert not [r for r in run.results if r["kind"] == "file"]
    actions.step_complete(actor=staff, action=action, step="test")


@pytest.mark.django_db
def test_a_onecrl_file_missing_a_record_fails_the_step_naming_it(staff, scenario, make_action):
    action = _at_test(staff, scenario, make_action)
    import base64

    inter = scenario.certs["inter"]
    label, serial_b64 = inter.label, base64.b64encode(bytes.fromhex(inter.serial_hex)).decode()

    def drop_inter(text):  # the cross-sign, with the same subject, keeps its record
        data = json.loads(text)
        data["data"] = [r for r in data["data"] if r["serialNumber"] != serial_b64]
        return json.dumps(data, indent=2)

    _corrupt(action, Artifact.Kind.ONECRL, drop_inter)
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed
    serial = scenario.certs["inter"].serial_hex
    assert f"the files that ship differ from the plan: onecrl.json has no record for {label} (serial {serial})" \
        in run.summary
    (row,) = [r for r in run.results if r["kind"] == "file"]
    assert row["label"] == "onecrl.json" and row["ok"] is False
    with pytest.raises(TransitionError, match="the last test run failed: .*onecrl.json has no record for"):
        actions.step_complete(actor=staff, action=action, step="test")


@pytest.mark.django_db
def test_a_certdata_diff_that_no_longer_distrusts_fails_and_the_paths_say_so(staff, scenario, make_action):
    # OneCRL kind has one file: without the record, the path test on the files' graph finds the leaf trusted.
    action = _at_test(staff, scenario, make_action, kind="onecrl")
    _corrupt(action, Artifact.Kind.ONECRL, lambda t: json.dumps({"data": []}))
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed
    assert "onecrl.json has no record for" in run.summary
    assert "bad.example.test still reaches a trusted root for server through" in run.summary

    # Full distrust: a trust object turned back to trusted for websites in the diff's added lines.
    full = _at_test(staff, scenario, make_action)

    def trust_websites(text):
        return text.replace("+CKA_TRUST_SERVER_AUTH CK_TRUST CKT_NSS_NOT_TRUSTED",
                            "+CKA_TRUST_SERVER_AUTH CK_TRUST CKT_NSS_MUST_VERIFY_TRUST", 1)

    _corrupt(full, Artifact.Kind.CERTDATA_DIFF, trust_websites)
    run = actions.test_run(actor=staff, action=full)
    assert not run.passed
    assert re.search(r"certdata\.diff does not distrust .+ for websites \(TLS\)", run.summary), run.summary


@pytest.mark.django_db
def test_a_diff_that_does_not_apply_or_blocks_more_than_planned_is_named(staff, scenario, make_action):
    action = _at_test(staff, scenario, make_action)
    _corrupt(action, Artifact.Kind.CERTDATA_DIFF, lambda t: re.sub(r"(?m)^ (.+)$", r" \1 edited", t, count=1))
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed
    assert re.search(r"certdata\.diff cannot be applied and read back: hunk 1 does not apply at line \d+",
                     run.summary), run.summary

    other = _at_test(staff, scenario, make_action)
    root2 = scenario.certs["root2"]

    def block_root2(text):
        import base64

        data = json.loads(text)
        extra = dict(data["data"][0], id="extra-record",
                     issuerName=base64.b64encode(bytes(root2.issuer_der)).decode(),
                     serialNumber=base64.b64encode(bytes.fromhex(root2.serial_hex)).decode())
        data["data"].append(extra)
        return json.dumps(data)

    _corrupt(other, Artifact.Kind.ONECRL, block_root2)
    run = actions.test_run(actor=staff, action=other)
    assert not run.passed
    assert f"onecrl.json blocks CN=Distrust Test Root Two,O=Rootwatch Test,C=US serial {root2.serial_hex}" \
        in run.summary
    assert "which the plan does not name" in run.summary


@pytest.mark.django_db
def test_a_file_changed_after_a_passing_run_needs_a_new_run(staff, scenario, make_action):
    action = _at_test(staff, scenario, make_action)
    assert actions.test_run(actor=staff, action=action).passed
    _corrupt(action, Artifact.Kind.ONECRL, lambda t: t.replace('"enabled": true', '"enabled": false', 1))
    assert any("run the test again" in m for m in workflow.missing(action, "test"))
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed and "is disabled" in run.summary


@pytest.mark.django_db
def test_distrust_after_dates_are_read_from_the_diff(staff, make_action):
    from tests.distrust.distrust_helpers import build_registry

    date = datetime(2025, 1, 1, tzinfo=UTC)
    scenario = build_registry(with_cross_sign=False, leaf_not_before=datetime(2024, 6, 1, tzinfo=UTC))
    action = advance(staff, make_action(kind="distrust_after", distrust_after=date), "test", scenario,
                     targets=("root1",))
    actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("leaf"))  # issued before: good
    assert actions.test_run(actor=staff, action=action).passed
    _corrupt(action, Artifact.Kind.CERTDATA_DIFF, lambda t: t.replace(
        r"\062\065\060\061\060\061", r"\062\064\060\061\060\061"))  # 250101... -> 240101...
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed
    assert ("certdata.diff gives Distrust Test Root One a websites (TLS) distrust-after of 2024-01-01 00:00:00 UTC; "
            "the plan says 2025-01-01 00:00:00 UTC") in run.summary
    # ... and the leaf issued in 2024-06, after the corrupted date, now fails on the files' graph.
    assert "issued before the distrust-after date, no longer works for server" in run.summary


@pytest.mark.django_db
def test_the_nss_style_test_vector_is_a_download(client_for, staff, scenario, make_action):
    action = _at_test(staff, scenario, make_action)
    actions.test_run(actor=staff, action=action)
    page = client_for(staff).get(f"/distrust/{action.pk}/test-vector.txt")
    assert page.status_code == 200
    assert page["Content-Disposition"] == f'attachment; filename="distrust-{action.pk}-test-vector.txt"'
    text = page.content.decode()
    api = client_for(staff).get(f"/api/v1/distrust/{action.pk}/test-vector.txt")
    assert api.status_code == 200 and api.content.decode() == text
    inter, leaf = scenario.certs["inter"], scenario.certs["leaf"]
    # The bad intermediate and the bad leaf, each with the result NSS must give.
    assert re.search(rf"# 1 +untrusted +websites \(TLS server authentication\) +{inter.label} \(intermediate, "
                     rf"SHA-256 {inter.sha256}\)", text)
    assert re.search(rf"# 2 +untrusted +websites .* bad.example.test \(leaf, SHA-256 {leaf.sha256}\)", text)
    assert "vfychain -d \"${DISTRUST_DB}\" -pp -u 1 case2.pem case2-ca1.pem" in text
    assert f'html_msg $? 1 "distrust {action.pk} case 2: bad.example.test untrusted"' in text
    # The PEMs are the certificates themselves: the leaf and, given with it, the intermediate.
    assert leaf.pem.strip() in text and inter.pem.strip() in text


@pytest.mark.django_db
def test_distrust_after_vector_has_a_still_good_case(client_for, staff, make_action):
    from tests.distrust.distrust_helpers import build_registry

    scenario = build_registry(with_cross_sign=False, leaf_not_before=datetime(2024, 6, 1, tzinfo=UTC))
    action = advance(staff, make_action(kind="distrust_after", distrust_after=datetime(2025, 1, 1, tzinfo=UTC)),
                     "test", scenario, targets=("root1",))
    actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("leaf"))
    text = client_for(staff).get(f"/distrust/{action.pk}/test-vector.txt").content.decode()
    assert re.search(r"# 1 +trusted +websites .* bad.example.test \(leaf", text)
    assert 'html_msg $? 0 "distrust' in text


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_a", "reviewer", "anonymous"])
def test_only_staff_run_the_test(request, who, client_for, staff, scenario, make_action):
    action = _at_test(staff, scenario, make_action)
    user = None if who == "anonymous" else request.getfixturevalue(who)
    client = client_for(user)
    page = client.post(f"/distrust/{action.pk}/test-runs/")
    assert page.status_code == (403 if user else 302) or page.status_code == 403
    api = client.post(f"/api/v1/distrust/{action.pk}/test-runs/", content_type="application/json")
    assert api.status_code in ((401, 403) if user is None else (403,))
    assert action.test_runs.count() == 0
