"""A PM signs in through the real login form in Chromium and opens one of their capabilities."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pm_signs_in_and_opens_a_capability(log_in, page, live_server, pm, capability, other_capability):
    capability.success_outcome = "AHT down 8% net of repeat contact"
    capability.save()

    log_in("pm")
    assert page.locator("h1").inner_text().startswith("Welcome")
    assert page.locator("main table").inner_text().count("Contact-centre agent assist") == 1
    assert "KYC onboarding assistant" not in page.locator("main").inner_text()

    page.click("main a:has-text('Contact-centre agent assist')")
    page.wait_for_url(f"{live_server.url}/capabilities/{capability.slug}/")
    assert page.locator("h1").inner_text() == "Contact-centre agent assist"
    assert "AHT down 8% net of repeat contact" in page.locator("main").inner_text()
    assert "Edit charter" in page.locator(".po-actions").inner_text()


def test_a_wrong_password_keeps_the_person_out(log_in, page, pm):
    log_in("pm", password="wrong")
    assert "/login/" in page.url
    assert page.locator(".alert-danger").is_visible()


def test_the_capability_switcher_navigates_with_javascript(log_in, page, live_server, pm, capability):
    log_in("pm")
    page.select_option("#capability-switcher", capability.slug)
    page.wait_for_url(f"{live_server.url}/capabilities/{capability.slug}/")
    assert page.locator("#capability-switcher").input_value() == capability.slug
