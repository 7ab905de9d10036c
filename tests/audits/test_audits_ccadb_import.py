"""statements_import_ccadb: auditors and statements from CCADB's audit columns (real header, real ISRG values)."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from audits import actions
from audits.models import Auditor, AuditStatement
from tests.audits.audit_helpers import ISRG_X1

pytestmark = pytest.mark.django_db

FIXTURES = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "audits"
STANDARD_URL = "https://www.cpacanada.ca/api/getPDFWebTrust?attachmentId=f9b20fec-0378-41b0-920d-6080a707e545"
TLS_URL = "https://www.cpacanada.ca/api/getPDFWebTrust?attachmentId=137241c2-c9e1-4c2f-b529-86f3a0f12dab"
# A made-up intermediate fingerprint whose record says "Audits Same as Parent?" true.
ISRG_R11 = "591E9CE6C863D3A079E9FABE1478C7339A26B21269DDE795211361024AE31A44"


def header_and_real_row() -> tuple[list[str], dict]:
    with open(FIXTURES / "AllCertificateRecordsCSVFormat.test.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        row = next(reader)
        return list(reader.fieldnames), row


def row(header, **values) -> dict:
    r = dict.fromkeys(header, "")
    r.update(values)
    return r


def audit(prefix, url, kind, stated, start, end) -> dict:
    return {f"{prefix} Audit URL": url, f"{prefix} Audit Type": kind, f"{prefix} Audit Statement Date": stated,
            f"{prefix} Audit Period Start Date": start, f"{prefix} Audit Period End Date": end}


@pytest.fixture
def rows():
    from registry.models import CAOwner

    CAOwner.objects.create(name="Internet Security Research Group")
    header, quovadis = header_and_real_row()
    dates = ("2024.11.20", "2023.09.01", "2024.08.31")
    isrg = row(header, **{
        "CA Owner": "Internet Security Research Group", "SHA-256 Fingerprint": ISRG_X1,
        "Certificate Record Type": "Root Certificate", "Auditor": "Schellman & Company, LLC.",
        "Audits Same as Parent?": "false",
        **audit("Standard", STANDARD_URL, "WebTrust", *dates),
        **audit("NetSec", TLS_URL, "WebTrust", *dates),
        **audit("TLS BR", TLS_URL, "WebTrust", *dates),
    })
    r11 = row(header, **{
        "CA Owner": "Internet Security Research Group", "SHA-256 Fingerprint": ISRG_R11,
        "Parent SHA-256 Fingerprint": ISRG_X1, "Certificate Record Type": "Intermediate Certificate",
        "Audits Same as Parent?": "true",
    })
    backwards = row(header, **{
        "CA Owner": "Internet Security Research Group", "SHA-256 Fingerprint": "AB" * 32, "Auditor": "Schellman",
        **audit("TLS EVG", "https://x.test/ev.pdf", "WebTrust", "2024.11.20", "2024.08.31", "2023.09.01"),
    })
    unknown_owner = row(header, **{
        "CA Owner": "Nobody PKI", "SHA-256 Fingerprint": "CD" * 32, "Auditor": "Some Firm",
        **audit("Standard", "https://x.test/s.pdf", "WebTrust", *dates),
    })
    return [isrg, r11, quovadis, backwards, unknown_owner]


def test_ccadb_rows_become_auditors_and_statements(rows):
    summary = actions.statements_import_ccadb(actor=None, rows=rows, today=date(2025, 10, 1))
    assert summary.statements_created == 2 and summary.auditors_created == 1
    auditor = Auditor.objects.get()
    assert auditor.name == "Schellman & Company, LLC." and auditor.approval == "pending"
    standard = AuditStatement.objects.get(url=STANDARD_URL)
    tls = AuditStatement.objects.get(url=TLS_URL)
    assert [c.key for c in standard.criteria.all()] == ["webtrust-ca"]
    assert sorted(c.key for c in tls.criteria.all()) == ["webtrust-netsec", "webtrust-tls-br"]
    for s in (standard, tls):
        assert (s.period_start, s.period_end, s.statement_date) == (date(2023, 9, 1), date(2024, 8, 31),
                                                                    date(2024, 11, 20))
        assert s.verification == "from_auditor" and s.is_public and s.auditor == auditor
        # The intermediate whose audits are "same as parent" is in the parent's scope.
        assert sorted(s.fingerprints.values_list("sha256", flat=True)) == sorted([ISRG_X1, ISRG_R11])
    assert len(summary.skipped) == 2
    assert any("before it starts" in s for s in summary.skipped)
    assert any("'Nobody PKI' is not in the registry" in s for s in summary.skipped)


def test_reimporting_the_same_rows_adds_nothing(rows):
    actions.statements_import_ccadb(actor=None, rows=rows, today=date(2025, 10, 1))
    again = actions.statements_import_ccadb(actor=None, rows=rows, today=date(2025, 10, 1))
    assert again.statements_created == 0 and again.auditors_created == 0 and again.fingerprints_added == 0
    assert AuditStatement.objects.count() == 2


def test_only_staff_or_the_system_import(rows, rep_a):
    from config.errors import NotPermitted

    with pytest.raises(NotPermitted):
        actions.statements_import_ccadb(actor=rep_a, rows=rows)
    assert AuditStatement.objects.count() == 0


def test_import_ccadb_records_command_fills_audit_statements(rows, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "records.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    out = __import__("io").StringIO()
    call_command("import_ccadb_records", str(path), stdout=out)
    # The registry import creates the CA owners first, so "Nobody PKI"'s audit is kept this time.
    assert AuditStatement.objects.count() == 3
    assert AuditStatement.objects.filter(ca_owner__name="Nobody PKI").exists()
    assert "3 statements created" in out.getvalue() and "before it starts" in out.getvalue()
