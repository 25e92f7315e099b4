"""The monthly value review (playbook 8.1-8.4): the decision matrix of 8.3 and the monthly
decision memo of 8.4, generated for one capability from one month's data, edited while it is a
draft, sent to the forum's attendees and then kept as sent; the forum's decision is written to
the decision log and the memo's assumption ledger update to the assumption ledger (14.2).

Three parts:

- ``decision_matrix(evidence)``: a pure function over plain figures (``MatrixEvidence``) that
  returns the recommended decision of 8.3, the pattern that fired, the figures it fired on and
  the patterns a "not net" guardrail blocked. No database, no clock: the tests call it directly.
- ``memo_build(...)``: reads the month's data (contracts and their observations, evaluations,
  signals, incidents, releases with their impact reviews, experiments, assumptions, actions) in
  a fixed number of queries and turns it into the memo's sections, each figure naming its
  contract and evidence level, plus the plain figures the matrix reads.
- Services (``memo_generate``, ``memo_update``, ``memo_send``, ``memo_decide``): the one path
  the pages, the API and any job take; permission checks and state rules live here.
"""

import datetime
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, models, transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from contracts.choices import below_decision_grade
from forums.choices import Cadence, MemoState
from forums.meeting import session_decision_outcome
from forums.models import Forum, Session, ValueMemo
from productops.errors import DomainError, TransitionNotAllowed
from productops.formats import local_iso, person_name
from productops.notifications import notify
from productops.permissions import can_change, require_change, visible_capability_ids
from productops.roles import Activity

MEMO_VERSION = 1
ACTIVITY = Activity.MONTHLY_VALUE_REVIEW

# --- the decision matrix (playbook 8.3) ---------------------------------------------------------


class MemoDecision(models.TextChoices):
    """The eight decisions of the 8.3 matrix, plus what the memo says when no pattern fires."""

    SCALE = "scale", _("Scale")
    SCALE_SELECTIVELY = "scale_selectively", _("Scale selectively")
    REDESIGN_OR_RESTRICT = "redesign_or_restrict", _("Redesign or restrict")
    RESTRICT_AND_INVESTIGATE = "restrict_and_investigate", _("Restrict and investigate")
    PRODUCT_WORKFLOW_REDESIGN = "product_workflow_redesign", _("Product / workflow redesign")
    RETIRE_OR_PARK = "retire_or_park", _("Retire or park")
    ROLLBACK_OR_HOTFIX = "rollback_or_hotfix", _("Rollback or hotfix")
    REDESIGN_OPERATING_MODEL = (
        "redesign_operating_model",
        _("Redesign operating model before expansion"),
    )
    CONTINUE = "continue", _("Continue / insufficient evidence")


# The decision log types each 8.3 decision may be recorded as (decisions.choices.DecisionType);
# the first is the default. A hotfix is logged as "continue", as the release calendar logs a
# hotfix impact review; "park" is the log's "pause".
DECISION_TYPES: dict[str, list[str]] = {
    MemoDecision.SCALE: ["scale"],
    MemoDecision.SCALE_SELECTIVELY: ["scale_selectively"],
    MemoDecision.REDESIGN_OR_RESTRICT: ["redesign", "restrict"],
    MemoDecision.RESTRICT_AND_INVESTIGATE: ["restrict"],
    MemoDecision.PRODUCT_WORKFLOW_REDESIGN: ["redesign"],
    MemoDecision.RETIRE_OR_PARK: ["retire", "pause"],
    MemoDecision.ROLLBACK_OR_HOTFIX: ["rollback", "continue"],
    MemoDecision.REDESIGN_OPERATING_MODEL: ["redesign"],
    MemoDecision.CONTINUE: ["continue", "pause"],
}

# Words the plain figures take.
IMPROVED, FLAT, WORSE, MIXED, UNKNOWN = "improved", "flat", "worse", "mixed", "unknown"
HIGH, MODERATE, LOW = "high", "moderate", "low"
RISING, STABLE, FALLING = "rising", "stable", "falling"

WORDS = {
    IMPROVED: _("improved"),
    FLAT: _("flat"),
    WORSE: _("worse"),
    MIXED: _("mixed"),
    UNKNOWN: _("unknown"),
    HIGH: _("high"),
    MODERATE: _("moderate"),
    LOW: _("low"),
    RISING: _("rising"),
    STABLE: _("stable"),
    FALLING: _("falling"),
}

# The figures people add to the data: what the forum's BA, ops and finance know that no contract
# measures. Each can only make the recommendation more cautious (friction, a weak thesis, an
# unscalable review load): no judgment can make "scale" fire.
JUDGMENTS = {
    "workflow_friction": _("Workflow friction users cite"),
    "value_thesis_weak": _("Why the value thesis is weak"),
    "manual_review_unscalable": _("Manual review load that cannot scale"),
}

EVIDENCE_LABELS = {
    "outcome_movement": _("Outcome movement (baseline → month, 95% CI)"),
    "not_net": _("Outcome contracts flagged “improvement not net”"),
    "adoption_level": _("Adoption level"),
    "adoption_durable": _("Adoption durable across cohorts"),
    "complaints_trend": _("Complaints trend (previous month → month)"),
    "harm_signals": _("Customer-harm signals at breach or stop"),
    "risk_stable": _("Risk stable"),
    "cost_trend": _("Cost trend (previous month → month)"),
    "cost_acceptable": _("Cost acceptable"),
    "release_defects": _("Defects tied to a recent release"),
    "manual_review_unscalable": _("Manual review load that cannot scale"),
    "low_risk_cohort_only": _("Outcome improves only in low-risk cohorts"),
    "workflow_friction": _("Workflow friction cited"),
    "value_thesis_weak": _("Value thesis weak"),
}


@dataclass(frozen=True)
class MatrixEvidence:
    """The plain figures the decision matrix reads, each already reduced to a word or a flag,
    and ``basis``: for each figure, the contract figures it came from, in words (shown on the
    memo beside the pattern that fired)."""

    outcome_movement: str = UNKNOWN  # improved / flat / worse / mixed / unknown (95% CI)
    not_net: tuple = ()  # metric ids of outcome contracts flagged "improvement not net"
    adoption_level: str = UNKNOWN  # high (at target) / moderate / low (past warning) / unknown
    adoption_durable: bool | None = None
    complaints_trend: str = UNKNOWN  # rising / stable / falling / unknown
    harm_signals: tuple = ()  # risk contracts or signals at breach/stop, Sev1 incidents, in words
    risk_stable: bool | None = None
    cost_trend: str = UNKNOWN  # rising / stable / falling / unknown
    cost_acceptable: bool | None = None
    release_defects: tuple = ()  # "REL-2026-003: cc.qa_pass_rate [intent=billing]"
    manual_review_unscalable: bool = False
    low_risk_cohort_only: bool = False
    workflow_friction: bool = False
    value_thesis_weak: bool = False
    basis: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["not_net"] = list(self.not_net)
        data["release_defects"] = list(self.release_defects)
        data["harm_signals"] = list(self.harm_signals)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "MatrixEvidence":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in (data or {})}
        for name in ("not_net", "release_defects", "harm_signals"):
            if name in known:
                known[name] = tuple(known[name] or ())
        return cls(**known)


@dataclass(frozen=True)
class Rule:
    """One row of the 8.3 matrix: the decision, the evidence pattern in the playbook's words,
    the test on the figures, the figures it reads, and whether it claims a net improvement
    (which a contract flagged "improvement not net" forbids)."""

    decision: str
    pattern: object
    test: object
    reads: tuple
    claims_improvement: bool = False


def _value_depends_on_review(e: MatrixEvidence) -> bool:
    return e.manual_review_unscalable


# The rows in the order they are tried; the first that fires is the recommendation. The order
# is deliberate:
# 1. Rollback or hotfix first: a defect tied to a recent release has a known cause and a
#    reversible remedy, and every other figure of the month is contaminated by it.
# 2. Restrict and investigate next: rising complaints are customer harm, which overrides value
#    (16.2 "risk and customer harm can override numeric score"). The playbook's row names the
#    case where an improving outcome tempts the forum to look away; rising complaints without
#    any improvement are no better a reason to leave the exposure as it is, so the row fires on
#    rising complaints whatever the outcome does — and on the other customer-harm signals the
#    memo reads (a risk contract or signal at breach or stop, a Sev1 incident: 15.1 "rollback /
#    restrict"), which are complaints before they are made (19.3: a severe false pass holds
#    expansion) — a row of its own, so the memo names the pattern that really fired.
# 3. Redesign the operating model before any expansion: scaling value that rests on a manual
#    review load that cannot scale multiplies the load, whatever else the month shows.
# 4. Retire or park before product / workflow redesign: when adoption is low and the value
#    thesis is weak, redesigning the workflow would only make a product nobody needs easier to
#    use; friction is worth fixing only while the thesis holds.
# 5. Product / workflow redesign: adoption is low and users say why.
# 6. Redesign or restrict: usage is high, the outcome flat and cost rising.
# 7. Scale selectively before scale: an improvement found only in low-risk cohorts must not be
#    extended to the cohorts where it does not hold.
# 8. Scale last: it needs every condition at once, and no other pattern may stand against it.
# Scale and scale selectively claim a net improvement, so a contract flagged "improvement not
# net" blocks them (the memo says which contract and why) and the matrix moves on.
RULES: list[Rule] = [
    Rule(
        MemoDecision.ROLLBACK_OR_HOTFIX,
        _("Quality defects tied to recent release"),
        lambda e: bool(e.release_defects),
        ("release_defects",),
    ),
    Rule(
        MemoDecision.RESTRICT_AND_INVESTIGATE,
        _("Outcome improves, complaints rise"),
        lambda e: e.complaints_trend == RISING,
        ("outcome_movement", "complaints_trend"),
    ),
    Rule(
        MemoDecision.RESTRICT_AND_INVESTIGATE,
        _("Customer-harm signal at breach or stop"),
        lambda e: bool(e.harm_signals),
        ("harm_signals", "outcome_movement"),
    ),
    Rule(
        MemoDecision.REDESIGN_OPERATING_MODEL,
        _("Value depends on manual review load that cannot scale"),
        _value_depends_on_review,
        ("manual_review_unscalable", "outcome_movement"),
    ),
    Rule(
        MemoDecision.RETIRE_OR_PARK,
        _("Adoption low, value thesis weak"),
        lambda e: e.adoption_level == LOW and e.value_thesis_weak,
        ("adoption_level", "value_thesis_weak"),
    ),
    Rule(
        MemoDecision.PRODUCT_WORKFLOW_REDESIGN,
        _("Adoption low, users cite workflow friction"),
        lambda e: e.adoption_level == LOW and e.workflow_friction,
        ("adoption_level", "workflow_friction"),
    ),
    Rule(
        MemoDecision.REDESIGN_OR_RESTRICT,
        _("Usage high, outcome flat, cost rising"),
        lambda e: e.adoption_level == HIGH and e.outcome_movement == FLAT and e.cost_trend == RISING,
        ("adoption_level", "outcome_movement", "cost_trend"),
    ),
    Rule(
        MemoDecision.SCALE_SELECTIVELY,
        _("Outcome improves only in low-risk cohort"),
        lambda e: e.low_risk_cohort_only,
        ("low_risk_cohort_only", "outcome_movement"),
        claims_improvement=True,
    ),
    Rule(
        MemoDecision.SCALE,
        _("Outcome improves, adoption durable, risk stable, cost acceptable"),
        lambda e: (
            e.outcome_movement == IMPROVED
            and e.adoption_durable is True
            and e.risk_stable is True
            and e.cost_acceptable is True
        ),
        ("outcome_movement", "adoption_durable", "risk_stable", "cost_acceptable"),
        claims_improvement=True,
    ),
]

# The figures without which no pattern can be read: "insufficient evidence" names them.
ESSENTIAL = ("outcome_movement", "adoption_level", "risk_stable", "cost_acceptable")


def _shown(value) -> str:
    if value is True:
        return gettext("yes")
    if value is False:
        return gettext("no")
    if value is None or value == UNKNOWN:
        return gettext("unknown")
    if isinstance(value, list | tuple):
        # The items themselves are the figure's basis; the value says how many.
        return (
            ngettext("%(n)s found", "%(n)s found", len(value)) % {"n": len(value)}
            if value
            else gettext("none")
        )
    return str(WORDS.get(value, value))


def _figures_of(evidence: MatrixEvidence, names) -> list[dict]:
    return [
        {
            "name": name,
            "label": str(EVIDENCE_LABELS[name]),
            "value": _shown(getattr(evidence, name)),
            "basis": evidence.basis.get(name, ""),
        }
        for name in names
    ]


@dataclass(frozen=True)
class MatrixResult:
    """What the matrix made of the evidence: the recommended decision, the pattern that fired
    and the figures it fired on; the patterns blocked by a "not net" flag and why; every row as
    tried (the options the forum considered); the essential figures that were unknown."""

    decision: str
    pattern: str
    figures: list
    blocked: list
    rows: list
    missing: list

    @property
    def label(self) -> str:
        return str(MemoDecision(self.decision).label)

    def as_dict(self) -> dict:
        return {
            "decision": self.decision,
            "label": self.label,
            "pattern": self.pattern,
            "figures": self.figures,
            "blocked": self.blocked,
            "rows": self.rows,
            "missing": self.missing,
        }


def _block(rule: Rule, evidence: MatrixEvidence) -> dict:
    return {
        "decision": str(rule.decision),
        "label": str(MemoDecision(rule.decision).label),
        "reason": gettext(
            "It claims a net improvement, but %(contracts)s improved while a guardrail is at warning or "
            "worse: the improvement is not net."
        )
        % {"contracts": ", ".join(evidence.not_net)},
        "contracts": list(evidence.not_net),
        "basis": evidence.basis.get("not_net", ""),
    }


def decision_matrix(evidence: MatrixEvidence) -> MatrixResult:
    """Playbook 8.3: the recommended decision for this evidence, with the pattern that fired and
    the figures it fired on. Rows are tried in the order of ``RULES`` (see the comment there);
    a row that claims a net improvement cannot fire while an outcome contract is flagged
    "improvement not net", and is listed as blocked with the flagged contracts. When no row
    fires the answer is "continue / insufficient evidence", naming the essential figures that
    were unknown."""
    fired: Rule | None = None
    blocked: list[dict] = []
    rows: list[dict] = []
    for rule in RULES:
        matches = bool(rule.test(evidence))
        if matches and rule.claims_improvement and evidence.not_net:
            status = "blocked"
            if fired is None:
                # Explained beside the recommendation only when it changed the recommendation.
                blocked.append(_block(rule, evidence))
        elif matches and fired is None:
            status, fired = "fired", rule
        elif matches:
            status = "also_matches"
        else:
            status = "not_met"
        rows.append(
            {
                "decision": str(rule.decision),
                "label": str(MemoDecision(rule.decision).label),
                "pattern": str(rule.pattern),
                "status": status,
                "figures": _figures_of(evidence, rule.reads),
            }
        )
    missing = [str(EVIDENCE_LABELS[name]) for name in ESSENTIAL if getattr(evidence, name) in (None, UNKNOWN)]
    if fired is not None:
        return MatrixResult(
            decision=str(fired.decision),
            pattern=str(fired.pattern),
            figures=_figures_of(evidence, fired.reads),
            blocked=blocked,
            rows=rows,
            missing=missing,
        )
    if missing:
        pattern = gettext("No pattern of the matrix fired; unknown: %(figures)s.") % {
            "figures": ", ".join(missing)
        }
    else:
        pattern = gettext("No pattern of the matrix fired on this month's figures.")
    return MatrixResult(
        decision=str(MemoDecision.CONTINUE),
        pattern=pattern,
        figures=_figures_of(evidence, ESSENTIAL + (("not_net",) if evidence.not_net else ())),
        blocked=blocked,
        rows=rows,
        missing=missing,
    )


def options_considered(result: dict) -> str:
    """The matrix's rows as the decision log's "options considered": each decision with whether
    its pattern fired, was blocked or was not met, on which figures."""
    status_words = {
        "fired": gettext("fired"),
        "blocked": gettext("blocked"),
        "also_matches": gettext("also matches, lower in the order"),
        "not_met": gettext("pattern not met"),
    }
    blocked = {row["decision"]: row["reason"] for row in result.get("blocked", [])}
    lines = []
    for row in result.get("rows", []):
        figures = ", ".join(f"{f['label']}: {f['value']}" for f in row["figures"])
        line = f"- {row['label']} ({row['pattern']}): {status_words.get(row['status'], row['status'])}"
        if row["decision"] in blocked:
            line += f" — {blocked[row['decision']]}"
        lines.append(f"{line} [{figures}]")
    return "\n".join(lines)


# --- the memo of 8.4: its sections and lines ---------------------------------------------------

# (section key, heading, [(line key, label), ...]) in the order of playbook 8.4. Risk / control
# adds one line for the quality and control defects 8.2 requires in the pack.
SECTIONS = [
    (
        "capability",
        _("Capability"),
        [
            ("product", _("Product")),
            ("workflow", _("Workflow")),
            ("target_population", _("Target population")),
            ("version_set", _("Current version set")),
        ],
    ),
    (
        "decision_requested",
        _("Decision Requested"),
        [
            ("recommendation", _("Recommendation")),
            ("deadline", _("Decision deadline")),
            ("owner", _("Decision owner")),
        ],
    ),
    (
        "outcome",
        _("Outcome Evidence"),
        [
            ("baseline", _("Baseline")),
            ("current", _("Current")),
            ("movement", _("Movement")),
            ("confidence", _("Confidence")),
        ],
    ),
    (
        "adoption",
        _("Adoption Evidence"),
        [
            ("qualified_use", _("Qualified use")),
            ("cohort_durability", _("Cohort durability")),
            ("work_as_done", _("Work-as-done observation")),
        ],
    ),
    (
        "risk",
        _("Risk / Control Evidence"),
        [
            ("complaints", _("Complaints")),
            ("overrides", _("Overrides")),
            ("policy_drift", _("Policy drift")),
            ("customer_harm", _("Customer harm signals")),
            ("quality_control", _("Quality / control defects")),
        ],
    ),
    (
        "cost",
        _("Cost / Capacity Evidence"),
        [
            ("cost_per_case", _("Cost per case")),
            ("human_review_load", _("Human review load")),
            ("support_load", _("Support load")),
            ("platform_capacity", _("Platform capacity")),
        ],
    ),
    (
        "releases",
        _("Release / Experiment Evidence"),
        [
            ("recent_releases", _("Recent releases")),
            ("experiment_result", _("Experiment result")),
            ("regressions", _("Regressions")),
        ],
    ),
    (
        "assumptions",
        _("Assumption Ledger Update"),
        [
            ("confirmed", _("Confirmed")),
            ("weakened", _("Weakened")),
            ("invalidated", _("Invalidated")),
            ("needs_evidence", _("Needs more evidence")),
        ],
    ),
    (
        "decision",
        _("Decision and Actions"),
        [
            ("decision", _("Decision")),
            ("actions", _("Actions")),
            ("closure_evidence", _("Closure evidence")),
            ("next_review_trigger", _("Next review trigger")),
        ],
    ),
]
SECTION_KEYS = [key for key, _heading, _lines in SECTIONS]
LINE_KEYS = {key: [line for line, _label in lines] for key, _heading, lines in SECTIONS}
# The recommendation is the matrix's, never typed: it changes only when the evidence does.
READ_ONLY_LINES = {("decision_requested", "recommendation")}
MEMO_TITLE = _("Monthly AI Value Review Decision Memo")

# Which line of 8.4 a contract's figure supports: (categories or None for any, section, line,
# words in its metric key). The first match wins; a rule without words takes the rest
# of its categories.
LINE_RULES = [
    (None, "cost", "human_review_load", ("review_load", "review_queue", "manual_review", "human_review")),
    (("cost", "reliability"), "cost", "support_load", ("support",)),
    (("outcome",), "outcome", "outcome", ()),
    (("adoption",), "adoption", "qualified_use", ()),
    (("risk",), "risk", "complaints", ("complaint",)),
    (("risk",), "risk", "overrides", ("override",)),
    (("risk",), "risk", "policy_drift", ("drift",)),
    (("risk",), "risk", "customer_harm", ()),
    (("quality",), "risk", "quality_control", ()),
    (("cost",), "cost", "human_review_load", ("queue", "reviewer_load")),
    (("cost",), "cost", "cost_per_case", ()),
    (("reliability",), "cost", "platform_capacity", ()),
]

BASELINE_PERIODS = 4  # as the "improvement not net" guardrail (contracts.services) reads it
# Regressions of these categories after a recent release count as "defects tied to a release".
DEFECT_CATEGORIES = ("quality", "risk", "outcome", "reliability")
PAST_WARNING = ("warning", "breach", "stop")
SEVERE = ("breach", "stop")
LIST_LIMIT = 8
# A single complaint incident is a sample, not a trend: without a complaint contract, the
# incidents of the month say "rising" only from this many on.
MIN_COMPLAINTS_FOR_TREND = 2


def line_of(contract) -> tuple[str, str] | None:
    """(section, line) of 8.4 a contract's figures support, or None (learning contracts)."""
    # The metric's own key, not its capability prefix ("complaint_intel." names every contract
    # of complaint intelligence, not its complaint counts).
    words = contract.metric_id.split(".", 1)[-1].lower()
    for categories, section, line, keywords in LINE_RULES:
        if categories is not None and contract.category not in categories:
            continue
        if keywords and not any(word in words for word in keywords):
            continue
        return section, line
    return None


def month_start_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_after(month: datetime.date) -> datetime.date:
    from contracts.periods import shift_period

    return shift_period(month_start_of(month), "month", 1)


def month_before(month: datetime.date) -> datetime.date:
    from contracts.periods import shift_period

    return shift_period(month_start_of(month), "month", -1)


def month_reviewed(session: Session) -> datetime.date:
    """The month a monthly value review session reviews: the last whole month before it (a
    session on the first Wednesday of December reviews November)."""
    return month_before(timezone.localtime(session.scheduled_at).date())


# --- figures of the month ----------------------------------------------------------------------


def _comparison(contract, before, after) -> dict:
    """contracts.stats.compare of two groups of rows, as the memo shows it."""
    from contracts.stats import MIN_ROWS, compare
    from forums.meeting import delta_text

    result = compare(before, after, is_ratio=contract.is_ratio, min_sample_size=contract.min_sample_size)
    moved = ""
    if result.sufficient:
        if not result.significant:
            moved = FLAT
        else:
            worse = (result.difference > 0) == (contract.direction == "lower")
            moved = WORSE if worse else IMPROVED
    thin = ""
    if not result.sufficient:
        if result.before.rows < MIN_ROWS or result.after.rows < MIN_ROWS:
            thin = gettext(
                "too little data: %(before)s and %(after)s observations (at least %(min)s each)"
            ) % {
                "before": result.before.rows,
                "after": result.after.rows,
                "min": MIN_ROWS,
            }
        elif (
            result.before.sample_size < contract.min_sample_size
            or result.after.sample_size < contract.min_sample_size
        ):
            thin = gettext(
                "too little data: samples of %(before)s and %(after)s, below the contract's minimum of %(min)s"
            ) % {
                "before": result.before.sample_size,
                "after": result.after.sample_size,
                "min": contract.min_sample_size,
            }
        else:
            thin = gettext("too little data: the observations do not vary enough to estimate an interval")
    return {
        "before": result.before.value,
        "after": result.after.value,
        "difference": result.difference,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "sufficient": result.sufficient,
        "significant": result.significant,
        "moved": moved,
        "before_rows": result.before.rows,
        "after_rows": result.after.rows,
        "text": delta_text(contract, result.difference) if result.sufficient else "—",
        "ci_text": (
            f"{delta_text(contract, result.ci_low)} … {delta_text(contract, result.ci_high)}"
            if result.sufficient
            else ""
        ),
        "thin": thin,
    }


def _baseline_window(history: list[tuple], grain: str, month_start: datetime.date):
    """The first periods with enough data, before the month: (start, end exclusive, periods) or
    None. The same "first four periods" the "improvement not net" guardrail reads."""
    from contracts.periods import shift_period

    periods = [
        period
        for period, value, raw_level, _level in history
        if value is not None and raw_level != "insufficient" and period < month_start
    ][:BASELINE_PERIODS]
    if not periods:
        return None
    end = min(shift_period(periods[-1], grain, 1), month_start)
    return periods[0], end, len(periods)


def _grain_word(grain: str, count: int) -> str:
    words = {
        "day": (gettext("day"), gettext("days")),
        "week": (gettext("week"), gettext("weeks")),
        "month": (gettext("month"), gettext("months")),
    }.get(grain, (grain, grain))
    return words[0] if count == 1 else words[1]


def contract_figures(contracts, *, month_start: datetime.date, today: datetime.date) -> dict[int, dict]:
    """Every contract's figures for the month, by contract id: the baseline (its first periods
    with enough data, before the month), the month, the previous month, the movement baseline →
    month and the trend previous month → month (both ``contracts.stats.compare``, 95% CI), the
    month's levels, the cohort cuts of outcome contracts, its evidence level and its "not net"
    flag. Three queries whatever the number of contracts: whole-population evaluations, the
    month's cut evaluations, and the observations of the three windows."""
    from contracts.choices import LEVEL_RANK
    from contracts.models import Evaluation, Observation
    from contracts.periods import FEEDING_GRAINS
    from contracts.stats import Row, estimate

    contracts = list(contracts)
    if not contracts:
        return {}
    month_end = month_after(month_start)
    previous_start = month_before(month_start)
    by_id = {contract.pk: contract for contract in contracts}

    history: dict[int, list[tuple]] = defaultdict(list)
    for contract_id, period, value, raw_level, level in (
        Evaluation.objects.at_own_grain(contracts)
        .whole_population()
        .filter(period_start__lt=month_end)
        .order_by("contract_id", "period_start")
        .values_list("contract_id", "period_start", "value", "raw_level", "level")
    ):
        history[contract_id].append((period, value, raw_level, level))

    cut_levels: dict[int, list[tuple]] = defaultdict(list)
    for contract_id, period, cut, level in (
        Evaluation.objects.at_own_grain(contracts)
        .filter(period_start__gte=month_start, period_start__lt=month_end)
        .exclude(cut="")
        .order_by("contract_id", "period_start", "cut")
        .values_list("contract_id", "period_start", "cut", "level")
    ):
        cut_levels[contract_id].append((period, cut, level))

    baselines = {pk: _baseline_window(history[pk], by_id[pk].grain, month_start) for pk in by_id}
    windows = Q()
    for pk, contract in by_id.items():
        feeding = FEEDING_GRAINS[contract.grain]
        windows |= Q(
            contract_id=pk, grain__in=feeding, period_start__gte=previous_start, period_start__lt=month_end
        )
        if baselines[pk] is not None:
            start, end, _n = baselines[pk]
            windows |= Q(contract_id=pk, grain__in=feeding, period_start__gte=start, period_start__lt=end)
    groups: dict[int, dict[str, list]] = {pk: {"baseline": [], "previous": [], "month": []} for pk in by_id}
    for contract_id, period, cohort, value, numerator, denominator, sample in Observation.objects.filter(
        windows
    ).values_list(
        "contract_id", "period_start", "cohort", "value", "numerator", "denominator", "sample_size"
    ):
        row = (cohort or {}, Row(value, numerator, denominator, sample))
        baseline = baselines[contract_id]
        # A window may overlap another (a young contract's baseline runs into last month): a
        # row counts in every window it falls in.
        if baseline is not None and baseline[0] <= period < baseline[1]:
            groups[contract_id]["baseline"].append(row)
        if previous_start <= period < month_start:
            groups[contract_id]["previous"].append(row)
        elif month_start <= period < month_end:
            groups[contract_id]["month"].append(row)

    figures = {}
    for pk, contract in by_id.items():
        group = groups[pk]
        plain = {name: [row for _cohort, row in rows] for name, rows in group.items()}
        baseline = baselines[pk]
        month_estimate = estimate(plain["month"], is_ratio=contract.is_ratio)
        previous_estimate = estimate(plain["previous"], is_ratio=contract.is_ratio)
        baseline_estimate = estimate(plain["baseline"], is_ratio=contract.is_ratio)
        in_month = [row for row in history[pk] if month_start <= row[0] < month_end]
        levels = [level for _p, _v, _r, level in in_month]
        evaluated = [level for level in levels if level != "insufficient"]
        latest_level = evaluated[-1] if evaluated else "insufficient"
        worst_level = max(evaluated, key=lambda level: LEVEL_RANK.get(level, -1), default="insufficient")
        current = month_estimate.value
        if current is None and in_month and in_month[-1][1] is not None:
            current = in_month[-1][1]
        place = line_of(contract)
        last_period = max((row[0] for row in cut_levels[pk]), default=None)
        figure = {
            "metric_id": contract.metric_id,
            "name": contract.name,
            "category": contract.category,
            "section": place[0] if place else "",
            "line": place[1] if place else "",
            "unit": contract.unit,
            "direction": contract.direction,
            "grain": contract.grain,
            "evidence_level": contract.evidence_level,
            "below_e3": below_decision_grade(contract.evidence_level),
            "url": contract.get_absolute_url(),
            "baseline": baseline_estimate.value,
            "baseline_text": contract.format_value(baseline_estimate.value),
            "baseline_periods": (
                gettext("first %(n)s %(grain)s from %(start)s")
                % {"n": baseline[2], "grain": _grain_word(contract.grain, baseline[2]), "start": baseline[0]}
                if baseline
                else ""
            ),
            "current": current,
            "current_text": contract.format_value(current),
            "previous": previous_estimate.value,
            "previous_text": contract.format_value(previous_estimate.value),
            "month_rows": month_estimate.rows,
            "month_sample": month_estimate.sample_size,
            "movement": _comparison(contract, plain["baseline"], plain["month"]),
            "trend": _comparison(contract, plain["previous"], plain["month"]),
            "level": latest_level,
            "worst_level": worst_level,
            "worst_level_label": _level_word(worst_level),
            "warning_text": contract.format_value(contract.warning),
            "target_text": contract.format_value(contract.target),
            "at_target": (
                current is not None
                and (
                    current <= contract.target
                    if contract.direction == "lower"
                    else current >= contract.target
                )
            ),
            "not_net": contract.improvement_not_net,
            "not_net_reason": contract.improvement_not_net_reason,
            "cuts_past_warning": sorted(
                {cut for period, cut, level in cut_levels[pk] if level in PAST_WARNING}
            ),
            "cuts_past_warning_last": sorted(
                {
                    cut
                    for period, cut, level in cut_levels[pk]
                    if level in PAST_WARNING and period == last_period
                }
            ),
            "cuts": [],
        }
        if contract.category == "outcome":
            for dimension in contract.required_cuts or []:
                values = sorted(
                    {
                        str(cohort[dimension])
                        for cohort, _row in group["baseline"] + group["month"]
                        if dimension in cohort
                    }
                )
                for value in values:
                    comparison = _comparison(
                        contract,
                        [r for c, r in group["baseline"] if str(c.get(dimension)) == value],
                        [r for c, r in group["month"] if str(c.get(dimension)) == value],
                    )
                    figure["cuts"].append(
                        {"cut": f"{dimension}={value}", "dimension": dimension, **comparison}
                    )
        figures[pk] = figure
    return figures


# --- the words of a figure -------------------------------------------------------------------


def _ref(figure: dict) -> str:
    """A contract as the memo cites it: metric id and evidence level, marked below E3."""
    level = figure["evidence_level"] or "—"
    if figure["below_e3"]:
        return gettext("%(metric)s (%(level)s, below E3)") % {"metric": figure["metric_id"], "level": level}
    return f"{figure['metric_id']} ({level})"


def _level_word(level: str) -> str:
    from contracts.choices import SignalLevel

    try:
        return str(SignalLevel(level).label).lower()
    except ValueError:
        return level


def _movement_words(comparison: dict, *, against: str) -> str:
    """ "+2.1 pts vs baseline (95% CI +1.0 … +3.2 pts, worse)" or the reason there is no figure."""
    if not comparison["sufficient"]:
        return comparison["thin"]
    return gettext("%(difference)s vs %(against)s (95%% CI %(ci)s, %(moved)s)") % {
        "difference": comparison["text"],
        "against": against,
        "ci": comparison["ci_text"],
        "moved": WORDS[comparison["moved"]],
    }


def _trend_sentence(figure: dict, month_label: str) -> str:
    """A figure of the month with its change since the previous month."""
    text = gettext("%(ref)s: %(current)s in %(month)s (%(level)s); %(trend)s") % {
        "ref": _ref(figure),
        "current": figure["current_text"],
        "month": month_label,
        "level": _level_word(figure["level"]),
        "trend": _movement_words(figure["trend"], against=gettext("previous month")),
    }
    return text


def _join(parts, empty: str) -> str:
    parts = [part for part in parts if part]
    return "\n".join(parts) if parts else empty


def _no_contract(what) -> str:
    return gettext("No metric contract measures %(what)s: an evidence gap.") % {"what": str(what).lower()}


# --- the plain figures the matrix reads ------------------------------------------------------


def _direction_word(comparisons: list[dict], *, rising_is: str) -> str:
    """Rising / stable / falling from significant changes; ``rising_is`` names which way a
    worsening goes for these contracts ("worse" means the count or cost went up)."""
    sufficient = [c for c in comparisons if c["sufficient"]]
    if not sufficient:
        return UNKNOWN
    if any(c["moved"] == rising_is for c in sufficient):
        return RISING
    if any(c["moved"] not in (FLAT, rising_is) for c in sufficient):
        return FALLING
    return STABLE


def _outcome_movement(outcomes: list[dict]) -> str:
    moved = {f["movement"]["moved"] for f in outcomes if f["movement"]["sufficient"]}
    if not moved:
        return UNKNOWN
    if IMPROVED in moved and WORSE in moved:
        return MIXED
    if IMPROVED in moved:
        return IMPROVED
    if WORSE in moved:
        return WORSE
    return FLAT


def _primary_adoption(adoption: list[dict]) -> dict | None:
    """The adoption contract that says whether people use the capability: qualified use first,
    then any use or coverage rate, then the first adoption contract."""
    for words in (("qualified_use", "qualified use"), ("use", "usage", "coverage")):
        for figure in adoption:
            text = f"{figure['metric_id']} {figure['name']}".lower()
            if any(word in text for word in words):
                return figure
    return adoption[0] if adoption else None


def _adoption_level(figure: dict | None) -> str:
    if figure is None or figure["current"] is None:
        return UNKNOWN
    if figure["at_target"]:
        return HIGH
    if figure["level"] in PAST_WARNING:
        return LOW
    if figure["level"] == "insufficient":
        return UNKNOWN
    return MODERATE


def _low_risk_cohort_only(outcomes: list[dict], risky_cuts: set[str]) -> tuple[bool, str]:
    """Does an outcome improve in some cohorts of a cut, all of them low-risk, and not in a
    high-risk cohort of the same cut? A high-risk cohort is one where a risk or quality
    contract of the capability stood at warning or worse during the month."""
    for figure in outcomes:
        by_dimension: dict[str, list[dict]] = defaultdict(list)
        for cut in figure["cuts"]:
            by_dimension[cut["dimension"]].append(cut)
        for cuts in by_dimension.values():
            improving = [c for c in cuts if c["moved"] == IMPROVED]
            high_risk_not_improving = [
                c for c in cuts if c["cut"] in risky_cuts and c["moved"] != IMPROVED and c["after_rows"]
            ]
            if improving and high_risk_not_improving and not any(c["cut"] in risky_cuts for c in improving):
                return True, gettext(
                    "%(ref)s improves in %(good)s; not in %(bad)s, where a risk or quality contract is at "
                    "warning or worse"
                ) % {
                    "ref": _ref(figure),
                    "good": ", ".join(f"{c['cut']} ({c['text']}, 95% CI {c['ci_text']})" for c in improving),
                    "bad": ", ".join(
                        f"{c['cut']} ({c['text'] if c['sufficient'] else c['thin']})"
                        for c in high_risk_not_improving
                    ),
                }
    return False, ""


# --- reading the month ---------------------------------------------------------------------------


def _assumption_proposal(assumption, figures: dict[str, dict], month_label: str, today) -> dict:
    """The status the month's figures propose for one assumption, from the contracts that test
    it, with the evidence in words. Confirmed when every testing contract with data holds
    (within warning, not worse than its baseline, not "not net"); weakened when one does not;
    invalidated when one stands at its stop level, or at breach and worse than its baseline;
    needs more evidence when no testing contract has data this month."""
    verdicts = []
    texts = []
    for metric_id in assumption.tested_by_contracts or []:
        figure = figures.get(metric_id)
        if figure is None:
            verdicts.append("no_data")
            texts.append(gettext("%(metric)s: no active contract") % {"metric": metric_id})
            continue
        movement = figure["movement"]
        has_data = movement["sufficient"] or figure["level"] != "insufficient"
        if not has_data:
            verdict = "no_data"
        elif figure["worst_level"] == "stop" or (
            figure["worst_level"] == "breach" and movement["moved"] == WORSE
        ):
            verdict = "strongly_against"
        elif movement["moved"] == WORSE or figure["worst_level"] in PAST_WARNING or figure["not_net"]:
            verdict = "against"
        else:
            verdict = "supports"
        verdicts.append(verdict)
        text = gettext(
            "%(ref)s: %(current)s in %(month)s (%(level)s), baseline %(baseline)s, %(movement)s"
        ) % {
            "ref": _ref(figure),
            "current": figure["current_text"],
            "month": month_label,
            "level": _level_word(figure["worst_level"]),
            "baseline": figure["baseline_text"],
            "movement": _movement_words(movement, against=gettext("baseline")),
        }
        if figure["not_net"]:
            text += " — " + gettext("improvement not net: %(reason)s") % {
                "reason": figure["not_net_reason"].rstrip(".")
            }
        texts.append(text)
    if "strongly_against" in verdicts:
        proposed = "invalidated"
    elif "against" in verdicts:
        proposed = "weakened"
    elif "supports" in verdicts:
        proposed = "confirmed"
    else:
        proposed = "needs_evidence"
    evidence = gettext("Monthly value review of %(month)s: %(figures)s.") % {
        "month": month_label,
        "figures": "; ".join(texts) if texts else gettext("no metric contract tests it"),
    }
    from assumptions.choices import AssumptionStatus, AssumptionType

    return {
        "id": assumption.readable_id,
        "pk": assumption.pk,
        "url": assumption.get_absolute_url(),
        "statement": assumption.statement,
        "type": assumption.type,
        "type_label": str(AssumptionType(assumption.type).label),
        "status": assumption.status,
        "status_label": str(AssumptionStatus(assumption.status).label),
        "proposed": proposed,
        "proposed_label": str(AssumptionStatus(proposed).label),
        "contracts": list(assumption.tested_by_contracts or []),
        "evidence": evidence,
        "expires_on": local_iso(assumption.expires_on),
        # Leaving "expired", or an expiry date already past, needs a new expiry date (the ledger's rule).
        "needs_expiry": assumption.status == "expired" or assumption.expires_on < today,
    }


def _defects_of(figures: dict | None) -> list[str]:
    """Regressions in an impact figures dict (``releases.services.impact_figures``, live or as
    an impact review kept it) of the categories that count as defects."""
    found = []
    for contract in (figures or {}).get("contracts", []):
        if contract.get("category") not in DEFECT_CATEGORIES:
            continue
        for figure in [contract.get("whole") or {}, *contract.get("cuts", [])]:
            if figure.get("regression"):
                cut = figure.get("cut")
                found.append(f"{contract['metric_id']} [{cut}]" if cut else contract["metric_id"])
    return found


def regressions_in_words(regressions: list[str], limit: int = 3) -> str:
    """Regressions grouped by contract: "cc.repeat (whole population; intent=billing, team=north
    and 4 more cuts)" rather than one entry per cut."""
    by_metric: dict[str, list[str]] = {}
    for entry in regressions:
        metric, _sep, cut = entry.partition(" [")
        by_metric.setdefault(metric, []).append(cut.rstrip("]"))
    parts = []
    for metric, cuts in by_metric.items():
        named = [gettext("whole population") if not cut else cut for cut in cuts]
        shown = ", ".join(named[:limit])
        if len(named) > limit:
            shown += " " + gettext("and %(n)s more cuts") % {"n": len(named) - limit}
        parts.append(f"{metric} ({shown})")
    return "; ".join(parts)


def _defect_summary(row: dict) -> str:
    if row["regressions"]:
        return f"{row['id']}: {regressions_in_words(row['regressions'])}"
    return gettext("%(id)s: impact review decided %(decision)s") % {
        "id": row["id"],
        "decision": row["review_decision_label"].lower(),
    }


def _releases(capability, *, previous_start, month_start, month_end, today) -> list[dict]:
    """The releases of the month (planned, deployed or rolled back in it) and those deployed the
    month before (still "recent"), with their latest impact review and the regressions it found.
    A live release without an impact review has its impact figures computed now (one query per
    contract of the capability for each such release: few, and the regression must not wait
    for the review to be seen)."""
    from releases.choices import LIVE_STATES, ImpactDecision
    from releases.models import ImpactReview, Release
    from releases.services import impact_figures

    releases = (
        Release.objects.filter(capability=capability)
        .filter(
            Q(deployed_date__gte=previous_start, deployed_date__lt=month_end)
            | Q(planned_date__gte=month_start, planned_date__lt=month_end)
            | Q(rolled_back_date__gte=month_start, rolled_back_date__lt=month_end)
        )
        .prefetch_related(
            Prefetch("impact_reviews", queryset=ImpactReview.objects.order_by("-reviewed_at", "-id"))
        )
        .order_by("planned_date", "readable_id")
    )
    rows = []
    for release in releases:
        reviews = list(release.impact_reviews.all())
        review = reviews[0] if reviews else None
        live = release.state in LIVE_STATES
        figures = None
        if review is not None:
            figures = review.figures
        elif live and release.deployed_date and release.deployed_date <= today:
            figures = impact_figures(release)
        regressions = _defects_of(figures)
        # A release kept at its impact review despite a regression was judged by the release
        # forum: shown, not counted again. One the review sent to a hotfix still is a defect.
        kept = review is not None and review.decision == ImpactDecision.KEEP
        defect = (
            live
            and not kept
            and (bool(regressions) or (review is not None and review.decision == ImpactDecision.HOTFIX))
        )
        rows.append(
            {
                "id": release.readable_id,
                "url": release.get_absolute_url(),
                "object_type": release.object_type,
                "object_type_label": str(release.get_object_type_display()),
                "change": release.change,
                "version": f"{release.version_from or '—'} → {release.version_to}",
                "state": release.state,
                "state_label": str(release.get_state_display()),
                "planned": local_iso(release.planned_date),
                "deployed": local_iso(release.deployed_date),
                "rolled_back": local_iso(release.rolled_back_date),
                "review_decision": review.decision if review else "",
                "review_decision_label": str(review.get_decision_display()) if review else "",
                "review_comment": review.comment if review else "",
                "reviewed": review is not None,
                "regressions": regressions,
                "kept_despite_regressions": kept and bool(regressions),
                "defect": bool(defect),
            }
        )
    return rows


def _experiments(capability, *, month_start, month_end) -> list[dict]:
    """Experiments that ran, read out or were decided during the month."""
    from experiments.models import Experiment

    start_moment = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time.min))
    rows = (
        Experiment.objects.filter(capability=capability, start_date__lt=month_end)
        .exclude(state="proposed")
        .filter(
            Q(state__in=["running", "readout"])
            | Q(ended_on__gte=month_start)
            | Q(decided_at__gte=start_moment)
        )
        .select_related("primary_metric")
        .order_by("start_date", "readable_id")
    )
    return [
        {
            "id": experiment.readable_id,
            "url": experiment.get_absolute_url(),
            "title": experiment.title,
            "state": experiment.state,
            "state_label": str(experiment.get_state_display()),
            "decision": experiment.decision,
            "decision_label": str(experiment.get_decision_display()) if experiment.decision else "",
            "result": experiment.result,
            "metric_id": experiment.primary_metric.metric_id if experiment.primary_metric else "",
        }
        for experiment in rows
    ]


def _incidents(capability, *, previous_start, month_end) -> list[dict]:
    from incidents.models import Incident

    rows = (
        Incident.objects.filter(
            capability=capability, occurred_on__gte=previous_start, occurred_on__lt=month_end
        )
        .prefetch_related("root_causes")
        .order_by("occurred_on", "readable_id")
    )
    return [
        {
            "id": incident.readable_id,
            "url": incident.get_absolute_url(),
            "title": incident.title,
            "source": incident.source,
            "severity": incident.severity,
            "severity_label": str(incident.get_severity_display()),
            "occurred_on": local_iso(incident.occurred_on),
            "state_label": str(incident.get_state_display()),
            "root_causes": sorted(cause.cause_class for cause in incident.root_causes.all()),
        }
        for incident in rows
    ]


def _signals(contract_ids, *, month_start, month_end) -> list[dict]:
    from contracts.models import Signal

    rows = (
        Signal.objects.filter(contract_id__in=contract_ids, opened_period__lt=month_end)
        .filter(Q(resolved_period__isnull=True) | Q(resolved_period__gte=month_start))
        .select_related("contract", "action")
        .order_by("contract__metric_id", "cut")
    )
    return [
        {
            "metric_id": signal.contract.metric_id,
            "category": signal.contract.category,
            "cut": signal.cut,
            "level": signal.level,
            "worst_level": signal.worst_level,
            "opened": local_iso(signal.opened_period),
            "resolved": local_iso(signal.resolved_period),
            "action": signal.action.readable_id if signal.action else "",
            "url": signal.get_absolute_url(),
        }
        for signal in rows
    ]


def _actions(capability, *, month_start, month_end, today) -> dict:
    from actions.models import Action, ClosureEvidence

    start = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(month_end, datetime.time.min))
    rows = (
        Action.objects.filter(capability=capability)
        .filter(~Q(status="closed") | Q(closed_at__gte=start, closed_at__lt=end))
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "evidence",
                queryset=ClosureEvidence.objects.filter(verdict="accepted").order_by("-submitted_at", "-id"),
            )
        )
        .order_by("due_date", "readable_id")
    )
    open_rows, closed_rows = [], []
    for action in rows:
        evidence = list(action.evidence.all())
        row = {
            "id": action.readable_id,
            "url": action.get_absolute_url(),
            "action": action.action,
            "owner": person_name(action.owner),
            "due_date": local_iso(action.due_date),
            "status": action.status,
            "status_label": str(action.get_status_display()),
            "overdue": action.status != "closed" and action.due_date < today,
            "closure_criterion": action.closure_criterion,
            "closure_evidence": evidence[0].text if evidence else "",
            "closed_at": local_iso(action.closed_at),
        }
        (closed_rows if action.status == "closed" else open_rows).append(row)
    open_rows.sort(key=lambda row: (not row["overdue"], row["status"] != "blocked", row["due_date"]))
    return {"open": open_rows, "closed": closed_rows}


def _decision_owner(capability, session, by):
    """Who owns the decision: the forum's owner when there is a session, else the capability's
    AI PM (accountable for the monthly value review), else the person generating the memo."""
    if session is not None:
        return session.forum.owner
    from productops.models import RoleAssignment

    row = (
        RoleAssignment.objects.filter(capability=capability, role="ai_pm", user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return row.user if row is not None else by


def monthly_forums_for(capability):
    """The monthly value review forums whose scope covers the capability (or the whole
    organisation)."""
    return (
        Forum.objects.filter(cadence=Cadence.MONTHLY_VALUE_REVIEW)
        .filter(Q(scope=capability) | Q(scope__isnull=True))
        .distinct()
        .order_by("name", "pk")
    )


def _next_review_session(capability, session, after):
    sessions = Session.objects.filter(scheduled_at__gt=after)
    if session is not None:
        sessions = sessions.filter(forum_id=session.forum_id)
    else:
        sessions = sessions.filter(forum__in=monthly_forums_for(capability))
    return sessions.order_by("scheduled_at").first()


@dataclass
class MemoDraft:
    """A memo as built from the data: its sections (``fields``), the plain figures the matrix
    reads, and what the matrix made of them."""

    fields: dict
    evidence: MatrixEvidence
    result: MatrixResult


def _lines_of(figures: list[dict], line: str) -> list[dict]:
    return [figure for figure in figures if figure["line"] == line]


def memo_build(
    *, capability, month: datetime.date, session: Session | None = None, by=None, now=None
) -> MemoDraft:
    """The monthly decision memo of playbook 8.4 for one capability and month, from the data as
    it stands: every figure names its contract and evidence level (below E3 marked); outcome
    movement is baseline → month with its 95% interval (``contracts.stats``); risk, cost and
    adoption trends are previous month → month. A fixed number of queries, plus the impact
    figures of a live release that has no impact review yet."""
    from assumptions.models import Assumption
    from contracts.models import MetricContract

    now = now or timezone.now()
    today = timezone.localdate(now)
    month_start = month_start_of(month)
    month_end = month_after(month_start)
    previous_start = month_before(month_start)
    month_label = month_start.strftime("%Y-%m")

    assumptions = list(Assumption.objects.filter(capability=capability).order_by("readable_id"))
    tested = {metric_id for assumption in assumptions for metric_id in assumption.tested_by_contracts or []}
    contracts = list(
        MetricContract.objects.filter(
            Q(capability=capability, status="active") | Q(metric_id__in=tested)
        ).order_by("category", "metric_id")
    )
    by_id = contract_figures(contracts, month_start=month_start, today=today)
    by_metric = {figure["metric_id"]: figure for figure in by_id.values()}
    own = [
        by_id[contract.pk]
        for contract in contracts
        if contract.capability_id == capability.pk
        and contract.status == "active"
        and by_id[contract.pk]["line"]
    ]
    sections_figures = {key: [figure for figure in own if figure["section"] == key] for key in SECTION_KEYS}
    outcomes = [figure for figure in own if figure["line"] == "outcome"]
    adoption = sections_figures["adoption"]
    risk_figures = [f for f in own if f["section"] == "risk" and f["category"] == "risk"]

    releases = _releases(
        capability, previous_start=previous_start, month_start=month_start, month_end=month_end, today=today
    )
    experiments = _experiments(capability, month_start=month_start, month_end=month_end)
    incidents = _incidents(capability, previous_start=previous_start, month_end=month_end)
    month_incidents = [i for i in incidents if i["occurred_on"] >= month_start.isoformat()]
    signals = _signals(
        [c.pk for c in contracts if c.capability_id == capability.pk],
        month_start=month_start,
        month_end=month_end,
    )
    actions = _actions(capability, month_start=month_start, month_end=month_end, today=today)
    owner = _decision_owner(capability, session, by)
    proposals = [
        _assumption_proposal(assumption, by_metric, month_label, today)
        for assumption in assumptions
        if assumption.status != "invalidated"
    ]

    basis: dict[str, str] = {}

    # Outcome.
    movement = _outcome_movement(outcomes)
    basis["outcome_movement"] = "; ".join(
        f"{_ref(f)}: {_movement_words(f['movement'], against=gettext('baseline'))}" for f in outcomes
    ) or _no_contract(_("the outcome"))
    not_net = tuple(f["metric_id"] for f in outcomes if f["not_net"])
    basis["not_net"] = "; ".join(f["not_net_reason"] or f["metric_id"] for f in outcomes if f["not_net"])

    # Adoption.
    primary = _primary_adoption(adoption)
    adoption_level = _adoption_level(primary)
    durable = None
    if primary is not None:
        basis["adoption_level"] = gettext(
            "%(ref)s: %(current)s in %(month)s (target %(target)s, warning %(warning)s)"
        ) % {
            "ref": _ref(primary),
            "current": primary["current_text"],
            "month": month_label,
            "target": primary["target_text"],
            "warning": primary["warning_text"],
        }
        dropping = primary["cuts_past_warning_last"]
        if primary["trend"]["moved"] == WORSE or dropping:
            durable = False
        elif primary["trend"]["sufficient"] or primary["level"] != "insufficient":
            durable = True
        basis["adoption_durable"] = "; ".join(
            part
            for part in [
                f"{_ref(primary)}: {_movement_words(primary['trend'], against=gettext('previous month'))}",
                (gettext("cohorts at warning or worse: %(cuts)s") % {"cuts": ", ".join(dropping)})
                if dropping
                else gettext("no cohort at warning or worse in the month's last period"),
            ]
            if part
        )
    else:
        basis["adoption_level"] = basis["adoption_durable"] = _no_contract(_("adoption"))

    # Complaints, risk.
    complaints = _lines_of(own, "complaints")
    complaint_incidents = [i for i in incidents if i["source"] == "complaint"]
    in_month = sum(1 for i in complaint_incidents if i["occurred_on"] >= month_start.isoformat())
    before = len(complaint_incidents) - in_month
    if complaints and any(f["trend"]["sufficient"] for f in complaints):
        complaints_trend = _direction_word([f["trend"] for f in complaints], rising_is=WORSE)
        basis["complaints_trend"] = "; ".join(
            f"{_ref(f)}: {_movement_words(f['trend'], against=gettext('previous month'))}" for f in complaints
        )
    elif in_month >= MIN_COMPLAINTS_FOR_TREND or before >= MIN_COMPLAINTS_FOR_TREND:
        complaints_trend = RISING if in_month > before else (FALLING if in_month < before else STABLE)
        basis["complaints_trend"] = gettext(
            "No complaint contract with data; complaint incidents: %(month)s this month, %(before)s the month "
            "before (E2 sampled)"
        ) % {"month": in_month, "before": before}
    else:
        complaints_trend = UNKNOWN
        basis["complaints_trend"] = _no_contract(_("complaints")) + (
            " "
            + gettext(
                "Complaint incidents: %(month)s this month, %(before)s the month before: too few for a trend."
            )
            % {"month": in_month, "before": before}
            if complaint_incidents
            else ""
        )
    harm = [
        *(
            gettext("%(ref)s at %(level)s in %(month)s")
            % {"ref": _ref(f), "level": _level_word(f["worst_level"]), "month": month_label}
            for f in risk_figures
            if f["worst_level"] in SEVERE
        ),
        *(
            gettext("signal %(metric)s%(cut)s at %(level)s")
            % {
                "metric": _ref(by_metric[s["metric_id"]]) if s["metric_id"] in by_metric else s["metric_id"],
                "cut": f" [{s['cut']}]" if s["cut"] else "",
                "level": _level_word(s["worst_level"]),
            }
            for s in signals
            if s["category"] == "risk" and s["worst_level"] in SEVERE
        ),
        *(
            f"{i['id']} {i['severity_label']}: {i['title']}"
            for i in month_incidents
            if i["severity"] == "sev1"
        ),
    ]
    basis["harm_signals"] = "; ".join(harm) or gettext(
        "no risk contract or signal at breach or stop, no Sev1 incident in %(month)s"
    ) % {"month": month_label}
    # Risk is stable when nothing harms customers, complaints do not rise and no Sev2 incident
    # (a material defect or repeated complaint, 15.1) happened in the month.
    unstable = harm + [
        f"{i['id']} {i['severity_label']}: {i['title']}" for i in month_incidents if i["severity"] == "sev2"
    ]
    if complaints_trend == RISING:
        unstable.append(gettext("complaints rising"))
    if unstable:
        risk_stable = False
        basis["risk_stable"] = "; ".join(unstable)
    elif risk_figures or month_incidents:
        risk_stable = True
        basis["risk_stable"] = gettext(
            "%(n)s risk contracts, none at breach or stop in %(month)s; no Sev1/Sev2 incident; complaints not rising"
        ) % {"n": len(risk_figures), "month": month_label}
    else:
        risk_stable = None
        basis["risk_stable"] = _no_contract(_("risk"))

    # Cost.
    costs = _lines_of(own, "cost_per_case")
    with_data = [f for f in costs if f["trend"]["sufficient"] or f["level"] != "insufficient"]
    cost_trend = _direction_word([f["trend"] for f in costs], rising_is=WORSE) if costs else UNKNOWN
    if not with_data:
        cost_acceptable = None
    else:
        cost_acceptable = not any(f["worst_level"] in PAST_WARNING for f in with_data)
    basis["cost_trend"] = "; ".join(
        f"{_ref(f)}: {_movement_words(f['trend'], against=gettext('previous month'))}" for f in costs
    ) or _no_contract(_("cost per case"))
    basis["cost_acceptable"] = "; ".join(
        gettext("%(ref)s: %(current)s (%(level)s; warning %(warning)s)")
        % {
            "ref": _ref(f),
            "current": f["current_text"],
            "level": _level_word(f["worst_level"]),
            "warning": f["warning_text"],
        }
        for f in costs
    ) or _no_contract(_("cost per case"))

    # Releases.
    defects = tuple(_defect_summary(row) for row in releases if row["defect"])
    basis["release_defects"] = "; ".join(defects) or gettext(
        "no regression in the impact figures of recent releases"
    )

    # Manual review load.
    review_load = _lines_of(own, "human_review_load")
    straining = [f for f in review_load if f["trend"]["moved"] == WORSE or f["worst_level"] in PAST_WARNING]
    basis["manual_review_unscalable"] = (
        "; ".join(
            f"{_ref(f)}: {f['current_text']} ({_level_word(f['worst_level'])}), {_movement_words(f['trend'], against=gettext('previous month'))}"
            for f in straining
        )
        if straining
        else (
            gettext("review load within its thresholds")
            if review_load
            else _no_contract(_("the human review load"))
        )
    )

    # Cohorts.
    risky_cuts = {
        cut
        for figure in own
        if figure["category"] in ("risk", "quality")
        for cut in figure["cuts_past_warning"]
    }
    low_risk_only, low_risk_basis = _low_risk_cohort_only(outcomes, risky_cuts)
    basis["low_risk_cohort_only"] = low_risk_basis or gettext(
        "no outcome improvement confined to low-risk cohorts"
    )

    # Friction and the value thesis.
    friction = [i for i in month_incidents if set(i["root_causes"]) & {"workflow", "training"}]
    basis["workflow_friction"] = "; ".join(
        f"{i['id']}: {i['title']} ({', '.join(i['root_causes'])})" for i in friction
    ) or gettext("no incident of the month with a workflow or training root cause")
    weak_values = [
        p
        for p in proposals
        if p["type"] == "value"
        and (p["proposed"] in ("weakened", "invalidated") or p["status"] == "weakened")
    ] + [
        {"id": a.readable_id, "proposed_label": a.get_status_display(), "statement": a.statement}
        for a in assumptions
        if a.type == "value" and a.status == "invalidated"
    ]
    basis["value_thesis_weak"] = "; ".join(
        f"{p['id']} ({p['proposed_label']}): {p['statement']}" for p in weak_values
    ) or gettext("no value assumption weakened or invalidated")

    evidence = MatrixEvidence(
        outcome_movement=movement,
        not_net=not_net,
        adoption_level=adoption_level,
        adoption_durable=durable,
        complaints_trend=complaints_trend,
        harm_signals=tuple(harm),
        risk_stable=risk_stable,
        cost_trend=cost_trend,
        cost_acceptable=cost_acceptable,
        release_defects=defects,
        manual_review_unscalable=bool(straining),
        low_risk_cohort_only=low_risk_only,
        workflow_friction=bool(friction),
        value_thesis_weak=bool(weak_values),
        basis=basis,
    )
    result = decision_matrix(evidence)
    next_session = _next_review_session(capability, session, session.scheduled_at if session else now)

    fields = {
        "version": MEMO_VERSION,
        "meta": {
            "title": str(MEMO_TITLE),
            "capability": capability.name,
            "capability_slug": capability.slug,
            "month": month_label,
            "month_start": local_iso(month_start),
            "data_to": local_iso(min(month_end - datetime.timedelta(days=1), today)),
            "partial": month_end > today,
            "session_id": session.pk if session else None,
            "session": str(session) if session else "",
            "session_at": local_iso(session.scheduled_at) if session else None,
            "forum": session.forum.name if session else "",
            "generated_at": local_iso(now),
            "generated_by": person_name(by),
            "owner": person_name(owner),
            "owner_id": owner.pk if owner else None,
            "next_session_at": local_iso(next_session.scheduled_at) if next_session else None,
        },
        "figures": {key: sections_figures[key] for key in ("outcome", "adoption", "risk", "cost")},
        "release_rows": releases,
        "experiments": experiments,
        "incidents": month_incidents,
        "signals": signals,
        "actions": actions,
        "assumption_update": proposals,
        "judgments": {},
        "not_net": [
            {"metric_id": f["metric_id"], "reason": f["not_net_reason"], "url": f["url"]}
            for f in own
            if f["not_net"]
        ],
        "below_e3": sorted({f["metric_id"] for f in own if f["below_e3"]}),
        "citations": {
            "contracts": [f["metric_id"] for f in own],
            "releases": [row["id"] for row in releases],
            "experiments": [row["id"] for row in experiments],
            "incidents": [row["id"] for row in month_incidents],
        },
    }
    fields.update(
        _memo_lines(
            capability=capability,
            fields=fields,
            own=own,
            outcomes=outcomes,
            primary=primary,
            result=result,
            session=session,
            next_session=next_session,
            month_label=month_label,
            complaint_counts=(in_month, before),
        )
    )
    return MemoDraft(fields=fields, evidence=evidence, result=result)


def _figure_lines(figures: list[dict], month_label: str, empty: str) -> str:
    return _join((_trend_sentence(f, month_label) for f in figures), empty)


def _recommendation_text(result: dict) -> str:
    return gettext("%(decision)s — pattern: %(pattern)s") % {
        "decision": result["label"],
        "pattern": result["pattern"],
    }


def _memo_lines(
    *,
    capability,
    fields,
    own,
    outcomes,
    primary,
    result,
    session,
    next_session,
    month_label,
    complaint_counts,
) -> dict:
    """The text of every line of 8.4 (what people read and may edit while it is a draft)."""
    from portfolio.choices import LifecycleStatus, RiskTier

    result = result.as_dict() if isinstance(result, MatrixResult) else result
    meta = fields["meta"]
    version_set = capability.current_version_set or {}
    lines: dict[str, dict[str, str]] = {}
    lines["capability"] = {
        "product": gettext("%(name)s (%(tier)s risk, %(status)s)")
        % {
            "name": capability.name,
            "tier": str(RiskTier(capability.risk_tier).label).lower(),
            "status": str(LifecycleStatus(capability.lifecycle_status).label).lower(),
        },
        "workflow": capability.workflow,
        "target_population": " — ".join(
            part for part in [capability.target_users, capability.case_types] if part
        ),
        "version_set": ", ".join(f"{key}: {value}" for key, value in sorted(version_set.items()))
        or gettext("No release has been deployed through the release calendar yet."),
    }
    lines["decision_requested"] = {
        "recommendation": _recommendation_text(result),
        "deadline": (
            timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d %H:%M")
            if session
            else gettext("The next monthly value review (no session chosen yet).")
        ),
        "owner": meta["owner"] or "—",
    }

    pre_ai = (
        gettext("Pre-AI baseline: %(text)s") % {"text": capability.baseline_outcome}
        if capability.baseline_outcome
        else ""
    )
    no_outcome = _no_contract(_("the outcome"))
    lines["outcome"] = {
        "baseline": _join(
            [pre_ai]
            + [
                gettext("%(ref)s: %(value)s (%(periods)s)")
                % {"ref": _ref(f), "value": f["baseline_text"], "periods": f["baseline_periods"]}
                if f["baseline_periods"]
                else gettext("%(ref)s: no period with enough data before %(month)s")
                % {"ref": _ref(f), "month": month_label}
                for f in outcomes
            ],
            no_outcome,
        ),
        "current": _join(
            (
                gettext("%(ref)s: %(value)s in %(month)s (%(level)s)")
                % {
                    "ref": _ref(f),
                    "value": f["current_text"],
                    "month": month_label,
                    "level": _level_word(f["level"]),
                }
                for f in outcomes
            ),
            no_outcome,
        ),
        "movement": _join(
            (
                f"{_ref(f)}: {f['movement']['text'] if f['movement']['sufficient'] else '—'}"
                + (f" ({WORDS[f['movement']['moved']]})" if f["movement"]["sufficient"] else "")
                + (
                    " — " + gettext("NOT NET: %(reason)s") % {"reason": f["not_net_reason"]}
                    if f["not_net"]
                    else ""
                )
                for f in outcomes
            ),
            no_outcome,
        ),
        "confidence": _join(
            (
                gettext("%(ref)s: 95%% CI %(ci)s (%(before)s baseline and %(after)s month observations)")
                % {
                    "ref": _ref(f),
                    "ci": f["movement"]["ci_text"],
                    "before": f["movement"]["before_rows"],
                    "after": f["movement"]["after_rows"],
                }
                if f["movement"]["sufficient"]
                else f"{_ref(f)}: {f['movement']['thin']}"
                for f in outcomes
            ),
            no_outcome,
        ),
    }

    adoption = [f for f in own if f["line"] == "qualified_use"]
    if primary is not None:
        dropping = primary["cuts_past_warning_last"]
        durability = _join(
            [
                f"{_ref(primary)}: {_movement_words(primary['trend'], against=gettext('previous month'))}",
                gettext("Cohorts at warning or worse in the month's last period: %(cuts)s")
                % {"cuts": ", ".join(dropping)}
                if dropping
                else gettext("No cohort at warning or worse in the month's last period."),
            ],
            "",
        )
    else:
        durability = _no_contract(_("adoption"))
    lines["adoption"] = {
        "qualified_use": _figure_lines(adoption, month_label, _no_contract(_("qualified use"))),
        "cohort_durability": durability,
        "work_as_done": gettext(
            "Not recorded: the BA or ops lead adds what people actually do in the workflow before the memo is sent."
        ),
    }

    incidents = fields["incidents"]
    signals = fields["signals"]
    complaint_incidents = [i for i in incidents if i["source"] == "complaint"]
    in_month, before = complaint_counts
    complaint_extra = (
        gettext("Complaint incidents: %(month)s in %(label)s (%(before)s the month before).")
        % {
            "month": in_month,
            "label": month_label,
            "before": before,
        }
        + "".join(f"\n{i['id']} {i['severity_label']}: {i['title']}" for i in complaint_incidents)
        if in_month or before
        else ""
    )
    drift_incidents = [
        f"{i['id']} {i['severity_label']}: {i['title']}" for i in incidents if i["source"] == "policy_drift"
    ]
    harm_signals = [
        gettext("Signal %(metric)s%(cut)s at %(level)s since %(opened)s%(action)s")
        % {
            "metric": s["metric_id"],
            "cut": f" [{s['cut']}]" if s["cut"] else "",
            "level": _level_word(s["level"]),
            "opened": s["opened"],
            "action": f" → {s['action']}" if s["action"] else "",
        }
        for s in signals
        if s["category"] in ("risk", "quality") and s["worst_level"] in SEVERE
    ]
    harm_incidents = [
        f"{i['id']} {i['severity_label']}: {i['title']}"
        for i in incidents
        if i["severity"] in ("sev1", "sev2")
    ]
    lines["risk"] = {
        "complaints": _join(
            [_trend_sentence(f, month_label) for f in own if f["line"] == "complaints"] + [complaint_extra],
            _no_contract(_("complaints")),
        ),
        "overrides": _figure_lines(
            [f for f in own if f["line"] == "overrides"], month_label, _no_contract(_("overrides"))
        ),
        "policy_drift": _join(
            [_trend_sentence(f, month_label) for f in own if f["line"] == "policy_drift"] + drift_incidents,
            _no_contract(_("policy drift")),
        ),
        "customer_harm": _join(
            [_trend_sentence(f, month_label) for f in own if f["line"] == "customer_harm"]
            + harm_signals
            + harm_incidents,
            _no_contract(_("customer harm")),
        ),
        "quality_control": _figure_lines(
            [f for f in own if f["line"] == "quality_control"], month_label, _no_contract(_("quality"))
        ),
    }
    lines["cost"] = {
        line: _figure_lines([f for f in own if f["line"] == line], month_label, _no_contract(label))
        for line, label in [
            ("cost_per_case", _("cost per case")),
            ("human_review_load", _("the human review load")),
            ("support_load", _("the support load")),
            ("platform_capacity", _("platform capacity")),
        ]
    }

    releases = fields["release_rows"]
    lines["releases"] = {
        "recent_releases": _join(
            (
                gettext("%(id)s %(type)s: %(change)s, %(version)s — %(state)s%(deployed)s; %(review)s")
                % {
                    "id": r["id"],
                    "type": r["object_type_label"].lower(),
                    "change": r["change"],
                    "version": r["version"],
                    "state": r["state_label"].lower(),
                    "deployed": (" " + gettext("on %(date)s") % {"date": r["deployed"]})
                    if r["deployed"]
                    else "",
                    "review": (
                        gettext("impact review: %(decision)s — %(comment)s")
                        % {"decision": r["review_decision_label"].lower(), "comment": r["review_comment"]}
                        if r["reviewed"]
                        else gettext("no impact review yet")
                    ),
                }
                for r in releases
            ),
            gettext("No release planned, deployed or rolled back in %(month)s.") % {"month": month_label},
        ),
        "experiment_result": _join(
            (
                f"{e['id']} {e['title']} ({e['state_label'].lower()})"
                + (f": {e['decision_label']}" if e["decision_label"] else "")
                + (f" — {e['result'].splitlines()[0]}" if e["result"] else "")
                for e in fields["experiments"]
            ),
            gettext("No experiment ran or was decided in %(month)s.") % {"month": month_label},
        ),
        "regressions": _join(
            [
                gettext("%(id)s: %(regressions)s%(kept)s")
                % {
                    "id": r["id"],
                    "regressions": regressions_in_words(r["regressions"], limit=6),
                    "kept": (" — " + gettext("kept at its impact review"))
                    if r["kept_despite_regressions"]
                    else "",
                }
                for r in releases
                if r["regressions"]
            ],
            gettext("No regression in the impact figures of the recent releases."),
        ),
    }

    proposals = fields["assumption_update"]
    lines["assumptions"] = {
        status: _join(
            (
                gettext("%(id)s %(statement)s (now %(current)s; tested by %(contracts)s)")
                % {
                    "id": p["id"],
                    "statement": p["statement"],
                    "current": p["status_label"].lower(),
                    "contracts": ", ".join(p["contracts"]) or gettext("no contract"),
                }
                for p in proposals
                if p["proposed"] == status
            ),
            "—",
        )
        for status in ("confirmed", "weakened", "invalidated", "needs_evidence")
    }
    if not proposals:
        lines["assumptions"]["needs_evidence"] = gettext(
            "The ledger holds no live assumption for this capability: add the beliefs its value case rests on (rule 6.2)."
        )

    actions = fields["actions"]
    blocked = "".join(
        " " + gettext("%(decision)s is blocked: %(reason)s") % {"decision": b["label"], "reason": b["reason"]}
        for b in result["blocked"]
    )
    trigger_lines = ("outcome", "complaints", "customer_harm", "cost_per_case")
    trigger_contracts = [
        f["metric_id"]
        for f in sorted(
            own, key=lambda f: trigger_lines.index(f["line"]) if f["line"] in trigger_lines else 9
        )
        if f["line"] in trigger_lines
    ]
    lines["decision"] = {
        "decision": gettext("Recommended: %(decision)s.") % {"decision": result["label"]} + blocked,
        "actions": _join(
            (
                gettext("%(id)s %(action)s — %(owner)s, due %(due)s, %(status)s%(overdue)s")
                % {
                    "id": a["id"],
                    "action": a["action"],
                    "owner": a["owner"],
                    "due": a["due_date"],
                    "status": a["status_label"].lower(),
                    "overdue": " (" + gettext("overdue") + ")" if a["overdue"] else "",
                }
                for a in actions["open"][:LIST_LIMIT]
            ),
            gettext("No open action."),
        )
        + (
            "\n" + gettext("… and %(n)s more open actions.") % {"n": len(actions["open"]) - LIST_LIMIT}
            if len(actions["open"]) > LIST_LIMIT
            else ""
        ),
        "closure_evidence": _join(
            (
                gettext("%(id)s %(action)s — closed %(closed)s: %(evidence)s")
                % {
                    "id": a["id"],
                    "action": a["action"],
                    "closed": (a["closed_at"] or "")[:10],
                    "evidence": a["closure_evidence"] or "—",
                }
                for a in actions["closed"]
            ),
            gettext("No action closed with evidence in %(month)s.") % {"month": month_label},
        ),
        "next_review_trigger": gettext(
            "The next monthly value review%(when)s, or earlier if %(contracts)s crosses its warning level."
        )
        % {
            "when": (" (" + meta["next_session_at"][:10] + ")") if meta["next_session_at"] else "",
            "contracts": ", ".join(trigger_contracts[:4]) or gettext("an outcome, risk or cost contract"),
        },
    }
    return lines


# --- services: generate, edit, send, decide -------------------------------------------------------


def memos_visible_to(user):
    """The memos of the capabilities a person holds a role on (all for organisation-wide roles)."""
    memos = ValueMemo.objects.select_related("capability", "session__forum", "sent_by", "decision")
    if not getattr(user, "is_authenticated", False):
        return memos.none()
    visible = visible_capability_ids(user)
    return memos if visible is None else memos.filter(capability_id__in=visible)


def memo_for_user(user, pk: int) -> ValueMemo:
    """The memo, or 404 when the person holds no role on its capability (not even confirmed to exist)."""
    memo = memos_visible_to(user).filter(pk=pk).first()
    if memo is None:
        raise Http404
    return memo


def can_edit_memo(user, memo: ValueMemo) -> bool:
    """A or R on the monthly value review for the memo's capability (AI PM, BA, ops, analytics,
    finance, executive), while it is a draft."""
    return not memo.is_sent and can_change(user, ACTIVITY, memo.capability)


def can_decide_memo(user, memo: ValueMemo) -> bool:
    return memo.is_sent and memo.decision_id is None and can_change(user, ACTIVITY, memo.capability)


def _check_session(session: Session, capability) -> None:
    if session.forum.cadence != Cadence.MONTHLY_VALUE_REVIEW:
        raise DomainError(gettext("A value memo belongs to a monthly value review session."), field="session")
    scope = session.forum.scope_list()
    if scope and capability.pk not in {c.pk for c in scope}:
        raise DomainError(gettext("This capability is not in the forum's scope."), field="session")


def _check_month(month: datetime.date, today: datetime.date) -> datetime.date:
    if not isinstance(month, datetime.date):
        raise DomainError(gettext("Give the month reviewed as YYYY-MM."), field="month")
    month = month_start_of(month)
    if month > month_start_of(today):
        raise DomainError(gettext("A month not yet begun has no data to review."), field="month")
    return month


def _marked(fields: dict, result: MatrixResult) -> dict:
    """The matrix's result with the contracts below E3 its fired figures rest on (playbook 11.2:
    a decision resting on evidence below E3 is marked)."""
    data = result.as_dict()
    cited = " ".join(figure["basis"] for figure in data["figures"])
    data["below_e3"] = [metric_id for metric_id in fields.get("below_e3") or [] if metric_id in cited]
    return data


def _store(memo: ValueMemo, draft: MemoDraft) -> None:
    memo.fields = draft.fields
    memo.matrix = {**_marked(draft.fields, draft.result), "evidence": draft.evidence.as_dict()}
    memo.recommendation = draft.result.decision


@transaction.atomic
def memo_generate(
    *, capability, month: datetime.date, session: Session | None = None, by, now=None
) -> ValueMemo:
    """Generate the capability's memo for the month from the data (``memo_build``) and run the
    decision matrix on it. A draft memo of the same capability and month is replaced, edits
    included; a sent memo is kept as sent (TransitionNotAllowed). Needs A or R on the monthly
    value review for the capability."""
    require_change(by, ACTIVITY, capability)
    now = now or timezone.now()
    month = _check_month(month, timezone.localdate(now))
    if session is not None:
        _check_session(session, capability)
    existing = ValueMemo.objects.select_for_update().filter(capability=capability, month=month).first()
    if existing is not None and existing.is_sent:
        raise TransitionNotAllowed(
            gettext(
                "The memo of %(month)s was sent on %(date)s and is kept as sent: it cannot be regenerated."
            )
            % {
                "month": month.strftime("%Y-%m"),
                "date": timezone.localtime(existing.sent_at).strftime("%Y-%m-%d"),
            },
            field="state",
        )
    draft = memo_build(capability=capability, month=month, session=session, by=by, now=now)
    memo = existing or ValueMemo(capability=capability, month=month)
    _store(memo, draft)
    memo.session = session if session is not None else memo.session
    memo.generated_at = now
    memo._history_user = by
    memo._change_reason = "regenerated" if existing else "generated"
    if existing is None:
        try:
            with transaction.atomic():
                memo.save()
        except IntegrityError:
            # Someone generated the same month a moment ago: theirs stands, ours replaces it.
            memo = ValueMemo.objects.select_for_update().get(capability=capability, month=month)
            if memo.is_sent:
                raise TransitionNotAllowed(gettext("The memo was sent meanwhile."), field="state") from None
            _store(memo, draft)
            memo.session = session if session is not None else memo.session
            memo.generated_at = now
            memo.save()
    else:
        memo.save()
    return memo


def evidence_with_judgments(evidence: MatrixEvidence, judgments: dict) -> MatrixEvidence:
    """The data's figures plus what people stated in the memo (``JUDGMENTS``): a stated
    friction, weak thesis or unscalable review load sets its flag, and the basis says who said
    so. A judgment can only add caution; it never clears what the data found."""
    basis = dict(evidence.basis)
    changes = {}
    for key, text in (judgments or {}).items():
        text = (text or "").strip()
        if key not in JUDGMENTS or not text:
            continue
        changes[key] = True
        stated = gettext("stated in the memo: %(text)s") % {"text": text}
        basis[key] = f"{basis[key]}; {stated}" if getattr(evidence, key) and basis.get(key) else stated
    return MatrixEvidence(**{**evidence.as_dict(), **changes, "basis": basis}) if changes else evidence


def _require_draft(memo: ValueMemo) -> None:
    if memo.is_sent:
        raise TransitionNotAllowed(
            gettext("The memo was sent on %(date)s and is kept as sent: it can no longer be edited.")
            % {"date": timezone.localtime(memo.sent_at).strftime("%Y-%m-%d")},
            field="state",
        )


def _lock(memo: ValueMemo) -> ValueMemo:
    return ValueMemo.objects.select_for_update().select_related("capability").get(pk=memo.pk)


def _sync(memo: ValueMemo, fresh: ValueMemo) -> ValueMemo:
    for name in (
        "fields",
        "matrix",
        "recommendation",
        "state",
        "sent_at",
        "sent_by_id",
        "decision_id",
        "updated_at",
    ):
        setattr(memo, name, getattr(fresh, name))
    return memo


@transaction.atomic
def memo_update(
    *, memo: ValueMemo, by, lines: dict | None = None, judgments: dict | None = None
) -> ValueMemo:
    """Edit a draft memo: the text of its lines (``{section: {line: text}}``; the recommendation
    is the matrix's and is not typed) and the judgments people add to the data; the matrix runs
    again on the data's figures plus the judgments. Refused once the memo is sent."""
    require_change(by, ACTIVITY, memo.capability)
    fresh = _lock(memo)
    _require_draft(fresh)
    fields = dict(fresh.fields)
    new_lines = {section: dict(fields.get(section) or {}) for section in SECTION_KEYS}
    for section, values in (lines or {}).items():
        if section not in LINE_KEYS or not isinstance(values, dict):
            raise DomainError(
                gettext("The memo has no section %(section)s.") % {"section": section}, field="lines"
            )
        for line, text in values.items():
            if line not in LINE_KEYS[section]:
                raise DomainError(
                    gettext("The section %(section)s has no line %(line)s.")
                    % {"section": section, "line": line},
                    field=f"{section}.{line}",
                )
            if (section, line) in READ_ONLY_LINES:
                raise DomainError(
                    gettext(
                        "The recommendation is the decision matrix's: change the evidence, not the words."
                    ),
                    field=f"{section}.{line}",
                )
            text = str(text or "").strip()
            if not text:
                raise DomainError(
                    gettext("A line of the memo cannot be empty: write “—” or say what is missing."),
                    field=f"{section}.{line}",
                )
            new_lines.setdefault(section, {})[line] = text
    if judgments is not None:
        unknown = set(judgments) - set(JUDGMENTS)
        if unknown:
            raise DomainError(
                gettext("Unknown judgments: %(names)s.") % {"names": ", ".join(sorted(unknown))},
                field="judgments",
            )
        fields["judgments"] = {
            key: str(text or "").strip() for key, text in judgments.items() if str(text or "").strip()
        }
    evidence = evidence_with_judgments(
        MatrixEvidence.from_dict((fresh.matrix or {}).get("evidence") or {}), fields.get("judgments") or {}
    )
    result = decision_matrix(evidence)
    new_lines.setdefault("decision_requested", {})["recommendation"] = _recommendation_text(result.as_dict())
    fields.update(new_lines)
    fields["meta"] = {
        **fields.get("meta", {}),
        "edited_at": local_iso(timezone.now()),
        "edited_by": person_name(by),
    }
    fresh.fields = fields
    fresh.matrix = {
        **_marked(fields, result),
        "evidence": (fresh.matrix or {}).get("evidence") or {},
        "judged": evidence.as_dict(),
    }
    fresh.recommendation = result.decision
    fresh._history_user = by
    fresh._change_reason = "edited"
    fresh.save()
    return _sync(memo, fresh)


def memo_recipients(memo: ValueMemo) -> list:
    """Who receives the memo: the session's attendees, or without a session the attendees of
    every monthly value review forum covering the capability."""
    from forums.services import forum_attendees, session_attendees

    if memo.session_id is not None:
        return session_attendees(memo.session)
    people = {}
    for forum in monthly_forums_for(memo.capability).prefetch_related("scope"):
        for person in forum_attendees(forum):
            people.setdefault(person.pk, person)
    return sorted(people.values(), key=lambda p: (p.get_full_name() or p.get_username()).lower())


@transaction.atomic
def memo_send(*, memo: ValueMemo, by) -> ValueMemo:
    """Send the draft to the monthly forum's attendees (a notification carrying the memo's
    text) and freeze it: state sent, sent at, sent by. From now on it is kept as sent."""
    require_change(by, ACTIVITY, memo.capability)
    fresh = _lock(memo)
    _require_draft(fresh)
    recipients = memo_recipients(fresh)
    if not recipients:
        raise DomainError(
            gettext(
                "No monthly value review forum covers %(capability)s: nobody would receive the memo. "
                "Attach it to a session or add the capability to a forum's scope."
            )
            % {"capability": fresh.capability},
            field="session",
        )
    fresh.state = MemoState.SENT
    fresh.sent_at = timezone.now()
    fresh.sent_by = by
    fresh._history_user = by
    fresh._change_reason = "sent"
    fresh.save()
    notify(
        recipients=recipients,
        subject=gettext("Monthly value memo: %(capability)s, %(month)s — %(decision)s")
        % {
            "capability": fresh.capability.name,
            "month": fresh.month.strftime("%Y-%m"),
            "decision": MemoDecision(fresh.recommendation).label,
        },
        body=memo_text(fresh),
        url=fresh.get_absolute_url(),
    )
    return _sync(memo, fresh)


def _cited_records(memo: ValueMemo) -> list:
    """The contracts, releases and experiments the memo cites, as records (three queries)."""
    from contracts.models import MetricContract
    from experiments.models import Experiment
    from releases.models import Release

    citations = (memo.fields or {}).get("citations") or {}
    records: list = []
    records += list(
        MetricContract.objects.filter(
            capability=memo.capability, metric_id__in=citations.get("contracts") or []
        ).order_by("metric_id")
    )
    records += list(
        Release.objects.filter(
            capability=memo.capability, readable_id__in=citations.get("releases") or []
        ).order_by("readable_id")
    )
    records += list(
        Experiment.objects.filter(
            capability=memo.capability, readable_id__in=citations.get("experiments") or []
        ).order_by("readable_id")
    )
    return records


def _review_plan(memo: ValueMemo, assumption_reviews) -> list[dict]:
    """The assumption reviews to write: the memo's proposals as they stand, or the forum's
    choices (each accepted with the proposed status or another one, with its evidence)."""
    proposals = {p["pk"]: p for p in (memo.fields or {}).get("assumption_update") or []}
    if assumption_reviews is None:
        return [
            {"pk": pk, "status": p["proposed"], "evidence": p["evidence"], "expires_on": None}
            for pk, p in proposals.items()
            if not p["needs_expiry"]
        ]
    plan = []
    for item in assumption_reviews:
        pk = item.get("assumption")
        pk = getattr(pk, "pk", pk)
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise DomainError(gettext("Name the assumption reviewed."), field="assumptions") from None
        if pk not in proposals:
            raise DomainError(
                gettext("This assumption is not in the memo's ledger update."), field="assumptions"
            )
        plan.append(
            {
                "pk": pk,
                "status": item.get("status") or proposals[pk]["proposed"],
                "evidence": (item.get("evidence") or proposals[pk]["evidence"]).strip(),
                "expires_on": item.get("expires_on"),
            }
        )
    return plan


@transaction.atomic
def memo_decide(
    *,
    memo: ValueMemo,
    by,
    decision: str,
    text: str,
    owner,
    type: str | None = None,
    review_trigger: str = "",
    options: str | None = None,
    assumption_reviews: list[dict] | None = None,
):
    """Record the forum's decision on a sent memo, in one transaction:

    - the decision log (``decisions.services.decision_record``): the 8.3 decision mapped to its
      decision type (``DECISION_TYPES``; the forum's own decision types apply), the session,
      the contracts, releases and experiments the memo cites as evidence, the matrix's rows as
      the options considered; linked on the memo and kept in the session's outcomes;
    - the memo's assumption ledger update (rule 6.2): one review per assumption the forum
      confirms, through ``Assumption.review`` (``assumption_reviews``: ``[{"assumption": pk,
      "status": ..., "evidence": ..., "expires_on": ...}]``; None accepts every proposal that
      needs no new expiry date). At least one review when the ledger has live assumptions.

    Needs A or R on the monthly value review, the decision log and — when reviews are written —
    the assumption ledger; refused on a draft (send it first) and on a memo already decided."""
    from assumptions.choices import AssumptionStatus
    from assumptions.models import Assumption
    from decisions.services import decision_record

    require_change(by, ACTIVITY, memo.capability)
    fresh = _lock(memo)
    if not fresh.is_sent:
        raise TransitionNotAllowed(
            gettext("Send the memo before the forum decides on it: the decision rests on the memo as sent."),
            field="state",
        )
    if fresh.decision_id is not None:
        raise TransitionNotAllowed(
            gettext(
                "The forum's decision on this memo is already recorded (%(id)s): supersede it in the decision log."
            )
            % {"id": fresh.decision.readable_id},
            field="decision",
        )
    if decision not in MemoDecision.values:
        raise DomainError(gettext("Choose one of the decisions of the matrix."), field="decision")
    allowed = DECISION_TYPES[decision]
    type = type or allowed[0]
    if type not in allowed:
        raise DomainError(
            gettext("%(decision)s is logged as %(types)s.")
            % {"decision": MemoDecision(decision).label, "types": " / ".join(allowed)},
            field="type",
        )
    session = Session.objects.select_related("forum").get(pk=fresh.session_id) if fresh.session_id else None
    if session is not None and session.forum.decision_types and type not in session.forum.decision_types:
        raise DomainError(
            gettext("This forum takes these decision types only: %(types)s.")
            % {"types": ", ".join(session.forum.decision_type_labels())},
            field="type",
        )
    plan = _review_plan(fresh, assumption_reviews)
    live = [p for p in (fresh.fields or {}).get("assumption_update") or []]
    if live and not plan:
        raise DomainError(
            gettext(
                "Every monthly value review updates the assumption ledger: confirm, weaken or invalidate "
                "at least one assumption."
            ),
            field="assumptions",
        )
    if plan:
        require_change(by, Activity.ASSUMPTION_LEDGER, fresh.capability)
    for item in plan:
        if item["status"] not in AssumptionStatus.values or item["status"] == AssumptionStatus.EXPIRED:
            raise DomainError(
                gettext("Choose confirmed, weakened, invalidated or needs evidence."),
                field=f"assumption_{item['pk']}",
            )

    result = fresh.matrix or {}
    record = decision_record(
        capability=fresh.capability,
        by=by,
        type=type,
        decision=text,
        options_considered=options if options is not None else options_considered(result),
        owner=owner,
        evidence=_cited_records(fresh),
        review_trigger=review_trigger
        or (((fresh.fields or {}).get("decision") or {}).get("next_review_trigger", "")),
        forum_session=session,
        decided_on=session.meeting_day if session is not None else None,
        details={
            "value_memo": fresh.pk,
            "month": fresh.month.strftime("%Y-%m"),
            "recommended": fresh.recommendation,
            "decided": decision,
            "pattern": result.get("pattern", ""),
            "not_net": [row["metric_id"] for row in (fresh.fields or {}).get("not_net") or []],
        },
    )
    next_at = (fresh.fields or {}).get("meta", {}).get("next_session_at")
    next_review = datetime.date.fromisoformat(next_at[:10]) if next_at else None
    if next_review is not None and next_review < timezone.localdate():
        next_review = None
    assumptions = Assumption.objects.select_related("capability").in_bulk([item["pk"] for item in plan])
    for item in plan:
        assumption = assumptions.get(item["pk"])
        if assumption is None or assumption.capability_id != fresh.capability_id:
            raise DomainError(
                gettext("This assumption is not in the memo's ledger update."), field="assumptions"
            )
        try:
            assumption.review(
                by=by,
                new_status=item["status"],
                new_evidence=item["evidence"],
                roadmap_impact=f"{record.readable_id}: {record.decision}",
                next_review=next_review,
                source=record,
                expires_on=item.get("expires_on"),
            )
        except DomainError as error:
            # Name the assumption: the form shows the error beside its row.
            raise DomainError(
                f"{assumption.readable_id}: {error.message}", field=f"assumption_{item['pk']}"
            ) from error
    fresh.decision = record
    fresh._history_user = by
    fresh._change_reason = f"decision {record.readable_id}"
    fresh.save(update_fields=["decision", "updated_at"])
    if session is not None:
        session_decision_outcome(session=session, decision=record, by=by)
    _sync(memo, fresh)
    memo.decision = record
    return record


# --- reading the memo ----------------------------------------------------------------------------


def memo_sections(memo: ValueMemo) -> list[dict]:
    """The memo's sections in the order of 8.4, each with its lines (label, text) and the
    figures behind them, for the page and the export."""
    fields = memo.fields or {}
    lines = fields
    figures = fields.get("figures") or {}
    sections = []
    for key, heading, line_specs in SECTIONS:
        labels = dict(line_specs)
        sections.append(
            {
                "key": key,
                "heading": str(heading),
                "lines": [
                    {"key": line, "label": str(labels[line]), "text": (lines.get(key) or {}).get(line, "—")}
                    for line, _label in line_specs
                ],
                "figures": [
                    {**figure, "line_label": str(labels.get(figure["line"], _("Outcome")))}
                    for figure in figures.get(key, [])
                ],
            }
        )
    return sections


def memo_text(memo: ValueMemo) -> str:
    """The memo as Markdown: what the attendees receive and what the export gives."""
    fields = memo.fields or {}
    meta = fields.get("meta") or {}
    result = memo.matrix or {}
    lines = [
        f"# {MEMO_TITLE}",
        "",
        gettext("**%(capability)s** — %(month)s — %(state)s")
        % {
            "capability": memo.capability.name,
            "month": memo.month.strftime("%Y-%m"),
            "state": memo.get_state_display(),
        },
    ]
    if meta.get("session"):
        lines.append(gettext("Session: %(session)s") % {"session": meta["session"]})
    lines.append(
        gettext("Generated %(at)s from the data to %(to)s.")
        % {"at": meta.get("generated_at", ""), "to": meta.get("data_to", "")}
    )
    for row in fields.get("not_net") or []:
        lines += ["", "> **" + gettext("Not net") + f"** — {row['metric_id']}: {row['reason']}"]
    if fields.get("below_e3"):
        lines += ["", "> " + gettext("Evidence below E3: %(ids)s") % {"ids": ", ".join(fields["below_e3"])}]
    for section in memo_sections(memo):
        lines += ["", f"## {section['heading']}"]
        for line in section["lines"]:
            text = str(line["text"]).replace("\n", "\n  ")
            lines.append(f"- {line['label']}: {text}")
        if section["key"] == "decision_requested" and result:
            lines += ["", "### " + gettext("Decision matrix (8.3)")]
            lines.append("- " + gettext("Recommended: %(decision)s") % {"decision": result.get("label", "")})
            lines.append("- " + gettext("Pattern: %(pattern)s") % {"pattern": result.get("pattern", "")})
            for figure in result.get("figures", []):
                lines.append(f"  - {figure['label']}: {figure['value']} — {figure['basis']}")
            for blocked in result.get("blocked", []):
                lines.append(
                    "- "
                    + gettext("Blocked: %(decision)s — %(reason)s")
                    % {"decision": blocked["label"], "reason": blocked["reason"]}
                )
    if memo.decision_id:
        lines += ["", gettext("Decision recorded: %(id)s") % {"id": memo.decision.readable_id}]
    return "\n".join(lines).rstrip() + "\n"


def session_memo_rows(session: Session, user) -> list[dict]:
    """For a monthly value review session: each capability of the forum's scope the person may
    read (all when it has none), with its memo of the month reviewed, if any. Two queries."""
    from forums.meeting import scope_capabilities

    month = month_reviewed(session)
    capabilities = scope_capabilities(session, user)
    memos = {
        memo.capability_id: memo
        for memo in ValueMemo.objects.filter(capability__in=capabilities, month=month).select_related(
            "decision"
        )
    }
    return [
        {
            "capability": capability,
            "memo": memos.get(capability.pk),
            "month": month,
            "can_generate": can_change(user, ACTIVITY, capability)
            and not (memos.get(capability.pk) and memos[capability.pk].is_sent),
        }
        for capability in capabilities
    ]
