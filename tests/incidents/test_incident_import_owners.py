"""The Bugzilla import finds the CA owner of the real bugs by normalised name, CCADB short name and
alias (compliance.domain.owner_names), on the demo's 45 real CA owners; imported bugs link back to
their Bugzilla page, incidents filed here do not."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count

from compliance.demo import DUMP
from compliance.domain.owner_names import title_prefix
from compliance.models import Incident
from registry import demo as registry_demo
from registry.models import CAOwner

pytestmark = pytest.mark.django_db


def _import(*args) -> str:
    out = io.StringIO()
    call_command("import_bugzilla_json", str(DUMP), *args, stdout=out)
    return out.getvalue()


def test_every_demo_ca_owner_gets_its_bugs():
    registry_demo.load(io.StringIO())  # NSS's roots and their CCADB owners: the demo's 45 CA owners
    names = list(CAOwner.objects.values_list("name", flat=True))
    assert len(names) == 45
    bugs = json.loads(DUMP.read_text(encoding="utf-8"))
    # Before: an exact (case-insensitive) title prefix reached 16 owners with 546 bugs.
    exact = {n.casefold() for n in names}
    old = [b for b in bugs if title_prefix(b["summary"]).casefold() in exact]
    assert (len({title_prefix(b["summary"]).casefold() for b in old}), len(old)) == (16, 546)

    output = _import()
    with_bugs = dict(CAOwner.objects.annotate(n=Count("incidents")).filter(n__gt=0).values_list("name", "n"))
    assert len(with_bugs) == 45
    assert Incident.objects.exclude(ca_owner=None).count() == 1359
    assert with_bugs["Internet Security Research Group"] == 38
    assert with_bugs["GlobalSign nv-sa"] == 57
    assert with_bugs["Government of The Netherlands, PKIoverheid (Logius)"] == 46
    assert Incident.objects.get(number=1319609).ca_owner.name == "Internet Security Research Group"
    assert "1359 matched to a CA owner, 329 without one." in output
    # Names of CAs that are not among these owners are listed, not guessed.
    assert "  Entrust: 71 (" in output and "  Apple: 14 (" in output
    assert Incident.objects.filter(title__startswith="Entrust:", ca_owner=None).count() == 71


def test_an_owner_set_by_hand_is_kept_when_the_title_matches_none(owner_a, staff):
    _import()
    bug = Incident.objects.get(number=988633)
    assert bug.ca_owner is None
    Incident.objects.filter(pk=bug.pk).update(ca_owner=owner_a)
    _import()
    bug.refresh_from_db()
    assert bug.ca_owner == owner_a


def test_imported_bugs_link_to_bugzilla_and_incidents_filed_here_do_not(make_incident, owner_a, reviewer,
                                                                       client_for):
    _import()
    imported = Incident.objects.get(number=1319609)
    filed = make_incident(owner_a, title="Filed in Rootwatch")
    link = '<a href="https://bugzilla.mozilla.org/show_bug.cgi?id=1319609" rel="external" data-testid="bugzilla-link">'
    for reader in (reviewer, None):
        client = client_for(reader)
        assert link in client.get(imported.get_absolute_url()).content.decode()
        page = client.get(filed.get_absolute_url()).content.decode()
        assert "bugzilla.mozilla.org" not in page
        assert client.get(f"/api/v1/incidents/{imported.number}/").json()["bugzilla_url"] == (
            "https://bugzilla.mozilla.org/show_bug.cgi?id=1319609")
        assert client.get(f"/api/v1/incidents/{filed.number}/").json()["bugzilla_url"] is None
