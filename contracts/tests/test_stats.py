"""The comparison statistics, checked against hand computations."""

import math

import pytest

from contracts.stats import Row, compare, estimate


def ratio_rows(pairs):
    return [Row(value=n / d, numerator=n, denominator=d, sample_size=int(d)) for n, d in pairs]


def test_a_ratio_is_pooled_numerator_over_denominator_with_the_delta_method_variance():
    rows = ratio_rows([(10, 100), (30, 200), (20, 100)])
    result = estimate(rows, is_ratio=True)
    assert result.value == pytest.approx(60 / 400)
    # residuals n_i - R d_i = 10-15, 30-30, 20-15 -> -5, 0, 5; s^2 = 50/2 = 25; var = 25 / (3 * (400/3)^2)
    assert result.variance == pytest.approx(25 / (3 * (400 / 3) ** 2))


def test_equal_weights_give_the_sample_mean_and_its_standard_error():
    rows = [Row(value=v, numerator=None, denominator=None, sample_size=10) for v in (1.0, 2.0, 3.0, 4.0)]
    result = estimate(rows, is_ratio=False)
    assert result.value == pytest.approx(2.5)
    assert result.variance == pytest.approx((5 / 3) / 4)  # s^2 / n with s^2 = 1.6667


def test_the_interval_is_the_difference_plus_or_minus_1_96_standard_errors():
    before = [Row(value=v, numerator=None, denominator=None, sample_size=10) for v in (1.0, 2.0, 3.0, 4.0)]
    after = [Row(value=v + 2, numerator=None, denominator=None, sample_size=10) for v in (1.0, 2.0, 3.0, 4.0)]
    result = compare(before, after, is_ratio=False)
    se = math.sqrt(2 * (5 / 3) / 4)
    assert result.difference == pytest.approx(2.0)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(2 - 1.959964 * se),
        pytest.approx(2 + 1.959964 * se),
    )
    assert result.significant


def test_thin_data_gives_a_reason_instead_of_a_number():
    rows = ratio_rows([(10, 100), (12, 100)])
    result = compare(rows, rows, is_ratio=True)
    assert not result.sufficient and result.difference is None
    assert "too few observations" in result.reason
    small = ratio_rows([(1, 5), (1, 5), (1, 5)])
    assert "sample below" in compare(small, small, is_ratio=True, min_sample_size=100).reason
