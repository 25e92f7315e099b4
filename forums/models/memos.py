"""The monthly AI value review decision memo (playbook 8.4)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from forums.choices import MemoState
from productops.links import reverse
from productops.mixins import TrackedModel


class ValueMemo(TrackedModel):
    """The monthly decision memo of one capability, generated from the month's data.

    ``fields`` holds the memo's sections and lines of 8.4 (``{"outcome": {"baseline": "..."}}``),
    editable while the memo is a draft and kept as sent afterwards. ``matrix`` is what the
    decision matrix of 8.3 made of the evidence: the recommended decision, the pattern that
    fired and the figures it fired on, and whether a guardrail blocks a net-improvement claim.
    """

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="value_memos",
        verbose_name=_("capability"),
    )
    session = models.ForeignKey(
        "forums.Session",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="value_memos",
        verbose_name=_("session"),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month reviewed."))
    fields = models.JSONField(_("memo"), default=dict)
    matrix = models.JSONField(_("decision matrix"), default=dict)
    recommendation = models.CharField(_("recommended decision"), max_length=40, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=MemoState.choices, default=MemoState.DRAFT)
    generated_at = models.DateTimeField(_("generated at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.ForeignKey(
        "decisions.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decision logged"),
    )

    class Meta:
        ordering = ["-month", "capability__name"]
        verbose_name = _("monthly value memo")
        constraints = [
            models.UniqueConstraint(fields=["capability", "month"], name="forums_memo_once_per_month"),
        ]

    def __str__(self):
        return f"{self.capability} — {self.month:%Y-%m}"

    def get_absolute_url(self):
        return reverse("forums:memo-detail", kwargs={"pk": self.pk})

    @property
    def is_sent(self) -> bool:
        return self.state == MemoState.SENT
