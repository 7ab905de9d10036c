"""Imported bugs take their deadlines from their own data: the whiteboard's "Next update", the
Bugzilla record's last change (else its creation), never the day of the import."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compliance.actions.incidents_import import import_bugs
from compliance.domain.whiteboard import parse_whiteboard
from compliance.models import Incident
from compliance.selectors import incident_list

# The one copy, beside the demo that loads it (compliance/demo_data/SOURCE.md).
DUMP = Path(__file__).resolve().parent.parent.parent / "compliance" / "demo_data" / "ca_compliance_bugs_2014-2026.json"
IMPORTED_ON = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def real_bugs(db):
    bugs = json.loads(DUMP.read_text(encoding="utf-8"))
    import_bugs(bugs, now=IMPORTED_ON)
    return {b["id"]: b for b in bugs}


def _next_update(bug):
    """The whiteboard's Next update when it lies after the bug's creation (an older date on a newer bug is
    a stale whiteboard: the weekly cadence from the record applies instead)."""
    board = parse_whiteboard(bug["whiteboard"] or "", today=IMPORTED_ON.date())
    created = datetime.fromisoformat(bug["creation_time"].replace("Z", "+00:00")).date()
    # A revocation delay adds its own, shorter cadence (deadlines.py): those bugs are left out here.
    return board.next_update if board.next_update and board.next_update > created and not board.revocation_delay \
        else None


def test_the_whiteboards_next_update_is_the_imported_bugs_deadline(real_bugs):
    past = [n for n, b in real_bugs.items() if b["status"] not in ("RESOLVED", "VERIFIED", "CLOSED")
            and _next_update(b) and _next_update(b) < IMPORTED_ON.date()]
    future = [n for n, b in real_bugs.items() if b["status"] not in ("RESOLVED", "VERIFIED", "CLOSED")
              and _next_update(b) and _next_update(b) > IMPORTED_ON.date()]
    assert 1983267 in past and 1985816 in future  # Next update 2026-03-20 and 2026-04-14
    for number in past + future:
        incident = Incident.objects.get(number=number)
        due = _next_update(real_bugs[number])
        assert incident.next_due_at == datetime(due.year, due.month, due.day, 23, 59, 59, tzinfo=UTC), number
    overdue = set(Incident.objects.filter(next_due_at__lt=IMPORTED_ON).values_list("number", flat=True))
    assert set(past) <= overdue and not set(future) & overdue


def test_the_overdue_filter_finds_the_open_imported_bugs_past_their_next_update(real_bugs, staff):
    listed = {i.number for i in incident_list(user=staff, params={"overdue": "1"}, now=IMPORTED_ON)}
    open_past = {n for n, b in real_bugs.items() if b["status"] not in ("RESOLVED", "VERIFIED", "CLOSED")
                 and _next_update(b) and _next_update(b) < IMPORTED_ON.date()}
    assert 1983267 in listed and open_past <= listed
    assert not {n for n, b in real_bugs.items() if b["status"] in ("RESOLVED", "VERIFIED", "CLOSED")} & listed


def test_changed_shows_the_bugs_own_last_change_not_the_import(real_bugs):
    incident = Incident.objects.get(number=1983267)
    created = datetime.fromisoformat(real_bugs[1983267]["creation_time"].replace("Z", "+00:00"))
    assert incident.updated_at == created != IMPORTED_ON


@pytest.mark.django_db
def test_a_records_last_change_time_drives_updated_at_and_the_cadence():
    bug = {"id": 5000001, "summary": "X: y", "status": "ASSIGNED", "resolution": "", "whiteboard": "[ca-compliance]",
           "creation_time": "2026-01-05T10:00:00Z", "last_change_time": "2026-03-01T08:00:00Z"}
    import_bugs([bug], now=IMPORTED_ON)
    incident = Incident.objects.get(number=5000001)
    assert incident.updated_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert incident.next_due_at == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # a week after the last change
    assert incident.next_due_at < IMPORTED_ON


@pytest.mark.django_db
def test_a_malformed_last_change_time_is_refused_and_nothing_is_stored():
    from compliance.actions.incidents_import import BugzillaImportError

    bug = {"id": 5000002, "summary": "X: y", "status": "NEW", "creation_time": "2026-01-05T10:00:00Z",
           "last_change_time": "last tuesday"}
    with pytest.raises(BugzillaImportError, match="last_change_time"):
        import_bugs([bug], now=IMPORTED_ON)
    assert not Incident.objects.filter(number=5000002).exists()
