from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskTier(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class LifecycleStatus(models.TextChoices):
    PILOT = "pilot", _("Pilot")
    PRODUCTION = "production", _("Production")
    RESTRICTED = "restricted", _("Restricted")
    PAUSED = "paused", _("Paused")
    RETIRED = "retired", _("Retired")


# The areas a charter sets success criteria for (playbook 21.1), in the playbook's order.
SUCCESS_AREAS = ["outcome", "adoption", "quality", "risk", "cost", "reliability", "learning"]
# The decision rights a charter names (playbook 21.1).
DECISION_RIGHTS = ["product", "risk_review", "platform_review", "executive_review"]
# What the pre-AI baseline records (playbook 5.1).
BASELINE_AREAS = ["outcome", "quality", "cost", "risk", "capacity"]


# --- Backlog governance (playbook 16) ----------------------------------------------------------


class BacklogClass(models.TextChoices):
    """The backlog classes of playbook 16.1, in the playbook's order."""

    OUTCOME_IMPROVEMENT = "outcome_improvement", _("Outcome improvement")
    ADOPTION_FIX = "adoption_fix", _("Adoption fix")
    QUALITY_FIX = "quality_fix", _("Quality fix")
    RISK_CONTROL = "risk_control", _("Risk control")
    COST_CAPACITY = "cost_capacity", _("Cost / capacity")
    RELIABILITY = "reliability", _("Reliability")
    EVIDENCE_GAP = "evidence_gap", _("Evidence gap")
    RELEASE_DEPENDENCY = "release_dependency", _("Release dependency")
    EXPERIMENT = "experiment", _("Experiment")
    RETIREMENT = "retirement", _("Retirement")


class BacklogStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    READY = "ready", _("Ready")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


_B = BacklogStatus

# The backlog item's state machine. Done and dropped leave the ranking; a done item reopens into
# work (the metric did not move), a dropped one back to proposed (new evidence revived it).
BACKLOG_TRANSITIONS: dict[str, set[str]] = {
    _B.PROPOSED: {_B.READY, _B.DROPPED},
    _B.READY: {_B.IN_PROGRESS, _B.PROPOSED, _B.DROPPED},
    _B.IN_PROGRESS: {_B.DONE, _B.READY, _B.DROPPED},
    _B.DONE: {_B.IN_PROGRESS},
    _B.DROPPED: {_B.PROPOSED},
}
# Items still competing for delivery capacity: the ranking bands them.
BACKLOG_OPEN_STATUSES = [_B.PROPOSED, _B.READY, _B.IN_PROGRESS]
BACKLOG_CLOSED_STATUSES = [_B.DONE, _B.DROPPED]


def backlog_move_needs_reason(current: str, target: str) -> bool:
    """Dropping an item, or taking one back out of done or dropped, says why (kept in history)."""
    return target == _B.DROPPED or current in BACKLOG_CLOSED_STATUSES


BACKLOG_MOVE_LABELS = {
    _B.PROPOSED: _("Back to proposed"),
    _B.READY: _("Mark ready"),
    _B.IN_PROGRESS: _("Start work"),
    _B.DONE: _("Mark done"),
    _B.DROPPED: _("Drop"),
}


class MetricDirection(models.TextChoices):
    """Which way the item should move its metric contract (playbook 16.3 "expected metric movement")."""

    UP = "up", _("Up")
    DOWN = "down", _("Down")


class IncidentSeverity(models.TextChoices):
    """Severity of the incident a corrective item corrects (playbook 15.1). The incidents app
    sets it when it raises a corrective backlog item."""

    SEV1 = "sev1", _("Sev1")
    SEV2 = "sev2", _("Sev2")
    SEV3 = "sev3", _("Sev3")
    SEV4 = "sev4", _("Sev4")


# Incident corrective items of these severities outrank everything but overrides (16.3).
HIGH_SEVERITIES = [IncidentSeverity.SEV1, IncidentSeverity.SEV2]


class BacklogBand(models.TextChoices):
    """Where the ranking puts an item. Retirement candidates have their own quarterly list."""

    TOP = "top", _("Top")
    NEXT = "next", _("Next")
    LATER = "later", _("Later")
    RETIREMENT = "retirement", _("Retirement list")
    CLOSED = "closed", _("Done or dropped")


# The score parts of playbook 16.2, each 0-5. priority_score = sum(benefits) - sum(costs).
SCORE_BENEFITS = [
    "outcome_impact",
    "risk_reduction",
    "adoption_unblock",
    "cost_capacity_relief",
    "evidence_need",
    "platform_reuse",
]
SCORE_COSTS = ["delivery_effort", "change_saturation"]
SCORE_PARTS = SCORE_BENEFITS + SCORE_COSTS
SCORE_MIN, SCORE_MAX = 0, 5


def priority_score(parts) -> int:
    """Playbook 16.2: outcome impact + risk reduction + adoption unblock + cost/capacity relief
    + evidence need + platform reuse - delivery effort - change saturation.

    ``parts`` is a mapping or an object with the part names as attributes. The stored
    ``BacklogItem.priority_score``, the ``with_formula_score()`` annotation and the database
    check constraint are all built from SCORE_BENEFITS and SCORE_COSTS, so they cannot disagree.
    """

    def value(name: str) -> int:
        raw = parts.get(name, 0) if isinstance(parts, dict) else getattr(parts, name, 0)
        return int(raw or 0)

    return sum(value(name) for name in SCORE_BENEFITS) - sum(value(name) for name in SCORE_COSTS)


# Records a backlog item may rest on, by "app_label.model" of the linked record. The generic
# link reads them without importing their apps (portfolio imports no other app).
class LinkKind(models.TextChoices):
    CONTRACT = "contract", _("metric contract")
    SIGNAL = "signal", _("threshold signal")
    INCIDENT = "incident", _("incident")
    EXPERIMENT = "experiment", _("experiment")
    RELEASE = "release", _("release")
    ASSUMPTION = "assumption", _("assumption")
    FORUM_SESSION = "forum_session", _("forum session")
    DECISION = "decision", _("decision")


LINK_KINDS: dict[str, str] = {
    "contracts.metriccontract": LinkKind.CONTRACT,
    "contracts.signal": LinkKind.SIGNAL,
    "incidents.incident": LinkKind.INCIDENT,
    "experiments.experiment": LinkKind.EXPERIMENT,
    "releases.release": LinkKind.RELEASE,
    "assumptions.assumption": LinkKind.ASSUMPTION,
    "forums.session": LinkKind.FORUM_SESSION,
    "forums.forumsession": LinkKind.FORUM_SESSION,
    "decisions.decision": LinkKind.DECISION,
}

_C = BacklogClass
_K = LinkKind

# Playbook 16.1 "required link", as the records that satisfy it. A (kind, categories) pair: a
# contract or signal must be of one of the metric-contract categories named (None: any).
# - Outcome improvement: a monthly value gap, i.e. an outcome contract (or its signal).
# - Adoption fix: the adoption funnel, i.e. an adoption contract or signal.
# - Quality fix: QA / eval evidence: a quality contract or signal, or a QA-sample incident.
# - Risk control: an incident or a risk signal.
# - Cost / capacity: the cost dashboard, i.e. a cost contract or signal.
# - Reliability: an SLO breach, i.e. a reliability signal (or the SLO's contract).
# - Evidence gap: the evidence pack: the forum session whose pack showed the gap, the assumption
#   that needs evidence, or the contract whose evidence is weak.
# - Release dependency: the release calendar entry. Experiment: the experiment registry entry.
# - Retirement: the portfolio decision (decision log) or the quarterly review session.
REQUIRED_LINKS: dict[str, list[tuple[str, frozenset | None]]] = {
    _C.OUTCOME_IMPROVEMENT: [(_K.CONTRACT, frozenset({"outcome"})), (_K.SIGNAL, frozenset({"outcome"}))],
    _C.ADOPTION_FIX: [(_K.CONTRACT, frozenset({"adoption"})), (_K.SIGNAL, frozenset({"adoption"}))],
    _C.QUALITY_FIX: [
        (_K.CONTRACT, frozenset({"quality"})),
        (_K.SIGNAL, frozenset({"quality"})),
        (_K.INCIDENT, None),
    ],
    _C.RISK_CONTROL: [(_K.INCIDENT, None), (_K.SIGNAL, frozenset({"risk"}))],
    _C.COST_CAPACITY: [(_K.CONTRACT, frozenset({"cost"})), (_K.SIGNAL, frozenset({"cost"}))],
    _C.RELIABILITY: [(_K.SIGNAL, frozenset({"reliability"})), (_K.CONTRACT, frozenset({"reliability"}))],
    _C.EVIDENCE_GAP: [(_K.FORUM_SESSION, None), (_K.ASSUMPTION, None), (_K.CONTRACT, None)],
    _C.RELEASE_DEPENDENCY: [(_K.RELEASE, None)],
    _C.EXPERIMENT: [(_K.EXPERIMENT, None)],
    _C.RETIREMENT: [(_K.DECISION, None), (_K.FORUM_SESSION, None)],
}

# What the playbook's table says each class rests on (16.1 "required link"), for help texts.
REQUIRED_LINK_TEXT = {
    _C.OUTCOME_IMPROVEMENT: _("an outcome metric contract or its signal (monthly value gap)"),
    _C.ADOPTION_FIX: _("an adoption metric contract or signal (adoption funnel, cohort drop-off)"),
    _C.QUALITY_FIX: _("a quality metric contract or signal, or an incident (QA / eval evidence)"),
    _C.RISK_CONTROL: _("an incident or a risk signal (complaint or policy breach)"),
    _C.COST_CAPACITY: _("a cost metric contract or signal (cost dashboard, queue threshold)"),
    _C.RELIABILITY: _("a reliability signal or the SLO's contract (runtime signal)"),
    _C.EVIDENCE_GAP: _("the forum session whose evidence pack showed the gap, an assumption, or a contract"),
    _C.RELEASE_DEPENDENCY: _("a release on the release calendar"),
    _C.EXPERIMENT: _("an experiment in the experiment registry"),
    _C.RETIREMENT: _("a portfolio decision in the decision log, or the quarterly review session"),
}

# Items that bet on the capability's value or adoption being proven: an open evidence gap on the
# same capability ranks above them ("evidence gaps outrank scale decisions", 16.3).
SCALE_CLASSES = [_C.OUTCOME_IMPROVEMENT, _C.ADOPTION_FIX]

# Band sizes; a deployment may set BACKLOG_TOP_BAND_SIZE, BACKLOG_NEXT_BAND_SIZE and
# BACKLOG_PORTFOLIO_TOP_SIZE in its settings.
TOP_BAND_SIZE = 5
NEXT_BAND_SIZE = 10
PORTFOLIO_TOP_SIZE = 10
