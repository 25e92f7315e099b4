"""The demo organisation shows a spread (issue 10): one capability operating, the others only
running for different reasons; a second seed changes nothing.

The whole demo is loaded once for the module (about a minute) and rolled back at the end."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings

from decisions.models import Decision
from portfolio.models import Capability
from readiness.questions import readiness_for

pytestmark = pytest.mark.django_db


def _seed():
    call_command("seed_demo", stdout=open("/dev/null", "w"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(DEBUG=True, PASSWORD_HASHERS=fast):
        with transaction.atomic():
            _seed()
            yield
            transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield


def spread():
    return {item.capability.slug: item for item in readiness_for(Capability.objects.order_by("name"))}


def test_one_capability_is_operating_and_the_others_only_running_for_different_reasons(seeded):
    readiness = spread()
    assert [slug for slug, item in readiness.items() if item.operating] == ["complaint-intelligence"]
    missing = {
        slug: tuple(answer.key for answer in item.gaps)
        for slug, item in readiness.items()
        if not item.operating
    }
    assert len(missing) == 5 and all(missing.values())
    assert len(set(missing.values())) >= 2  # not one reason shared by all
    assert (
        "system_changes" in missing["kyc-onboarding"] and "forum_decisions" not in missing["kyc-onboarding"]
    )
    assert "forum_decisions" in missing["aml-triage"] and "system_changes" not in missing["aml-triage"]


def test_the_operating_capability_got_there_through_the_registers(seeded):
    capability = Capability.objects.get(slug="complaint-intelligence")
    restated = Decision.objects.get(capability=capability, decision__contains="restated with its evidence")
    assert restated.supersedes.evidence_count == 0 and restated.evidence_count >= 2
    assert not capability.assumptions.filter(status="expired").exists()


def test_a_second_seed_changes_nothing(seeded):
    before = Decision.objects.count(), [(item.capability.slug, item.state) for item in spread().values()]
    _seed()
    assert (
        Decision.objects.count(),
        [(item.capability.slug, item.state) for item in spread().values()],
    ) == before
