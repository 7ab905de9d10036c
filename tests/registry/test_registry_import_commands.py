"""import_certificates and import_ccadb_records: what they store, and that bad input stores nothing."""

from __future__ import annotations

import shutil
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from config.errors import DomainError
from history.models import Event
from registry.actions import certificates_import
from registry.models import CAOwner, CCADBRecord, Certificate, IssuerLink
from tests.registry.registry_data import CERTS, REGISTRY

pytestmark = pytest.mark.django_db

CCADB = CERTS / "ccadb"


def _run(*paths):
    out, err = StringIO(), StringIO()
    call_command("import_certificates", *map(str, paths), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_folder_of_ccadb_csvs_bundles_and_der_files_is_imported_with_links(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(CERTS / "chains" / "paypal_ev_nss", folder / "paypal")
    shutil.copy(CERTS / "chains" / "cryptography.io.pem", folder / "bundle.pem")
    for name in ("AllCertificatePEMsCSVFormat_NotBeforeYear_1994.csv", "AllCertificatePEMsCSVFormat_NotBeforeYear_1997.csv"):
        shutil.copy(CCADB / name, folder / name)
    out, _ = _run(folder)
    # 3 DER files + a bundle of 3 + 1 + 5 CSV rows
    assert Certificate.objects.count() == 12
    assert "12 certificates read: 12 new" in out and "certificates/s" in out
    kinds = dict(Certificate.objects.filter(source__contains="PayPal").values_list("source", "kind"))
    assert sorted(kinds.values()) == ["intermediate", "leaf", "root"]
    assert IssuerLink.objects.count() >= 4  # paypal leaf->ica->root, cryptography.io leaf->R3->X1


def test_importing_again_merges_duplicates():
    _run(CERTS / "chains" / "cryptography.io.pem")
    links = IssuerLink.objects.count()
    out, _ = _run(CERTS / "chains" / "cryptography.io.pem", CERTS / "chains" / "cryptography.io.pem")
    assert Certificate.objects.count() == 3 and IssuerLink.objects.count() == links
    assert "6 certificates read: 0 new, 3 already in the registry, 3 repeated in the input" in out


def test_ccadb_csv_with_stray_quote_before_the_pem_is_read():
    _run(CCADB / "PublicIntermediateCertsRevokedWithPEMCSV_2020-07.head.csv")
    assert Certificate.objects.count() == 2


def test_non_strict_der_that_cryptography_refuses_is_still_imported():
    _run(CCADB / "non_strict_der.pem")
    assert Certificate.objects.count() == 4


def test_one_bad_file_stores_nothing_and_names_the_file(tmp_path):
    good = CERTS / "chains" / "cryptography.io.pem"
    bad = tmp_path / "key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    truncated = tmp_path / "truncated.der"
    truncated.write_bytes((CERTS / "chains" / "paypal_ev_nss" / "PayPalRootCA.cert").read_bytes()[:300])
    with pytest.raises(CommandError, match="nothing was stored"):
        _run(good, bad, truncated)
    assert Certificate.objects.count() == 0
    with pytest.raises(CommandError):
        call_command("import_certificates", str(good), str(truncated), stdout=StringIO(), stderr=(stderr := StringIO()))
    assert "truncated.der" in stderr.getvalue() and "needs" in stderr.getvalue()
    assert Certificate.objects.count() == 0 and not Event.objects.filter(subject_type__startswith="registry.").exists()


def test_wrong_armor_and_not_a_certificate_are_reported_per_input():
    with pytest.raises(DomainError) as err:
        certificates_import(
            actor=None,
            items=[
                (b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n", "csr.pem"),
                (b"hello", "notes.txt"),
                ((CERTS / "chains" / "cryptography.io.pem").read_bytes(), "good.pem"),
            ],
        )
    assert set(err.value.errors) == {"csr.pem", "notes.txt"}
    assert "expected CERTIFICATE" in err.value.errors["csr.pem"][0]
    assert "not a certificate" in err.value.errors["notes.txt"][0]
    assert Certificate.objects.count() == 0


def test_missing_path_is_an_error():
    with pytest.raises(CommandError):
        _run("/nonexistent/file.pem")


def test_certificates_record_fields_and_an_event(staff):
    summary = certificates_import(
        actor=staff, items=[((CERTS / "chains" / "cryptography.io.pem").read_bytes(), "bundle")]
    )
    assert summary.created == 3
    root = Certificate.objects.get(kind="root")
    parsed = root.parsed()
    assert root.sha256 == parsed.sha256 and bytes(root.serial_der) == parsed.serial_der
    assert root.subject_text == parsed.subject_text and root.label == parsed.label
    event = Event.objects.get(subject_type__startswith="registry.")
    assert event.actor == staff and event.action == "certificates_imported" and "3 new" in event.summary


def test_ccadb_records_give_owners_and_keep_audit_columns():
    call_command("import_ccadb_records", str(REGISTRY / "AllCertificateRecordsCSVFormat.test.csv"), stdout=StringIO())
    record = CCADBRecord.objects.get()
    assert record.owner.name == "QuoVadis" and record.owner.country == "Bermuda"
    assert record.parent_sha256.startswith("8A866FD1") and record.record_type == "Intermediate Certificate"
    assert record.row["Certificate Name"].startswith("DigiCert QuoVadis G3")
    assert set(record.audits) <= {"Standard", "NetSec", "TLS BR", "TLS EVG", "Code Signing", "S/MIME BR", "VMC"}


def test_ccadb_owner_reaches_certificates_already_in_the_registry(tmp_path):
    _run(CCADB / "AllCertificatePEMsCSVFormat_NotBeforeYear_1994.csv")
    cert = Certificate.objects.get()
    header = (REGISTRY / "AllCertificateRecordsCSVFormat.test.csv").read_text().splitlines()[0]
    row = (REGISTRY / "AllCertificateRecordsCSVFormat.test.csv").read_text().splitlines()[1]
    row = row.replace("C0EE0CCED463096DF07D27257AF79C986FF92B678F669C109FFF570F32AB433F", cert.sha256).replace(
        '"QuoVadis"', '"Old CA Owner"', 1
    )
    path = tmp_path / "records.csv"
    path.write_text(header + "\n" + row + "\n")
    call_command("import_ccadb_records", str(path), stdout=StringIO())
    cert.refresh_from_db()
    assert cert.owner.name == "Old CA Owner"


def test_ccadb_records_file_with_a_bad_fingerprint_stores_nothing(tmp_path):
    text = (REGISTRY / "AllCertificateRecordsCSVFormat.test.csv").read_text()
    path = tmp_path / "bad.csv"
    path.write_text(text.replace("C0EE0CCED463096DF07D27257AF79C986FF92B678F669C109FFF570F32AB433F", "nothex"))
    with pytest.raises(CommandError, match=r"bad.csv:row 1"):
        call_command("import_ccadb_records", str(path), stdout=StringIO())
    assert not CAOwner.objects.exists() and not CCADBRecord.objects.exists()


def test_not_a_ccadb_records_file_is_refused():
    with pytest.raises(CommandError, match="not a CCADB AllCertificateRecordsCSVFormat"):
        call_command("import_ccadb_records", str(CCADB / "AllCertificatePEMsCSVFormat_NotBeforeYear_1994.csv"), stdout=StringIO())
