import datetime

import pytest
from django.utils import timezone

from contracts.tests.factories import MetricContractFactory


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def make_contract(capability, pm):
    """A contract with everything the checks want (owner, action rules, trace, cuts, review
    date ahead); a test breaks the one thing it is about."""

    def make(**overrides):
        fields = {
            "capability": capability,
            "status": "active",
            "business_owner": pm,
            "source_systems": "CRM, telephony",
            "event_names": "call_end, assist_shown",
            "version_fields": "model_version, prompt_version",
            "join_keys": "case_id",
            "next_review": timezone.localdate() + datetime.timedelta(days=30),
            **overrides,
        }
        return MetricContractFactory(**fields)

    return make


@pytest.fixture
def healthy(capability, make_contract):
    """A capability that passes every check: outcome, adoption, cost and risk contracts with
    owners, action rules, trace and recent telemetry; nothing else in its registers."""
    from contracts.tests.factories import ObservationFactory

    contracts = {
        category: make_contract(metric_id=f"cc_agent_assist.{category}_metric", category=category)
        for category in ("outcome", "adoption", "cost", "risk")
    }
    ObservationFactory(
        contract=contracts["risk"],
        period_start=timezone.localdate() - datetime.timedelta(days=3),
        version_set={"model": "m1"},
    )
    return contracts
