"""A missing or late audit statement files a compliance incident, once (issue 15).

Seed: "CA failed to supply proper audit documentation" -> "File a CA compliance bug, request that the CA
respond with remediation plans, and request an incident report". The reminder sweep files it (system
actor), keyed by CA owner, family and period end: a second sweep files nothing, nor does a concurrent one.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from audits.actions.overdue import overdue_statement_incidents_file
from audits.models import AuditStatement, OverdueStatementIncident
from compliance.models import Incident
from config.errors import NotPermitted
from notifications import actions as notif
from notifications.models import Kind, Notification
from registry.models import CAOwner

# A period ending 2023-12-31: the next one ends 2024-12-31, its statement is due by 2025-04-02.
LAST_END = date(2023, 12, 31)
DUE = date(2025, 4, 2)
TITLE_A = "Acme Trust: Audit statement overdue (TLS Baseline Requirements, period ending 2024-12-31)"


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def sweep(day: date):
    return notif.sweep_run(now=at(day), enqueue=False)


@pytest.mark.django_db
def test_the_sweep_files_one_incident_when_the_statement_is_overdue_and_never_again(
        make_statement, owner_a, rep_a, staff, django_capture_on_commit_callbacks):
    make_statement(owner_a, date(2023, 1, 1), LAST_END)
    assert sweep(DUE).errors == []
    assert not Incident.objects.exists()  # on the due day it is still on time

    with django_capture_on_commit_callbacks(execute=True):
        run = sweep(date(2025, 4, 3))
    assert run.errors == []
    incident = Incident.objects.get()
    assert incident.title == TITLE_A
    assert (incident.ca_owner, incident.reporter, incident.source) == (owner_a, None, "audit")
    assert incident.status == Incident.Status.ASSIGNED  # filed by the system: no triage needed to confirm it
    assert {t.tag for t in incident.tags.all()} == {"ca-compliance", "audit-delay"}
    description = incident.comments.get().body
    assert "was due by 2025-04-02" in description
    assert ("File a CA compliance bug, request that the CA respond with remediation plans, and request an "
            "incident report") in description
    key = OverdueStatementIncident.objects.get()
    assert (key.family, key.period_end, key.due, key.incident) == ("tls-baseline", date(2024, 12, 31), DUE, incident)
    # Still a reminder too, as before.
    assert Notification.objects.filter(kind=Kind.STATEMENT_OVERDUE, recipient=rep_a).exists()

    for day in (date(2025, 4, 3), date(2025, 4, 4), date(2025, 9, 1)):
        assert sweep(day).errors == []
    assert Incident.objects.count() == 1
    assert overdue_statement_incidents_file(now=at(date(2025, 9, 2))) == []
    # Resolved, deleted or not: the key stays, so the same overdue statement is never filed again.
    Incident.objects.all().delete()
    assert overdue_statement_incidents_file(now=at(date(2025, 9, 3))) == []
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_one_incident_per_ca_and_period_naming_its_families_and_none_for_removed_owners(
        make_statement, owner_a, owner_b):
    make_statement(owner_a, date(2023, 1, 1), LAST_END)
    make_statement(owner_b, date(2023, 1, 1), LAST_END, criteria=("webtrust-ca", "webtrust-tls-br"))
    gone = CAOwner.objects.create(name="Gone CA", ccadb_id="A000009", status=CAOwner.Status.REMOVED)
    make_statement(gone, date(2023, 1, 1), LAST_END)
    # A statement received in time for the next period: nothing is overdue for that family.
    make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), criteria=("webtrust-ca",))
    filed = overdue_statement_incidents_file(now=at(date(2025, 4, 3)))
    assert sorted(i.title for i in filed) == [
        TITLE_A,
        "Borealis PKI: Audit statement overdue (CA (general criteria), TLS Baseline Requirements, "
        "period ending 2024-12-31)",
    ]
    assert OverdueStatementIncident.objects.filter(ca_owner=owner_b).count() == 2  # one key per family


@pytest.mark.django_db
def test_a_recorded_statement_not_received_92_days_after_its_period_files_its_own_incident(
        make_statement, owner_a):
    st = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31))
    AuditStatement.objects.filter(pk=st.pk).update(statement_date=None)
    assert overdue_statement_incidents_file(now=at(date(2025, 4, 2))) == []
    [incident] = overdue_statement_incidents_file(now=at(date(2025, 4, 3)))
    assert incident.title == TITLE_A
    assert "for 2024-01-01..2024-12-31 was due by 2025-04-02" in incident.comments.get().body
    # A year later the next period is overdue too: a second statement, a second incident.
    [later] = overdue_statement_incidents_file(now=at(date(2026, 4, 3)))
    assert later.title.endswith("period ending 2025-12-31)")
    assert overdue_statement_incidents_file(now=at(date(2026, 4, 4))) == []


@pytest.mark.django_db
def test_a_denied_statement_does_not_count_as_received(make_statement, owner_a):
    make_statement(owner_a, date(2023, 1, 1), LAST_END)
    denied = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31))
    AuditStatement.objects.filter(pk=denied.pk).update(verification=AuditStatement.Verification.DENIED)
    [incident] = overdue_statement_incidents_file(now=at(date(2025, 4, 3)))
    assert incident.title == TITLE_A


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep_a", "reviewer"])
def test_only_the_system_or_staff_file_them(who, request, make_statement, owner_a, staff):
    make_statement(owner_a, date(2023, 1, 1), LAST_END)
    with pytest.raises(NotPermitted):
        overdue_statement_incidents_file(actor=request.getfixturevalue(who), now=at(date(2025, 4, 3)))
    assert not Incident.objects.exists() and not OverdueStatementIncident.objects.exists()
    assert [i.title for i in overdue_statement_incidents_file(actor=staff, now=at(date(2025, 4, 3)))] == [TITLE_A]


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_file_one_incident(make_statement, owner_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: two concurrent filings need PostgreSQL")
    make_statement(owner_a, date(2023, 1, 1), LAST_END)
    barrier = threading.Barrier(2)
    results, failures = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(len(overdue_statement_incidents_file(now=at(date(2025, 4, 3)))))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == [] and sorted(results) == [0, 1]
    assert Incident.objects.count() == 1 and OverdueStatementIncident.objects.count() == 1
