from django.db import models
from django.utils.translation import gettext_lazy as _

# Severity is the portfolio's: a corrective backlog item carries the severity of its incident.
from portfolio.choices import IncidentSeverity

__all__ = ["IncidentSeverity"]


class IncidentSource(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    QA_SAMPLE = "qa_sample", _("QA sample")
    MONITORING = "monitoring", _("Monitoring")
    NEAR_MISS = "near_miss", _("Near miss")
    POLICY_DRIFT = "policy_drift", _("Policy drift")
    CAPACITY = "capacity", _("Capacity")


class IncidentState(models.TextChoices):
    REPORTED = "reported", _("Reported")
    CONTAINED = "contained", _("Contained")
    ROOT_CAUSE_FOUND = "root_cause_found", _("Root cause found")
    CORRECTIVE_ACTIONS_AGREED = "corrective_actions_agreed", _("Corrective actions agreed")
    LEARNING_RECORDED = "learning_recorded", _("Learning recorded")
    CLOSED = "closed", _("Closed")


_S = IncidentState

# Containment is optional below Sev1, so a reported incident may go straight to its root cause;
# a Sev1 may not (the model method refuses it: containment comes first).
TRANSITIONS: dict[str, set[str]] = {
    _S.REPORTED: {_S.CONTAINED, _S.ROOT_CAUSE_FOUND},
    _S.CONTAINED: {_S.ROOT_CAUSE_FOUND},
    _S.ROOT_CAUSE_FOUND: {_S.CORRECTIVE_ACTIONS_AGREED},
    _S.CORRECTIVE_ACTIONS_AGREED: {_S.LEARNING_RECORDED},
    _S.LEARNING_RECORDED: {_S.CLOSED},
    _S.CLOSED: set(),
}

# The named moves and the state each leads to from the states it starts from.
MOVES: dict[str, dict[str, str]] = {
    "contain": {_S.REPORTED: _S.CONTAINED},
    "record_root_causes": {
        _S.REPORTED: _S.ROOT_CAUSE_FOUND,
        _S.CONTAINED: _S.ROOT_CAUSE_FOUND,
        _S.ROOT_CAUSE_FOUND: _S.ROOT_CAUSE_FOUND,
    },
    "agree_corrective_actions": {_S.ROOT_CAUSE_FOUND: _S.CORRECTIVE_ACTIONS_AGREED},
    "record_learning": {_S.CORRECTIVE_ACTIONS_AGREED: _S.LEARNING_RECORDED},
    "close": {_S.LEARNING_RECORDED: _S.CLOSED},
}

MOVE_LABELS = {
    "contain": _("Record containment"),
    "record_root_causes": _("Record root causes"),
    "add_corrective_action": _("Add corrective action"),
    "agree_corrective_actions": _("Agree corrective actions"),
    "add_learning_item": _("Add learning item"),
    "record_learning": _("Record learning"),
    "record_forum_review": _("Record forum review"),
    "set_watchlist": _("Put on watchlist"),
    "close": _("Close incident"),
}


class RootCauseClass(models.TextChoices):
    """The root-cause classes of the incident record (15.2)."""

    MODEL = "model", _("Model")
    PROMPT = "prompt", _("Prompt")
    DATA = "data", _("Data")
    KNOWLEDGE = "knowledge", _("Knowledge")
    TOOL = "tool", _("Tool")
    WORKFLOW = "workflow", _("Workflow")
    POLICY = "policy", _("Policy")
    TRAINING = "training", _("Training / adoption")
    MONITORING = "monitoring", _("Metric / monitoring")


class ComplaintSignal(models.TextChoices):
    """How a complaint is classified (15.3)."""

    MISLEADING_ANSWER = "misleading_answer", _("Misleading answer")
    INCONSISTENT_TREATMENT = "inconsistent_treatment", _("Inconsistent treatment")
    SLOW_RESOLUTION = "slow_resolution", _("Slow resolution")
    UNFAIR_OUTCOME = "unfair_outcome", _("Unfair outcome")
    CUSTOMER_CONFUSION = "customer_confusion", _("Customer confusion")
    REPEATED_ESCALATION = "repeated_escalation", _("Repeated escalation")


_R = RootCauseClass
_C = ComplaintSignal

# Playbook 15.3: the product question each complaint signal raises, as (root-cause class, what
# the playbook calls it). Capacity has no class of its own in 15.2: it reads as workflow.
COMPLAINT_ROOT_CAUSES: dict[str, list[tuple[str, object]]] = {
    _C.MISLEADING_ANSWER: [
        (_R.PROMPT, _("prompt")),
        (_R.KNOWLEDGE, _("knowledge")),
        (_R.POLICY, _("policy")),
    ],
    _C.INCONSISTENT_TREATMENT: [
        (_R.DATA, _("segmentation")),
        (_R.POLICY, _("policy")),
        (_R.TRAINING, _("training")),
    ],
    _C.SLOW_RESOLUTION: [
        (_R.WORKFLOW, _("workflow")),
        (_R.WORKFLOW, _("routing")),
        (_R.WORKFLOW, _("capacity")),
    ],
    _C.UNFAIR_OUTCOME: [
        (_R.POLICY, _("risk appetite")),
        (_R.MONITORING, _("guardrail")),
        (_R.MODEL, _("model")),
    ],
    _C.CUSTOMER_CONFUSION: [
        (_R.PROMPT, _("explanation")),
        (_R.WORKFLOW, _("UX")),
        (_R.TRAINING, _("frontline script")),
    ],
    _C.REPEATED_ESCALATION: [
        (_R.WORKFLOW, _("AI boundary")),
        (_R.WORKFLOW, _("human oversight")),
        (_R.TRAINING, _("human oversight")),
    ],
}


class LearningKind(models.TextChoices):
    """Roadmap impact of the incident record (15.2)."""

    BACKLOG_ITEM = "backlog_item", _("Backlog item")
    RELEASE_CALENDAR = "release_calendar", _("Release calendar update")
    METRIC_CONTRACT = "metric_contract", _("Metric contract update")
    EVAL = "eval", _("Eval update")
    POLICY_SOP = "policy_sop", _("Policy / SOP update")


# The record each kind links to, when it links to one (the others are a text and a link).
LEARNING_RECORD_MODELS = {
    LearningKind.BACKLOG_ITEM: "portfolio.backlogitem",
    LearningKind.RELEASE_CALENDAR: "releases.release",
    LearningKind.METRIC_CONTRACT: "contracts.metriccontract",
}

# Severities the incident review forum must see before close (15.1).
FORUM_SEVERITIES = {IncidentSeverity.SEV1, IncidentSeverity.SEV2}
