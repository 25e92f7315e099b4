# ruff: noqa: F811  (the shared fixtures are imported by name and requested as arguments)
"""A PM runs a weekly ops review in a real browser: starts it, closes an action with evidence and
raises another in place, records a decision, ends the meeting and publishes the minutes."""

import datetime

import pytest
from django.utils import timezone

from actions.models import Action
from decisions.models import Decision
from forums.tests.test_meeting_world import (  # noqa: F401  (shared fixtures)
    _media_root,
    awaiting,
    ba,
    ops,
    quality_contract,
    raise_action,
    session,
    weekly,
)
from productops.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in(log_in, page, username):
    # "networkidle" can come before the login POST's answer; leaving the page then would drop
    # the new session cookie. Wait until the browser has left the login page.
    log_in(username)
    page.wait_for_url(lambda url: "/login/" not in url)


def still_the_same_page(page) -> bool:
    """True while no full page load happened since the marker was set."""
    return page.evaluate("window.__meetingMarker === 'set before the moves'")


def test_a_pm_runs_the_weekly_ops_review_in_the_browser(
    page, live_server, log_in, pm, ops, ba, session, awaiting, quality_contract
):
    signed_in(log_in, page, "pm")
    page.goto(f"{live_server.url}{session.get_absolute_url()}")
    assert page.inner_text("#session-state") == "Scheduled"
    assert "Breach" in page.inner_text("#block-3")

    # Start: the page comes back in progress, the clock running, the first block marked.
    page.click("form[data-session-move=start] button")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#session-state") == "In progress"
    page.wait_for_function("document.querySelector('[data-clock=elapsed]').textContent.startsWith('0:0')")
    assert "po-block-current" in page.get_attribute("#block-1", "class")
    assert "Now: 1. Decision requests" in page.inner_text("#meeting-clock")
    page.evaluate("window.__meetingMarker = 'set before the moves'")

    # Close an action with the evidence its owner submitted, in place.
    row = page.locator(f"#action-{awaiting.readable_id}")
    assert "QA sample of 50" in row.inner_text()
    row.locator("details[data-move=verify] summary").click()
    row.locator("details[data-move=verify] textarea[name=comment]").fill("Sample checked in the meeting.")
    row.locator("details[data-move=verify] button[type=submit]").click()
    page.wait_for_selector(f"#action-{awaiting.readable_id}[data-status=closed]")
    assert f"{awaiting.readable_id}: verify and close." in page.inner_text("#block-8-inputs")
    assert "action closed with evidence" in page.inner_text("#session-outcomes").lower()
    assert still_the_same_page(page)

    # Raise another action in place; a missing closure criterion is refused on its field first.
    form = page.locator("#raise-action")
    form.locator("summary").first.click()
    form.locator("#id_action_action").fill("Retrain the north team on billing suggestions")
    form.locator("#id_action_owner").select_option(str(ops.pk))
    form.locator("#id_action_due_date").fill((timezone.localdate() + datetime.timedelta(days=10)).isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#raise-action .invalid-feedback")
    assert "This field is required." in page.inner_text("#raise-action")
    assert not Action.objects.exclude(pk=awaiting.pk).exists()
    form = page.locator("#raise-action")
    form.locator("#id_action_closure_criterion").fill(
        "North team edit rate within 5 points of the south team"
    )
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#raise-action [role=status]")
    raised = Action.objects.exclude(pk=awaiting.pk).get()
    assert f"{raised.readable_id} raised." in page.inner_text("#raise-action")
    assert page.locator(f"#action-{raised.readable_id}").count() == 1
    assert still_the_same_page(page)

    # Record a decision in place.
    form = page.locator("#record-decision")
    form.locator("summary").first.click()
    form.locator("#id_decision_type").select_option("restrict")
    form.locator("#id_decision_decision").fill(
        "Restrict billing suggestions to the south team for two weeks."
    )
    form.locator("#id_decision_owner").select_option(str(pm.pk))
    form.locator("#id_decision_evidence").fill(awaiting.readable_id)
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#record-decision [role=status]")
    decision = Decision.objects.get()
    assert f"{decision.readable_id} recorded" in page.inner_text("#record-decision")
    assert decision.readable_id in page.inner_text("#session-outcomes")
    assert page.inner_text("#session-outcomes [data-count=outcomes]") == "3"

    # Attendance and a note, in place.
    with page.expect_response(lambda r: "/attendance/" in r.url):
        page.check(f"#present-{ops.pk}")
    page.wait_for_selector("#session-attendance [role=status]")
    assert "2 of 3 present" in page.inner_text("#session-attendance")
    notes = page.locator("#block-3-notes")
    notes.locator("textarea").fill("Defects up in **billing**; sample again next week.")
    notes.locator("button[type=submit]").click()
    page.wait_for_selector("#block-3-notes [role=status]")
    assert page.locator("#block-3-notes .po-note strong").inner_text() == "billing"
    assert still_the_same_page(page)

    # End the meeting, then publish the minutes.
    page.click("form[data-session-move=end_meeting] button")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#session-state") == "Held"
    assert "publish the minutes to 3 people" in page.inner_text("#meeting-bar")
    page.click("form[data-session-move=publish_minutes] button")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#session-state") == "Minutes published"
    assert "Minutes published" in page.inner_text("#minutes-published")
    assert decision.readable_id in page.inner_text("#minutes-decisions")
    assert raised.readable_id in page.inner_text("#minutes-actions")
    assert awaiting.readable_id in page.inner_text("#minutes-actions")
    assert page.locator("form[hx-post]").count() == 0

    # What the database holds.
    awaiting.refresh_from_db()
    raised.refresh_from_db()
    session.refresh_from_db()
    assert awaiting.status == "closed" and awaiting.evidence.get().verdict == "accepted"
    assert (raised.status, raised.source, raised.owner) == ("open", session, ops)
    assert (decision.type, decision.forum_session) == ("restrict", session)
    assert list(session.outcomes.values_list("kind", "reference")) == [
        ("action_closed", awaiting.readable_id),
        ("action_created", raised.readable_id),
        ("decision_recorded", decision.readable_id),
    ]
    assert session.state == "minutes_published"
    assert [d["id"] for d in session.minutes["decisions"]] == [decision.readable_id]
    assert {p["username"]: p["status"] for p in session.minutes["attendance"]} == {
        "pm": "present",
        "ops": "present",
        "ba": "absent",
    }
    assert session.minutes["notes"] == [
        {"block": "Quality and eval", "text": "Defects up in **billing**; sample again next week."}
    ]
    told = Notification.objects.filter(subject__startswith="Minutes:")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["ba", "ops", "pm"]
