import pytest
from django.core.management import CommandError, call_command

from portfolio.models import Capability
from productops.models import RoleAssignment, User

pytestmark = pytest.mark.django_db


def test_it_loads_the_six_capabilities_with_a_login_per_role(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert Capability.objects.count() == 6
    for username in ["pm", "risk", "exec", "architect", "analyst", "ops", "viewer"]:
        assert User.objects.get(username=username).check_password("demo")
    pm = User.objects.get(username="pm")
    assert RoleAssignment.objects.filter(user=pm, role="ai_pm").count() == 3
    kyc = Capability.objects.get(slug="kyc-onboarding")
    assert set(RoleAssignment.objects.filter(capability=kyc).values_list("role", flat=True)) >= {
        "ai_pm",
        "ai_architect",
        "business_analyst",
        "ops",
        "risk_compliance",
        "analytics",
        "platform",
        "finance",
    }


def test_running_it_twice_changes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    from forums.models import Forum, Session

    def counts():
        return (
            User.objects.count(),
            Capability.objects.count(),
            RoleAssignment.objects.count(),
            Forum.objects.count(),
            Session.objects.count(),
        )

    before = counts()
    assert before[3] >= 8 and before[4] > 0  # the 6.1 forums and their next sessions
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert counts() == before


def test_it_refuses_known_passwords_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.filter(username="pm").exists()
    call_command("seed_demo", "--force", stdout=open("/dev/null", "w"))
    assert User.objects.filter(username="pm").exists()


def test_the_password_comes_from_demo_password(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "s3cret-demo"
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert User.objects.get(username="exec").check_password("s3cret-demo")
