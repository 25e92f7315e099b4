"""Rows written directly, for read tests (lists, charts, counts). Rules are tested through the
services (``contract_create``, ``contract_update``, ``contract_activate``), never through these."""

import datetime

import factory

from contracts.models import Evaluation, MetricContract, Observation, Signal
from portfolio.tests.factories import CapabilityFactory


class MetricContractFactory(factory.django.DjangoModelFactory):
    """Playbook 10.2: contact-centre repeat contact within 7 days (lower is better)."""

    class Meta:
        model = MetricContract

    metric_id = factory.Sequence(lambda n: f"cc_agent_assist.repeat_contact_7d_{n}")
    name = "Repeat contact within 7 days"
    capability = factory.SubFactory(CapabilityFactory)
    category = "outcome"
    business_question = "Did agent assist reduce AHT without pushing customers to call again?"
    decision_supported = "Scale agent assist to more intents, or hold it"
    numerator = "Customers with another contact within 7 days for the same intent"
    denominator = "Assisted calls for eligible intents"
    unit = "%"
    direction = "lower"
    target = 10.0
    warning = 12.0
    breach = 15.0
    warning_action = "Sample 50 calls for QA"
    warning_closure_criterion = "QA sample shows repeat contact back under warning"
    breach_action = "Hold releases for the affected intent"
    breach_closure_criterion = "Back under warning for two weeks"
    cohort_dimensions = factory.LazyFunction(lambda: ["intent", "team"])
    required_cuts = factory.LazyFunction(lambda: ["intent"])
    evidence_level = "E3"
    next_review = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=30))


class ObservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Observation

    contract = factory.SubFactory(MetricContractFactory)
    period_start = datetime.date(2026, 1, 5)
    grain = "day"
    cohort = factory.LazyFunction(dict)
    version_set = factory.LazyFunction(dict)
    value = 11.0
    sample_size = 100


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluation

    contract = factory.SubFactory(MetricContractFactory)
    period_start = datetime.date(2026, 1, 5)
    grain = "week"
    cut = ""
    value = 11.0
    sample_size = 700
    raw_level = "ok"
    level = "ok"


class SignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signal

    contract = factory.SubFactory(MetricContractFactory)
    cut = ""
    level = "warning"
    worst_level = "warning"
    opened_period = datetime.date(2026, 1, 5)
    last_period = datetime.date(2026, 1, 5)
    observed_value = 12.6
    threshold_crossed = 12.0


def contract_kwargs(capability, **overrides) -> dict:
    """The fields of playbook 10.2's contract as ``contract_create`` takes them."""
    fields = {
        "capability": capability,
        "metric_id": "cc_agent_assist.repeat_contact_7d",
        "name": "Repeat contact within 7 days",
        "category": "outcome",
        "business_question": "Did agent assist reduce AHT without pushing customers to call again?",
        "decision_supported": "Scale agent assist to more intents, or hold it",
        "numerator": "Customers with another contact within 7 days for the same intent",
        "denominator": "Assisted calls for eligible intents",
        "unit": "%",
        "direction": "lower",
        "target": 10.0,
        "warning": 12.0,
        "breach": 15.0,
        "warning_action": "Sample 50 calls for QA",
        "warning_closure_criterion": "QA sample shows repeat contact back under warning",
        "breach_action": "Hold releases for the affected intent",
        "breach_closure_criterion": "Back under warning for two weeks",
        "cohort_dimensions": ["intent", "team", "agent_tenure", "suggestion_acceptance", "prompt_version"],
        "required_cuts": ["intent", "team"],
        "evidence_level": "E3",
        "next_review": datetime.date.today() + datetime.timedelta(days=30),
    }
    fields.update(overrides)
    return fields
