import datetime

import factory

from decisions.models import Decision, EvidenceLink
from portfolio.tests.factories import CapabilityFactory, UserFactory


class DecisionFactory(factory.django.DjangoModelFactory):
    """A recorded decision, written straight to the table (rules are tested through the service)."""

    class Meta:
        model = Decision

    capability = factory.SubFactory(CapabilityFactory)
    decided_on = factory.LazyFunction(lambda: datetime.date.today() - datetime.timedelta(days=10))
    type = "scale_selectively"
    decision = factory.Sequence(lambda n: f"Scale selectively to low-risk retail cohort {n}")
    options_considered = "Scale; scale selectively; hold"
    owner = factory.SubFactory(UserFactory)
    review_trigger = "False-pass sample above 0.4%"


class EvidenceLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvidenceLink

    decision = factory.SubFactory(DecisionFactory)
    url = factory.Sequence(lambda n: f"https://wiki.bank.example/evidence/{n}")
    label = factory.LazyAttribute(lambda o: o.url)
