from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    OUTCOME = "outcome", _("Outcome")
    ADOPTION = "adoption", _("Adoption")
    QUALITY = "quality", _("Quality")
    RISK = "risk", _("Risk")
    COST = "cost", _("Cost")
    RELIABILITY = "reliability", _("Reliability")
    LEARNING = "learning", _("Learning")


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher", _("Higher is better")
    LOWER_IS_BETTER = "lower", _("Lower is better")


class EvidenceLevel(models.TextChoices):
    """Evidence quality levels of playbook 11.2."""

    E1 = "E1", _("E1 anecdotal")
    E2 = "E2", _("E2 sampled")
    E3 = "E3", _("E3 instrumented")
    E4 = "E4", _("E4 experiment-grade")
    E5 = "E5", _("E5 certified")


# Playbook 11.2: evidence below E3 is not decision-grade; a decision resting on it is marked.
DECISION_GRADE = EvidenceLevel.E3


def below_decision_grade(level: str) -> bool:
    """E1 and E2 are below E3 (``"E1" < "E3"``); a missing level counts as below."""
    return not level or level < DECISION_GRADE


class Watch(models.TextChoices):
    """Which runtime signal a contract is on the boards (playbook 18.1-18.2, the podcast's
    dashboard): the boards place a contract by this, never by guessing from its name. Empty
    for a contract that is not one of them (it still shows under its category)."""

    QUALIFIED_USE = "qualified_use", _("Qualified use")
    ACCEPTANCE = "acceptance", _("Accept / edit / reject")
    REJECTION_REASON = "rejection_reason", _("Rejection reason")
    EVAL_PASS_RATE = "eval_pass_rate", _("Eval pass rate")
    CONFIDENCE_DRIFT = "confidence_drift", _("Confidence-distribution drift")
    QA_DEFECTS = "qa_defects", _("QA defects")
    COMPLAINTS = "complaints", _("Complaints")
    OVERRIDE_RATE = "override_rate", _("Override rate")
    ESCALATION_RATE = "escalation_rate", _("Escalation rate")
    POLICY_BREACH = "policy_breach", _("Policy breach")
    CUSTOMER_HARM = "customer_harm", _("Customer harm")
    SLO = "slo", _("SLO / availability")
    LATENCY = "latency", _("Latency")
    FALLBACK_RATE = "fallback_rate", _("Fallback rate")
    COST_PER_CASE = "cost_per_case", _("Cost per case")
    REVIEW_QUEUE = "review_queue", _("Review queue")


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


CONTRACT_TRANSITIONS = {
    ContractStatus.DRAFT: {ContractStatus.ACTIVE, ContractStatus.RETIRED},
    ContractStatus.ACTIVE: {ContractStatus.RETIRED},
    ContractStatus.RETIRED: set(),
}


class Grain(models.TextChoices):
    DAY = "day", _("Day")
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class SignalLevel(models.TextChoices):
    """The result of evaluating a contract's thresholds for one period and cohort."""

    INSUFFICIENT_DATA = "insufficient", _("Insufficient data")
    OK = "ok", _("OK")
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")
    STOP = "stop", _("Stop")


# Worse levels rank higher; "insufficient data" is never read as ok.
LEVEL_RANK = {
    SignalLevel.INSUFFICIENT_DATA: -1,
    SignalLevel.OK: 0,
    SignalLevel.WARNING: 1,
    SignalLevel.BREACH: 2,
    SignalLevel.STOP: 3,
}
