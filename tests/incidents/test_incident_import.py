"""import_bugzilla_json over the real dump of 1,688 compliance bugs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from compliance.actions import incidents as act
from compliance.domain.whiteboard import KNOWN_TAGS, parse_whiteboard
from compliance.models import Incident, IncidentTag
from registry.models import CAOwner

# The one copy, beside the demo that loads it (compliance/demo_data/SOURCE.md).
DUMP = Path(__file__).resolve().parent.parent.parent / "compliance" / "demo_data" / "ca_compliance_bugs_2014-2026.json"


def _run(*args) -> str:
    out = io.StringIO()
    call_command("import_bugzilla_json", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_import_keeps_every_bug_number_status_resolution_whiteboard_and_creation_time():
    bugs = json.loads(DUMP.read_text(encoding="utf-8"))
    for name in ("DigiCert", "Sectigo", "D-TRUST", "Let's Encrypt", "NetLock"):
        CAOwner.objects.create(name=name)
    output = _run(str(DUMP))
    assert Incident.objects.count() == 1688
    sample = {b["id"]: b for b in bugs}
    for incident in Incident.objects.all():
        bug = sample[incident.number]
        assert (incident.title, incident.status, incident.resolution, incident.whiteboard) == (
            bug["summary"], bug["status"], bug["resolution"], bug["whiteboard"])
        assert incident.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") == bug["creation_time"]
    # Case and spacing are normalised ("D-Trust" and "D-TRUST", "NETLOCK" and "NetLock"), nothing else.
    assert Incident.objects.filter(ca_owner__name="D-TRUST").count() == 29
    assert Incident.objects.filter(ca_owner__name="NetLock").count() >= 31
    assert Incident.objects.filter(ca_owner__name="DigiCert").count() >= 125
    # Unmatched prefixes are listed, not guessed.
    assert "Title prefixes that match no CA owner" in output
    assert "  Entrust: 71 (" in output
    assert Incident.objects.filter(title__startswith="Entrust:", ca_owner=None).count() == 71


@pytest.mark.django_db
def test_imported_tags_are_all_known_and_queryable():
    _run(str(DUMP))
    assert set(IncidentTag.objects.values_list("tag", flat=True)) <= set(KNOWN_TAGS)
    expected = sum(1 for b in json.loads(DUMP.read_text()) if "dv-misissuance" in parse_whiteboard(b["whiteboard"]).tags)
    assert Incident.objects.tagged("dv-misissuance").count() == expected > 50


@pytest.mark.django_db
def test_import_again_updates_and_keeps_rootwatch_additions(staff, owner_a):
    _run(str(DUMP))
    incident = Incident.objects.get(number=988633)
    act.comment_create(actor=staff, incident=incident, body="Added in Rootwatch")
    _run(str(DUMP))
    assert Incident.objects.count() == 1688
    assert incident.comments.filter(body="Added in Rootwatch").exists()


@pytest.mark.django_db
def test_new_incidents_are_numbered_above_the_highest_imported(staff, owner_a):
    _run(str(DUMP))
    incident = act.incident_create(actor=staff, ca_owner=owner_a, title="New", description="d")
    assert incident.number == 2021560


@pytest.mark.django_db
def test_a_malformed_dump_is_refused_and_nothing_is_stored(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": 1, "summary": "A: x", "creation_time": "2020-01-01T00:00:00Z", "status": "RESOLVED",
                                "resolution": "FIXED"},
                               {"id": 2, "summary": "B: y", "creation_time": "yesterday"}]))
    with pytest.raises(CommandError, match="bug 2: creation_time"):
        _run(str(bad))
    assert Incident.objects.count() == 0
