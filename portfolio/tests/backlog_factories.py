"""Rows for the backlog tests. The records a backlog item rests on live in apps above portfolio:
they are named by model label, as the backlog itself reads them, never imported."""

import datetime

import factory

from portfolio.choices import SCORE_PARTS
from portfolio.models import BacklogItem
from portfolio.tests.factories import CapabilityFactory, UserFactory


class ContractFactory(factory.django.DjangoModelFactory):
    """A metric contract (playbook 10.2's repeat contact, by default)."""

    class Meta:
        model = "contracts.MetricContract"

    metric_id = factory.Sequence(lambda n: f"cc_agent_assist.metric_{n}")
    name = factory.Sequence(lambda n: f"Metric {n}")
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
    cohort_dimensions = factory.LazyFunction(lambda: ["intent"])
    required_cuts = factory.LazyFunction(lambda: ["intent"])
    evidence_level = "E3"
    next_review = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=30))


class SignalFactory(factory.django.DjangoModelFactory):
    """An open threshold signal on a contract."""

    class Meta:
        model = "contracts.Signal"

    contract = factory.SubFactory(ContractFactory)
    cut = ""
    level = "breach"
    worst_level = "breach"
    opened_period = datetime.date(2026, 1, 5)
    last_period = datetime.date(2026, 1, 5)
    observed_value = 15.6
    threshold_crossed = 15.0


class AssumptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "assumptions.Assumption"

    capability = factory.SubFactory(CapabilityFactory)
    statement = factory.Sequence(lambda n: f"QA sampling catches misleading fee explanations ({n}).")
    type = "risk"
    owner = factory.SubFactory(UserFactory)
    expires_on = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=90))


class DecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "decisions.Decision"

    capability = factory.SubFactory(CapabilityFactory)
    type = "retire"
    decision = factory.Sequence(lambda n: f"Retire the legacy keyword classifier ({n}).")
    owner = factory.SubFactory(UserFactory)


class BacklogItemFactory(factory.django.DjangoModelFactory):
    """A backlog item written directly (for read tests); rules are tested through the services."""

    class Meta:
        model = BacklogItem

    capability = factory.SubFactory(CapabilityFactory)
    title = factory.Sequence(lambda n: f"Backlog item {n}")
    item_class = "quality_fix"
    expected_metric = factory.LazyAttribute(lambda o: ContractFactory(capability=o.capability))
    expected_direction = "down"
    expected_movement = "−2 points within 8 weeks"


def parts_for(score: int) -> dict:
    """Score parts whose priority score is ``score`` (from -10 to 30)."""
    parts = dict.fromkeys(SCORE_PARTS, 0)
    if score < 0:
        parts["delivery_effort"] = min(-score, 5)
        parts["change_saturation"] = -score - parts["delivery_effort"]
        return parts
    for name in SCORE_PARTS[:6]:
        parts[name] = min(score, 5)
        score -= parts[name]
    assert score == 0, "a score above 30 cannot be made of 0-5 parts"
    return parts
