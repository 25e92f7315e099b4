"""Fixtures of the action register's tests: an owner and a reviewer on the capability, and a
helper that takes an action to any state through its real moves."""

import datetime

import pytest
from django.utils import timezone

ACTION_TEXT = "Sample 50 edited suggestions and update billing knowledge article"
CRITERION = "QA sample shows defect class reduced below warning threshold"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def owner(make_person, capability):
    """The ops QA lead who owns the action (R on action closure)."""
    return make_person("ops", capability, username="owner")


@pytest.fixture
def reviewer(make_person, capability):
    """The risk partner named as reviewer (R on action closure)."""
    return make_person("risk_compliance", capability, username="reviewer")


@pytest.fixture
def colleague(make_person, capability):
    """Another responsible role on the capability: may work on actions, not verify others'."""
    return make_person("business_analyst", capability, username="colleague")


@pytest.fixture
def make_action(capability, pm, owner, reviewer):
    from actions.services import action_create

    def make(**overrides):
        kwargs = {
            "capability": capability,
            "by": pm,
            "action": ACTION_TEXT,
            "owner": owner,
            "reviewer": reviewer,
            "due_date": timezone.localdate() + datetime.timedelta(days=7),
            "closure_criterion": CRITERION,
            "source_kind": "signal",
            "source_signal": "Contact-centre repeat contact up 8% in billing calls",
        }
        kwargs.update(overrides)
        return action_create(**kwargs)

    return make


@pytest.fixture
def action(make_action):
    return make_action()


@pytest.fixture
def bring_to(owner, reviewer, pm):
    """bring_to(action, "closed") walks the action there through its moves."""

    def go(action, state):
        if state == "open":
            return action
        action.start(by=action.owner)
        if state == "in_progress":
            return action
        if state == "blocked":
            action.block(by=action.owner, reason="Waiting for the CRM vendor")
            return action
        action.submit_evidence(by=action.owner, text="QA sample of 50 calls: defect class at 2.1%.")
        if state == "awaiting_verification":
            return action
        action.verify(by=action.reviewer or pm, comment="Meets the criterion.")
        if state == "closed":
            return action
        action.reopen(by=pm, reason="Repeat contact back above threshold")
        assert state == "reopened"
        return action

    return go
