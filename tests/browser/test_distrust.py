"""Active distrust in a real browser: staff carry an action from the incident's immediate minimum
response to a passing test (closure added on the way); the public list shows its state."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import PASSWORD
from tests.distrust.distrust_helpers import USAGE_CSV, build_registry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def classified(owner_a):
    from compliance.models import Assessment, Incident

    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    incident = Incident.objects.create(number=1900002, ca_owner=owner_a, title="Acme Trust: intermediate mis-issued",
                                       first_disclosed_at=now, created_at=now, updated_at=now)
    Assessment.objects.create(incident=incident, cert_type="intermediate", count=1, enumerable=True,
                              problem="intermediate_few_enumerable", updated_at=now)
    return incident


def test_staff_carry_an_action_to_a_passing_test(page, sign_in, staff, classified):
    scenario = build_registry()
    sign_in("staff", PASSWORD)
    page.goto(f"/distrust/new/?incident={classified.number}")
    assert page.get_by_label("Course of action (draft)").input_value().startswith("Actively distrust the intermediate")
    page.get_by_label(re.compile(r"^Title")).fill("Distrust the Acme issuing CA")  # not "Public title"
    page.get_by_label("Bugzilla bug").fill("1900002")
    page.get_by_role("button", name="Start").click()
    page.get_by_role("heading", name="Distrust the Acme issuing CA").wait_for()

    page.get_by_role("link", name="1. Report").first.click()
    page.get_by_label("Reported by").fill("A researcher")
    page.get_by_label("Reported on").fill("2025-03-01")
    page.get_by_role("button", name="Save and complete step").click()

    page.get_by_role("link", name="2. Decide").first.click()
    page.get_by_label("Registry certificate (SHA-256)").fill(scenario.sha("inter"))
    page.get_by_role("button", name="Add certificate").click()
    page.get_by_text("Certificate added.").wait_for()
    page.get_by_label("Rationale").fill("Key compromise.")
    page.get_by_label("Discussed in").select_option("private")
    page.get_by_label("Decided on").fill("2025-03-02")
    page.get_by_role("button", name="Save and complete step").click()

    page.get_by_role("link", name="3. Measure impact").first.click()
    page.get_by_label("Or paste the CSV").fill(USAGE_CSV)
    page.get_by_role("button", name="Import CSV").click()
    page.get_by_text("1 usage figure(s) imported.").wait_for()
    page.get_by_role("button", name="Save and complete step").click()

    page.get_by_role("link", name="4. Implement").first.click()
    page.get_by_role("button", name="Generate artifacts").click()
    page.get_by_text("Waiting for a decision").wait_for()
    page.get_by_role("button", name="Save and complete step").click()
    page.get_by_text("decide on each cross-signed certificate").first.wait_for()  # the gate, shown as a message
    page.get_by_role("button", name="Record decision").click()  # default: add to the distrust
    page.get_by_role("button", name="Generate artifacts").click()
    page.get_by_role("button", name="Save and complete step").click()

    page.get_by_role("link", name="5. Test").first.click()
    page.get_by_label("Registry certificate (SHA-256)").fill(scenario.sha("leaf"))
    page.get_by_role("button", name="Attach").click()
    page.get_by_role("button", name="Run the test").click()
    page.get_by_text("Test passed").first.wait_for()
    page.get_by_role("button", name="Complete step").click()
    page.get_by_role("heading", name="Distrust the Acme issuing CA").wait_for()

    page.goto("/accounts/login/")
    page.context.clear_cookies()
    page.goto("/distrust/")
    row = page.get_by_role("row", name="Distrust the Acme issuing CA")
    assert "6. Release" in row.inner_text()
