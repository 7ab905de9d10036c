import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_staff_signs_in_and_sees_navigation_and_role(page, sign_in, staff):
    sign_in("staff", PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Incidents", "CAs", "Audits", "Distrust", "API"):
        assert nav.get_by_role("link", name=label).is_visible()
    who = page.get_by_test_id("who")
    assert "staff" in who.inner_text()
    assert "Root program staff" in who.inner_text()


@pytest.mark.django_db(transaction=True)
def test_wrong_password_keeps_visitor_anonymous(page, sign_in, reviewer):
    sign_in("reviewer", "not the password")
    assert "Please enter a correct username and password" in page.content()
    assert "Anonymous reader" in page.get_by_test_id("who").inner_text()


@pytest.mark.django_db(transaction=True)
def test_navigation_is_usable_on_a_phone_and_by_keyboard(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto("/")
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # The first Tab reaches the skip link, which leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    context.close()
