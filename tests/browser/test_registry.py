"""The registry in a browser: staff upload a chain, find it by fingerprint, follow its path to the root."""

import pytest

from tests.conftest import PASSWORD
from tests.registry.registry_data import CERTS

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_staff_upload_then_search_by_fingerprint_and_see_the_path(page, sign_in, staff, owner_a):
    from registry.actions import root_store_entry_add
    from registry.models import Certificate, RootStoreEntry

    sign_in("staff", PASSWORD)
    page.goto("/certificates/upload/")
    folder = CERTS / "chains" / "paypal_ev_nss"
    page.get_by_label("Certificate files").set_input_files([str(p) for p in sorted(folder.iterdir())])
    page.get_by_label("CA owner").select_option(label="Acme Trust")
    page.get_by_role("button", name="Upload").click()
    assert "3 certificates read: 3 new" in page.get_by_role("status").first.inner_text()

    root = Certificate.objects.get(kind="root")
    root_store_entry_add(actor=staff, certificate=root, label="DigiCert EV Root", trust_server=RootStoreEntry.Trust.TRUSTED_DELEGATOR)
    leaf = Certificate.objects.get(kind="leaf")

    page.goto("/certificates/")
    colons = ":".join(leaf.sha256[i : i + 2] for i in range(0, 64, 2)).lower()
    page.get_by_label("Name, fingerprint or serial number").fill(colons)
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("heading", level=1).inner_text() == leaf.label
    path = page.get_by_role("list", name="Path 1")
    assert path.get_by_role("link").count() == 3
    assert "Websites: trusted" in page.locator(".paths").inner_text()
    path.get_by_role("link").nth(2).click()
    assert page.get_by_role("heading", name="In the root store as “DigiCert EV Root”").is_visible()


@pytest.mark.django_db(transaction=True)
def test_upload_errors_are_listed_per_file(page, sign_in, staff, tmp_path):
    sign_in("staff", PASSWORD)
    bad = tmp_path / "broken.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n")
    page.goto("/certificates/upload/")
    page.get_by_label("Certificate files").set_input_files([str(bad), str(CERTS / "chains" / "cryptography.io.pem")])
    page.get_by_role("button", name="Upload").click()
    alert = page.locator(".file-errors")
    assert "broken.pem" in alert.inner_text() and "cryptography.io.pem" not in alert.inner_text()


@pytest.mark.django_db(transaction=True)
def test_owner_page_is_readable_on_a_phone(browser, live_server, owner_a):
    from registry.actions import certificates_import

    certificates_import(actor=None, items=[(p.read_bytes(), p.name) for p in sorted((CERTS / "chains" / "paypal_ev_nss").iterdir())], owner=owner_a)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(f"/cas/{owner_a.pk}/")
    assert page.get_by_role("heading", name="Roots and intermediates").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
