from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    """How much a finding weighs: high findings are the "severe" ones the PM is told about."""

    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


# Weights of the score (see hygiene.services.score_of): a check of higher severity counts more.
SEVERITY_WEIGHT = {Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}
SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}
SEVERE = frozenset({Severity.HIGH})


class Trigger(models.TextChoices):
    """What started a run of the checks."""

    SCHEDULE = "schedule", _("Weekly schedule")
    FORUM = "forum", _("After a forum session")
    MANUAL = "manual", _("Run by hand")
    WAIVER = "waiver", _("After a waiver")
    DEMO = "demo", _("Demo")


# A waiver is a risk acceptance with a horizon: it must be looked at again within this many days.
WAIVER_MAX_DAYS = 180
