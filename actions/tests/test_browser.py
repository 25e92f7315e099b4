"""The closure loop in a real browser: the owner submits evidence, the reviewer verifies."""

import pytest

from actions.models import Action
from actions.tests.conftest import ACTION_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(log_in, page, username):
    # "networkidle" can come before the login POST's answer; leaving the page then would drop
    # the new session cookie. Wait until the browser has left the login page.
    log_in(username)
    page.wait_for_url(lambda url: "/login/" not in url)


def test_the_pm_submits_evidence_and_the_reviewer_verifies_in_the_browser(
    page, live_server, log_in, make_action, pm, reviewer
):
    action = make_action(owner=pm, reviewer=reviewer)

    signed_in(log_in, page, "pm")
    page.goto(f"{live_server.url}/actions/")
    assert "1 open action" in page.inner_text("nav")
    page.click(f"text={action.readable_id}")
    page.wait_for_url(f"**/actions/{action.readable_id}/")
    assert ACTION_TEXT in page.inner_text("h1")
    evidence_form = page.locator("details[data-move=submit_evidence] form")
    evidence_form.locator("textarea[name=text]").fill(
        "QA sample of **50 calls**: defect class at 2.1%, below 3%."
    )
    evidence_form.locator("input[name=link]").fill("https://qa.example/samples/42")
    evidence_form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "closure evidence submitted" in page.inner_text(".po-messages")
    assert page.inner_text("#action-status") == "Awaiting verification"
    # The owner is not offered verification of their own evidence.
    assert page.locator("details[data-move=verify] form").count() == 0

    page.click("text=Sign out")
    page.wait_for_load_state("networkidle")
    signed_in(log_in, page, "reviewer")
    page.goto(f"{live_server.url}{action.get_absolute_url()}")
    assert "50 calls" in page.inner_text(".po-evidence")
    verify_form = page.locator("details[data-move=verify] form")
    verify_form.locator("textarea[name=comment]").fill("Sample is representative of all sites.")
    verify_form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "the action is closed" in page.inner_text(".po-messages")
    assert page.inner_text("#action-status") == "Closed"
    assert "Closure verified: Sample is representative of all sites." in page.inner_text(".po-history")

    action.refresh_from_db()
    assert action.status == "closed"
    evidence = action.evidence.get()
    assert (evidence.verdict, evidence.reviewed_by_id, evidence.submitted_by_id) == (
        "accepted",
        reviewer.pk,
        pm.pk,
    )
    assert Action.objects.get(pk=action.pk).history.latest().history_user_id == reviewer.pk
