"""Staff edit trust bits and distrust-after (page and API) into the draft release and publish it; everyone else
is refused; drafts are staff-only; lists run a fixed number of queries; the certificate page names only what
its viewer may see."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from history.models import Event
from registry.actions import root_store_entry_add
from registry.models import Certificate, RegistryHistory, Release, ReleaseChange, RootStoreEntry
from tests.domain import certgen

DELEGATOR = RootStoreEntry.Trust.TRUSTED_DELEGATOR


@pytest.fixture
def root(db, owner_a):
    from registry.actions import certificates_import

    issued = certgen.root("Release Test Root")
    certificates_import(actor=None, items=[(issued.der, "root")])
    cert = Certificate.objects.get(sha256=issued.parsed().sha256)
    Certificate.objects.filter(pk=cert.pk).update(owner=owner_a)
    entry = root_store_entry_add(actor=None, certificate=cert, label="Release Test Root",
                                 trust_server=DELEGATOR, trust_email=DELEGATOR)
    return entry


def _patch(client, url, data):
    return client.patch(url, data=json.dumps(data), content_type="application/json")


@pytest.mark.django_db
def test_staff_edit_trust_on_the_page_into_the_draft_release_and_publish_it(staff, client_for, root):
    c = client_for(staff)
    url = f"/root-store/entries/{root.pk}/edit/"
    assert f'href="{url}"' in c.get("/root-store/").content.decode()
    page = c.get(url)
    assert page.status_code == 200 and "Trusted (as an issuer of certificates)" in page.content.decode()
    # Bad input: the error beside the field, what was typed kept, nothing changed.
    r = c.post(url, {"trust_server": DELEGATOR, "trust_email": DELEGATOR, "server_distrust_after": "2025-13-40"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "Enter a valid date." in body and 'value="2025-13-40"' in body
    assert RootStoreEntry.objects.get(pk=root.pk).server_distrust_after is None
    # A distrust-after date for websites, e-mail trust removed.
    r = c.post(url, {"trust_server": DELEGATOR, "trust_email": RootStoreEntry.Trust.MUST_VERIFY,
                     "server_distrust_after": "2025-06-01", "email_distrust_after": ""})
    assert r.status_code == 302
    entry = RootStoreEntry.objects.get(pk=root.pk)
    assert entry.server_distrust_after == datetime(2025, 6, 1, tzinfo=UTC)
    assert entry.trust_email == RootStoreEntry.Trust.MUST_VERIFY
    assert Event.objects.filter(action=RegistryHistory.ROOT_STORE_ENTRY_CHANGED, subject_id=entry.pk).count() == 2
    draft = Release.objects.get(status=Release.Status.DRAFT)
    kinds = set(draft.changes.filter(entry=entry).values_list("kind", "purpose"))
    assert {(ReleaseChange.Kind.DISTRUST_AFTER_SET, "server"), (ReleaseChange.Kind.TRUST_REMOVED, "email")} <= kinds
    page = c.get(draft.get_absolute_url()).content.decode()
    assert "Distrust-after set" in page and "Trust removed" in page and "Edited by staff" in page
    assert "CKT_NSS_" not in page and "distrust_after_set" not in page  # labels, not keys

    # Publishing: a missing version is refused beside the field and nothing is published.
    r = c.post(f"/root-store/releases/{draft.pk}/publish/", {"kind": "regular", "released_on": "2025-05-01"})
    assert r.status_code == 400 and "Give the NSS version or the roots module version." in r.content.decode()
    assert Release.objects.get(pk=draft.pk).status == Release.Status.DRAFT
    r = c.post(f"/root-store/releases/{draft.pk}/publish/",
               {"nss_version": "3.111", "kind": "regular", "released_on": "2025-05-01"})
    assert r.status_code == 302
    published = Release.objects.get(pk=draft.pk)
    assert published.status == Release.Status.PUBLISHED and published.name == "NSS 3.111"
    assert "CKA_NSS_SERVER_DISTRUST_AFTER MULTILINE_OCTAL" in published.certdata_text
    # The next change opens a new draft.
    _patch(client_for(staff), f"/api/v1/root-store/entries/{root.pk}/", {"trust_server": "CKT_NSS_NOT_TRUSTED"})
    assert Release.objects.filter(status=Release.Status.DRAFT).exclude(pk=draft.pk).count() == 1
    # The certificate page says since which release the date applies.
    page = c.get(entry.certificate.get_absolute_url()).content.decode()
    assert "2025-06-01 00:00 UTC" in page and "NSS 3.111" in page


@pytest.mark.django_db
def test_staff_edit_trust_through_the_api(staff, client_for, root):
    api = client_for(staff)
    url = f"/api/v1/root-store/entries/{root.pk}/"
    r = _patch(api, url, {"trust_server": "CKT_NSS_BOGUS"})
    assert r.status_code == 400 and "trust_server" in r.json()["detail"]
    r = _patch(api, url, {"email_distrust_after": "2025-07-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["email_distrust_after"].startswith("2025-07-01")
    draft = Release.objects.get(status=Release.Status.DRAFT)
    assert draft.changes.filter(kind=ReleaseChange.Kind.DISTRUST_AFTER_SET, purpose="email").count() == 1
    r = _patch(api, url, {"email_distrust_after": None})
    assert r.status_code == 200 and r.json()["email_distrust_after"] is None
    assert draft.changes.filter(kind=ReleaseChange.Kind.DISTRUST_AFTER_CLEARED, purpose="email").count() == 1
    r = api.post(f"/api/v1/root-store/releases/{draft.pk}/publish/",
                 data=json.dumps({"roots_module_version": "2.99", "kind": "chemspill", "released_on": "2025-07-02"}),
                 content_type="application/json")
    assert r.status_code == 200 and r.json()["kind_label"] == "Off-schedule (chemspill) release"


@pytest.mark.django_db
def test_everyone_but_staff_is_refused_and_drafts_stay_hidden(rep_a, reviewer, client_for, root):
    draft = Release.objects.get(status=Release.Status.DRAFT)
    before = RootStoreEntry.objects.get(pk=root.pk).state()
    for user in (rep_a, reviewer, None):
        c = client_for(user)
        page = c.get(f"/root-store/entries/{root.pk}/edit/")
        post = c.post(f"/root-store/entries/{root.pk}/edit/", {"trust_server": "CKT_NSS_NOT_TRUSTED",
                                                                "trust_email": "CKT_NSS_NOT_TRUSTED"})
        publish = c.post(f"/root-store/releases/{draft.pk}/publish/",
                         {"nss_version": "3.200", "kind": "regular", "released_on": "2025-05-01"})
        if user is None:
            assert page.status_code == post.status_code == publish.status_code == 302  # sign in first
            assert "/login" in page["Location"] or "login" in page["Location"]
        else:
            assert page.status_code == post.status_code == publish.status_code == 403
        refused = 401 if user is None else 403
        assert _patch(c, f"/api/v1/root-store/entries/{root.pk}/", {"trust_server": "CKT_NSS_NOT_TRUSTED"}
                      ).status_code in (refused, 403)
        r = c.post(f"/api/v1/root-store/releases/{draft.pk}/publish/",
                   data=json.dumps({"nss_version": "3.200", "kind": "regular", "released_on": "2025-05-01"}),
                   content_type="application/json")
        assert r.status_code in (refused, 403, 404)
        # The draft is staff's: not listed, not found.
        assert c.get(f"/root-store/releases/{draft.pk}/").status_code == 404
        assert c.get(f"/root-store/releases/{draft.pk}/certdata.txt").status_code == 404
        assert c.get(f"/api/v1/root-store/releases/{draft.pk}/").status_code == 404
        assert c.get("/api/v1/root-store/releases/").json()["count"] == 0
        assert "Next release (draft)" not in c.get("/root-store/releases/").content.decode()
        assert f"/root-store/entries/{root.pk}/edit/" not in c.get("/root-store/").content.decode()
    assert RootStoreEntry.objects.get(pk=root.pk).state() == before
    assert Release.objects.get(pk=draft.pk).status == Release.Status.DRAFT
    assert not Release.objects.filter(nss_version="3.200").exists()


@pytest.mark.django_db
def test_release_lists_run_a_fixed_number_of_queries(staff, client_for, root, django_assert_num_queries,
                                                     django_assert_max_num_queries):
    from registry.actions import release_publish, root_store_entry_update

    c = client_for(staff)

    def publish(n):
        root_store_entry_update(actor=staff, entry=root, label=f"Release Test Root {n}")
        root_store_entry_update(actor=staff, entry=root, trust_email="CKT_NSS_MUST_VERIFY_TRUST" if n % 2 else DELEGATOR)
        draft = Release.objects.get(status=Release.Status.DRAFT)
        release_publish(actor=staff, release=draft, nss_version=f"3.{100 + n}", kind="regular",
                        released_on=datetime(2025, 1, 1 + n).date())

    publish(1)
    c.get("/root-store/releases/")  # warm the session
    counts = {}
    for path in ("/root-store/releases/", "/api/v1/root-store/releases/"):
        with django_assert_max_num_queries(12) as q:
            c.get(path)
        counts[path] = len(q.captured_queries)
    for n in range(2, 7):
        publish(n)
    for path, n in counts.items():
        with django_assert_num_queries(n):
            r = c.get(path)
        assert r.status_code == 200
    assert c.get("/api/v1/root-store/releases/").json()["count"] == 6


@pytest.mark.django_db
def test_the_certificate_page_names_only_what_its_viewer_may_see(staff, rep_a, rep_b, reviewer, client_for, root,
                                                                 owner_a):
    from audits.models import AuditStatement, StatementCertificate
    from compliance.models import AffectedCertificate, Incident
    from distrust.models import DistrustAction, DistrustTarget

    cert = root.certificate
    now = datetime(2025, 3, 1, tzinfo=UTC)
    secret = DistrustAction.objects.create(title="Embargoed root distrust", is_embargoed=True)
    public = DistrustAction.objects.create(title="Public root distrust")
    for action in (secret, public):
        DistrustTarget.objects.create(action=action, certificate=cert, issuer_der=cert.issuer_der,
                                      serial_der=cert.serial_der, serial_hex=cert.serial_hex, label=cert.label,
                                      cert_kind="root")
    hidden = Incident.objects.create(number=1950001, ca_owner=owner_a, title="Sensitive key compromise",
                                     security_sensitive=True, first_disclosed_at=now, created_at=now, updated_at=now)
    shown = Incident.objects.create(number=1950002, ca_owner=owner_a, title="Public misissuance",
                                    first_disclosed_at=now, created_at=now, updated_at=now)
    for incident in (hidden, shown):
        AffectedCertificate.objects.create(incident=incident, sha256=cert.sha256, certificate=cert, subject="s",
                                           issuer="i", serial_hex=cert.serial_hex, not_before=now, not_after=now)
    pending = AuditStatement.objects.create(ca_owner=owner_a, source="ca", is_public=False, verification="pending")
    StatementCertificate.objects.create(statement=pending, sha256=cert.sha256, certificate=cert)

    def page(user):
        return client_for(user).get(cert.get_absolute_url()).content.decode()

    staff_page = page(staff)
    for text in ("Embargoed root distrust", "Public root distrust", "Sensitive key compromise", "Public misissuance",
                 f"/audits/statements/{pending.pk}/", "Not in the OneCRL collection", "Edit trust and distrust-after"):
        assert text in staff_page, text
    for user in (reviewer, rep_b, None):
        body = page(user)
        assert "Public root distrust" in body and "Public misissuance" in body
        for text in ("Embargoed root distrust", "Sensitive key compromise", f"/audits/statements/{pending.pk}/",
                     "Edit trust and distrust-after"):
            assert text not in body, (user, text)
    # The CA's representative sees its own incident and its own pending statement, not the embargoed action.
    body = page(rep_a)
    assert "Sensitive key compromise" in body and f"/audits/statements/{pending.pk}/" in body
    assert "Embargoed root distrust" not in body
