"""Metric contracts (playbook 10), their observations, and the signals thresholds raise."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from contracts.choices import (
    Category,
    ContractStatus,
    Direction,
    EvidenceLevel,
    Grain,
    SignalLevel,
    Watch,
)
from contracts.querysets import ContractQuerySet, EvaluationQuerySet, ObservationQuerySet, SignalQuerySet
from productops.links import reverse
from productops.mixins import TrackedModel
from productops.roles import Role

METRIC_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
DIMENSION = re.compile(r"^[a-z][a-z0-9_]*$")


def validate_metric_id(value: str) -> None:
    if not METRIC_ID.match(value or ""):
        raise ValidationError(
            _("A metric id is capability.metric in lower case, e.g. cc_agent_assist.repeat_contact_7d."),
            code="invalid_metric_id",
        )


def validate_dimensions(value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and DIMENSION.match(item) for item in value
    ):
        raise ValidationError(
            _("List dimension names in lower case, e.g. intent, team."), code="invalid_dimensions"
        )


class MetricContract(TrackedModel):
    """A metric contract: what one number means, who owns it, which thresholds trigger which
    action, and how good its evidence is (playbook 10.1; examples 10.2 and 10.3)."""

    metric_id = models.CharField(_("metric id"), max_length=120, unique=True, validators=[validate_metric_id])
    name = models.CharField(_("name"), max_length=160)
    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="contracts",
        verbose_name=_("capability"),
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    watch = models.CharField(
        _("runtime watch"),
        max_length=24,
        choices=Watch.choices,
        blank=True,
        default="",
        help_text=_(
            "Which runtime signal of the boards this contract is (eval pass rate, confidence drift, "
            "latency, cost per case, ...); leave empty when it is none of them."
        ),
    )

    # Business question
    business_question = models.TextField(_("business question"))
    decision_supported = models.TextField(_("decision this metric supports"), blank=True)

    # Definition
    numerator = models.TextField(_("numerator"))
    denominator = models.TextField(_("denominator"), blank=True)
    inclusion_rules = models.TextField(_("inclusion rules"), blank=True)
    exclusion_rules = models.TextField(_("exclusion rules"), blank=True)
    time_window = models.CharField(_("time window"), max_length=120, blank=True)
    unit = models.CharField(_("unit"), max_length=40, help_text=_("e.g. %, seconds, GBP per case"))
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    # Ratio metrics are shown as percentages of numerator over denominator.
    is_ratio = models.BooleanField(_("ratio of numerator to denominator"), default=True)

    # Population
    population_workflow = models.CharField(_("workflow"), max_length=200, blank=True)
    population_user_roles = models.CharField(_("user roles"), max_length=200, blank=True)
    population_case_types = models.CharField(_("case types"), max_length=200, blank=True)
    population_channel = models.CharField(_("channel"), max_length=120, blank=True)
    population_risk_tier = models.CharField(_("population risk tier"), max_length=60, blank=True)

    # Source and trace
    source_systems = models.CharField(_("source systems"), max_length=200, blank=True)
    event_names = models.CharField(_("event names"), max_length=300, blank=True)
    version_fields = models.CharField(_("version fields"), max_length=200, blank=True)
    join_keys = models.CharField(_("join keys"), max_length=200, blank=True)
    data_latency = models.CharField(_("data latency"), max_length=80, blank=True)

    # Owners
    business_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("business owner"),
    )
    analytics_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("analytics owner"),
    )
    risk_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("risk reviewer"),
    )

    # Thresholds and action rules
    target = models.FloatField(_("target"))
    warning = models.FloatField(_("warning"))
    breach = models.FloatField(_("breach"))
    stop_level = models.FloatField(
        _("stop level"),
        null=True,
        blank=True,
        help_text=_("A value at or past this level fires the stop rule (holds pending releases)."),
    )
    stop_rule = models.TextField(_("stop rule"), blank=True)
    warning_action = models.TextField(_("action when warning"), blank=True)
    warning_action_owner_role = models.CharField(
        _("owner role at warning"), max_length=32, choices=Role.choices, default=Role.AI_PM
    )
    warning_action_due_days = models.PositiveSmallIntegerField(_("due in days at warning"), default=14)
    warning_closure_criterion = models.TextField(_("closure criterion at warning"), blank=True)
    breach_action = models.TextField(_("action when breach"), blank=True)
    breach_action_owner_role = models.CharField(
        _("owner role at breach"), max_length=32, choices=Role.choices, default=Role.AI_PM
    )
    breach_action_due_days = models.PositiveSmallIntegerField(_("due in days at breach"), default=7)
    breach_closure_criterion = models.TextField(_("closure criterion at breach"), blank=True)
    # Closure from data: a signal's action passes its data check after this many periods back under warning.
    closure_periods = models.PositiveSmallIntegerField(
        _("periods back under warning to prove closure"), default=2
    )

    # Guardrails
    guardrails = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="guarded_contracts",
        verbose_name=_("guardrail contracts"),
    )
    guardrail_customer_harm = models.TextField(_("customer harm guardrail"), blank=True)
    guardrail_cost = models.TextField(_("cost guardrail"), blank=True)
    guardrail_quality = models.TextField(_("quality guardrail"), blank=True)
    guardrail_risk = models.TextField(_("risk guardrail"), blank=True)

    # Segmentation
    cohort_dimensions = models.JSONField(
        _("cohort dimensions"),
        default=list,
        blank=True,
        validators=[validate_dimensions],
        help_text=_("Dimensions observations may carry, e.g. intent, team, agent_tenure."),
    )
    required_cuts = models.JSONField(
        _("required cohort cuts"),
        default=list,
        blank=True,
        validators=[validate_dimensions],
        help_text=_("Dimensions every evaluation is also cut by; each must be a cohort dimension."),
    )
    vulnerable_customer_review = models.TextField(
        _("vulnerable customer / protected class proxy review"), blank=True
    )
    manager_team_cut = models.CharField(_("manager / team cut"), max_length=200, blank=True)

    # Noise gating
    grain = models.CharField(_("evaluation grain"), max_length=8, choices=Grain.choices, default=Grain.WEEK)
    min_sample_size = models.PositiveIntegerField(_("minimum sample size per period"), default=30)
    consecutive_periods = models.PositiveSmallIntegerField(
        _("consecutive periods before a signal"),
        default=1,
        help_text=_("Raise a warning or breach only after this many periods past the level in a row."),
    )

    # Evidence quality
    evidence_level = models.CharField(_("evidence level"), max_length=2, choices=EvidenceLevel.choices)
    sampling_approach = models.TextField(_("sampling or reconciliation approach"), blank=True)
    last_reviewed = models.DateField(_("last reviewed"), null=True, blank=True)
    next_review = models.DateField(_("next review"), null=True, blank=True)
    review_reminder_sent_for = models.DateField(null=True, blank=True, editable=False)

    # Set by the evaluation job: improves over baseline while a guardrail is at warning or worse.
    improvement_not_net = models.BooleanField(_("improvement not net"), default=False, editable=False)
    improvement_not_net_reason = models.TextField(blank=True, editable=False)

    objects = ContractQuerySet.as_manager()

    # Fields whose change on an active contract is a "metric definition change" decision.
    DEFINITION_FIELDS = [
        "numerator",
        "denominator",
        "inclusion_rules",
        "exclusion_rules",
        "time_window",
        "population_workflow",
        "population_user_roles",
        "population_case_types",
        "population_channel",
        "population_risk_tier",
        "target",
        "warning",
        "breach",
        "stop_level",
        "direction",
    ]

    class Meta:
        verbose_name = _("metric contract")
        ordering = ["capability__name", "category", "metric_id"]

    def __str__(self):
        return self.metric_id

    def get_absolute_url(self):
        return reverse("contracts:contract-detail", kwargs={"metric_id": self.metric_id})

    def clean(self):
        errors = {}
        errors.update(self.threshold_errors())
        undeclared = [cut for cut in self.required_cuts or [] if cut not in (self.cohort_dimensions or [])]
        if undeclared:
            errors["required_cuts"] = _("Not declared as cohort dimensions: %(cuts)s.") % {
                "cuts": ", ".join(undeclared)
            }
        if errors:
            raise ValidationError(errors)

    def threshold_errors(self) -> dict:
        """Thresholds must run from target through warning to breach (and stop) in the worse direction."""
        if None in (self.target, self.warning, self.breach):
            return {}
        levels = [("target", self.target), ("warning", self.warning), ("breach", self.breach)]
        if self.stop_level is not None:
            levels.append(("stop_level", self.stop_level))
        lower_is_better = self.direction == Direction.LOWER_IS_BETTER
        errors = {}
        for (name_a, a), (name_b, b) in zip(levels, levels[1:], strict=False):
            in_order = a <= b if lower_is_better else a >= b
            if not in_order:
                relation = "≤" if lower_is_better else "≥"
                errors[name_b] = _(
                    "For a %(direction)s metric, %(a)s %(rel)s %(b)s must hold (%(va)s vs %(vb)s)."
                ) % {
                    "direction": self.get_direction_display().lower(),
                    "a": name_a.replace("_", " "),
                    "b": name_b.replace("_", " "),
                    "rel": relation,
                    "va": a,
                    "vb": b,
                }
        return errors

    def level_of(self, value: float) -> str:
        """The threshold level a value sits at (before noise gating)."""
        worse = (
            (lambda v, t: v >= t) if self.direction == Direction.LOWER_IS_BETTER else (lambda v, t: v <= t)
        )
        if self.stop_level is not None and worse(value, self.stop_level):
            return SignalLevel.STOP
        if worse(value, self.breach):
            return SignalLevel.BREACH
        if worse(value, self.warning):
            return SignalLevel.WARNING
        return SignalLevel.OK

    def threshold_for(self, level: str) -> float | None:
        return {
            SignalLevel.WARNING: self.warning,
            SignalLevel.BREACH: self.breach,
            SignalLevel.STOP: self.stop_level,
        }.get(level)

    def format_value(self, value) -> str:
        """A value as people read it in a forum: shares as percentages, other units after a
        number rounded to what the eye can use (the database keeps full precision)."""
        if value is None:
            return "—"
        if self.unit.startswith("share"):
            return f"{value * 100:.1f}%"
        if self.unit == "%":
            return f"{value:.1f}%"
        size = abs(value)
        number = f"{value:,.0f}" if size >= 100 else f"{value:.1f}" if size >= 10 else f"{value:.3g}"
        return f"{number} {self.unit}"

    def definition_snapshot(self) -> dict:
        return {name: getattr(self, name) for name in self.DEFINITION_FIELDS}


def cohort_key(cohort: dict) -> str:
    """Canonical text of a cohort or version set, for uniqueness and grouping: ``a=1|b=2``."""
    return "|".join(f"{key}={cohort[key]}" for key in sorted(cohort))


class Observation(models.Model):
    """One value of a contract for one period, cohort and version set (idempotent upsert key)."""

    contract = models.ForeignKey(MetricContract, on_delete=models.CASCADE, related_name="observations")
    period_start = models.DateField(_("period start"))
    grain = models.CharField(_("grain"), max_length=8, choices=Grain.choices, default=Grain.DAY)
    cohort = models.JSONField(_("cohort"), default=dict)
    cohort_key = models.CharField(max_length=300, default="", editable=False)
    version_set = models.JSONField(_("version set"), default=dict)
    version_key = models.CharField(max_length=300, default="", editable=False)
    value = models.FloatField(_("value"))
    numerator = models.FloatField(_("numerator"), null=True, blank=True)
    denominator = models.FloatField(_("denominator"), null=True, blank=True)
    sample_size = models.PositiveIntegerField(_("sample size"))
    source = models.CharField(_("source"), max_length=120, blank=True)
    ingested_at = models.DateTimeField(_("ingested"), auto_now=True)

    objects = ObservationQuerySet.as_manager()

    class Meta:
        verbose_name = _("observation")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "grain", "period_start", "cohort_key", "version_key"],
                name="observation_upsert_key",
            )
        ]
        indexes = [models.Index(fields=["contract", "period_start"], name="observation_contract_period")]

    def __str__(self):
        return f"{self.contract_id} {self.period_start} {self.cohort_key} = {self.value}"

    def save(self, *args, **kwargs):
        self.cohort_key = cohort_key(self.cohort)
        self.version_key = cohort_key(self.version_set)
        super().save(*args, **kwargs)


class Evaluation(models.Model):
    """The level a contract stood at for one evaluation period and one cohort cut.

    ``cut`` is "" for the whole population, or ``intent=billing`` for one value of a required cut.
    Recomputed idempotently by the evaluation job (one row per contract, period and cut).
    """

    contract = models.ForeignKey(MetricContract, on_delete=models.CASCADE, related_name="evaluations")
    period_start = models.DateField(_("period start"))
    grain = models.CharField(_("grain"), max_length=8, choices=Grain.choices)
    cut = models.CharField(_("cohort cut"), max_length=200, default="", blank=True)
    value = models.FloatField(_("value"), null=True)
    sample_size = models.PositiveIntegerField(_("sample size"), default=0)
    raw_level = models.CharField(_("level before noise gating"), max_length=16, choices=SignalLevel.choices)
    level = models.CharField(_("level"), max_length=16, choices=SignalLevel.choices)
    threshold_crossed = models.FloatField(_("threshold crossed"), null=True, blank=True)
    evaluated_at = models.DateTimeField(auto_now=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "grain", "period_start", "cut"], name="evaluation_key"
            )
        ]
        ordering = ["contract_id", "cut", "period_start"]

    def __str__(self):
        return f"{self.contract_id} {self.period_start} {self.cut or 'all'}: {self.level}"


class Signal(TrackedModel):
    """A threshold signal: a contract's cohort cut at warning, breach or stop, from the period it
    crossed until it is back within thresholds. Opens one action; worsening escalates it."""

    contract = models.ForeignKey(MetricContract, on_delete=models.CASCADE, related_name="signals")
    cut = models.CharField(_("cohort cut"), max_length=200, default="", blank=True)
    level = models.CharField(_("level"), max_length=16, choices=SignalLevel.choices)
    worst_level = models.CharField(_("worst level"), max_length=16, choices=SignalLevel.choices)
    opened_period = models.DateField(_("opened in period"))
    last_period = models.DateField(_("last period past threshold"))
    resolved_period = models.DateField(_("resolved in period"), null=True, blank=True)
    observed_value = models.FloatField(_("observed value"))
    threshold_crossed = models.FloatField(_("threshold crossed"), null=True)
    action = models.ForeignKey(
        "actions.Action",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("action"),
    )

    objects = SignalQuerySet.as_manager()

    class Meta:
        verbose_name = _("signal")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "cut"],
                condition=models.Q(resolved_period__isnull=True),
                name="one_open_signal",
            )
        ]
        ordering = ["-opened_period"]

    def __str__(self):
        where = f" [{self.cut}]" if self.cut else ""
        return f"{self.contract.metric_id}{where}: {self.get_level_display()}"

    @property
    def capability(self):
        return self.contract.capability

    def get_absolute_url(self):
        return reverse("contracts:signal-detail", kwargs={"pk": self.pk})


class StopHold(TrackedModel):
    """A stop rule fired: the capability's pending releases are held until a risk approver lifts it."""

    capability = models.ForeignKey(
        "portfolio.Capability", on_delete=models.CASCADE, related_name="stop_holds"
    )
    signal = models.ForeignKey(Signal, on_delete=models.PROTECT, related_name="stop_holds")
    reason = models.TextField(_("reason"))
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("stop hold")
        constraints = [
            models.UniqueConstraint(
                fields=["signal"], condition=models.Q(lifted_at__isnull=True), name="one_hold_per_signal"
            )
        ]

    def __str__(self):
        return f"{self.capability}: {self.reason[:60]}"


class ImportJob(models.Model):
    """A CSV of observations being ingested in the background, with its progress for the page."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    capability = models.ForeignKey("portfolio.Capability", on_delete=models.CASCADE, related_name="+")
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    written_rows = models.PositiveIntegerField(_("rows written"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
