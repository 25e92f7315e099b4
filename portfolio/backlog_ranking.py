"""The backlog review rules of playbook 16.3 as one pure function over a list of items.

``backlog_rank(items)`` reads only attributes of the items (no database), so the rules are
tested on plain unsaved objects. Every item comes back as a ``RankedItem`` with its band and the
sentences that say why it stands there.

How an item's place is decided, in order:

1. **Retirement candidates** (class "retirement") are not ranked against delivery work: they go
   to their own list, reviewed in the quarterly portfolio review ("reviewed quarterly, not hidden
   at the bottom of the backlog"). Done and dropped items are not ranked at all.
2. **Tiers.** A risk/customer-harm override comes first, whatever its score ("risk and customer
   harm can override numeric score"). Next come corrective items of Sev1 and Sev2 incidents
   ("incident corrective actions outrank cosmetic improvements when severity is high"): ProductOps
   reads "cosmetic" as every item that neither carries a harm override nor corrects a high-severity
   incident, because the backlog cannot judge cosmetics from a title; Sev1 before Sev2. Everything
   else is ranked by score. Sev3 and Sev4 corrective items are ranked by their score.
3. **Score.** Within a tier, by the priority score of 16.2, adjusted by two rules:

   - *Platform reuse* ("platform reuse can outrank local feature work when multiple products
     repeat the same problem"): an item whose problem key is raised by open items on n >= 2
     capabilities counts n - 1 points more, one for each other capability the fix would serve.
     Such items are also grouped by problem key on the platform-reuse page.
   - *Evidence gaps outrank scale decisions*: while a capability has an open evidence-gap item,
     its outcome-improvement and adoption-fix items (the classes that bet on value or adoption
     being proven) rank at most as high as its lowest-ranked evidence gap, and below it on a
     tie. Gaps and scale items of other capabilities are not affected.

   Ties go to the evidence gap, then the higher raw score, then the older item.
4. **Bands, per capability.** The first ``top_size`` items (default 5) that have an evidence link
   form the top band. An item without an evidence link never enters it ("no backlog item enters
   top priority without evidence link"): where its rank would have put it in the top band it is
   capped at the next band, with the reason. Then ``next_size`` items (default 10) in the next
   band, the rest later.
5. **Portfolio top list.** Across all the capabilities given, the first ``portfolio_top_size``
   items (default 10) with an evidence link, in the same order.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from portfolio.choices import (
    BACKLOG_OPEN_STATUSES,
    HIGH_SEVERITIES,
    NEXT_BAND_SIZE,
    PORTFOLIO_TOP_SIZE,
    SCALE_CLASSES,
    SCORE_BENEFITS,
    TOP_BAND_SIZE,
    BacklogBand,
    BacklogClass,
    BacklogStatus,
    IncidentSeverity,
    priority_score,
)

TIER_OVERRIDE, TIER_HIGH_SEVERITY, TIER_SCORE = 0, 1, 2
_SEVERITY_ORDER = {value: index for index, value in enumerate(IncidentSeverity.values)}
_BAND_ORDER = {band: index for index, band in enumerate(BacklogBand.values)}


@dataclass
class RankedItem:
    """One backlog item where the ranking put it, and why."""

    item: Any
    band: str
    position: int | None = None  # 1-based, within its capability's ranked items (or retirement list)
    portfolio_position: int | None = None  # 1-based, across every capability ranked together
    in_portfolio_top: bool = False
    score: int = 0
    effective_score: int = 0
    shared_capabilities: int = 0
    tier: int = TIER_SCORE
    reasons: list[str] = field(default_factory=list)

    @property
    def band_label(self) -> str:
        return str(BacklogBand(self.band).label)

    @property
    def why(self) -> str:
        return " ".join(self.reasons)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _label(item) -> str:
    return getattr(item, "readable_id", "") or getattr(item, "title", "") or "?"


def _has_link(item) -> bool:
    value = getattr(item, "has_evidence_link", None)
    return bool(value)


def _tier(item) -> int:
    if getattr(item, "risk_override", False):
        return TIER_OVERRIDE
    if getattr(item, "incident_severity", "") in HIGH_SEVERITIES:
        return TIER_HIGH_SEVERITY
    return TIER_SCORE


def problem_spread_of(items) -> dict[str, int]:
    """{problem key: number of capabilities with an open item naming it}, from the items given."""
    capabilities: dict[str, set] = defaultdict(set)
    for item in items:
        if item.problem_key and item.status in BACKLOG_OPEN_STATUSES:
            capabilities[item.problem_key].add(item.capability_id)
    return {key: len(ids) for key, ids in capabilities.items()}


def backlog_rank(
    items,
    *,
    top_size: int | None = None,
    next_size: int | None = None,
    portfolio_top_size: int | None = None,
    problem_spread: dict[str, int] | None = None,
) -> list[RankedItem]:
    """Rank backlog items by the rules of playbook 16.3 (see the module docstring).

    ``problem_spread`` counts, per problem key, the capabilities whose open items name it; pass
    the whole portfolio's count (``BacklogItem.objects.problem_spread()``) so that an item's rank
    does not depend on which capabilities the reader sees. Without it, the items given are counted.

    Returns every item once: the top, next and later bands in rank order, then the retirement
    list, then done and dropped items.
    """
    top_size = _setting("BACKLOG_TOP_BAND_SIZE", TOP_BAND_SIZE) if top_size is None else top_size
    next_size = _setting("BACKLOG_NEXT_BAND_SIZE", NEXT_BAND_SIZE) if next_size is None else next_size
    if portfolio_top_size is None:
        portfolio_top_size = _setting("BACKLOG_PORTFOLIO_TOP_SIZE", PORTFOLIO_TOP_SIZE)
    items = list(items)
    spread = problem_spread_of(items) if problem_spread is None else problem_spread

    ranked: list[RankedItem] = []
    retirement: list[RankedItem] = []
    closed: list[RankedItem] = []
    for item in items:
        score = priority_score(item)
        shared = spread.get(item.problem_key, 0) if item.problem_key else 0
        entry = RankedItem(item=item, band=BacklogBand.LATER, score=score, shared_capabilities=shared)
        if item.status not in BACKLOG_OPEN_STATUSES:
            entry.band = BacklogBand.CLOSED
            closed.append(entry)
        elif item.item_class == BacklogClass.RETIREMENT:
            entry.band = BacklogBand.RETIREMENT
            retirement.append(entry)
        else:
            entry.tier = _tier(item)
            entry.effective_score = score + (shared - 1 if shared >= 2 else 0)
            ranked.append(entry)

    # Evidence gaps outrank scale decisions, capability by capability.
    gaps: dict[Any, list[RankedItem]] = defaultdict(list)
    for entry in ranked:
        if entry.tier == TIER_SCORE and entry.item.item_class == BacklogClass.EVIDENCE_GAP:
            gaps[entry.item.capability_id].append(entry)
    for entry in ranked:
        capability_gaps = gaps.get(entry.item.capability_id)
        if entry.tier == TIER_SCORE and entry.item.item_class in SCALE_CLASSES and capability_gaps:
            floor = min(gap.effective_score for gap in capability_gaps)
            entry.reasons.append(_held_below_gap(entry, capability_gaps, floor))
            entry.effective_score = min(entry.effective_score, floor)

    def key(entry: RankedItem):
        item = entry.item
        severity = _SEVERITY_ORDER.get(item.incident_severity, 9) if entry.tier == TIER_HIGH_SEVERITY else 0
        gap_first = 0 if item.item_class == BacklogClass.EVIDENCE_GAP else 1
        return (
            entry.tier,
            severity,
            -entry.effective_score,
            gap_first,
            -entry.score,
            item.pk or 0,
            item.title,
        )

    ranked.sort(key=key)
    # The portfolio top list means something only when several capabilities are ranked together.
    across_portfolio = len({entry.item.capability_id for entry in ranked}) > 1

    positions: dict[Any, int] = defaultdict(int)
    in_top: dict[Any, int] = defaultdict(int)
    in_next: dict[Any, int] = defaultdict(int)
    portfolio_top = 0
    for index, entry in enumerate(ranked, start=1):
        item = entry.item
        capability = item.capability_id
        positions[capability] += 1
        entry.position = positions[capability]
        entry.portfolio_position = index
        linked = _has_link(item)
        entry.reasons[:0] = _rule_reasons(entry)
        if in_top[capability] < top_size and linked:
            in_top[capability] += 1
            entry.band = BacklogBand.TOP
            entry.reasons.append(
                _("Top band: #%(position)s of this capability's top %(size)s.")
                % {"position": in_top[capability], "size": top_size}
            )
        elif in_top[capability] < top_size:
            # Its rank would put it in the top band: the evidence rule caps it at the next band.
            in_next[capability] += 1
            entry.band = BacklogBand.NEXT
            entry.reasons.append(
                _(
                    "No evidence link: by rank it would stand in the top band, but no item enters the "
                    "top band without an evidence link (16.3), so it is capped at the next band."
                )
            )
        else:
            if not linked:
                entry.reasons.append(_("No evidence link: it cannot enter the top band until one is added."))
            if in_next[capability] < next_size:
                in_next[capability] += 1
                entry.band = BacklogBand.NEXT
                entry.reasons.append(
                    _("Next band: #%(position)s on this capability, after its top %(size)s.")
                    % {"position": entry.position, "size": top_size}
                )
            else:
                entry.band = BacklogBand.LATER
                entry.reasons.append(
                    _("Later: #%(position)s on this capability, behind its top and next bands.")
                    % {"position": entry.position}
                )
        if linked and portfolio_top < portfolio_top_size:
            portfolio_top += 1
            entry.in_portfolio_top = True
            if across_portfolio:
                entry.reasons.append(
                    _("Portfolio top list: #%(position)s across the portfolio.") % {"position": portfolio_top}
                )
        entry.reasons.append(_score_reason(entry))

    retirement.sort(key=lambda entry: (-entry.score, entry.item.pk or 0, entry.item.title))
    for index, entry in enumerate(retirement, start=1):
        entry.position = index
        entry.reasons = [
            _(
                "Retirement candidate: on the quarterly retirement list for the portfolio review, "
                "not ranked against delivery work (16.3)."
            ),
            _score_reason(entry),
        ]
        if not _has_link(entry.item):
            entry.reasons.insert(
                1, _("No evidence link: name the portfolio decision or review session it rests on.")
            )

    closed.sort(key=lambda entry: (entry.item.status, -entry.score, entry.item.pk or 0))
    for entry in closed:
        entry.reasons = [
            _("%(status)s: no longer ranked.") % {"status": BacklogStatus(entry.item.status).label}
        ]

    ranked.sort(key=lambda entry: (_BAND_ORDER[entry.band], key(entry)))
    return ranked + retirement + closed


def _score_reason(entry: RankedItem) -> str:
    item = entry.item
    benefits = sum(int(getattr(item, name, 0) or 0) for name in SCORE_BENEFITS)
    return _(
        "Priority score %(score)s = benefits %(benefits)s − delivery effort %(effort)s − change saturation %(saturation)s."
    ) % {
        "score": entry.score,
        "benefits": benefits,
        "effort": item.delivery_effort or 0,
        "saturation": item.change_saturation or 0,
    }


def _held_below_gap(entry: RankedItem, gaps: list[RankedItem], floor: int) -> str:
    ids = ", ".join(_label(gap.item) for gap in gaps)
    if entry.effective_score > floor:
        return _(
            "Held below the open evidence gap %(ids)s on this capability: evidence gaps outrank scale "
            "decisions (16.3), so it ranks as %(floor)s instead of %(score)s."
        ) % {"ids": ids, "floor": floor, "score": entry.effective_score}
    return _(
        "Stands below the open evidence gap %(ids)s on this capability: evidence gaps outrank scale decisions (16.3)."
    ) % {"ids": ids}


def _rule_reasons(entry: RankedItem) -> list[str]:
    """The 16.3 rules that placed the item, most decisive first."""
    item = entry.item
    reasons = []
    if entry.tier == TIER_OVERRIDE:
        reasons.append(
            _(
                "Risk/customer-harm override: ranked above every item without one, whatever its score. "
                "Reason: %(reason)s"
            )
            % {"reason": item.override_reason}
        )
    if item.incident_severity:
        severity = IncidentSeverity(item.incident_severity).label
        if entry.tier == TIER_HIGH_SEVERITY:
            reasons.append(
                _(
                    "Corrects a %(severity)s incident: ranked above all work that is neither a harm "
                    "override nor a Sev1/Sev2 correction (16.3)."
                )
                % {"severity": severity}
            )
        elif entry.tier == TIER_SCORE:
            reasons.append(
                _("Corrects a %(severity)s incident: ranked by its score.") % {"severity": severity}
            )
    if entry.tier == TIER_SCORE and item.item_class == BacklogClass.EVIDENCE_GAP:
        reasons.append(
            _(
                "Evidence gap: ranks above this capability's outcome-improvement and adoption-fix items, "
                "which wait for the evidence it brings (evidence gaps outrank scale decisions, 16.3)."
            )
        )
    if entry.shared_capabilities >= 2:
        reasons.append(
            _(
                "Shared problem “%(key)s” raised on %(count)s capabilities: +%(bonus)s for platform reuse "
                "(16.3), ranked as %(effective)s."
            )
            % {
                "key": item.problem_key,
                "count": entry.shared_capabilities,
                "bonus": entry.shared_capabilities - 1,
                "effective": entry.score + entry.shared_capabilities - 1,
            }
        )
    return reasons
