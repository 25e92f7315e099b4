"""Reading evaluations: at each contract's own grain, whatever rows an earlier grain left."""

import datetime

import pytest

from contracts.models import Evaluation
from contracts.tests.factories import EvaluationFactory, MetricContractFactory

pytestmark = pytest.mark.django_db


def test_at_own_grain_keeps_each_contracts_own_grain_only():
    weekly = MetricContractFactory(metric_id="cc.weekly", grain="week")
    monthly = MetricContractFactory(metric_id="cc.monthly", grain="month")
    monday = datetime.date(2026, 3, 2)
    kept = [
        EvaluationFactory(contract=weekly, grain="week", period_start=monday),
        EvaluationFactory(contract=monthly, grain="month", period_start=datetime.date(2026, 3, 1)),
    ]
    # Left by the weekly contract's earlier daily grain, and a month row it never had.
    EvaluationFactory(contract=weekly, grain="day", period_start=monday)
    EvaluationFactory(contract=weekly, grain="month", period_start=datetime.date(2026, 3, 1))

    rows = Evaluation.objects.at_own_grain([weekly, monthly])
    assert sorted(rows.values_list("pk", flat=True)) == sorted(row.pk for row in kept)
    assert not Evaluation.objects.at_own_grain([]).exists()
