"""A risk partner approves a release in a real browser: one of the product's four main uses."""

import pytest

from releases.models import Release

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(log_in, page, username):
    # "networkidle" can come before the login POST's answer; leaving the page then would drop
    # the new session cookie. Wait until the browser has left the login page.
    log_in(username)
    page.wait_for_url(lambda url: "/login/" not in url)


def test_a_risk_partner_approves_a_release_from_the_pending_queue(
    page, live_server, log_in, submitted, risk_partner
):
    release = submitted(risk_tier="high")

    signed_in(log_in, page, "riskpartner")
    page.goto(f"{live_server.url}/releases/queue/")
    row = page.locator(f"#pending-approvals tr[data-release='{release.readable_id}']")
    assert "needs Risk / Compliance" in row.inner_text()
    row.locator(f"text={release.readable_id}").click()
    page.wait_for_url(f"**/releases/{release.readable_id}/")
    assert page.inner_text("#release-state") == "Submitted"
    approve = page.locator("details[data-move=approve] form")
    approve.locator("textarea[name=comment]").fill("Regression eval green; **policy review** attached.")
    approve.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert f"{release.readable_id} is approved." in page.inner_text(".po-messages")
    assert page.inner_text("#release-state") == "Approved"
    assert "policy review" in page.inner_text("#approvals")
    assert "DEC-" in page.inner_text("#release-decisions")

    release.refresh_from_db()
    assert (release.state, release.approval_scope) == ("approved", "full")
    approval = release.approvals.get()
    assert (approval.approver_id, approval.verdict, approval.as_risk) == (risk_partner.pk, "approve", True)
    assert Release.objects.get(pk=release.pk).history.latest().history_user_id == risk_partner.pk

    page.goto(f"{live_server.url}/releases/queue/")
    assert "Nothing waits for your approval." in page.inner_text("#pending-approvals")
