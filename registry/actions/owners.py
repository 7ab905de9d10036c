"""CA owner records."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.errors import DomainError
from history import actions as history
from registry.actions._common import _require_editor
from registry.models import (
    CAOwner,
    RegistryHistory,
)

# --- CA owners ----------------------------------------------------------------------------


def ca_owner_update(*, actor: Any, owner: CAOwner, **changes: Any) -> CAOwner:
    _require_editor(actor)
    allowed = {"name", "ccadb_id", "country", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))} of a CA owner.")
    if "status" in changes and changes["status"] not in CAOwner.Status.values:
        raise DomainError(f"status must be one of {', '.join(CAOwner.Status.values)}.")
    if changes.get("ccadb_id"):
        import re

        if not re.fullmatch(r"A\d{6}", changes["ccadb_id"]):
            raise DomainError("A CCADB unique ID is 'A' followed by 6 digits, e.g. A000123.", errors={"ccadb_id": ["bad format"]})
    with transaction.atomic():
        old = {k: getattr(owner, k) for k in changes}
        for k, v in changes.items():
            setattr(owner, k, v if v != "" or k != "ccadb_id" else None)
        owner.save()
        history.record(
            actor=actor,
            action=RegistryHistory.OWNER_CHANGED,
            subject=owner,
            old={k: old[k] for k in changes},
            new={k: getattr(owner, k) for k in changes},
            summary=f"{owner.name}: " + ", ".join(f"{k} {old[k]!r} -> {v!r}" for k, v in changes.items()),
        )
    return owner
