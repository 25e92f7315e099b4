"""seed_demo refuses demo logins with a known password while DEBUG is off, unless forced; the
password comes from DEMO_PASSWORD. (The guard is the command's own, whatever the builders load.)"""

import pytest
from django.core.management import CommandError, call_command

from productops.models import User

pytestmark = pytest.mark.django_db


def _seed(*args):
    call_command("seed_demo", *args, stdout=open("/dev/null", "w"))


@pytest.fixture
def only_people(monkeypatch):
    """The password guard is the command's, whatever the builders load: load the people only."""
    from productops.management.commands import seed_demo

    monkeypatch.setattr(seed_demo, "DEMO_BUILDERS", ["portfolio.demo"])


def test_it_refuses_known_passwords_with_debug_off_unless_forced(settings, only_people):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.filter(username="pm").exists()
    _seed("--force")
    assert User.objects.filter(username="pm").exists()


def test_the_password_comes_from_demo_password(settings, only_people):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "s3cret-demo"
    _seed()
    assert User.objects.get(username="exec").check_password("s3cret-demo")
