"""Every cell of the incident status-transition table, allowed and refused, through the real action.

The cases come from Incident.Status itself, so a new status shows up here as a failing case until
its row and column are written into EXPECTED. The expected outcomes are written out by hand
(Bugzilla's workflow as the compliance component uses it), not read from the table under test.
"""

from __future__ import annotations

from itertools import product

import pytest

from compliance.actions import incidents as act
from compliance.models import Incident
from config.errors import DomainError, TransitionError
from history import selectors as history

S = Incident.Status
R = Incident.Resolution

SAME, YES, NO = "unchanged", "allowed", "refused"

# The statuses in the order of EXPECTED's columns.
COLUMNS = (S.UNCONFIRMED, S.NEW, S.ASSIGNED, S.REOPENED, S.RESOLVED)
# EXPECTED[from][to]. Columns:       UNCONFIRMED NEW   ASSIGNED REOPENED RESOLVED
EXPECTED: dict[str, dict[str, str]] = {
    S.UNCONFIRMED: dict(zip(COLUMNS, (SAME,       YES,  YES,     NO,      YES), strict=True)),
    S.NEW:         dict(zip(COLUMNS, (NO,         SAME, YES,     NO,      YES), strict=True)),
    S.ASSIGNED:    dict(zip(COLUMNS, (NO,         YES,  SAME,    NO,      YES), strict=True)),
    S.REOPENED:    dict(zip(COLUMNS, (NO,         YES,  YES,     SAME,    YES), strict=True)),
    S.RESOLVED:    dict(zip(COLUMNS, (NO,         NO,   NO,      YES,     SAME), strict=True)),
}

RESOLUTIONS = [r for r in R.values if r]  # the empty one means "not resolved"


def test_the_expected_matrix_covers_every_status():
    # A new status fails here (and in its cells below) until its row and column are written in.
    assert set(COLUMNS) == set(S.values)
    assert set(EXPECTED) == set(S.values)


def _at(incident: Incident, status: str) -> Incident:
    """Put the incident in `status` directly (arrangement, not under test); a resolved one is FIXED."""
    Incident.objects.filter(pk=incident.pk).update(status=status, resolution=R.FIXED if status == S.RESOLVED else "")
    incident.refresh_from_db()
    return incident


def _snapshot(incident: Incident):
    incident.refresh_from_db()
    rows = list(history.for_subject(incident).values_list("pk", flat=True))
    return incident.status, incident.resolution, incident.updated_at, rows


def _status_rows(incident: Incident, since: list[int]):
    rows = history.for_subject(incident).exclude(pk__in=since)
    return [(e.actor_name, e.field, e.old, e.new) for e in rows]


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), list(product(S.values, S.values)))
def test_status_table_cell(staff, public_a, old, new):
    expected = EXPECTED[old][new]
    incident = _at(public_a, old)
    before = _snapshot(incident)
    # Going to RESOLVED needs a resolution; any other change leaves it to the action.
    kw = {"resolution": R.FIXED} if new == S.RESOLVED else {}

    if expected == NO:
        with pytest.raises(TransitionError, match=f"cannot go from {old} to {new}") as refused:
            act.incident_update(actor=staff, incident=incident, status=new, **kw)
        assert refused.value.http_status == 409
        assert _snapshot(incident) == before
        return

    act.incident_update(actor=staff, incident=incident, status=new, **kw)
    incident.refresh_from_db()
    assert incident.status == new
    written = _status_rows(incident, before[3])
    if expected == SAME:
        assert incident.resolution == before[1]
        assert written == []
        return
    assert ("staff", "status", old, new) in written
    if new == S.RESOLVED:
        assert incident.resolution == R.FIXED
        assert ("staff", "resolution", "", R.FIXED) in written
    elif old == S.RESOLVED:
        # Leaving RESOLVED clears the resolution, as in Bugzilla, and says so in the history.
        assert incident.resolution == ""
        assert ("staff", "resolution", R.FIXED, "") in written
    else:
        assert incident.resolution == ""
        assert [row[1] for row in written] == ["status"]


@pytest.mark.django_db
@pytest.mark.parametrize("old", [s for s in S.values if EXPECTED.get(s, {}).get(S.RESOLVED) == YES])
def test_resolving_without_a_resolution_is_refused_and_changes_nothing(staff, public_a, old):
    incident = _at(public_a, old)
    before = _snapshot(incident)
    with pytest.raises(DomainError, match="needs a resolution") as refused:
        act.incident_update(actor=staff, incident=incident, status=S.RESOLVED, resolution="")
    assert refused.value.http_status == 400
    assert _snapshot(incident) == before


@pytest.mark.django_db
@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_every_resolution_resolves(staff, public_a, public_b, resolution):
    incident = _at(public_a, S.ASSIGNED)
    before = _snapshot(incident)
    # DUPLICATE names the bug it duplicates (tests/incidents/test_incident_relations.py refuses it without).
    dupe = {"dupe_of": public_b.number} if resolution == R.DUPLICATE else {}
    act.incident_update(actor=staff, incident=incident, status=S.RESOLVED, resolution=resolution, **dupe)
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == (S.RESOLVED, resolution)
    written = _status_rows(incident, before[3])
    assert ("staff", "status", S.ASSIGNED, S.RESOLVED) in written
    assert ("staff", "resolution", "", resolution) in written


@pytest.mark.django_db
@pytest.mark.parametrize("resolution", RESOLUTIONS)
def test_a_resolved_incident_may_change_its_resolution_alone(staff, public_a, public_b, resolution):
    incident = _at(public_a, S.RESOLVED)
    before = _snapshot(incident)
    dupe = {"dupe_of": public_b.number} if resolution == R.DUPLICATE else {}
    act.incident_update(actor=staff, incident=incident, resolution=resolution, **dupe)
    incident.refresh_from_db()
    assert (incident.status, incident.resolution) == (S.RESOLVED, resolution)
    written = _status_rows(incident, before[3])
    assert written == ([] if resolution == R.FIXED else [("staff", "resolution", R.FIXED, resolution)]
                       + ([("staff", "duplicate_of", "", str(public_b.number))] if dupe else []))


@pytest.mark.django_db
@pytest.mark.parametrize("old", [s for s in S.values if s != S.RESOLVED])
def test_an_unresolved_incident_cannot_take_a_resolution_alone(staff, public_a, old):
    incident = _at(public_a, old)
    before = _snapshot(incident)
    with pytest.raises(DomainError, match="Only a resolved incident has a resolution") as refused:
        act.incident_update(actor=staff, incident=incident, resolution=R.FIXED)
    assert refused.value.http_status == 400
    assert _snapshot(incident) == before
