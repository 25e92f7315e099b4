"""The decision matrix of the monthly value review (playbook 8.3): the eight decisions
(``MemoDecision``) and the decision log types each may be recorded as, the plain figures the
matrix reads (``MatrixEvidence``), its rows in the order they are tried (``RULES``), and
``decision_matrix(evidence)``: a pure function over those figures that returns the recommended
decision, the pattern that fired, the figures it fired on and the patterns a "not net" guardrail
blocked. No database, no clock: the tests call it directly."""

from dataclasses import asdict, dataclass, field

from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

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
