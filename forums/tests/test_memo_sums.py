"""Observations summed in the database (``forums.memos.sums``): the estimate from the sums equals
``contracts.stats.estimate`` over the same rows, a cut is the sum of its cohorts, a row counts in
every window it falls in, and the period a release landed in counts in neither part."""

import datetime
import random

import pytest

from contracts.models import Observation, cohort_key
from contracts.stats import Row, compare, compare_estimates, estimate
from contracts.tests.factories import MetricContractFactory
from forums.memos.sums import Sums, Window, cut_sums, estimate_of, total, window_sums


def sums_of(rows: list[Row]) -> Sums:
    """The sums of rows, as the database adds them up."""
    out = Sums()
    for row in rows:
        numerator = row.numerator or 0.0
        weight = float(max(row.sample_size, 1))
        out = total(
            [
                out,
                Sums(
                    1,
                    row.sample_size,
                    0 if row.denominator else 1,
                    numerator,
                    row.denominator or 0.0,
                    numerator * numerator,
                    numerator * (row.denominator or 0.0),
                    (row.denominator or 0.0) ** 2,
                    weight,
                    weight * row.value,
                    weight * row.value * row.value,
                    weight * weight,
                ),
            ]
        )
    return out


def close(a, b) -> bool:
    """Equal to rounding: the database adds the rows in another order, and the spread comes
    from sums of squares rather than from the deviations."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-15


def ratio_rows(rng, n, *, missing_denominator=False):
    rows = []
    for i in range(n):
        denominator = rng.randint(20, 200)
        numerator = rng.randint(0, denominator // 4)
        if missing_denominator and i == n // 2:
            rows.append(Row(0.1, None, None, 0))
        else:
            rows.append(Row(numerator / denominator, float(numerator), float(denominator), denominator))
    return rows


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 400])
@pytest.mark.parametrize("is_ratio", [True, False])
def test_estimate_of_the_sums_equals_the_estimate_of_the_rows(n, is_ratio):
    rng = random.Random(n * 7 + is_ratio)
    for rows in (
        ratio_rows(rng, n),
        ratio_rows(rng, n, missing_denominator=n > 2),
        [Row(rng.gauss(300, 40), None, None, rng.randint(0, 50)) for _ in range(n)],
        [Row(0.3, None, None, 10) for _ in range(n)],  # no spread at all
    ):
        expected = estimate(rows, is_ratio=is_ratio)
        found = estimate_of(sums_of(rows), is_ratio=is_ratio)
        assert (found.rows, found.sample_size) == (expected.rows, expected.sample_size)
        assert close(found.value, expected.value)
        assert close(found.variance, expected.variance)


def test_a_comparison_of_sums_decides_as_the_comparison_of_rows():
    rng = random.Random(5)
    before, after = ratio_rows(rng, 30), ratio_rows(rng, 30)
    expected = compare(before, after, is_ratio=True, min_sample_size=100)
    found = compare_estimates(
        estimate_of(sums_of(before), is_ratio=True),
        estimate_of(sums_of(after), is_ratio=True),
        min_sample_size=100,
    )
    assert (found.sufficient, found.significant) == (expected.sufficient, expected.significant)
    assert close(found.difference, expected.difference)
    assert close(found.ci_low, expected.ci_low) and close(found.ci_high, expected.ci_high)


def test_a_cut_is_the_sum_of_its_cohorts():
    north_a, north_b, south = Sums(rows=2), Sums(rows=3), Sums(rows=5)
    before = [({"team": "north", "intent": "a"}, north_a), ({"team": "south"}, south)]
    after = [({"team": "north", "intent": "b"}, north_b), ({"intent": "c"}, Sums(rows=7))]
    assert cut_sums("team", before, after) == [("north", north_a, north_b), ("south", south, Sums())]
    assert [value for value, _b, _a in cut_sums("intent", before, after)] == ["a", "b", "c"]


MONDAY = datetime.date(2026, 3, 2)


def plant(contract, day, cohort, value, sample=10):
    Observation.objects.create(
        contract=contract,
        period_start=day,
        grain="day",
        cohort=cohort,
        cohort_key=cohort_key(cohort),
        version_set={},
        version_key="",
        value=value,
        sample_size=sample,
    )


@pytest.mark.django_db
def test_window_sums_count_a_row_in_every_window_and_leave_the_landing_period_out():
    contract = MetricContractFactory(grain="day")
    other = MetricContractFactory(grain="day", capability=contract.capability)
    north, south = {"team": "north"}, {"team": "south"}
    for offset in range(10):
        plant(
            contract, MONDAY + datetime.timedelta(days=offset), north if offset % 2 else south, float(offset)
        )
    plant(other, MONDAY, north, 100.0)
    day = lambda n: MONDAY + datetime.timedelta(days=n)  # noqa: E731
    first = Window.split(["day"], day(0), day(6), day(3))  # days 0-2 before, 3-5 after
    overlapping = Window.whole(["day"], day(2), day(8))  # days 2-7, overlaps the first
    release = Window(("day",), day(4), day(10), day(6), day(7))  # 4-5 before, 6 left out, 7-9 after

    found = window_sums({first: {contract.pk}, overlapping: {contract.pk}, release: {contract.pk}})

    parts = found[(first, contract.pk)]
    assert total(s for _c, s in parts.before).rows == 3
    assert total(s for _c, s in parts.after).rows == 3
    assert total(s for _c, s in found[(overlapping, contract.pk)].before).rows == 6
    assert not found[(overlapping, contract.pk)].after
    parts = found[(release, contract.pk)]
    before, after = total(s for _c, s in parts.before), total(s for _c, s in parts.after)
    assert (before.rows, before.weighted_value / before.weight) == (2, 4.5)
    assert (after.rows, after.weighted_value / after.weight) == (3, 8.0)
    # Summed by cohort: the cohorts come back decoded, and the other contract is not read.
    assert {cohort["team"] for cohort, _s in parts.before + parts.after} == {"north", "south"}
    assert (first, other.pk) not in found
