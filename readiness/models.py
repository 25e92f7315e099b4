"""What readiness stores: nothing it can compute. Only the onboarding items the data cannot show
(playbook 5.3 days 8 and 9) are ticked by hand, by the PM, with a note — kept with their history."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from productops.mixins import TrackedModel


class OnboardingTick(TrackedModel):
    """A hand tick of one onboarding item of a capability (who, when, why); unticking keeps the
    row and its history."""

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.CASCADE,
        related_name="onboarding_ticks",
        verbose_name=_("capability"),
    )
    item = models.CharField(_("item"), max_length=8)
    ticked = models.BooleanField(_("ticked"), default=True)
    note = models.TextField(_("note"))
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("ticked by")
    )

    class Meta:
        verbose_name = _("onboarding tick")
        verbose_name_plural = _("onboarding ticks")
        constraints = [
            models.UniqueConstraint(fields=["capability", "item"], name="readiness_tick_once_per_item"),
            models.CheckConstraint(condition=~models.Q(note=""), name="readiness_tick_has_note"),
        ]

    def __str__(self):
        return f"{self.capability_id}:{self.item}"
