"""The scorecard's suggestions (playbook 9.2): one small pure function per dimension over the
plain figures, returning a rating 1-5 *or None* and the evidence text shown beside it. A dimension
the data cannot speak to says so instead of inventing a number; strategic fit is always a
person's call."""

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import get_language, gettext, ngettext

from contracts.choices import Category, SignalLevel, below_decision_grade
from forums.choices import ScorecardDimension
from forums.portfolio_review.figures import (
    AssumptionFigure,
    BacklogFigure,
    CapabilityFigures,
    ContractFigure,
    HoldFigure,
    IncidentFigure,
    SignalFigure,
    _rank,
)

# A rating at or below this is an exception the executive reads first.
EXCEPTION_AT = 2


@dataclass(frozen=True)
class Suggestion:
    """What the data suggests for one dimension: a rating 1-5, or None when it cannot say, and
    the evidence text (the figures used, with contract ids and levels) and records it cites."""

    rating: int | None
    evidence: str
    cites: tuple[dict, ...] = ()


@functools.lru_cache(maxsize=64)
def _level_number(evidence_level: str) -> int:
    try:
        return int(str(evidence_level).upper().lstrip("E"))
    except ValueError:
        return 1


def _worst(contracts: Iterable[ContractFigure]) -> str:
    levels = [contract.level for contract in contracts if contract.evaluated]
    return max(levels, key=_rank) if levels else SignalLevel.INSUFFICIENT_DATA


def _(message: str) -> str:
    """``gettext(message)``, kept per language: the evidence texts repeat the same few dozen
    phrases for every capability (some 360 translations a portfolio board)."""
    return _translated(get_language(), message)


@functools.lru_cache(maxsize=512)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


@dataclass(frozen=True)
class _Labels:
    """The choice labels the evidence text names, in one language."""

    levels: dict  # signal level -> its label, lower case
    severities: dict  # incident severity -> its label
    categories: tuple  # (category, label) in the contracts' order


@functools.lru_cache(maxsize=8)
def _labels_in(language: str | None) -> _Labels:
    # Translated once per language, not once per contract, signal and incident named (some
    # 300 labels a portfolio board).
    from portfolio.choices import IncidentSeverity

    return _Labels(
        levels={value: str(label).lower() for value, label in SignalLevel.choices},
        severities={value: str(label) for value, label in IncidentSeverity.choices},
        categories=tuple((value, str(label)) for value, label in Category.choices),
    )


def _labels() -> _Labels:
    return _labels_in(get_language())


def _severity_label(severity: str) -> str:
    label = _labels().severities.get(severity)
    return str(severity) if label is None else label


def _level_label(level: str) -> str:
    label = _labels().levels.get(level)
    return str(level).lower() if label is None else label


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
    labels = _labels().categories
    covered = sum(1 for value, _label in labels if value in categories)
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
    missing = [label for value, label in labels if value not in categories]
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
