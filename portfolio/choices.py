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
