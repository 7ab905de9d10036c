"""The compliance checks run over stored statements and the registry, at their boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audits import actions, selectors
from audits.domain.checks import SERIOUS_QUALIFICATIONS_ACTION, SERIOUS_QUALIFICATIONS_CONSIDER
from audits.models import StatementFinding
from history.selectors import for_subject
from tests.audits.audit_helpers import ISRG_X1, TODAY

pytestmark = pytest.mark.django_db


def codes(owner, staff, today=TODAY):
    return [f.code for f in selectors.ca_audit_findings(user=staff, ca_owner_id=owner.pk, today=today)]


# --- 92 days -------------------------------------------------------------------------------------


def test_statement_issued_on_day_92_is_on_time_and_on_day_93_is_late(owner_a, owner_b, staff, make_statement):
    end = date(2024, 6, 30)
    make_statement(owner_a, date(2023, 7, 1), end, statement_date=end + timedelta(days=92))
    make_statement(owner_b, date(2023, 7, 1), end, statement_date=end + timedelta(days=93))
    assert "late_statement_received" not in codes(owner_a, staff)
    assert "late_statement_received" in codes(owner_b, staff)


def test_next_statement_missing_is_flagged_from_day_93_after_the_next_period(owner_a, staff, make_statement):
    end = date(2023, 12, 31)
    make_statement(owner_a, date(2023, 1, 1), end, today=date(2024, 3, 1))
    next_due = date(2024, 12, 31) + timedelta(days=92)  # the next period ends a year later
    assert "missing_audit" not in codes(owner_a, staff, today=next_due)
    found = selectors.ca_audit_findings(user=staff, ca_owner_id=owner_a.pk, today=next_due + timedelta(days=1))
    missing = [f for f in found if f.code == "missing_audit"]
    assert len(missing) == 1 and missing[0].date == next_due + timedelta(days=1)


# --- gaps ----------------------------------------------------------------------------------------


def test_periods_that_touch_have_no_gap(owner_a, staff, make_statement):
    make_statement(owner_a, date(2023, 1, 1), date(2023, 12, 31))
    make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31))
    assert "period_gap" not in codes(owner_a, staff)


def test_periods_one_day_apart_leave_a_one_day_gap(owner_a, staff, make_statement):
    first = make_statement(owner_a, date(2023, 1, 1), date(2023, 12, 31))
    second = make_statement(owner_a, date(2024, 1, 2), date(2024, 12, 31))
    gaps = [f for f in selectors.ca_audit_findings(user=staff, ca_owner_id=owner_a.pk, today=TODAY)
            if f.code == "period_gap"]
    assert len(gaps) == 1
    assert gaps[0].statement_pks == [first.pk, second.pk]
    assert gaps[0].date == date(2024, 1, 1) and "1 day" in gaps[0].message


def test_gap_is_per_criteria_family(owner_a, staff, make_statement):
    make_statement(owner_a, date(2023, 1, 1), date(2023, 12, 31), criteria=("webtrust-tls-br",))
    make_statement(owner_a, date(2024, 1, 2), date(2024, 12, 31), criteria=("webtrust-ev",))
    assert "period_gap" not in codes(owner_a, staff)


# --- period length and point in time -----------------------------------------------------------------


def test_period_of_365_days_passes_and_367_days_fails(owner_a, owner_b, staff, make_statement):
    make_statement(owner_a, date(2023, 1, 1), date(2023, 12, 31))  # 365 days
    make_statement(owner_b, date(2023, 1, 1), date(2024, 1, 2))  # 367 days
    assert "period_too_long" not in codes(owner_a, staff)
    assert "period_too_long" in codes(owner_b, staff)


def test_point_in_time_audit_is_fine_first_but_not_after_an_earlier_audit(owner_a, owner_b, staff, make_statement):
    make_statement(owner_a, date(2024, 3, 1), kind="point")
    assert "point_in_time_where_period_due" not in codes(owner_a, staff)
    make_statement(owner_b, date(2023, 1, 1), date(2023, 12, 31))
    make_statement(owner_b, date(2024, 6, 1), kind="point")
    assert "point_in_time_where_period_due" in codes(owner_b, staff)


# --- coverage and auditors ---------------------------------------------------------------------------


def test_trusted_root_not_listed_by_the_current_statement_is_uncovered(owner_a, staff, make_statement, trusted_root):
    root = trusted_root(owner_a)
    make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), fingerprints=(ISRG_X1,))
    found = selectors.ca_audit_findings(user=staff, ca_owner_id=owner_a.pk, today=TODAY)
    assert [f.certificate for f in found if f.code == "uncovered_certificate"] == [root.sha256]
    make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), fingerprints=(root.sha256,),
                   statement_date=date(2025, 2, 1))
    assert "uncovered_certificate" not in codes(owner_a, staff)


def test_intermediate_chaining_to_a_trusted_root_needs_coverage_too(owner_a, staff, make_statement, trusted_root):
    from registry.actions import certificates_import
    from tests.domain import certgen

    root = trusted_root(owner_a)
    inter = certgen.intermediate("Acme Issuing CA 1", root.issued)
    inter_sha = certificates_import(actor=None, items=[(inter.der, "inter")], owner=owner_a).certificates[0]
    make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), fingerprints=(root.sha256,))
    uncovered = [f.certificate for f in selectors.ca_audit_findings(user=staff, ca_owner_id=owner_a.pk, today=TODAY)
                 if f.code == "uncovered_certificate"]
    assert uncovered == [inter_sha]


def test_statement_by_unapproved_auditor_is_flagged_and_does_not_cover(owner_a, staff, make_statement,
                                                                       make_auditor, trusted_root):
    root = trusted_root(owner_a)
    pending = make_auditor("Unvetted Audit Ltd", approved=False)
    make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), auditor=pending, fingerprints=(root.sha256,))
    found = codes(owner_a, staff)
    assert "unapproved_auditor" in found and "uncovered_certificate" in found


def test_approving_an_auditor_needs_a_current_verified_qualification(staff, make_auditor):
    from config.errors import TransitionError

    auditor = make_auditor("New Firm", approved=False)
    with pytest.raises(TransitionError, match="no verified qualification"):
        actions.auditor_set_approval(actor=staff, auditor=auditor, approval="approved", reason="looks fine")
    actions.qualification_record(actor=staff, auditor=auditor, scheme="etsi", method="representative",
                                 accrediting_body="DAkkS", representative="Dr. A. Example", verified_on=TODAY,
                                 today=TODAY)
    auditor = actions.auditor_set_approval(actor=staff, auditor=auditor, approval="approved", reason="DAkkS confirmed",
                                           today=TODAY)
    assert auditor.is_approved
    assert auditor.qualifications.get().next_due == date(2026, 10, 1)
    # A year later the qualification is due again, and approval cannot be renewed without a new one.
    assert list(auditor.qualifications.model.objects.due(by=date(2026, 10, 1))) == [auditor.qualifications.get()]


# --- qualifications -> incident -----------------------------------------------------------------------


def test_serious_qualifications_file_one_compliance_incident_with_the_seed_response(owner_a, staff, make_statement):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31),
                               findings=[("major", "CRL not updated within 7 days"), ("minor", "Late CP review")])
    findings = list(statement.findings.all())
    assert findings[0].incident is not None and findings[0].incident_id == findings[1].incident_id
    incident = findings[0].incident
    assert incident.title.startswith("Acme Trust: ")
    assert incident.source == "audit" and "[audit-finding]" in incident.whiteboard
    body = incident.comments.first().body
    assert SERIOUS_QUALIFICATIONS_ACTION in body and SERIOUS_QUALIFICATIONS_CONSIDER in body
    assert for_subject(statement).filter(action="incident_filed").count() == 1

    page = selectors.ca_audit_findings(user=staff, ca_owner_id=owner_a.pk, today=TODAY)
    serious = [f for f in page if f.code == "serious_qualifications"]
    assert len(serious) == 1 and serious[0].incidents == [incident]
    assert "new period-of-time audits" in serious[0].consider


def test_a_few_minor_qualifications_file_no_incident(owner_a, make_statement):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31),
                               findings=[("minor", "a"), ("minor", "b")])
    assert not StatementFinding.objects.filter(statement=statement).exclude(incident=None).exists()


def test_numerous_minor_qualifications_file_an_incident(owner_a, make_statement):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31),
                               findings=[("minor", "a"), ("minor", "b"), ("minor", "c")])
    assert statement.findings.exclude(incident=None).count() == 3


def test_ca_provided_statement_files_its_incident_only_once_confirmed(owner_a, rep_a, staff, make_statement):
    statement = make_statement(owner_a, date(2024, 1, 1), date(2024, 12, 31), actor=rep_a, source="ca",
                               findings=[("critical", "Key ceremony not witnessed")])
    assert not statement.findings.exclude(incident=None).exists()
    actions.statement_set_verification(actor=staff, statement=statement, confirmed=True,
                                       note="Confirmed by phone with the audit partner")
    assert statement.findings.exclude(incident=None).count() == 1
