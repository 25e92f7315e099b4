"""A PM waives a hygiene finding in Chromium: the row turns waived in place (htmx) and the
decision log holds the risk acceptance."""

import datetime

import pytest
from django.utils import timezone

from actions.tests.factories import ActionFactory
from decisions.models import Decision
from hygiene.models import Waiver
from hygiene.services import hygiene_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_pm_waives_a_finding_in_the_browser(log_in, page, live_server, pm, capability, healthy):
    action = ActionFactory(
        capability=capability, owner=pm, due_date=timezone.localdate() - datetime.timedelta(days=4)
    )
    finding = hygiene_run(capability=capability).findings.get(check_id="overdue_actions")

    log_in("pm")
    page.click("nav a:has-text('Hygiene')")
    page.wait_for_url(f"{live_server.url}/hygiene/")
    page.click(f"#hygiene-scores a:has-text('{capability.name}')")
    page.wait_for_url(f"{live_server.url}/hygiene/{capability.slug}/")
    row = page.locator(f"#finding-{finding.pk}")
    assert f"{action.readable_id} is 4 day(s) overdue" in row.inner_text()
    assert row.get_attribute("data-waived") == "false"

    row.locator("summary:has-text('Waive')").click()
    row.locator("textarea").fill("Owner on leave; the forum re-plans it next week")
    url_before = page.url
    row.locator("button[type=submit]").click()
    waived = page.locator(f"#finding-{finding.pk}[data-waived='true']")
    waived.wait_for()

    assert page.url == url_before  # swapped in place, no page load
    decision = Decision.objects.get()
    assert decision.readable_id in waived.inner_text()
    assert "Owner on leave" in waived.inner_text()
    assert Waiver.objects.get().decision == decision
    assert decision.type == "risk_acceptance"
