"""The incident-to-roadmap loop (playbook 15).

An incident is recorded in the 15.2 template, contained, explained by its root causes, corrected
by actions in the register and closed only once it left something behind on the roadmap: a
backlog item, a release calendar or metric contract update, an eval or a policy/SOP change. Its
severity (15.1) says what must happen before it closes.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.choices import (
    COMPLAINT_ROOT_CAUSES,
    FORUM_SEVERITIES,
    MOVE_LABELS,
    MOVES,
    TRANSITIONS,
    ComplaintSignal,
    IncidentSeverity,
    IncidentSource,
    IncidentState,
    LearningKind,
    RootCauseClass,
)
from incidents.querysets import IncidentQuerySet
from productops.errors import DomainError, TransitionNotAllowed
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel
from productops.permissions import require_change
from productops.roles import Activity
from productops.transitions import check_transition, lock

_S = IncidentState

STATE_BADGES = {
    _S.REPORTED: "text-bg-danger",
    _S.CONTAINED: "text-bg-warning",
    _S.ROOT_CAUSE_FOUND: "text-bg-info",
    _S.CORRECTIVE_ACTIONS_AGREED: "text-bg-primary",
    _S.LEARNING_RECORDED: "text-bg-secondary",
    _S.CLOSED: "text-bg-success",
}


def _text(value) -> str:
    return (value or "").strip()


class Incident(ReadableIdModel, TrackedModel):
    """One AI product incident record (playbook 15.2)."""

    READABLE_ID_PREFIX = "INC"
    READABLE_ID_DIGITS = 4

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("capability"),
    )
    title = models.CharField(_("title"), max_length=300)
    source = models.CharField(_("source"), max_length=20, choices=IncidentSource.choices)
    occurred_on = models.DateField(_("date"))
    severity = models.CharField(_("severity"), max_length=4, choices=IncidentSeverity.choices, db_index=True)
    complaint_signal = models.CharField(
        _("complaint signal"),
        max_length=24,
        choices=ComplaintSignal.choices,
        blank=True,
        help_text=_("Complaint-sourced incidents only: how the complaint is classified (15.3)."),
    )
    affected_population = models.TextField(_("affected population"), blank=True)
    affected_releases = models.ManyToManyField(
        "releases.Release", blank=True, related_name="+", verbose_name=_("affected versions")
    )
    affected_versions = models.TextField(_("affected versions (other)"), blank=True)
    impact_customer = models.TextField(_("customer impact"), blank=True)
    impact_operations = models.TextField(_("operations impact"), blank=True)
    impact_risk = models.TextField(_("risk / compliance impact"), blank=True)
    impact_cost = models.TextField(_("cost / capacity impact"), blank=True)
    # Containment
    immediate_action = models.TextField(_("immediate action"), blank=True)
    rollback_release = models.ForeignKey(
        "releases.Release",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("release rolled back"),
    )
    restriction = models.TextField(_("restriction"), blank=True)
    communication = models.TextField(_("communication"), blank=True)
    contained_at = models.DateTimeField(_("contained"), null=True, blank=True, editable=False)
    state = models.CharField(
        _("state"), max_length=28, choices=IncidentState.choices, default=_S.REPORTED, db_index=True
    )
    # Incident amnesia: the earlier incident of the capability with the same root-cause class.
    recurrence_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recurrences",
        verbose_name=_("recurrence of"),
    )
    is_recurrence = models.BooleanField(_("recurrence"), default=False, db_index=True)
    # Review in the incident review forum (Sev1/Sev2): a forum session once forums exist, or text.
    forum_content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    forum_object_id = models.PositiveBigIntegerField(null=True, blank=True)
    reviewed_in_forum = GenericForeignKey("forum_content_type", "forum_object_id")
    forum_review_note = models.TextField(_("forum review"), blank=True)
    forum_reviewed_on = models.DateField(_("reviewed in forum on"), null=True, blank=True)
    # Sev4: watchlist with a sample size.
    on_watchlist = models.BooleanField(_("on watchlist"), default=False)
    watchlist_sample_size = models.PositiveIntegerField(_("watchlist sample size"), null=True, blank=True)
    next_review_on = models.DateField(_("next review"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["severity", "occurred_on", "id"]
        indexes = [models.Index(fields=["capability", "state", "severity"], name="incident_cap_state_sev")]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="incident_has_title"),
            models.CheckConstraint(
                condition=Q(complaint_signal="") | Q(source="complaint"),
                name="incident_signal_only_complaint",
            ),
        ]

    def __str__(self):
        return f"{self.readable_id} {self.title}"

    def get_absolute_url(self):
        return reverse("incidents:incident-detail", kwargs={"readable_id": self.readable_id})

    @property
    def state_badge(self) -> str:
        return STATE_BADGES.get(self.state, "text-bg-light")

    @property
    def is_open(self) -> bool:
        return self.state != _S.CLOSED

    @property
    def age_days(self) -> int:
        return (timezone.localdate() - self.occurred_on).days

    @property
    def needs_forum_review(self) -> bool:
        return self.severity in FORUM_SEVERITIES

    @property
    def is_contained(self) -> bool:
        return self.contained_at is not None

    def suggested_root_causes(self) -> list[tuple[str, str, str]]:
        """15.3: the root-cause classes a complaint signal points to, as (class, class label, aspect)."""
        labels = dict(RootCauseClass.choices)
        return [
            (cause, str(labels[cause]), str(aspect))
            for cause, aspect in COMPLAINT_ROOT_CAUSES.get(self.complaint_signal, [])
        ]

    def corrective_actions(self):
        """The actions in the register this incident raised (source = this incident)."""
        from actions.models import Action

        return Action.objects.filter(
            source_content_type=ContentType.objects.get_for_model(Incident), source_object_id=self.pk
        )

    # --- rules ------------------------------------------------------------------------------

    def check_move(self, move: str, by) -> None:
        target = MOVES[move].get(self.state)
        if target is None:
            raise TransitionNotAllowed(
                gettext("“%(move)s” is not possible while the incident is %(state)s.")
                % {"move": MOVE_LABELS[move], "state": self.get_state_display().lower()}
            )
        if target != self.state:
            check_transition(TRANSITIONS, self.state, target, choices=IncidentState)
        if move != "contain":
            self.require_contained()
        if by is not None:
            require_change(by, Activity.INCIDENT_LEARNING, self.capability_id)

    def require_contained(self) -> None:
        """Sev1: containment (rollback or restriction) before anything else (15.1)."""
        if self.severity == IncidentSeverity.SEV1 and not self.is_contained:
            raise TransitionNotAllowed(
                gettext(
                    "A Sev1 incident is contained first: record the rollback or restriction before "
                    "anything else."
                ),
                field="containment",
            )

    def require_open(self) -> None:
        if self.state == _S.CLOSED:
            raise TransitionNotAllowed(gettext("The incident is closed."))

    def allowed_moves(self, user) -> list[str]:
        allowed = []
        for move in MOVES:
            try:
                self.check_move(move, user)
            except (DomainError, PermissionDenied):
                continue
            allowed.append(move)
        return allowed

    def close_blockers(self) -> list[str]:
        """What still stands between the incident and its closure (shown on the page too)."""
        blockers = []
        if not self.learning_items.exists():
            blockers.append(
                gettext(
                    "An incident closes only once it created or updated at least one learning item "
                    "(backlog item, metric contract, eval, process or policy item)."
                )
            )
        open_actions = list(
            self.corrective_actions().exclude(status="closed").values_list("readable_id", flat=True)
        )
        if open_actions:
            blockers.append(
                gettext("Corrective actions are not closed with verified evidence: %(ids)s.")
                % {"ids": ", ".join(open_actions)}
            )
        if self.needs_forum_review and not self.forum_reviewed_on:
            blockers.append(
                gettext("A Sev1 or Sev2 incident is reviewed in the incident review forum first.")
            )
        if (
            self.severity == IncidentSeverity.SEV3
            and not self.learning_items.filter(kind=LearningKind.BACKLOG_ITEM).exists()
        ):
            blockers.append(gettext("A Sev3 incident needs a backlog item."))
        if self.severity == IncidentSeverity.SEV4 and not (self.on_watchlist and self.watchlist_sample_size):
            blockers.append(gettext("A Sev4 incident goes to the watchlist with a sample size."))
        return blockers

    # --- the moves --------------------------------------------------------------------------

    def _locked(self) -> "Incident":
        return lock(self)

    def _sync_from(self, other: "Incident") -> None:
        for field in self._meta.concrete_fields:
            setattr(self, field.attname, getattr(other, field.attname))

    def _save(self, by, reason: str) -> None:
        self._history_user = by
        self._change_reason = reason
        self.save()

    @transaction.atomic
    def contain(
        self,
        *,
        by,
        immediate_action: str,
        rollback_release=None,
        rollback_reason: str = "",
        restriction: str = "",
        communication: str = "",
    ) -> None:
        """Record containment. A rollback is the release calendar's own rollback: the release is
        rolled back (its version set restored) and linked here."""
        row = self._locked()
        row.check_move("contain", by)
        action = _text(immediate_action)
        if not action:
            raise DomainError(
                gettext("Say what was done at once to contain the incident."), field="immediate_action"
            )
        restriction = _text(restriction)
        if row.severity == IncidentSeverity.SEV1 and rollback_release is None and not restriction:
            raise DomainError(
                gettext("A Sev1 incident is contained by a rollback or a restriction: give one."),
                field="restriction",
            )
        if rollback_release is not None:
            if rollback_release.capability_id != row.capability_id:
                raise DomainError(
                    gettext("Choose a release of this incident's capability."), field="rollback_release"
                )
            if rollback_release.state != "rolled_back":
                rollback_release.rollback(
                    by=by,
                    reason=_text(rollback_reason)
                    or gettext("%(id)s: %(action)s") % {"id": row.readable_id, "action": action},
                )
            row.rollback_release = rollback_release
            row.affected_releases.add(rollback_release)
        row.immediate_action = action
        row.restriction = restriction
        row.communication = _text(communication)
        row.contained_at = timezone.now()
        row.state = _S.CONTAINED
        row._save(by, gettext("Contained"))
        self._sync_from(row)

    @transaction.atomic
    def record_root_causes(self, *, by, causes) -> None:
        """Record root causes, one row per class with notes; several may apply. A class given
        again replaces its notes. A recurrence is looked for once the classes are known."""
        row = self._locked()
        row.check_move("record_root_causes", by)
        causes = [(cause, _text(notes)) for cause, notes in causes or []]
        if not causes:
            raise DomainError(gettext("Name at least one root-cause class."), field="causes")
        for cause, notes in causes:
            if cause not in RootCauseClass.values:
                raise DomainError(gettext("Choose a root-cause class of 15.2."), field="causes")
            RootCause.objects.update_or_create(incident=row, cause_class=cause, defaults={"notes": notes})
        row.state = _S.ROOT_CAUSE_FOUND
        row.detect_recurrence()
        row._save(by, gettext("Root causes recorded"))
        self._sync_from(row)

    def detect_recurrence(self) -> None:
        """Flag and link the most recent earlier incident of the capability sharing a root-cause
        class ("incident amnesia"). Saves nothing: the caller saves."""
        if self.is_recurrence or self.pk is None:
            return
        classes = list(self.root_causes.values_list("cause_class", flat=True))
        if not classes:
            return
        earlier = (
            Incident.objects.filter(capability_id=self.capability_id, root_causes__cause_class__in=classes)
            .filter(Q(occurred_on__lt=self.occurred_on) | Q(occurred_on=self.occurred_on, pk__lt=self.pk))
            .exclude(pk=self.pk)
            .order_by("-occurred_on", "-pk")
            .first()
        )
        if earlier is not None:
            self.is_recurrence = True
            self.recurrence_of = earlier

    @transaction.atomic
    def agree_corrective_actions(self, *, by) -> None:
        row = self._locked()
        row.check_move("agree_corrective_actions", by)
        actions = row.corrective_actions().filter(reopen_trigger__isnull=False).exclude(closure_criterion="")
        if not actions.exists():
            raise DomainError(
                gettext(
                    "Corrective actions are agreed once at least one has a closure criterion and a reopen trigger."
                ),
                field="corrective_actions",
            )
        row.state = _S.CORRECTIVE_ACTIONS_AGREED
        row._save(by, gettext("Corrective actions agreed"))
        from decisions.services import decision_record

        if by is not None:
            # Logged by the system: incident learning and the decision log have different keepers.
            decision_record(
                capability=row.capability,
                by=None,
                type="incident_corrective_action_acceptance",
                decision=gettext("%(id)s: corrective actions agreed (%(ids)s).")
                % {"id": row.readable_id, "ids": ", ".join(actions.values_list("readable_id", flat=True))},
                owner=by,
                evidence=[row, *actions],
            )
        self._sync_from(row)

    @transaction.atomic
    def record_learning(self, *, by, next_review_on=None) -> None:
        row = self._locked()
        row.check_move("record_learning", by)
        if not row.learning_items.exists():
            raise DomainError(
                gettext(
                    "Add at least one learning item (backlog, release, metric contract, eval or policy)."
                ),
                field="learning_items",
            )
        row.next_review_on = next_review_on or row.next_review_on
        row.state = _S.LEARNING_RECORDED
        row._save(by, gettext("Learning recorded"))
        self._sync_from(row)

    @transaction.atomic
    def close(self, *, by) -> None:
        """Close the incident; refused while anything of close_blockers() stands."""
        row = self._locked()
        row.check_move("close", by)
        blockers = row.close_blockers()
        if blockers:
            raise DomainError(" ".join(blockers), field="state", code="close_blocked")
        row.state = _S.CLOSED
        row.closed_at = timezone.now()
        row._save(by, gettext("Closed"))
        self._sync_from(row)

    @transaction.atomic
    def record_forum_review(self, *, by, reviewed_on, note: str = "", forum=None) -> None:
        """Record the review in the incident review forum (a session, or a note until forums exist)."""
        row = self._locked()
        row.require_open()
        row.require_contained()
        if by is not None:
            require_change(by, Activity.INCIDENT_LEARNING, row.capability_id)
        if reviewed_on is None:
            raise DomainError(gettext("Give the date of the forum review."), field="reviewed_on")
        note = _text(note)
        if forum is None and not note:
            raise DomainError(gettext("Say which forum session reviewed the incident."), field="note")
        if forum is not None:
            row.reviewed_in_forum = forum
        row.forum_review_note = note
        row.forum_reviewed_on = reviewed_on
        row._save(by, gettext("Reviewed in the incident review forum"))
        self._sync_from(row)

    @transaction.atomic
    def set_watchlist(self, *, by, sample_size) -> None:
        """Sev4: sample, classify, watchlist (15.1)."""
        row = self._locked()
        row.require_open()
        if by is not None:
            require_change(by, Activity.INCIDENT_LEARNING, row.capability_id)
        if not sample_size or sample_size < 1:
            raise DomainError(gettext("A watchlist entry needs a sample size."), field="sample_size")
        try:  # the column's own bounds (a sample past 2,147,483,647 does not fit)
            self._meta.get_field("watchlist_sample_size").run_validators(sample_size)
        except ValidationError as error:
            raise DomainError(error.messages[0], field="sample_size") from error
        row.on_watchlist = True
        row.watchlist_sample_size = sample_size
        row._save(by, gettext("Put on the watchlist"))
        self._sync_from(row)


class RootCause(models.Model):
    """One root-cause class of an incident, with notes (15.2); several may apply."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="root_causes")
    cause_class = models.CharField(_("root-cause class"), max_length=16, choices=RootCauseClass.choices)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "cause_class"], name="root_cause_one_per_class")
        ]

    def __str__(self):
        return self.get_cause_class_display()


class LearningItem(models.Model):
    """Roadmap impact: what the incident created or updated (15.2 "Roadmap Impact")."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="learning_items")
    kind = models.CharField(_("kind"), max_length=20, choices=LearningKind.choices)
    record_content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    record_object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("record_content_type", "record_object_id")
    text = models.TextField(_("what changed"), blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("learning item")
        verbose_name_plural = _("learning items")
        ordering = ["id"]
        indexes = [models.Index(fields=["record_content_type", "record_object_id"], name="learning_record")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.record or self.text}"
