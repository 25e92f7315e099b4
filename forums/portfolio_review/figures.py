"""What the data says about every capability of the portfolio in the quarter (playbook 9.2):
plain dataclasses the suggestions read, loaded by ``portfolio_figures`` in a fixed number of
queries (never one per capability)."""

import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q

from contracts.choices import LEVEL_RANK, Category, ContractStatus, Direction, SignalLevel

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


def portfolio_figures(
    capabilities: Sequence, *, start: datetime.date, end: datetime.date
) -> dict[int, CapabilityFigures]:
    """{capability id: CapabilityFigures} for every capability given, over the days from
    ``start`` to ``end``: eight queries however many capabilities and contracts there are."""
    from assumptions.models import Assumption
    from contracts.models import Evaluation, MetricContract, Signal, StopHold
    from incidents.models import Incident
    from portfolio.choices import BacklogClass
    from portfolio.models import BacklogItem

    result = {
        capability.pk: CapabilityFigures(
            capability_id=capability.pk, name=capability.name, risk_tier=capability.risk_tier
        )
        for capability in capabilities
    }
    ids = list(result)

    active = MetricContract.objects.filter(capability_id__in=ids, status=ContractStatus.ACTIVE)
    # What the figures read of some 400 contracts at scale, as rows: a model instance of each
    # would cost more than everything else the figures do.
    contracts = list(
        active.order_by("capability_id", "category", "metric_id").values_list(
            "pk",
            "capability_id",
            "metric_id",
            "name",
            "category",
            "grain",
            "evidence_level",
            "direction",
            "unit",
            "target",
            "improvement_not_net",
            "improvement_not_net_reason",
            named=True,
        )
    )

    # Only the rows the figures read: a period's figure with a level (the periods evaluated), and
    # an adoption cohort cut's at warning or worse (a lagging cohort). Ordered by period, so a
    # contract's last figure is its latest.
    lagging_levels = [level for level, rank in LEVEL_RANK.items() if rank >= 1]
    history: dict[int, list[tuple]] = defaultdict(list)
    cuts: dict[tuple[int, datetime.date], list[str]] = defaultdict(list)
    evaluations = (
        Evaluation.objects.at_own_grain(contracts)
        .filter(period_start__gte=start, period_start__lte=end)
        .filter(
            Q(cut="", value__isnull=False) & ~Q(level=SignalLevel.INSUFFICIENT_DATA)
            | Q(contract__category=Category.ADOPTION, level__in=lagging_levels) & ~Q(cut="")
        )
        .order_by("contract_id", "period_start", "cut")
        .values_list("contract_id", "period_start", "cut", "value", "level")
    )
    for contract_id, period_start, cut, value, level in evaluations:
        if cut:
            cuts[contract_id, period_start].append(cut)
        else:
            history[contract_id].append((period_start, value, level))

    ok = SignalLevel.OK
    for contract in contracts:
        evaluated = history.get(contract.pk, ())
        # Without an evaluated period the figure keeps its defaults: insufficient data, "—".
        latest = {}
        if evaluated:
            latest_start, latest_value, latest_level = evaluated[-1]
            latest = {
                "level": latest_level,
                "latest_text": _format_in(contract.unit)(latest_value),
                "periods_ok": sum(1 for row in evaluated if row[2] == ok),
                "periods_evaluated": len(evaluated),
                "trend": trend_of([row[1] for row in evaluated], contract.direction),
                "at_target": meets_target(latest_value, contract.target, contract.direction),
                "lagging_cuts": tuple(cuts.get((contract.pk, latest_start), ())),
            }
        figure = ContractFigure(
            pk=contract.pk,
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

    metric_ids = {contract.pk: (contract.capability_id, contract.metric_id) for contract in contracts}
    # The open signals of the same active contracts (joined, not a list of their ids).
    for contract_id, level, cut in (
        Signal.objects.open()
        .filter(contract__capability_id__in=ids, contract__status=ContractStatus.ACTIVE)
        .values_list("contract_id", "level", "cut")
    ):
        capability_id, metric_id = metric_ids[contract_id]
        result[capability_id].signals.append(
            SignalFigure(contract_pk=contract_id, metric_id=metric_id, level=level, cut=cut)
        )

    for capability_id, contract_id, metric_id in StopHold.objects.filter(
        capability_id__in=ids, lifted_at__isnull=True
    ).values_list("capability_id", "signal__contract_id", "signal__contract__metric_id"):
        result[capability_id].holds.append(HoldFigure(contract_pk=contract_id, metric_id=metric_id))

    for pk, capability_id, readable_id, severity, recurrence in (
        Incident.objects.filter(capability_id__in=ids, occurred_on__gte=start, occurred_on__lte=end)
        .order_by("severity", "occurred_on", "pk")
        .values_list("pk", "capability_id", "readable_id", "severity", "is_recurrence")
    ):
        result[capability_id].incidents.append(
            IncidentFigure(pk=pk, readable_id=readable_id, severity=severity, is_recurrence=recurrence)
        )

    for pk, capability_id, readable_id, status in (
        Assumption.objects.filter(capability_id__in=ids, status__in=["invalidated", "weakened"])
        .order_by("readable_id")
        .values_list("pk", "capability_id", "readable_id", "status")
    ):
        result[capability_id].assumptions.append(
            AssumptionFigure(pk=pk, readable_id=readable_id, status=status)
        )

    spread = BacklogItem.objects.problem_spread()
    for pk, capability_id, readable_id, title, item_class, problem_key in (
        BacklogItem.objects.open()
        .filter(capability_id__in=ids)
        .filter(Q(item_class=BacklogClass.RETIREMENT) | ~Q(problem_key=""))
        .order_by("readable_id")
        .values_list("pk", "capability_id", "readable_id", "title", "item_class", "problem_key")
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
