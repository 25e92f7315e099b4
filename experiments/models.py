"""The experiment registry (playbook 13): a hypothesis tested on a population with a treatment
against a control or baseline, judged on a primary metric contract and held by guardrail
contracts, read out from the telemetry's arm tags and decided in the experiment review."""

import re

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from experiments.choices import (
    MOVE_LABELS,
    MOVES,
    TRANSITIONS,
    ExperimentDecision,
    ExperimentState,
)
from experiments.querysets import ExperimentQuerySet
from productops.errors import DomainError, TransitionNotAllowed
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel
from productops.permissions import require_change
from productops.roles import Activity
from productops.transitions import check_transition, lock

# The version-set key that tags an observation's arm: a plain name, because it becomes a JSON key
# the readout looks up.
ARM_KEY = re.compile(r"^[a-z][a-z0-9_]*$")

STATE_BADGES = {
    ExperimentState.PROPOSED: "text-bg-secondary",
    ExperimentState.RUNNING: "text-bg-primary",
    ExperimentState.READOUT: "text-bg-warning",
    ExperimentState.DECIDED: "text-bg-success",
}


class Experiment(ReadableIdModel, TrackedModel):
    """One row of the experiment registry (playbook 13.1): hypothesis, population, treatment,
    control or baseline, primary metric, guardrails, duration, owner, result and decision, and the
    assumption it tests. The readout is computed from observations whose version set tags the arm
    (``{"arm": "treatment"}``); deciding freezes it here and writes the decision log."""

    READABLE_ID_PREFIX = "EXP"
    READABLE_ID_DIGITS = 3

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="experiments",
        verbose_name=_("capability"),
    )
    title = models.CharField(_("title"), max_length=200, help_text=_("A short name people use in the forum."))
    hypothesis = models.TextField(
        _("hypothesis"), help_text=_("What the treatment should change, for whom, and why.")
    )
    population = models.TextField(
        _("population"), help_text=_("Who is in the experiment, and how they are split.")
    )
    treatment = models.TextField(_("treatment"))
    control_or_baseline = models.TextField(_("control or baseline"))
    primary_metric = models.ForeignKey(
        "contracts.MetricContract",
        on_delete=models.PROTECT,
        related_name="primary_for_experiments",
        verbose_name=_("primary metric"),
    )
    guardrails = models.ManyToManyField(
        "contracts.MetricContract",
        blank=True,
        related_name="guarding_experiments",
        verbose_name=_("guardrails"),
    )
    start_date = models.DateField(_("start"))
    planned_end_date = models.DateField(_("planned end"))
    ended_on = models.DateField(
        _("ended"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The last day the readout counts: set when the readout begins."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_experiments",
        verbose_name=_("owner"),
    )
    arm_key = models.CharField(
        _("arm tag"),
        max_length=40,
        default="arm",
        help_text=_("The version-set key that tags an observation's arm, e.g. arm."),
    )
    treatment_value = models.CharField(_("treatment tag"), max_length=80, default="treatment")
    control_value = models.CharField(_("control tag"), max_length=80, default="control")
    tested_assumption = models.ForeignKey(
        "assumptions.Assumption",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="experiments",
        verbose_name=_("tested assumption"),
    )
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=ExperimentState.choices,
        default=ExperimentState.PROPOSED,
        db_index=True,
        editable=False,
    )
    result = models.TextField(_("result"), blank=True, editable=False)
    decision = models.CharField(
        _("decision"), max_length=12, choices=ExperimentDecision.choices, blank=True, editable=False
    )
    decision_comment = models.TextField(_("decision comment"), blank=True, editable=False)
    # The readout as the experiment review saw it when it decided: telemetry restated later does
    # not rewrite what the decision rested on.
    readout_snapshot = models.JSONField(_("readout at decision"), default=dict, blank=True, editable=False)
    decision_record = models.ForeignKey(
        "decisions.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("decision log entry"),
    )
    assumption_review = models.ForeignKey(
        "assumptions.AssumptionReview",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("assumption review"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("decided by"),
    )

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["capability", "state"], name="experiment_capability_state")]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end_date__gt=F("start_date")), name="experiment_ends_after_it_starts"
            ),
            models.CheckConstraint(
                condition=~Q(treatment_value=F("control_value")), name="experiment_arms_differ"
            ),
            models.CheckConstraint(
                condition=(Q(state="decided") & ~Q(decision="")) | (~Q(state="decided") & Q(decision="")),
                name="experiment_decided_has_decision",
            ),
        ]

    def __str__(self):
        return f"{self.readable_id} {self.title}"

    def get_absolute_url(self):
        return reverse("experiments:experiment-detail", kwargs={"readable_id": self.readable_id})

    @property
    def state_badge(self) -> str:
        return STATE_BADGES.get(self.state, "text-bg-light")

    @property
    def is_decided(self) -> bool:
        return self.state == ExperimentState.DECIDED

    def window(self, today=None) -> tuple:
        """The days the readout counts: from the start to the end of the readout (or the planned
        end, or today while it runs, whichever comes first)."""
        if self.ended_on is not None:
            return self.start_date, self.ended_on
        today = today or timezone.localdate()
        return self.start_date, min(self.planned_end_date, today)

    # --- who may make which move ----------------------------------------------------------

    def check_move(self, move: str, by) -> None:
        """Raise unless ``by`` may make ``move`` now: the state first, then the person.

        Deciding writes the decision log and, when the experiment tests an assumption, an
        assumption review: the person needs A or R on those registers too.
        """
        target = MOVES[move].get(self.state)
        if target is None:
            raise TransitionNotAllowed(
                gettext("“%(move)s” is not possible while the experiment is in %(state)s.")
                % {"move": MOVE_LABELS[move], "state": self.get_state_display().lower()}
            )
        check_transition(TRANSITIONS, self.state, target, choices=ExperimentState)
        if by is None:
            return
        require_change(by, Activity.EXPERIMENT_REGISTRY, self.capability_id)
        if move == "decide":
            require_change(by, Activity.DECISION_LOG, self.capability_id)
            if self.tested_assumption_id is not None:
                require_change(by, Activity.ASSUMPTION_LEDGER, self.capability_id)

    def allowed_moves(self, user) -> list[str]:
        """The moves this person may make now (the buttons on the page; the server still checks)."""
        allowed = []
        for move in MOVES:
            try:
                self.check_move(move, user)
            except (DomainError, PermissionDenied):
                continue
            allowed.append(move)
        return allowed

    # --- the moves ------------------------------------------------------------------------

    def _sync_from(self, other: "Experiment") -> None:
        """Make this instance show what the locked copy saved (callers keep their object)."""
        for field in self._meta.concrete_fields:
            value = getattr(other, field.attname)
            if field.is_relation and field.is_cached(self) and getattr(self, field.attname) != value:
                field.delete_cached_value(self)
            setattr(self, field.attname, value)

    def _record(self, by, reason: str) -> None:
        """Save with the history row saying who (None: the system) and why."""
        self._history_user = by
        self._change_reason = str(reason)[:2000]
        self.save()

    @transaction.atomic
    def start(self, *, by) -> None:
        """The treatment goes live for the population: observations tagged with the arm count from
        the start date."""
        experiment = lock(self)
        experiment.check_move("start", by)
        today = timezone.localdate()
        if experiment.start_date > today:
            raise DomainError(
                gettext("It starts on %(date)s: move the start date to today to start it now.")
                % {"date": experiment.start_date.isoformat()},
                field="start_date",
            )
        experiment.state = ExperimentState.RUNNING
        experiment._record(by, gettext("Experiment started"))
        self._sync_from(experiment)

    @transaction.atomic
    def begin_readout(self, *, by) -> None:
        """The experiment stops collecting: the readout counts the days up to its planned end, or
        up to today when it is read out early."""
        experiment = lock(self)
        experiment.check_move("begin_readout", by)
        experiment.ended_on = min(experiment.planned_end_date, timezone.localdate())
        experiment.state = ExperimentState.READOUT
        experiment._record(
            by, gettext("Readout begun (data up to %(date)s)") % {"date": experiment.ended_on.isoformat()}
        )
        self._sync_from(experiment)

    @transaction.atomic
    def extend(self, *, by, planned_end_date) -> None:
        """A readout with too little data runs longer: back to running with a later planned end."""
        experiment = lock(self)
        experiment.check_move("extend", by)
        if planned_end_date is None or planned_end_date <= timezone.localdate():
            raise DomainError(gettext("Give a new planned end after today."), field="planned_end_date")
        experiment.planned_end_date = planned_end_date
        experiment.ended_on = None
        experiment.state = ExperimentState.RUNNING
        experiment._record(by, gettext("Extended to %(date)s") % {"date": planned_end_date.isoformat()})
        self._sync_from(experiment)

    def decide(
        self, *, by, decision: str, comment: str, assumption_status=None, assumption_evidence: str = ""
    ) -> None:
        """The experiment review decides: see ``experiments.services.experiment_decide``."""
        from experiments.services import experiment_decide

        experiment_decide(
            experiment=self,
            by=by,
            decision=decision,
            comment=comment,
            assumption_status=assumption_status,
            assumption_evidence=assumption_evidence,
        )
