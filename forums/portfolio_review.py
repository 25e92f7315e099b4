"""The quarterly portfolio review (playbook 9): the scorecard of 9.2 across every capability, the
decision of 9.3 per capability and its output row of 9.4, recorded in the decision log.

Three layers, top to bottom:

- **Services** (``portfolio_review_open``, ``scorecard_rate``, ``scorecard_decide``,
  ``portfolio_review_close``): the one path the pages, the API and any job take. A person rates,
  a person decides; deciding writes the decision log through ``decisions.services``.
- **Figures** (``portfolio_figures``): what the data says about every capability of the
  portfolio in the quarter, loaded in a fixed number of queries (never one per capability) into
  plain dataclasses.
- **Suggestions** (``suggest_*``): one small pure function per dimension over those plain figures,
  returning a rating 1-5 *or None* and the evidence text shown beside it. A dimension the data
  cannot speak to says so instead of inventing a number; strategic fit is always a person's call.

A suggestion is stored beside the rating (``ratings[dimension]["suggested"]``), never as the
rating: only ``scorecard_rate`` writes a rating, when a person accepts the suggestion or gives
their own with a note.

Every dimension is rated so that **5 is favourable** to the capability (a light capacity burden
is 5, no case to retire is 5): a row of low numbers is a row in trouble, whatever the column.
"""

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from contracts.choices import (
    LEVEL_RANK,
    Category,
    ContractStatus,
    Direction,
    SignalLevel,
    below_decision_grade,
)
from forums.choices import PortfolioDecision, PortfolioReviewState, ScorecardDimension
from forums.meeting import session_decision_outcome
from forums.models import PortfolioReview, ScorecardRow
from productops.errors import DomainError, TransitionNotAllowed
from productops.permissions import can_change, can_view, require_change, role_map, visible_capability_ids
from productops.roles import Activity

ACTIVITY = Activity.QUARTERLY_PORTFOLIO_REVIEW
DIMENSIONS: list[str] = list(ScorecardDimension.values)
RATINGS = (1, 2, 3, 4, 5)
# A rating at or below this is an exception the executive reads first.
EXCEPTION_AT = 2
# A quarter's figures: the thirteen weeks up to the review (or to the quarter's end for a past
# quarter), so a review held in the first weeks of its quarter still reads a full quarter.
WINDOW_DAYS = 91
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

_QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<number>[1-4])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The rating guide of 9.2, and what 1 and 5 mean on each dimension (5 is always favourable).
DIMENSION_GUIDE: dict[str, tuple] = {
    ScorecardDimension.NET_VALUE: (
        gettext_lazy("finance-supported benefit after cost and leakage"),
        gettext_lazy("no net benefit"),
        gettext_lazy("strong net benefit"),
    ),
    ScorecardDimension.ADOPTION_DURABILITY: (
        gettext_lazy("sustained qualified use across target cohorts"),
        gettext_lazy("use falling away"),
        gettext_lazy("sustained in every cohort"),
    ),
    ScorecardDimension.RISK_STABILITY: (
        gettext_lazy("risk signals within appetite, controls effective"),
        gettext_lazy("stop rule fired / Sev1"),
        gettext_lazy("within appetite"),
    ),
    ScorecardDimension.EVIDENCE_MATURITY: (
        gettext_lazy("telemetry, sampling, experiment and finance evidence quality"),
        gettext_lazy("anecdotal"),
        gettext_lazy("experiment-grade, all categories"),
    ),
    ScorecardDimension.PLATFORM_REUSE: (
        gettext_lazy("reusable model gateway, eval, RAG, tool, policy patterns"),
        gettext_lazy("one-off build"),
        gettext_lazy("reusable pattern"),
    ),
    ScorecardDimension.CAPACITY_BURDEN: (
        gettext_lazy("SME review, operations queue, platform support, risk review load"),
        gettext_lazy("heavy burden"),
        gettext_lazy("light burden"),
    ),
    ScorecardDimension.STRATEGIC_FIT: (
        gettext_lazy("alignment to business capability and product strategy"),
        gettext_lazy("off strategy"),
        gettext_lazy("core to strategy"),
    ),
    ScorecardDimension.RETIREMENT_LOGIC: (
        gettext_lazy("value weak, risk high, platform cost high, better alternative available"),
        gettext_lazy("strong case to retire"),
        gettext_lazy("no case to retire"),
    ),
}

# 9.3's decisions as the decision log's types (each has its own type there).
DECISION_TYPES: dict[str, str] = {
    PortfolioDecision.FUND: "fund",
    PortfolioDecision.SCALE: "scale",
    PortfolioDecision.SCALE_SELECTIVELY: "scale_selectively",
    PortfolioDecision.RESTRICT: "restrict",
    PortfolioDecision.CONSOLIDATE: "consolidate",
    PortfolioDecision.PLATFORMIZE: "platformize",
    PortfolioDecision.PAUSE: "pause",
    PortfolioDecision.RETIRE: "retire",
}

# 9.3 grouped the way the scorecard shows them: stopping stands beside investing, not below it.
DECISION_GROUPS: list[tuple] = [
    (
        gettext_lazy("Invest"),
        [PortfolioDecision.FUND, PortfolioDecision.SCALE, PortfolioDecision.SCALE_SELECTIVELY],
    ),
    (
        gettext_lazy("Reshape"),
        [PortfolioDecision.RESTRICT, PortfolioDecision.CONSOLIDATE, PortfolioDecision.PLATFORMIZE],
    ),
    (gettext_lazy("Stop"), [PortfolioDecision.PAUSE, PortfolioDecision.RETIRE]),
]

# 9.3 "when to use", shown beside each option.
DECISION_WHEN: dict[str, object] = {
    PortfolioDecision.FUND: gettext_lazy("strong evidence, scalable economics, strategic fit"),
    PortfolioDecision.SCALE: gettext_lazy("proven cohort, acceptable risk, operational capacity available"),
    PortfolioDecision.SCALE_SELECTIVELY: gettext_lazy("proven in some cohorts only: scale there"),
    PortfolioDecision.RESTRICT: gettext_lazy(
        "value only in specific population or risk high in certain segments"
    ),
    PortfolioDecision.CONSOLIDATE: gettext_lazy("multiple teams built similar capability"),
    PortfolioDecision.PLATFORMIZE: gettext_lazy("repeated pattern should become reusable golden path"),
    PortfolioDecision.PAUSE: gettext_lazy("evidence insufficient or operating capacity constrained"),
    PortfolioDecision.RETIRE: gettext_lazy("assumptions failed or risk/cost exceeds value"),
}


# --- quarters --------------------------------------------------------------------------------


def quarter_of(day: datetime.date) -> str:
    """The quarter a day falls in, as the review names it: ``2026-Q4``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def clean_quarter(quarter) -> str:
    """``quarter`` as ``YYYY-QN`` (``2026-q4`` and surrounding blanks are forgiven)."""
    text = str(quarter or "").strip().upper()
    if not _QUARTER.match(text):
        raise DomainError(_("Name the quarter as YYYY-QN, e.g. 2026-Q4."), field="quarter")
    return text


def quarter_bounds(quarter: str) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a quarter."""
    match = _QUARTER.match(clean_quarter(quarter))
    year, number = int(match["year"]), int(match["number"])
    first = datetime.date(year, 3 * (number - 1) + 1, 1)
    following = datetime.date(year + 1, 1, 1) if number == 4 else datetime.date(year, 3 * number + 1, 1)
    return first, following - datetime.timedelta(days=1)


def figures_window(quarter: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The days whose figures the review reads: the 13 weeks ending at the earlier of today and
    the quarter's last day."""
    _first, last = quarter_bounds(quarter)
    end = min(today, last)
    return end - datetime.timedelta(days=WINDOW_DAYS - 1), end


def review_date_of(next_review: str) -> datetime.date | None:
    """The date a "next review" text names, when it names one: a quarter (its first day) or an
    ISO date. Free text ("2026-Q3 monthly value review") is read from its first word."""
    token = (next_review or "").strip().split(" ")[0].upper()
    if _QUARTER.match(token):
        return quarter_bounds(token)[0]
    if _DATE.match(token):
        try:
            return datetime.date.fromisoformat(token)
        except ValueError:
            return None
    return None


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


@dataclass(frozen=True)
class Suggestion:
    """What the data suggests for one dimension: a rating 1-5, or None when it cannot say, and
    the evidence text (the figures used, with contract ids and levels) and records it cites."""

    rating: int | None
    evidence: str
    cites: tuple[dict, ...] = ()


def is_capacity_contract(category: str, metric_id: str, name: str) -> bool:
    words = f"{metric_id} {name}".lower().replace("_", " ").replace(".", " ")
    return category == Category.COST or any(word in words for word in CAPACITY_WORDS)


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


def _level_number(evidence_level: str) -> int:
    try:
        return int(str(evidence_level).upper().lstrip("E"))
    except ValueError:
        return 1


def _rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1)


def _worst(contracts: Iterable[ContractFigure]) -> str:
    levels = [contract.level for contract in contracts if contract.evaluated]
    return max(levels, key=_rank) if levels else SignalLevel.INSUFFICIENT_DATA


def _severity_label(severity: str) -> str:
    from portfolio.choices import IncidentSeverity

    return str(dict(IncidentSeverity.choices).get(severity, severity))


def _level_label(level: str) -> str:
    return str(dict(SignalLevel.choices).get(level, level)).lower()


def _named(contract: ContractFigure) -> str:
    """``kyc_ai.rework_rate (E3): warning, 12.1%``: a contract as the evidence text names it."""
    text = f"{contract.metric_id} ({contract.evidence_level}): {_level_label(contract.level)}"
    if contract.evaluated and contract.latest_text not in ("", "—"):
        text += f" {contract.latest_text}"
    if contract.trend == "worse":
        text += " " + _("worsening")
    return text


def _clamp(rating: int) -> int:
    return max(1, min(5, rating))


# --- suggestions, one pure function per dimension ----------------------------------------------


def suggest_evidence_maturity(contracts: Sequence[ContractFigure]) -> Suggestion:
    """9.2 evidence maturity: the (lower) median evidence level of the active contracts (E1-E5),
    capped by how many of the seven categories they cover (7: 5, 5-6: 4, 3-4: 3, fewer: 2), and
    at 2 without an outcome contract (value cannot be evidenced at all)."""
    if not contracts:
        return Suggestion(None, _("No active metric contract: the data cannot say how good the evidence is."))
    levels = sorted(_level_number(contract.evidence_level) for contract in contracts)
    median = levels[(len(levels) - 1) // 2]
    categories = {contract.category for contract in contracts}
    covered = len(categories & set(Category.values))
    cap = 5 if covered >= 7 else 4 if covered >= 5 else 3 if covered >= 3 else 2
    rating = min(median, cap)
    counts = ", ".join(f"E{level} ×{levels.count(level)}" for level in sorted(set(levels), reverse=True))
    parts = [
        ngettext(
            "%(count)s active contract, median E%(median)s (%(counts)s)",
            "%(count)s active contracts, median E%(median)s (%(counts)s)",
            len(contracts),
        )
        % {"count": len(contracts), "median": median, "counts": counts},
        _("%(covered)s of 7 categories") % {"covered": covered},
    ]
    missing = [str(label) for value, label in Category.choices if value not in categories]
    if missing:
        parts[-1] += " (" + _("missing: %(names)s") % {"names": ", ".join(missing).lower()} + ")"
    if Category.OUTCOME not in categories:
        rating = min(rating, 2)
        parts.append(_("no outcome contract, so value cannot be evidenced"))
    below = [contract for contract in contracts if below_decision_grade(contract.evidence_level)]
    if below:
        parts.append(
            _("below E3: %(names)s")
            % {"names": ", ".join(f"{c.metric_id} ({c.evidence_level})" for c in below[:4])}
            + (" …" if len(below) > 4 else "")
        )
    return Suggestion(rating, "; ".join(parts) + ".", tuple(contract.cite() for contract in below))


def suggest_risk_stability(
    risk_contracts: Sequence[ContractFigure],
    signals: Sequence[SignalFigure],
    holds: Sequence[HoldFigure],
    incidents: Sequence[IncidentFigure],
    *,
    risk_tier: str = "",
) -> Suggestion:
    """9.2 risk stability, from the risk contracts' open signals, unlifted stop holds and the
    quarter's incidents by severity and recurrence:

    - 1: a stop hold not lifted, an open stop signal, or a Sev1;
    - 2: an open breach on a risk contract, two or more Sev2, or a recurring Sev1/Sev2;
    - 3: an open warning on a risk contract (2 on a high or critical tier capability, whose
      appetite is smaller), one Sev2, or any other recurring incident;
    - 4: Sev3/Sev4 incidents only; 5: none of these.

    Without a risk contract the data can show instability but not stability: at most 3."""
    risk_pks = {contract.pk for contract in risk_contracts}
    risk_signals = [signal for signal in signals if signal.contract_pk in risk_pks]
    if not risk_contracts and not incidents and not holds:
        return Suggestion(
            None, _("No risk contract and no incident this quarter: the data cannot say how stable risk is.")
        )
    by_severity: dict[str, list[IncidentFigure]] = defaultdict(list)
    for incident in incidents:
        by_severity[incident.severity].append(incident)
    recurring = [incident for incident in incidents if incident.is_recurrence]
    severe_recurring = [incident for incident in recurring if incident.severity in ("sev1", "sev2")]
    signal_levels = {signal.level for signal in risk_signals}
    tight = risk_tier in ("high", "critical") and SignalLevel.WARNING in signal_levels

    rating = 5
    if by_severity.get("sev3") or by_severity.get("sev4"):
        rating = 4
    if SignalLevel.WARNING in signal_levels or by_severity.get("sev2") or recurring:
        rating = 2 if tight else 3
    if SignalLevel.BREACH in signal_levels or len(by_severity.get("sev2", [])) >= 2 or severe_recurring:
        rating = 2
    if holds or SignalLevel.STOP in signal_levels or by_severity.get("sev1"):
        rating = 1

    parts = []
    if holds:
        held = defaultdict(int)
        for hold in holds:
            held[hold.metric_id] += 1
        parts.append(
            _("stop hold not lifted: %(names)s")
            % {"names": ", ".join(f"{name} ×{count}" if count > 1 else name for name, count in held.items())}
        )
    if risk_signals:
        worst_first = sorted(risk_signals, key=lambda s: -_rank(s.level))
        parts.append(
            _("open risk signals: %(names)s")
            % {"names": ", ".join(f"{s.where} {_level_label(s.level)}" for s in worst_first[:4])}
            + (" …" if len(worst_first) > 4 else "")
        )
    elif risk_contracts:
        parts.append(
            ngettext(
                "%(count)s risk contract, no open signal",
                "%(count)s risk contracts, no open signal",
                len(risk_contracts),
            )
            % {"count": len(risk_contracts)}
        )
    if incidents:
        counts = ", ".join(
            f"{_severity_label(severity)} ×{len(items)}"
            + (f" ({', '.join(i.readable_id for i in items[:3])})" if severity in ("sev1", "sev2") else "")
            for severity, items in sorted(by_severity.items())
        )
        parts.append(_("incidents this quarter: %(counts)s") % {"counts": counts})
        if recurring:
            parts.append(
                _("recurring: %(ids)s") % {"ids": ", ".join(incident.readable_id for incident in recurring)}
            )
    else:
        parts.append(_("no incident this quarter"))
    if tight and rating == 2:
        parts.append(_("%(tier)s risk tier: a warning is outside appetite") % {"tier": risk_tier})
    if not risk_contracts:
        rating = min(rating, 3)
        parts.append(_("no risk contract, so stability itself is unmeasured"))
    cited_contracts = {signal.contract_pk for signal in risk_signals} | {hold.contract_pk for hold in holds}
    cites = [contract.cite() for contract in risk_contracts if contract.pk in cited_contracts]
    cites += [
        incident.cite()
        for incident in incidents
        if incident.severity in ("sev1", "sev2") or incident.is_recurrence
    ]
    return Suggestion(rating, _capital("; ".join(parts)) + ".", tuple(cites))


def suggest_capacity_burden(capacity_contracts: Sequence[ContractFigure]) -> Suggestion:
    """9.2 capacity burden (5 = light), from the review-queue, capacity and cost contracts: the
    worst latest level (stop 1, breach 2, warning 3, ok 5), one lower when one of them worsened
    over the quarter."""
    if not capacity_contracts:
        return Suggestion(
            None,
            _("No review-queue, capacity or cost contract: the data cannot say what load it puts on people."),
        )
    evaluated = [contract for contract in capacity_contracts if contract.evaluated]
    if not evaluated:
        return Suggestion(
            None,
            _("%(names)s: no evaluated figure this quarter.")
            % {"names": ", ".join(contract.metric_id for contract in capacity_contracts)},
        )
    worst = _worst(evaluated)
    rating = {SignalLevel.STOP: 1, SignalLevel.BREACH: 2, SignalLevel.WARNING: 3}.get(worst, 5)
    worsening = [contract for contract in evaluated if contract.trend == "worse"]
    if worsening:
        rating = _clamp(rating - 1)
    named = sorted(evaluated, key=lambda c: (-_rank(c.level), c.trend != "worse", c.metric_id))
    text = "; ".join(_named(contract) for contract in named[:4]) + ("; …" if len(named) > 4 else "")
    cites = [
        contract.cite() for contract in evaluated if _rank(contract.level) >= 1 or contract.trend == "worse"
    ]
    return Suggestion(rating, text + ".", tuple(cites))


def suggest_net_value(
    outcome_contracts: Sequence[ContractFigure],
    cost_contracts: Sequence[ContractFigure] = (),
    not_net: Sequence[ContractFigure] = (),
) -> Suggestion:
    """9.2 net value, from the outcome (value) contracts' latest levels (stop 1, breach 2,
    warning 3, ok 4, every one at target 5), one lower while a cost contract is at warning or
    worse, at most 3 when outcome evidence is below E3 (not finance-supported), and at most 2
    while a contract is flagged "improvement not net": no claim of net improvement then."""
    if not outcome_contracts:
        return Suggestion(None, _("No outcome contract: the data cannot say what value it creates."))
    evaluated = [contract for contract in outcome_contracts if contract.evaluated]
    if not evaluated:
        return Suggestion(
            None,
            _("%(names)s: no evaluated figure this quarter.")
            % {"names": ", ".join(contract.metric_id for contract in outcome_contracts)},
        )
    worst = _worst(evaluated)
    rating = {SignalLevel.STOP: 1, SignalLevel.BREACH: 2, SignalLevel.WARNING: 3}.get(worst, 4)
    if rating == 4 and all(contract.at_target for contract in evaluated):
        rating = 5
    named = sorted(evaluated, key=lambda c: (-_rank(c.level), c.metric_id))
    parts = [
        _("outcome: %(figures)s")
        % {
            "figures": "; ".join(_named(contract) for contract in named[:4])
            + (" …" if len(named) > 4 else "")
        }
    ]
    cites = [contract.cite() for contract in named[:4]]
    costly = [contract for contract in cost_contracts if _rank(contract.level) >= 1]
    if costly:
        rating = _clamp(rating - 1)
        parts.append(
            _("cost at %(names)s")
            % {"names": ", ".join(f"{c.metric_id} {_level_label(c.level)}" for c in costly)}
        )
        cites += [contract.cite() for contract in costly]
    weak = [contract for contract in evaluated if below_decision_grade(contract.evidence_level)]
    if weak:
        rating = min(rating, 3)
        parts.append(
            _("value evidence below E3 (%(names)s), not finance-supported")
            % {"names": ", ".join(contract.metric_id for contract in weak)}
        )
    if not_net:
        rating = min(rating, 2)
        parts.append(
            _("net improvement blocked: %(names)s flagged “improvement not net”")
            % {
                "names": ", ".join(
                    c.metric_id + (f" ({_short(c.not_net_reason)})" if c.not_net_reason else "")
                    for c in not_net
                )
            }
        )
        cites += [contract.cite() for contract in not_net]
    return Suggestion(rating, _capital("; ".join(parts)) + ".", tuple(_unique(cites)))


def suggest_adoption_durability(adoption_contracts: Sequence[ContractFigure]) -> Suggestion:
    """9.2 adoption durability, from the adoption contracts over the quarter: the share of
    evaluated periods at ok (90%+: 5, 75%+: 4, 50%+: 3, 25%+: 2, less: 1), one lower when one
    of them worsened, at most 3 while a cohort lags (warning or worse in the latest period) and
    at most 2 when the latest level is a breach or stop."""
    if not adoption_contracts:
        return Suggestion(None, _("No adoption contract: the data cannot say whether use is sustained."))
    periods = sum(contract.periods_evaluated for contract in adoption_contracts)
    if not periods:
        return Suggestion(
            None,
            _("%(names)s: no evaluated figure this quarter.")
            % {"names": ", ".join(contract.metric_id for contract in adoption_contracts)},
        )
    ok = sum(contract.periods_ok for contract in adoption_contracts)
    share = ok / periods
    rating = 5 if share >= 0.9 else 4 if share >= 0.75 else 3 if share >= 0.5 else 2 if share >= 0.25 else 1
    parts = [_("%(ok)s of %(periods)s periods at ok") % {"ok": ok, "periods": periods}]
    worsening = [contract for contract in adoption_contracts if contract.trend == "worse"]
    if worsening:
        rating = _clamp(rating - 1)
    lagging = [(contract, cut) for contract in adoption_contracts for cut in contract.lagging_cuts]
    if lagging:
        rating = min(rating, 3)
        parts.append(
            _("lagging cohorts: %(cuts)s")
            % {"cuts": ", ".join(f"{cut} ({contract.metric_id})" for contract, cut in lagging[:4])}
            + (" …" if len(lagging) > 4 else "")
        )
    if _rank(_worst(adoption_contracts)) >= _rank(SignalLevel.BREACH):
        rating = min(rating, 2)
    parts.append("; ".join(_named(contract) for contract in adoption_contracts if contract.evaluated))
    cites = [
        contract.cite()
        for contract in adoption_contracts
        if contract.trend == "worse" or contract.lagging_cuts or _rank(contract.level) >= 1
    ]
    return Suggestion(rating, _capital("; ".join(part for part in parts if part)) + ".", tuple(cites))


def suggest_platform_reuse(backlog: Sequence[BacklogFigure]) -> Suggestion:
    """9.2 platform reuse, from the backlog's platform-reuse view (16.3): a problem key this
    capability shares with other capabilities is a reusable pattern (3 or more capabilities, or
    two shared problems: 5; one problem shared by two: 4); problem keys nobody else raises: 2."""
    keyed = [item for item in backlog if item.problem_key]
    if not keyed:
        return Suggestion(
            None,
            _(
                "No open backlog item names a problem key: the data cannot say whether its patterns are reused."
            ),
        )
    shared: dict[str, int] = {}
    for item in keyed:
        if item.shared_by >= 2:
            shared[item.problem_key] = max(shared.get(item.problem_key, 0), item.shared_by)
    if not shared:
        keys = sorted({item.problem_key for item in keyed})
        return Suggestion(
            2,
            _("Problem keys %(keys)s are raised on no other capability: nothing shared to reuse yet.")
            % {"keys": ", ".join(keys)},
        )
    rating = 5 if max(shared.values()) >= 3 or len(shared) >= 2 else 4
    text = "; ".join(
        _("“%(key)s” shared with %(count)s capabilities (%(ids)s)")
        % {
            "key": key,
            "count": count,
            "ids": ", ".join(item.readable_id for item in keyed if item.problem_key == key),
        }
        for key, count in sorted(shared.items(), key=lambda pair: (-pair[1], pair[0]))
    )
    cites = tuple(item.cite() for item in keyed if item.problem_key in shared)
    return Suggestion(rating, text + ". " + _("A platform-reuse candidate (16.3)."), cites)


def suggest_retirement_logic(
    *,
    net_value: int | None,
    risk_stability: int | None,
    assumptions: Sequence[AssumptionFigure] = (),
    retirement_items: Sequence[BacklogFigure] = (),
) -> Suggestion:
    """9.2 retirement logic (5 = no case to retire). Weak value (net value 2 or less) and an open
    retirement candidate in the backlog weigh two points each; high risk (risk stability 2 or
    less) and invalidated assumptions one each; weakened assumptions are named, not counted.
    With value unreadable it is at most 4; with nothing to read at all, no suggestion."""
    invalidated = [a for a in assumptions if a.status == "invalidated"]
    weakened = [a for a in assumptions if a.status == "weakened"]
    if net_value is None and risk_stability is None and not assumptions and not retirement_items:
        return Suggestion(
            None,
            _("Neither value nor risk can be read from data, and no assumption failed: a person judges it."),
        )
    reasons = []
    cites: list[dict] = []
    points = 0
    if net_value is not None and net_value <= EXCEPTION_AT:
        points += 2
        reasons.append(_("weak value (net value %(rating)s)") % {"rating": net_value})
    if retirement_items:
        points += 2
        reasons.append(
            _("retirement candidate in the backlog: %(ids)s")
            % {"ids": ", ".join(f"{item.readable_id} {item.title}".strip() for item in retirement_items)}
        )
        cites += [item.cite() for item in retirement_items]
    if risk_stability is not None and risk_stability <= EXCEPTION_AT:
        points += 1
        reasons.append(_("high risk (risk stability %(rating)s)") % {"rating": risk_stability})
    if invalidated:
        points += 1
        reasons.append(
            _("invalidated assumptions: %(ids)s") % {"ids": ", ".join(a.readable_id for a in invalidated)}
        )
        cites += [a.cite() for a in invalidated]
    if weakened:
        reasons.append(
            _("weakened assumptions: %(ids)s") % {"ids": ", ".join(a.readable_id for a in weakened)}
        )
        cites += [a.cite() for a in weakened]
    rating = 5 - points
    if net_value is None:
        rating = min(rating, 4)
        reasons.append(_("value cannot be read from data"))
    rating = _clamp(rating)
    if not reasons:
        return Suggestion(rating, _("Value holds, risk is within appetite, no assumption failed."))
    return Suggestion(rating, _capital("; ".join(reasons)) + ".", tuple(cites))


def suggest_strategic_fit() -> Suggestion:
    """9.2 strategic fit: alignment to strategy is a person's judgement; no data suggests it."""
    return Suggestion(None, _("A person rates strategic fit: no data suggests it."))


def suggest_all(figures: CapabilityFigures) -> dict[str, Suggestion]:
    """Every dimension's suggestion for one capability (retirement logic reads the suggested net
    value and risk stability, never a person's rating)."""
    net_value = suggest_net_value(
        figures.in_category(Category.OUTCOME),
        figures.in_category(Category.COST),
        [contract for contract in figures.contracts if contract.improvement_not_net],
    )
    risk = suggest_risk_stability(
        figures.in_category(Category.RISK),
        figures.signals,
        figures.holds,
        figures.incidents,
        risk_tier=figures.risk_tier,
    )
    return {
        ScorecardDimension.NET_VALUE: net_value,
        ScorecardDimension.ADOPTION_DURABILITY: suggest_adoption_durability(
            figures.in_category(Category.ADOPTION)
        ),
        ScorecardDimension.RISK_STABILITY: risk,
        ScorecardDimension.EVIDENCE_MATURITY: suggest_evidence_maturity(figures.contracts),
        ScorecardDimension.PLATFORM_REUSE: suggest_platform_reuse(figures.backlog),
        ScorecardDimension.CAPACITY_BURDEN: suggest_capacity_burden(
            [contract for contract in figures.contracts if contract.capacity]
        ),
        ScorecardDimension.STRATEGIC_FIT: suggest_strategic_fit(),
        ScorecardDimension.RETIREMENT_LOGIC: suggest_retirement_logic(
            net_value=net_value.rating,
            risk_stability=risk.rating,
            assumptions=figures.assumptions,
            retirement_items=[item for item in figures.backlog if item.retirement],
        ),
    }


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _unique(cites: Iterable[dict]) -> list[dict]:
    seen, out = set(), []
    for cite in cites:
        key = (cite["kind"], cite["id"])
        if key not in seen:
            seen.add(key)
            out.append(cite)
    return out


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

    contracts = list(
        MetricContract.objects.filter(capability_id__in=ids, status=ContractStatus.ACTIVE).order_by(
            "capability_id", "category", "metric_id"
        )
    )
    by_pk = {contract.pk: contract for contract in contracts}
    history: dict[int, list[tuple]] = defaultdict(list)
    cuts: dict[int, dict[datetime.date, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    evaluations = (
        Evaluation.objects.at_own_grain(contracts)
        .filter(period_start__gte=start, period_start__lte=end)
        .filter(Q(cut="") | Q(contract__category=Category.ADOPTION))
        .order_by("contract_id", "period_start", "cut")
        .values_list("contract_id", "period_start", "cut", "value", "level")
    )
    for contract_id, period_start, cut, value, level in evaluations:
        if cut:
            cuts[contract_id][period_start].append((cut, level))
        else:
            history[contract_id].append((period_start, value, level))

    for contract in contracts:
        rows = history[contract.pk]
        evaluated = [row for row in rows if row[2] != SignalLevel.INSUFFICIENT_DATA and row[1] is not None]
        latest = evaluated[-1] if evaluated else None
        lagging = ()
        if latest is not None:
            lagging = tuple(cut for cut, level in cuts[contract.pk].get(latest[0], []) if _rank(level) >= 1)
        result[contract.capability_id].contracts.append(
            ContractFigure(
                pk=contract.pk,
                metric_id=contract.metric_id,
                name=contract.name,
                category=contract.category,
                evidence_level=contract.evidence_level,
                direction=contract.direction,
                level=latest[2] if latest else SignalLevel.INSUFFICIENT_DATA,
                latest_text=contract.format_value(latest[1]) if latest else "—",
                periods_ok=sum(1 for row in evaluated if row[2] == SignalLevel.OK),
                periods_evaluated=len(evaluated),
                trend=trend_of([row[1] for row in evaluated], contract.direction),
                at_target=meets_target(latest[1] if latest else None, contract.target, contract.direction),
                improvement_not_net=contract.improvement_not_net,
                not_net_reason=contract.improvement_not_net_reason,
                lagging_cuts=lagging,
            )
        )

    for contract_id, level, cut in (
        Signal.objects.open().filter(contract_id__in=list(by_pk)).values_list("contract_id", "level", "cut")
    ):
        contract = by_pk[contract_id]
        result[contract.capability_id].signals.append(
            SignalFigure(contract_pk=contract_id, metric_id=contract.metric_id, level=level, cut=cut)
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


# --- who may do what -----------------------------------------------------------------------------


def may_run_review(user) -> bool:
    """Opening and closing a quarter's review takes A or R on the quarterly portfolio review
    across the organisation (Finance, Executive; an organisation-wide AI PM or Risk partner)."""
    return can_change(user, ACTIVITY)


def may_rate(user, row: ScorecardRow) -> bool:
    """Rating and deciding a capability's row takes A or R on the quarterly portfolio review for
    that capability (its AI PM and Risk partner, Finance, Executive)."""
    return can_change(user, ACTIVITY, row.capability_id)


def _require_run(by) -> None:
    if by is not None:
        require_change(by, ACTIVITY)


def _require_draft(review: PortfolioReview) -> None:
    if review.state != PortfolioReviewState.DRAFT:
        raise TransitionNotAllowed(
            _("The %(quarter)s review is closed: its decisions stand in the decision log.")
            % {"quarter": review.quarter},
            field="state",
        )


def reviews_visible_to(user):
    """Reviews a person may read: every one, for anyone holding a role somewhere (the review
    covers the whole portfolio; the rows they see are those of their capabilities)."""
    if not getattr(user, "is_authenticated", False):
        return PortfolioReview.objects.none()
    if not (user.is_superuser or role_map(user)):
        return PortfolioReview.objects.none()
    return PortfolioReview.objects.all()


def rows_visible_to(user, queryset=None):
    queryset = ScorecardRow.objects.all() if queryset is None else queryset
    visible = visible_capability_ids(user)
    return queryset if visible is None else queryset.filter(capability_id__in=visible)


def get_review_for_user(user, quarter: str) -> PortfolioReview:
    """The review of a quarter, or 404 (also for a person holding no role at all)."""
    return get_object_or_404(
        reviews_visible_to(user).select_related("session__forum"), quarter=str(quarter).upper()
    )


def get_row_for_user(user, pk: int) -> ScorecardRow:
    """A scorecard row, or 404 when the person holds no role on its capability."""
    row = get_object_or_404(ScorecardRow.objects.select_related("review", "capability"), pk=pk)
    if not can_view(user, row.capability_id):
        raise Http404
    return row


# --- services ----------------------------------------------------------------------------------


def _blank_entry() -> dict:
    return {"rating": None, "suggested": None, "evidence": "", "note": "", "cites": []}


def _with_suggestions(ratings: dict, suggestions: dict[str, Suggestion]) -> dict:
    """The ratings with this quarter's suggestions written beside them; a person's rating and
    note are kept as they are."""
    updated = {}
    for dimension in DIMENSIONS:
        entry = {**_blank_entry(), **(ratings.get(dimension) or {})}
        suggestion = suggestions[dimension]
        entry.update(suggested=suggestion.rating, evidence=suggestion.evidence, cites=list(suggestion.cites))
        updated[dimension] = entry
    return updated


@transaction.atomic
def portfolio_review_open(
    *, quarter, session=None, by, today: datetime.date | None = None
) -> PortfolioReview:
    """Open (or re-open) the review of a quarter: one scorecard row for every capability that is
    not retired, with each dimension's suggestion computed from the quarter's data.

    Idempotent: opening again adds rows for capabilities that appeared since and refreshes the
    suggestions of undecided rows, keeping every rating and note a person gave; a decided row
    keeps the suggestions its decision saw; a closed review is returned as it is. A session of
    a quarterly portfolio review forum is linked when the review has none yet."""
    from forums.choices import Cadence
    from portfolio.models import Capability

    _require_run(by)
    quarter = clean_quarter(quarter)
    if session is not None and session.forum.cadence != Cadence.QUARTERLY_PORTFOLIO_REVIEW:
        raise DomainError(
            _("Only a quarterly portfolio review session holds the scorecard."), field="session"
        )
    today = today or timezone.localdate()
    review, created = PortfolioReview.objects.get_or_create(quarter=quarter, defaults={"session": session})
    review = PortfolioReview.objects.select_for_update().get(pk=review.pk)
    if review.state != PortfolioReviewState.DRAFT:
        return review
    if session is not None and review.session_id is None:
        review.session = session
        review._history_user = by
        review._change_reason = _("Linked to the session")
        review.save(update_fields=["session", "updated_at"])

    rows = {
        row.capability_id: row
        for row in review.rows.select_for_update(of=("self",)).select_related("capability")
    }
    capabilities = list(Capability.objects.active().order_by("name"))
    missing = [capability for capability in capabilities if capability.pk not in rows]
    undecided = [row for row in rows.values() if not row.decision]
    subjects = missing + [row.capability for row in undecided]
    start, end = figures_window(quarter, today)
    figures = portfolio_figures(subjects, start=start, end=end)
    suggestions = {capability_id: suggest_all(found) for capability_id, found in figures.items()}

    new_rows = [
        ScorecardRow(
            review=review, capability=capability, ratings=_with_suggestions({}, suggestions[capability.pk])
        )
        for capability in missing
    ]
    if new_rows:
        bulk_create_with_history(
            new_rows, ScorecardRow, default_user=by, default_change_reason=_("Opened with data suggestions")
        )
    changed = []
    now = timezone.now()
    for row in undecided:
        ratings = _with_suggestions(row.ratings, suggestions[row.capability_id])
        if ratings != row.ratings:
            row.ratings = ratings
            row.updated_at = now
            changed.append(row)
    if changed:
        bulk_update_with_history(
            changed,
            ScorecardRow,
            ["ratings", "updated_at"],
            default_user=by,
            default_change_reason=_("Suggestions refreshed from the quarter's data"),
        )
    return review


def _clean_rating(value) -> int:
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise DomainError(_("Rate from 1 to 5."), field="rating")
    return rating


def _locked_row(row: ScorecardRow) -> ScorecardRow:
    return (
        ScorecardRow.objects.select_for_update(of=("self",))
        .select_related("review", "capability", "decision_logged")
        .get(pk=row.pk)
    )


def _sync(target: ScorecardRow, source: ScorecardRow) -> None:
    for field_ in ScorecardRow._meta.concrete_fields:
        setattr(target, field_.attname, getattr(source, field_.attname))
    for name in ("review", "capability", "decision_logged", "decided_by"):
        if ScorecardRow._meta.get_field(name).is_cached(source):
            setattr(target, name, getattr(source, name))


@transaction.atomic
def scorecard_rate(
    *, row: ScorecardRow, dimension: str, by, rating=None, note: str = "", accept: bool = False
) -> ScorecardRow:
    """A person rates one dimension of a capability 1-5: ``accept=True`` takes the data's
    suggestion as it is; any other rating (or a dimension the data cannot speak to) needs a note
    saying what it rests on. A decided row's ratings are frozen with its decision."""
    fresh = _locked_row(row)
    if by is not None:
        require_change(by, ACTIVITY, fresh.capability)
    _require_draft(fresh.review)
    if dimension not in DIMENSIONS:
        raise DomainError(_("Choose one of the eight dimensions of the scorecard."), field="dimension")
    label = ScorecardDimension(dimension).label
    if fresh.decision:
        raise TransitionNotAllowed(
            _(
                "%(capability)s was decided (%(decision)s): its ratings stand with that decision. "
                "Supersede the decision to change it."
            )
            % {"capability": fresh.capability.name, "decision": fresh.get_decision_display()},
            field="rating",
        )
    entry = {**_blank_entry(), **(fresh.ratings.get(dimension) or {})}
    suggested = entry.get("suggested")
    note = (note or "").strip()
    if accept:
        if suggested is None:
            raise DomainError(
                _("The data suggests nothing for %(dimension)s: give your rating and say what it rests on.")
                % {"dimension": str(label).lower()},
                field="rating",
            )
        value = suggested
    else:
        value = _clean_rating(rating)
        if value != suggested and not note:
            message = (
                _("The data suggests %(suggested)s: say why you rate %(rating)s.")
                % {"suggested": suggested, "rating": value}
                if suggested is not None
                else _("No data speaks to %(dimension)s: say what your rating rests on.")
                % {"dimension": str(label).lower()}
            )
            raise DomainError(message, field="note")
    entry.update(rating=value, note=note)
    fresh.ratings = {**fresh.ratings, dimension: entry}
    fresh._history_user = by
    fresh._change_reason = f"{label}: {value}" + (" " + _("(suggestion accepted)") if accept else "")
    fresh.save(update_fields=["ratings", "updated_at"])
    _sync(row, fresh)
    return row


def _cited_records(ratings: dict) -> list:
    """The records the ratings cite (contracts, incidents, assumptions, backlog items), loaded
    with one query per kind, in the order cited."""
    from assumptions.models import Assumption
    from contracts.models import MetricContract
    from incidents.models import Incident
    from portfolio.models import BacklogItem

    models = {
        "contract": MetricContract,
        "incident": Incident,
        "assumption": Assumption,
        "backlog": BacklogItem,
    }
    wanted: dict[str, list[int]] = defaultdict(list)
    order = []
    for dimension in DIMENSIONS:
        for cite in (ratings.get(dimension) or {}).get("cites") or []:
            kind, pk = cite.get("kind"), cite.get("id")
            if kind in models and (kind, pk) not in order:
                order.append((kind, pk))
                wanted[kind].append(pk)
    found = {
        (kind, record.pk): record
        for kind, pks in wanted.items()
        for record in models[kind].objects.filter(pk__in=pks)
    }
    return [found[key] for key in order if key in found]


def _decision_text(row: ScorecardRow, decision: str, fields: dict) -> str:
    lines = [
        _("%(quarter)s portfolio review — %(decision)s: %(basis)s")
        % {
            "quarter": row.review.quarter,
            "decision": PortfolioDecision(decision).label,
            "basis": fields["evidence_basis"],
        },
        _("Funding change: %(value)s") % {"value": fields["funding_change"]},
    ]
    if fields["platform_dependency"]:
        lines.append(_("Platform dependency: %(value)s") % {"value": fields["platform_dependency"]})
    lines.append(_("Risk condition: %(value)s") % {"value": fields["risk_condition"]})
    return "\n".join(lines)


OUTPUT_FIELDS = ("evidence_basis", "funding_change", "platform_dependency", "risk_condition", "next_review")
REQUIRED_OUTPUT = {
    "evidence_basis": gettext_lazy("Say what evidence the decision rests on (9.4 evidence basis)."),
    "funding_change": gettext_lazy("Say what happens to the funding (9.4 funding change), e.g. “no change”."),
    "risk_condition": gettext_lazy("Name the risk condition the decision holds under (9.4)."),
    "next_review": gettext_lazy("Say when the decision is looked at again (9.4 next review)."),
}


@transaction.atomic
def scorecard_decide(
    *,
    row: ScorecardRow,
    by,
    decision: str,
    evidence_basis: str,
    funding_change: str,
    risk_condition: str,
    next_review: str,
    platform_dependency: str = "",
    supersede: bool = False,
) -> ScorecardRow:
    """Take the decision of 9.3 for a capability and fill its output row of 9.4.

    Every dimension must be rated first. The decision is written to the decision log (its type
    mapped from the portfolio decision, the review's session as the forum session, the records
    the ratings cite as evidence, the person as its owner) and linked on the row. A decided row
    is never silently changed: deciding again needs ``supersede=True`` and records a new decision
    that supersedes the logged one; the log keeps both."""
    fresh = _locked_row(row)
    if by is None:
        raise DomainError(_("A person takes the portfolio decision."), field="decided_by")
    require_change(by, ACTIVITY, fresh.capability)
    _require_draft(fresh.review)
    if decision not in PortfolioDecision.values:
        raise DomainError(
            _("Choose fund, scale, scale selectively, restrict, consolidate, platformize, pause or retire."),
            field="decision",
        )
    unrated = [
        str(ScorecardDimension(dimension).label).lower()
        for dimension in DIMENSIONS
        if (fresh.ratings.get(dimension) or {}).get("rating") is None
    ]
    if unrated:
        raise DomainError(
            _("Rate every dimension before deciding: %(names)s still unrated.")
            % {"names": ", ".join(unrated)},
            field="ratings",
        )
    values = {
        "evidence_basis": evidence_basis,
        "funding_change": funding_change,
        "platform_dependency": platform_dependency,
        "risk_condition": risk_condition,
        "next_review": next_review,
    }
    values = {name: (value or "").strip() for name, value in values.items()}
    for name, message in REQUIRED_OUTPUT.items():
        if not values[name]:
            raise DomainError(str(message), field=name)
    for name in ("funding_change", "platform_dependency", "next_review"):
        limit = ScorecardRow._meta.get_field(name).max_length
        if len(values[name]) > limit:
            raise DomainError(_("Keep it under %(limit)s characters.") % {"limit": limit}, field=name)
    previous = fresh.decision_logged
    if previous is not None and not supersede:
        raise TransitionNotAllowed(
            _(
                "%(capability)s was already decided: %(decision)s (%(id)s). To change it, supersede "
                "that decision: the decision log keeps both."
            )
            % {
                "capability": fresh.capability.name,
                "decision": fresh.get_decision_display(),
                "id": previous.readable_id,
            },
            field="decision",
        )

    from decisions.services import decision_record

    review_date = review_date_of(values["next_review"])
    if review_date is not None and review_date < timezone.localdate():
        review_date = None
    # The quarterly review's keepers (Finance, Executive, Risk) are not all writers of the decision
    # log: then the system records it, and the person stands as its owner (as releases do).
    recorder = by if can_change(by, Activity.DECISION_LOG, fresh.capability) else None
    record = decision_record(
        capability=fresh.capability,
        by=recorder,
        type=DECISION_TYPES[decision],
        decision=_decision_text(fresh, decision, values),
        options_considered=_(
            "Fund, scale, scale selectively, restrict, consolidate, platformize, pause or retire "
            "(quarterly portfolio review, 9.3)."
        ),
        owner=by,
        evidence=_cited_records(fresh.ratings),
        review_trigger=_("Next review: %(when)s") % {"when": values["next_review"]},
        review_date=review_date,
        forum_session=fresh.review.session,
        decided_on=fresh.review.session.meeting_day if fresh.review.session else None,
        supersedes=previous,
        details={
            "quarter": fresh.review.quarter,
            "portfolio_decision": decision,
            **values,
            "ratings": {
                dimension: (fresh.ratings.get(dimension) or {}).get("rating") for dimension in DIMENSIONS
            },
        },
    )
    fresh.decision = decision
    for name, value in values.items():
        setattr(fresh, name, value)
    fresh.decided_by = by
    fresh.decision_logged = record
    fresh._history_user = by
    fresh._change_reason = (
        _("Decided: %(decision)s (%(id)s)")
        if previous is None
        else _("Decision superseded: %(decision)s (%(id)s)")
    ) % {"decision": PortfolioDecision(decision).label, "id": record.readable_id}
    fresh.save()
    if fresh.review.session_id:
        session_decision_outcome(session=fresh.review.session, decision=record, by=by)
    _sync(row, fresh)
    return row


@transaction.atomic
def portfolio_review_close(*, review: PortfolioReview, by) -> PortfolioReview:
    """Close the quarter's review: every capability on the scorecard must have its decision."""
    _require_run(by)
    fresh = PortfolioReview.objects.select_for_update().get(pk=review.pk)
    _require_draft(fresh)
    undecided = list(
        fresh.rows.filter(decision="").order_by("capability__name").values_list("capability__name", flat=True)
    )
    if undecided:
        raise DomainError(
            ngettext(
                "Every capability needs its decision before the review closes: %(names)s is undecided.",
                "Every capability needs its decision before the review closes: %(names)s are undecided.",
                len(undecided),
            )
            % {"names": ", ".join(undecided)},
            field="rows",
        )
    fresh.state = PortfolioReviewState.DECIDED
    fresh.decided_at = timezone.now()
    fresh._history_user = by
    fresh._change_reason = _("Review closed")
    fresh.save(update_fields=["state", "decided_at", "updated_at"])
    review.state, review.decided_at = fresh.state, fresh.decided_at
    return review


# --- what the scorecard page shows ---------------------------------------------------------------


@dataclass
class Cell:
    """One dimension of one row as the scorecard shows it."""

    dimension: str
    label: str
    rating: int | None
    suggested: int | None
    evidence: str
    note: str

    @property
    def differs(self) -> bool:
        """The person's rating and the data's suggestion disagree (both present)."""
        return self.rating is not None and self.suggested is not None and self.rating != self.suggested

    @property
    def shown(self) -> int | None:
        """The rating, or the suggestion while unrated: what an exception is read from."""
        return self.rating if self.rating is not None else self.suggested

    @property
    def exception(self) -> bool:
        return self.shown is not None and self.shown <= EXCEPTION_AT


@dataclass
class RowView:
    row: ScorecardRow
    cells: list[Cell]
    can_edit: bool
    retirement_items: list = field(default_factory=list)
    # Set by a page answering a refused rating or decision, to show it in place.
    error: str = ""
    error_dimension: str = ""
    decision_form: object = None

    @property
    def exceptions(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.exception]

    @property
    def unrated(self) -> int:
        return sum(1 for cell in self.cells if cell.rating is None)

    @property
    def retirement_cell(self) -> Cell:
        return next(cell for cell in self.cells if cell.dimension == ScorecardDimension.RETIREMENT_LOGIC)

    @property
    def retirement_candidate(self) -> bool:
        """16.3 "retirement candidates are reviewed quarterly": a weak retirement logic (rated or
        suggested) or an open retirement item in the backlog."""
        return self.retirement_cell.exception or bool(self.retirement_items)

    @property
    def stop_decision(self) -> bool:
        return self.row.decision in (PortfolioDecision.PAUSE, PortfolioDecision.RETIRE)


def row_view(row: ScorecardRow, user, retirement_items=()) -> RowView:
    cells = []
    for dimension in DIMENSIONS:
        entry = row.ratings.get(dimension) or {}
        cells.append(
            Cell(
                dimension=dimension,
                label=str(ScorecardDimension(dimension).label),
                rating=entry.get("rating"),
                suggested=entry.get("suggested"),
                evidence=entry.get("evidence") or "",
                note=entry.get("note") or "",
            )
        )
    return RowView(
        row=row, cells=cells, can_edit=may_rate(user, row), retirement_items=list(retirement_items)
    )


def scorecard_rows(review: PortfolioReview, user) -> list[RowView]:
    """The rows of a review the person may see, with the backlog's open retirement candidates of
    each capability: two queries however many capabilities."""
    from portfolio.backlog_ranking import backlog_rank
    from portfolio.models import BacklogItem

    rows = list(
        rows_visible_to(user, review.rows.all())
        .select_related("capability", "decided_by", "decision_logged")
        .order_by("capability__name")
    )
    items = BacklogItem.objects.retirement_candidates().filter(
        capability_id__in=[row.capability_id for row in rows]
    )
    by_capability: dict[int, list] = defaultdict(list)
    if rows:
        for entry in backlog_rank(list(items.select_related("capability")), problem_spread={}):
            by_capability[entry.item.capability_id].append(entry.item)
    return [row_view(row, user, by_capability.get(row.capability_id, ())) for row in rows]


def decisions_first(views: list[RowView]) -> list[RowView]:
    """The order an executive reads the 9.4 output in: retirement candidates, then rows with
    exceptions (most first), then the rest, by name within each."""
    return sorted(
        views,
        key=lambda view: (
            not view.retirement_candidate,
            -len(view.exceptions),
            view.row.capability.name,
        ),
    )


def decision_counts(views: list[RowView]) -> list[tuple[str, str, int]]:
    """[(decision, label, count)] in 9.3's order, zeros included: pause and retire are counted
    like every other decision."""
    counts = defaultdict(int)
    for view in views:
        if view.row.decision:
            counts[view.row.decision] += 1
    return [(value, str(label), counts[value]) for value, label in PortfolioDecision.choices]
