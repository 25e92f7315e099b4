"""The roles people hold in ProductOps, and the playbook's RACI table (section 17) as data.

Permission checks read ``RACI``: a role may change the records of an activity when its letter
for that activity is A (accountable) or R (responsible). C (consulted) and I (informed) read.
The playbook's table has no Executive or Viewer column; ProductOps adds them (marked below) so
that every role a person can hold has a row of letters and no check falls back to a guess.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AI_PM = "ai_pm", _("AI PM")
    AI_ARCHITECT = "ai_architect", _("AI Architect")
    BUSINESS_ANALYST = "business_analyst", _("Business Analyst")
    OPS = "ops", _("Ops")
    RISK_COMPLIANCE = "risk_compliance", _("Risk / Compliance")
    ANALYTICS = "analytics", _("Analytics")
    PLATFORM = "platform", _("Platform")
    FINANCE = "finance", _("Finance")
    EXECUTIVE = "executive", _("Executive")
    VIEWER = "viewer", _("Viewer")


class Activity(models.TextChoices):
    """The rows of the RACI table: what a forum or register asks people to do."""

    CHARTER = "charter", _("Product Ops charter")
    METRIC_CONTRACT = "metric_contract", _("Metric contract")
    WEEKLY_OPS_REVIEW = "weekly_ops_review", _("Weekly ops review")
    MONTHLY_VALUE_REVIEW = "monthly_value_review", _("Monthly value review")
    QUARTERLY_PORTFOLIO_REVIEW = "quarterly_portfolio_review", _("Quarterly portfolio review")
    RELEASE_CALENDAR = "release_calendar", _("Release calendar")
    EXPERIMENT_REGISTRY = "experiment_registry", _("Experiment registry")
    DECISION_LOG = "decision_log", _("Decision log")
    ASSUMPTION_LEDGER = "assumption_ledger", _("Assumption ledger")
    INCIDENT_LEARNING = "incident_learning", _("Incident learning")
    ACTION_CLOSURE = "action_closure", _("Action closure")
    DASHBOARD_DESIGN = "dashboard_design", _("Dashboard design")


# Column order of the playbook's table, then ProductOps' two added columns.
_COLUMNS = [
    Role.AI_PM,
    Role.AI_ARCHITECT,
    Role.BUSINESS_ANALYST,
    Role.OPS,
    Role.RISK_COMPLIANCE,
    Role.ANALYTICS,
    Role.PLATFORM,
    Role.FINANCE,
    Role.EXECUTIVE,  # added: sponsors take value and portfolio decisions
    Role.VIEWER,  # added: reads everything it is shown, changes nothing
]

# Playbook section 17, row by row ("A/R by severity" for Risk on incident learning reads as A/R).
_TABLE = """
charter                     A/R C   C   C   C   C   C   I   I   I
metric_contract             A/R C   R   C   C   R   C   C   I   I
weekly_ops_review           A/R R   R   R   C   R   R   I   I   I
monthly_value_review        A/R C   R   R   C   R   C   R   R   I
quarterly_portfolio_review  R   C   C   C   C   R   C   A/R A/R I
release_calendar            C   A/R C   C   C   C   R   I   I   I
experiment_registry         A/R C   C   C   C   R   C   I   I   I
decision_log                A/R R   R   C   C   C   C   I   R   I
assumption_ledger           A/R C   R   C   C   R   C   C   I   I
incident_learning           R   R   R   A/R A/R C   R   I   I   I
action_closure              A/R R   R   R   R   R   R   I   I   I
dashboard_design            A/R R   R   C   C   R   C   C   I   I
"""


def _parse(table: str) -> dict[str, dict[str, str]]:
    raci: dict[str, dict[str, str]] = {}
    for line in table.strip().splitlines():
        activity, *letters = line.split()
        if activity not in Activity.values or len(letters) != len(_COLUMNS):
            raise ValueError(f"RACI row is malformed: {line!r}")
        raci[activity] = {role.value: letter for role, letter in zip(_COLUMNS, letters, strict=True)}
    if set(raci) != set(Activity.values):
        raise ValueError("RACI table must have one row per activity")
    return raci


RACI: dict[str, dict[str, str]] = _parse(_TABLE)

CHANGE_LETTERS = frozenset({"A", "R", "A/R"})


def letter(activity: str, role: str) -> str:
    """The RACI letter of a role for an activity ("A/R", "R", "C" or "I")."""
    return RACI[activity][role]


def roles_that_change(activity: str) -> frozenset[str]:
    """Roles whose letter lets them create and change the records of an activity."""
    return frozenset(role for role, mark in RACI[activity].items() if mark in CHANGE_LETTERS)


def accountable_roles(activity: str) -> frozenset[str]:
    return frozenset(role for role, mark in RACI[activity].items() if "A" in mark)
