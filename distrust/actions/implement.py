"""Implement: the artifacts and the cross-sign closure decisions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from config import stale
from config.errors import DomainError
from distrust import artifacts, selectors, workflow
from distrust.actions._common import (
    _locked,
    _require_manage,
    _require_may_change,
)
from distrust.models import (
    Artifact,
    ClosureItem,
    DistrustAction,
)
from history import actions as history
from history import selectors as history_sel

# --- implement ------------------------------------------------------------------------------

@transaction.atomic
def artifacts_generate(*, actor: Any, action: DistrustAction) -> list[Artifact]:
    """Refresh the cross-sign closure, then (re)generate the OneCRL JSON and the certdata.txt diff."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.ARTIFACTS, "generate the artifacts")
    graph = selectors.trust_graph()
    candidates = artifacts.closure_candidates(action, graph)
    existing = {item.certificate_id: item for item in action.closure_items.all()}
    wanted = {cert.pk for cert, _ in candidates}
    new_items = [ClosureItem(action=action, certificate=cert, target=target)
                 for cert, target in candidates if cert.pk not in existing]
    ClosureItem.objects.bulk_create(new_items)
    stale = [pk for pk, item in existing.items() if pk not in wanted and item.decision == ClosureItem.Decision.PENDING]
    action.closure_items.filter(certificate_id__in=stale).delete()
    now = timezone.now()
    digest = artifacts.config_digest(action)
    made = []
    for kind in artifacts.required_artifacts(action):
        if kind == Artifact.Kind.ONECRL:
            content = artifacts.onecrl_json(action, who=actor.get_full_name() or actor.username, created=now)
        else:
            content = artifacts.certdata_diff(action)
        art, _ = Artifact.objects.update_or_create(
            action=action, kind=kind,
            defaults=dict(content=content, config_digest=digest, generated_at=now, generated_by=actor),
        )
        made.append(art)
    action.artifacts.exclude(kind__in=[a.kind for a in made]).delete()
    history.record(actor=actor, subject=action, action="artifacts_generated",
                   field=workflow.home(workflow.ARTIFACTS),
                   detail={"artifacts": [a.kind for a in made], "closure_new": [str(i.certificate) for i in new_items]})
    return made


def _closure_decided_by(action: DistrustAction, item: ClosureItem) -> str:
    """Who recorded the item's current decision, for the conflict message."""
    row = (history_sel.for_subject(action).filter(action="closure_decided", detail__certificate=item.certificate.sha256)
           .order_by("-at", "-pk").first())
    return row.actor_name if row is not None else ""


@transaction.atomic
def closure_decide(*, actor: Any, action: DistrustAction, item_id: int, decision: str, reason: str = "",
                   base: Any = None) -> ClosureItem:
    """Add a cross-signed certificate to the distrust, or waive it. `base` (the page: the decision and reason
    it showed): a decision someone else recorded meanwhile is a conflict, not overwritten."""
    _require_manage(actor)
    action = _locked(action)
    _require_may_change(action, workflow.CLOSURE_ITEMS, "decide on a cross-signed certificate")
    item = action.closure_items.select_related("certificate").filter(pk=item_id).first()
    if item is None:
        raise DomainError(f"Action {action.pk} has no cross-sign item {item_id}.")
    if decision not in (ClosureItem.Decision.ADDED, ClosureItem.Decision.WAIVED):
        raise DomainError("Decide 'added' or 'waived'.", errors={"decision": ["not a valid choice"]})
    if decision == ClosureItem.Decision.WAIVED and not reason.strip():
        raise DomainError("Waiving a cross-signed certificate needs a reason.", errors={"reason": ["required"]})
    if base is not None:
        # Both fields are the person's choice (the form has no "unchanged"): only a collision matters.
        stale.merge(current={"decision": item.decision, "reason": item.reason}, base=base,
                    proposed={k: v for k, v in (("decision", decision), ("reason", reason.strip())) if v != base.get(k)},
                    changed_by=lambda field: _closure_decided_by(action, item))
    old = item.decision
    item.decision, item.reason, item.decided_by, item.decided_at = decision, reason.strip(), actor, timezone.now()
    item.save()
    history.record(actor=actor, subject=action, action="closure_decided", field=workflow.home(workflow.CLOSURE_ITEMS),
                   old=old, new=decision, summary=item.reason, detail={"certificate": item.certificate.sha256})
    return item
