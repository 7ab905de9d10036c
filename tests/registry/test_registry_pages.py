"""The registry pages: owners, certificate detail, search, PEM, upload (staff only), root store."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.actions import certificates_import, root_store_entry_add
from registry.models import Certificate, RootStoreEntry
from tests.domain import certgen
from tests.registry.registry_data import CERTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(owner_a, owner_b):
    root = certgen.root("Acme Root R1")
    inter = certgen.intermediate("Acme Issuing CA 1", root)
    root2 = certgen.root("Borealis Root")
    inter_x = certgen.cross_sign(inter, root2)
    leaf = certgen.leaf("www.acme.test", inter)
    certificates_import(actor=None, items=[(root.der, "r"), (inter.der, "i")], owner=owner_a)
    certificates_import(actor=None, items=[(root2.der, "r2"), (inter_x.der, "ix"), (leaf.der, "l")], owner=owner_b)
    r = Certificate.objects.get(sha256=root.parsed().sha256)
    root_store_entry_add(actor=None, certificate=r, label="Acme Root R1", trust_server=RootStoreEntry.Trust.TRUSTED_DELEGATOR)
    root_store_entry_add(
        actor=None,
        certificate=Certificate.objects.get(sha256=root2.parsed().sha256),
        label="Borealis Root",
        trust_email=RootStoreEntry.Trust.TRUSTED_DELEGATOR,
    )
    return {k: Certificate.objects.get(sha256=v.parsed().sha256) for k, v in dict(root=root, inter=inter, root2=root2, inter_x=inter_x, leaf=leaf).items()}


def _many(owner, n):
    root = certgen.root(f"Bulk Root {n}")
    certs = [root] + [certgen.intermediate(f"Bulk CA {n}-{i}", root) for i in range(n)]
    certificates_import(actor=None, items=[(c.der, "bulk") for c in certs], owner=owner)


def test_ca_list_shows_owners_with_counts_to_anyone(client, registry):
    response = client.get("/cas/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Trust" in body and "Borealis PKI" in body
    owners = {o.name: o for o in response.context["page"]}
    assert (owners["Acme Trust"].root_count, owners["Acme Trust"].intermediate_count, owners["Acme Trust"].trusted_count) == (1, 1, 1)


def test_ca_list_runs_a_fixed_number_of_queries(client, owner_a, owner_b, django_assert_num_queries):
    _many(owner_a, 2)
    with django_assert_num_queries(2):  # count + page (anonymous: no session)
        client.get("/cas/")
    _many(owner_b, 8)
    for n in range(20):
        from registry.models import CAOwner

        CAOwner.objects.create(name=f"Owner {n}")
    with django_assert_num_queries(2):
        client.get("/cas/")


def test_ca_detail_shows_the_tree_trust_and_links_for_incidents_and_audits(client, registry, owner_a):
    body = client.get(f"/cas/{owner_a.pk}/").content.decode()
    assert "Acme Root R1" in body and "Acme Issuing CA 1" in body
    assert "Websites: trusted" in body and "E-mail: not a trust anchor" in body
    assert f'href="/incidents/?ca={owner_a.pk}"' in body and f'href="/audits/ca/{owner_a.pk}/"' in body
    # The intermediate sits under its root.
    assert body.index("Acme Root R1") < body.index("Acme Issuing CA 1")


def test_ca_detail_tree_queries_do_not_grow_with_the_owner(client, owner_a, django_assert_num_queries):
    # The owner, its certificates, entries and links; its URLs and history rows (issue 14).
    _many(owner_a, 2)
    with django_assert_num_queries(6):
        client.get(f"/cas/{owner_a.pk}/")
    _many(owner_a, 12)
    with django_assert_num_queries(6):
        client.get(f"/cas/{owner_a.pk}/")


def test_certificate_detail_shows_fields_parents_cross_signs_and_paths(client, registry):
    inter = registry["inter"]
    response = client.get(f"/certificates/{inter.sha256}/")
    body = response.content.decode()
    assert response.status_code == 200
    for text in (inter.subject_text, inter.serial_hex, inter.sha1, inter.spki_sha256, "Download PEM"):
        assert text in body
    assert [c.pk for c in response.context["parents"]] == [registry["root"].pk]
    assert [c.pk for c in response.context["cross_signs"]] == [registry["inter_x"].pk]
    paths = response.context["paths"]
    assert [[c.pk for c in p.certificates] for p in paths] == [
        [inter.pk, registry["root"].pk],
    ]
    leaf_paths = client.get(f"/certificates/{registry['leaf'].sha256}/").context["paths"]
    assert len(leaf_paths) == 2  # through the intermediate and through its cross-sign


def test_certificate_detail_accepts_colons_and_lowercase_by_redirecting(client, registry):
    sha = registry["root"].sha256
    pretty = ":".join(sha[i : i + 2] for i in range(0, 64, 2)).lower()
    response = client.get(f"/certificates/{pretty}/")
    assert response.status_code == 302 and response["Location"] == f"/certificates/{sha}/"


def test_unknown_certificate_is_404(client, registry):
    assert client.get("/certificates/" + "00" * 32 + "/").status_code == 404


def test_pem_download_is_the_certificate(client, registry):
    from pki.x509 import load_pem

    response = client.get(f"/certificates/{registry['root'].sha256}/pem/")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    [parsed] = load_pem(response.content.decode(), source="download")
    assert parsed.sha256 == registry["root"].sha256


@pytest.mark.parametrize("how", ["sha256", "sha256-colons-lower", "sha1"])
def test_search_by_fingerprint_goes_to_the_certificate(client, registry, how):
    cert = registry["inter"]
    q = {
        "sha256": cert.sha256,
        "sha256-colons-lower": ":".join(cert.sha256[i : i + 2] for i in range(0, 64, 2)).lower(),
        "sha1": cert.sha1.lower(),
    }[how]
    response = client.get("/certificates/", {"q": q})
    assert response.status_code == 302 and response["Location"] == cert.get_absolute_url()


def test_search_by_name_and_by_serial(client, registry):
    page = client.get("/certificates/", {"q": "issuing ca"}).context["page"]
    assert {c.pk for c in page} == {registry["inter"].pk, registry["inter_x"].pk}
    serial = registry["leaf"].serial_hex
    colons = ":".join(serial[i : i + 2] for i in range(0, len(serial), 2)).lower()
    page = client.get("/certificates/", {"q": colons}).context["page"]
    assert [c.pk for c in page] == [registry["leaf"].pk]


def test_search_without_match_says_so(client, registry):
    body = client.get("/certificates/", {"q": "no such CA anywhere"}).content.decode()
    assert "No certificate matches." in body


def test_certificate_list_runs_a_fixed_number_of_queries(client, owner_a, django_assert_num_queries):
    _many(owner_a, 3)
    with django_assert_num_queries(2):
        client.get("/certificates/")
    _many(owner_a, 30)
    with django_assert_num_queries(2):
        client.get("/certificates/")
    with django_assert_num_queries(2):
        client.get("/certificates/", {"q": "bulk"})


# --- upload -----------------------------------------------------------------------------


def test_staff_upload_stores_files_and_pasted_pem(client_for, staff, owner_a):
    c = client_for(staff)
    paypal = CERTS / "chains" / "paypal_ev_nss"
    files = [SimpleUploadedFile(f.name, f.read_bytes()) for f in sorted(paypal.iterdir())]
    pem = certgen.root("Pasted Root").pem
    response = c.post("/certificates/upload/", {"files": files, "pem": pem, "owner": owner_a.pk})
    assert response.status_code == 302
    assert Certificate.objects.count() == 4
    assert Certificate.objects.filter(owner=owner_a).count() == 4
    page = c.get(response["Location"])
    assert "Stored: 4 certificates read: 4 new" in page.content.decode()


def test_upload_shows_each_bad_file_and_stores_nothing(client_for, staff):
    c = client_for(staff)
    good = SimpleUploadedFile("good.pem", (CERTS / "chains" / "cryptography.io.pem").read_bytes())
    bad = SimpleUploadedFile("request.csr", b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n")
    junk = SimpleUploadedFile("notes.txt", b"just text")
    response = c.post("/certificates/upload/", {"files": [good, bad, junk]})
    assert response.status_code == 200
    errors = response.context["file_errors"]
    assert set(errors) == {"request.csr", "notes.txt"}
    body = response.content.decode()
    assert "request.csr" in body and "expected CERTIFICATE" in body and "Nothing was stored" in body
    assert Certificate.objects.count() == 0


def test_upload_of_a_bad_ccadb_csv_names_the_row(client_for, staff, tmp_path):
    text = (CERTS / "ccadb" / "AllCertificatePEMsCSVFormat_NotBeforeYear_1997.csv").read_text()
    first_sha = text.splitlines()[1].split(",")[0].strip('"')
    broken = text.replace(first_sha, "A" * 64, 1)
    response = client_for(staff).post("/certificates/upload/", {"files": [SimpleUploadedFile("ccadb.csv", broken.encode())]})
    assert "ccadb.csv:row 1" in response.content.decode()
    assert Certificate.objects.count() == 0


def test_upload_with_nothing_chosen_is_a_form_error(client_for, staff):
    response = client_for(staff).post("/certificates/upload/", {})
    assert "Choose at least one file" in response.content.decode()


@pytest.mark.parametrize("who", ["rep_a", "reviewer"])
def test_only_staff_may_upload(client_for, who, request):
    user = request.getfixturevalue(who)
    c = client_for(user)
    assert c.get("/certificates/upload/").status_code == 403
    pem = certgen.root("Sneaky Root").pem
    assert c.post("/certificates/upload/", {"pem": pem}).status_code == 403
    assert Certificate.objects.count() == 0


def test_anonymous_upload_goes_to_sign_in(client):
    response = client.get("/certificates/upload/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_upload_link_is_shown_to_staff_only(client_for, staff, reviewer):
    assert "Upload certificates" in client_for(staff).get("/certificates/").content.decode()
    assert "Upload certificates" not in client_for(reviewer).get("/certificates/").content.decode()


def test_root_store_page_and_certdata_download(client, registry):
    body = client.get("/root-store/").content.decode()
    assert "Acme Root R1" in body and "Borealis Root" in body
    text = client.get("/root-store/certdata.txt").content.decode()
    assert 'CKA_LABEL UTF8 "Acme Root R1"' in text and text.startswith("#\n# This Source Code Form")
    from pki import certdata

    parsed = certdata.parse(text, source="export")
    assert {o.label for o in parsed.trust_objects} == {"Acme Root R1", "Borealis Root"}


def test_admin_lists_the_registry_and_records_entry_changes(client_for, registry, django_user_model):
    from history.models import Event

    admin = django_user_model.objects.create_superuser("admin", "admin@example.test", "x")
    c = client_for(admin)
    for url in ("/admin/registry/certificate/", "/admin/registry/caowner/", "/admin/registry/rootstoreentry/"):
        assert c.get(url).status_code == 200, url
    entry = RootStoreEntry.objects.get(label="Acme Root R1")
    assert c.get(f"/admin/registry/certificate/{registry['root'].pk}/change/").status_code == 200
    form = {
        "label": entry.label,
        "trust_server": RootStoreEntry.Trust.TRUSTED_DELEGATOR,
        "trust_email": RootStoreEntry.Trust.TRUSTED_DELEGATOR,
        "trust_code": entry.trust_code,
        "server_distrust_after_0": "", "server_distrust_after_1": "",
        "email_distrust_after_0": "", "email_distrust_after_1": "",
    }  # fmt: skip
    response = c.post(f"/admin/registry/rootstoreentry/{entry.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    entry.refresh_from_db()
    assert entry.trust_email == RootStoreEntry.Trust.TRUSTED_DELEGATOR
    assert Event.objects.filter(action="root_store_entry_changed", actor=admin, subject_id=entry.pk).exists()
