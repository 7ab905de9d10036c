"""Shared by the distrust actions: the permission and workflow checks every write makes first."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from accounts import permissions
from config.errors import DomainError, NotPermitted, TransitionError
from distrust import workflow
from distrust.models import (
    DistrustAction,
    DistrustStep,
)

Status = DistrustStep.Status

CHOICES = {
    "kind": DistrustAction.Kind.values,
    "discussed_in": DistrustAction.Discussion.values,
    "release_kind": DistrustAction.ReleaseKind.values,
}

# --- helpers ----------------------------------------------------------------------------------


def _require_manage(actor: Any) -> None:
    if not permissions.can_manage_distrust(actor):
        raise NotPermitted("Only root program staff manage distrust actions.")


def _locked(action: DistrustAction) -> DistrustAction:
    return DistrustAction.objects.select_for_update().get(pk=action.pk)


def _steps(action: DistrustAction) -> dict[str, DistrustStep]:
    return {s.step: s for s in action.steps.select_for_update()}


def _require_open(action: DistrustAction, key: str, doing: str) -> None:
    try:
        workflow.step(key)
    except KeyError as exc:
        raise DomainError(str(exc.args[0])) from None
    st = action.steps.get(step=key)
    title = workflow.step(key).title
    if st.status == Status.DONE:
        raise TransitionError(f"Cannot {doing}: step {workflow.position(key)} ({title}) is done; reopen it first.")
    if st.status == Status.PENDING:
        current = action.state
        raise TransitionError(
            f"Cannot {doing}: step {workflow.position(key)} ({title}) has not started; "
            f"complete step {workflow.position(current)} ({workflow.step(current).title}) first."
        )


def _require_may_change(action: DistrustAction, collection: str, doing: str) -> None:
    """Refuse to change one of the action's collections (workflow.COLLECTIONS) unless the open step's row
    lets it change; the message names the step to reopen, or the step to complete first."""
    current = action.state  # the open step's key, or "closed"
    if current in workflow.BY_KEY and collection in workflow.step(current).may_change:
        return
    keys = workflow.changing(collection)
    if current not in workflow.BY_KEY or workflow.position(current) > workflow.position(keys[-1]):
        last = keys[-1]
        raise TransitionError(
            f"Cannot {doing}: step {workflow.position(last)} ({workflow.step(last).title}) is done; reopen it first."
        )
    first = keys[0]
    raise TransitionError(
        f"Cannot {doing}: step {workflow.position(first)} ({workflow.step(first).title}) has not started; "
        f"complete step {workflow.position(current)} ({workflow.step(current).title}) first."
    )


def _incidents(numbers: list[int]):
    from compliance.models import Incident

    # Numbers beyond the column's range cannot exist; asking the database would overflow.
    found = {i.number: i for i in Incident.objects.filter(number__in=[n for n in numbers if 0 < n < 2**31])}
    unknown = [str(n) for n in numbers if n not in found]
    if unknown:
        raise DomainError(f"No incident numbered {', '.join(unknown)}.", errors={"incidents": ["unknown incident"]})
    return [found[n] for n in numbers]


def _check_value(name: str, value: Any) -> Any:
    if name in CHOICES and value not in CHOICES[name]:
        raise DomainError(f"{name}: {value!r} is not one of {', '.join(v or '(none)' for v in CHOICES[name])}.",
                          errors={name: ["not a valid choice"]})
    if name == "distrust_after" and value is not None:
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise DomainError("distrust_after must be a date and time with a timezone.",
                              errors={name: ["needs a timezone"]})
    if name == "cve_id" and value and not workflow.CVE_RE.match(value):
        raise DomainError(f"{value!r} is not a CVE id (CVE-YYYY-NNNN).", errors={name: ["not a CVE id"]})
    if name in ("reported_on", "decided_on", "release_date", "onecrl_published_on") and value is not None:
        if not isinstance(value, date):
            raise DomainError(f"{name} must be a date.", errors={name: ["not a date"]})
    return value
