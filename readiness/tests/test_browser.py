"""A PM opens a capability in Chromium, sees it only running, follows the gap to the readiness
page, and ticks an onboarding item by hand."""

import pytest

from readiness.tests import world as w
from releases.models import Release

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pm_reads_readiness_and_follows_a_gap_to_the_record(log_in, page, live_server, pm, capability):
    built = w.build(capability, pm)
    late = w.deployed_release(capability, pm, state="released", deployed=built.release.deployed_date)
    Release.objects.filter(pk=late.pk).update(post_release_review_date=w.TODAY)

    log_in("pm")
    page.goto(f"{live_server.url}/capabilities/{capability.slug}/")
    card = page.locator("#operating-readiness")
    assert card.locator(".po-readiness-state").inner_text() == "Only running"
    assert "Which releases changed the system?" in card.inner_text()

    card.locator("a:has-text('The eight questions and their evidence')").click()
    page.wait_for_url(f"{live_server.url}/readiness/{capability.slug}/")
    gap = page.locator('[data-question="system_changes"]')
    assert gap.get_attribute("data-state") == "gap"
    assert page.locator('[data-state="answered"]').count() == 7
    gap.locator(f".po-readiness-faults a:has-text('{late.readable_id}')").click()
    page.wait_for_url(f"{live_server.url}{late.get_absolute_url()}")

    page.goto(f"{live_server.url}/readiness/{capability.slug}/onboarding/")
    row = page.locator("#item-d09")
    assert row.get_attribute("data-done") == "no"
    row.locator("input[name=note]").fill("Weekly and portfolio boards agreed with ops")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    row = page.locator("#item-d09")
    assert row.get_attribute("data-done") == "yes" and row.get_attribute("data-how") == "hand"
    assert "Weekly and portfolio boards agreed with ops" in row.inner_text()
