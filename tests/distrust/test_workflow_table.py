"""The workflow table holds everything about a step, and the actions obey it.

Every row names the step's form fields, the collections that may change while it is open,
its gate and its hooks. Then, for every step (and for a closed action) and every collection,
a change made through the real action on the database is allowed exactly when the open
step's row lists the collection; a refused change raises TransitionError (409) naming the
step to reopen or to complete first, and changes nothing.
"""

from __future__ import annotations

import pytest

from config.errors import TransitionError
from distrust import actions, forms, workflow
from distrust.models import ClosureItem, DistrustAction
from history import selectors as history
from tests.distrust.distrust_helpers import advance

# Form fields that are not DistrustAction fields (the step's action handles them itself).
NON_MODEL_FIELDS = {"incident_numbers"}


def test_every_step_has_a_complete_row():
    # The action's state is its open step, or closed: the table has a row for every state but closed.
    assert workflow.STEP_KEYS == tuple(v for v in DistrustAction.State.values if v != DistrustAction.State.CLOSED)
    model_fields = {f.name for f in DistrustAction._meta.get_fields()}
    for row in workflow.STEPS:
        assert row.title and row.asks, row.key
        assert isinstance(row.fields, tuple), row.key
        assert set(row.fields) <= model_fields | NON_MODEL_FIELDS, row.key
        assert isinstance(row.may_change, frozenset) and row.may_change <= set(workflow.COLLECTIONS), row.key
        assert callable(row.gate) and callable(row.on_save) and callable(row.on_complete), row.key
    # Every step's form offers exactly its row's fields, in the row's order.
    assert list(forms.STEP_FORMS) == list(workflow.STEP_KEYS)
    for row in workflow.STEPS:
        assert list(forms.STEP_FORMS[row.key].base_fields) == list(row.fields), row.key


@pytest.mark.parametrize("collection", workflow.COLLECTIONS)
def test_each_collection_is_a_relation_of_the_action_and_changes_during_one_run_of_steps(collection):
    assert DistrustAction._meta.get_field(collection).related_model is not None
    keys = workflow.changing(collection)
    assert keys, f"no step lets {collection} change"
    # One unbroken run: the refusal names the step before the run (not started) or its last step (done).
    positions = [workflow.position(k) for k in keys]
    assert positions == list(range(positions[0], positions[-1] + 1)), collection
    assert workflow.home(collection) == keys[-1]


# --- each collection changed through its real action ------------------------------------------------


def _add_target(staff, action, scenario):
    return lambda: actions.target_add(actor=staff, action=action, sha256=scenario.sha("leaf"))


def _add_usage_figure(staff, action, scenario):
    figure = {"root": "Distrust Test Root One", "metric": "TLS handshakes (%)", "value": "0.5"}
    return lambda: actions.usage_add(actor=staff, action=action, figures=[figure])


def _generate_artifacts(staff, action, scenario):
    return lambda: actions.artifacts_generate(actor=staff, action=action)


def _decide_closure_item(staff, action, scenario):
    # Arranged directly: before Implement no closure item exists yet, and the decision is what is under test.
    item = action.closure_items.first() or ClosureItem.objects.create(action=action,
                                                                        certificate=scenario.certs["inter_x"])
    return lambda: actions.closure_decide(actor=staff, action=action, item_id=item.pk, decision="added")


def _attach_test_certificate(staff, action, scenario):
    return lambda: actions.test_certificate_add(actor=staff, action=action, sha256=scenario.sha("root2"))


def _run_test(staff, action, scenario):
    return lambda: actions.test_run(actor=staff, action=action)


CHANGES = {
    workflow.TARGETS: _add_target,
    workflow.USAGE_FIGURES: _add_usage_figure,
    workflow.ARTIFACTS: _generate_artifacts,
    workflow.CLOSURE_ITEMS: _decide_closure_item,
    workflow.TEST_CERTIFICATES: _attach_test_certificate,
    workflow.TEST_RUNS: _run_test,
}
CLOSED = DistrustAction.State.CLOSED


def test_every_collection_has_a_change_to_try():
    assert set(CHANGES) == set(workflow.COLLECTIONS)


def _rows(action, collection):
    return list(getattr(action, collection).order_by("pk").values())


@pytest.mark.django_db
@pytest.mark.parametrize("collection", workflow.COLLECTIONS)
@pytest.mark.parametrize("open_step", [*workflow.STEP_KEYS, CLOSED])
def test_a_collection_changes_exactly_while_the_table_says_so(staff, make_action, scenario, open_step, collection):
    until = None if open_step == CLOSED else open_step
    action = advance(staff, make_action(), until, scenario, waive=False)  # cross-sign added: the test passes
    action.refresh_from_db()
    assert action.state == open_step
    change = CHANGES[collection](staff, action, scenario)
    before, history_before = _rows(action, collection), history.for_subject(action).count()

    allowed = open_step != CLOSED and collection in workflow.step(open_step).may_change
    if allowed:
        change()
        assert _rows(action, collection) != before
        assert history.for_subject(action).count() == history_before + 1
        return
    keys = workflow.changing(collection)
    if open_step == CLOSED or workflow.position(open_step) > workflow.position(keys[-1]):
        reason = rf"step {workflow.position(keys[-1])} \({workflow.step(keys[-1]).title}\) is done; reopen it first"
    else:
        reason = rf"step {workflow.position(keys[0])} \({workflow.step(keys[0]).title}\) has not started"
    with pytest.raises(TransitionError, match=reason) as refused:
        change()
    assert refused.value.http_status == 409
    assert _rows(action, collection) == before
    assert history.for_subject(action).count() == history_before
    action.refresh_from_db()
    assert action.state == open_step
