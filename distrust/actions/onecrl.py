"""The managed OneCRL collection: imports."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.errors import DomainError
from distrust import onecrl_store
from distrust.actions._common import (
    _require_manage,
)
from pki.onecrl import OneCRLError, parse_collection

# --- OneCRL collection ----------------------------------------------------------------------

@transaction.atomic
def onecrl_import(*, actor: Any, text: str, source: str) -> dict[str, int]:
    """Load a remote-settings dump into the managed collection; records already held (same id) are updated."""
    if actor is not None:  # None: the import command
        _require_manage(actor)
    try:
        records = parse_collection(text, source=source)
    except OneCRLError as exc:
        raise DomainError(str(exc)) from None
    created = updated = 0
    for rec in records:
        _, was_created = onecrl_store.store_record(rec)
        created += was_created
        updated += not was_created
    return {"records": len(records), "created": created, "updated": updated}
