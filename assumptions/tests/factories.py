from datetime import timedelta

import factory
from django.utils import timezone

from assumptions.models import Assumption
from portfolio.tests.factories import CapabilityFactory, UserFactory


class AssumptionFactory(factory.django.DjangoModelFactory):
    """An assumption straight in the database (tests of the rules create through the service)."""

    class Meta:
        model = Assumption

    capability = factory.SubFactory(CapabilityFactory)
    statement = factory.Sequence(lambda n: f"Belief number {n} holds for the next quarter.")
    type = "value"
    owner = factory.SubFactory(UserFactory)
    evidence = "Pilot data (E1)."
    confidence = "medium"
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    decision_impact = "Scale decision"
    tested_by_contracts = factory.LazyFunction(lambda: ["cc_agent_assist.repeat_contact_7d"])
    depends_on_object_types = factory.LazyFunction(lambda: ["model"])
