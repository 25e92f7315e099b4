"""Ops hygiene: runs of the anti-pattern checks over one capability, their findings, and the
waivers that accept a finding for a while as a logged risk decision."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hygiene.choices import SEVERITY_ORDER, Severity, Trigger
from hygiene.querysets import FindingQuerySet, RunQuerySet, WaiverQuerySet
from productops.links import reverse


class Run(models.Model):
    """One run of every hygiene check over one capability: when, why, what it found and the
    score it gave. Runs are kept, never changed, so the trend over weeks is a query."""

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.CASCADE,
        related_name="hygiene_runs",
        verbose_name=_("capability"),
    )
    started_at = models.DateTimeField(_("run at"), default=timezone.now)
    as_of = models.DateField(_("data as of"))
    trigger = models.CharField(_("trigger"), max_length=12, choices=Trigger.choices)
    score = models.PositiveSmallIntegerField(_("hygiene score"))
    high = models.PositiveSmallIntegerField(_("open high findings"), default=0)
    medium = models.PositiveSmallIntegerField(_("open medium findings"), default=0)
    low = models.PositiveSmallIntegerField(_("open low findings"), default=0)
    waived = models.PositiveSmallIntegerField(_("waived findings"), default=0)
    failing_checks = models.JSONField(_("failing checks"), default=list, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        verbose_name = _("hygiene run")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["capability", "-started_at"], name="hygiene_run_capability_time")]

    def __str__(self):
        return f"{self.capability} {self.started_at:%Y-%m-%d %H:%M}: {self.score}"

    @property
    def open_findings(self) -> int:
        return self.high + self.medium + self.low


class Finding(models.Model):
    """What one check found in one run: the check, its severity, the playbook's finding text and
    correction, and the records at fault (``refs``: kind, label, url, model, pk). ``key`` names
    the same finding across runs; ``waiver`` is the waiver that covered it when the run was made."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="findings", verbose_name=_("run"))
    check_id = models.CharField(_("check"), max_length=48)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    key = models.CharField(_("finding key"), max_length=400)
    text = models.TextField(_("finding"))
    fix = models.TextField(_("correction"))
    refs = models.JSONField(_("records at fault"), default=list)
    waiver = models.ForeignKey(
        "hygiene.Waiver",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("waived by"),
    )

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("hygiene finding")
        ordering = ["run_id", "id"]
        indexes = [models.Index(fields=["key"], name="hygiene_finding_key")]

    def __str__(self):
        return f"{self.check_id}: {self.text[:80]}"

    def get_absolute_url(self):
        return (
            reverse("hygiene:capability", kwargs={"slug": self.run.capability.slug}) + f"#finding-{self.pk}"
        )

    @property
    def capability(self):
        return self.run.capability

    @property
    def severity_rank(self) -> int:
        return SEVERITY_ORDER.get(self.severity, 9)

    @property
    def check_title(self) -> str:
        from hygiene.checks import CHECKS

        spec = CHECKS.get(self.check_id)
        return str(spec.title) if spec else self.check_id


class Waiver(models.Model):
    """A finding accepted for a while: who, why, until when, and the risk-acceptance decision in
    the decision log that records it. It covers the finding (by its key) in every run up to and
    including ``expires_on``; after that the finding counts again."""

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.CASCADE,
        related_name="hygiene_waivers",
        verbose_name=_("capability"),
    )
    check_id = models.CharField(_("check"), max_length=48)
    key = models.CharField(_("finding key"), max_length=400)
    reason = models.TextField(_("reason"))
    expires_on = models.DateField(_("expires on"), help_text=_("The last day the waiver holds."))
    decision = models.OneToOneField(
        "decisions.Decision",
        on_delete=models.PROTECT,
        related_name="hygiene_waiver",
        verbose_name=_("decision"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("granted by")
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    objects = WaiverQuerySet.as_manager()

    class Meta:
        verbose_name = _("hygiene waiver")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["capability", "key", "expires_on"], name="hygiene_waiver_live")]

    def __str__(self):
        return f"{self.key} until {self.expires_on}"

    def is_live(self, today=None) -> bool:
        return self.expires_on >= (today or timezone.localdate())


class SevereNotice(models.Model):
    """The capability's PM was told about this severe finding (once per finding, ever): the row
    is created before the notification, and the unique key lets only one run create it."""

    capability = models.ForeignKey("portfolio.Capability", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=400)
    first_run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, related_name="+")
    notified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("severe finding notice")
        constraints = [
            models.UniqueConstraint(fields=["capability", "key"], name="hygiene_notice_once_per_finding")
        ]

    def __str__(self):
        return self.key
