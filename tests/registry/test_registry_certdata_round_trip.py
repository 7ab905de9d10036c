"""import_certdata then export_certdata gives NSS's bytes back, and bad files store nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from history.models import Event
from pki import certdata
from registry.models import CertdataBlock, Certificate, RegistryHistory, RootStoreEntry
from registry.selectors import export_certdata_text
from tests.registry.registry_data import NSS, V2_86

NSS_FILES = [
    NSS / "certdata_v2.18_2017-11-16.txt",
    NSS / "certdata_v2.54_2022-03-23.txt",
    NSS / "certdata_v2.80_2025-06-08.txt",
    V2_86,
]


def _import(path, stdout=None):
    call_command("import_certdata", str(path), stdout=stdout or StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize("path", NSS_FILES, ids=lambda p: p.name)
def test_each_nss_file_round_trips_byte_for_byte(path, tmp_path):
    _import(path)
    out = tmp_path / "exported.txt"
    call_command("export_certdata", output=str(out), stderr=StringIO())
    assert out.read_bytes() == path.read_bytes()


@pytest.mark.django_db
def test_importing_files_one_after_another_exports_the_last_one_exactly():
    for path in NSS_FILES:
        _import(path)
    # Going back to an older file removes the newer roots again.
    _import(NSS_FILES[0])
    assert export_certdata_text().encode() == NSS_FILES[0].read_bytes()


@pytest.mark.django_db
def test_v2_86_import_counts_roots_trust_and_distrust_after():
    out = StringIO()
    _import(V2_86, stdout=out)
    assert RootStoreEntry.objects.count() == 167
    assert Certificate.objects.count() == 167
    assert RootStoreEntry.objects.filter(certificate__isnull=True).count() == 0
    assert RootStoreEntry.objects.exclude(server_distrust_after=None).count() == 6
    # Izenpe carries its date on the trust object only.
    izenpe = RootStoreEntry.objects.get(label="Izenpe.com")
    assert izenpe.server_distrust_after is not None
    assert "167 certificates, 167 trust objects" in out.getvalue()
    assert Event.objects.filter(action=RegistryHistory.CERTDATA_IMPORTED).count() == 1


@pytest.mark.django_db
def test_trust_only_distrust_entries_are_imported_without_a_certificate():
    _import(NSS / "certdata_v2.54_2022-03-23.txt")
    distrusted = RootStoreEntry.objects.filter(trust_server=RootStoreEntry.Trust.NOT_TRUSTED)
    assert distrusted.count() == 6
    assert distrusted.filter(certificate__isnull=True).count() == 4


@pytest.mark.django_db
def test_v2_18_keeps_all_28_not_trusted_entries_and_9_trust_only():
    _import(NSS / "certdata_v2.18_2017-11-16.txt")
    distrusted = RootStoreEntry.objects.filter(trust_server=RootStoreEntry.Trust.NOT_TRUSTED)
    assert distrusted.count() == 28
    assert distrusted.filter(certificate__isnull=True).count() == 9


@pytest.mark.django_db
def test_changing_one_entry_changes_only_its_blocks(django_user_model):
    from registry.actions import root_store_entry_update

    path = V2_86
    _import(path)
    original = certdata.parse(path.read_bytes(), source="nss")
    entry = RootStoreEntry.objects.get(label="GlobalSign Root CA")
    staff = django_user_model.objects.create_user("s", "s@example.test", "x", is_staff=True)
    root_store_entry_update(actor=staff, entry=entry, trust_email=RootStoreEntry.Trust.NOT_TRUSTED)
    exported = certdata.parse(export_certdata_text(), source="export")
    changed = [i for i, (a, b) in enumerate(zip(original.objects, exported.objects, strict=False)) if a.raw != b.raw]
    assert len(exported.objects) == len(original.objects)
    # Only the trust object changes: the certificate object carries no trust bits.
    assert [original.objects[i].label for i in changed] == ["GlobalSign Root CA"]
    assert exported.objects[changed[0]].trust_email_protection == "CKT_NSS_NOT_TRUSTED"
    assert exported.header == original.header and exported.trailer == original.trailer


@pytest.mark.django_db
def test_removed_entry_disappears_and_new_entry_is_appended_in_nss_style():
    from registry.actions import root_store_entry_add

    path = V2_86
    _import(path)
    original = certdata.parse(path.read_bytes(), source="nss")
    RootStoreEntry.objects.get(label="GlobalSign Root CA").delete()
    first = Certificate.objects.get(label="Izenpe.com")
    # A distrust of an intermediate by issuer + serial only (trust-only, as NSS writes them).
    root_store_entry_add(
        actor=None,
        issuer_der=bytes(first.subject_der),
        serial_der=b"\x02\x01\x07",
        label="Explicitly distrust test",
        trust_server=RootStoreEntry.Trust.NOT_TRUSTED,
        trust_email=RootStoreEntry.Trust.NOT_TRUSTED,
        trust_code=RootStoreEntry.Trust.NOT_TRUSTED,
    )
    exported = certdata.parse(export_certdata_text(), source="export")
    labels = [o.label for o in exported.objects]
    assert "GlobalSign Root CA" not in labels
    assert len(exported.objects) == len(original.objects) - 2 + 1
    last = exported.objects[-1]
    assert last.cls == certdata.CKO_NSS_TRUST and last.is_distrust and last.serial == b"\x02\x01\x07"
    assert last.raw.startswith('\n# Explicitly Distrust "Explicitly distrust test"\n# Issuer: CN=Izenpe.com')


@pytest.mark.django_db
@pytest.mark.parametrize(
    "object_label, problem",
    [("err_distrust", "CK_BBOOL CK_TRUE where a date belongs")],
)
def test_malformed_testlib_file_names_file_and_object_and_stores_nothing(object_label, problem):
    _import(V2_86)
    before = (RootStoreEntry.objects.count(), CertdataBlock.objects.count(), Certificate.objects.count())
    path = NSS / "testlib" / "certdata-testlib.txt"
    with pytest.raises(CommandError) as err:
        _import(path)
    message = str(err.value)
    assert str(path) in message and object_label in message and problem in message
    assert (RootStoreEntry.objects.count(), CertdataBlock.objects.count(), Certificate.objects.count()) == before
    assert export_certdata_text().encode() == (V2_86).read_bytes()


@pytest.mark.django_db
def test_date_without_its_z_is_refused_by_name(tmp_path):
    text = (NSS / "testlib" / "certdata-testlib.txt").read_text()
    # Keep the 12-byte email date and make the boolean server date valid, so the date is what fails.
    fixed = text.replace(
        "CKA_NSS_SERVER_DISTRUST_AFTER CK_BBOOL CK_TRUE", "CKA_NSS_SERVER_DISTRUST_AFTER CK_BBOOL CK_FALSE"
    )
    assert fixed != text
    path = tmp_path / "no_z.txt"
    path.write_text(fixed)
    with pytest.raises(CommandError) as err:
        _import(path)
    assert "trailing 'Z' is missing" in str(err.value) and str(path) in str(err.value)
    assert RootStoreEntry.objects.count() == 0 and Certificate.objects.count() == 0


@pytest.mark.django_db
def test_a_file_that_is_not_certdata_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(CommandError, match="no BEGINDATA line"):
        _import(path)
