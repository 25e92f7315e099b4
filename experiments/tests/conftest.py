"""Fixtures of the experiment registry's tests: the capability's contracts (a mean metric, a ratio
guardrail, a cost contract), a live assumption, an experiment registered through the service,
observations tagged with the arms, and a helper that walks an experiment through its moves."""

import datetime

import pytest
from django.utils import timezone

from assumptions.tests.factories import AssumptionFactory
from contracts.models import Observation
from contracts.tests.factories import MetricContractFactory

HYPOTHESIS = "Shorter, policy-cited suggestions reduce AHT and edits"


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


@pytest.fixture
def analyst(make_person, capability):
    """Analytics: R on the experiment registry, only C on the decision log."""
    return make_person("analytics", capability, username="analyst")


@pytest.fixture
def aht(capability):
    """The primary metric: a mean (not a ratio), lower is better, cut by intent."""
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.aht_seconds",
        name="Average handle time",
        category="outcome",
        status="active",
        unit="seconds",
        is_ratio=False,
        direction="lower",
        target=400,
        warning=460,
        breach=490,
        cohort_dimensions=["intent", "team"],
        required_cuts=["intent"],
        min_sample_size=0,
    )


@pytest.fixture
def repeat(capability):
    """A ratio guardrail: repeat contact, lower is better, warning at 13%."""
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.repeat_contact_7d",
        name="Repeat contact within 7 days",
        category="outcome",
        status="active",
        unit="share",
        is_ratio=True,
        direction="lower",
        target=0.10,
        warning=0.13,
        breach=0.16,
        required_cuts=["intent"],
        min_sample_size=0,
    )


@pytest.fixture
def cost(capability):
    """The capability's cost contract (money over cases)."""
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.cost_per_assisted_call",
        name="Cost per assisted call",
        category="cost",
        status="active",
        unit="GBP per call",
        is_ratio=True,
        direction="lower",
        target=0.45,
        warning=0.55,
        breach=0.65,
        required_cuts=["intent"],
        min_sample_size=0,
    )


@pytest.fixture
def assumption(capability, pm):
    return AssumptionFactory(
        capability=capability,
        owner=pm,
        statement="Reducing AHT creates net benefit after 7-day repeat contact is counted.",
    )


@pytest.fixture
def make_experiment(capability, pm, aht, repeat):
    from experiments.services import experiment_create

    def make(**overrides):
        kwargs = {
            "capability": capability,
            "by": pm,
            "title": "Policy-cited suggestions",
            "hypothesis": HYPOTHESIS,
            "population": "Billing and card calls, agents split by team",
            "treatment": "Suggestions under 60 words citing the policy article",
            "control_or_baseline": "Current suggestions (prompt v11)",
            "primary_metric": aht,
            "guardrails": [repeat],
            "start_date": days_ago(20),
            "planned_end_date": days_ago(6),
            "owner": pm,
        }
        kwargs.update(overrides)
        return experiment_create(**kwargs)

    return make


@pytest.fixture
def experiment(make_experiment):
    return make_experiment()


@pytest.fixture
def observe():
    """observe(contract, arm, values, day=..., cohort=..., n=...) writes one observation per value,
    on consecutive days, tagged ``{"arm": arm}``. A value is a number (a mean) or a pair
    (numerator, denominator) for a ratio."""

    def write(contract, arm, values, *, first_day=None, cohort=None, n=10, version_set=None):
        first_day = first_day or days_ago(15)
        made = []
        for offset, value in enumerate(values):
            fields = {"value": value, "sample_size": n}
            if isinstance(value, tuple):
                numerator, denominator = value
                fields = {
                    "value": numerator / denominator,
                    "numerator": numerator,
                    "denominator": denominator,
                    "sample_size": int(denominator),
                }
            made.append(
                Observation.objects.create(
                    contract=contract,
                    period_start=first_day + datetime.timedelta(days=offset),
                    grain="day",
                    cohort=cohort or {},
                    version_set=version_set if version_set is not None else {"arm": arm},
                    **fields,
                )
            )
        return made

    return write


@pytest.fixture
def bring_to(pm):
    """bring_to(experiment, "readout") walks it there through its moves (as the PM)."""

    def go(experiment, state, **decide):
        if state == "proposed":
            return experiment
        experiment.start(by=pm)
        if state == "running":
            return experiment
        experiment.begin_readout(by=pm)
        if state == "readout":
            return experiment
        assert state == "decided"
        experiment.decide(by=pm, **{"decision": "stop", "comment": "Not worth it.", **decide})
        return experiment

    return go
