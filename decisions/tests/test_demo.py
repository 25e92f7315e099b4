"""The demo seed: 5-10 decisions per capability, one superseded chain, a few without evidence."""

import pytest

from decisions import demo as decisions_demo
from decisions.choices import DecisionType
from decisions.models import Decision
from portfolio import demo as portfolio_demo
from productops.demo_people import DemoContext

pytestmark = pytest.mark.django_db


def seed():
    context = DemoContext(seed=20260701, password="demo")
    portfolio_demo.seed(context)
    decisions_demo.seed(context)
    return context


def test_the_demo_gives_every_capability_a_realistic_decision_log():
    context = seed()
    for capability in context.capabilities.values():
        decisions = Decision.objects.for_capability(capability)
        assert 5 <= decisions.count() <= 10
        assert decisions.superseded().count() >= 1
        assert 1 <= decisions.without_evidence().count() < decisions.count()
        assert set(decisions.values_list("type", flat=True)) <= set(DecisionType.values)
    kyc = Decision.objects.get(decision__startswith="Scale selectively: cycle time down in low-risk retail")
    assert kyc.successor is not None


def test_the_demo_can_run_twice_without_duplicating():
    seed()
    first = set(Decision.objects.values_list("readable_id", "decision"))
    seed()
    assert set(Decision.objects.values_list("readable_id", "decision")) == first
