"""The demo register: every state on every capability, overdue and reopened actions, idempotent."""

from collections import Counter

import pytest

import actions.demo
import portfolio.demo
from actions.choices import ActionStatus
from actions.models import Action
from productops.demo_people import DemoContext
from productops.models import Notification

pytestmark = pytest.mark.django_db


def load():
    context = DemoContext(seed=20260701, password="demo")
    portfolio.demo.seed(context)
    actions.demo.seed(context)
    return context


def test_the_demo_has_every_state_on_every_capability_and_loads_twice_without_duplicates():
    context = load()
    count = Action.objects.count()
    history = Action.history.count()
    load()
    assert Action.objects.count() == count
    assert Action.history.count() == history
    for slug, capability in context.capabilities.items():
        actions_here = Action.objects.filter(capability=capability)
        assert 10 <= actions_here.count() <= 25, slug
        assert set(Counter(actions_here.values_list("status", flat=True))) == set(ActionStatus.values), slug
        assert actions_here.overdue().exists(), slug
        reopened = actions_here.filter(status=ActionStatus.REOPENED)
        assert all(action.evidence.filter(verdict="accepted").exists() for action in reopened), slug
        assert reopened.filter(reopenings__by_trigger=True).exists(), slug
    # Closed and reopened actions went through real moves, so their history has a verifier.
    closed = Action.objects.filter(status=ActionStatus.CLOSED).first()
    assert closed.history.filter(history_change_reason__startswith="Closure verified").exists()
    # Loading the demo e-mails no one.
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_the_demo_pm_login_has_overdue_actions_to_show_in_the_header():
    context = load()
    assert Action.objects.for_owner(context.logins["pm"]).overdue().exists()
    assert Action.objects.to_verify_by(context.logins["risk"]).exists()
