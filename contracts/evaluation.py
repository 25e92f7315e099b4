"""Evaluating metric contracts: observations -> one value per period and cohort cut -> the level
it stands at, after noise gating (playbook 10.1 "noise gating", 18.4 runtime signals).

The aggregation runs in the database: one SQL statement per contract (or per batch of contracts
of one grain) sums the period's observations for the whole population and for each value of
each required cut. Python then walks the aggregated periods (a few hundred rows per contract,
never the observations) to gate levels, writes only the rows that changed, and hands them to
``contracts.services`` for the signals, actions, holds, triggers and guardrail flags.

Values and sample sizes:

* ratio contracts: value = sum(numerator) / sum(denominator) over the rows that carry both; a
  ratio contract fed only values (no numerator/denominator) falls back to the weighted mean below;
* other contracts: the sample-weighted mean of the observed values, sum(value * n) / sum(n);
* sample size = sum(sample_size) in both cases. The denominator is not always a count of cases
  (cost per case divides money by cases; a rate may divide by hours), while sample_size always
  is, so the minimum sample size is read against it.

Version sets are summed together: a version is a cut of the charts, not of the signals.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from contracts.choices import LEVEL_RANK, ContractStatus, SignalLevel
from contracts.models import DIMENSION, Evaluation, MetricContract, Observation
from contracts.periods import FEEDING_GRAINS, period_start_of, shift_period

# The first key of the two-key advisory lock: "contracts evaluation" (the second is the contract id).
LOCK_NAMESPACE = 7_310_401

_TRUNC = {
    "postgresql": {
        "day": "o.period_start",
        "week": "date_trunc('week', o.period_start::timestamp)::date",
        "month": "date_trunc('month', o.period_start::timestamp)::date",
    },
    "sqlite": {
        "day": "o.period_start",
        # Monday of the ISO week: %w is 0 on Sunday.
        "week": "date(o.period_start, '-' || ((CAST(strftime('%%w', o.period_start) AS INTEGER) + 6) %% 7) || ' days')",
        "month": "strftime('%%Y-%%m-01', o.period_start)",
    },
}
# SQLite has no GROUPING SETS: each row joins its contract's list of cuts instead (see below).
_SQLITE_COHORT_VALUE = "CAST(json_extract(o.cohort, '$.' || c.dim) AS TEXT)"


@dataclass(frozen=True)
class PeriodValue:
    """A contract's aggregate for one period and one cut (``""`` = the whole population)."""

    contract_id: int
    period_start: datetime.date
    cut: str
    value: float | None
    sample_size: int


@dataclass(slots=True)
class EvaluatedPeriod:
    """One evaluation row as the job reads and compares it (lighter than the model instance)."""

    cut: str
    period_start: datetime.date
    value: float | None
    sample_size: int
    raw_level: str
    level: str
    threshold_crossed: float | None

    def as_fields(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class EvaluationRun:
    """What one evaluation of one contract did (the task's return value, the tests' evidence)."""

    contract_id: int
    skipped: str = ""  # "locked", "missing" or "inactive" when nothing was evaluated
    periods: list = field(default_factory=list)  # the periods recomputed
    written: int = 0  # evaluation rows inserted or changed
    signals_opened: int = 0
    signals_worsened: int = 0
    signals_resolved: int = 0
    holds_created: int = 0
    actions_reopened: int = 0

    def as_dict(self) -> dict:
        data = dict(self.__dict__)
        data["periods"] = [period.isoformat() for period in self.periods]
        return data


def cut_name(dimension: str, value: str) -> str:
    return f"{dimension}={value}" if dimension else ""


def _as_date(value) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value)


def aggregate_sql(contracts, since: datetime.date | None = None) -> tuple[str, list]:
    """The one statement that aggregates the observations of ``contracts`` (all of one grain)
    per period, for the whole population and for each value of each required cut.

    Rows: contract_id, period, dimension ("" for the whole population), the dimension's value,
    sum numerator, sum denominator, sum value*n, sum n. ``since`` keeps only the periods on or
    after the one containing it.

    PostgreSQL groups once per grouping set — (period), (period, intent), (period, team) — in a
    single pass over the rows: it measured twice as fast as joining each row to its cuts. SQLite
    (the demo and a laptop) has no grouping sets, so each row is joined to its contract's list of
    cuts ("" plus its required dimensions) and grouped by that.
    """
    grains = {contract.grain for contract in contracts}
    if len(grains) != 1:
        raise ValueError("aggregate_sql takes contracts of one grain")
    grain = grains.pop()
    start = period_start_of(since, grain) if since else datetime.date(1, 1, 1)
    ids = [contract.pk for contract in contracts]
    feeding = FEEDING_GRAINS[grain]
    sums = f"""
               SUM(CASE WHEN o.denominator IS NOT NULL THEN o.numerator END) AS num,
               SUM(CASE WHEN o.numerator IS NOT NULL THEN o.denominator END) AS den,
               SUM(o.value * o.sample_size) AS weighted,
               SUM(o.sample_size) AS sample
        FROM {Observation._meta.db_table} o"""
    where = f"""
        WHERE o.contract_id IN ({", ".join(["%s"] * len(ids))})
          AND o.grain IN ({", ".join(["%s"] * len(feeding))})
          AND o.period_start >= %s"""

    if connection.vendor == "postgresql":
        dimensions = sorted({dim for contract in contracts for dim in contract.required_cuts or []})
        for dim in dimensions:
            # Written into the statement (grouping expressions must read the same in SELECT and
            # GROUP BY); the model's validator allows only these names, checked again here.
            if not DIMENSION.match(dim):
                raise ValueError(f"not a cohort dimension: {dim!r}")
        extract = {dim: f"(o.cohort ->> '{dim}')" for dim in dimensions}
        # Which grouping set a row comes from: the dimension grouped by, "" for the whole population.
        dim_sql, value_sql = "''", "''"
        if dimensions:
            dim_sql = "CASE {} ELSE '' END".format(
                " ".join(f"WHEN GROUPING({extract[dim]}) = 0 THEN '{dim}'" for dim in dimensions)
            )
            value_sql = "CASE {} ELSE '' END".format(
                " ".join(f"WHEN GROUPING({extract[dim]}) = 0 THEN {extract[dim]}" for dim in dimensions)
            )
        period = _TRUNC["postgresql"][grain]
        sets = ", ".join(
            ["(o.contract_id, period)", *(f"(o.contract_id, period, {extract[dim]})" for dim in dimensions)]
        )
        sql = f"""
        SELECT o.contract_id,
               {period} AS period,
               {dim_sql} AS dim,
               {value_sql} AS cut_value,{sums}{where}
        GROUP BY GROUPING SETS ({sets})
        """
        return sql, [*ids, *feeding, start]

    cut_rows, params = [], []
    for contract in contracts:
        for dimension in ["", *(contract.required_cuts or [])]:
            cut_rows.append("(%s, %s)")
            params += [contract.pk, dimension]
    sql = f"""
        WITH cuts(contract_id, dim) AS (VALUES {", ".join(cut_rows)})
        SELECT o.contract_id,
               {_TRUNC["sqlite"][grain]} AS period,
               c.dim,
               CASE WHEN c.dim = '' THEN '' ELSE {_SQLITE_COHORT_VALUE} END AS cut_value,{sums}
        JOIN cuts c ON c.contract_id = o.contract_id{where}
        GROUP BY 1, 2, 3, 4
    """
    # SQLite keeps dates as ISO text.
    return sql, [*params, *ids, *feeding, start.isoformat()]


def _value(contract, numerator, denominator, weighted, sample) -> float | None:
    if contract.is_ratio and denominator:
        return numerator / denominator
    if sample:
        return weighted / sample
    return None


def aggregate_periods(contracts, since: datetime.date | str | None = None) -> list[PeriodValue]:
    """Per-period, per-cut values of the contracts' observations: one statement per grain."""
    since = _as_date(since)
    by_grain = defaultdict(list)
    for contract in contracts:
        by_grain[contract.grain].append(contract)
    by_id = {contract.pk: contract for contract in contracts}
    required = {contract.pk: set(contract.required_cuts or []) for contract in contracts}
    values = []
    with connection.cursor() as cursor:
        for group in by_grain.values():
            cursor.execute(*aggregate_sql(group, since))
            for contract_id, period, dimension, cut_value, num, den, weighted, sample in cursor.fetchall():
                if cut_value is None:  # the rows do not carry this cut's dimension
                    continue
                if dimension and dimension not in required[contract_id]:  # another contract's cut
                    continue
                if isinstance(period, str):  # SQLite
                    period = datetime.date.fromisoformat(period[:10])
                elif isinstance(period, datetime.datetime):
                    period = period.date()
                values.append(
                    PeriodValue(
                        contract_id=contract_id,
                        period_start=period,
                        cut=cut_name(dimension, cut_value),
                        value=_value(by_id[contract_id], num, den, weighted, sample),
                        sample_size=int(sample or 0),
                    )
                )
    return values


def raw_level_of(contract, value: float | None, sample_size: int) -> str:
    """The level before noise gating; a period under the minimum sample is never "ok"."""
    if value is None or sample_size < contract.min_sample_size:
        return SignalLevel.INSUFFICIENT_DATA
    return contract.level_of(value)


def gated_level(contract, raw_levels: dict, period: datetime.date) -> str:
    """The level shown: a warning or worse counts only once it has held ``consecutive_periods``
    periods in a row, and then at the least severe level of those periods (the level that held
    all of them). ``raw_levels`` maps period start -> raw level for the cut."""
    raw = raw_levels[period]
    if LEVEL_RANK[raw] < LEVEL_RANK[SignalLevel.WARNING]:
        return raw
    held = raw
    for back in range(1, max(contract.consecutive_periods, 1)):
        earlier = raw_levels.get(shift_period(period, contract.grain, -back))
        if earlier is None or LEVEL_RANK[earlier] < LEVEL_RANK[SignalLevel.WARNING]:
            return SignalLevel.OK
        if LEVEL_RANK[earlier] < LEVEL_RANK[held]:
            held = earlier
    return held


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _unchanged(old, new) -> bool:
    return (
        old.sample_size == new.sample_size
        and old.raw_level == new.raw_level
        and old.level == new.level
        and _close(old.value, new.value)
        and _close(old.threshold_crossed, new.threshold_crossed)
    )


def _threshold(contract, level: str, raw_level: str) -> float | None:
    """The threshold the period is past: of the level shown, or of the raw level when gated."""
    shown = level if LEVEL_RANK[level] >= LEVEL_RANK[SignalLevel.WARNING] else raw_level
    return contract.threshold_for(shown)


_UPDATED = ["value", "sample_size", "raw_level", "level", "threshold_crossed", "evaluated_at"]


def _upsert(contract, rows: list) -> None:
    """One upsert on the (contract, grain, period, cut) key. Only rows that changed come here,
    so evaluated_at says when a value last moved and a re-run writes nothing.

    On PostgreSQL the rows travel as one array per column and ``unnest`` turns them back into
    rows: one statement whatever the count, and none of the per-value Python work of
    ``bulk_create`` (which was half the cost of a first full evaluation)."""
    if connection.vendor != "postgresql":
        Evaluation.objects.bulk_create(
            [Evaluation(contract=contract, grain=contract.grain, **row.as_fields()) for row in rows],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["contract", "grain", "period_start", "cut"],
            update_fields=_UPDATED,
        )
        return
    table = Evaluation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (contract_id, grain, period_start, cut, value, sample_size, raw_level,
                                 level, threshold_crossed, evaluated_at)
            SELECT %s, %s, r.period_start, r.cut, r.value, r.sample_size, r.raw_level, r.level,
                   r.threshold_crossed, %s
            FROM unnest(%s::date[], %s::text[], %s::float8[], %s::integer[], %s::text[], %s::text[],
                        %s::float8[]) AS r(period_start, cut, value, sample_size, raw_level, level,
                                           threshold_crossed)
            ON CONFLICT (contract_id, grain, period_start, cut) DO UPDATE
            SET {", ".join(f"{name} = EXCLUDED.{name}" for name in _UPDATED)}
            """,
            [
                contract.pk,
                contract.grain,
                timezone.now(),
                [row.period_start for row in rows],
                [row.cut for row in rows],
                [row.value for row in rows],
                [row.sample_size for row in rows],
                [row.raw_level for row in rows],
                [row.level for row in rows],
                [row.threshold_crossed for row in rows],
            ],
        )


def evaluations_update(contract, since: datetime.date | None = None) -> tuple[dict, list, int]:
    """Recompute the contract's evaluations from the period containing ``since`` (all periods
    when None) and write the rows that changed, set-based.

    Returns (the evaluated periods of the window by cut, in period order — the recomputed periods
    and the ones before them that gating and closure look back on —, the periods recomputed, the
    number of rows written).
    """
    grain = contract.grain
    first = period_start_of(since, grain) if since else None
    lookback = max(contract.consecutive_periods, contract.closure_periods, 1)
    existing_rows = Evaluation.objects.filter(contract=contract, grain=grain)
    if first is not None:
        existing_rows = existing_rows.filter(period_start__gte=shift_period(first, grain, -lookback))
    # Plain rows, not model instances: a contract has a few hundred and the job reads them all.
    existing = {
        (fields[0], fields[1]): EvaluatedPeriod(*fields)
        for fields in existing_rows.values_list(*EvaluatedPeriod.__slots__)
    }

    aggregates = aggregate_periods([contract], since)
    raw_levels = defaultdict(dict)
    for (cut, period), row in existing.items():
        raw_levels[cut][period] = row.raw_level
    fresh = {}
    for item in aggregates:
        raw_levels[item.cut][item.period_start] = raw_level_of(contract, item.value, item.sample_size)
        fresh[(item.cut, item.period_start)] = item

    window = dict(existing)
    changed = []
    for (cut, period), item in fresh.items():
        raw = raw_levels[cut][period]
        level = gated_level(contract, raw_levels[cut], period)
        row = EvaluatedPeriod(
            cut=cut,
            period_start=period,
            value=item.value,
            sample_size=item.sample_size,
            raw_level=raw,
            level=level,
            threshold_crossed=_threshold(contract, level, raw),
        )
        old = existing.get((cut, period))
        if old is None or not _unchanged(old, row):
            changed.append(row)
            window[(cut, period)] = row
    if changed:
        _upsert(contract, changed)

    by_cut = defaultdict(list)
    for key in sorted(window):
        by_cut[key[0]].append(window[key])
    periods = sorted({period for _cut, period in fresh})
    return dict(by_cut), periods, len(changed)


def _try_lock(contract_id: int) -> bool:
    """Two runs of one contract serialize on a transaction-scoped advisory lock (PostgreSQL);
    runs of different contracts never wait for each other. SQLite serializes writers itself."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        # The two-key form takes 32-bit keys; ids past 2**31 share a lock with another (harmless).
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, int(contract_id) & 0x7FFFFFFF]
        )
        return bool(cursor.fetchone()[0])


def evaluate_contract(contract_id: int, since: datetime.date | str | None = None) -> EvaluationRun:
    """Evaluate one active contract: its evaluations from the period containing ``since`` (all
    periods when None), then its signals (and the actions, holds and notifications they bring),
    its actions' reopen triggers, and the guardrail flags that read it. One transaction, under
    the contract's advisory lock: when another run of the same contract holds it, nothing is
    done and ``skipped == "locked"`` (the task retries). Safe to run twice."""
    from contracts import services

    since = _as_date(since)
    run = EvaluationRun(contract_id=contract_id)
    with transaction.atomic():
        if not _try_lock(contract_id):
            run.skipped = "locked"
            return run
        contract = MetricContract.objects.filter(pk=contract_id).first()
        if contract is None:
            run.skipped = "missing"
            return run
        if contract.status != ContractStatus.ACTIVE:
            run.skipped = "inactive"
            return run
        window, run.periods, run.written = evaluations_update(contract, since)
        changes = services.signals_record(contract=contract, evaluations=window)
        run.signals_opened = changes.opened
        run.signals_worsened = changes.worsened
        run.signals_resolved = changes.resolved
        run.holds_created = changes.holds
        run.actions_reopened = services.reopen_triggers_evaluate(contract=contract)
        services.guardrail_flags_update(contract=contract)
    return run
