from django.db import models
from django.utils.translation import gettext_lazy as _


class DecisionType(models.TextChoices):
    """What kind of decision a forum took (playbook 8.3, 9.3 and 14.1)."""

    SCALE = "scale", _("Scale")
    SCALE_SELECTIVELY = "scale_selectively", _("Scale selectively")
    RESTRICT = "restrict", _("Restrict")
    REDESIGN = "redesign", _("Redesign")
    RETIRE = "retire", _("Retire")
    CONTINUE = "continue", _("Continue")
    RELEASE_APPROVAL = "release_approval", _("Release approval")
    ROLLBACK = "rollback", _("Rollback")
    METRIC_DEFINITION_CHANGE = "metric_definition_change", _("Metric definition change")
    RISK_ACCEPTANCE = "risk_acceptance", _("Risk acceptance")
    PLATFORM_INVESTMENT = "platform_investment", _("Platform investment")
    INCIDENT_CORRECTIVE_ACTION_ACCEPTANCE = (
        "incident_corrective_action_acceptance",
        _("Incident corrective action acceptance"),
    )
    FUND = "fund", _("Fund")
    PAUSE = "pause", _("Pause")
    CONSOLIDATE = "consolidate", _("Consolidate")
    PLATFORMIZE = "platformize", _("Platformize")


class DecisionState(models.TextChoices):
    """Whether a decision still stands or a later one replaced it (derived, never stored)."""

    CURRENT = "current", _("Current")
    SUPERSEDED = "superseded", _("Superseded")
