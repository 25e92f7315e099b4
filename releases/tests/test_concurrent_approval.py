"""Concurrent transitions (issue 9): twenty approvers press "approve" on the same release at the
same instant, through the API and through the page, over HTTP to a real server. Exactly one
approval is recorded and logged; every other request gets a clear 409 (a message on the page),
never a 500; the history shows one approval."""

import pytest

from releases.models import Release, ReleaseApproval
from tests.concurrency import post, post_form, race, signed_in, statuses

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 20
LOST_RACE = "“Approve” is not possible while the release is approved."


@pytest.fixture
def approvers(risk_partner, platform, pm):
    """Three people who may approve (none owns the release), taking turns."""
    people = [signed_in(risk_partner), signed_in(platform), signed_in(pm)]
    return [people[index % len(people)] for index in range(REQUESTS)]


def approvals_in_history(release: Release) -> int:
    """History rows in which the release became approved."""
    rows = list(release.history.order_by("history_date", "history_id").values_list("state", flat=True))
    return sum(
        1
        for before, after in zip([None, *rows], rows, strict=False)
        if after == "approved" and before != "approved"
    )


def assert_approved_once(release: Release) -> ReleaseApproval:
    release.refresh_from_db()
    assert (release.state, release.approval_scope) == ("approved", "full")
    assert approvals_in_history(release) == 1
    approval = ReleaseApproval.objects.get(release=release)
    assert approval.verdict == "approve"
    # One entry in the decision log, the one the approval points to.
    assert list(release.decisions.values_list("pk", flat=True)) == [approval.decision_id]
    return approval


def test_twenty_simultaneous_api_approvals_approve_the_release_once(live_server, submitted, approvers):
    release = submitted()
    url = f"{live_server.url}/api/v1/releases/{release.readable_id}/approve/"

    answers = race(
        lambda auth=auth, n=n: post(url, auth=auth, json={"comment": f"Evidence complete ({n})."})
        for n, auth in enumerate(approvers)
    )

    assert statuses(answers) == {200: 1, 409: REQUESTS - 1}, [a.body for a in answers]
    winner = next(answer for answer in answers if answer.status == 200)
    assert winner.body["state"] == "approved"
    assert {str(a.body) for a in answers if a.status == 409} == {str({"state": [LOST_RACE]})}
    approval = assert_approved_once(release)
    assert approval.comment in {f"Evidence complete ({n})." for n in range(REQUESTS)}
    print(
        f"\nconcurrent approve (API): {REQUESTS} requests, 1 x 200, "
        f"{statuses(answers).get(409, 0)} x 409, approvals recorded: 1, "
        f"approvals in history: {approvals_in_history(release)}"
    )


def test_twenty_simultaneous_approvals_on_the_page_approve_the_release_once(
    live_server, submitted, approvers
):
    release = submitted()
    url = f"{live_server.url}/releases/{release.readable_id}/approve/"

    answers = race(
        lambda auth=auth: post_form(url, auth=auth, data={"comment": "Evidence complete."})
        for auth in approvers
    )

    assert statuses(answers) == {302: REQUESTS}, [a.body[:300] for a in answers if a.status != 302]
    won = [a for a in answers if f"{release.readable_id} is approved." in a.page]
    lost = [a for a in answers if LOST_RACE in a.page]
    assert (len(won), len(lost)) == (1, REQUESTS - 1)
    assert_approved_once(release)
    print(f"\nconcurrent approve (page): {REQUESTS} presses, 1 approved, {len(lost)} told it was approved")
