"""Comparing a contract's observations between two groups (before/after a release, control/
treatment of an experiment): the difference with a 95% confidence interval.

The unit of analysis is one observation row (a day of one cohort and version set). A ratio
contract's value is sum(numerator) / sum(denominator); its variance comes from the delta method
over rows (a ratio estimator), which holds for proportions (repeat contact) and rates (cost per
case) alike. Other contracts use the sample-weighted mean of row values with the variance of
the row values. Both are normal approximations: a comparison with too few rows or too small a
sample says so instead of printing a number.
"""

import math
from dataclasses import dataclass

Z_95 = 1.959964
MIN_ROWS = 3


@dataclass(frozen=True)
class Row:
    value: float
    numerator: float | None
    denominator: float | None
    sample_size: int


@dataclass(frozen=True)
class GroupEstimate:
    value: float | None
    variance: float | None
    rows: int
    sample_size: int


@dataclass(frozen=True)
class Comparison:
    """``after - before`` (or treatment - control) with its 95% interval."""

    before: GroupEstimate
    after: GroupEstimate
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    sufficient: bool
    reason: str = ""

    @property
    def relative_change(self) -> float | None:
        if self.difference is None or not self.before.value:
            return None
        return self.difference / abs(self.before.value)

    @property
    def significant(self) -> bool:
        """The interval excludes zero."""
        return self.sufficient and (self.ci_low > 0 or self.ci_high < 0)


def estimate(rows: list[Row], *, is_ratio: bool) -> GroupEstimate:
    n = len(rows)
    sample = sum(row.sample_size for row in rows)
    if n == 0:
        return GroupEstimate(None, None, 0, 0)
    if is_ratio and all(row.denominator for row in rows):
        total_num = sum(row.numerator or 0.0 for row in rows)
        total_den = sum(row.denominator for row in rows)
        ratio = total_num / total_den
        if n < 2:
            return GroupEstimate(ratio, None, n, sample)
        mean_den = total_den / n
        residuals = [(row.numerator or 0.0) - ratio * row.denominator for row in rows]
        residual_variance = sum(r * r for r in residuals) / (n - 1)
        return GroupEstimate(ratio, residual_variance / (n * mean_den * mean_den), n, sample)
    weights = [max(row.sample_size, 1) for row in rows]
    total_weight = sum(weights)
    mean = sum(w * row.value for w, row in zip(weights, rows, strict=True)) / total_weight
    if n < 2:
        return GroupEstimate(mean, None, n, sample)
    spread = sum(w * (row.value - mean) ** 2 for w, row in zip(weights, rows, strict=True)) / total_weight
    # Effective number of rows under unequal weights (Kish), so a few heavy rows do not look like many.
    effective_n = total_weight**2 / sum(w * w for w in weights)
    return GroupEstimate(mean, spread * n / (n - 1) / effective_n, n, sample)


def compare(before: list[Row], after: list[Row], *, is_ratio: bool, min_sample_size: int = 0) -> Comparison:
    """The difference after - before with a 95% interval, or the reason there is not enough data."""
    return compare_estimates(
        estimate(before, is_ratio=is_ratio),
        estimate(after, is_ratio=is_ratio),
        min_sample_size=min_sample_size,
    )


def compare_estimates(first: GroupEstimate, second: GroupEstimate, *, min_sample_size: int = 0) -> Comparison:
    """``compare`` of two groups already estimated (from their rows, or from their sums)."""
    reason = ""
    if first.rows < MIN_ROWS or second.rows < MIN_ROWS:
        reason = f"too few observations ({first.rows} and {second.rows}; at least {MIN_ROWS} each)"
    elif first.sample_size < min_sample_size or second.sample_size < min_sample_size:
        reason = f"sample below the contract's minimum of {min_sample_size} ({first.sample_size} and {second.sample_size})"
    if reason or first.variance is None or second.variance is None:
        return Comparison(first, second, None, None, None, False, reason or "no variance to estimate")
    difference = second.value - first.value
    half_width = Z_95 * math.sqrt(first.variance + second.variance)
    return Comparison(first, second, difference, difference - half_width, difference + half_width, True)
