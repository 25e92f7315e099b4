"""The demo release calendar: 3-6 releases per capability across object types and states, and
the planted stories (the billing prompt release, a rolled-back model, a tool change waiting for
its second approver, a release held by the KYC stop rule, a recorded and a due impact review).

Seeded once for the module inside a transaction rolled back at the end (the contracts demo's
telemetry comes first: the prompt release must line up with it)."""

import datetime
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from contracts import demo as contracts_demo
from contracts.markers import markers_for
from contracts.models import MetricContract
from contracts.services import capability_held
from portfolio import demo as portfolio_demo
from productops.demo_people import DemoContext
from releases import demo as releases_demo
from releases.models import ImpactReview, Release, ReleaseHeld

# The marker makes pytest-django create the test database even when this module runs alone
# (without it the module fixture would write to the configured database).
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            context = DemoContext(seed=20260701, password="demo")
            portfolio_demo.seed(context)
            contracts_demo.seed(context)
            releases_demo.seed(context)
            yield context
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _db(demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield


def release(change_start):
    return Release.objects.get(change__startswith=change_start)


def test_every_capability_has_three_to_six_releases_across_object_types_and_states(demo):
    per_capability = Counter(Release.objects.values_list("capability__slug", flat=True))
    assert set(per_capability) == set(demo.capabilities)
    assert all(3 <= count <= 6 for count in per_capability.values()), per_capability
    assert set(Release.objects.values_list("object_type", flat=True)) == {
        "model",
        "prompt",
        "data",
        "knowledge",
        "tool",
        "policy",
        "workflow",
        "dashboard",
    }
    assert {
        "draft",
        "submitted",
        "approved",
        "approved_for_canary",
        "on_hold",
        "changes_requested",
        "rejected",
        "canary",
        "released",
        "rolled_back",
        "impact_reviewed",
    } <= set(Release.objects.values_list("state", flat=True))


def test_the_billing_prompt_release_lines_up_with_the_telemetry(demo):
    prompt = release("Shorter, policy-cited billing suggestions")
    today = timezone.localdate()
    assert prompt.deployed_date == contracts_demo.release_day(today)
    assert (prompt.version_from, prompt.version_to, prompt.state) == ("v11", "v12", "released")
    assert prompt.capability.current_version_set["prompt"] == "v12"
    assert prompt.review_due()  # its impact review is due
    contract = MetricContract.objects.get(metric_id="cc_agent_assist.repeat_contact_7d")
    assert (prompt.deployed_date, prompt.readable_id) in markers_for(contract)
    assert prompt.decisions.get().type == "release_approval"


def test_the_rolled_back_model_change_restored_the_version_and_logged_it(demo):
    model = release("Alert triage model m-2026-07")
    assert model.state == "rolled_back"
    assert model.capability.current_version_set["model"] == "m-2026-05"
    assert sorted(model.decisions.values_list("type", flat=True)) == ["release_approval", "rollback"]


def test_a_tool_change_waits_for_its_second_approver(demo):
    tool = release("CRM fee-waiver write action")
    assert tool.state == "submitted" and len(tool.current_approvals()) == 1
    assert tool.approval_progress()["given"] == 1 and tool.approvers_required == 2


def test_the_kyc_stop_rule_holds_its_release(demo):
    parser = release("Document parser upgrade")
    assert capability_held(parser.capability) and parser.state == "on_hold"
    with pytest.raises(ReleaseHeld):
        parser.approve(by=demo.logins["risk"], comment="Trying anyway")
    assert not Release.objects.filter(capability__slug="kyc-onboarding", deployed_date__isnull=False).exists()


def test_impact_reviews_are_recorded_and_due(demo):
    reviewed = release("Taxonomy labels v3")
    review = ImpactReview.objects.get(release=reviewed)
    assert reviewed.state == "impact_reviewed" and review.decision == "keep"
    assert review.figures["contracts"] and review.decision_record is not None
    assert Release.objects.review_due().filter(pk=release("Shorter, policy-cited").pk).exists()


def test_the_demo_risk_login_has_releases_to_approve(demo):
    pending = Release.objects.awaiting_verdict_of(demo.logins["risk"])
    assert pending.filter(object_type="tool", state="submitted").exists()
    assert pending.count() >= 4


def test_a_second_run_changes_nothing(demo):
    before = (Release.objects.count(), Release.history.count(), ImpactReview.objects.count())
    releases_demo.seed(demo)
    assert (Release.objects.count(), Release.history.count(), ImpactReview.objects.count()) == before


def test_no_demo_date_lies_in_the_future_where_it_cannot(demo):
    today = timezone.localdate()
    assert not Release.objects.filter(deployed_date__gt=today).exists()
    assert not Release.objects.filter(rolled_back_date__gt=today).exists()
    assert all(r.planned_date <= r.post_release_review_date for r in Release.objects.all())
    assert today - datetime.timedelta(days=365) < min(Release.objects.values_list("planned_date", flat=True))
