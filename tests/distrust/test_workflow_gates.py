"""The workflow table: gates that say what is missing, transitions, reopening, events, bad input."""

from datetime import UTC, datetime

import pytest

from config.errors import DomainError, NotPermitted, TransitionError
from distrust import actions, workflow
from distrust.models import DistrustAction, DistrustTarget
from history.models import Event
from history.selectors import for_subject
from tests.distrust.distrust_helpers import advance, decide_data
from tests.domain import certgen


def statuses(action):
    return [s.status for s in action.steps.all()]


def test_the_table_has_the_seeds_eight_steps_in_order():
    assert workflow.STEP_KEYS == ("report", "decide", "impact", "implement", "test", "release", "communicate",
                                  "result")
    assert set(workflow.TRANSITIONS) == {"complete", "reopen"}


@pytest.mark.django_db
def test_a_new_action_opens_the_report_step_and_records_who_created_it(staff, make_action):
    action = make_action()
    assert statuses(action) == ["open"] + ["pending"] * 7
    (event,) = for_subject(action)
    assert (event.action, event.new, event.actor, event.actor_name) == ("created", "report", staff, "staff")


@pytest.mark.django_db
def test_report_gate_names_each_missing_thing_and_nothing_changes(staff, make_action):
    action = make_action(incident_numbers=[], reported_by="", reported_on=None)
    with pytest.raises(TransitionError) as err:
        actions.step_complete(actor=staff, action=action, step="report")
    assert "link at least one incident" in err.value.message
    assert "say who reported" in err.value.message and "date of the report" in err.value.message
    assert statuses(action)[0] == "open" and for_subject(action).count() == 1


@pytest.mark.django_db
def test_steps_complete_in_order_only(staff, make_action):
    action = make_action()
    with pytest.raises(TransitionError, match=r"step 3 \(Measure impact\) has not started; complete step 1"):
        actions.step_complete(actor=staff, action=action, step="impact")
    with pytest.raises(TransitionError, match="not done, so it cannot be reopened"):
        actions.step_reopen(actor=staff, action=action, step="report", reason="x")
    with pytest.raises(DomainError, match="no step 'nope'"):
        actions.step_save(actor=staff, action=action, step="nope", data={})


@pytest.mark.django_db
def test_decide_gate_checks_the_kind_against_the_targets(staff, make_action, scenario):
    action = make_action(kind="distrust_after")
    actions.step_complete(actor=staff, action=action, step="report")
    actions.target_add(actor=staff, action=action, sha256=scenario.sha("inter"))
    with pytest.raises(TransitionError) as err:
        actions.step_save(actor=staff, action=action, step="decide", data=decide_data(), complete=True)
    assert "give the distrust-after date" in err.value.message
    assert "not a registry root: " + scenario.certs["inter"].label in err.value.message
    onecrl = make_action(kind="onecrl")
    actions.step_complete(actor=staff, action=onecrl, step="report")
    actions.target_add(actor=staff, action=onecrl, sha256=scenario.sha("root1"))
    with pytest.raises(TransitionError, match="OneCRL revokes intermediates and leaves, not roots"):
        actions.step_save(actor=staff, action=onecrl, step="decide", data=decide_data(), complete=True)


@pytest.mark.django_db
def test_saving_a_done_step_or_changing_targets_after_deciding_needs_a_reopen(staff, make_action, scenario):
    action = advance(staff, make_action(), "impact", scenario)
    with pytest.raises(TransitionError, match=r"step 2 \(Decide\) is done; reopen it first"):
        actions.step_save(actor=staff, action=action, step="decide", data={"rationale": "changed"})
    with pytest.raises(TransitionError, match="change the certificates to distrust"):
        actions.target_add(actor=staff, action=action, sha256=scenario.sha("leaf"))


@pytest.mark.django_db
def test_reopening_needs_a_reason_and_sends_later_steps_back(staff, make_action, scenario):
    action = advance(staff, make_action(), "release", scenario, waive=False)
    assert statuses(action) == ["done"] * 5 + ["open", "pending", "pending"]
    with pytest.raises(DomainError, match="Say why"):
        actions.step_reopen(actor=staff, action=action, step="decide", reason="  ")
    actions.step_reopen(actor=staff, action=action, step="decide", reason="add the leaf too")
    action.refresh_from_db()
    assert action.state == "decide"
    assert statuses(action) == ["done", "open"] + ["pending"] * 6
    event = for_subject(action).last()
    assert (event.action, event.field, event.old, event.new, event.summary, event.actor) == (
        "reopened", "decide", "release", "decide", "add the leaf too", staff)
    completed = for_subject(action).filter(action="completed").values_list("field", "old", "new")
    assert list(completed)[:2] == [("report", "report", "decide"), ("decide", "decide", "impact")]


@pytest.mark.django_db
def test_only_staff_may_act(rep_a, reviewer, anonymous, make_action):
    action = make_action()
    for user in (rep_a, reviewer, anonymous):
        with pytest.raises(NotPermitted):
            actions.step_complete(actor=user, action=action, step="report")
        with pytest.raises(NotPermitted):
            actions.action_create(actor=user, title="x")


@pytest.mark.django_db
def test_bad_issuer_serial_and_test_certificate_change_nothing(staff, make_action, scenario):
    action = make_action()
    actions.step_complete(actor=staff, action=action, step="report")
    events = Event.objects.count()
    for issuer, serial, message in (
        ("MAA=", "zz", "not hexadecimal"),
        ("bm90IGEgbmFtZQ==", "01", "not a DER Name"),  # "not a name"
        ("%%%", "01", "neither base64 nor hex"),
        ("", "01", "Give a registry SHA-256, or an issuer and a serial"),
    ):
        with pytest.raises(DomainError, match=message):
            actions.target_add(actor=staff, action=action, issuer=issuer, serial=serial)
    with pytest.raises(DomainError, match="No certificate with SHA-256 00"):
        actions.target_add(actor=staff, action=action, sha256="00" * 32)
    with pytest.raises(DomainError, match="not in the registry and cannot be parsed"):
        actions.test_certificate_add(actor=staff, action=action, data=b"-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n")
    with pytest.raises(DomainError, match="CSV line 3: value 'lots' is not a number"):
        actions.usage_import_csv(actor=staff, action=action, text="root,metric,value\nR,m,1\nR,m,lots\n")
    assert DistrustTarget.objects.count() == 0 and action.usage_figures.count() == 0
    assert Event.objects.count() == events


@pytest.mark.django_db
def test_serial_hex_keeps_the_der_sign_byte(staff, make_action, scenario):
    import base64

    action = make_action()
    t = actions.target_add(actor=staff, action=action, issuer=base64.b64encode(bytes(scenario.certs["root1"].subject_der)).decode(),
                           serial="de:ad:be:ef")
    assert t.serial_hex == "00DEADBEEF" and bytes(t.serial_der) == b"\x02\x05\x00\xde\xad\xbe\xef"


@pytest.mark.django_db
def test_release_lifts_the_embargo_and_result_closes(staff, make_action, scenario):
    action = advance(staff, make_action(is_embargoed=True), "release", scenario, waive=False)
    assert action.is_embargoed
    action = advance(staff, action, "communicate", scenario)
    action.refresh_from_db()
    assert not action.is_embargoed
    action = advance(staff, action, "end", scenario)
    action.refresh_from_db()
    assert action.state == DistrustAction.State.CLOSED and action.closed_at is not None


@pytest.mark.django_db
def test_communicate_needs_a_cve_for_a_security_incident(staff, make_action, scenario):
    action = advance(staff, make_action(is_security_incident=True), "communicate", scenario, waive=False)
    with pytest.raises(TransitionError, match="give the CVE id"):
        actions.step_save(actor=staff, action=action, step="communicate", data={"announcement": "x"}, complete=True)


@pytest.mark.django_db
def test_a_test_certificate_that_never_reached_a_trusted_root_proves_nothing(staff, make_action, scenario):
    action = advance(staff, make_action(), "test", scenario, waive=False)
    stray_root = certgen.root("Stray Root")
    stray = certgen.leaf("stray.example.test", certgen.intermediate("Stray CA", stray_root))
    actions.test_certificate_add(actor=staff, action=action, data=stray.pem.encode())
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed and "reaches no trusted root for server even before the distrust" in run.summary


@pytest.mark.django_db
def test_distrust_after_test_keeps_older_certificates_and_refuses_newer_ones(staff, make_action, scenario):
    before = certgen.leaf("old.example.test", scenario.inter, not_before=datetime(2024, 6, 1, tzinfo=UTC))
    after = certgen.leaf("new.example.test", scenario.inter, not_before=datetime(2025, 6, 1, tzinfo=UTC))
    action = make_action(kind="distrust_after", distrust_after=datetime(2025, 1, 1, tzinfo=UTC))
    # Distrust-after on both roots: the cross-signed path must not rescue the newer leaf.
    advance(staff, action, "test", scenario, targets=("root1", "root2"))
    actions.test_certificate_add(actor=staff, action=action, data=after.der)
    with pytest.raises(TransitionError, match="attach a certificate issued before the distrust-after date"):
        actions.test_run(actor=staff, action=action) and actions.step_complete(actor=staff, action=action, step="test")
    actions.test_certificate_add(actor=staff, action=action, data=before.der)
    run = actions.test_run(actor=staff, action=action)
    assert run.passed, run.summary
    verdicts = {(r["label"], r["expect"], r["ok"]) for r in run.results}
    assert ("new.example.test", "untrusted", True) in verdicts and ("old.example.test", "trusted", True) in verdicts
    actions.step_complete(actor=staff, action=action, step="test")


@pytest.mark.django_db
def test_distrust_after_on_one_root_alone_fails_through_the_other(staff, make_action, scenario):
    after = certgen.leaf("new.example.test", scenario.inter, not_before=datetime(2025, 6, 1, tzinfo=UTC))
    action = make_action(kind="distrust_after", distrust_after=datetime(2025, 1, 1, tzinfo=UTC))
    advance(staff, action, "test", scenario, targets=("root1",))
    actions.test_certificate_add(actor=staff, action=action, data=after.der)
    run = actions.test_run(actor=staff, action=action)
    assert not run.passed and scenario.certs["root2"].label in run.summary
