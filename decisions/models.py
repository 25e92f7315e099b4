"""The decision log (playbook 14.1): what a forum decided, on which evidence, who owns it and
what should make us look at it again. Append-only: a decision is superseded, never edited."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from decisions.choices import DecisionType
from decisions.querysets import DecisionQuerySet, EvidenceLinkQuerySet
from productops.errors import DomainError
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel


class AppendOnlyModel(models.Model):
    """A row written once. Saving it again or deleting it raises a DomainError.

    The queryset refuses bulk ``update()``/``delete()`` and, on PostgreSQL, a trigger refuses
    any UPDATE or DELETE, so raw SQL and other code paths are covered too.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding or self.pk is not None:
            raise DomainError(
                gettext("A recorded decision is never edited: record a new decision that supersedes it.")
            )
        # Insert only: a row with a primary key set by hand must not turn into an UPDATE.
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DomainError(gettext("The decision log is append-only: decisions are never deleted."))


class Decision(AppendOnlyModel, ReadableIdModel, TrackedModel):
    """A decision taken in a forum about one capability (playbook 14.1): scale, restrict,
    redesign or retire; a release approval or rollback; a metric definition change; a risk
    acceptance; a platform investment; the acceptance of an incident's corrective actions.

    It names the options considered, the evidence it rests on (``EvidenceLink`` rows), its owner
    and the review trigger that should reopen it. It is never edited: a new decision that
    ``supersedes`` it takes its place, and the old row stays as it was recorded.
    """

    READABLE_ID_PREFIX = "DEC"
    READABLE_ID_DIGITS = 4

    decided_on = models.DateField(_("date"), default=timezone.localdate)
    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("capability"),
    )
    # The forum session that took the decision. Forums sit above this app, so a generic link.
    forum_session_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forum session type"),
    )
    forum_session_id = models.PositiveBigIntegerField(_("forum session id"), null=True, blank=True)
    forum_session = GenericForeignKey("forum_session_type", "forum_session_id")
    type = models.CharField(_("type"), max_length=48, choices=DecisionType.choices)
    decision = models.TextField(_("decision"))
    options_considered = models.TextField(_("options considered"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_decisions",
        verbose_name=_("owner"),
    )
    review_trigger = models.TextField(
        _("review trigger"), blank=True, help_text=_("What evidence or event should reopen this decision.")
    )
    review_date = models.DateField(_("review date"), null=True, blank=True)
    # Structured facts a deciding app adds, e.g. a metric definition change's
    # {"before": {...}, "after": {...}}. Shown on the page as recorded.
    details = models.JSONField(_("details"), default=dict, blank=True)
    # One-to-one: a decision is superseded at most once, so the chain never forks.
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recorded_decisions",
        verbose_name=_("recorded by"),
        help_text=_("Empty when the system recorded it (a job or another register)."),
    )

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-decided_on", "-id"]
        indexes = [
            models.Index(fields=["capability", "-decided_on"], name="decision_capability_date"),
            models.Index(fields=["review_date"], name="decision_review_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(supersedes=models.F("pk")), name="decision_never_supersedes_itself"
            ),
        ]

    def __str__(self):
        return f"{self.readable_id} · {self.get_type_display()}: {Truncator(self.decision).chars(80)}"

    def get_absolute_url(self):
        return reverse("decisions:decision-detail", kwargs={"readable_id": self.readable_id})

    @property
    def successor(self):
        """The decision that superseded this one, or None while it stands."""
        try:
            return self.superseded_by
        except Decision.DoesNotExist:
            return None

    @property
    def is_current(self) -> bool:
        return self.successor is None

    @property
    def evidence_count(self) -> int:
        annotated = getattr(self, "evidence_total", None)
        if annotated is not None:
            return annotated
        cache = getattr(self, "_prefetched_objects_cache", {})
        if "evidence_links" in cache:
            return len(cache["evidence_links"])
        return self.evidence_links.count()

    @property
    def has_evidence(self) -> bool:
        """False marks the decision "no evidence" wherever it is shown."""
        return self.evidence_count > 0

    def chain(self, limit: int = 100) -> list["Decision"]:
        """Every decision of this supersede chain, oldest first (this one included)."""
        older = []
        step = self
        while step.supersedes_id and len(older) < limit:
            step = Decision.objects.select_related("owner").get(pk=step.supersedes_id)
            older.append(step)
        newer = []
        step = self
        while len(newer) < limit:
            step = Decision.objects.select_related("owner").filter(supersedes_id=step.pk).first()
            if step is None:
                break
            newer.append(step)
        return [*reversed(older), self, *newer]


class EvidenceLink(AppendOnlyModel):
    """One piece of evidence a decision rests on: a record in any register (a contract, an
    observation, an incident, an experiment, a release, an action, another decision) or an
    external document. The readable id and label are kept as they were when recorded."""

    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="evidence_links", verbose_name=_("decision")
    )
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("record type"),
    )
    object_id = models.PositiveBigIntegerField(_("record id"), null=True, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    label = models.CharField(_("label"), max_length=255, blank=True)
    url = models.URLField(_("external link"), max_length=500, blank=True)

    objects = EvidenceLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence link")
        verbose_name_plural = _("evidence links")
        ordering = ["id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="evidence_target")]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(content_type__isnull=False, object_id__isnull=False) | ~models.Q(url="")),
                name="evidence_link_names_a_record_or_url",
            ),
        ]

    def __str__(self):
        return self.reference or self.label or self.url

    @property
    def display(self) -> str:
        """What a reader sees: ``ACT-0003 · Fix fee article`` or the link itself."""
        if self.reference and self.label and not self.label.startswith(self.reference):
            return f"{self.reference} · {self.label}"
        return self.label or self.reference or self.url

    @property
    def href(self) -> str:
        """Where the link goes: the record's page when it has one, else the external URL."""
        if self.content_type_id is not None:
            target = self.target
            if target is not None and hasattr(target, "get_absolute_url"):
                return target.get_absolute_url()
        return self.url
