"""The vocabulary of forums and sessions: cadences (playbook 6.1 and the podcast's rituals),
recurrence frequencies, and the session's state machine."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from productops.roles import Activity


class Cadence(models.TextChoices):
    DAILY_SIGNAL_TRIAGE = "daily_signal_triage", _("Daily signal triage")
    WEEKLY_OPS_REVIEW = "weekly_ops_review", _("Weekly ops review")
    MONTHLY_VALUE_REVIEW = "monthly_value_review", _("Monthly value review")
    QUARTERLY_PORTFOLIO_REVIEW = "quarterly_portfolio_review", _("Quarterly portfolio review")
    RELEASE_REVIEW = "release_review", _("Release review")
    INCIDENT_REVIEW = "incident_review", _("Incident review")
    EXPERIMENT_REVIEW = "experiment_review", _("Experiment review")
    BIWEEKLY_EVAL_CALIBRATION = "biweekly_eval_calibration", _("Biweekly eval calibration")
    MONTHLY_OPERATING_RETROSPECTIVE = "monthly_operating_retrospective", _("Monthly operating retrospective")
    CUSTOM = "custom", _("Custom")


# Whose RACI letter lets a person change a forum and move its sessions: the three forum rows
# of the table; every other cadence is run under the weekly ops review's letters.
CADENCE_ACTIVITY: dict[str, str] = {
    Cadence.MONTHLY_VALUE_REVIEW: Activity.MONTHLY_VALUE_REVIEW,
    Cadence.QUARTERLY_PORTFOLIO_REVIEW: Activity.QUARTERLY_PORTFOLIO_REVIEW,
}


def activity_for(cadence: str) -> str:
    return CADENCE_ACTIVITY.get(cadence, Activity.WEEKLY_OPS_REVIEW)


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every working day")
    WEEKLY = "weekly", _("Weekly")
    BIWEEKLY = "biweekly", _("Every two weeks")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    AD_HOC = "ad_hoc", _("When needed (no schedule)")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeekOfMonth(models.IntegerChoices):
    FIRST = 1, _("First")
    SECOND = 2, _("Second")
    THIRD = 3, _("Third")
    FOURTH = 4, _("Fourth")
    LAST = -1, _("Last")


class SessionState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PACK_SENT = "pack_sent", _("Pack sent")
    IN_PROGRESS = "in_progress", _("In progress")
    HELD = "held", _("Held")
    MINUTES_PUBLISHED = "minutes_published", _("Minutes published")


_S = SessionState

# A session may start without a pack (an urgent triage), never end before it started, and
# publishes minutes only once held.
TRANSITIONS: dict[str, set[str]] = {
    _S.SCHEDULED: {_S.PACK_SENT, _S.IN_PROGRESS},
    _S.PACK_SENT: {_S.IN_PROGRESS},
    _S.IN_PROGRESS: {_S.HELD},
    _S.HELD: {_S.MINUTES_PUBLISHED},
    _S.MINUTES_PUBLISHED: set(),
}

# The named moves (one model method each) and the state each leads to.
MOVES: dict[str, str] = {
    "mark_pack_sent": _S.PACK_SENT,
    "start": _S.IN_PROGRESS,
    "end_meeting": _S.HELD,
    "publish_minutes": _S.MINUTES_PUBLISHED,
}

MOVE_LABELS = {
    "mark_pack_sent": _("Send the review pack"),
    "start": _("Start the meeting"),
    "end_meeting": _("End the meeting"),
    "publish_minutes": _("Publish minutes"),
}

STATE_BADGES = {
    _S.SCHEDULED: "text-bg-secondary",
    _S.PACK_SENT: "text-bg-info",
    _S.IN_PROGRESS: "text-bg-primary",
    _S.HELD: "text-bg-warning",
    _S.MINUTES_PUBLISHED: "text-bg-success",
}


class Attendance(models.TextChoices):
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")


class OutcomeKind(models.TextChoices):
    """What a session did (the minutes list them)."""

    DECISION_RECORDED = "decision_recorded", _("Decision recorded")
    ACTION_CREATED = "action_created", _("Action created")
    EVIDENCE_SUBMITTED = "evidence_submitted", _("Closure evidence submitted")
    ACTION_CLOSED = "action_closed", _("Action closed with evidence")
    ACTION_SENT_BACK = "action_sent_back", _("Closure evidence sent back")
    ACTION_REOPENED = "action_reopened", _("Action reopened")
    ACTION_ESCALATED = "action_escalated", _("Action escalated")
    ACTION_BLOCKED = "action_blocked", _("Action blocked")
    RELEASE_APPROVED = "release_approved", _("Release approved")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed (retrying)")


class MemoState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")


class PortfolioReviewState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    DECIDED = "decided", _("Decided")


class ScorecardDimension(models.TextChoices):
    """Playbook 9.2: the eight dimensions of the quarterly scorecard, each rated 1-5."""

    NET_VALUE = "net_value", _("Net value")
    ADOPTION_DURABILITY = "adoption_durability", _("Adoption durability")
    RISK_STABILITY = "risk_stability", _("Risk stability")
    EVIDENCE_MATURITY = "evidence_maturity", _("Evidence maturity")
    PLATFORM_REUSE = "platform_reuse", _("Platform reuse")
    CAPACITY_BURDEN = "capacity_burden", _("Capacity burden")
    STRATEGIC_FIT = "strategic_fit", _("Strategic fit")
    RETIREMENT_LOGIC = "retirement_logic", _("Retirement logic")


class PortfolioDecision(models.TextChoices):
    """Playbook 9.3 (and 9.4's "scale selectively"): retire and pause are first-class options."""

    FUND = "fund", _("Fund")
    SCALE = "scale", _("Scale")
    SCALE_SELECTIVELY = "scale_selectively", _("Scale selectively")
    RESTRICT = "restrict", _("Restrict")
    CONSOLIDATE = "consolidate", _("Consolidate")
    PLATFORMIZE = "platformize", _("Platformize")
    PAUSE = "pause", _("Pause")
    RETIRE = "retire", _("Retire")


# Playbook 7.2: the weekly ops review's eight timed blocks.
WEEKLY_AGENDA: list[dict] = [
    {
        "minutes": 5,
        "title": "Decision requests",
        "inputs": "proposed releases, incidents, stuck actions",
        "outputs": "agenda priority",
    },
    {
        "minutes": 10,
        "title": "Adoption and workflow",
        "inputs": "qualified use, cohort funnel, rejection reasons",
        "outputs": "adoption action",
    },
    {
        "minutes": 10,
        "title": "Quality and eval",
        "inputs": "QA sample, eval delta, defect classes",
        "outputs": "fix / sample / hold",
    },
    {
        "minutes": 10,
        "title": "Reliability and SLO",
        "inputs": "latency, availability, fallback, restore",
        "outputs": "platform action",
    },
    {
        "minutes": 10,
        "title": "Risk / complaints",
        "inputs": "complaints, overrides, policy breach, near miss",
        "outputs": "risk action / escalation",
    },
    {
        "minutes": 10,
        "title": "Cost / capacity",
        "inputs": "cost per case, review queue, support load",
        "outputs": "capacity / cost action",
    },
    {
        "minutes": 10,
        "title": "Release and experiments",
        "inputs": "version changes, experiment readout",
        "outputs": "release / experiment decision",
    },
    {
        "minutes": 10,
        "title": "Action closure",
        "inputs": "last actions, closure evidence, blockers",
        "outputs": "close / reopen / escalate",
    },
]


def _blocks(*rows: tuple[int, str, str, str]) -> list[dict]:
    return [{"minutes": m, "title": t, "inputs": i, "outputs": o} for m, t, i, o in rows]


# The agenda each other cadence starts from, built from what the playbook says the forum decides
# and reads (6.1; 8.2 for the monthly pack; 9.2-9.4 for the quarter; 13.3 for experiments; the
# podcast's rituals). A team edits them like any agenda; block titles pick the live inputs the
# session page shows (forums.meeting.BLOCK_KINDS), so they name what the block is about.
CADENCE_AGENDAS: dict[str, list[dict]] = {
    Cadence.WEEKLY_OPS_REVIEW: WEEKLY_AGENDA,
    Cadence.DAILY_SIGNAL_TRIAGE: _blocks(
        (
            5,
            "Decision requests",
            "signals opened in the last 24 hours, Sev1/Sev2 incidents",
            "agenda priority",
        ),
        (5, "Reliability and SLO", "latency, availability, fallback", "mitigate / escalate"),
        (5, "Risk / complaints", "harm signals, stop rules, overrides", "rollback / restrict / escalate"),
    ),
    Cadence.MONTHLY_VALUE_REVIEW: _blocks(
        (
            5,
            "Decision requested",
            "continue, scale, restrict, redesign, retire",
            "the decision before the forum",
        ),
        (15, "Business outcome", "baseline, current, trend, cohort, confidence", "outcome movement agreed"),
        (10, "Adoption durability", "returning qualified use, work-as-done evidence", "adoption judgement"),
        (10, "Quality / control", "eval trend, QA defects, control overrides", "quality judgement"),
        (10, "Risk / customer impact", "complaints, harm signals, vulnerable customers", "risk judgement"),
        (15, "Cost / capacity and value leakage", "unit cost, review and support load, rework", "net value"),
        (10, "Release / experiment impact", "changes made and observed effects", "what the changes did"),
        (10, "Assumption ledger update", "confirmed, weakened, invalidated assumptions", "ledger updated"),
        (5, "Recommendation and decision", "the decision memo's recommendation", "decision logged, actions"),
    ),
    Cadence.QUARTERLY_PORTFOLIO_REVIEW: _blocks(
        (
            10,
            "Decision requested",
            "fund, scale, restrict, consolidate, platformize, pause, retire",
            "agenda",
        ),
        (
            25,
            "Scorecard: net value and adoption durability",
            "value contracts, adoption contracts",
            "ratings",
        ),
        (
            20,
            "Scorecard: risk stability and evidence maturity",
            "risk signals, incidents, evidence levels",
            "ratings",
        ),
        (15, "Platform reuse and capacity burden", "shared patterns, review queues", "platform decisions"),
        (20, "Retirement candidates", "weak value, high risk, invalidated assumptions", "retire / pause"),
        (25, "Decisions per capability", "the scorecard", "decision log, funding change, next review"),
        (5, "Actions and next review", "open actions", "owners and dates"),
    ),
    Cadence.RELEASE_REVIEW: _blocks(
        (5, "Decision requests", "releases awaiting approval, holds", "agenda priority"),
        (20, "Release approvals", "evidence checklist, canary and rollback plans", "approve / canary / hold"),
        (
            10,
            "Quality and eval of the changes",
            "regression evals, latency and cost comparisons",
            "fix / hold",
        ),
        (
            10,
            "Release impact reviews due",
            "before/after figures around each release",
            "keep / hotfix / rollback",
        ),
    ),
    Cadence.INCIDENT_REVIEW: _blocks(
        (5, "Decision requests", "open incidents by severity", "agenda priority"),
        (15, "Risk / complaints behind the incidents", "complaints, near misses, policy drift", "root cause"),
        (15, "Corrective actions", "actions and their closure evidence", "accept / reopen / escalate"),
        (10, "Recurrence review", "incidents with an earlier root cause of the same class", "prevention"),
    ),
    Cadence.EXPERIMENT_REVIEW: _blocks(
        (5, "Decision requests", "readouts ready, experiments past their end date", "agenda priority"),
        (20, "Experiment readouts", "primary metric effect, guardrails, cohorts", "continue / scale / stop"),
        (10, "Cost / capacity of the treatment", "cost and review load by arm", "cost judgement"),
        (10, "Assumptions and follow-up actions", "the assumption each experiment tests", "ledger, backlog"),
    ),
    Cadence.BIWEEKLY_EVAL_CALIBRATION: _blocks(
        (10, "Decision requests", "eval disagreements, metric definition questions", "agenda priority"),
        (
            25,
            "Quality and eval calibration",
            "eval pass rate, confidence drift, reviewer agreement",
            "eval updates",
        ),
        (15, "Risk / complaints the samples missed", "QA samples, complaints", "new eval cases"),
        (10, "Actions", "open eval actions", "close / reopen"),
    ),
    Cadence.MONTHLY_OPERATING_RETROSPECTIVE: _blocks(
        (10, "Decision requests", "what the month's forums could not decide", "agenda priority"),
        (20, "Actions that did not close", "overdue and reopened actions, blockers", "escalate / redesign"),
        (15, "Releases and incidents of the month", "release calendar, incident learning", "process changes"),
        (15, "Cost / capacity of the operating rhythm", "review load, forum time", "cadence changes"),
    ),
}


def default_agenda(cadence: str) -> list[dict]:
    """The agenda a new forum starts from (CADENCE_AGENDAS; a custom cadence starts empty)."""
    return [dict(block) for block in CADENCE_AGENDAS.get(cadence, [])]
