"""The action closure register (playbook 7.4 and 21.2).

An action is accepted only with an owner, a due date and a closure criterion, and it closes
only with proof: the owner submits closure evidence and a reviewer who is not the owner
verifies it or sends it back. A structured reopen trigger says when a closure no longer holds.
"""

import os
import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from actions.choices import (
    ESCALATABLE,
    EVIDENCE_EXTENSIONS,
    EVIDENCE_MAX_BYTES,
    MOVE_LABELS,
    MOVES,
    TRANSITIONS,
    ActionStatus,
    Comparison,
    EvidenceVerdict,
    SourceKind,
    TriggerKind,
)
from actions.querysets import ActionQuerySet
from productops.errors import DomainError, TransitionNotAllowed
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel
from productops.notifications import notify
from productops.permissions import can_view, require_change, roles_of
from productops.roles import Activity, accountable_roles
from productops.transitions import check_transition, lock
from productops.uploads import EvidenceFileValidator


class MoveNotPermitted(DomainError):
    """The person may work on actions here, but this move is not theirs to make (an owner
    verifying their own evidence, someone else submitting the owner's)."""

    status_code = 403

    def __init__(self, message, *, field: str | None = None, code: str = "move_not_permitted"):
        super().__init__(message, field=field, code=code)


validate_evidence_file = EvidenceFileValidator(EVIDENCE_EXTENSIONS, EVIDENCE_MAX_BYTES)


def evidence_upload_to(instance, filename: str) -> str:
    # A random part keeps two uploads of "qa-sample.csv" apart and makes paths unguessable.
    return f"actions/evidence/{instance.action.readable_id}/{uuid.uuid4().hex[:12]}-{get_valid_filename(filename)}"


def _required_text(value, field: str, message) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(message, field=field)
    return text


STATUS_BADGES = {
    ActionStatus.OPEN: "text-bg-primary",
    ActionStatus.IN_PROGRESS: "text-bg-info",
    ActionStatus.BLOCKED: "text-bg-warning",
    ActionStatus.AWAITING_VERIFICATION: "text-bg-secondary",
    ActionStatus.CLOSED: "text-bg-success",
    ActionStatus.REOPENED: "text-bg-danger",
}


class Action(ReadableIdModel, TrackedModel):
    """One row of the action closure register: what must be done, by whom, by when, and what
    evidence will prove it done (playbook 21.2). It knows what raised it only by a generic link."""

    READABLE_ID_PREFIX = "ACT"
    READABLE_ID_DIGITS = 4

    capability = models.ForeignKey(
        "portfolio.Capability", on_delete=models.PROTECT, related_name="actions", verbose_name=_("capability")
    )
    source_kind = models.CharField(
        _("source"), max_length=20, choices=SourceKind.choices, default=SourceKind.OTHER
    )
    source_content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source type"),
    )
    source_object_id = models.PositiveBigIntegerField(_("source record"), null=True, blank=True)
    source = GenericForeignKey("source_content_type", "source_object_id")
    source_signal = models.TextField(
        _("source signal"),
        blank=True,
        help_text=_("What was seen, e.g. “contact-centre repeat contact up 8% in billing calls”."),
    )
    action = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_actions",
        verbose_name=_("owner"),
    )
    due_date = models.DateField(_("due date"))
    closure_criterion = models.TextField(
        _("closure criterion"), help_text=_("What evidence will prove the action done.")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions_to_review",
        verbose_name=_("reviewer"),
        help_text=_("Verifies the closure evidence; never the owner. Empty: the capability's AI PM."),
    )
    status = models.CharField(
        _("status"), max_length=24, choices=ActionStatus.choices, default=ActionStatus.OPEN, db_index=True
    )
    blocked_reason = models.TextField(_("blocked because"), blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_actions",
        verbose_name=_("escalated to"),
    )
    escalation_reason = models.TextField(_("escalation reason"), blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    forum_content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("forum type"),
    )
    forum_object_id = models.PositiveBigIntegerField(_("forum record"), null=True, blank=True)
    forum = GenericForeignKey("forum_content_type", "forum_object_id")
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    times_reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0, editable=False)

    objects = ActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="action_owner_status"),
            models.Index(fields=["capability", "status", "due_date"], name="action_capability_status_due"),
            models.Index(fields=["source_content_type", "source_object_id"], name="action_source"),
            models.Index(fields=["forum_content_type", "forum_object_id"], name="action_forum"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reviewer__isnull=True) | ~Q(reviewer=F("owner")),
                name="action_reviewer_is_not_owner",
            ),
            models.CheckConstraint(condition=~Q(closure_criterion=""), name="action_has_closure_criterion"),
            models.CheckConstraint(
                condition=~Q(status="blocked") | ~Q(blocked_reason=""), name="action_blocked_has_reason"
            ),
        ]

    def __str__(self):
        return f"{self.readable_id} {self.action}"

    def get_absolute_url(self):
        return reverse("actions:action-detail", kwargs={"readable_id": self.readable_id})

    @property
    def is_open(self) -> bool:
        return self.status != ActionStatus.CLOSED

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.status, "text-bg-light")

    # --- who may make which move ----------------------------------------------------------

    def _wrong_state(self, move: str) -> TransitionNotAllowed:
        state = self.get_status_display().lower()
        if move in ("verify", "send_back") and self.status == ActionStatus.CLOSED:
            # Most often a lost race: another reviewer verified it a moment before.
            return TransitionNotAllowed(
                gettext("This action is already closed: its closure evidence was verified.")
            )
        if move == "verify":
            return TransitionNotAllowed(
                gettext(
                    "This action is %(state)s: it closes only when the owner has submitted closure "
                    "evidence and a reviewer verifies it."
                )
                % {"state": state}
            )
        return TransitionNotAllowed(
            gettext("“%(move)s” is not possible while the action is %(state)s.")
            % {"move": MOVE_LABELS[move], "state": state}
        )

    def check_move(self, move: str, by) -> None:
        """Raise unless ``by`` may make ``move`` now: the state first, then the person.

        ``by=None`` is the system (a scheduled job): only the state is checked.
        """
        if move == "escalate":
            if self.status not in ESCALATABLE:
                raise TransitionNotAllowed(gettext("A closed action is not escalated: reopen it first."))
        else:
            target = MOVES[move].get(self.status)
            if target is None:
                raise self._wrong_state(move)
            check_transition(TRANSITIONS, self.status, target, choices=ActionStatus)
        if by is None:
            return
        require_change(by, Activity.ACTION_CLOSURE, self.capability_id)
        if move == "submit_evidence" and by.pk != self.owner_id:
            raise MoveNotPermitted(
                gettext("Only the action's owner submits its closure evidence."), field="owner"
            )
        if move in ("verify", "send_back"):
            self._check_reviewer(by)

    def _check_reviewer(self, by) -> None:
        """A reviewer who is not the owner: the named reviewer, or the capability's accountable
        role (AI PM) when none is named or to stand in for them."""
        if by.pk == self.owner_id:
            raise MoveNotPermitted(
                gettext(
                    "You own this action: a reviewer who is not the owner verifies its closure evidence."
                ),
                field="reviewer",
            )
        if self.reviewer_id is not None and by.pk == self.reviewer_id:
            return
        if by.is_superuser or roles_of(by, self.capability_id) & accountable_roles(Activity.ACTION_CLOSURE):
            return
        if self.reviewer_id is not None:
            raise MoveNotPermitted(
                gettext("Only the named reviewer or the capability's AI PM verifies this action."),
                field="reviewer",
            )
        raise MoveNotPermitted(
            gettext("No reviewer is named: the capability's AI PM verifies this action."), field="reviewer"
        )

    def allowed_moves(self, user) -> list[str]:
        """The moves this person may make now (the buttons on the page; the server still checks)."""
        allowed = []
        for move in [*MOVES, "escalate"]:
            try:
                self.check_move(move, user)
            except (DomainError, PermissionDenied):
                continue
            allowed.append(move)
        return allowed

    # --- the moves ------------------------------------------------------------------------

    def _locked(self) -> "Action":
        return lock(self)

    def _sync_from(self, other: "Action") -> None:
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

    def _move(self, move: str, by, reason: str, **changes) -> None:
        self.status = MOVES[move][self.status]
        for name, value in changes.items():
            setattr(self, name, value)
        self._record(by, reason)

    def _notify(self, recipients, subject: str, body: str) -> None:
        notify(recipients=recipients, subject=subject, body=body, url=self.get_absolute_url())

    @transaction.atomic
    def start(self, *, by) -> None:
        action = self._locked()
        action.check_move("start", by)
        action._move("start", by, gettext("Work started"))
        self._sync_from(action)

    @transaction.atomic
    def block(self, *, by, reason: str) -> None:
        action = self._locked()
        action.check_move("block", by)
        reason = _required_text(reason, "reason", gettext("Say what blocks the action."))
        action._move("block", by, gettext("Blocked: %(reason)s") % {"reason": reason}, blocked_reason=reason)
        self._sync_from(action)

    @transaction.atomic
    def unblock(self, *, by) -> None:
        action = self._locked()
        action.check_move("unblock", by)
        action._move("unblock", by, gettext("Unblocked"), blocked_reason="")
        self._sync_from(action)

    @transaction.atomic
    def submit_evidence(self, *, by, text: str, link: str = "", file=None) -> "ClosureEvidence":
        """The owner says it is done and shows the proof; the action awaits a reviewer."""
        action = self._locked()
        action.check_move("submit_evidence", by)
        text = _required_text(
            text, "text", gettext("Closure evidence needs a description of what shows the criterion is met.")
        )
        link = (link or "").strip()
        if link:
            try:
                URLValidator()(link)
            except ValidationError as error:
                raise DomainError(gettext("Enter a valid link (https://…)."), field="link") from error
        if file:
            try:
                validate_evidence_file(file)
            except ValidationError as error:
                raise DomainError(error.messages[0], field="file") from error
        evidence = ClosureEvidence(action=action, text=text, link=link, submitted_by=by)
        if file:
            evidence.file = file
        evidence.save()
        action._move("submit_evidence", by, gettext("Closure evidence submitted"))
        self._sync_from(action)
        action._notify(
            action.verifiers(),
            gettext("%(id)s awaits your verification") % {"id": action.readable_id},
            gettext(
                "%(owner)s submitted closure evidence for “%(action)s”.\n\nClosure criterion: %(criterion)s"
            )
            % {
                "owner": by or gettext("The system"),
                "action": action.action,
                "criterion": action.closure_criterion,
            },
        )
        return evidence

    def verifiers(self) -> list:
        """Who is told that evidence awaits verification: the reviewer, or the accountable PMs."""
        if self.reviewer_id is not None:
            return [self.reviewer]
        from productops.models import RoleAssignment

        roles = accountable_roles(Activity.ACTION_CLOSURE)
        return [
            assignment.user
            for assignment in RoleAssignment.objects.filter(capability_id=self.capability_id, role__in=roles)
            .exclude(user_id=self.owner_id)
            .select_related("user")
        ]

    def _pending_evidence(self) -> "ClosureEvidence":
        evidence = (
            self.evidence.filter(verdict=EvidenceVerdict.PENDING).order_by("-submitted_at", "-id").first()
        )
        if evidence is None:
            raise DomainError(
                gettext("There is no closure evidence to review: the owner submits it first."),
                field="evidence",
            )
        return evidence

    @transaction.atomic
    def verify(self, *, by, comment: str = "") -> None:
        """A reviewer who is not the owner accepts the evidence: the action is closed."""
        action = self._locked()
        action.check_move("verify", by)
        evidence = action._pending_evidence()
        now = timezone.now()
        comment = (comment or "").strip()
        evidence.verdict = EvidenceVerdict.ACCEPTED
        evidence.reviewed_by = by
        evidence.reviewed_at = now
        evidence.review_comment = comment
        evidence.save()
        reason = gettext("Closure verified")
        if comment:
            reason = f"{reason}: {comment}"
        action._move("verify", by, reason, closed_at=now)
        self._sync_from(action)
        action._notify(
            [action.owner],
            gettext("%(id)s closed") % {"id": action.readable_id},
            gettext("%(reviewer)s verified your closure evidence for “%(action)s”.")
            % {"reviewer": by or gettext("The system"), "action": action.action},
        )

    @transaction.atomic
    def send_back(self, *, by, comment: str) -> None:
        """The reviewer finds the evidence short of the criterion: work resumes."""
        action = self._locked()
        action.check_move("send_back", by)
        comment = _required_text(
            comment, "comment", gettext("Say why the evidence does not meet the closure criterion.")
        )
        evidence = action._pending_evidence()
        evidence.verdict = EvidenceVerdict.SENT_BACK
        evidence.reviewed_by = by
        evidence.reviewed_at = timezone.now()
        evidence.review_comment = comment
        evidence.save()
        action._move("send_back", by, gettext("Evidence sent back: %(comment)s") % {"comment": comment})
        self._sync_from(action)
        action._notify(
            [action.owner],
            gettext("%(id)s: closure evidence sent back") % {"id": action.readable_id},
            gettext("%(reviewer)s sent back your evidence for “%(action)s”:\n\n%(comment)s")
            % {"reviewer": by or gettext("The system"), "action": action.action, "comment": comment},
        )

    @transaction.atomic
    def reopen(self, *, by, reason: str, by_trigger: bool = False) -> "Reopening":
        """The closure did not hold. The earlier evidence and its verdict stay on the record."""
        action = self._locked()
        action.check_move("reopen", by)
        reason = _required_text(reason, "reason", gettext("Say why the action is reopened."))
        reopening = Reopening.objects.create(
            action=action, reopened_by=by, reason=reason, by_trigger=by_trigger
        )
        action._move(
            "reopen",
            by,
            gettext("Reopened: %(reason)s") % {"reason": reason},
            closed_at=None,
            times_reopened=action.times_reopened + 1,
        )
        self._sync_from(action)
        action._notify(
            [action.owner, action.reviewer],
            gettext("%(id)s reopened") % {"id": action.readable_id},
            gettext("“%(action)s” was reopened: %(reason)s") % {"action": action.action, "reason": reason},
        )
        return reopening

    @transaction.atomic
    def escalate(self, *, by, to, reason: str) -> None:
        """Ask someone with more authority to unblock or decide; the state does not change."""
        action = self._locked()
        action.check_move("escalate", by)
        if to is None:
            raise DomainError(gettext("Choose the person to escalate to."), field="to")
        if not can_view(to, action.capability_id):
            raise DomainError(
                gettext("%(person)s holds no role on this capability.") % {"person": to}, field="to"
            )
        reason = _required_text(reason, "reason", gettext("Say why the action is escalated."))
        action.escalated_to = to
        action.escalation_reason = reason
        action.escalated_at = timezone.now()
        action._record(by, gettext("Escalated to %(person)s: %(reason)s") % {"person": to, "reason": reason})
        self._sync_from(action)
        action._notify(
            [to],
            gettext("%(id)s escalated to you") % {"id": action.readable_id},
            gettext("%(by)s escalated “%(action)s” (owner %(owner)s, due %(due)s):\n\n%(reason)s")
            % {
                "by": by or gettext("The system"),
                "action": action.action,
                "owner": action.owner,
                "due": action.due_date.isoformat(),
                "reason": reason,
            },
        )

    @transaction.atomic
    def bring_due_date_forward(self, *, by, due_date, reason: str) -> bool:
        """Make the action due sooner because what raised it got worse (a threshold signal went
        from warning to breach). Never later, never on a closed action; the history row says why.
        The caller tells the owner (it knows what worsened). False when nothing changed."""
        action = self._locked()
        if action.status not in ESCALATABLE or due_date >= action.due_date:
            return False
        if by is not None:
            require_change(by, Activity.ACTION_CLOSURE, action.capability_id)
        reason = _required_text(reason, "reason", gettext("Say why the due date is brought forward."))
        previous = action.due_date
        action.due_date = due_date
        action._record(
            by,
            gettext("Due date brought forward from %(old)s to %(new)s: %(reason)s")
            % {"old": previous.isoformat(), "new": due_date.isoformat(), "reason": reason},
        )
        self._sync_from(action)
        return True


class ClosureEvidence(models.Model):
    """What the owner shows to prove the closure criterion is met, and the reviewer's verdict.

    Rows are never deleted: a reopened action keeps the evidence its earlier closure rested on.
    """

    action = models.ForeignKey(
        Action, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("action")
    )
    text = models.TextField(_("evidence"))
    link = models.URLField(_("link"), max_length=500, blank=True)
    file = models.FileField(
        _("file"),
        upload_to=evidence_upload_to,
        max_length=300,
        blank=True,
        validators=[validate_evidence_file],
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    verdict = models.CharField(
        _("verdict"), max_length=16, choices=EvidenceVerdict.choices, default=EvidenceVerdict.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        verbose_name = _("closure evidence")
        verbose_name_plural = _("closure evidence")
        ordering = ["-submitted_at", "-id"]

    def __str__(self):
        return f"{self.action.readable_id}: {self.text[:60]}"

    @property
    def filename(self) -> str:
        if not self.file:
            return ""
        # Drop the random prefix evidence_upload_to added.
        return os.path.basename(self.file.name).split("-", 1)[-1]

    def get_file_url(self) -> str:
        return reverse(
            "actions:evidence-file", kwargs={"readable_id": self.action.readable_id, "evidence_id": self.pk}
        )


metric_id_validator = RegexValidator(
    r"^[a-z0-9_]+(\.[a-z0-9_]+)+$",
    _("A metric contract id looks like “cc_agent_assist.repeat_contact_7d”."),
)


class ReopenTrigger(models.Model):
    """When a closure no longer holds (playbook 7.4 "reopen_trigger"), structured so a job can
    evaluate it: a metric contract staying at or above (or below) a level for N consecutive
    periods after closure — evaluated by the contracts job — or a re-check date."""

    action = models.OneToOneField(
        Action, on_delete=models.CASCADE, related_name="reopen_trigger", verbose_name=_("action")
    )
    kind = models.CharField(_("trigger"), max_length=16, choices=TriggerKind.choices)
    contract_metric_id = models.CharField(
        _("metric contract"),
        max_length=120,
        blank=True,
        validators=[metric_id_validator],
        help_text=_("The contract's metric id, e.g. cc_agent_assist.repeat_contact_7d."),
    )
    comparison = models.CharField(_("comparison"), max_length=12, choices=Comparison.choices, blank=True)
    level = models.DecimalField(_("level"), max_digits=14, decimal_places=4, null=True, blank=True)
    periods = models.PositiveSmallIntegerField(_("consecutive periods"), null=True, blank=True)
    recheck_on = models.DateField(_("re-check on"), null=True, blank=True)
    fired_at = models.DateTimeField(_("fired"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reopen trigger")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="contract_level")
                | (~Q(contract_metric_id="") & Q(level__isnull=False) & Q(periods__gt=0) & ~Q(comparison="")),
                name="reopen_trigger_contract_complete",
            ),
            models.CheckConstraint(
                condition=~Q(kind="recheck_date") | Q(recheck_on__isnull=False),
                name="reopen_trigger_date_complete",
            ),
        ]

    def __str__(self):
        return self.describe()

    def describe(self) -> str:
        if self.kind == TriggerKind.RECHECK_DATE:
            return gettext("Re-check on %(date)s") % {"date": self.recheck_on}
        return gettext(
            "%(metric)s %(comparison)s %(level)s for %(periods)s consecutive periods after closure"
        ) % {
            "metric": self.contract_metric_id,
            "comparison": self.get_comparison_display(),
            "level": self.level.normalize() if self.level is not None else "?",
            "periods": self.periods,
        }

    def clean(self):
        """A trigger a job can evaluate: every part its kind needs, nothing of the other kind."""
        errors = {}
        required = _("Required for this kind of trigger.")
        if self.kind == TriggerKind.CONTRACT_LEVEL:
            if not self.contract_metric_id:
                errors["contract_metric_id"] = required
            if not self.comparison:
                errors["comparison"] = required
            if self.level is None:
                errors["level"] = required
            if not self.periods:
                errors["periods"] = _("Give the number of consecutive periods (1 or more).")
            if self.recheck_on is not None:
                errors["recheck_on"] = _("A contract trigger has no re-check date.")
        elif self.kind == TriggerKind.RECHECK_DATE:
            if self.recheck_on is None:
                errors["recheck_on"] = required
            for name in ("contract_metric_id", "comparison", "level", "periods"):
                if getattr(self, name) not in (None, ""):
                    errors[name] = _("A re-check date trigger has no contract level.")
        if errors:
            raise ValidationError(errors)


class Reopening(models.Model):
    """One time a closed action was reopened: why, and by whom or by which trigger."""

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="reopenings", verbose_name=_("action")
    )
    reopened_at = models.DateTimeField(_("reopened"), default=timezone.now)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reopened by"),
    )
    reason = models.TextField(_("reason"))
    by_trigger = models.BooleanField(_("by the reopen trigger"), default=False)

    class Meta:
        verbose_name = _("reopening")
        ordering = ["-reopened_at", "-id"]

    def __str__(self):
        return f"{self.action.readable_id}: {self.reason[:60]}"
