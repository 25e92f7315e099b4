"""The world the meeting tests share (no tests here): a weekly ops review of the contact-centre
capability, its people, and the records its agenda blocks show. The other meeting test modules
import these fixtures by name."""

import datetime

import pytest
from django.utils import timezone

from forums.choices import Cadence, Frequency, Weekday
from forums.models import Session
from forums.services import forum_create
from releases.tests.conftest import (  # noqa: F401  (fixtures reused from the release calendar)
    analyst,
    architect,
    attest_all,
    make_release,
    risk_partner,
    submitted,
)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ops(make_person, capability):
    """Ops: owns actions (R on action closure and on the weekly ops review)."""
    return make_person("ops", capability, username="ops")


@pytest.fixture
def ba(make_person, capability):
    """A business analyst: the named reviewer of an action."""
    return make_person("business_analyst", capability, username="ba")


@pytest.fixture
def weekly(pm, ops, capability):
    """The capability's weekly ops review: the playbook's eight blocks, 75 minutes."""
    return forum_create(
        by=pm,
        scope=[capability],
        attendees=[pm, ops],
        name="Weekly ops review — agent assist",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=pm,
        attendee_roles=["business_analyst"],
        decision_types=["continue", "restrict", "rollback"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
        duration_minutes=75,
    )


@pytest.fixture
def session(weekly):
    return Session.objects.create(
        forum=weekly,
        scheduled_at=timezone.now() + datetime.timedelta(hours=1),
        decision_requested="Restrict billing suggestions for the north team until repeat contact is back under warning?",
    )


@pytest.fixture
def running(session, pm):
    """The session, started by its PM."""
    from forums.meeting import meeting_start

    return meeting_start(session=session, by=pm)


@pytest.fixture
def raise_action(pm, ops, capability):
    """raise_action(**overrides): an action raised through the register, owned by Ops."""
    from actions.services import action_create

    def make(**overrides):
        kwargs = {
            "capability": capability,
            "by": pm,
            "action": "Sample 50 edited billing suggestions",
            "owner": ops,
            "due_date": timezone.localdate() + datetime.timedelta(days=7),
            "closure_criterion": "QA sample shows the defect class below warning",
        }
        kwargs.update(overrides)
        return action_create(**kwargs)

    return make


@pytest.fixture
def awaiting(raise_action, ops):
    """An action whose owner has submitted closure evidence: it waits for a reviewer."""
    action = raise_action()
    action.submit_evidence(by=ops, text="QA sample of 50: **2 defects**, under the 5% warning.")
    return action


@pytest.fixture
def quality_contract(capability):
    """An active quality contract with two weekly evaluations: it got worse, into breach."""
    from contracts.tests.factories import EvaluationFactory, MetricContractFactory

    contract = MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.script_defect_rate",
        name="QA script defect rate",
        category="quality",
        status="active",
        evidence_level="E2",
    )
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    EvaluationFactory(contract=contract, period_start=monday - datetime.timedelta(days=14), value=11.0)
    EvaluationFactory(
        contract=contract, period_start=monday - datetime.timedelta(days=7), value=16.2, level="breach"
    )
    EvaluationFactory(
        contract=contract,
        period_start=monday - datetime.timedelta(days=7),
        cut="intent=billing",
        value=19.5,
        level="breach",
    )
    return contract
