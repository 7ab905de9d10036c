"""The distrust step page at 375 px: the cross-sign closure rows' fingerprints wrap inside the screen.

Here, beside the other browser tests, so the session's one Playwright browser drives it (a second
sync_playwright in the same session fails inside the first one's event loop)."""

from __future__ import annotations

import pytest

from distrust import actions
from tests.distrust.conftest import incident, make_action  # noqa: F401  (the distrust tests' fixtures)
from tests.distrust.distrust_helpers import advance
from tests.distrust.test_closure_rows import _second_cross_sign


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_375px_screen_holds_the_closure_rows(page, sign_in, staff, make_action):  # noqa: F811
    from tests.conftest import PASSWORD
    from tests.distrust.distrust_helpers import build_registry

    scenario = build_registry()
    second = _second_cross_sign(scenario)
    action = advance(staff, make_action(), "implement", scenario)
    actions.artifacts_generate(actor=staff, action=action)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in("staff", PASSWORD)
    page.goto(f"/distrust/{action.pk}/steps/implement/")
    for sha in (scenario.certs["inter_x"].sha256, second.sha256):
        row = page.locator(f'tr.dt-closure-row[data-sha256="{sha}"]')
        fingerprint = row.locator("dd.dt-hex").nth(1)
        assert fingerprint.inner_text().replace("\n", "") == sha
        box = fingerprint.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box  # wrapped, not cut or scrolled
    # Nothing on the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
