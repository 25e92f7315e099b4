"""``seed_demo``: the demo organisation as `make demo` loads it, its forum story (issue 7: two
past weekly ops reviews with packs, minutes, decisions and actions; the last monthly value review
with its memos; the last quarterly review; the next sessions), a second run that changes nothing,
and the guard against known passwords in production.

The whole demo is loaded once for the module (about a minute: it renders four review packs) and
rolled back at the end."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from portfolio.models import Capability
from productops.models import RoleAssignment, User

pytestmark = pytest.mark.django_db


def _seed(*args):
    call_command("seed_demo", *args, stdout=open("/dev/null", "w"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # The tests check passwords with the fast hasher conftest sets per test: hash with it too.
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


def test_it_loads_the_six_capabilities_with_a_login_per_role(seeded):
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


def _held(forum_name):
    from forums.models import Session

    return list(
        Session.objects.filter(forum__name=forum_name, state="minutes_published")
        .select_related("pack")
        .order_by("scheduled_at")
    )


def test_two_past_weekly_reviews_have_their_pack_minutes_decisions_and_actions(seeded):
    from actions.models import Action
    from decisions.models import Decision

    first, second = _held("Weekly ops review — Contact-centre agent assist")
    for session in (first, second):
        assert session.scheduled_at < timezone.now()
        pack = session.pack
        assert pack.sent_at < session.scheduled_at and pack.page_count >= 4
        assert pack.snapshot["sections"][0]["decision"] == session.decision_requested
        assert pack.charts and pack.deliveries.filter(sent_at__isnull=False).count() >= 5
        # Built as of the day before: no figure from a period that had not begun then.
        built = timezone.localdate(pack.built_at)
        periods = [
            row["current_period"]
            for section in pack.snapshot["sections"]
            for row in section.get("rows", [])
            if isinstance(row, dict) and row.get("current_period")
        ]
        assert periods and max(periods) <= built.isoformat()
        assert session.minutes["decisions"] and session.minutes["attendance"]
        decision = Decision.objects.get(readable_id=session.minutes["decisions"][0]["id"])
        assert decision.decided_on == timezone.localdate(session.scheduled_at)
    sample = Action.objects.get(action__startswith="Sample 50 edited billing suggestions")
    assert sample.forum_object_id == first.pk and sample.status == "closed"
    assert sample.evidence.get().verdict == "accepted"
    assert [a["event"] for a in second.minutes["actions"]] == ["action_closed", "action_created"]
    assert first.minutes["notes"]


def test_the_monthly_review_decided_on_a_sent_memo_per_capability(seeded):
    from assumptions.models import AssumptionReview
    from forums.models import ValueMemo

    (session,) = _held("Monthly value review")
    memos = ValueMemo.objects.filter(session=session)
    assert memos.count() == 6
    assert all(memo.is_sent and memo.decision_id for memo in memos)
    # The matrix recommends from the data: the agent assist's release regression, KYC's stop level.
    by_slug = {memo.capability.slug: memo.recommendation for memo in memos.select_related("capability")}
    assert by_slug["cc-agent-assist"] == "rollback_or_hotfix"
    assert by_slug["kyc-onboarding"] == "restrict_and_investigate"
    assert len(session.minutes["decisions"]) == 6
    # Rule 6.2: the monthly review updated the assumption ledger, with statuses read from contracts.
    assert AssumptionReview.objects.filter(reviewed_at__date__gte=session.meeting_day).exists()
    assert session.pack.snapshot["sections"][-1]["key"] == "recommendation"


def test_the_quarterly_review_decided_every_capability_including_pause(seeded):
    from forums.models import PortfolioReview

    (session,) = _held("Quarterly portfolio review")
    review = PortfolioReview.objects.get(session=session)
    assert review.state == "decided"
    decisions = dict(review.rows.values_list("capability__slug", "decision"))
    assert len(decisions) == 6 and "pause" in decisions.values() and "restrict" in decisions.values()
    assert len(session.minutes["decisions"]) == 6


def test_the_next_sessions_are_scheduled_and_the_next_weekly_has_its_pack_to_read(seeded):
    from forums.models import Forum, Session

    for forum in Forum.objects.exclude(frequency="ad_hoc"):
        assert forum.sessions.filter(scheduled_at__gt=timezone.now(), state="scheduled").exists(), forum
    upcoming = (
        Session.objects.filter(
            forum__name="Weekly ops review — Contact-centre agent assist", scheduled_at__gt=timezone.now()
        )
        .order_by("scheduled_at")
        .first()
    )
    assert upcoming.decision_requested and upcoming.pack.sent_at is None


def test_demo_assumptions_name_contracts_that_exist(seeded):
    from assumptions.models import Assumption
    from contracts.models import MetricContract

    named = {metric for row in Assumption.objects.all() for metric in row.tested_by_contracts}
    assert named and named <= set(MetricContract.objects.values_list("metric_id", flat=True))


def test_running_it_twice_changes_nothing(seeded):
    from actions.models import Action
    from decisions.models import Decision
    from forums.models import Forum, ReviewPack, Session, SessionOutcome, ValueMemo

    models = [User, Capability, RoleAssignment, Forum, Session, ReviewPack, SessionOutcome, ValueMemo]
    models += [Decision, Action]

    def counts():
        return [model.objects.count() for model in models]

    before = counts()
    with override_settings(DEBUG=True):
        _seed()
    assert counts() == before
