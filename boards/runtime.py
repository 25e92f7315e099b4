"""The runtime signal board (playbook 18.1, read daily by the PM, architect, ops and platform):
what is on fire and what needs someone today — open incidents by severity, SLO, latency and
fallback contracts, cost anomalies, the signals opened in the last 24 hours — and the podcast's
five dashboard signals: evals pass rate, confidence-distribution drift, override and escalation
trends, cost-to-outcome movement and time-to-remediation.

Plain data for the page, loaded in a fixed number of queries whatever the size of the portfolio
(one per kind of record). What each figure is:

* A contract's **figure**: its latest evaluated period (whole population, at the contract's own
  grain), its level, and the change against the period before.
* A **cost anomaly**: a cost contract (review queues excepted: a queue is capacity, not spend)
  whose latest level is warning or worse, or whose value moved ``SHARP_RISE`` (10%) or more in
  the worse direction since the previous period.
* A signal's **opening**: the moment its data could first show it — the end of the period it
  crossed in — or the moment the evaluation raised it when that came first. A backfill that
  raises an old period is not news of the day; its remediation time still counts from then.
* **Cost to outcome**: cost per good outcome = cost per case ÷ the share of cases with the good
  outcome (the outcome's value when higher is better, 1 − value when lower is better), for each
  cost-per-case contract and each outcome contract of the same capability measured as a share;
  its movement compares the latest period both contracts have with the one
  ``COST_OUTCOME_PERIODS`` periods before; under ``COST_OUTCOME_NOTICE`` (5%) either way it is
  steady, not flagged.
* **Time to remediation**: from a signal or incident being opened to the verified closure of
  its action(s) — every action it raised closed, each with closure evidence a reviewer accepted;
  the time is the last acceptance. Signals of one problem that share an action are one
  remediation; an incident counts from the day it occurred. Median and p90 by capability over
  remediations verified in the last ``REMEDIATION_WINDOW_DAYS`` days; every unremediated one is
  listed with its age (an incident with no corrective action yet, a signal whose action is open,
  reopened, or closed without accepted evidence).
"""

import datetime
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from actions.choices import ActionStatus, EvidenceVerdict
from actions.models import Action, ClosureEvidence
from actions.querysets import not_closed
from contracts.choices import LEVEL_RANK, Category, Direction, SignalLevel, Watch
from contracts.models import Evaluation, MetricContract, Signal, StopHold
from contracts.periods import shift_period
from contracts.querysets import own_grain_sql, read_active_contracts
from forums.meeting import delta_text, level_label
from incidents.choices import IncidentSeverity, IncidentState
from incidents.models import Incident
from portfolio.models import Capability
from portfolio.querysets import visible_capabilities
from productops.prepared import prepared, prepared_counts
from productops.reads import fetch, fields_of, placeholders

# How far back a figure looks: the latest period, the one before, and COST_OUTCOME_PERIODS
# before that for a monthly contract.
FIGURE_WINDOW_DAYS = 190
SHARP_RISE = 0.10
NEW_SIGNAL_HOURS = 24
COST_OUTCOME_PERIODS = 4
# A cost per good outcome that moved less than this (either way) is steady: not flagged, so the
# board shows exceptions rather than noise (18.4).
COST_OUTCOME_NOTICE = 0.05
REMEDIATION_WINDOW_DAYS = 90
# Trend cards drawn with the page (the most alarming first); the others load as the reader
# scrolls to them (the same card from the chart endpoint), so a board of forty charts opens fast.
EAGER_CARDS = 12

RUNTIME_WATCHES = {
    "slo": (Watch.SLO, Watch.LATENCY),
    "fallback": (Watch.FALLBACK_RATE,),
    "eval": (Watch.EVAL_PASS_RATE,),
    "drift": (Watch.CONFIDENCE_DRIFT,),
    "override": (Watch.OVERRIDE_RATE, Watch.ESCALATION_RATE),
}
WARNING_RANK = LEVEL_RANK[SignalLevel.WARNING]
BREACH_RANK = LEVEL_RANK[SignalLevel.BREACH]


def rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1)


# --- whose board: the capabilities in scope ------------------------------------------------------


class UnknownCapability(Http404):
    """``?capability=`` names no capability this person may read (none by that slug, or one they
    hold no role on: the answer is the same, so it tells an outsider nothing). A 404 whose page
    can name the value and offer the capabilities the person may read."""

    def __init__(self, slug: str, visible: list[Capability]):
        super().__init__(_("No capability “%(slug)s” that you may read.") % {"slug": slug})
        self.slug = slug
        self.visible = visible


def board_scope(request) -> tuple[list[Capability], Capability | None, list[Capability]]:
    """(capabilities the board shows, the one asked for or None, every one the person may read)
    for this person: ``?capability=<slug>`` (``UnknownCapability``, a 404, when they may not read
    it; ``all`` for every one), else the navbar's current capability, else every capability they
    may read. One query (and the person's roles)."""
    visible = visible_capabilities(request.user)
    asked = request.GET.get("capability")
    slug = asked if asked is not None else request.session.get("current_capability", "")
    if slug and slug != "all":
        chosen = next((capability for capability in visible if capability.slug == slug), None)
        if chosen is not None:
            return [chosen], chosen, visible
        if asked is not None:
            raise UnknownCapability(slug, visible)
    return visible, None, visible


# --- contract figures ------------------------------------------------------------------------


@dataclass
class ContractFigure:
    """A contract's latest figure as a board reads it: the whole population's recent periods
    (oldest first, ``(period start, value, level)``), the latest period's cuts and the worst open
    signal."""

    contract: MetricContract
    history: list[tuple[datetime.date, float, str]] = field(default_factory=list)
    # The latest period's cuts as read (by cut): ``(cut, value, level)``.
    cut_rows: list[tuple[str, float | None, str]] = field(default_factory=list)
    signal: Signal | None = None
    # The trend card the board draws for it (set by the board's view).
    card: object = None

    @property
    def latest(self):
        return self.history[-1] if self.history else None

    @property
    def previous(self):
        return self.history[-2] if len(self.history) > 1 else None

    @property
    def period(self) -> datetime.date | None:
        return self.latest[0] if self.latest else None

    @property
    def value(self) -> float | None:
        return self.latest[1] if self.latest else None

    @property
    def level(self) -> str:
        return self.latest[2] if self.latest else SignalLevel.INSUFFICIENT_DATA

    @property
    def level_label(self) -> str:
        return level_label(self.level)

    @property
    def value_text(self) -> str:
        return self.contract.format_value(self.value)

    @property
    def change(self) -> float | None:
        if self.latest is None or self.previous is None:
            return None
        return self.latest[1] - self.previous[1]

    @property
    def change_text(self) -> str:
        return delta_text(self.contract, self.change)

    @property
    def relative_change(self) -> float | None:
        """The change as a share of the previous value (None when there is none to divide by)."""
        if self.change is None or not self.previous[1]:
            return None
        return self.change / abs(self.previous[1])

    @property
    def worse_by(self) -> float | None:
        """How much worse than the previous period, as a share (negative: better)."""
        relative = self.relative_change
        if relative is None:
            return None
        return relative if self.contract.direction == Direction.LOWER_IS_BETTER else -relative

    @property
    def improved(self) -> bool | None:
        if not self.change or self.change_text.startswith("±"):
            return None
        return (self.change > 0) == (self.contract.direction == Direction.HIGHER_IS_BETTER)

    @cached_property
    def cuts(self) -> list[dict]:
        """The latest period's cuts, worst first: ``{"cut", "value_text", "level", "level_label"}``.
        Ranked and put in words when first read (read once the figure is loaded): most figures of
        a board are only ranked by their worst level, and only the figures shown need their cuts'
        order and words."""
        labels: dict[str, str] = {}
        cuts = []
        for cut, value, level in sorted(self.cut_rows, key=_worst_cut_first):
            if level not in labels:
                labels[level] = level_label(level)
            cuts.append(
                {
                    "cut": cut,
                    "value_text": self.contract.format_value(value),
                    "level": level,
                    "level_label": labels[level],
                }
            )
        return cuts

    @cached_property
    def worst_level(self) -> str:
        """The worst level of the whole population and its latest cuts (read once the figure is
        loaded: the boards sort and fold by it many times)."""
        return max([self.level, *(level for _cut, _value, level in self.cut_rows)], key=rank)

    @property
    def alarming(self) -> bool:
        return rank(self.worst_level) >= WARNING_RANK

    @property
    def cuts_past_warning(self) -> list[dict]:
        return [cut for cut in self.cuts if rank(cut["level"]) >= WARNING_RANK]

    @property
    def cohorts(self) -> list[tuple[str, list[dict]]]:
        """The latest cuts by dimension: ``[("intent", [{"value": "billing", ...}]), ...]``."""
        return by_dimension(self.cuts)

    @property
    def cohorts_past_warning(self) -> list[tuple[str, list[dict]]]:
        return by_dimension(self.cuts_past_warning)

    def value_at(self, period: datetime.date) -> float | None:
        return next((value for start, value, _level in self.history if start == period), None)


def _worst_cut_first(row: tuple[str, float | None, str]) -> tuple[int, str]:
    """The order of a figure's cuts: the worst level first, then by cut."""
    return -rank(row[2]), row[0]


def by_dimension(cuts: list[dict]) -> list[tuple[str, list[dict]]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for cut in sorted(cuts, key=lambda row: row["cut"]):
        dimension, _sep, value = cut["cut"].partition("=")
        grouped[dimension].append({**cut, "value": value})
    return list(grouped.items())


def load_figures(
    contracts: list[MetricContract],
    signals: list[Signal],
    today: datetime.date,
    *,
    full_history: set[int] | frozenset = frozenset(),
) -> dict:
    """{contract id: ContractFigure} from two Evaluation statements: the whole population's
    latest two periods in the window (the figure and its change), every period of the window for
    the contracts in ``full_history`` (the runtime board's cost-to-outcome pairs go back
    ``COST_OUTCOME_PERIODS``); then the cuts of each contract's latest period only (one condition
    per distinct grain and latest period, not one per contract: the older periods' cuts are never
    shown, and at scale they were five rows in six). ``signals`` are the open signals already
    loaded (the worst one per contract is kept)."""
    figures = {contract.pk: ContractFigure(contract=contract) for contract in contracts}
    # Hand-written (productops.reads): the ORM compiled this windowed read over some 400
    # contracts in ~2.5 ms a render.
    own_grain, params = own_grain_sql(contracts, "e")
    kept, kept_params = "back <= 2", []
    if full_history:
        history_ids = sorted(full_history)
        kept = f"(back <= 2 OR contract_id IN ({placeholders(history_ids)}))"
        kept_params = history_ids
    whole = fetch(
        "SELECT contract_id, period_start, value, level FROM ("
        "SELECT e.contract_id, e.period_start, e.value, e.level, "
        "ROW_NUMBER() OVER (PARTITION BY e.contract_id ORDER BY e.period_start DESC) AS back "
        f"FROM contracts_evaluation e WHERE {own_grain} AND e.period_start >= %s AND e.period_start <= %s "
        "AND e.cut = '' AND e.value IS NOT NULL) latest "
        f"WHERE {kept} ORDER BY contract_id, period_start",
        [*params, today - datetime.timedelta(days=FIGURE_WINDOW_DAYS), today, *kept_params],
        fields_of(Evaluation, "contract_id", "period_start", "value", "level"),
    )
    for contract_id, period, value, level in whole:
        figures[contract_id].history.append((period, value, level))
    _load_latest_cuts(figures)
    for signal in sorted(signals, key=lambda s: (-rank(s.level), s.cut)):
        figure = figures.get(signal.contract_id)
        if figure is not None and figure.signal is None and signal.resolved_period is None:
            figure.signal = signal
    return figures


def _load_latest_cuts(figures: dict[int, "ContractFigure"]) -> None:
    """Each figure's cuts of its latest period (by cut; ``ContractFigure.cuts`` ranks those
    shown), in one statement: the contracts are grouped by grain and latest period, one
    condition per group."""
    latest: dict[tuple[str, datetime.date], list[int]] = defaultdict(list)
    for pk, figure in figures.items():
        if figure.latest is not None:
            latest[(figure.contract.grain, figure.period)].append(pk)
    if not latest:
        return
    clauses, params = [], []
    for (grain, period), ids in latest.items():
        clauses.append(f"(grain = %s AND period_start = %s AND contract_id IN ({placeholders(ids)}))")
        params += [grain, period, *ids]
    rows = fetch(
        f"SELECT contract_id, cut, value, level FROM contracts_evaluation WHERE ({' OR '.join(clauses)}) "
        "AND cut <> '' ORDER BY contract_id, cut",
        params,
        fields_of(Evaluation, "contract_id", "cut", "value", "level"),
    )
    cut_rows = {pk: figure.cut_rows for pk, figure in figures.items()}
    for contract_id, cut, value, level in rows:
        cut_rows[contract_id].append((cut, value, level))


def alarming_first(figures: list[ContractFigure]) -> list[ContractFigure]:
    return sorted(
        figures,
        key=lambda f: (-rank(f.worst_level), f.contract.capability.name, f.contract.metric_id),
    )


# --- trend cards -------------------------------------------------------------------------------


@dataclass
class PendingCard:
    """A trend card that loads when the reader scrolls to it (htmx ``revealed``), with a plain
    link to the same card for a browser without JavaScript."""

    contract: MetricContract
    pending: bool = True

    @property
    def dom_id(self) -> str:
        from boards.cards import TrendCard

        return TrendCard.dom_id.fget(self)

    @property
    def url(self) -> str:
        from boards.cards import TrendCard

        return TrendCard.url.fget(self)


def board_cards(figures: list[ContractFigure], *, eager: int = EAGER_CARDS) -> dict[int, object]:
    """{contract id: trend card} for the figures, drawn in one batch for the ``eager`` most
    alarming ones and pending (drawn on reveal) for the rest."""
    from boards.cards import trend_cards

    ordered = alarming_first(figures)
    drawn = trend_cards([figure.contract for figure in ordered[:eager]])
    cards = {card.contract.pk: card for card in drawn}
    for figure in ordered[eager:]:
        cards[figure.contract.pk] = PendingCard(figure.contract)
    return cards


# --- the runtime board's readings -------------------------------------------------------------


def signal_opened_at(signal: Signal) -> datetime.datetime:
    """When the signal's data could first show it: the end of the period it crossed in, or when
    the evaluation raised it if that came first (see the module docstring)."""
    grain = signal.contract.grain
    period_end = timezone.make_aware(
        datetime.datetime.combine(shift_period(signal.opened_period, grain, 1), datetime.time.min)
    )
    return min(signal.created_at, period_end)


def incident_opened_at(incident: Incident) -> datetime.datetime:
    """The start of the day the incident occurred (or when it was recorded, if that was earlier)."""
    day_start = timezone.make_aware(datetime.datetime.combine(incident.occurred_on, datetime.time.min))
    return min(day_start, incident.created_at)


def days_between(start: datetime.datetime, end: datetime.datetime) -> float:
    return (end - start).total_seconds() / 86400


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` quantile with linear interpolation between closest ranks (numpy's default;
    ``statistics.quantiles(method="inclusive")``): p90 of [1, 2, 3, 4, 10] is 7.6."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class NewSignal:
    """A signal opened in the last 24 hours."""

    signal: Signal
    opened_at: datetime.datetime

    @property
    def contract(self) -> MetricContract:
        return self.signal.contract

    @property
    def level_label(self) -> str:
        return level_label(self.signal.level)


@dataclass
class CostAnomaly:
    """A cost contract past warning, or sharply worse than the period before."""

    figure: ContractFigure
    past_warning: bool
    sharp_rise: bool

    @property
    def contract(self) -> MetricContract:
        return self.figure.contract

    @property
    def rise_percent(self) -> float | None:
        worse = self.figure.worse_by
        return None if worse is None else worse * 100


@dataclass
class CostToOutcome:
    """One cost-per-case contract against one outcome it buys, now and COST_OUTCOME_PERIODS
    periods before (see the module docstring for the computation)."""

    cost: ContractFigure
    outcome: ContractFigure
    period: datetime.date
    earlier: datetime.date | None
    cost_now: float
    cost_then: float | None
    good_now: float
    good_then: float | None

    @property
    def capability(self) -> Capability:
        return self.cost.contract.capability

    @property
    def per_good_now(self) -> float | None:
        return self.cost_now / self.good_now if self.good_now > 0 else None

    @property
    def per_good_then(self) -> float | None:
        if self.cost_then is None or not self.good_then:
            return None
        return self.cost_then / self.good_then

    @property
    def movement(self) -> float | None:
        """Relative change of the cost per good outcome (positive: each good outcome costs more)."""
        if self.per_good_now is None or not self.per_good_then:
            return None
        return self.per_good_now / self.per_good_then - 1

    @property
    def movement_percent(self) -> float | None:
        return None if self.movement is None else self.movement * 100

    @property
    def cost_movement_percent(self) -> float | None:
        if not self.cost_then:
            return None
        return (self.cost_now / self.cost_then - 1) * 100

    @property
    def good_movement_points(self) -> float | None:
        """The change of the good-outcome share in percentage points (positive: better)."""
        if self.good_then is None:
            return None
        return (self.good_now - self.good_then) * 100

    @property
    def worse(self) -> bool:
        """Each good outcome costs COST_OUTCOME_NOTICE or more than it did."""
        return self.movement is not None and self.movement >= COST_OUTCOME_NOTICE

    @property
    def better(self) -> bool:
        return self.movement is not None and self.movement <= -COST_OUTCOME_NOTICE

    @property
    def good_label(self) -> str:
        """What one good outcome is, in the outcome contract's words."""
        if self.outcome.contract.direction == Direction.HIGHER_IS_BETTER:
            return self.outcome.contract.name
        return _("no “%(name)s”") % {"name": self.outcome.contract.name.lower()}

    @property
    def per_good_now_text(self) -> str:
        """E.g. "0.49 GBP": the cost contract's currency (the first word of its unit)."""
        value = self.per_good_now
        if value is None:
            return "—"
        currency = (self.cost.contract.unit.split() or [""])[0]
        number = f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{number} {currency}".strip()


@dataclass
class Remediation:
    """One problem from opening to verified closure: a signal (with the other cuts' signals that
    share its action) or an incident with its corrective actions."""

    kind: str  # "signal" or "incident"
    capability: Capability
    title: str
    url: str
    opened_at: datetime.datetime
    actions: list[Action]
    verified_at: datetime.datetime | None
    status: str
    severity: str = ""
    now: datetime.datetime | None = None

    @property
    def remediated(self) -> bool:
        return self.verified_at is not None

    @property
    def days(self) -> float | None:
        return days_between(self.opened_at, self.verified_at) if self.verified_at else None

    def age_days(self, now: datetime.datetime) -> float:
        return days_between(self.opened_at, now)

    @property
    def age_days_now(self) -> float | None:
        return self.age_days(self.now) if self.now else None


@dataclass
class RemediationRow:
    """Time to remediation of one capability."""

    capability: Capability
    remediated: list[Remediation]
    open: list[Remediation]

    @cached_property
    def days(self) -> list[float]:
        return [item.days for item in self.remediated]

    @cached_property
    def median(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    @cached_property
    def p90(self) -> float | None:
        return percentile(self.days, 0.9)


@dataclass
class NeedItem:
    """One thing on the board that needs someone today, most urgent first."""

    urgency: int
    level: str
    label: str
    what: str
    detail: str
    capability: Capability | None
    url: str
    action: Action | None = None
    yours: bool = False


@dataclass
class RuntimeBoard:
    capabilities: list[Capability]
    now: datetime.datetime
    figures: dict[int, ContractFigure]
    incidents: list[Incident]
    new_signals: list[NewSignal]
    open_signals: list[Signal]
    holds: list[StopHold]
    cost_anomalies: list[CostAnomaly]
    cost_to_outcome: list[CostToOutcome]
    remediation: list[RemediationRow]
    mine: dict[str, int]
    needs: list[NeedItem] = field(default_factory=list)

    @property
    def today(self) -> datetime.date:
        return timezone.localdate(self.now)

    def watching(self, key: str) -> list[ContractFigure]:
        watches = RUNTIME_WATCHES[key]
        return alarming_first([f for f in self.figures.values() if f.contract.watch in watches])

    @cached_property
    def slo(self) -> list[ContractFigure]:
        return self.watching("slo")

    @cached_property
    def fallback(self) -> list[ContractFigure]:
        return self.watching("fallback")

    @cached_property
    def evals(self) -> list[ContractFigure]:
        return self.watching("eval")

    @cached_property
    def drift(self) -> list[ContractFigure]:
        return self.watching("drift")

    @cached_property
    def overrides(self) -> list[ContractFigure]:
        return self.watching("override")

    @cached_property
    def charted(self) -> list[ContractFigure]:
        """Every figure the board draws a trend card for."""
        seen, charted = set(), []
        for figure in [
            *self.slo,
            *self.fallback,
            *(anomaly.figure for anomaly in self.cost_anomalies),
            *self.evals,
            *self.drift,
            *self.overrides,
        ]:
            if figure.contract.pk not in seen:
                seen.add(figure.contract.pk)
                charted.append(figure)
        return charted

    @cached_property
    def cost_anomaly_figures(self) -> list[ContractFigure]:
        return [anomaly.figure for anomaly in self.cost_anomalies]

    @cached_property
    def open_incidents(self) -> list[Incident]:
        return [incident for incident in self.incidents if incident.state != IncidentState.CLOSED]

    @cached_property
    def incidents_by_severity(self) -> list[tuple[str, str, list[Incident]]]:
        grouped = defaultdict(list)
        for incident in self.open_incidents:
            grouped[incident.severity].append(incident)
        return [(value, label, grouped[value]) for value, label in IncidentSeverity.choices]

    @cached_property
    def holds_by_capability(self) -> list[tuple[Capability, list[StopHold]]]:
        """The stop holds in force, by the capability whose releases they hold (oldest first)."""
        grouped: dict[int, list[StopHold]] = defaultdict(list)
        for hold in self.holds:
            grouped[hold.capability_id].append(hold)
        return [(holds[0].capability, holds) for holds in grouped.values()]

    @cached_property
    def signals_at_breach(self) -> list[Signal]:
        return [signal for signal in self.open_signals if rank(signal.level) >= BREACH_RANK]

    @cached_property
    def unremediated(self) -> list[Remediation]:
        items = [item for row in self.remediation for item in row.open]
        return sorted(items, key=lambda item: item.opened_at)

    @cached_property
    def oldest_unremediated_days(self) -> float | None:
        items = self.unremediated
        return items[0].age_days(self.now) if items else None


def _scope_ids(capabilities) -> list[int]:
    return [capability.pk for capability in capabilities]


def active_contracts(
    capabilities: list[Capability], *, categories=(), watches=(), other_than_watches=()
) -> list[MetricContract]:
    """The active contracts of these capabilities (of ``categories``, watching one of
    ``watches`` or none of ``other_than_watches``, when given), by capability name and metric
    id. Each holds its capability from ``capabilities`` (already read), not a copy of its own
    per contract; when the row was created and changed is not read (no board shows it)."""
    return with_capability(
        read_active_contracts(
            _scope_ids(capabilities),
            categories=categories,
            watches=watches,
            other_than_watches=other_than_watches,
        ),
        capabilities,
    )


def with_capability(records, capabilities: list[Capability]) -> list:
    """The records (incidents, releases: anything with a ``capability`` of these), each holding
    its capability from ``capabilities`` (already read) instead of a copy per record."""
    by_pk = {capability.pk: capability for capability in capabilities}
    records = list(records)
    for record in records:
        record.capability = by_pk[record.capability_id]
    return records


def attach_contracts(signals: list[Signal], contracts: list[MetricContract]) -> list[Signal]:
    """Give each signal its contract (with its capability) from the contracts already read; the
    contracts no longer active that some signals still name are read in one statement."""
    by_pk = {contract.pk: contract for contract in contracts}
    missing = {signal.contract_id for signal in signals} - by_pk.keys()
    if missing:
        by_pk.update(
            (contract.pk, contract)
            for contract in MetricContract.objects.filter(pk__in=missing).select_related("capability")
        )
    for signal in signals:
        signal.contract = by_pk[signal.contract_id]
    return signals


def _signals(ids, now, window_start, contracts=None) -> list[Signal]:
    """Open signals, signals raised in the last 24 hours, and the signals whose action is still
    to be remediated or was closed in the remediation window: one query (and their contracts
    from ``contracts`` when given, see ``attach_contracts``; else read with them)."""
    raised_recently = now - datetime.timedelta(hours=NEW_SIGNAL_HOURS)
    signals = _signal_rows(tuple(ids), contracts is None, raised_recently, window_start)
    return signals if contracts is None else attach_contracts(signals, contracts)


@prepared(bound=2)
def _signal_rows(ids: tuple, with_contracts: bool, raised_recently, window_start):
    """The statement of ``_signals`` (with each signal's contract and capability when
    ``with_contracts``)."""
    with_action = Q(action__isnull=False) & (
        ~Q(action__status=ActionStatus.CLOSED) | Q(action__closed_at__gte=window_start)
    )
    # The action's owner is named on the board; its reviewer and escalation are only compared
    # with the reader by id (``_involves``), so their rows are not read.
    related = ["action__owner"]
    return (
        Signal.objects.filter(contract__capability_id__in=ids)
        .filter(Q(resolved_period__isnull=True) | Q(created_at__gte=raised_recently) | with_action)
        .select_related(*related, *(["contract__capability"] if with_contracts else []))
        .order_by("contract__metric_id", "cut", "pk")
    )


def _incidents(capabilities, window_start) -> list[Incident]:
    """Open incidents and those closed in the remediation window (Sev1 first, then the oldest)."""
    return with_capability(_incident_rows(tuple(_scope_ids(capabilities)), window_start), capabilities)


@prepared(bound=1)
def _incident_rows(ids: tuple, window_start):
    return (
        Incident.objects.filter(capability_id__in=ids)
        .filter(~Q(state=IncidentState.CLOSED) | Q(closed_at__gte=window_start))
        .order_by("severity", "occurred_on", "pk")
    )


def _corrective_actions(incidents) -> dict[int, list[Action]]:
    """{incident id: its corrective actions} (actions whose source is the incident), one query."""
    by_incident: dict[int, list[Action]] = defaultdict(list)
    if not incidents:
        return by_incident
    for action in _corrective_action_rows(tuple(incident.pk for incident in incidents)):
        by_incident[action.source_object_id].append(action)
    return by_incident


@prepared
def _corrective_action_rows(incident_ids: tuple):
    return (
        Action.objects.filter(
            source_content_type__app_label="incidents",
            source_content_type__model="incident",
            source_object_id__in=incident_ids,
        )
        .select_related("owner")  # named on the board; reviewer and escalation compared by id only
        .order_by("due_date", "pk")
    )


def _verified_at(action_ids) -> dict[int, datetime.datetime]:
    """{action id: when its closure evidence was last accepted}, one query."""
    if not action_ids:
        return {}
    return dict(_last_accepted(tuple(sorted(action_ids))))


@prepared
def _last_accepted(action_ids: tuple):
    return (
        ClosureEvidence.objects.filter(action_id__in=action_ids, verdict=EvidenceVerdict.ACCEPTED)
        .values("action_id")
        .annotate(at=Max("reviewed_at"))
        .values_list("action_id", "at")
    )


def _closure_words() -> dict[str, str]:
    """Where a remediation stands, in words: translated once per board, not once per problem."""
    return {
        "none": _("No action raised"),
        "not_closed": _("Action not closed"),
        "unverified": _("Closed without verified evidence"),
        "verified": _("Verified closed"),
        "no_corrective": _("No corrective action yet"),
        "whole_population": _("whole population"),
    }


def _closure(
    actions: list[Action], verified: dict, words: dict[str, str]
) -> tuple[datetime.datetime | None, str]:
    """(when the actions were remediated, or None; where it stands, in ``words``). The page lists
    each action with its own status beside this, so the words do not repeat the ids."""
    if not actions:
        return None, words["none"]
    moments = []
    for action in actions:
        if action.status != ActionStatus.CLOSED:
            return None, words["not_closed"]
        if verified.get(action.pk) is None:
            return None, words["unverified"]
        moments.append(verified[action.pk])
    return max(moments), words["verified"]


def _remediations(signals, incidents, corrective, verified, now) -> list[Remediation]:
    items = []
    words = _closure_words()
    # Each signal's opening, worked out once (a group's first is looked for among them).
    opened = {id(signal): signal_opened_at(signal) for signal in signals}
    by_action: dict[int, list[Signal]] = defaultdict(list)
    for signal in signals:
        if signal.action_id is not None:
            by_action[signal.action_id].append(signal)
        elif signal.resolved_period is None:
            items.append(
                Remediation(
                    kind="signal",
                    capability=signal.contract.capability,
                    title=str(signal),
                    url=signal.get_absolute_url(),
                    opened_at=opened[id(signal)],
                    actions=[],
                    verified_at=None,
                    status=words["none"],
                    now=now,
                )
            )
    for group in by_action.values():
        first = min(group, key=lambda signal: opened[id(signal)])
        verified_at, status = _closure([first.action], verified, words)
        cuts = sorted({signal.cut or words["whole_population"] for signal in group})
        items.append(
            Remediation(
                kind="signal",
                capability=first.contract.capability,
                title=f"{first.contract.metric_id} [{', '.join(cuts)}]",
                url=first.get_absolute_url(),
                opened_at=opened[id(first)],
                actions=[first.action],
                verified_at=verified_at,
                status=status,
                now=now,
            )
        )
    for incident in incidents:
        actions = corrective.get(incident.pk, [])
        if not actions and incident.state == IncidentState.CLOSED:
            continue  # closed with nothing to remediate (a watchlist Sev4)
        verified_at, status = _closure(actions, verified, words)
        if not actions:
            status = words["no_corrective"]
        items.append(
            Remediation(
                kind="incident",
                capability=incident.capability,
                title=f"{incident.readable_id} {incident.title}",
                url=incident.get_absolute_url(),
                opened_at=incident_opened_at(incident),
                actions=actions,
                verified_at=verified_at,
                status=status,
                severity=incident.severity,
                now=now,
            )
        )
    return items


def _remediation_rows(capabilities, items, window_start) -> list[RemediationRow]:
    rows = {capability.pk: RemediationRow(capability, [], []) for capability in capabilities}
    for item in items:
        row = rows.get(item.capability.pk)
        if row is None:
            continue
        if item.verified_at is None:
            row.open.append(item)
        elif item.verified_at >= window_start:
            row.remediated.append(item)
    for row in rows.values():
        row.remediated.sort(key=lambda item: item.verified_at)
        row.open.sort(key=lambda item: item.opened_at)
    return list(rows.values())


def _remediation_of(capabilities, signals, incidents, now, window_start) -> list[RemediationRow]:
    """Time to remediation by capability, from the signals and incidents already read: their
    corrective actions and the accepted closure evidence (two queries)."""
    corrective = _corrective_actions(incidents)
    action_ids = {signal.action_id for signal in signals if signal.action_id} | {
        action.pk for actions in corrective.values() for action in actions
    }
    verified = _verified_at(action_ids)
    items = _remediations(signals, incidents, corrective, verified, now)
    return _remediation_rows(capabilities, items, window_start)


def unremediated_items(
    capabilities: list[Capability], now: datetime.datetime | None = None
) -> list[Remediation]:
    """Every problem of these capabilities not yet remediated, oldest first, as the board lists
    them (its fold, loaded when opened): signals, incidents, corrective actions and accepted
    closure evidence, four queries."""
    now = now or timezone.now()
    window_start = now - datetime.timedelta(days=REMEDIATION_WINDOW_DAYS)
    signals = _signals(_scope_ids(capabilities), now, window_start)
    incidents = _incidents(capabilities, window_start)
    rows = _remediation_of(capabilities, signals, incidents, now, window_start)
    return sorted((item for row in rows for item in row.open), key=lambda item: item.opened_at)


def _new_signals(signals, now) -> list[NewSignal]:
    since = now - datetime.timedelta(hours=NEW_SIGNAL_HOURS)
    fresh = []
    for signal in signals:
        opened = signal_opened_at(signal)
        if since <= opened <= now:
            fresh.append(NewSignal(signal=signal, opened_at=opened))
    return sorted(fresh, key=lambda item: (-rank(item.signal.worst_level), -item.opened_at.timestamp()))


def cost_anomalies(figures) -> list[CostAnomaly]:
    anomalies = []
    for figure in figures:
        contract = figure.contract
        if contract.category != Category.COST or contract.watch == Watch.REVIEW_QUEUE:
            continue
        past = rank(figure.level) >= WARNING_RANK
        worse = figure.worse_by
        sharp = worse is not None and worse >= SHARP_RISE
        if past or sharp:
            anomalies.append(CostAnomaly(figure=figure, past_warning=past, sharp_rise=sharp))
    return sorted(anomalies, key=lambda a: (-rank(a.figure.level), -(a.figure.worse_by or 0)))


def good_share(outcome: MetricContract, value: float) -> float:
    """The share of cases with the good outcome: the value, or its complement when lower is better."""
    return value if outcome.direction == Direction.HIGHER_IS_BETTER else 1 - value


def _priced_kind(contract: MetricContract) -> str:
    """ "cost" for a cost-per-case contract, "outcome" for an outcome measured as a share (what a
    cost per good outcome divides by), "" otherwise."""
    if contract.watch == Watch.COST_PER_CASE:
        return "cost"
    if contract.category == Category.OUTCOME and contract.unit.startswith("share"):
        return "outcome"
    return ""


def _priced_outcomes(contracts: list[MetricContract]) -> set[int]:
    """The contracts whose every period in the window cost to outcome may read."""
    return {contract.pk for contract in contracts if _priced_kind(contract)}


def cost_to_outcome(figures) -> list[CostToOutcome]:
    by_capability: dict[int, dict[str, list[ContractFigure]]] = defaultdict(lambda: defaultdict(list))
    for figure in figures:
        kind = _priced_kind(figure.contract)
        if kind:
            by_capability[figure.contract.capability_id][kind].append(figure)
    rows = []
    for groups in by_capability.values():
        for cost in groups["cost"]:
            for outcome in groups["outcome"]:
                row = _pair(cost, outcome)
                if row is not None:
                    rows.append(row)
    return sorted(rows, key=lambda r: (-(r.movement or 0), r.capability.name, r.outcome.contract.metric_id))


def _pair(cost: ContractFigure, outcome: ContractFigure) -> CostToOutcome | None:
    common = sorted({p for p, _v, _l in cost.history} & {p for p, _v, _l in outcome.history})
    if not common or cost.contract.grain != outcome.contract.grain:
        return None
    period = common[-1]
    earlier = shift_period(period, cost.contract.grain, -COST_OUTCOME_PERIODS)
    if earlier not in common:
        earlier = None
    outcome_then = outcome.value_at(earlier) if earlier else None
    return CostToOutcome(
        cost=cost,
        outcome=outcome,
        period=period,
        earlier=earlier,
        cost_now=cost.value_at(period),
        cost_then=cost.value_at(earlier) if earlier else None,
        good_now=good_share(outcome.contract, outcome.value_at(period)),
        good_then=good_share(outcome.contract, outcome_then) if outcome_then is not None else None,
    )


def own_work_counts(user, today) -> dict[str, Count]:
    """The person's (a user or their id) own work among a set of actions, as counts of the open ones: ``overdue``
    (they own it, past due), ``to_verify`` (evidence waiting for their verification),
    ``escalated`` (escalated to them). For one aggregate over all the actions in scope, so a board
    can read them in the statement it already makes (``own_work`` reads them alone)."""
    return {
        "overdue": Count("pk", filter=not_closed() & Q(owner=user, due_date__lt=today)),
        "to_verify": Count(
            "pk", filter=not_closed() & Q(reviewer=user, status=ActionStatus.AWAITING_VERIFICATION)
        ),
        "escalated": Count("pk", filter=not_closed() & Q(escalated_to=user)),
    }


def own_work(ids, user, today) -> dict[str, int]:
    """The person's own work in scope (``own_work_counts``), in one query."""
    return _own_work(tuple(ids), user.pk, today)


@prepared_counts
def _own_work(ids: tuple, user_id: int, today: datetime.date):
    return Action.objects.filter(capability_id__in=ids).open(), own_work_counts(user_id, today)


@prepared
def _open_holds(ids: tuple):
    """The stop holds not yet lifted, each with the signal that fired it."""
    return (
        StopHold.objects.filter(capability_id__in=ids, lifted_at__isnull=True)
        .select_related("signal")
        .order_by("created_at")
    )


def _involves(action: Action | None, user) -> bool:
    return action is not None and user.pk in (action.owner_id, action.reviewer_id, action.escalated_to_id)


def _problems(signals: list[Signal]) -> list[list[Signal]]:
    """Signals grouped by the action they share (one problem, several cuts), the worst first
    in each group and the groups worst first; a signal with no action is a problem of its own."""
    groups: dict[object, list[Signal]] = defaultdict(list)
    for signal in sorted(signals, key=lambda s: (-rank(s.level), s.contract.metric_id, s.cut)):
        groups[signal.action_id or ("signal", signal.pk)].append(signal)
    return sorted(groups.values(), key=lambda group: -rank(group[0].level))


def _signals_text(group: list[Signal]) -> str:
    """ "metric [cut]: Stop", or for several cuts of one problem "metric [cut, cut] and 2 more: Stop"."""
    if len(group) == 1:
        return str(group[0])
    first = group[0]
    cuts = [signal.cut or _("whole population") for signal in group]
    shown = ", ".join(cuts[:3])
    more = _(" and %(n)s more") % {"n": len(cuts) - 3} if len(cuts) > 3 else ""
    return f"{first.contract.metric_id} [{shown}]{more}: {first.get_level_display()}"


def _crossed_in(signal: Signal) -> str:
    """ "crossed in the week of 2026-11-16": the period, named by its grain, so it does not read
    as the signal's opening (the end of that period)."""
    period, grain = signal.opened_period, signal.contract.grain
    if grain == "day":
        return _("crossed on %(day)s") % {"day": period.isoformat()}
    if grain == "month":
        return _("crossed in %(month)s") % {"month": period.strftime("%Y-%m")}
    return _("crossed in the week of %(day)s") % {"day": period.isoformat()}


def _holds_text(holds: list[StopHold]) -> str:
    """One stop rule: its reason in full; several: the signals that fired them, briefly."""
    if len(holds) == 1:
        return holds[0].reason
    cuts: dict[str, list[str]] = defaultdict(list)
    for hold in holds:
        cuts[hold.signal.contract.metric_id].append(hold.signal.cut or _("whole population"))
    fired = ", ".join(f"{metric} [{', '.join(names)}]" for metric, names in cuts.items())
    return _("%(n)s stop rules fired: %(signals)s") % {"n": len(holds), "signals": fired}


def _needs(board: RuntimeBoard, user) -> list[NeedItem]:
    """What needs someone today, most urgent first: Sev1 incidents, release holds, signals at
    breach or stop, Sev2 incidents, new signals, cost anomalies, reliability contracts past
    warning, and remediation actions past due. One row per problem (signals sharing an action)."""
    items: list[NeedItem] = []
    today = board.today
    for incident in board.open_incidents:
        if incident.severity not in (IncidentSeverity.SEV1, IncidentSeverity.SEV2):
            continue
        sev1 = incident.severity == IncidentSeverity.SEV1
        if sev1 and not incident.is_contained:
            what = _("Contain it now: roll back or restrict.")
        elif sev1:
            what = _("Find the root cause and take it to the incident review forum.")
        else:
            what = _("Review in the incident review forum; agree corrective actions.")
        items.append(
            NeedItem(
                urgency=0 if sev1 else 3,
                level=SignalLevel.STOP if sev1 else SignalLevel.BREACH,
                label=incident.get_severity_display(),
                what=f"{incident.readable_id} {incident.title}",
                detail=_("%(state)s · %(days)s days")
                % {
                    "state": incident.get_state_display(),
                    "days": (today - incident.occurred_on).days,
                }
                + " · "
                + what,
                capability=incident.capability,
                url=incident.get_absolute_url(),
            )
        )
    for capability, holds in board.holds_by_capability:
        # One row per capability: its releases are held once, however many stop rules fired.
        detail = _holds_text(holds)
        items.append(
            NeedItem(
                urgency=1,
                level=SignalLevel.STOP,
                label=_("Release hold"),
                what=_("Pending releases of %(capability)s are held") % {"capability": capability.name},
                detail=detail,
                capability=capability,
                url=holds[0].signal.get_absolute_url(),
            )
        )
    seen_actions, listed_signals = set(), set()
    for group in _problems(board.signals_at_breach):
        signal, action = group[0], group[0].action
        listed_signals.update(member.pk for member in group)
        if action is not None:
            seen_actions.add(action.pk)
        detail = _crossed_in(signal)
        if action is not None:
            detail += " · " + _("%(id)s, %(owner)s, due %(due)s") % {
                "id": action.readable_id,
                "owner": action.owner.get_full_name() or action.owner.get_username(),
                "due": action.due_date.isoformat(),
            }
        else:
            detail += " · " + _("no action raised")
        items.append(
            NeedItem(
                urgency=2,
                level=signal.level,
                label=level_label(signal.level),
                what=_signals_text(group),
                detail=detail,
                capability=signal.contract.capability,
                url=action.get_absolute_url() if action else signal.get_absolute_url(),
                action=action,
                yours=_involves(action, user),
            )
        )
    for fresh in board.new_signals:
        signal = fresh.signal
        if rank(signal.level) >= BREACH_RANK and signal.resolved_period is None:
            continue  # already listed above
        items.append(
            NeedItem(
                urgency=4,
                level=signal.level,
                label=_("New"),
                what=str(signal),
                detail=_("opened %(when)s")
                % {"when": timezone.localtime(fresh.opened_at).strftime("%Y-%m-%d %H:%M")},
                capability=signal.contract.capability,
                url=signal.get_absolute_url(),
                action=signal.action,
                yours=_involves(signal.action, user),
            )
        )
    for anomaly in board.cost_anomalies:
        figure = anomaly.figure
        why = []
        if anomaly.past_warning:
            why.append(_("past warning"))
        if anomaly.sharp_rise:
            why.append(_("%(rise).0f%% worse than the period before") % {"rise": anomaly.rise_percent})
        items.append(
            NeedItem(
                urgency=5,
                level=figure.level,
                label=_("Cost anomaly"),
                what=f"{figure.contract.name}: {figure.value_text}",
                detail=", ".join(str(reason) for reason in why),
                capability=figure.contract.capability,
                url=figure.contract.get_absolute_url(),
                action=figure.signal.action if figure.signal else None,
                yours=_involves(figure.signal.action if figure.signal else None, user),
            )
        )
    for figure in [*board.slo, *board.fallback]:
        if figure.signal is not None and (
            figure.signal.pk in listed_signals or figure.signal.action_id in seen_actions
        ):
            continue  # its signal is listed above
        if rank(figure.worst_level) < WARNING_RANK:
            continue
        where = ", ".join(cut["cut"] for cut in figure.cuts_past_warning[:3])
        items.append(
            NeedItem(
                urgency=6,
                level=figure.worst_level,
                label=figure.contract.get_watch_display(),
                what=f"{figure.contract.name}: {figure.value_text}",
                detail=where or _("whole population"),
                capability=figure.contract.capability,
                url=figure.contract.get_absolute_url(),
                action=figure.signal.action if figure.signal else None,
                yours=_involves(figure.signal.action if figure.signal else None, user),
            )
        )
    for item in board.unremediated:
        overdue = [a for a in item.actions if a.status != ActionStatus.CLOSED and a.due_date < today]
        if not overdue:
            continue
        action = overdue[0]
        if action.pk in seen_actions:
            continue
        seen_actions.add(action.pk)
        items.append(
            NeedItem(
                urgency=7,
                level=SignalLevel.WARNING,
                label=_("Remediation overdue"),
                what=item.title,
                detail=_("%(id)s due %(due)s, %(owner)s · open %(days).0f days")
                % {
                    "id": action.readable_id,
                    "due": action.due_date.isoformat(),
                    "owner": action.owner.get_full_name() or action.owner.get_username(),
                    "days": item.age_days(board.now),
                },
                capability=item.capability,
                url=action.get_absolute_url(),
                action=action,
                yours=_involves(action, user),
            )
        )
    return sorted(items, key=lambda item: (item.urgency, not item.yours, -rank(item.level)))


def runtime_board(
    *, capabilities: list[Capability], user, now: datetime.datetime | None = None
) -> RuntimeBoard:
    """The runtime signal board for these capabilities, as this person reads it.

    A fixed number of queries however many capabilities and contracts: contracts, evaluations,
    signals, incidents, their corrective actions, accepted closure evidence, stop holds and the
    person's own actions (the trend cards are drawn by the view, in one batch).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = _scope_ids(capabilities)
    window_start = now - datetime.timedelta(days=REMEDIATION_WINDOW_DAYS)
    contracts = active_contracts(capabilities)
    signals = _signals(ids, now, window_start, contracts)
    open_signals = [signal for signal in signals if signal.resolved_period is None]
    figures = load_figures(contracts, open_signals, today, full_history=_priced_outcomes(contracts))
    incidents = _incidents(capabilities, window_start)
    # The holds' capabilities and their signals' contracts are those already read (a hold's
    # contract no longer active is read with attach_contracts' one extra statement).
    holds = with_capability(_open_holds(tuple(ids)), capabilities)
    attach_contracts([hold.signal for hold in holds], contracts)
    board = RuntimeBoard(
        capabilities=capabilities,
        now=now,
        figures=figures,
        incidents=incidents,
        new_signals=_new_signals(signals, now),
        open_signals=sorted(open_signals, key=lambda s: (-rank(s.level), s.contract.metric_id, s.cut)),
        holds=holds,
        cost_anomalies=cost_anomalies(figures.values()),
        cost_to_outcome=cost_to_outcome(figures.values()),
        remediation=_remediation_of(capabilities, signals, incidents, now, window_start),
        mine=own_work(ids, user, today),
    )
    board.needs = _needs(board, user)
    return board
