"""``seed_demo --scale N``: the demo organisation plus regions (the six capabilities again, a year
of telemetry each) until it holds at least N observations, evaluated, with the boards' rows
(signals, actions in every state, releases, incidents) in every region; a second run writes
nothing new; the home demo is left as it is; SQLite is refused for a big N.

The demo is seeded once for the module at ``--scale 150000`` (the home demo and one region,
about two minutes) and rolled back at the end."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import override_settings

from actions.models import Action, ReopenTrigger
from contracts.demo_data import CAPABILITIES
from contracts.models import Evaluation, MetricContract, Observation, Signal, StopHold
from incidents.models import Incident
from portfolio.demo_scale import HOME_SLUGS
from portfolio.models import Capability
from productops.models import Notification, RoleAssignment, User
from releases.models import ImpactReview, Release

pytestmark = pytest.mark.django_db

SCALE = 150_000
ACTIVE_HOME_CONTRACTS = sum(
    1
    for definitions in CAPABILITIES.values()
    for definition in definitions
    if definition["status"] == "active"
)


def _seed(*args):
    call_command("seed_demo", *args, stdout=open("/dev/null", "w"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(DEBUG=True, PASSWORD_HASHERS=fast):
        with transaction.atomic():
            _seed("--scale", str(SCALE))
            yield
            transaction.set_rollback(True)


@pytest.fixture
def seeded(demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield


def region_capabilities():
    return Capability.objects.filter(slug__endswith="-ie")


def test_it_holds_at_least_n_observations_in_home_capabilities_and_one_region(seeded):
    assert Observation.objects.count() >= SCALE
    assert sorted(region_capabilities().values_list("slug", flat=True)) == sorted(
        f"{s}-ie" for s in HOME_SLUGS
    )
    assert Capability.objects.count() == 12
    home = Observation.objects.filter(contract__capability__slug__in=HOME_SLUGS)
    region = Observation.objects.filter(contract__capability__in=region_capabilities())
    assert home.count() + region.count() == Observation.objects.count()
    # A year of daily history in the region, ending yesterday like the home demo's 26 weeks.
    first, last = (
        region.order_by(order).values_list("period_start", flat=True)[0]
        for order in ("period_start", "-period_start")
    )
    assert (last - first).days == 52 * 7 - 1
    assert last == home.order_by("-period_start").values_list("period_start", flat=True)[0]


def test_each_region_capability_has_its_owner_map_and_the_demo_logins_read_it(seeded):
    kyc = Capability.objects.get(slug="kyc-onboarding-ie")
    assert kyc.name == "KYC onboarding assistant (Ireland)" and kyc.risk_tier == "critical"
    roles = set(RoleAssignment.objects.filter(capability=kyc).values_list("role", flat=True))
    assert roles == {
        "ai_pm",
        "ai_architect",
        "business_analyst",
        "ops",
        "risk_compliance",
        "analytics",
        "platform",
        "finance",
    }
    assert User.objects.get(username="kyc.pm.ie").check_password("demo")
    exec_ = User.objects.get(username="exec")
    assert Capability.objects.visible_to(exec_).filter(slug__endswith="-ie").count() == 6
    pm = User.objects.get(username="pm")
    assert not Capability.objects.visible_to(pm).filter(slug__endswith="-ie").exists()


def test_every_region_contract_is_a_copy_of_a_home_contract_with_its_own_metric_id_owners_and_guardrails(
    seeded,
):
    region = MetricContract.objects.filter(capability__in=region_capabilities())
    home = MetricContract.objects.filter(capability__slug__in=HOME_SLUGS)
    assert region.count() == home.count()
    repeat = MetricContract.objects.get(metric_id="cc_agent_assist_ie.repeat_contact_7d")
    home_repeat = MetricContract.objects.get(metric_id="cc_agent_assist.repeat_contact_7d")
    assert (repeat.warning, repeat.breach, repeat.required_cuts) == (
        home_repeat.warning,
        home_repeat.breach,
        home_repeat.required_cuts,
    )
    assert repeat.capability.slug == "cc-agent-assist-ie"
    assert repeat.business_owner.username == "cc.pm.ie"
    aht = MetricContract.objects.get(metric_id="cc_agent_assist_ie.aht_seconds")
    assert list(aht.guardrails.values_list("metric_id", flat=True)) == [
        "cc_agent_assist_ie.repeat_contact_7d"
    ]


def test_every_active_region_contract_is_evaluated_and_the_planted_stories_fire(seeded):
    active = MetricContract.objects.filter(capability__in=region_capabilities(), status="active")
    assert active.count() == ACTIVE_HOME_CONTRACTS
    evaluated = set(Evaluation.objects.filter(contract__in=active).values_list("contract_id", flat=True))
    assert evaluated == set(active.values_list("pk", flat=True))
    # A year of weeks: 52 or 53 periods of the whole population per contract.
    periods = Evaluation.objects.filter(
        contract__metric_id="cc_agent_assist_ie.repeat_contact_7d", cut=""
    ).count()
    assert periods in (52, 53)
    billing = Signal.objects.get(
        contract__metric_id="cc_agent_assist_ie.repeat_contact_7d",
        cut="intent=billing",
        resolved_period__isnull=True,
    )
    assert billing.worst_level in ("breach", "stop") and billing.action is not None
    assert StopHold.objects.filter(capability__slug="kyc-onboarding-ie", lifted_at__isnull=True).exists()


def test_region_capabilities_have_actions_in_every_state_releases_reviews_and_incidents(seeded):
    actions = Action.objects.filter(capability__in=region_capabilities())
    assert {"open", "in_progress", "blocked", "awaiting_verification", "closed", "reopened"} <= set(
        actions.values_list("status", flat=True)
    )
    closed = actions.filter(status="closed").first()
    assert closed.evidence.filter(verdict="accepted").exists()
    assert actions.filter(
        source_kind="signal", source_object_id__isnull=False
    ).exists()  # raised by evaluation
    # Reopen triggers watch the region's own contracts, not the home ones.
    watched = set(
        ReopenTrigger.objects.filter(action__in=actions, kind="contract_level").values_list(
            "contract_metric_id", flat=True
        )
    )
    assert watched and all(metric.split(".")[0].endswith("_ie") for metric in watched)
    releases = Release.objects.filter(capability__in=region_capabilities())
    assert releases.count() == Release.objects.filter(capability__slug__in=HOME_SLUGS).count()
    assert releases.filter(deployed_date__isnull=False).exists()
    assert ImpactReview.objects.filter(release__in=releases).exists()
    assert (
        Incident.objects.filter(capability__in=region_capabilities()).count()
        == Incident.objects.filter(capability__slug__in=HOME_SLUGS).count()
    )
    # Loading the demo e-mails no one.
    region_people = User.objects.filter(role_assignments__capability__in=region_capabilities())
    assert Notification.objects.filter(recipient__in=region_people).exists()
    assert not Notification.objects.filter(recipient__in=region_people, sent_at__isnull=True).exists()


def test_running_it_again_writes_nothing_new(seeded):
    models = [Capability, User, RoleAssignment, MetricContract, Observation, Evaluation, Signal, StopHold]
    models += [Action, Release, ImpactReview, Incident, Notification]

    def state():
        region = Observation.objects.filter(contract__capability__in=region_capabilities())
        evaluations = Evaluation.objects.filter(contract__capability__in=region_capabilities())
        return (
            [model.objects.count() for model in models],
            region.order_by("-ingested_at").values_list("ingested_at", flat=True).first(),
            evaluations.order_by("-evaluated_at").values_list("evaluated_at", flat=True).first(),
            Action.history.model.objects.filter(capability__in=region_capabilities()).count(),
        )

    before = state()
    with override_settings(DEBUG=True):
        _seed("--scale", str(SCALE))
    assert state() == before


def test_a_bigger_scale_on_sqlite_is_refused_before_anything_is_written(seeded, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    count = Capability.objects.count()
    with override_settings(DEBUG=True), pytest.raises(CommandError, match="needs PostgreSQL"):
        _seed("--scale", "1000000")
    assert Capability.objects.count() == count
