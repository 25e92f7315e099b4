"""The demo incidents: 2-4 per capability across states, complaint classification, one recurrence,
and a second run that changes nothing."""

import pytest
from django.db import transaction

from contracts import demo as contracts_demo
from incidents import demo as incidents_demo
from incidents.models import Incident
from portfolio import demo as portfolio_demo
from productops.demo_people import DemoContext

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            context = DemoContext(seed=20260701, password="demo")
            portfolio_demo.seed(context)
            contracts_demo.seed(context)
            incidents_demo.seed(context)
            yield context
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _db(demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield


def test_every_capability_has_two_to_four_incidents_and_one_recurrence(demo):
    for capability in demo.capabilities.values():
        assert 2 <= Incident.objects.filter(capability=capability).count() <= 4
    states = set(Incident.objects.values_list("state", flat=True))
    assert {"reported", "contained", "closed", "learning_recorded"} <= states
    recurrence = Incident.objects.get(is_recurrence=True, capability__slug="cc-agent-assist")
    assert recurrence.recurrence_of.title == "Misleading fee explanation in agent suggestions"
    assert Incident.objects.filter(source="complaint").exclude(complaint_signal="").count() >= 2


def test_seeding_twice_changes_nothing(demo):
    before = Incident.objects.count()
    assert incidents_demo.seed(demo) == {"incidents": 0}
    assert Incident.objects.count() == before
