"""Evaluating a contract: per-period, per-cut values from its observations, sample gating,
noise gating, and incremental re-evaluation that writes only what changed."""

import datetime

import pytest

from contracts.evaluation import aggregate_periods, evaluate_contract
from contracts.models import Evaluation
from contracts.tests.evaluation_helpers import W1, W2, W3, W4, make_contract, observe, weekly

pytestmark = pytest.mark.django_db

BILLING_NORTH = {"intent": "billing", "team": "north"}
BILLING_SOUTH = {"intent": "billing", "team": "south"}
CARDS_NORTH = {"intent": "cards", "team": "north"}


def levels(contract, cut=""):
    return list(
        Evaluation.objects.filter(contract=contract, cut=cut)
        .order_by("period_start")
        .values_list("period_start", "raw_level", "level")
    )


def snapshot(contract):
    return list(
        Evaluation.objects.filter(contract=contract)
        .order_by("cut", "period_start")
        .values_list("cut", "period_start", "value", "sample_size", "raw_level", "level", "evaluated_at")
    )


def test_a_ratio_is_summed_numerators_over_summed_denominators_per_week_and_per_cut(capability):
    contract = make_contract(capability, required_cuts=["intent", "team"])
    # Week of 1 June (Monday to Sunday), across two version sets and three cohorts.
    observe(contract, W1, numerator=10, denominator=100, value=0.10, n=100, cohort=BILLING_NORTH)
    observe(
        contract,
        W1 + datetime.timedelta(days=1),
        numerator=30,
        denominator=100,
        value=0.30,
        n=100,
        cohort=BILLING_SOUTH,
        version={"prompt": "v13"},
    )
    observe(
        contract,
        W1 + datetime.timedelta(days=2),
        numerator=5,
        denominator=50,
        value=0.1,
        n=50,
        cohort=CARDS_NORTH,
    )
    observe(
        contract,
        W1 + datetime.timedelta(days=6),
        numerator=1,
        denominator=50,
        value=0.02,
        n=50,
        cohort=CARDS_NORTH,
    )
    # Monday 8 June starts the next week.
    observe(contract, W2, numerator=7, denominator=70, value=0.1, n=70, cohort=BILLING_SOUTH)

    run = evaluate_contract(contract.pk)

    assert run.periods == [W1, W2]
    rows = {
        (row.cut, row.period_start): (round(row.value, 9), row.sample_size)
        for row in Evaluation.objects.filter(contract=contract)
    }
    assert rows == {
        ("", W1): (round(46 / 300, 9), 300),
        ("intent=billing", W1): (0.2, 200),
        ("intent=cards", W1): (0.06, 100),
        ("team=north", W1): (round(16 / 200, 9), 200),
        ("team=south", W1): (0.3, 100),
        ("", W2): (0.1, 70),
        ("intent=billing", W2): (0.1, 70),
        ("team=south", W2): (0.1, 70),
    }
    whole = Evaluation.objects.get(contract=contract, cut="", period_start=W1)
    assert (whole.grain, whole.raw_level, whole.level) == ("week", "warning", "warning")
    assert whole.threshold_crossed == 0.12
    assert Evaluation.objects.get(contract=contract, cut="team=south", period_start=W1).level == "breach"


def test_a_non_ratio_value_is_the_sample_weighted_mean(capability):
    contract = make_contract(
        capability,
        metric_id="cc_agent_assist.handle_time",
        is_ratio=False,
        unit="seconds",
        target=300,
        warning=360,
        breach=420,
    )
    observe(contract, W1, value=300, n=100, cohort=BILLING_NORTH)
    observe(contract, W1 + datetime.timedelta(days=3), value=400, n=300, cohort=CARDS_NORTH)

    evaluate_contract(contract.pk)

    rows = {
        row.cut: (row.value, row.sample_size, row.level)
        for row in Evaluation.objects.filter(contract=contract)
    }
    assert rows == {
        "": ((300 * 100 + 400 * 300) / 400, 400, "warning"),  # 375
        "intent=billing": (300.0, 100, "ok"),
        "intent=cards": (400.0, 300, "warning"),
    }


def test_month_and_day_grains_bucket_by_calendar_month_and_by_day(capability):
    monthly = make_contract(capability, metric_id="cc_agent_assist.monthly_rate", grain="month")
    daily = make_contract(capability, metric_id="cc_agent_assist.daily_rate", grain="day")
    for contract in (monthly, daily):
        observe(contract, datetime.date(2026, 5, 31), rate=0.10, n=100)
        observe(contract, datetime.date(2026, 6, 1), rate=0.20, n=100)
        observe(contract, datetime.date(2026, 6, 30), rate=0.30, n=100)
        evaluate_contract(contract.pk)

    assert [
        (p, round(v, 9))
        for p, v in Evaluation.objects.filter(contract=monthly, cut="")
        .values_list("period_start", "value")
        .order_by("period_start")
    ] == [
        (datetime.date(2026, 5, 1), 0.1),
        (datetime.date(2026, 6, 1), 0.25),
    ]
    assert Evaluation.objects.filter(contract=daily, cut="").count() == 3


def test_a_period_under_the_minimum_sample_is_insufficient_never_ok(capability):
    contract = make_contract(capability, min_sample_size=50)
    weekly(contract, [0.05, 0.30, 0.05], n=49)
    weekly(contract, [None, None, None, 0.05], n=50)

    evaluate_contract(contract.pk)

    assert levels(contract) == [
        (W1, "insufficient", "insufficient"),
        (W2, "insufficient", "insufficient"),  # 0.30 would be a breach: still not shown as one
        (W3, "insufficient", "insufficient"),
        (W4, "ok", "ok"),
    ]


def test_a_level_counts_only_after_consecutive_periods_past_it(capability):
    contract = make_contract(capability, consecutive_periods=2)
    weekly(contract, [0.13, 0.05, 0.13, 0.17, 0.17, 0.30])

    evaluate_contract(contract.pk)

    assert [level for _period, _raw, level in levels(contract)] == [
        "ok",  # one warning week: noise
        "ok",
        "ok",
        "warning",  # warning then breach: warning has held two weeks
        "breach",
        "breach",  # breach then 0.30 (still breach: no stop level)
    ]
    assert [raw for _period, raw, _level in levels(contract)][:4] == ["warning", "ok", "warning", "breach"]


def test_reevaluating_since_a_new_day_touches_only_that_days_period(capability):
    contract = make_contract(capability, consecutive_periods=2)
    weekly(contract, [0.13, 0.13, 0.05])
    evaluate_contract(contract.pk)
    before = {(cut, period): stamp for cut, period, *_rest, stamp in snapshot(contract)}

    new_day = W3 + datetime.timedelta(days=2)
    observe(contract, new_day, rate=0.35, n=100)
    run = evaluate_contract(contract.pk, since=new_day.isoformat())

    assert run.periods == [W3]
    assert run.written == 2  # the whole population and intent=billing of week 3
    after = {(cut, period): stamp for cut, period, *_rest, stamp in snapshot(contract)}
    assert {key for key in after if after[key] != before[key]} == {("", W3), ("intent=billing", W3)}
    week3 = Evaluation.objects.get(contract=contract, cut="", period_start=W3)
    assert (round(week3.value, 9), week3.sample_size) == (0.2, 200)
    # Gating read week 2's stored level (warning) without recomputing it: breach after warning.
    assert (week3.raw_level, week3.level) == ("breach", "warning")


def test_an_aggregate_since_a_day_reads_only_its_period_and_later(capability):
    contract = make_contract(capability)
    weekly(contract, [0.13, 0.13, 0.05])
    assert {
        value.period_start for value in aggregate_periods([contract], since=W2 + datetime.timedelta(days=4))
    } == {
        W2,
        W3,
    }


def test_running_twice_writes_nothing_and_leaves_identical_rows(capability):
    contract = make_contract(capability, required_cuts=["intent", "team"])
    weekly(contract, [0.13, 0.18, 0.05], cohort=BILLING_NORTH)
    weekly(contract, [0.08, 0.09, 0.10], cohort=CARDS_NORTH)
    first = evaluate_contract(contract.pk)
    rows = snapshot(contract)

    second = evaluate_contract(contract.pk)

    assert first.written == len(rows) == 12
    assert second.written == 0
    assert snapshot(contract) == rows


def test_a_contract_that_is_not_active_is_not_evaluated(capability):
    contract = make_contract(capability, status="draft")
    weekly(contract, [0.30])
    assert evaluate_contract(contract.pk).skipped == "inactive"
    assert not Evaluation.objects.exists()
