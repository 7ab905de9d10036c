"""Audits in a real browser: a CA representative submits a statement with its PDF, the auditor confirms it
through the e-mailed link without an account, and the public then sees it on the CA's timeline."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core import mail

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\n"
       b"endobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture
def auditor(staff, settings, tmp_path):
    from audits import actions

    settings.MEDIA_ROOT = str(tmp_path / "media")
    a = actions.auditor_create(actor=staff, name="Schellman & Company, LLC.", contact_email="desk@auditor.test")
    actions.qualification_record(actor=staff, auditor=a, scheme="webtrust", method="listed",
                                 evidence_url="https://www.cpacanada.ca/", verified_on=date.today())
    return actions.auditor_set_approval(actor=staff, auditor=a, approval="approved", reason="CPA Canada list")


def test_rep_submits_auditor_confirms_by_link_public_sees_timeline(page, sign_in, browser, live_server, rep_a,
                                                                  owner_a, auditor):
    mail.outbox.clear()
    sign_in("rep_a", PASSWORD)
    page.goto(f"/audits/ca/{owner_a.pk}/")
    page.get_by_role("link", name="Submit an audit statement").click()
    end = date.today() - timedelta(days=40)
    page.get_by_label("Auditor", exact=True).select_option(label=auditor.name)
    page.get_by_label("Period start (or as-of date)").fill((end - timedelta(days=364)).isoformat())
    page.get_by_label("Period end").fill(end.isoformat())
    page.get_by_label("Statement date").fill((end + timedelta(days=20)).isoformat())
    page.get_by_label("Criteria").fill("WebTrust for CAs - SSL Baseline 2.8")
    page.get_by_label("SHA-256 fingerprints in scope").fill("96BCEC06264976F37460779ACF28C5A7CFE8A3C0AAE11A8FFCEE05C0BDDF08C6")
    page.get_by_label("Statement PDF").set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Submit statement").click()
    page.wait_for_load_state()
    assert "counts once its auditor confirms" in page.content()
    assert "Pending" in page.get_by_test_id("verification").inner_text()

    link = re.search(r"/audits/verify/\S+/", mail.outbox[0].body).group(0)
    auditor_ctx = browser.new_context(base_url=live_server.url)  # no account, no session
    auditor_page = auditor_ctx.new_page()
    auditor_page.goto(link)
    auditor_page.get_by_label("Your name").fill("Jane Auditor")
    auditor_page.get_by_role("button", name="Confirm: we issued this statement").click()
    auditor_page.wait_for_load_state()
    assert "Your answer is recorded" in auditor_page.content()
    auditor_page.goto(link)
    assert "cannot be used" in auditor_page.content()

    auditor_page.goto(f"/audits/ca/{owner_a.pk}/")
    assert auditor_page.locator('.timeline[data-family="tls-baseline"] .tl-bar.status-counts').count() == 1
    # Readable on a phone: nothing wider than the screen.
    auditor_page.set_viewport_size({"width": 375, "height": 800})
    assert auditor_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    auditor_ctx.close()
