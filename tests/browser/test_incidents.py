"""A CA representative fills the full report form, previews it, posts it; a reviewer reads it."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCALARS = {
    "incident_description": "Certificates were issued with an OU attribute.",
    "non_compliance_start_date": "2024-01-02",
    "non_compliance_identified_date": "2024-02-01",
    "non_compliance_end_date": "2024-02-02",
    "relevant_policies": "TLS BR v2.0.2 section 7.1.4.3",
    "total_certificates": "2",
    "total_remaining_valid": "0",
    "affected_certificate_types": "OV TLS",
    "incident_heuristic": "OU present",
    "issuance_stopped": "Yes, until the fix was deployed.",
    "analysis": "N/A",
    "additional_considerations": "N/A",
    "went_well": "Quick stop of issuance.",
    "went_badly": "Linting gap.",
    "got_lucky": "N/A",
    "lessons_additional": "N/A",
    "appendix": "N/A",
}


@pytest.mark.django_db(transaction=True)
def test_ca_rep_fills_previews_and_posts_a_full_report_that_a_reviewer_reads(browser, page, sign_in, rep_a, reviewer,
                                                                             live_server):
    from compliance.actions import incidents as act

    incident = act.incident_create(actor=rep_a, ca_owner=rep_a.represented_owners.get(), title="OU misuse",
                                   description="Filed by the CA.")
    sign_in("rep_a", PASSWORD)
    page.goto(f"/incidents/{incident.number}/")
    page.get_by_role("link", name="Full Incident Report").click()
    assert page.get_by_role("heading", name="Full Incident Report").is_visible()
    # The CCADB ID is filled in from the CA owner; the source from the incident.
    assert page.get_by_label("CA Owner CCADB unique ID").input_value() == "A000001"
    for name, value in SCALARS.items():
        page.locator(f"[name={name}]").fill(value)
    page.get_by_label("Source of incident disclosure").select_option("Self Reported")
    page.get_by_label("Timeline row 1: Date and time (UTC)").fill("2024-02-01 09:30")
    page.get_by_label("Timeline row 1: Event").fill("Report received.")
    page.get_by_label("N/A (none)").check()  # no related incidents
    page.get_by_label("Contributing Factor row 1: Description").fill("The linter did not check OU.")
    for column in ("Timeline", "Detection", "Interaction with other factors"):
        page.get_by_label(f"Contributing Factor row 1: {column}").fill("N/A")
    # "Add a row" adds an empty action item row (vanilla JS); only filled rows count.
    page.locator("[data-table=action_items] [data-add-row]").click()
    assert page.locator("[data-table=action_items] [data-row]").count() == 3
    page.get_by_label("Action Items row 1: Action Item").fill("Add an OU lint")
    page.get_by_label("Action Items row 1: Kind").select_option("Prevent")
    page.get_by_label("Action Items row 1: Corresponding Root Cause(s)").fill("#1")
    page.get_by_label("Action Items row 1: Evaluation Criteria").fill("The lint blocks OU")
    page.get_by_label("Action Items row 1: Due Date").fill("2024-03-01")
    page.get_by_label("Action Items row 1: Status").select_option("Complete")

    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_test_id("preview-html")
    assert preview.is_visible()
    assert "Add an OU lint" in preview.inner_text()
    assert page.get_by_test_id("preview-markdown").text_content().startswith("## Full Incident Report")
    page.get_by_role("button", name="Post full incident report").click()
    page.wait_for_load_state()
    assert "Full Incident Report posted (version 1)" in page.content()

    context = browser.new_context(base_url=live_server.url)
    other = context.new_page()
    other.goto("/accounts/login/")
    other.get_by_label("Username").fill("reviewer")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.goto(f"/incidents/{incident.number}/")
    report = other.locator(".comment.kind-full_report")
    assert report.get_by_role("heading", name="Full Incident Report").is_visible()
    assert "Add an OU lint" in report.inner_text()
    assert "Full report v1" in report.inner_text()
    context.close()
