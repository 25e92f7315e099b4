"""Bringing an action's due date forward: what the contracts job does when a signal worsens."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

pytestmark = pytest.mark.django_db


def test_it_brings_the_due_date_forward_and_records_why(action):
    sooner = action.due_date - datetime.timedelta(days=3)
    assert action.bring_due_date_forward(by=None, due_date=sooner, reason="signal worsened to breach")
    action.refresh_from_db()
    assert action.due_date == sooner
    latest = action.history.latest()
    assert latest.history_user is None
    assert latest.history_change_reason == (
        f"Due date brought forward from {sooner + datetime.timedelta(days=3)} to {sooner}: signal worsened to breach"
    )


def test_it_never_moves_the_due_date_later(action):
    later = action.due_date + datetime.timedelta(days=3)
    assert not action.bring_due_date_forward(by=None, due_date=later, reason="signal worsened")
    action.refresh_from_db()
    assert action.due_date == later - datetime.timedelta(days=3)


def test_it_leaves_a_closed_action_alone(action, bring_to):
    bring_to(action, "closed")
    due = action.due_date
    assert not action.bring_due_date_forward(by=None, due_date=due - datetime.timedelta(days=1), reason="x")
    action.refresh_from_db()
    assert action.due_date == due


def test_a_person_needs_a_role_that_works_on_actions(action, viewer):
    with pytest.raises(PermissionDenied):
        action.bring_due_date_forward(
            by=viewer, due_date=action.due_date - datetime.timedelta(days=1), reason="x"
        )
