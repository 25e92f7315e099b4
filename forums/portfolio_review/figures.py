"""What the data says about every capability of the portfolio in the quarter (playbook 9.2):
plain dataclasses the suggestions read, loaded by ``portfolio_figures`` in a fixed number of
queries (never one per capability)."""

import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from contracts.choices import LEVEL_RANK, Category, ContractStatus, Direction, SignalLevel
from contracts.querysets import own_grain_sql
from productops.reads import fetch, fields_of, placeholders

# A change of more than 5% between the start and the end of the window is a trend, less is noise.
TREND_TOLERANCE = 0.05
# Contracts that measure the load a capability puts on people (playbook 9.2 "SME review,
# operations queue, platform support, risk review load"): the cost category, and any contract
# whose id or name says it counts a queue or review work.
CAPACITY_WORDS = (
    "queue",
    "human review",
    "manual review",
    "review load",
    "reviewer",
    "rework",
    "backlog",
    "capacity",
    "workload",
    "aging",
    "sme",
)
# Any of those words anywhere in the text: one search, not one per word.
_CAPACITY_SEARCH = re.compile("|".join(re.escape(word) for word in CAPACITY_WORDS)).search


# --- plain figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractFigure:
    """One active metric contract as the quarter saw it (whole population unless said)."""

    pk: int
    metric_id: str
    category: str
    evidence_level: str
    direction: str = Direction.LOWER_IS_BETTER
    name: str = ""
    level: str = SignalLevel.INSUFFICIENT_DATA  # the latest evaluated period's level
    latest_text: str = "—"
    periods_ok: int = 0
    periods_evaluated: int = 0  # periods with a level other than "insufficient data"
    trend: str = ""  # "better", "worse", "steady" or "" (fewer than two figures)
    at_target: bool | None = None
    improvement_not_net: bool = False
    not_net_reason: str = ""
    lagging_cuts: tuple[str, ...] = ()  # cohort cuts at warning or worse in the latest period

    @property
    def capacity(self) -> bool:
        return is_capacity_contract(self.category, self.metric_id, self.name)

    @property
    def evaluated(self) -> bool:
        return self.level != SignalLevel.INSUFFICIENT_DATA

    def cite(self) -> dict:
        return {"kind": "contract", "id": self.pk, "ref": self.metric_id}


@dataclass(frozen=True)
class SignalFigure:
    """An open threshold signal."""

    contract_pk: int
    metric_id: str
    level: str
    cut: str = ""

    @property
    def where(self) -> str:
        return f"{self.metric_id} [{self.cut}]" if self.cut else self.metric_id


@dataclass(frozen=True)
class HoldFigure:
    """A stop hold not lifted yet."""

    contract_pk: int
    metric_id: str


@dataclass(frozen=True)
class IncidentFigure:
    pk: int
    readable_id: str
    severity: str
    is_recurrence: bool = False

    def cite(self) -> dict:
        return {"kind": "incident", "id": self.pk, "ref": self.readable_id}


@dataclass(frozen=True)
class AssumptionFigure:
    pk: int
    readable_id: str
    status: str  # "invalidated" or "weakened"

    def cite(self) -> dict:
        return {"kind": "assumption", "id": self.pk, "ref": self.readable_id}


@dataclass(frozen=True)
class BacklogFigure:
    """An open backlog item that names a shared problem or is a retirement candidate."""

    pk: int
    readable_id: str
    title: str = ""
    problem_key: str = ""
    shared_by: int = 0  # capabilities with an open item naming the same problem key
    retirement: bool = False

    def cite(self) -> dict:
        return {"kind": "backlog", "id": self.pk, "ref": self.readable_id}


@dataclass
class CapabilityFigures:
    """Everything the suggestions read about one capability in the quarter."""

    capability_id: int
    name: str = ""
    risk_tier: str = ""
    contracts: list[ContractFigure] = field(default_factory=list)
    signals: list[SignalFigure] = field(default_factory=list)
    holds: list[HoldFigure] = field(default_factory=list)
    incidents: list[IncidentFigure] = field(default_factory=list)
    assumptions: list[AssumptionFigure] = field(default_factory=list)
    backlog: list[BacklogFigure] = field(default_factory=list)

    def in_category(self, category: str) -> list[ContractFigure]:
        return [contract for contract in self.contracts if contract.category == category]


# A pure reading of a contract's category, id and name, asked of every contract on every render.
@functools.lru_cache(maxsize=4096)
def is_capacity_contract(category: str, metric_id: str, name: str) -> bool:
    if category == Category.COST:
        return True
    return _CAPACITY_SEARCH(f"{metric_id} {name}".lower().replace("_", " ").replace(".", " ")) is not None


def trend_of(values: Sequence[float], direction: str, tolerance: float = TREND_TOLERANCE) -> str:
    """ "better", "worse" or "steady": the mean of the last third of the values against the first
    third's, in the contract's direction; "" with fewer than two values."""
    values = [value for value in values if value is not None]
    if len(values) < 2:
        return ""
    size = max(1, len(values) // 3)
    first = sum(values[:size]) / size
    last = sum(values[-size:]) / size
    scale = abs(first) if first else 1.0
    change = (last - first) / scale
    if abs(change) <= tolerance:
        return "steady"
    rising = change > 0
    return "better" if rising == (direction == Direction.HIGHER_IS_BETTER) else "worse"


def meets_target(value: float | None, target: float | None, direction: str) -> bool | None:
    if value is None or target is None:
        return None
    return value >= target if direction == Direction.HIGHER_IS_BETTER else value <= target


@functools.lru_cache(maxsize=64)
def _format_in(unit: str):
    """``MetricContract.format_value`` for a unit: a value is formatted by its contract's unit
    alone, so one (unsaved) contract a unit formats every figure in it."""
    from contracts.models import MetricContract

    return MetricContract(unit=unit).format_value


def _rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1)


# --- loading the figures of the whole portfolio ------------------------------------------------

# The figures are read with hand-written SQL (productops.reads): the portfolio board reads every
# capability's on each render, and the ORM's compiling of the eight querysets (one of them with
# some 400 contract ids to prepare) was half the figures' Python (bench DB: ~20 ms of CPU a
# render through the ORM, ~11 ms by hand). Each statement keeps the ORM's filter and order (with
# its tie-breakers); forums/tests/test_portfolio_figures_reads.py plants what each must find and
# leave out.


class _ContractRow(NamedTuple):
    """What the figures read of an active contract (its columns, by field name)."""

    id: int
    capability_id: int
    metric_id: str
    name: str
    category: str
    grain: str
    evidence_level: str
    direction: str
    unit: str
    target: float | None
    improvement_not_net: bool
    improvement_not_net_reason: str

    @property
    def pk(self) -> int:
        return self.id


def portfolio_figures(
    capabilities: Sequence, *, start: datetime.date, end: datetime.date
) -> dict[int, CapabilityFigures]:
    """{capability id: CapabilityFigures} for every capability given, over the days from
    ``start`` to ``end``: eight statements (seven without contracts) however many capabilities
    and contracts there are."""
    from assumptions.choices import AssumptionStatus
    from assumptions.models import Assumption
    from contracts.models import Evaluation, MetricContract, Signal, StopHold
    from incidents.models import Incident
    from portfolio.choices import BACKLOG_OPEN_STATUSES, BacklogClass
    from portfolio.models import BacklogItem

    result = {
        capability.pk: CapabilityFigures(
            capability_id=capability.pk, name=capability.name, risk_tier=capability.risk_tier
        )
        for capability in capabilities
    }
    ids = list(result)
    within = placeholders(ids)
    active = ContractStatus.ACTIVE.value

    # What the figures read of some 400 contracts at scale, as rows: a model instance of each
    # would cost more than everything else the figures do.
    contracts = [
        _ContractRow(*row)
        for row in fetch(
            f"SELECT c.{', c.'.join(_ContractRow._fields)} FROM contracts_metriccontract c "
            f"WHERE c.capability_id IN ({within}) AND c.status = %s "
            "ORDER BY c.capability_id, c.category, c.metric_id",
            [*ids, active],
            fields_of(MetricContract, *_ContractRow._fields),
        )
    ]

    # The evaluations of those contracts at each one's own grain (``own_grain_sql``, as
    # ``Evaluation.objects.at_own_grain``), by the contracts' ids rather than joined to the
    # contracts by capability: the join plans a scan of every evaluation ever recorded, the ids a
    # read of the (contract, grain, period) key (bench: ~24 ms against ~12 ms, and the scan grows
    # with the history). Only the rows the figures read: a period's figure with a level (the
    # periods evaluated) and a value, and an adoption contract's cohort cut at warning or worse
    # (a lagging cohort). Ordered by period, so a contract's last figure is its latest.
    adoption = [contract.pk for contract in contracts if contract.category == Category.ADOPTION]
    lagging_levels = [level.value for level, rank in LEVEL_RANK.items() if rank >= 1]
    evaluations = []
    if contracts:  # without one there is nothing to read
        own_grain, own_grain_params = own_grain_sql(contracts, "e")
        evaluations = fetch(
            "SELECT e.contract_id, e.period_start, e.cut, e.value, e.level FROM contracts_evaluation e "
            f"WHERE {own_grain} AND e.period_start >= %s AND e.period_start <= %s "
            "AND ((e.cut = '' AND e.value IS NOT NULL AND NOT (e.level = %s)) "
            f"OR (e.contract_id IN ({placeholders(adoption)}) AND e.level IN ({placeholders(lagging_levels)}) "
            "AND NOT (e.cut = ''))) "
            "ORDER BY e.contract_id, e.period_start, e.cut",
            [
                *own_grain_params,
                start,
                end,
                SignalLevel.INSUFFICIENT_DATA.value,
                *adoption,
                *lagging_levels,
            ],
            fields_of(Evaluation, "contract", "period_start", "cut", "value", "level"),
        )
    # {contract id: its periods evaluated, as rows}, {(contract id, period): lagging cuts}.
    history: dict[int, list[tuple]] = defaultdict(list)
    cuts: dict[tuple[int, datetime.date], list[str]] = defaultdict(list)
    for row in evaluations:
        if row[2]:
            cuts[row[0], row[1]].append(row[2])
        else:
            history[row[0]].append(row)

    ok = SignalLevel.OK
    metric_ids = {}
    for contract in contracts:
        pk = contract.pk
        metric_ids[pk] = (contract.capability_id, contract.metric_id)
        evaluated = history.get(pk)
        # Without an evaluated period the figure keeps its defaults: insufficient data, "—".
        latest = {}
        if evaluated:
            _ids, starts, _cuts, values, levels = zip(*evaluated, strict=True)
            latest = {
                "level": levels[-1],
                "latest_text": _format_in(contract.unit)(values[-1]),
                "periods_ok": levels.count(ok),
                "periods_evaluated": len(levels),
                "trend": trend_of(values, contract.direction),
                "at_target": meets_target(values[-1], contract.target, contract.direction),
                "lagging_cuts": tuple(cuts.get((pk, starts[-1]), ())),
            }
        figure = ContractFigure(
            pk=pk,
            metric_id=contract.metric_id,
            name=contract.name,
            category=contract.category,
            evidence_level=contract.evidence_level,
            direction=contract.direction,
            improvement_not_net=contract.improvement_not_net,
            not_net_reason=contract.improvement_not_net_reason,
            **latest,
        )
        result[contract.capability_id].contracts.append(figure)

    # The open signals (``Signal.objects.open()``: not resolved) of the same active contracts,
    # joined, not a list of their ids; the newest opened first (the model's ordering).
    for contract_id, level, cut in fetch(
        "SELECT s.contract_id, s.level, s.cut FROM contracts_signal s "
        "INNER JOIN contracts_metriccontract c ON c.id = s.contract_id "
        f"WHERE s.resolved_period IS NULL AND c.capability_id IN ({within}) AND c.status = %s "
        "ORDER BY s.opened_period DESC",
        [*ids, active],
        fields_of(Signal, "contract", "level", "cut"),
    ):
        capability_id, metric_id = metric_ids[contract_id]
        result[capability_id].signals.append(
            SignalFigure(contract_pk=contract_id, metric_id=metric_id, level=level, cut=cut)
        )

    # The stop holds not lifted yet.
    for capability_id, contract_id, metric_id in fetch(
        "SELECT h.capability_id, s.contract_id, c.metric_id FROM contracts_stophold h "
        "INNER JOIN contracts_signal s ON s.id = h.signal_id "
        "INNER JOIN contracts_metriccontract c ON c.id = s.contract_id "
        f"WHERE h.capability_id IN ({within}) AND h.lifted_at IS NULL",
        ids,
        [
            *fields_of(StopHold, "capability"),
            *fields_of(Signal, "contract"),
            *fields_of(MetricContract, "metric_id"),
        ],
    ):
        result[capability_id].holds.append(HoldFigure(contract_pk=contract_id, metric_id=metric_id))

    for pk, capability_id, readable_id, severity, recurrence in fetch(
        "SELECT i.id, i.capability_id, i.readable_id, i.severity, i.is_recurrence FROM incidents_incident i "
        f"WHERE i.capability_id IN ({within}) AND i.occurred_on >= %s AND i.occurred_on <= %s "
        "ORDER BY i.severity, i.occurred_on, i.id",
        [*ids, start, end],
        fields_of(Incident, "id", "capability", "readable_id", "severity", "is_recurrence"),
    ):
        result[capability_id].incidents.append(
            IncidentFigure(pk=pk, readable_id=readable_id, severity=severity, is_recurrence=recurrence)
        )

    failed = [AssumptionStatus.INVALIDATED.value, AssumptionStatus.WEAKENED.value]
    for pk, capability_id, readable_id, status in fetch(
        "SELECT a.id, a.capability_id, a.readable_id, a.status FROM assumptions_assumption a "
        f"WHERE a.capability_id IN ({within}) AND a.status IN ({placeholders(failed)}) "
        "ORDER BY a.readable_id",
        [*ids, *failed],
        fields_of(Assumption, "id", "capability", "readable_id", "status"),
    ):
        result[capability_id].assumptions.append(
            AssumptionFigure(pk=pk, readable_id=readable_id, status=status)
        )

    # Open backlog items (``BacklogItem.objects.open()``), and the portfolio's problem spread
    # (``BacklogItem.objects.problem_spread()``: {problem key: capabilities with an open item
    # naming it}, over every capability, not only those given).
    open_statuses = [status.value for status in BACKLOG_OPEN_STATUSES]
    spread = BacklogItem.objects.problem_spread()
    for pk, capability_id, readable_id, title, item_class, problem_key in fetch(
        "SELECT b.id, b.capability_id, b.readable_id, b.title, b.item_class, b.problem_key "
        f"FROM portfolio_backlogitem b WHERE b.status IN ({placeholders(open_statuses)}) "
        f"AND b.capability_id IN ({within}) AND (b.item_class = %s OR NOT (b.problem_key = '')) "
        "ORDER BY b.readable_id",
        [*open_statuses, *ids, BacklogClass.RETIREMENT.value],
        fields_of(BacklogItem, "id", "capability", "readable_id", "title", "item_class", "problem_key"),
    ):
        result[capability_id].backlog.append(
            BacklogFigure(
                pk=pk,
                readable_id=readable_id,
                title=title,
                problem_key=problem_key,
                shared_by=spread.get(problem_key, 0) if problem_key else 0,
                retirement=item_class == BacklogClass.RETIREMENT,
            )
        )
    return result
