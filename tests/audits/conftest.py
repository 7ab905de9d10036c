"""Factories for the audits tests: auditors, statements (through the actions), certificates.

Statements are made through audits.actions so every test exercises the same path as the pages.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.audits.audit_helpers import ISRG_X1, TODAY, minimal_pdf  # noqa: F401

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "audits"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def make_auditor(db, staff):
    from audits import actions

    def make(name="Schellman & Company, LLC.", *, approved=True, contact="verify@auditor.test", today=TODAY):
        auditor = actions.auditor_create(actor=staff, name=name, location="Tampa, US",
                                         website="https://www.schellman.com/", contact_name="Audit Desk",
                                         contact_email=contact)
        if approved:
            actions.qualification_record(
                actor=staff, auditor=auditor, scheme="webtrust", method="listed", accrediting_body="CPA Canada",
                evidence_url="https://www.cpacanada.ca/webtrust/licensed-practitioners", verified_on=today,
                today=today,
            )
            auditor = actions.auditor_set_approval(actor=staff, auditor=auditor, approval="approved",
                                                   reason="Listed by CPA Canada", today=today)
        return auditor

    return make


@pytest.fixture
def make_statement(db, staff, make_auditor):
    """make_statement(owner, start, end, ...) -> AuditStatement, from the auditor unless source='ca'."""
    from audits import actions

    cache = {}

    def make(owner, start: date, end: date | None = None, *, actor=None, source="auditor", auditor=None,
             kind="period", statement_date=None, criteria=("webtrust-tls-br",), fingerprints=(ISRG_X1,),
             findings=(), url="https://example.test/audit.pdf", file=None, today=TODAY):
        if auditor is None:
            auditor = cache.get("default") or make_auditor()
            cache["default"] = auditor
        end = end if end is not None else start
        return actions.statement_submit(
            actor=actor or staff, ca_owner=owner, auditor=auditor, source=source, kind=kind,
            period_start=start, period_end=end, statement_date=statement_date or end + timedelta(days=30),
            url=url, file=file, criteria=[actions.CriterionInput(k, "2.8") for k in criteria],
            fingerprints=list(fingerprints),
            findings=[actions.FindingInput(s, t) for s, t in findings], today=today,
        )

    return make


@pytest.fixture
def trusted_root(db):
    """trusted_root(owner, name) -> Certificate: a generated root, in the root store, trusted for websites."""
    from registry.actions import certificates_import
    from registry.models import Certificate, RootStoreEntry
    from tests.domain import certgen

    def make(owner, name="Acme Root R1", *, server=True, email=False):
        issued = certgen.root(name)
        summary = certificates_import(actor=None, items=[(issued.der, name)], owner=owner)
        cert = Certificate.objects.get(sha256=summary.certificates[0])
        T = RootStoreEntry.Trust
        RootStoreEntry.objects.create(
            certificate=cert, label=name, issuer_der=cert.issuer_der, serial_der=b"\x02\x01\x01",
            issuer_key=cert.issuer_key, serial_hex=cert.serial_hex,
            trust_server=T.TRUSTED_DELEGATOR if server else T.MUST_VERIFY,
            trust_email=T.TRUSTED_DELEGATOR if email else T.MUST_VERIFY,
        )
        cert.issued = issued
        return cert

    return make
