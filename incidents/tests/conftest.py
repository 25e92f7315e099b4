"""Fixtures of the incident tests: the people of incident learning and a helper that reports an
incident and walks it through its real steps."""

import datetime

import pytest
from django.utils import timezone

from releases.tests.conftest import (  # noqa: F401  (fixtures reused from the release calendar)
    analyst,
    architect,
    attest_all,
    make_release,
    released,
    risk_partner,
    submitted,
)


@pytest.fixture
def ops(make_person, capability):
    """Ops: A/R on incident learning and R on action closure."""
    return make_person("ops", capability, username="ops")


@pytest.fixture
def reviewer(make_person, capability):
    return make_person("business_analyst", capability, username="ba")


@pytest.fixture
def report(capability, ops):
    from incidents.services import incident_report

    def make(**overrides):
        kwargs = {
            "capability": capability,
            "by": ops,
            "title": "Misleading fee explanation",
            "source": "complaint",
            "complaint_signal": "misleading_answer",
            "occurred_on": timezone.localdate() - datetime.timedelta(days=3),
            "severity": "sev3",
        }
        kwargs.update(overrides)
        return incident_report(**kwargs)

    return make


@pytest.fixture
def add_action(ops, reviewer):
    from incidents.services import incident_add_corrective_action

    def add(incident):
        return incident_add_corrective_action(
            incident=incident,
            by=ops,
            action="Fix the fee knowledge article",
            owner=ops,
            reviewer=reviewer,
            due_date=timezone.localdate() + datetime.timedelta(days=7),
            closure_criterion="QA sample of 50 fee answers has no misleading answer",
            reopen_trigger={
                "kind": "recheck_date",
                "recheck_on": timezone.localdate() + datetime.timedelta(days=60),
            },
        )

    return add


@pytest.fixture
def close_action(reviewer):
    def close(action):
        action.submit_evidence(by=action.owner, text="QA sample: 0 of 50 misleading.")
        action.verify(by=reviewer, comment="OK")

    return close


@pytest.fixture
def to_learning(ops, add_action):
    """Walk an incident to 'learning recorded' with one open corrective action and a text learning item."""
    from incidents.services import incident_add_learning_item

    def go(incident, learning_kind="eval"):
        if incident.severity == "sev1":
            incident.contain(
                by=ops, immediate_action="Paused fee answers", restriction="Fee intents to humans"
            )
        incident.record_root_causes(by=ops, causes=[("knowledge", "Outdated fee article")])
        action = add_action(incident)
        incident.agree_corrective_actions(by=ops)
        if learning_kind:
            incident_add_learning_item(
                incident=incident, by=ops, kind=learning_kind, text="Fee eval set extended"
            )
            incident.record_learning(by=ops)
        return action

    return go
