import datetime

import factory
from django.utils import timezone

from actions.models import Action
from portfolio.tests.factories import CapabilityFactory, UserFactory


class ActionFactory(factory.django.DjangoModelFactory):
    """A row written directly, for read tests (lists, counts). Rules are tested through the
    service and the moves, never through this factory."""

    class Meta:
        model = Action

    capability = factory.SubFactory(CapabilityFactory)
    owner = factory.SubFactory(UserFactory)
    action = factory.Sequence(lambda n: f"Sample 50 edited suggestions, batch {n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=10))
    closure_criterion = "QA sample shows defect class reduced below warning threshold"
    source_kind = "signal"
    source_signal = "Repeat contact up 8% in billing calls"
