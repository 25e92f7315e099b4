"""The capability: an AI product in one workflow, the root every other asset points to."""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portfolio.choices import BASELINE_AREAS, DECISION_RIGHTS, SUCCESS_AREAS, LifecycleStatus, RiskTier
from portfolio.querysets import CapabilityQuerySet
from productops.mixins import TrackedModel


class Capability(TrackedModel):
    """An AI capability in production or pilot, with its Product Ops charter (playbook 21.1)
    and its pre-AI baseline (5.1). Its owner map is the set of role assignments on it."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    workflow = models.CharField(_("workflow"), max_length=200)
    target_users = models.CharField(_("target users"), max_length=200)
    case_types = models.TextField(_("case types"), blank=True)
    customer_impact = models.TextField(_("customer impact"), blank=True)
    operations_impact = models.TextField(_("operations impact"), blank=True)
    risk_tier = models.CharField(
        _("risk tier"), max_length=16, choices=RiskTier.choices, default=RiskTier.MEDIUM
    )
    lifecycle_status = models.CharField(
        _("lifecycle status"), max_length=16, choices=LifecycleStatus.choices, default=LifecycleStatus.PILOT
    )

    # Charter: decision rights (playbook 21.1).
    decisions_product = models.TextField(_("decisions owned by product"), blank=True)
    decisions_risk_review = models.TextField(_("decisions requiring risk review"), blank=True)
    decisions_platform_review = models.TextField(_("decisions requiring platform review"), blank=True)
    decisions_executive_review = models.TextField(_("decisions requiring executive review"), blank=True)

    # Charter: success criteria per area.
    success_outcome = models.TextField(_("outcome success criteria"), blank=True)
    success_adoption = models.TextField(_("adoption success criteria"), blank=True)
    success_quality = models.TextField(_("quality success criteria"), blank=True)
    success_risk = models.TextField(_("risk success criteria"), blank=True)
    success_cost = models.TextField(_("cost success criteria"), blank=True)
    success_reliability = models.TextField(_("reliability success criteria"), blank=True)
    success_learning = models.TextField(_("learning success criteria"), blank=True)

    # Pre-AI baseline (playbook 5.1: outcome, quality, cost, risk, capacity).
    baseline_outcome = models.TextField(_("baseline outcome"), blank=True)
    baseline_quality = models.TextField(_("baseline quality"), blank=True)
    baseline_cost = models.TextField(_("baseline cost"), blank=True)
    baseline_risk = models.TextField(_("baseline risk"), blank=True)
    baseline_capacity = models.TextField(_("baseline capacity"), blank=True)

    # Object type -> version, e.g. {"model": "m-2026-05", "prompt": "v12"}. Written only by the
    # release calendar when a release deploys or rolls back; never typed by hand.
    current_version_set = models.JSONField(_("current version set"), default=dict, blank=True, editable=False)

    objects = CapabilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("portfolio:capability-detail", kwargs={"slug": self.slug})

    def _labelled(self, names) -> list[tuple[str, str]]:
        return [(self._meta.get_field(name).verbose_name, getattr(self, name)) for name in names]

    def charter_decision_rights(self) -> list[tuple[str, str]]:
        return self._labelled(f"decisions_{right}" for right in DECISION_RIGHTS)

    def charter_success_criteria(self) -> list[tuple[str, str]]:
        return self._labelled(f"success_{area}" for area in SUCCESS_AREAS)

    def baseline(self) -> list[tuple[str, str]]:
        return self._labelled(f"baseline_{area}" for area in BASELINE_AREAS)

    def charter_gaps(self) -> list[str]:
        """Charter parts still empty: the first of the 10-day plan's outputs is a full charter."""
        fields = [
            "workflow",
            "target_users",
            "decisions_product",
            "decisions_risk_review",
            "success_outcome",
            "success_risk",
            "baseline_outcome",
        ]
        return [str(self._meta.get_field(name).verbose_name) for name in fields if not getattr(self, name)]
