"""Two roots, an intermediate cross-signed by both, a leaf: distrusting the intermediate
under one root alone fails the test step naming the cross-signed path; with the closure
applied the test passes."""

import pytest

from config.errors import TransitionError
from distrust import actions
from distrust.models import ClosureItem, DistrustAction
from tests.distrust.distrust_helpers import advance


@pytest.mark.django_db
def test_generating_artifacts_finds_the_cross_signed_twin_as_a_closure_item(staff, scenario, make_action):
    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    (item,) = action.closure_items.all()
    assert item.certificate == scenario.certs["inter_x"]
    assert item.decision == ClosureItem.Decision.PENDING
    with pytest.raises(TransitionError, match="decide on each cross-signed certificate"):
        actions.step_complete(actor=staff, action=action, step="implement")


@pytest.mark.django_db
def test_distrusting_the_intermediate_under_one_root_alone_fails_naming_the_cross_signed_path(
    staff, scenario, make_action
):
    action = advance(staff, make_action(), "test", scenario, waive=True)
    actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("leaf"))
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed
    root2_label = scenario.certs["root2"].label
    # The path through the cross-sign is named, and it ends at the other root.
    assert "still reaches a trusted root for server through" in run.summary
    assert root2_label in run.summary
    (row,) = [r for r in run.results if r["purpose"] == "server"]
    trusted_paths = [p for p in row["paths"] if p["trusted"]]
    assert [[c["sha256"] for c in p["path"]] for p in trusted_paths] == [
        [scenario.sha("leaf"), scenario.sha("inter_x"), scenario.sha("root2")]
    ]
    assert len(row["paths"]) == 2  # both paths were tried; the one through root1 is distrusted
    with pytest.raises(TransitionError, match="the last test run failed: .*" + root2_label):
        actions.step_complete(actor=staff, action=action, step="test")
    action.refresh_from_db()
    assert action.state == DistrustAction.State.TEST  # release stays blocked


@pytest.mark.django_db
def test_with_the_closure_applied_the_test_passes(staff, scenario, make_action):
    action = advance(staff, make_action(), "test", scenario, waive=True)
    actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("leaf"))
    assert not actions.test_run(actor=staff, action=action).passed
    # Reopen the implement step, add the cross-sign instead of waiving it, regenerate.
    actions.step_reopen(actor=staff, action=action, step="implement", reason="the cross-sign still works")
    item = action.closure_items.get()
    actions.closure_decide(actor=staff, action=action, item_id=item.pk, decision="added")
    with pytest.raises(TransitionError, match="regenerate the"):
        actions.step_complete(actor=staff, action=action, step="implement")
    actions.artifacts_generate(actor=staff, action=action)
    actions.step_complete(actor=staff, action=action, step="implement")
    with pytest.raises(TransitionError, match="run the test again"):
        actions.step_complete(actor=staff, action=action, step="test")
    run = actions.test_run(actor=staff, action=action)
    assert run.passed, run.summary
    row = next(r for r in run.results if r["purpose"] == "server")
    assert row["ok"] and len(row["paths"]) == 2 and not any(p["trusted"] for p in row["paths"])
    actions.step_complete(actor=staff, action=action, step="test")
    action.refresh_from_db()
    assert action.state == DistrustAction.State.RELEASE


@pytest.mark.django_db
def test_the_closure_entry_is_in_both_artifacts(staff, scenario, make_action):
    action = advance(staff, make_action(), "test", scenario, waive=False)
    onecrl = action.artifacts.get(kind="onecrl").content
    diff = action.artifacts.get(kind="certdata_diff").content
    inter, inter_x = scenario.certs["inter"], scenario.certs["inter_x"]
    import base64

    for cert in (inter, inter_x):
        assert base64.b64encode(bytes(cert.issuer_der)).decode() in onecrl
    assert diff.count("+CKA_TRUST_SERVER_AUTH CK_TRUST CKT_NSS_NOT_TRUSTED") == 2
