"""The post-release impact review (playbook 21.3): the observed effect is computed from the
capability's contracts before and after the deployed date, and checked here against a hand
computation on a few rows."""

import datetime
import math

import pytest
from django.utils import timezone

from contracts.models import Observation
from contracts.periods import period_start_of
from contracts.stats import Row, compare
from contracts.tests.factories import EvaluationFactory, MetricContractFactory
from productops.errors import DomainError, TransitionNotAllowed
from releases.models import ImpactReview
from releases.services import impact_figures, impact_windows

pytestmark = pytest.mark.django_db

# A Monday about five weeks ago: two whole weeks before and two after are all in the past.
D = period_start_of(timezone.localdate() - datetime.timedelta(weeks=5), "week")


def day(offset):
    return D + datetime.timedelta(days=offset)


def observe(contract, offset, value, intent, n=100):
    Observation.objects.create(
        contract=contract,
        period_start=day(offset),
        grain="day",
        cohort={"intent": intent, "team": "north"},
        version_set={},
        value=value,
        sample_size=n,
    )


@pytest.fixture
def repeat_contact(capability):
    """Lower is better, weekly, warning at 12, cut by intent; values are plain means."""
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.repeat_contact_7d",
        status="active",
        grain="week",
        is_ratio=False,
        min_sample_size=30,
    )


@pytest.fixture
def deployed(released, capability):
    return released(on=D)


def load_story(contract):
    # before: weeks D-14 and D-7
    observe(contract, -14, 10.0, "billing")
    observe(contract, -14, 11.0, "other")
    observe(contract, -10, 9.5, "billing")
    observe(contract, -7, 10.5, "billing")
    observe(contract, -7, 10.0, "other")
    # after: weeks D and D+7
    observe(contract, 0, 14.0, "billing")
    observe(contract, 0, 10.0, "other")
    observe(contract, 3, 13.0, "billing")
    observe(contract, 7, 15.0, "billing")
    observe(contract, 7, 10.5, "other")
    # outside both windows: never counted
    observe(contract, -15, 99.0, "billing")
    observe(contract, 14, 99.0, "billing")


def test_the_windows_are_whole_periods_around_the_deployed_date():
    monday = datetime.date(2026, 6, 1)
    assert impact_windows(monday, "week", 2) == {
        "before_start": datetime.date(2026, 5, 18),
        "before_end": monday,
        "after_start": monday,
        "after_end": datetime.date(2026, 6, 15),
    }
    # Landing on a Wednesday: that week mixes both versions and belongs to neither side.
    assert impact_windows(datetime.date(2026, 6, 3), "week", 2)["after_start"] == datetime.date(2026, 6, 8)
    assert impact_windows(datetime.date(2026, 6, 3), "month", 1) == {
        "before_start": datetime.date(2026, 5, 1),
        "before_end": datetime.date(2026, 6, 1),
        "after_start": datetime.date(2026, 7, 1),
        "after_end": datetime.date(2026, 8, 1),
    }


def test_the_figures_match_a_hand_computation(deployed, repeat_contact):
    load_story(repeat_contact)
    figures = impact_figures(deployed, periods=2)
    (entry,) = figures["contracts"]
    whole = entry["whole"]
    # Equal samples: the means are plain averages of the rows.
    assert whole["before"] == pytest.approx((10.0 + 11.0 + 9.5 + 10.5 + 10.0) / 5)  # 10.2
    assert whole["after"] == pytest.approx((14.0 + 10.0 + 13.0 + 15.0 + 10.5) / 5)  # 12.5
    assert whole["difference"] == pytest.approx(2.3)
    assert (whole["before_rows"], whole["after_rows"]) == (5, 5)
    expected = compare(
        [Row(v, None, None, 100) for v in (10.0, 11.0, 9.5, 10.5, 10.0)],
        [Row(v, None, None, 100) for v in (14.0, 10.0, 13.0, 15.0, 10.5)],
        is_ratio=False,
        min_sample_size=30,
    )
    assert (whole["ci_low"], whole["ci_high"]) == pytest.approx((expected.ci_low, expected.ci_high))
    # By hand: variance of a mean = sample variance / n (equal weights), z = 1.96.
    var_before = sum((v - 10.2) ** 2 for v in (10.0, 11.0, 9.5, 10.5, 10.0)) / 4 / 5
    var_after = sum((v - 12.5) ** 2 for v in (14.0, 10.0, 13.0, 15.0, 10.5)) / 4 / 5
    half = 1.959964 * math.sqrt(var_before + var_after)
    assert whole["ci_low"] == pytest.approx(2.3 - half)
    assert whole["ci_high"] == pytest.approx(2.3 + half)

    billing = next(cut for cut in entry["cuts"] if cut["cut"] == "intent=billing")
    assert (billing["before"], billing["after"], billing["difference"]) == pytest.approx((10.0, 14.0, 4.0))


def test_a_contract_that_moved_the_wrong_way_past_its_warning_is_a_regression(deployed, repeat_contact):
    load_story(repeat_contact)
    figures = impact_figures(deployed, periods=2)
    (entry,) = figures["contracts"]
    billing = next(cut for cut in entry["cuts"] if cut["cut"] == "intent=billing")
    assert billing["moved"] == "worse" and billing["after_level"] == "warning" and billing["regression"]
    assert entry["whole"]["regression"]  # 12.5 is past the warning of 12 too
    assert figures["regressions"] == [
        "cc_agent_assist.repeat_contact_7d",
        "cc_agent_assist.repeat_contact_7d [intent=billing]",
    ]


def test_a_move_the_wrong_way_that_stays_within_warning_is_no_regression(deployed, repeat_contact):
    for offset, before, after in [(-14, 9.0, 10.0), (-10, 9.2, 10.2), (-7, 9.1, 10.1)]:
        observe(repeat_contact, offset, before, "billing")
        observe(repeat_contact, offset + 14, after, "billing")
    whole = impact_figures(deployed, periods=2)["contracts"][0]["whole"]
    assert whole["moved"] == "worse" and whole["after_level"] == "ok"
    assert not whole["regression"]


def test_thin_data_says_so_instead_of_a_number(deployed, repeat_contact):
    load_story(repeat_contact)
    entry = impact_figures(deployed, periods=2)["contracts"][0]
    other = next(cut for cut in entry["cuts"] if cut["cut"] == "intent=other")
    assert other["difference"] is None and not other["sufficient"] and not other["regression"]
    assert other["thin"] == "Too little data: 2 and 2 observations (at least 3 each)."
    assert impact_figures(deployed, periods=2)["thin"] == 1


def test_a_sample_below_the_contract_minimum_is_thin_too(deployed, repeat_contact):
    for offset in (-14, -10, -7, 0, 3, 7):
        observe(repeat_contact, offset, 10.0 + offset / 10, "billing", n=4)
    whole = impact_figures(deployed, periods=2)["contracts"][0]["whole"]
    assert whole["thin"].startswith("Too little data: samples of 12 and 12")


def test_guardrail_status_is_the_latest_level_of_each_guarding_contract(deployed, repeat_contact, capability):
    aht = MetricContractFactory(
        capability=capability, metric_id="cc_agent_assist.aht", status="active", direction="lower"
    )
    aht.guardrails.add(repeat_contact)
    EvaluationFactory(contract=repeat_contact, period_start=day(-7), level="ok")
    EvaluationFactory(contract=repeat_contact, period_start=day(7), level="breach", raw_level="breach")
    guardrails = impact_figures(deployed, periods=2)["guardrails"]
    assert guardrails == [
        {
            "metric_id": "cc_agent_assist.repeat_contact_7d",
            "name": repeat_contact.name,
            "guards": ["cc_agent_assist.aht"],
            "level": "breach",
            "level_display": "Breach",
            "period": day(7).isoformat(),
            "holding": False,
        }
    ]


def test_only_active_contracts_of_the_capability_are_compared(deployed, repeat_contact, other_capability):
    MetricContractFactory(capability=deployed.capability, metric_id="cc_agent_assist.draft_one")
    MetricContractFactory(capability=other_capability, metric_id="kyc_ai.other", status="active")
    assert [c["metric_id"] for c in impact_figures(deployed)["contracts"]] == [repeat_contact.metric_id]


# --- recording the review ---------------------------------------------------------------------


def test_recording_keeps_the_figures_logs_the_decision_and_closes_the_review(deployed, repeat_contact, pm):
    load_story(repeat_contact)
    review = deployed.record_impact_review(
        by=pm,
        expected_effect="AHT down 5% with repeat contact flat",
        decision="keep",
        comment="Accepted with a knowledge fix for billing",
        periods=2,
    )
    deployed.refresh_from_db()
    assert deployed.state == "impact_reviewed"
    stored = ImpactReview.objects.get()
    assert stored.figures["contracts"][0]["whole"]["difference"] == pytest.approx(2.3)
    assert stored.regressions == [
        "cc_agent_assist.repeat_contact_7d",
        "cc_agent_assist.repeat_contact_7d [intent=billing]",
    ]
    assert review.decision_record.type == "continue" and review.decision_record in deployed.decisions.all()
    assert review.decision_record.recorded_by == pm
    # The stored figures stay as the reviewer saw them when the data changes later.
    Observation.objects.filter(contract=repeat_contact).delete()
    stored.refresh_from_db()
    assert stored.figures["contracts"][0]["whole"]["after"] == pytest.approx(12.5)


def test_a_rollback_decision_rolls_the_release_back(deployed, repeat_contact, pm, capability):
    review = deployed.record_impact_review(
        by=pm, expected_effect="Fewer repeat calls", decision="rollback", comment="Billing past breach"
    )
    deployed.refresh_from_db()
    capability.refresh_from_db()
    assert deployed.state == "rolled_back"
    assert capability.current_version_set.get("prompt") == "v11"
    assert review.decision_record.type == "rollback"


def test_extending_a_canary_needs_a_canary_and_a_next_review_date(submitted, risk_partner, pm):
    release = submitted()
    release.approve_for_canary(by=risk_partner, comment="Canary")
    release.deploy(by=release.owner, to="canary")
    with pytest.raises(DomainError) as error:
        release.record_impact_review(
            by=pm, expected_effect="x", decision="extend_canary", comment="More data"
        )
    assert error.value.field == "next_review_date"
    later = timezone.localdate() + datetime.timedelta(days=14)
    release.record_impact_review(
        by=pm, expected_effect="x", decision="extend_canary", comment="More data", next_review_date=later
    )
    release.refresh_from_db()
    assert (release.state, release.post_release_review_date) == ("canary", later)


def test_only_a_canary_is_extended(deployed, pm):
    with pytest.raises(TransitionNotAllowed):
        deployed.record_impact_review(
            by=pm,
            expected_effect="x",
            decision="extend_canary",
            comment="x",
            next_review_date=timezone.localdate() + datetime.timedelta(days=7),
        )


def test_the_review_asks_for_itself_at_the_review_date(released):
    release = released()
    assert not release.review_due()
    assert release.review_due(release.post_release_review_date)
    assert release.review_due(release.post_release_review_date + datetime.timedelta(days=3))
