"""The daily re-check job and the trigger reopen service the contracts job will call."""

import datetime
import zoneinfo

import pytest
import time_machine

from actions.models import Action, Reopening
from actions.services import action_reopen_from_trigger
from actions.tasks import reopen_due_rechecks
from productops.models import Notification

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
RAISED = datetime.datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)
RECHECK = datetime.date(2026, 7, 15)
JOB_TIME = datetime.datetime(2026, 7, 15, 6, 5, tzinfo=LONDON)


@pytest.fixture
def closed_with_recheck(make_action, bring_to):
    with time_machine.travel(RAISED, tick=False):
        action = make_action(reopen_trigger={"kind": "recheck_date", "recheck_on": RECHECK})
        bring_to(action, "closed")
    return action


def run_job(when):
    with time_machine.travel(when, tick=False):
        return reopen_due_rechecks.apply().get()


def test_the_job_leaves_actions_whose_recheck_date_has_not_come(closed_with_recheck):
    assert run_job(JOB_TIME - datetime.timedelta(days=1)) == []
    closed_with_recheck.refresh_from_db()
    assert closed_with_recheck.status == "closed"


def test_the_job_reopens_a_closed_action_on_its_recheck_date_and_tells_the_owner(closed_with_recheck, owner):
    assert run_job(JOB_TIME) == ["ACT-0001"]
    action = Action.objects.get(pk=closed_with_recheck.pk)
    assert action.status == "reopened"
    reopening = action.reopenings.get()
    assert (reopening.reason, reopening.by_trigger, reopening.reopened_by) == (
        "Scheduled re-check",
        True,
        None,
    )
    assert action.history.latest().history_change_reason == "Reopened: Scheduled re-check"
    assert action.history.latest().history_user is None
    assert action.evidence.get().verdict == "accepted"  # the earlier closure stays on the record
    assert action.reopen_trigger.fired_at is not None
    assert Notification.objects.filter(recipient=owner, subject="ACT-0001 reopened").count() == 1


def test_running_the_job_twice_reopens_once(closed_with_recheck, owner):
    assert run_job(JOB_TIME) == ["ACT-0001"]
    assert run_job(JOB_TIME) == []
    assert run_job(JOB_TIME + datetime.timedelta(days=1)) == []
    assert Reopening.objects.count() == 1
    assert Notification.objects.filter(recipient=owner, subject="ACT-0001 reopened").count() == 1


def test_a_fired_trigger_does_not_reopen_the_action_again_after_it_closes_again(
    closed_with_recheck, bring_to
):
    run_job(JOB_TIME)
    action = Action.objects.get(pk=closed_with_recheck.pk)
    with time_machine.travel(JOB_TIME, tick=False):
        action.start(by=action.owner)
        action.submit_evidence(by=action.owner, text="Second sample")
        action.verify(by=action.reviewer)
    assert run_job(JOB_TIME + datetime.timedelta(days=2)) == []
    assert Action.objects.get(pk=action.pk).status == "closed"


def test_the_job_ignores_open_actions_and_actions_closed_after_their_recheck_date(make_action, bring_to):
    with time_machine.travel(RAISED, tick=False):
        still_open = make_action(
            action="Still open", reopen_trigger={"kind": "recheck_date", "recheck_on": RECHECK}
        )
        late = make_action(
            action="Closed late", reopen_trigger={"kind": "recheck_date", "recheck_on": RECHECK}
        )
    with time_machine.travel(JOB_TIME + datetime.timedelta(days=1), tick=False):
        bring_to(late, "closed")
    assert run_job(JOB_TIME + datetime.timedelta(days=2)) == []
    assert Action.objects.get(pk=still_open.pk).status == "open"
    assert Action.objects.get(pk=late.pk).status == "closed"


def test_reopening_from_a_trigger_is_safe_to_call_twice(make_action, bring_to):
    action = bring_to(make_action(), "closed")
    assert action_reopen_from_trigger(
        action, "cc_agent_assist.repeat_contact_7d at or above 0.15 for 2 periods"
    )
    assert action.status == "reopened"
    assert not action_reopen_from_trigger(action, "same signal, next run")
    assert not action_reopen_from_trigger(bring_to(make_action(action="Open one"), "open"), "x")
    assert Reopening.objects.count() == 1
