"""A distrust of a root carried through all eight steps through the API changes the root store: the root's
page, /root-store/, the next release's certdata.txt and the audit checks all follow the Release step."""

from __future__ import annotations

import json
from datetime import date

import pytest

from audits.selectors import ca_audit_findings, trusted_certificates
from pki import certdata
from registry.models import Certificate, Release, ReleaseChange, RootStoreEntry
from tests.distrust.distrust_helpers import USAGE_CSV, build_registry


def post(client, url, data=None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


def _trust_of(text: str, cert: Certificate) -> certdata.CertdataObject:
    file = certdata.parse(text, source="release")
    (trust,) = file.find(issuer=bytes(cert.issuer_der), serial=bytes(cert.serial_der), cls=certdata.CKO_NSS_TRUST)
    return trust


def _uncovered(staff, owner) -> set[str]:
    return {f.certificate for f in ca_audit_findings(user=staff, ca_owner_id=owner.pk, today=date(2025, 4, 1))
            if f.code == "uncovered_certificate"}


@pytest.mark.django_db
def test_a_root_distrust_through_the_api_changes_page_root_store_release_and_audit_checks(
    staff, client_for, owner_a, incident, client
):
    scenario = build_registry(with_cross_sign=False)  # the leaf reaches a trusted root through root1 only
    root = scenario.certs["root1"]
    Certificate.objects.filter(pk__in=[c.pk for c in scenario.certs.values()]).update(owner=owner_a)
    api = client_for(staff)

    # The entries the registry was built with wait in the draft release; staff publish it as NSS 3.109.
    draft = Release.objects.get(status=Release.Status.DRAFT)
    r = post(api, f"/api/v1/root-store/releases/{draft.pk}/publish/",
             {"nss_version": "3.109", "kind": "regular", "released_on": "2025-02-01"})
    assert r.status_code == 200, r.content
    before_release = Release.objects.get(nss_version="3.109")
    assert _trust_of(before_release.certdata_text, root).trust_server_auth == certdata.CKT_NSS_TRUSTED_DELEGATOR

    # Before: trusted everywhere, and the audit checks want the root (and its intermediate) covered.
    page = client.get(root.get_absolute_url()).content.decode()
    assert 'badge-ok">Websites: trusted' in page and 'Websites: distrusted' not in page
    assert "NSS 3.109" in page  # trusted since that release
    assert root.sha256 in {c.sha256 for c in trusted_certificates(ca_owner_id=owner_a.pk)}
    assert {root.sha256, scenario.sha("inter")} <= _uncovered(staff, owner_a)

    # All eight steps through the API.
    r = post(api, "/api/v1/distrust/", {"title": "Distrust Distrust Test Root One", "bug": "1900002",
                                        "incident_numbers": [incident.number]})
    assert r.status_code == 201, r.content
    base = f"/api/v1/distrust/{r.json()['id']}"
    steps = [
        ("report", {"reported_by": "researcher@example.test", "reported_on": "2025-03-01"}),
    ]
    for key, data in steps:
        assert post(api, f"{base}/steps/{key}/", {**data, "complete": True}).status_code == 200
    assert post(api, f"{base}/targets/", {"sha256": root.sha256}).status_code == 201
    r = post(api, f"{base}/steps/decide/", {"decision": "Remove the root's trust.", "rationale": "Mis-issuance.",
                                           "discussed_in": "public", "decided_on": "2025-03-02", "kind": "full",
                                           "purpose_server": True, "purpose_email": True, "complete": True})
    assert r.status_code == 200, r.content
    assert post(api, f"{base}/usage/", {"csv": USAGE_CSV}).status_code == 201
    assert post(api, f"{base}/steps/impact/", {"impact_notes": "Few.", "complete": True}).status_code == 200
    assert post(api, f"{base}/artifacts/").status_code == 200
    assert post(api, f"{base}/steps/implement/", {"complete": True}).status_code == 200
    assert post(api, f"{base}/test-certificates/", {"pem": scenario.leaf.pem}).status_code == 201
    r = post(api, f"{base}/test-runs/")
    assert r.status_code == 201 and r.json()["passed"], r.json()
    assert post(api, f"{base}/steps/test/", {"complete": True}).status_code == 200
    # Nothing changed in the root store before Release.
    assert RootStoreEntry.objects.get(certificate=root).trust_server == RootStoreEntry.Trust.TRUSTED_DELEGATOR
    r = post(api, f"{base}/steps/release/", {"nss_version": "3.110", "release_kind": "chemspill",
                                            "release_date": "2025-03-10", "complete": True})
    assert r.status_code == 200, r.content
    assert post(api, f"{base}/steps/communicate/", {"announcement": "Mozilla no longer trusts ...",
                                                   "complete": True}).status_code == 200
    r = post(api, f"{base}/steps/result/", {"user_visible_result": "An error page.", "complete": True})
    assert r.status_code == 200 and r.json()["state"] == "closed"

    # The release the step named: a chemspill NSS 3.110 holding the trust removed from the root.
    release = Release.objects.get(nss_version="3.110")
    assert release.status == Release.Status.PUBLISHED and release.kind == Release.Kind.CHEMSPILL
    assert str(release.released_on) == "2025-03-10"
    rows = {(c.kind, c.purpose) for c in release.changes.filter(certificate=root)}
    assert rows == {(ReleaseChange.Kind.TRUST_REMOVED, "server"), (ReleaseChange.Kind.TRUST_REMOVED, "email")}
    assert all(c.origin_url.endswith(f"/distrust/{r.json()['id']}/") for c in release.changes.all())

    # The root's page.
    page = client.get(root.get_absolute_url()).content.decode()
    assert 'badge-danger">Websites: distrusted' in page and 'badge-danger">E-mail: distrusted' in page
    assert 'badge-ok">Websites: trusted' not in page
    assert "NSS 3.110" in page  # distrusted since that release
    assert "Distrust Distrust Test Root One" in page  # the action naming it
    # /root-store/.
    assert root.label in client.get("/root-store/", {"trust": "distrusted"}).content.decode()
    assert root.label not in client.get("/root-store/", {"trust": "server"}).content.decode()
    # The release's certdata.txt (and the live export, the same text) says "not trusted"; the one before did not.
    text = client.get(f"/root-store/releases/{release.pk}/certdata.txt").content.decode()
    assert text == client.get("/root-store/certdata.txt").content.decode()
    trust = _trust_of(text, root)
    assert (trust.trust_server_auth, trust.trust_email_protection) == (certdata.CKT_NSS_NOT_TRUSTED,) * 2
    compare = client.get("/root-store/releases/compare/",
                         {"older": before_release.pk, "newer": release.pk, "format": "diff"}).content.decode()
    assert "+CKA_TRUST_SERVER_AUTH CK_TRUST CKT_NSS_NOT_TRUSTED" in compare
    # The audit checks no longer ask for the root, nor for the intermediate that chained only to it.
    assert root.sha256 not in {c.sha256 for c in trusted_certificates(ca_owner_id=owner_a.pk)}
    assert not {root.sha256, scenario.sha("inter")} & _uncovered(staff, owner_a)

    # Reopening and completing Release again ships nothing twice.
    count = release.changes.count()
    assert post(api, f"{base}/steps/release/reopen/", {"reason": "date typo"}).status_code == 200
    assert post(api, f"{base}/steps/release/", {"complete": True}).status_code == 200
    assert Release.objects.get(pk=release.pk).changes.count() == count


@pytest.mark.django_db
def test_an_intermediate_distrust_ships_distrust_entries_and_onecrl_records(staff, make_action, scenario, client):
    """A full distrust of an intermediate (its cross-sign added) adds explicit distrust entries and records the
    OneCRL records it published in the release; the intermediate's page says both."""
    from tests.distrust.distrust_helpers import advance

    action = advance(staff, make_action(), "communicate", scenario, waive=False)
    release = Release.objects.get(nss_version="3.110")
    inter, inter_x = scenario.certs["inter"], scenario.certs["inter_x"]
    by_cert = {}
    for c in release.changes.filter(certificate__in=[inter, inter_x]):
        by_cert.setdefault(c.certificate_id, set()).add(c.kind)
    assert by_cert == {inter.pk: {ReleaseChange.Kind.DISTRUST_ADDED, ReleaseChange.Kind.ONECRL_PUBLISHED},
                       inter_x.pk: {ReleaseChange.Kind.DISTRUST_ADDED, ReleaseChange.Kind.ONECRL_PUBLISHED}}
    entry = RootStoreEntry.objects.get(certificate=inter)
    assert (entry.trust_server, entry.trust_email) == (RootStoreEntry.Trust.NOT_TRUSTED,) * 2
    assert _trust_of(release.certdata_text, inter).trust_server_auth == certdata.CKT_NSS_NOT_TRUSTED
    page = client.get(inter.get_absolute_url()).content.decode()
    assert "Revoked (record enabled)" in page and 'badge-danger">Websites: distrusted' in page
    assert action.get_absolute_url() in page
