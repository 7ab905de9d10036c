"""Creating an action and moving through its steps: save, complete, reopen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from config import stale
from config.errors import DomainError, TransitionError
from distrust import workflow
from distrust.actions._common import (
    Status,
    _check_value,
    _incidents,
    _locked,
    _require_manage,
    _require_open,
    _steps,
)
from distrust.models import (
    DistrustAction,
    DistrustStep,
)
from history import actions as history
from history import selectors as history_sel

# --- creation -------------------------------------------------------------------------------

@transaction.atomic
def action_create(
    *, actor: Any, title: str, kind: str = DistrustAction.Kind.FULL, purpose_server: bool = True,
    purpose_email: bool = False, distrust_after: datetime | None = None, bug: str = "", is_embargoed: bool = False,
    incident_numbers: list[int] = (), reported_by: str = "", reported_on: date | None = None, decision: str = "",
    is_security_incident: bool = False, public_title: str = "",
) -> DistrustAction:
    _require_manage(actor)
    if not title.strip():
        raise DomainError("Give the action a title.", errors={"title": ["required"]})
    _check_value("kind", kind)
    _check_value("distrust_after", distrust_after)
    incidents = _incidents(list(incident_numbers))
    action = DistrustAction.objects.create(
        title=title.strip(), kind=kind, purpose_server=purpose_server, purpose_email=purpose_email,
        distrust_after=distrust_after, bug=bug, is_embargoed=is_embargoed, reported_by=reported_by,
        reported_on=reported_on, decision=decision, is_security_incident=is_security_incident, created_by=actor,
        state=workflow.STEP_KEYS[0], public_title=public_title.strip(),
        # Decided here from the incidents themselves, not from the form: whatever the form sent, text typed
        # beside a security-sensitive incident is treated as copied from it.
        confidential_fields=workflow.confidential_copies(incidents),
    )
    action.incidents.set(incidents)
    DistrustStep.objects.bulk_create([
        DistrustStep(action=action, step=s.key, position=i,
                     status=Status.OPEN if i == 1 else Status.PENDING)
        for i, s in enumerate(workflow.STEPS, start=1)
    ])
    # The row names the incidents: with a security-sensitive one among them, it stays with staff.
    history.record(actor=actor, subject=action, action="created", field=action.state, new=action.state,
                   detail={"incidents": [i.number for i in incidents], "kind": kind},
                   staff_only=any(i.security_sensitive for i in incidents))
    return action


# --- steps ----------------------------------------------------------------------------------


@transaction.atomic
def step_save(*, actor: Any, action: DistrustAction, step: str, data: dict[str, Any],
              complete: bool = False, base_version: Any = None, base: Any = None) -> DistrustAction:
    """Save a step's data (only while the step is open); with ``complete``, then complete it.

    `base` (a step page: the action as the form showed it) or `base_version` (the API's If-Match):
    fields left as they were are not written, fields someone else changed meanwhile are a conflict
    (config.stale)."""
    _require_manage(actor)
    action = _locked(action)
    _require_open(action, step, f"save step {step!r}")
    row = workflow.step(step)
    unknown = sorted(set(data) - set(row.fields))
    if unknown:
        raise DomainError(f"Step {step!r} has no field(s) {', '.join(unknown)}.",
                          errors={k: ["unknown field"] for k in unknown})
    if base_version is not None or base is not None:
        kept = stale.merge(current=workflow.snapshot(action), proposed=data, base_version=base_version,
                           base=base, changed_by=lambda field: history_sel.last_changed_by(action, field))
        # A confirmation left ticked still vouches for the wording written beside it in the same save.
        for confirmation, vouched in getattr(row, "confirms", ()):
            if confirmation in data and any(name in kept for name in vouched):
                kept[confirmation] = data[confirmation]
        data = kept
    changed: dict[str, Any] = {}
    for name, value in data.items():
        if name == "incident_numbers":
            incidents = _incidents(list(value))
            old = sorted(action.incidents.values_list("number", flat=True))
            if old != sorted(i.number for i in incidents):
                action.incidents.set(incidents)
                changed[name] = [i.number for i in incidents]
                marked = [f for f in workflow.confidential_copies(incidents) if f not in action.confidential_fields]
                if marked:
                    action.confidential_fields = [*action.confidential_fields, *marked]
                    changed["confidential_fields"] = action.confidential_fields
            continue
        value = _check_value(name, value)
        if getattr(action, name) != value:
            setattr(action, name, value)
            changed[name] = value if isinstance(value, (str, bool, int, type(None))) else str(value)
    for confirmation, vouched in row.confirms:
        if confirmation not in data and any(f in changed for f in vouched) and getattr(action, confirmation):
            setattr(action, confirmation, False)
            changed[confirmation] = False
    changed.update(row.on_save(action, actor))
    action.save()
    if changed:
        # A row quoting text copied from a confidential source stays with staff, like the field itself.
        history.record(actor=actor, subject=action, action="saved", field=step, detail=changed,
                       staff_only=any(f in action.confidential_fields for f in changed)
                       or ("incident_numbers" in changed and action.incidents.filter(security_sensitive=True).exists()))
    if complete:
        _complete(actor=actor, action=action, step=step)
    return action


@transaction.atomic
def step_complete(*, actor: Any, action: DistrustAction, step: str) -> DistrustAction:
    _require_manage(actor)
    action = _locked(action)
    _complete(actor=actor, action=action, step=step)
    return action


def _complete(*, actor: Any, action: DistrustAction, step: str) -> None:
    _require_open(action, step, f"complete step {step!r}")
    missing = workflow.missing(action, step)
    if missing:
        raise TransitionError(
            f"Step {workflow.position(step)} ({workflow.step(step).title}) cannot be completed: "
            + "; ".join(missing) + "."
        )
    steps = _steps(action)
    src, dst = workflow.TRANSITIONS["complete"]
    st = steps[step]
    st.status, st.completed_at, st.completed_by = dst, timezone.now(), actor
    st.save()
    nxt = workflow.next_key(step)
    if nxt is not None:
        steps[nxt].status = Status.OPEN
        steps[nxt].save()
    old_state = action.state
    action.state = nxt or DistrustAction.State.CLOSED
    detail = workflow.step(step).on_complete(action, actor)
    if nxt is None:
        action.closed_at = timezone.now()
    action.save()
    history.record(actor=actor, subject=action, action="completed", field=step, old=old_state, new=action.state,
                   detail=detail)


@transaction.atomic
def step_reopen(*, actor: Any, action: DistrustAction, step: str, reason: str,
                base_version: Any = None) -> DistrustAction:
    """Reopen a done step with a reason; every later step goes back to not started. With `base_version`
    (the API's If-Match), refused (412) when the action changed since that version."""
    _require_manage(actor)
    action = _locked(action)
    stale.merge(current=workflow.snapshot(action), proposed={}, base_version=base_version)
    if step not in workflow.STEP_KEYS:
        raise DomainError(f"No step {step!r}; the steps are {', '.join(workflow.STEP_KEYS)}.")
    if not reason.strip():
        raise DomainError("Say why the step is reopened.", errors={"reason": ["required"]})
    steps = _steps(action)
    src, dst = workflow.TRANSITIONS["reopen"]
    if steps[step].status != src:
        raise TransitionError(f"Step {workflow.position(step)} ({workflow.step(step).title}) is not done, "
                              "so it cannot be reopened.")
    for key in workflow.STEP_KEYS[workflow.STEP_KEYS.index(step):]:
        st = steps[key]
        if key == step:
            st.status, st.reopen_count = dst, st.reopen_count + 1
        else:
            st.status = Status.PENDING
        st.completed_at, st.completed_by = None, None
        st.save()
    old_state = action.state
    action.state = step
    action.closed_at = None
    action.save()
    history.record(actor=actor, subject=action, action="reopened", field=step, old=old_state, new=step,
                   summary=reason.strip())
    return action
