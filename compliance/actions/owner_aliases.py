"""The Bugzilla import's CA owner alias table (OwnerAlias) and the title prefixes it left unmatched.

Staff keep the table (accounts.permissions.can_edit_owner_aliases): a brand name bug titles use
("Let's Encrypt") and the CA owner it names (a registry CA owner: "Internet Security Research
Group"). The import (compliance.actions.incidents_import) matches with it and, at its end, replaces
the unmatched list with what it could not match (`unmatched_record`), so staff see what to map;
a prefix is never guessed. Every change writes a history row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import permissions as perm
from compliance.domain.owner_names import whole_key
from compliance.models import OwnerAlias, UnmatchedOwnerPrefix
from config.errors import DomainError, NotPermitted
from history import actions as history
from registry.models import CAOwner

__all__ = ["alias_save", "alias_delete", "aliases_table", "unmatched_record"]

ALIAS_MAX = 200


def _require_staff(actor: Any) -> None:
    if not perm.can_edit_owner_aliases(actor):
        raise NotPermitted("Only root program staff edit the CA owner aliases.")


def aliases_table() -> dict[str, str]:
    """{alias: CA owner name} for compliance.domain.owner_names.OwnerMatcher: one query."""
    return dict(OwnerAlias.objects.values_list("alias", "owner_name"))


@transaction.atomic
def alias_save(*, actor: Any, alias: str, ca_owner: Any, instance: OwnerAlias | None = None) -> OwnerAlias:
    """Create an alias, or (`instance`) change one. `ca_owner` is a registry CAOwner; the alias must
    not be empty, nor another alias's, nor already the owner's own name (then it needs none)."""
    _require_staff(actor)
    alias = " ".join((alias or "").split())
    errors: dict[str, list[str]] = {}
    if not alias:
        errors["alias"] = ["Enter the name the bug titles use."]
    elif len(alias) > ALIAS_MAX:
        errors["alias"] = [f"at most {ALIAS_MAX} characters"]
    elif not whole_key(alias):
        errors["alias"] = ["This name has no letters or digits to match on."]
    elif any(whole_key(other) == whole_key(alias) for other in
             OwnerAlias.objects.exclude(pk=getattr(instance, "pk", None)).values_list("alias", flat=True)):
        errors["alias"] = ["This alias already exists (case, accents and punctuation aside)."]
    if not isinstance(ca_owner, CAOwner):
        errors["ca_owner"] = ["Choose a CA owner of the registry."]
    elif alias and whole_key(alias) == whole_key(ca_owner.name):
        errors["alias"] = ["This is the CA owner's own name: it matches without an alias."]
    if errors:
        raise DomainError("The alias was not saved: " + "; ".join(f"{k}: {v[0]}" for k, v in errors.items()),
                          errors=errors)
    now = timezone.now()
    if instance is None:
        row = OwnerAlias.objects.create(alias=alias, owner_name=ca_owner.name, created_at=now, updated_at=now)
        history.record(actor=actor, subject=row, action="owner_alias_created", label="CA owner alias added",
                       field="alias", new=f"{alias} -> {ca_owner.name}", at=now)
        return row
    row = OwnerAlias.objects.select_for_update().get(pk=instance.pk)
    old = f"{row.alias} -> {row.owner_name}"
    row.alias, row.owner_name, row.updated_at = alias, ca_owner.name, now
    row.save()
    history.record(actor=actor, subject=row, action="owner_alias_changed", label="CA owner alias changed",
                   field="alias", old=old, new=f"{alias} -> {ca_owner.name}", at=now)
    return row


@transaction.atomic
def alias_delete(*, actor: Any, alias: OwnerAlias) -> None:
    _require_staff(actor)
    history.record(actor=actor, subject=alias, action="owner_alias_deleted", label="CA owner alias removed",
                   field="alias", old=f"{alias.alias} -> {alias.owner_name}", new="")
    OwnerAlias.objects.filter(pk=alias.pk).delete()


def unmatched_record(unmatched: dict[str, list[int]], *, now: datetime) -> int:
    """Called by the import in its transaction: the unmatched list becomes this import's (prefix,
    bug count, one bug). Titles without a prefix are listed as ''. Returns the rows written."""
    UnmatchedOwnerPrefix.objects.all().delete()
    rows = [UnmatchedOwnerPrefix(prefix=prefix[:200], bugs=len(numbers), example_number=min(numbers), imported_at=now)
            for prefix, numbers in unmatched.items() if numbers]
    # Two prefixes cut to the same 200 characters: keep one row (their bugs are still imported).
    unique = {r.prefix: r for r in rows}
    UnmatchedOwnerPrefix.objects.bulk_create(unique.values())
    return len(unique)
