"""Observations summed in the database instead of read row by row: for each window of periods,
each contract and each cohort, the row count and the sums ``contracts.stats.estimate`` needs
(``Sums``). A window's rows are summed once per cohort, and a cut of the cohorts (``team=north``)
is the sum of its cohorts' sums, so the memo and the boards read a few thousand sums where they
read hundreds of thousands of rows; ``estimate_of`` gives the estimate ``contracts.stats.estimate``
gives over the same rows (to rounding).

Portable: the ORM's aggregates in one statement, PostgreSQL and SQLite alike."""

import datetime
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connections
from django.db.models import Case, Count, F, FloatField, Q, Sum, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Greatest

from contracts.stats import GroupEstimate


class Sums(NamedTuple):
    """What ``contracts.stats.estimate`` reads of a group of observation rows, summed."""

    rows: int = 0
    sample_size: int = 0
    without_denominator: int = 0  # rows whose denominator is missing or zero
    numerator: float = 0.0  # a missing numerator counts as 0
    denominator: float = 0.0
    numerator_squared: float = 0.0
    numerator_denominator: float = 0.0
    denominator_squared: float = 0.0
    weight: float = 0.0  # the weight of a row is its sample size, at least 1
    weighted_value: float = 0.0
    weighted_value_squared: float = 0.0
    weight_squared: float = 0.0


def total(parts) -> Sums:
    """The sums of the groups given, together."""
    parts = list(parts)
    if not parts:
        return Sums()
    return Sums._make(map(sum, zip(*parts, strict=True)))


def estimate_of(sums: Sums, *, is_ratio: bool) -> GroupEstimate:
    """``contracts.stats.estimate`` of the rows summed: a ratio contract's sum(numerator) /
    sum(denominator) with its delta-method variance when every row has a denominator, else the
    sample-weighted mean with the Kish-corrected variance of the row values."""
    n = sums.rows
    if n == 0:
        return GroupEstimate(None, None, 0, 0)
    if is_ratio and sums.without_denominator == 0:
        ratio = sums.numerator / sums.denominator
        if n < 2:
            return GroupEstimate(ratio, None, n, sums.sample_size)
        mean_den = sums.denominator / n
        # sum((numerator - ratio * denominator)^2), expanded.
        residuals = (
            sums.numerator_squared
            - 2 * ratio * sums.numerator_denominator
            + ratio * ratio * sums.denominator_squared
        )
        residual_variance = max(residuals, 0.0) / (n - 1)
        return GroupEstimate(ratio, residual_variance / (n * mean_den * mean_den), n, sums.sample_size)
    mean = sums.weighted_value / sums.weight
    if n < 2:
        return GroupEstimate(mean, None, n, sums.sample_size)
    # sum(weight * (value - mean)^2) / sum(weight), expanded.
    spread = max(sums.weighted_value_squared - mean * sums.weighted_value, 0.0) / sums.weight
    effective_n = sums.weight**2 / sums.weight_squared
    return GroupEstimate(mean, spread * n / (n - 1) / effective_n, n, sums.sample_size)


@dataclass(frozen=True)
class Window:
    """Periods ``start`` to ``end`` (exclusive) of observations at the given grains, in two parts:
    before ``before_end`` and from ``after_start`` on; the periods between belong to neither (the
    period a release landed in). A window in one part has both at ``end``."""

    grains: tuple[str, ...]
    start: datetime.date
    end: datetime.date
    before_end: datetime.date
    after_start: datetime.date

    @classmethod
    def whole(cls, grains, start, end) -> "Window":
        return cls(tuple(sorted(grains)), start, end, end, end)

    @classmethod
    def split(cls, grains, start, end, at) -> "Window":
        return cls(tuple(sorted(grains)), start, end, at, at)


@dataclass
class Parts:
    """One contract's observations in one window, by cohort: [(cohort, Sums)] before and after."""

    before: list[tuple[dict, Sums]]
    after: list[tuple[dict, Sums]]


def _aggregates() -> dict:
    numerator = Coalesce(F("numerator"), Value(0.0))
    denominator = F("denominator")
    weight = Cast(Greatest(F("sample_size"), Value(1)), FloatField())
    # Named apart from the model's fields ("numerator" would else name the sum, not the column).
    aggregates = {
        "rows": Count("id"),
        "sample_size": Sum("sample_size"),
        "without_denominator": Count("id", filter=Q(denominator__isnull=True) | Q(denominator=0)),
        "numerator": Sum(numerator, output_field=FloatField()),
        "denominator": Sum(denominator, output_field=FloatField(), default=0.0),
        "numerator_squared": Sum(numerator * numerator, output_field=FloatField()),
        "numerator_denominator": Sum(numerator * denominator, output_field=FloatField(), default=0.0),
        "denominator_squared": Sum(denominator * denominator, output_field=FloatField(), default=0.0),
        "weight": Sum(weight, output_field=FloatField()),
        "weighted_value": Sum(weight * F("value"), output_field=FloatField()),
        "weighted_value_squared": Sum(weight * F("value") * F("value"), output_field=FloatField()),
        "weight_squared": Sum(weight * weight, output_field=FloatField()),
    }
    assert list(aggregates) == list(Sums._fields)
    return {f"sum_{name}": aggregate for name, aggregate in aggregates.items()}


def _rows_in(window: Window, contract_ids) -> Q:
    """The observation rows of the contracts given in the window, the periods between its two
    parts left out."""
    rows = Q(contract_id__in=sorted(contract_ids), grain__in=window.grains)
    if window.before_end < window.after_start:
        return rows & (
            Q(period_start__gte=window.start, period_start__lt=window.before_end)
            | Q(period_start__gte=window.after_start, period_start__lt=window.end)
        )
    return rows & Q(period_start__gte=window.start, period_start__lt=window.end)


def _plain_rows(queryset, columns: list[str]) -> list[tuple]:
    """The rows of a values_list queryset as the database driver returns them, columns in the
    order given: counts and sums are plain numbers, the cohort plain text, so the ORM's
    per-value converters (thirteen a row) are not needed."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    if names == columns:
        return rows
    order = [names.index(name) for name in columns]
    return [tuple(row[i] for i in order) for row in rows]


def window_sums(windows: dict[Window, set[int]]) -> dict[tuple[Window, int], Parts]:
    """{(window, contract id): its observations in the window, by cohort and part} for the
    contracts given in each window. One statement whatever the number of windows: the rows of
    every window are summed by contract, cohort and stretch of periods between two window
    boundaries (``stretch``), and a stretch counts in every window it lies in (a young contract's
    baseline may run into last month; two releases' windows may overlap). Each distinct cohort
    is decoded once."""
    from contracts.models import Observation

    listed = [(window, ids) for window, ids in windows.items() if ids]
    found: dict[tuple[Window, int], Parts] = defaultdict(lambda: Parts([], []))
    if not listed:
        return found
    # The stretch of a period: the number of boundaries on or before it (0: before every window).
    boundaries = sorted(
        {
            day
            for window, _ids in listed
            for day in (window.start, window.end, window.before_end, window.after_start)
        }
    )
    stretch = Case(
        *[When(period_start__gte=day, then=Value(n)) for n, day in reversed(list(enumerate(boundaries, 1)))],
        default=Value(0),
    )
    wanted = Q(pk__in=[])
    # {contract id: [(start, before_end, after_start, end, its parts)]}: no window hashed per row.
    slots_of: dict[int, list[tuple]] = defaultdict(list)
    for window, ids in listed:
        wanted |= _rows_in(window, ids)
        for pk in ids:
            parts = found[(window, pk)]
            slots_of[pk].append((window.start, window.before_end, window.after_start, window.end, parts))
    cohorts: dict[str, dict] = {}
    columns = ["contract_id", "stretch", "cohort_text", *[f"sum_{name}" for name in Sums._fields]]
    summed = (
        Observation.objects.filter(wanted)
        .annotate(stretch=stretch, cohort_text=Cast("cohort", TextField()))
        .values("contract_id", "stretch", "cohort_text")
        .annotate(**_aggregates())
        .values_list(*columns)
    )
    for row in _plain_rows(summed, columns):
        contract_id, at, text = row[0], row[1], row[2] or "{}"
        if not at:
            continue
        cohort = cohorts.get(text)
        if cohort is None:
            cohort = cohorts[text] = json.loads(text) or {}
        entry = (cohort, Sums._make(row[3:]))
        day = boundaries[at - 1]  # the stretch runs from this boundary to the next
        for start, before_end, after_start, end, parts in slots_of[contract_id]:
            if start <= day < before_end:
                parts.before.append(entry)
            elif after_start <= day < end:
                parts.after.append(entry)
    return found


def _by_value(group, dimension: str) -> dict[str, list[Sums]]:
    buckets: dict[str, list[Sums]] = defaultdict(list)
    for cohort, sums in group:
        buckets[str(cohort.get(dimension))].append(sums)
    return buckets


def cut_sums(dimension: str, before, after) -> list[tuple[str, Sums, Sums]]:
    """[(value, sums before, sums after)] for each value of a cut (``dimension``) found in the
    cohorts of either group, sorted as text; a cohort without the dimension counts as "None"."""
    values = sorted(
        {str(cohort[dimension]) for group in (before, after) for cohort, _s in group if dimension in cohort}
    )
    first, second = _by_value(before, dimension), _by_value(after, dimension)
    return [(value, total(first.get(value, ())), total(second.get(value, ()))) for value in values]
