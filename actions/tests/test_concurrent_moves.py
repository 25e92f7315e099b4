"""Concurrent transitions (issue 9): twenty reviewers press "verify" on the same action at the
same instant, through the API and through the page, over HTTP to a real server. Exactly one
wins; every other request gets a clear 409 (a message on the page), never a 500; the history
shows one closure."""

import pytest

from actions.models import Action, ClosureEvidence
from tests.concurrency import post, post_form, race, signed_in, statuses

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 20
LOST_RACE = "This action is already closed: its closure evidence was verified."


@pytest.fixture
def awaiting(make_action, bring_to):
    return bring_to(make_action(), "awaiting_verification")


@pytest.fixture
def verifiers(reviewer, pm):
    """Both people who may verify: the named reviewer and the capability's AI PM, taking turns."""
    people = [signed_in(reviewer), signed_in(pm)]
    return [people[index % 2] for index in range(REQUESTS)]


def closures_in_history(action: Action) -> int:
    """History rows in which the action became closed."""
    rows = list(action.history.order_by("history_date", "history_id").values_list("status", flat=True))
    return sum(
        1
        for before, after in zip([None, *rows], rows, strict=False)
        if after == "closed" and before != "closed"
    )


def assert_closed_once(action: Action):
    action.refresh_from_db()
    assert action.status == "closed"
    assert closures_in_history(action) == 1
    assert action.history.filter(history_change_reason__startswith="Closure verified").count() == 1
    evidence = ClosureEvidence.objects.get(action=action)
    assert evidence.verdict == "accepted"
    return evidence


def test_twenty_simultaneous_api_verifications_close_the_action_once(live_server, awaiting, verifiers):
    url = f"{live_server.url}/api/v1/actions/{awaiting.readable_id}/verify/"

    answers = race(
        lambda auth=auth, n=n: post(url, auth=auth, json={"comment": f"Verified by request {n}"})
        for n, auth in enumerate(verifiers)
    )

    assert statuses(answers) == {200: 1, 409: REQUESTS - 1}, [a.body for a in answers]
    winner = next(answer for answer in answers if answer.status == 200)
    assert winner.body["status"] == "closed"
    assert {str(a.body) for a in answers if a.status == 409} == {str({"status": [LOST_RACE]})}
    evidence = assert_closed_once(awaiting)
    # The accepted evidence carries the winner's comment, and only the winner's.
    assert evidence.review_comment == winner.body["evidence"][0]["review_comment"]
    print(
        f"\nconcurrent verify (API): {REQUESTS} requests, 1 x 200, "
        f"{statuses(answers).get(409, 0)} x 409, closures in history: {closures_in_history(awaiting)}"
    )


def test_twenty_simultaneous_verifications_on_the_page_close_the_action_once(
    live_server, awaiting, verifiers
):
    url = f"{live_server.url}/actions/{awaiting.readable_id}/verify/"

    answers = race(
        lambda auth=auth: post_form(url, auth=auth, data={"comment": "Sample is representative."})
        for auth in verifiers
    )

    # Each press is answered by a redirect back to the action, never a server error; the page
    # it leads to says who won: one "closed", nineteen "already closed".
    assert statuses(answers) == {302: REQUESTS}, [a.body[:300] for a in answers if a.status != 302]
    won = [a for a in answers if "evidence verified, the action is closed" in a.page]
    lost = [a for a in answers if LOST_RACE in a.page]
    assert (len(won), len(lost)) == (1, REQUESTS - 1)
    assert_closed_once(awaiting)
    print(f"\nconcurrent verify (page): {REQUESTS} presses, 1 closed, {len(lost)} told it was already closed")


def test_verify_and_send_back_racing_on_the_same_evidence_leave_one_verdict(live_server, awaiting, verifiers):
    """Half the reviewers accept the evidence, half send it back, all at once: one verdict is
    recorded and the action is in the state that verdict leads to; the others get a 409."""
    base = f"{live_server.url}/api/v1/actions/{awaiting.readable_id}"

    def press(n, auth):
        if n % 2:
            return post(f"{base}/send-back/", auth=auth, json={"comment": "Only one site sampled."})
        return post(f"{base}/verify/", auth=auth, json={"comment": "Meets the criterion."})

    answers = race(lambda n=n, auth=auth: press(n, auth) for n, auth in enumerate(verifiers))

    assert statuses(answers) == {200: 1, 409: REQUESTS - 1}, [a.body for a in answers]
    winner = next(answer for answer in answers if answer.status == 200)
    awaiting.refresh_from_db()
    assert awaiting.status == winner.body["status"] in ("closed", "in_progress")
    evidence = ClosureEvidence.objects.get(action=awaiting)
    assert evidence.verdict == ("accepted" if awaiting.status == "closed" else "sent_back")
    changes = list(awaiting.history.filter(history_type="~").values_list("status", flat=True))
    # Started, evidence submitted, then exactly one verdict.
    assert changes.count("closed") + changes.count("in_progress") == 2
    assert all(answer.body["status"][0] for answer in answers if answer.status == 409)
