"""The capability: an AI product in one workflow, the root every other asset points to; and
its governed backlog (playbook 16)."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portfolio.choices import (
    BACKLOG_CLOSED_STATUSES,
    BACKLOG_MOVE_LABELS,
    BACKLOG_TRANSITIONS,
    BASELINE_AREAS,
    DECISION_RIGHTS,
    HIGH_SEVERITIES,
    LINK_KINDS,
    SCORE_BENEFITS,
    SCORE_COSTS,
    SCORE_MAX,
    SCORE_MIN,
    SCORE_PARTS,
    SUCCESS_AREAS,
    BacklogClass,
    BacklogStatus,
    IncidentSeverity,
    LifecycleStatus,
    LinkKind,
    MetricDirection,
    RiskTier,
    backlog_move_needs_reason,
)
from portfolio.choices import priority_score as formula_priority_score
from portfolio.querysets import BacklogItemQuerySet, CapabilityQuerySet, formula_score_expression
from productops.errors import DomainError
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel
from productops.permissions import can_change, require_change
from productops.roles import Activity
from productops.transitions import check_transition, lock


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


# Who changes the backlog: the RACI row of the weekly ops review (playbook 17). See BacklogItem.
BACKLOG_ACTIVITY = Activity.WEEKLY_OPS_REVIEW


def _score_field(name):
    return models.PositiveSmallIntegerField(
        name,
        default=0,
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
    )


STATUS_BADGES = {
    BacklogStatus.PROPOSED: "text-bg-secondary",
    BacklogStatus.READY: "text-bg-primary",
    BacklogStatus.IN_PROGRESS: "text-bg-info",
    BacklogStatus.DONE: "text-bg-success",
    BacklogStatus.DROPPED: "text-bg-light",
}


class BacklogItem(ReadableIdModel, TrackedModel):
    """One item of a capability's governed backlog (playbook 16): its class (16.1), the evidence
    record its class requires (a generic link, so the backlog imports none of the registers it
    rests on), the metric movement it promises (16.3), the score parts and priority score of
    16.2, and the risk/customer-harm override that puts it on top regardless of score.

    Who may change it: the backlog is groomed from what the weekly ops review finds (playbook
    18.2's board rows and 19's "Backlog" cadence row sit beside the weekly ops review), so the
    RACI row is the weekly ops review's: the AI PM accountable; the architect, business analyst,
    ops, analytics and platform roles responsible — the people who size delivery effort and
    platform reuse. Risk/Compliance and Finance are consulted or informed there and read the
    backlog; their asks (a harm override, a cost item) go through the PM, who records them with
    the reason. Retirement candidates are *decided* in the quarterly portfolio review, through the
    decision log, not here.

    ``priority_score`` is stored (so lists sort and filter on it in the database), recomputed in
    ``save()`` from ``portfolio.choices.priority_score`` and guarded by a check constraint built
    from the same part lists as the ``with_formula_score()`` annotation.
    """

    READABLE_ID_PREFIX = "BLI"
    READABLE_ID_DIGITS = 4

    capability = models.ForeignKey(
        Capability, on_delete=models.PROTECT, related_name="backlog_items", verbose_name=_("capability")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    item_class = models.CharField(_("class"), max_length=24, choices=BacklogClass.choices)

    # The record the item rests on (16.1 "required link"), and how it read when it was linked.
    evidence_content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evidence record type"),
    )
    evidence_object_id = models.PositiveBigIntegerField(_("evidence record"), null=True, blank=True)
    evidence = GenericForeignKey("evidence_content_type", "evidence_object_id")
    evidence_reference = models.CharField(_("evidence link"), max_length=255, blank=True)

    # Expected metric movement (16.3: "every roadmap item states expected metric movement").
    expected_metric = models.ForeignKey(
        "contracts.MetricContract",
        on_delete=models.PROTECT,
        related_name="backlog_items",
        verbose_name=_("expected metric"),
    )
    expected_direction = models.CharField(
        _("expected direction"), max_length=4, choices=MetricDirection.choices
    )
    expected_movement = models.CharField(
        _("expected movement"),
        max_length=200,
        blank=True,
        help_text=_("How much, by when, e.g. “−2 points on billing intents within 8 weeks”."),
    )

    # Score parts of 16.2, each 0-5.
    outcome_impact = _score_field(_("outcome impact"))
    risk_reduction = _score_field(_("risk reduction"))
    adoption_unblock = _score_field(_("adoption unblock"))
    cost_capacity_relief = _score_field(_("cost/capacity relief"))
    evidence_need = _score_field(_("evidence need"))
    platform_reuse = _score_field(_("platform reuse"))
    delivery_effort = _score_field(_("delivery effort"))
    change_saturation = _score_field(_("change saturation"))
    priority_score = models.SmallIntegerField(_("priority score"), default=0, editable=False, db_index=True)

    risk_override = models.BooleanField(
        _("risk/customer-harm override"),
        default=False,
        help_text=_("Puts the item on top regardless of its score (it still needs an evidence link)."),
    )
    override_reason = models.TextField(_("override reason"), blank=True)
    incident_severity = models.CharField(
        _("incident severity"),
        max_length=4,
        choices=IncidentSeverity.choices,
        blank=True,
        help_text=_("Set when the item corrects an incident: the severity of that incident."),
    )
    problem_key = models.SlugField(
        _("problem key"),
        max_length=60,
        blank=True,
        help_text=_(
            "A short name for a problem other capabilities may have too, e.g. evidence-citation: "
            "the same key on several capabilities groups them as a platform-reuse candidate."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=BacklogStatus.choices,
        default=BacklogStatus.PROPOSED,
        editable=False,
    )
    status_reason = models.TextField(_("reason for the last status change"), blank=True, editable=False)

    objects = BacklogItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("backlog item")
        verbose_name_plural = _("backlog items")
        ordering = ["capability_id", "-priority_score", "id"]
        indexes = [
            models.Index(fields=["capability", "status"], name="backlog_capability_status"),
            models.Index(fields=["problem_key"], name="backlog_problem_key"),
            models.Index(fields=["evidence_content_type", "evidence_object_id"], name="backlog_evidence"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    *[Q(**{f"{name}__gte": SCORE_MIN, f"{name}__lte": SCORE_MAX}) for name in SCORE_PARTS]
                ),
                name="backlog_score_parts_0_to_5",
            ),
            models.CheckConstraint(
                condition=Q(priority_score=formula_score_expression()),
                name="backlog_priority_score_is_the_formula",
            ),
            models.CheckConstraint(
                condition=Q(risk_override=False) | ~Q(override_reason=""),
                name="backlog_override_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(evidence_content_type__isnull=True, evidence_object_id__isnull=True)
                | Q(evidence_content_type__isnull=False, evidence_object_id__isnull=False),
                name="backlog_evidence_link_complete",
            ),
        ]

    def __str__(self):
        return f"{self.readable_id} {self.title}"

    def get_absolute_url(self):
        return reverse("portfolio:backlog-detail", kwargs={"readable_id": self.readable_id})

    def save(self, *args, **kwargs):
        self.priority_score = formula_priority_score(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(SCORE_PARTS):
            kwargs["update_fields"] = {*update_fields, "priority_score"}
        super().save(*args, **kwargs)

    # --- what the pages and the ranking read -----------------------------------------------

    @property
    def has_evidence_link(self) -> bool:
        return self.evidence_content_type_id is not None and self.evidence_object_id is not None

    @property
    def evidence_kind(self) -> str:
        """The kind of record linked (``LinkKind``), or "" when none is."""
        if not self.has_evidence_link:
            return ""
        field = self._meta.get_field("evidence_content_type")
        # A list row has it from select_related; elsewhere the content-type cache answers.
        if field.is_cached(self):
            content_type = self.evidence_content_type
        else:
            content_type = ContentType.objects.get_for_id(self.evidence_content_type_id)
        return LINK_KINDS.get(f"{content_type.app_label}.{content_type.model}", "")

    @property
    def evidence_kind_label(self) -> str:
        kind = self.evidence_kind
        return str(LinkKind(kind).label) if kind else ""

    @property
    def evidence_url(self) -> str:
        """The linked record's page, when it has one (the record of an app whose pages are not
        wired yet has none)."""
        if not self.has_evidence_link:
            return ""
        record = self.evidence
        try:
            return (
                record.get_absolute_url()
                if record is not None and hasattr(record, "get_absolute_url")
                else ""
            )
        except NoReverseMatch:
            return ""

    @property
    def is_corrective(self) -> bool:
        return bool(self.incident_severity)

    @property
    def is_high_severity_corrective(self) -> bool:
        return self.incident_severity in HIGH_SEVERITIES

    @property
    def is_open(self) -> bool:
        return self.status not in BACKLOG_CLOSED_STATUSES

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "text-bg-light")

    @property
    def benefits(self) -> int:
        return sum(getattr(self, name) or 0 for name in SCORE_BENEFITS)

    @property
    def costs(self) -> int:
        return sum(getattr(self, name) or 0 for name in SCORE_COSTS)

    def score_parts(self) -> list[tuple[str, str, int, bool]]:
        """[(field name, label, value, is a cost)] in the formula's order."""
        return [
            (name, str(self._meta.get_field(name).verbose_name), getattr(self, name), name in SCORE_COSTS)
            for name in SCORE_PARTS
        ]

    def expected_movement_display(self) -> str:
        arrow = "↑" if self.expected_direction == MetricDirection.UP else "↓"
        metric = self.expected_metric.metric_id if self.expected_metric_id else "?"
        text = f"{metric} {arrow}"
        return f"{text} {self.expected_movement}" if self.expected_movement else text

    # --- status moves ----------------------------------------------------------------------

    def allowed_moves(self, user) -> list[str]:
        """The statuses this person may move the item to now (none for people who only read)."""
        if user is not None and not can_change(user, BACKLOG_ACTIVITY, self.capability_id):
            return []
        return [status for status in BacklogStatus.values if status in BACKLOG_TRANSITIONS[self.status]]

    @transaction.atomic
    def move(self, *, to: str, by, reason: str = "") -> None:
        """Move the item along its state machine. ``by=None`` is the system (e.g. the incidents
        app closing a corrective item); a person needs A or R on the weekly ops review."""
        item = lock(self)
        if by is not None:
            require_change(by, BACKLOG_ACTIVITY, item.capability_id)
        if to not in BacklogStatus.values:
            raise DomainError(gettext("Choose a known status."), field="status")
        check_transition(BACKLOG_TRANSITIONS, item.status, to, choices=BacklogStatus)
        reason = (reason or "").strip()
        if backlog_move_needs_reason(item.status, to) and not reason:
            raise DomainError(
                gettext(
                    "Say why: dropping an item, or taking it back out of done or dropped, needs a reason."
                ),
                field="reason",
            )
        previous = item.get_status_display()
        item.status = to
        item.status_reason = reason
        item._history_user = by
        change = gettext("%(old)s → %(new)s") % {"old": previous, "new": item.get_status_display()}
        item._change_reason = f"{change}: {reason}"[:2000] if reason else change
        item.save()
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(item, field.attname))

    @staticmethod
    def move_label(status: str) -> str:
        return str(BACKLOG_MOVE_LABELS[status])
