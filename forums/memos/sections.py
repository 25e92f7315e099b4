"""The monthly decision memo of playbook 8.4 as a form: its sections and lines in the
playbook's order, the lines only the matrix writes, which line a contract's figures support,
the thresholds the memo reads figures against, and the month a monthly value review session
reviews."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forums.models import Session
from productops.roles import Activity

MEMO_VERSION = 1
ACTIVITY = Activity.MONTHLY_VALUE_REVIEW


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
