"""REST API of the registry: lists with filters and fixed queries, detail, paths, certdata blocks."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from pki import certdata
from registry.actions import certificates_import, root_store_entry_add
from registry.models import Certificate, RootStoreEntry
from tests.domain import certgen
from tests.registry.registry_data import NSS, V2_86

pytestmark = pytest.mark.django_db
TRUSTED = RootStoreEntry.Trust.TRUSTED_DELEGATOR


@pytest.fixture
def registry(owner_a, owner_b):
    root = certgen.root("Acme Root R1")
    inter = certgen.intermediate("Acme Issuing CA 1", root)
    root2 = certgen.root("Borealis Root")
    inter_x = certgen.cross_sign(inter, root2)
    leaf = certgen.leaf("www.acme.test", inter)
    certificates_import(actor=None, items=[(root.der, "r"), (inter.der, "i"), (leaf.der, "l")], owner=owner_a)
    certificates_import(actor=None, items=[(root2.der, "r2"), (inter_x.der, "ix")], owner=owner_b)
    get = lambda c: Certificate.objects.get(sha256=c.parsed().sha256)  # noqa: E731
    root_store_entry_add(actor=None, certificate=get(root), label="Acme Root R1", trust_server=TRUSTED)
    root_store_entry_add(actor=None, certificate=get(root2), label="Borealis Root", trust_email=TRUSTED)
    return {k: get(v) for k, v in dict(root=root, inter=inter, root2=root2, inter_x=inter_x, leaf=leaf).items()}


def _shas(response):
    assert response.status_code == 200, response.content
    return {row["sha256"] for row in response.json()["results"]}


def test_certificate_list_filters(client, registry, owner_a):
    r = registry
    assert _shas(client.get("/api/v1/certificates/")) == {c.sha256 for c in r.values()}
    assert _shas(client.get("/api/v1/certificates/", {"kind": "root"})) == {r["root"].sha256, r["root2"].sha256}
    assert _shas(client.get("/api/v1/certificates/", {"owner": owner_a.pk})) == {r["root"].sha256, r["inter"].sha256, r["leaf"].sha256}
    assert _shas(client.get("/api/v1/certificates/", {"owner": "Borealis PKI"})) == {r["root2"].sha256, r["inter_x"].sha256}
    assert _shas(client.get("/api/v1/certificates/", {"issuer_sha256": r["root"].sha256})) == {r["inter"].sha256}
    assert _shas(client.get("/api/v1/certificates/", {"issuer_sha256": r["inter"].sha256.lower()})) == {r["leaf"].sha256}
    assert _shas(client.get("/api/v1/certificates/", {"trusted_for": "server"})) == {r["root"].sha256}
    assert _shas(client.get("/api/v1/certificates/", {"trusted_for": "email"})) == {r["root2"].sha256}
    colons = ":".join(r["leaf"].sha256[i : i + 2] for i in range(0, 64, 2))
    assert _shas(client.get("/api/v1/certificates/", {"sha256": colons})) == {r["leaf"].sha256}


def test_list_rows_carry_owner_and_trust(client, registry):
    rows = {row["sha256"]: row for row in client.get("/api/v1/certificates/").json()["results"]}
    root = rows[registry["root"].sha256]
    assert root["owner"]["name"] == "Acme Trust" and root["trusted_for"] == ["server"] and root["kind"] == "root"
    assert rows[registry["leaf"].sha256]["trusted_for"] == []


@pytest.mark.parametrize(
    "params, field",
    [({"kind": "tree"}, "kind"), ({"trusted_for": "code"}, "trusted_for"), ({"sha256": "xyz"}, "sha256"), ({"issuer_sha256": "12"}, "issuer_sha256")],
)
def test_bad_filters_are_400_naming_the_parameter(client, registry, params, field):
    response = client.get("/api/v1/certificates/", params)
    assert response.status_code == 400
    assert field in response.json()["detail"]


def test_certificate_list_runs_a_fixed_number_of_queries(client, owner_a, django_assert_num_queries):
    def grow(n):
        root = certgen.root(f"Root {n}")
        certificates_import(actor=None, items=[(c.der, "x") for c in [root] + [certgen.intermediate(f"CA {n}.{i}", root) for i in range(n)]], owner=owner_a)

    grow(2)
    # count, page keys, page rows (config.pagination's deferred slice), prefetch of root store entries
    with django_assert_num_queries(4):
        client.get("/api/v1/certificates/")
    grow(25)
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/certificates/", {"page_size": 100}).json()["results"]) == 29


def test_ca_list_and_detail(client, registry, owner_a, django_assert_num_queries):
    with django_assert_num_queries(5):  # count, page keys, page rows (config.pagination), URLs and contacts (issue 14)
        rows = client.get("/api/v1/cas/").json()["results"]
    acme = next(r for r in rows if r["name"] == "Acme Trust")
    assert (acme["ccadb_id"], acme["root_count"], acme["intermediate_count"], acme["trusted_count"]) == ("A000001", 1, 1, 1)
    detail = client.get(f"/api/v1/cas/{owner_a.pk}/").json()
    assert detail["name"] == "Acme Trust" and detail["url"] == f"/cas/{owner_a.pk}/"
    assert client.get("/api/v1/cas/99999/").status_code == 404


def test_certificate_detail(client, registry):
    inter = registry["inter"]
    data = client.get(f"/api/v1/certificates/{inter.sha256.lower()}/").json()
    assert data["sha256"] == inter.sha256 and data["pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert [p["sha256"] for p in data["parents"]] == [registry["root"].sha256]
    assert [p["sha256"] for p in data["cross_signs"]] == [registry["inter_x"].sha256]
    assert data["children_count"] == 1
    import base64

    assert base64.b64decode(data["serial_der"]) == bytes(inter.serial_der)
    assert client.get("/api/v1/certificates/" + "AB" * 32 + "/").status_code == 404


def test_certificate_paths_with_verdicts(client, registry):
    data = client.get(f"/api/v1/certificates/{registry['leaf'].sha256}/paths/").json()
    assert data["count"] == 2
    by_anchor = {p["anchor_label"]: p for p in data["paths"]}
    acme, borealis = by_anchor["Acme Root R1"], by_anchor["Borealis Root"]
    assert [c["sha256"] for c in acme["certificates"]] == [registry["leaf"].sha256, registry["inter"].sha256, registry["root"].sha256]
    assert [c["sha256"] for c in borealis["certificates"]] == [registry["leaf"].sha256, registry["inter_x"].sha256, registry["root2"].sha256]
    assert acme["server"]["trusted"] and not acme["email"]["trusted"]
    assert borealis["email"]["trusted"] and not borealis["server"]["trusted"]
    assert "not trusted for server" in borealis["server"]["reasons"][0]


def test_certdata_block_for_an_nss_root_is_what_nss_wrote():
    """For a root imported from NSS v2.86, the rendered blocks equal NSS's own text for it."""
    from django.test import Client

    path = V2_86
    call_command("import_certdata", str(path), stdout=open("/dev/null", "w"))
    nss = certdata.parse(path.read_bytes(), source="nss")
    client = Client()
    checked = 0
    for obj in nss.certificates[-20:]:  # the newest roots, written in NSS's current style
        trust = nss.trust_for(obj)
        if trust.get("CKA_NSS_SERVER_DISTRUST_AFTER") is not None:
            continue  # dates on the trust object are a legacy layout
        cert = Certificate.objects.get(label=obj.label)
        response = client.get(f"/api/v1/certificates/{cert.sha256}/certdata")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == obj.raw + trust.raw, obj.label
        checked += 1
    assert checked >= 15


def test_certdata_block_for_a_new_certificate_proposes_a_website_root(client, registry):
    leafless = certgen.root("Brand New Root")
    certificates_import(actor=None, items=[(leafless.der, "new")])
    cert = Certificate.objects.get(sha256=leafless.parsed().sha256)
    text = client.get(f"/api/v1/certificates/{cert.sha256}/certdata").content.decode()
    [cert_obj, trust_obj] = certdata.parse_objects(text, source="api")
    assert cert_obj.value == leafless.der and cert_obj.server_distrust_after is None
    assert trust_obj.trust_server_auth == "CKT_NSS_TRUSTED_DELEGATOR"
    assert trust_obj.trust_email_protection == "CKT_NSS_MUST_VERIFY_TRUST"


def test_root_store_certdata_endpoint_round_trips(client):
    path = NSS / "certdata_v2.80_2025-06-08.txt"
    call_command("import_certdata", str(path), stdout=open("/dev/null", "w"))
    response = client.get("/api/v1/root-store/certdata")
    assert response.content == path.read_bytes()


def test_schema_documents_the_registry_endpoints(client):
    text = client.get("/api/v1/schema/").content.decode()
    for path in ("/api/v1/cas/", "/api/v1/certificates/", "/api/v1/certificates/{sha256}/", "/api/v1/certificates/{sha256}/paths/", "/api/v1/certificates/{sha256}/certdata"):
        assert f"{path}:" in text, path
    assert "trusted_for" in text and "issuer_sha256" in text
