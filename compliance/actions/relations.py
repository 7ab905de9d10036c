"""The rules that keep incident relations free of contradictions, as Bugzilla's Bug.pm keeps them.

- depends_on: a bug cannot depend, through any chain, on a bug that depends on it. "A blocks B"
  is stored as "B depends on A", so depending on and blocking the same bug is the shortest loop
  (Bugzilla: dependency_loop_single / dependency_loop_multi). The refusal names the loop.
- duplicate_of: a bug duplicates at most one bug (Bugzilla's `dupe_of`), never itself, and the
  chain of duplicates from the new target must not lead back to it (dupe_loop_detected).
- RESOLVED DUPLICATE names the bug it duplicates (dupe_id_required): on the triage page, in
  `PATCH /api/v1/incidents/<n>/` (`dupe_of`), or by an existing duplicate_of relation. Naming
  one alone resolves the bug as a duplicate; leaving DUPLICATE drops the link, as in Bugzilla.

Used by compliance.actions.incidents (incident_update, incident_relate) inside their transaction.
On PostgreSQL each relation change first takes a transaction-level advisory lock, so two people
adding A->B and B->A at the same moment cannot both pass the loop check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from accounts import permissions as perm
from compliance.models import Incident, IncidentHistory, IncidentRelation
from config.errors import DomainError
from history import actions as history
from history.models import Event

DEPENDS_ON = IncidentRelation.Kind.DEPENDS_ON
DUPLICATE_OF = IncidentRelation.Kind.DUPLICATE_OF
RESOLVED = Incident.Status.RESOLVED
DUPLICATE = Incident.Resolution.DUPLICATE
# Any constant shared by every relation writer (pg_advisory_xact_lock's key): "rwrel".
_LOCK_KEY = 0x7277_72656C
MAX_CHAIN = 10_000


def lock_relations() -> None:
    """Serialise relation writers until the transaction ends (SQLite already runs one writer at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def loop_names(pks: list[int], actor: Any) -> str:
    incidents = Incident.objects.filter(pk__in=pks).only("pk", "number", "security_sensitive", "ca_owner_id",
                                                         "reporter_id", "assignee_id")
    visible = {i.pk: i.number for i in incidents if actor is None or perm.can_view_incident(actor, i)}
    return " → ".join(f"bug {visible[pk]}" if pk in visible else "a bug you cannot see" for pk in pks)


def dependency_path(start: int, goal: int) -> list[int] | None:
    """The pks of a depends_on chain start -> ... -> goal, shortest first, or None. One query per step."""
    parent: dict[int, int | None] = {start: None}
    frontier = [start]
    while frontier and len(parent) < MAX_CHAIN:
        edges = IncidentRelation.objects.filter(kind=DEPENDS_ON, source_id__in=frontier).values_list(
            "source_id", "target_id")
        frontier = []
        for source, target in edges:
            if target in parent:
                continue
            parent[target] = source
            if target == goal:
                path = [target]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])  # type: ignore[arg-type]
                return path[::-1]
            frontier.append(target)
    return None


def check_depends_on(*, actor: Any, source: Incident, target: Incident) -> None:
    """Refuse source depends_on target when target already depends (through any chain) on source."""
    path = dependency_path(target.pk, source.pk)
    if path is None:
        return
    loop = loop_names([source.pk, *path], actor)
    if len(path) == 2:
        message = (f"Bug {source.number} cannot depend on bug {target.number}: bug {target.number} already depends on "
                   f"bug {source.number}, and a bug cannot depend on and block the same bug (dependency loop {loop}).")
    else:
        message = (f"Bug {source.number} cannot depend on bug {target.number}: that would make a dependency "
                   f"loop {loop} (each depends on the next).")
    raise DomainError(message, errors={"other": [f"dependency loop: {loop}"]})


def duplicate_target(incident: Incident) -> Incident | None:
    """The incident this one is a duplicate of (its duplicate_of relation), or None."""
    rel = IncidentRelation.objects.filter(source=incident, kind=DUPLICATE_OF).select_related("target").first()
    return rel.target if rel else None


def check_duplicate_of(*, actor: Any, incident: Incident, other: Incident, field: str = "other") -> None:
    """Refuse incident duplicate_of other when other is incident, or other's chain of duplicates
    leads back to incident. A loop that does not involve this incident is not its editor's doing
    and does not block (Bugzilla's rule)."""
    if other.pk == incident.pk:
        raise DomainError(f"Bug {incident.number} cannot be a duplicate of itself.",
                          errors={field: ["a bug cannot be a duplicate of itself"]})
    chain, seen, current = [incident.pk, other.pk], {other.pk}, other.pk
    while len(chain) < MAX_CHAIN:
        nxt = IncidentRelation.objects.filter(source_id=current, kind=DUPLICATE_OF).values_list(
            "target_id", flat=True).first()
        if nxt is None or (nxt in seen and nxt != incident.pk):
            return
        chain.append(nxt)
        if nxt == incident.pk:
            loop = loop_names(chain, actor)
            raise DomainError(
                f"Bug {incident.number} cannot be a duplicate of bug {other.number}: that would make a loop of "
                f"duplicates {loop}.", errors={field: [f"duplicate loop: {loop}"]})
        seen.add(nxt)
        current = nxt


def find_other(*, actor: Any, number: Any, field: str) -> Incident:
    """The incident a person named by number; one they may not see does not exist for them."""
    other = Incident.objects.filter(number=number).first() if isinstance(number, int) and number > 0 else None
    if other is None or (actor is not None and not perm.can_view_incident(actor, other)):
        raise DomainError(f"There is no bug {number}.", errors={field: [f"there is no bug {number}"]})
    return other


# ------------------------------------------------------------------ RESOLVED DUPLICATE


@dataclass
class DuplicatePlan:
    """What incident_update does to the duplicate_of relation once every check has passed."""

    current: Incident | None
    new: Incident | None

    @property
    def changes(self) -> bool:
        return getattr(self.current, "pk", None) != getattr(self.new, "pk", None)


def status_for_dupe(*, dupe_of: Any, status: Any, resolution: Any, unset: Any,
                    errors: dict[str, list[str]]) -> tuple[Any, Any]:
    """Naming a duplicate alone resolves the bug as a duplicate (Bugzilla's dupe_of); naming one
    beside another status or resolution is a contradiction, refused beside `dupe_of`."""
    if dupe_of in (unset, None, ""):
        return status, resolution
    if (status is not unset and status != RESOLVED) or (resolution is not unset and resolution != DUPLICATE):
        errors["dupe_of"] = ["a bug named here makes this one RESOLVED DUPLICATE: choose Resolved and Duplicate, "
                             "or leave this empty"]
        return status, resolution
    return RESOLVED, DUPLICATE


def plan_duplicate(*, actor: Any, incident: Incident, dupe_of: Any, unset: Any, old: tuple[str, str],
                   new: tuple[str, str], errors: dict[str, list[str]]) -> DuplicatePlan:
    """Check the duplicate named (or not) against the status and resolution the update leads to."""
    current = duplicate_target(incident)
    is_duplicate = new == (RESOLVED, DUPLICATE)
    plan = DuplicatePlan(current=current, new=current)
    if dupe_of not in (unset, None, ""):
        try:
            other = find_other(actor=actor, number=dupe_of, field="dupe_of")
            if current is None or other.pk != current.pk:
                lock_relations()
                check_duplicate_of(actor=actor, incident=incident, other=other, field="dupe_of")
            plan.new = other
        except DomainError as exc:
            errors.update(exc.errors)
        return plan
    if dupe_of is not unset:  # emptied
        plan.new = None
    if is_duplicate and plan.new is None and (old != new or dupe_of is not unset):
        errors["dupe_of"] = ["name the bug this one duplicates (Duplicate of bug #)"]
    elif not is_duplicate and old == (RESOLVED, DUPLICATE):
        plan.new = None  # leaving DUPLICATE drops the link, as in Bugzilla
    return plan


def apply_duplicate(*, actor: Any, incident: Incident, plan: DuplicatePlan, now: datetime) -> list[Event]:
    """Write the planned duplicate_of relation, with one history row (field duplicate_of, old -> new)."""
    if not plan.changes:
        return []
    IncidentRelation.objects.filter(source=incident, kind=DUPLICATE_OF).delete()
    if plan.new is not None:
        IncidentRelation.objects.create(source=incident, target=plan.new, kind=DUPLICATE_OF, created_at=now)
    return [history.record(actor=actor, subject=incident, action=IncidentHistory.CHANGED, field=DUPLICATE_OF,
                           old=str(plan.current.number) if plan.current else "",
                           new=str(plan.new.number) if plan.new else "", at=now)]
