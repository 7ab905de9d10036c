"""Action: import Bugzilla bugs as incidents (used by `import_bugzilla_json` and the demo data).

Writes in bulk in one transaction: 1,688 bugs take a few seconds. See the command's docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from compliance.domain.owner_names import OwnerMatcher, title_prefix
from compliance.domain.whiteboard import parse_whiteboard
from compliance.models import Incident, IncidentHistory, IncidentTag
from compliance.search import index as search_index
from history import actions as history
from registry.models import CAOwner

FIELDS = ("title", "status", "resolution", "whiteboard", "created_at", "ca_owner_id", "next_update", "updated_at",
          "last_update_at")


class BugzillaImportError(ValueError):
    pass


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    matched: int = 0
    unmatched: dict[str, list[int]] = field(default_factory=dict)

    @property
    def unmatched_count(self) -> int:
        return sum(len(v) for v in self.unmatched.values())


def owner_matcher() -> OwnerMatcher:
    """The registry's CA owners, matched by name, CCADB short name or alias (compliance.domain.owner_names);
    the aliases are the staff-edited table (compliance.actions.owner_aliases), not the module's seed."""
    from compliance.actions.owner_aliases import aliases_table

    return OwnerMatcher(list(CAOwner.objects.values_list("pk", "name")), aliases=aliases_table())


def _bug_rows(bugs: Any) -> list[dict]:
    if isinstance(bugs, dict) and isinstance(bugs.get("bugs"), list):
        bugs = bugs["bugs"]
    if not isinstance(bugs, list):
        raise BugzillaImportError('expected a JSON list of bugs, or {"bugs": [...]}')
    rows = []
    for index, bug in enumerate(bugs):
        if not isinstance(bug, dict) or not isinstance(bug.get("id"), int) or not bug.get("summary"):
            raise BugzillaImportError(f"bug #{index} has no integer id or no summary")
        created = parse_datetime(str(bug.get("creation_time", "")))
        if created is None or timezone.is_naive(created):
            raise BugzillaImportError(f"bug {bug['id']}: creation_time {bug.get('creation_time')!r} is not an ISO time")
        status = bug.get("status") or "NEW"
        if status not in Incident.Status.values:
            raise BugzillaImportError(f"bug {bug['id']}: unknown status {status!r}")
        resolution = bug.get("resolution") or ""
        if resolution not in Incident.Resolution.values:
            raise BugzillaImportError(f"bug {bug['id']}: unknown resolution {resolution!r}")
        # Bugzilla's last change (REST: last_change_time); a dump without it leaves the creation time,
        # so an open bug's update cadence runs from its own record, never from the day of the import.
        changed = created
        if bug.get("last_change_time"):
            changed = parse_datetime(str(bug["last_change_time"]))
            if changed is None or timezone.is_naive(changed):
                raise BugzillaImportError(
                    f"bug {bug['id']}: last_change_time {bug['last_change_time']!r} is not an ISO time")
        rows.append({**bug, "_created": created, "_changed": max(created, changed), "_status": status,
                     "_resolution": resolution})
    return rows


@transaction.atomic
def import_bugs(bugs: Any, *, only_matched: bool = False, now: datetime | None = None) -> ImportResult:
    now = now or timezone.now()
    rows = _bug_rows(bugs)
    owners = owner_matcher()
    result = ImportResult()
    unmatched: dict[str, list[int]] = defaultdict(list)
    existing = {i.number: i for i in Incident.objects.filter(number__in=[r["id"] for r in rows])}
    to_create, to_update, tags = [], [], {}
    for row in rows:
        prefix = title_prefix(row["summary"])
        owner_id = owners.match(prefix).owner if prefix else None
        if owner_id is None:
            unmatched[prefix].append(row["id"])
            if only_matched:
                continue
        else:
            result.matched += 1
        whiteboard = row.get("whiteboard") or ""
        board = parse_whiteboard(whiteboard, today=row["_created"].date())
        values = {
            "title": row["summary"][:400], "status": row["_status"], "resolution": row["_resolution"],
            "whiteboard": whiteboard, "created_at": row["_created"], "ca_owner_id": owner_id,
            "next_update": board.next_update,
        }
        incident = existing.get(row["id"])
        if incident is None:
            incident = Incident(
                # Bugzilla does not record the source; the model's default (self reported) stands
                # until staff correct it, and report deadlines are not computed for imported bugs.
                number=row["id"], first_disclosed_at=row["_created"], updated_at=row["_changed"],
                last_update_at=row["_changed"], imported_at=now, **values,
            )
            to_create.append(incident)
        else:
            if incident.ca_owner_id is not None and owner_id is None:
                values["ca_owner_id"] = incident.ca_owner_id  # keep an owner set by hand
            for key, value in values.items():
                setattr(incident, key, value)
            # Activity recorded here after an earlier import stays the latest.
            incident.updated_at = max(incident.updated_at, row["_changed"])
            incident.last_update_at = max(filter(None, [incident.last_update_at, row["_changed"]]))
            to_update.append(incident)
        tags[row["id"]] = board.tags
    Incident.objects.bulk_create(to_create, batch_size=500)
    Incident.objects.bulk_update(to_update, FIELDS, batch_size=500)
    result.created, result.updated = len(to_create), len(to_update)
    by_number = dict(Incident.objects.filter(number__in=list(tags)).values_list("number", "pk"))
    IncidentTag.objects.filter(incident_id__in=by_number.values()).delete()
    IncidentTag.objects.bulk_create(
        [IncidentTag(incident_id=by_number[n], tag=t) for n, ts in tags.items() for t in ts], batch_size=1000
    )
    history.record_many(
        actor=None, action=IncidentHistory.IMPORTED, subject_type=history.subject_type_of(Incident), at=now,
        rows=[{"subject_id": by_number[i.number], "field": "imported", "new": f"bug {i.number}"} for i in to_create],
    )
    _refresh_open(by_number.values(), now)
    search_index.refresh(by_number.values())  # bulk writes send no signal to keep the search documents
    result.unmatched = dict(unmatched)
    from compliance.actions.owner_aliases import unmatched_record

    unmatched_record(result.unmatched, now=now)  # the staff page lists what this import could not match
    return result


def _refresh_open(pks: Iterable[int], now: datetime) -> None:
    from compliance.actions.incidents import refresh_deadlines

    for incident in Incident.objects.filter(pk__in=list(pks)).open().prefetch_related("questions"):
        refresh_deadlines(incident, now)
