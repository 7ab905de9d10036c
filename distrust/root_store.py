"""The Release step's effect on the registry: the distrust's planned root store changes ship in a release.

The plan is what the Implement step's certdata.txt diff writes (distrust/artifacts.py): a full
distrust turns every target's (and added cross-sign's) trust object to "not trusted" for every
purpose; a distrust-after sets the date for the action's purposes on the roots' entries. The OneCRL
records the step publishes are recorded in the same release. registry.actions.release_ship_distrust
applies and records it (registry sits below distrust and knows nothing of it).
"""

from __future__ import annotations

from typing import Any

from distrust import artifacts
from distrust.models import DistrustAction
from registry.actions.releases import DistrustPlanItem, release_ship_distrust

Kind = DistrustAction.Kind


def _item(e: artifacts.Entry) -> DistrustPlanItem:
    return DistrustPlanItem(issuer_der=e.issuer_der, serial_der=e.serial_der, label=e.label, certificate=e.certificate)


def ship(action: DistrustAction, actor: Any) -> dict[str, Any]:
    """Apply and record the action's root store changes in the release its Release step names."""
    items = [] if action.kind == Kind.ONECRL else [_item(e) for e in artifacts.entries(action)]
    needed, _already = artifacts.onecrl_plan(action)
    release = release_ship_distrust(
        actor=actor,
        items=items,
        onecrl=[_item(e) for e in needed],
        full=action.kind == Kind.FULL,
        purposes=action.purposes,
        distrust_after=action.distrust_after if action.kind == Kind.DISTRUST_AFTER else None,
        nss_version=action.nss_version,
        roots_module_version=action.roots_module_version,
        kind=action.release_kind or "regular",
        released_on=action.release_date,
        origin=f"Distrust action {action.pk}: {action.published_title}",
        origin_url=action.get_absolute_url(),
    )
    return {"release": release.pk, "release_name": release.name}
