"""The release calendar (playbook 12): every change to a model, prompt, data, knowledge, tool,
policy, workflow or dashboard of a capability, with the evidence its object type requires, the
approvals it needs, its deployment, and its post-release impact review (21.3).

A release moves only through its model methods (``submit``, ``approve``, ``deploy`` ...): each
checks the state machine and the person, locks the row, and writes a history row. The page, the
API, the jobs and the demo all call them.
"""

import datetime
import os
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portfolio.choices import RiskTier
from productops.errors import DomainError, TransitionNotAllowed
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel
from productops.notifications import notify
from productops.permissions import can_change, require_change, roles_of
from productops.roles import Activity, Role
from productops.transitions import check_transition, lock
from productops.uploads import EvidenceFileValidator
from releases.choices import (
    APPROVED_STATES,
    APPROVER_ROLES,
    APPROVING_VERDICTS,
    ASSUMPTION_OBJECT_TYPES,
    ATTESTABLE_STATES,
    ATTESTER_ROLES,
    DEFAULT_IMPACT_PERIODS,
    DUAL_CONTROL_TYPES,
    EDITABLE_STATES,
    EVIDENCE_EXTENSIONS,
    EVIDENCE_LABELS,
    EVIDENCE_MAX_BYTES,
    IMPACT_DECISION_TYPES,
    MOVE_LABELS,
    MOVES,
    PENDING_STATES,
    REVIEWER_ROLES,
    RISK_APPROVAL_TIERS,
    ROLLBACK_ROLES,
    TRANSITIONS,
    ApprovalScope,
    DeployTarget,
    ImpactDecision,
    ObjectType,
    ReleaseState,
    Verdict,
)
from releases.querysets import ReleaseQuerySet
from webhooks.choices import EventType
from webhooks.events import absolute_url, emit

_S = ReleaseState


class MoveNotPermitted(DomainError):
    """The person may work on releases here, but this move is not theirs to make: an owner
    approving their own release, the same approver approving twice, a non-risk approver
    completing a high-risk release's approval."""

    status_code = 403

    def __init__(self, message, *, field: str | None = None, code: str = "move_not_permitted"):
        super().__init__(message, field=field, code=code)


class ReleaseHeld(DomainError):
    """A stop rule holds the capability's pending releases until Risk / Compliance lifts it."""

    status_code = 409

    def __init__(self, message, *, field: str | None = "stop_hold", code: str = "stop_hold"):
        super().__init__(message, field=field, code=code)


validate_evidence_file = EvidenceFileValidator(EVIDENCE_EXTENSIONS, EVIDENCE_MAX_BYTES)


def evidence_upload_to(instance, filename: str) -> str:
    # A random part keeps two uploads of "eval.pdf" apart and makes paths unguessable.
    return (
        f"releases/evidence/{instance.release.readable_id}/"
        f"{uuid.uuid4().hex[:12]}-{get_valid_filename(filename)}"
    )


def _required_text(value, field: str, message) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        raise DomainError(message, field=field)
    return text


def _day(on: datetime.date | None, field: str) -> datetime.date:
    """The day a move happened: today unless recorded after the fact, never in the future."""
    today = timezone.localdate()
    if on is None:
        return today
    if on > today:
        raise DomainError(gettext("This cannot be dated in the future."), field=field)
    return on


def _moment(day: datetime.date) -> datetime.datetime:
    """Now, or noon of a past day a move is recorded for."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def _has_role(user, capability_id, roles) -> bool:
    if user is None or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or roles_of(user, capability_id) & roles)


STATE_BADGES = {
    _S.DRAFT: "text-bg-light",
    _S.SUBMITTED: "text-bg-primary",
    _S.APPROVED: "text-bg-success",
    _S.APPROVED_FOR_CANARY: "text-bg-info",
    _S.ON_HOLD: "text-bg-warning",
    _S.CHANGES_REQUESTED: "text-bg-warning",
    _S.REJECTED: "text-bg-dark",
    _S.CANARY: "text-bg-info",
    _S.RELEASED: "text-bg-success",
    _S.ROLLED_BACK: "text-bg-danger",
    _S.IMPACT_REVIEWED: "text-bg-secondary",
}


class Release(ReadableIdModel, TrackedModel):
    """One row of the release calendar (playbook 12.2): what changes on which capability, from
    which version to which, for whom, at what risk, with which evidence, canary and rollback plan,
    who owns it, when its post-release impact review is due, and the decisions it led to."""

    READABLE_ID_PREFIX = "REL"
    READABLE_ID_DIGITS = 3

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("capability"),
    )
    planned_date = models.DateField(_("planned date"))
    deployed_date = models.DateField(_("deployed date"), null=True, blank=True, editable=False)
    object_type = models.CharField(_("object type"), max_length=16, choices=ObjectType.choices)
    change = models.CharField(
        _("change"),
        max_length=300,
        help_text=_("What changes, e.g. “shorter, policy-cited billing suggestions”."),
    )
    version_from = models.CharField(_("version from"), max_length=80, blank=True)
    version_to = models.CharField(_("version to"), max_length=80)
    affected_population = models.TextField(
        _("affected population"),
        blank=True,
        help_text=_("Who sees the change: intents, teams, channels, share of traffic."),
    )
    risk_tier = models.CharField(_("risk tier"), max_length=16, choices=RiskTier.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_releases",
        verbose_name=_("owner"),
    )
    canary_plan = models.TextField(_("canary plan"), blank=True)
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    post_release_review_date = models.DateField(_("post-release review date"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=24, choices=ReleaseState.choices, default=ReleaseState.DRAFT, db_index=True
    )
    # How far the current round's approvals let it go; reset by a hold or a request for changes.
    approval_scope = models.CharField(
        _("approved for"), max_length=8, choices=ApprovalScope.choices, default="", blank=True, editable=False
    )
    # Each submission opens a new round: approvals of an earlier round do not count any more.
    approval_round = models.PositiveSmallIntegerField(_("approval round"), default=0, editable=False)
    rolled_back_date = models.DateField(_("rolled back"), null=True, blank=True, editable=False)
    rollback_reason = models.TextField(_("rollback reason"), blank=True, editable=False)
    # The decision log entries this release led to (approval, rollback, impact review decision).
    decisions = models.ManyToManyField(
        "decisions.Decision", blank=True, related_name="+", verbose_name=_("decision log")
    )
    review_reminder_sent_for = models.DateField(null=True, blank=True, editable=False)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-planned_date", "-id"]
        indexes = [
            models.Index(fields=["capability", "planned_date"], name="release_capability_planned"),
            models.Index(fields=["deployed_date"], name="release_deployed"),
            models.Index(fields=["post_release_review_date"], name="release_review_date"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(version_to=""), name="release_has_version_to"),
            models.CheckConstraint(condition=~Q(change=""), name="release_has_change"),
        ]

    def __str__(self):
        return f"{self.readable_id} {self.change}"

    def readable_id_prefix(self) -> str:
        return f"{self.READABLE_ID_PREFIX}-{timezone.localdate().year}"

    def get_absolute_url(self):
        return reverse("releases:release-detail", kwargs={"readable_id": self.readable_id})

    @property
    def state_badge(self) -> str:
        return STATE_BADGES.get(self.state, "text-bg-light")

    @property
    def version_change(self) -> str:
        return f"{self.version_from or '—'} → {self.version_to}"

    @property
    def is_pending_deployment(self) -> bool:
        """Submitted, on hold or approved, not deployed: what a stop rule holds."""
        return self.state in PENDING_STATES | APPROVED_STATES

    @property
    def needs_risk_approver(self) -> bool:
        return self.risk_tier in RISK_APPROVAL_TIERS

    @property
    def approvers_required(self) -> int:
        return 2 if self.object_type in DUAL_CONTROL_TYPES else 1

    def review_due(self, today: datetime.date | None = None) -> bool:
        """At or after the review date, deployed and not yet reviewed: it asks for its review."""
        today = today or timezone.localdate()
        return (
            self.state in (_S.CANARY, _S.RELEASED)
            and self.post_release_review_date is not None
            and self.post_release_review_date <= today
        )

    def current_approvals(self) -> list["ReleaseApproval"]:
        """The approving verdicts of the current round (since the last submission)."""
        return list(
            self.approvals.filter(round=self.approval_round, verdict__in=APPROVING_VERDICTS).select_related(
                "approver"
            )
        )

    def open_evidence(self) -> list["EvidenceItem"]:
        return [item for item in self.evidence_items.all() if not item.is_attested]

    def stop_holds(self):
        """The stop holds nobody has lifted yet on the release's capability."""
        from contracts.models import StopHold

        return StopHold.objects.filter(
            capability_id=self.capability_id, lifted_at__isnull=True
        ).select_related("signal__contract")

    # --- who may make which move ----------------------------------------------------------

    def _wrong_state(self, move: str) -> TransitionNotAllowed:
        return TransitionNotAllowed(
            gettext("“%(move)s” is not possible while the release is %(state)s.")
            % {"move": MOVE_LABELS[move], "state": self.get_state_display().lower()},
            field="state",
        )

    def check_move(self, move: str, by) -> None:
        """Raise unless ``by`` may make ``move`` now: the state first, then the person.

        ``by=None`` is the system (a job): only the state is checked. An approval verdict always
        needs a person.
        """
        if self.state not in MOVES[move]:
            raise self._wrong_state(move)
        if move == "approve" and self.state == _S.CANARY and self.approval_scope != ApprovalScope.CANARY:
            raise TransitionNotAllowed(gettext("This canary already has its full approval."), field="state")
        if move in ("approve", "approve_for_canary", "hold", "request_changes", "reject"):
            self._check_approver(by, move)
            return
        if by is None:
            return
        if move in ("submit", "deploy"):
            require_change(by, Activity.RELEASE_CALENDAR, self.capability_id)
        elif move == "rollback" and not _has_role(by, self.capability_id, ROLLBACK_ROLES):
            raise PermissionDenied(
                gettext(
                    "Only the release calendar's keepers, the AI PM or Risk / Compliance roll a release back."
                )
            )
        elif move == "record_impact_review" and not _has_role(by, self.capability_id, REVIEWER_ROLES):
            raise PermissionDenied(
                gettext(
                    "Only the release calendar's keepers or the AI PM record a post-release impact review."
                )
            )

    def _check_approver(self, by, move: str) -> None:
        if by is None:
            raise PermissionDenied(gettext("An approval verdict is given by a person."))
        if not _has_role(by, self.capability_id, APPROVER_ROLES):
            raise PermissionDenied(
                gettext("Your roles on %(capability)s do not let you approve or hold its releases.")
                % {"capability": self.capability}
            )
        if by.pk == self.owner_id:
            raise MoveNotPermitted(
                gettext("You own this release: its approval comes from someone else."), field="approver"
            )
        if move in ("approve", "approve_for_canary"):
            given = self.approvals.filter(
                round=self.approval_round, approver=by, verdict__in=[Verdict.APPROVE, move]
            ).exists()
            if given:
                raise MoveNotPermitted(
                    gettext(
                        "You have already approved this release: the next approval comes from a different person."
                    ),
                    field="approver",
                )

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

    def may_edit(self, user) -> bool:
        return self.state in EDITABLE_STATES and can_change(
            user, Activity.RELEASE_CALENDAR, self.capability_id
        )

    def may_attest(self, user) -> bool:
        return self.state in ATTESTABLE_STATES and _has_role(user, self.capability_id, ATTESTER_ROLES)

    # --- the moves ------------------------------------------------------------------------

    def _locked(self) -> "Release":
        return lock(self)

    def _sync_from(self, other: "Release") -> None:
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

    def _go(self, target: str, by, reason: str, **changes) -> None:
        check_transition(TRANSITIONS, self.state, target, choices=ReleaseState)
        self.state = target
        for name, value in changes.items():
            setattr(self, name, value)
        self._record(by, reason)

    def _notify(self, recipients, subject: str, body: str) -> None:
        notify(recipients=recipients, subject=subject, body=body, url=self.get_absolute_url())

    def approvers(self) -> list:
        """Who is asked for a verdict when the release is submitted: the capability's risk
        partners and the other approver roles there, never the owner."""
        from productops.models import RoleAssignment

        rows = (
            RoleAssignment.objects.filter(role__in=APPROVER_ROLES)
            .filter(Q(capability_id=self.capability_id) | Q(capability__isnull=True))
            .exclude(user_id=self.owner_id)
            .select_related("user")
        )
        return [row.user for row in rows if row.user.is_active]

    def _check_ready(self) -> None:
        """What every submission and approval needs: a rollback plan and a review date."""
        if not (self.rollback_plan or "").strip():
            raise DomainError(
                gettext("A release needs a rollback plan before it goes for approval."), field="rollback_plan"
            )
        if self.post_release_review_date is None:
            raise DomainError(
                gettext("Every release has a post-release impact review date (playbook 12.3)."),
                field="post_release_review_date",
            )

    def _check_approvable(self) -> None:
        """No approval while evidence is open or a stop rule holds the capability."""
        self._check_ready()
        missing = self.open_evidence()
        if missing:
            raise DomainError(
                gettext("Evidence still open: %(items)s. Each item is attested with a link or a file first.")
                % {"items": ", ".join(str(item.label) for item in missing)},
                field="evidence",
            )
        from contracts.services import capability_held

        if capability_held(self.capability):
            hold = self.stop_holds().first()
            raise ReleaseHeld(
                gettext(
                    "A stop rule holds the releases of %(capability)s (%(reason)s). Risk / Compliance "
                    "lifts the hold on the signal's page before a release is approved."
                )
                % {"capability": self.capability, "reason": hold.reason if hold else ""}
            )

    @transaction.atomic
    def submit(self, *, by) -> None:
        """Put the release in front of its approvers; a new approval round starts."""
        release = self._locked()
        release.check_move("submit", by)
        release._check_ready()
        if release.planned_date and release.post_release_review_date < release.planned_date:
            raise DomainError(
                gettext("The post-release review date cannot be before the planned date."),
                field="post_release_review_date",
            )
        release._go(
            _S.SUBMITTED,
            by,
            gettext("Submitted for approval"),
            approval_round=release.approval_round + 1,
            approval_scope=ApprovalScope.NONE,
        )
        self._sync_from(release)
        release._notify(
            release.approvers(),
            gettext("%(id)s awaits your approval") % {"id": release.readable_id},
            gettext(
                "%(owner)s submitted %(id)s on %(capability)s: %(change)s (%(type)s %(versions)s, risk %(tier)s)."
            )
            % {
                "owner": by or release.owner,
                "id": release.readable_id,
                "capability": release.capability,
                "change": release.change,
                "type": release.get_object_type_display().lower(),
                "versions": release.version_change,
                "tier": release.get_risk_tier_display().lower(),
            },
        )
        # One event per approval round: a resubmission after "changes requested" is announced again.
        emit(
            event_type=EventType.RELEASE_AWAITING_APPROVAL,
            key=f"release.awaiting_approval:{release.pk}:round-{release.approval_round}",
            data=lambda: release.webhook_data(submitted_by=by),
        )

    def webhook_data(self, *, submitted_by=None) -> dict:
        """What the "release awaiting approval" webhook says: the release, what it changes, its
        risk, who submitted it, how many approvers it needs and the link to approve it."""
        return {
            "release": {
                "id": self.readable_id,
                "change": self.change,
                "object_type": self.object_type,
                "version_from": self.version_from,
                "version_to": self.version_to,
                "risk_tier": self.risk_tier,
                "planned_date": str(self.planned_date) if self.planned_date else None,
                "approval_round": self.approval_round,
                "approvers_required": self.approvers_required,
                "needs_risk_approver": self.needs_risk_approver,
                "url": absolute_url(self.get_absolute_url()),
            },
            "capability": {"slug": self.capability.slug, "name": self.capability.name},
            "owner": self.owner.get_username(),
            "submitted_by": submitted_by.get_username() if submitted_by is not None else None,
        }

    def _verdict_row(self, by, verdict: str, comment: str, when) -> "ReleaseApproval":
        return ReleaseApproval.objects.create(
            release=self,
            approver=by,
            verdict=verdict,
            comment=comment,
            round=self.approval_round,
            as_risk=Role.RISK_COMPLIANCE in roles_of(by, self.capability_id),
            decided_at=when,
        )

    def approval_progress(self, approvals=None) -> dict:
        """Where the current round stands: distinct approvers (full and canary), whether Risk /
        Compliance is among them, and which scope that reaches."""
        approvals = self.current_approvals() if approvals is None else approvals
        full = {a.approver_id for a in approvals if a.verdict == Verdict.APPROVE}
        any_scope = {a.approver_id for a in approvals}
        risk_full = any(a.as_risk for a in approvals if a.verdict == Verdict.APPROVE)
        risk_any = any(a.as_risk for a in approvals)
        required = self.approvers_required
        needs_risk = self.needs_risk_approver
        return {
            "required": required,
            "given": len(any_scope),
            "needs_risk": needs_risk,
            "has_risk": risk_any,
            "full": len(full) >= required and (not needs_risk or risk_full),
            "canary": len(any_scope) >= required and (not needs_risk or risk_any),
        }

    def _approve(self, move: str, *, by, comment: str, on) -> "ReleaseApproval":
        release = self._locked()
        release.check_move(move, by)
        comment = _required_text(
            comment, "comment", gettext("An approval verdict always comes with a comment.")
        )
        release._check_approvable()
        day = _day(on, "on")
        is_risk = Role.RISK_COMPLIANCE in roles_of(by, release.capability_id)
        prior = release.current_approvals()
        pending = ReleaseApproval(approver=by, verdict=move, as_risk=is_risk)
        progress = release.approval_progress([*prior, pending])
        if progress["given"] >= progress["required"] and progress["needs_risk"] and not progress["has_risk"]:
            raise MoveNotPermitted(
                gettext(
                    "This release is %(tier)s risk: its approval needs an approver holding Risk / Compliance "
                    "on %(capability)s."
                )
                % {"tier": release.get_risk_tier_display().lower(), "capability": release.capability},
                field="approver",
            )
        approval = release._verdict_row(by, move, comment, _moment(day))
        full = progress["full"] and move == Verdict.APPROVE
        if release.state == _S.CANARY:
            target, scope = (_S.CANARY, ApprovalScope.FULL) if full else (None, None)
        elif full:
            target, scope = _S.APPROVED, ApprovalScope.FULL
        elif progress["canary"]:
            target, scope = _S.APPROVED_FOR_CANARY, ApprovalScope.CANARY
        else:
            target, scope = None, None
        names = {"person": by, "comment": comment}
        if target is None:
            reason = gettext(
                "%(verdict)s by %(person)s (%(given)s of %(required)s approvers): waiting for a second approver. %(comment)s"
            ) % {**names, "verdict": Verdict(move).label, **progress}
            if progress["given"] >= progress["required"]:
                reason = gettext("%(verdict)s by %(person)s: waiting for a full approval. %(comment)s") % {
                    **names,
                    "verdict": Verdict(move).label,
                }
            release._record(by, reason)
            self._sync_from(release)
            return approval
        if target == release.state:
            release.approval_scope = scope
            release._record(by, gettext("Approved for full release by %(person)s: %(comment)s") % names)
        else:
            label = (
                gettext("Approved by %(person)s: %(comment)s")
                if scope == ApprovalScope.FULL
                else gettext("Approved for canary only by %(person)s: %(comment)s")
            )
            release._go(target, by, label % names, approval_scope=scope)
        decision = release._log_approval(by, scope, day)
        approval.decision = decision
        approval.save(update_fields=["decision"])
        self._sync_from(release)
        release._notify(
            [release.owner],
            gettext("%(id)s approved") % {"id": release.readable_id}
            if scope == ApprovalScope.FULL
            else gettext("%(id)s approved for canary") % {"id": release.readable_id},
            gettext("%(person)s approved %(id)s (%(scope)s):\n\n%(comment)s")
            % {**names, "id": release.readable_id, "scope": ApprovalScope(scope).label.lower()},
        )
        return approval

    def _decision_recorder(self, by):
        """Who the decision log names as recorder: the person when their roles let them write the
        log, else the system (Risk / Compliance is only consulted on the decision log, yet the
        approval is theirs to give: they are named as the decision's owner)."""
        if by is not None and can_change(by, Activity.DECISION_LOG, self.capability_id):
            return by
        return None

    def _log(self, *, by, type: str, decision: str, day, details: dict, owner=None, review_date=None):
        from decisions.services import decision_record

        record = decision_record(
            capability=self.capability,
            by=self._decision_recorder(by),
            type=type,
            decision=decision,
            owner=owner or by or self.owner,
            evidence=[self],
            review_trigger=gettext("The release's post-release impact review"),
            review_date=review_date,
            decided_on=day,
            details={"release": self.readable_id, **details},
        )
        self.decisions.add(record)
        return record

    def _log_approval(self, by, scope: str, day):
        approvals = self.current_approvals()
        names = ", ".join(sorted({str(a.approver) for a in approvals}))
        review = self.post_release_review_date
        return self._log(
            by=by,
            type="release_approval",
            decision=gettext(
                "%(id)s approved (%(scope)s): %(type)s %(versions)s on %(capability)s — %(change)s. Approvers: %(names)s."
            )
            % {
                "id": self.readable_id,
                "scope": ApprovalScope(scope).label.lower(),
                "type": self.get_object_type_display().lower(),
                "versions": self.version_change,
                "capability": self.capability,
                "change": self.change,
                "names": names,
            },
            day=day,
            review_date=review if review and review >= day else None,
            details={
                "scope": scope,
                "object_type": self.object_type,
                "version_from": self.version_from,
                "version_to": self.version_to,
                "risk_tier": self.risk_tier,
                "approvals": [
                    {
                        "approver": a.approver.get_username(),
                        "verdict": a.verdict,
                        "as_risk": a.as_risk,
                        "comment": a.comment,
                    }
                    for a in approvals
                ],
            },
        )

    @transaction.atomic
    def approve(self, *, by, comment: str, on: datetime.date | None = None) -> "ReleaseApproval":
        """An approver who is not the owner approves the release with a comment. It is approved
        once the required approvers have (two distinct ones for a tool change; one holding Risk /
        Compliance for high and critical risk tiers); until then it waits for the next one.
        Refused while evidence is open or a stop rule holds the capability."""
        return self._approve(Verdict.APPROVE, by=by, comment=comment, on=on)

    @transaction.atomic
    def approve_for_canary(self, *, by, comment: str, on: datetime.date | None = None) -> "ReleaseApproval":
        """Approve a canary only: the release may go to its canary population, not to everyone."""
        return self._approve(Verdict.APPROVE_FOR_CANARY, by=by, comment=comment, on=on)

    def _stop(self, move: str, target: str, *, by, comment: str, on, reason, subject) -> "ReleaseApproval":
        release = self._locked()
        release.check_move(move, by)
        comment = _required_text(
            comment, "comment", gettext("An approval verdict always comes with a comment.")
        )
        day = _day(on, "on")
        approval = release._verdict_row(by, move, comment, _moment(day))
        release._go(
            target, by, reason % {"person": by, "comment": comment}, approval_scope=ApprovalScope.NONE
        )
        self._sync_from(release)
        release._notify(
            [release.owner],
            subject % {"id": release.readable_id},
            gettext("%(person)s on %(id)s:\n\n%(comment)s")
            % {"person": by, "id": release.readable_id, "comment": comment},
        )
        return approval

    @transaction.atomic
    def hold(self, *, by, comment: str, on: datetime.date | None = None) -> "ReleaseApproval":
        """An approver holds the release: not now. Approved releases lose their approval scope."""
        return self._stop(
            "hold",
            _S.ON_HOLD,
            by=by,
            comment=comment,
            on=on,
            reason=gettext("Held by %(person)s: %(comment)s"),
            subject=gettext("%(id)s is on hold"),
        )

    @transaction.atomic
    def request_changes(self, *, by, comment: str, on: datetime.date | None = None) -> "ReleaseApproval":
        """An approver sends the release back to its owner; a new submission starts a new round."""
        return self._stop(
            "request_changes",
            _S.CHANGES_REQUESTED,
            by=by,
            comment=comment,
            on=on,
            reason=gettext("Changes requested by %(person)s: %(comment)s"),
            subject=gettext("%(id)s: changes requested"),
        )

    @transaction.atomic
    def reject(self, *, by, comment: str, on: datetime.date | None = None) -> "ReleaseApproval":
        """An approver rejects the release; it stays on the calendar as rejected."""
        return self._stop(
            "reject",
            _S.REJECTED,
            by=by,
            comment=comment,
            on=on,
            reason=gettext("Rejected by %(person)s: %(comment)s"),
            subject=gettext("%(id)s rejected"),
        )

    @transaction.atomic
    def deploy(self, *, by, to: str = DeployTarget.RELEASED, on: datetime.date | None = None) -> None:
        """Record the deployment: to its canary population or to everyone, on ``on`` (today by
        default). The first deployment sets the deployed date and puts ``version_to`` in the
        capability's current version set; the assumptions resting on the object type expire."""
        release = self._locked()
        release.check_move("deploy", by)
        if to not in DeployTarget.values:
            raise DomainError(gettext("Deploy to the canary or to everyone."), field="to")
        if release.state == _S.APPROVED_FOR_CANARY and to != DeployTarget.CANARY:
            raise TransitionNotAllowed(
                gettext("This release is approved for canary only: an approver's full approval comes first."),
                field="to",
            )
        if release.state == _S.CANARY and to != DeployTarget.RELEASED:
            raise TransitionNotAllowed(gettext("The release is already in canary."), field="to")
        if release.state == _S.CANARY and release.approval_scope != ApprovalScope.FULL:
            raise TransitionNotAllowed(
                gettext("The canary is approved for canary only: an approver's full approval comes first."),
                field="to",
            )
        from contracts.services import capability_held

        if capability_held(release.capability):
            raise ReleaseHeld(
                gettext(
                    "A stop rule holds the releases of %(capability)s: nothing deploys until Risk / "
                    "Compliance lifts the hold."
                )
                % {"capability": release.capability}
            )
        day = _day(on, "deployed_date")
        first = release.deployed_date is None
        target = _S.CANARY if to == DeployTarget.CANARY else _S.RELEASED
        if first:
            reason = (
                gettext("Deployed to canary on %(date)s")
                if target == _S.CANARY
                else gettext("Released on %(date)s")
            ) % {"date": day.isoformat()}
            release._go(target, by, reason, deployed_date=day)
            release._follow_version(
                by, release.version_to, reason=gettext("%(id)s deployed") % {"id": release.readable_id}
            )
        else:
            release._go(target, by, gettext("Released to everyone on %(date)s") % {"date": day.isoformat()})
        self._sync_from(release)
        if by is None or by.pk != release.owner_id:
            release._notify(
                [release.owner],
                gettext("%(id)s deployed") % {"id": release.readable_id},
                gettext("%(id)s is %(state)s since %(date)s.")
                % {
                    "id": release.readable_id,
                    "state": release.get_state_display().lower(),
                    "date": day.isoformat(),
                },
            )

    def _follow_version(self, by, version: str, *, reason: str) -> None:
        """The capability's current version set follows the release; assumptions resting on the
        object type expire."""
        from releases.services import capability_version_set_apply

        capability_version_set_apply(
            capability=self.capability, object_type=self.object_type, version=version, by=by, reason=reason
        )
        if self.object_type in ASSUMPTION_OBJECT_TYPES:
            from assumptions.services import assumptions_expire_for_release

            assumptions_expire_for_release(
                capability=self.capability,
                object_type=self.object_type,
                reason=gettext("%(reason)s: %(type)s %(versions)s (%(change)s).")
                % {
                    "reason": reason,
                    "type": self.get_object_type_display().lower(),
                    "versions": self.version_change,
                    "change": self.change,
                },
                source=self,
            )

    @transaction.atomic
    def rollback(self, *, by, reason: str, on: datetime.date | None = None):
        """Take a live release back: the capability's version set returns to ``version_from``,
        the reason is recorded, and a "rollback" decision goes into the decision log."""
        release = self._locked()
        release.check_move("rollback", by)
        reason = _required_text(reason, "reason", gettext("Say why the release is rolled back."))
        day = _day(on, "on")
        current = (release.capability.current_version_set or {}).get(release.object_type)
        if current is not None and current != release.version_to:
            raise DomainError(
                gettext(
                    "The capability's %(type)s is now %(current)s, not %(version)s: a later release "
                    "changed it. Roll that release back first."
                )
                % {
                    "type": release.get_object_type_display().lower(),
                    "current": current,
                    "version": release.version_to,
                },
                field="version_to",
            )
        release._go(
            _S.ROLLED_BACK,
            by,
            gettext("Rolled back on %(date)s: %(reason)s") % {"date": day.isoformat(), "reason": reason},
            rolled_back_date=day,
            rollback_reason=reason,
        )
        release._follow_version(
            by, release.version_from, reason=gettext("%(id)s rolled back") % {"id": release.readable_id}
        )
        decision = release._log(
            by=by,
            type="rollback",
            decision=gettext("%(id)s rolled back: %(type)s back to %(version)s on %(capability)s. %(reason)s")
            % {
                "id": release.readable_id,
                "type": release.get_object_type_display().lower(),
                "version": release.version_from or "—",
                "capability": release.capability,
                "reason": reason,
            },
            day=day,
            details={
                "object_type": release.object_type,
                "restored_version": release.version_from,
                "withdrawn_version": release.version_to,
                "reason": reason,
            },
        )
        self._sync_from(release)
        approvers = [a.approver for a in release.current_approvals()]
        release._notify(
            [release.owner, *approvers],
            gettext("%(id)s rolled back") % {"id": release.readable_id},
            gettext("%(person)s rolled back %(id)s (%(decision)s):\n\n%(reason)s")
            % {
                "person": by or gettext("The system"),
                "id": release.readable_id,
                "decision": decision.readable_id,
                "reason": reason,
            },
        )
        return decision

    @transaction.atomic
    def record_impact_review(
        self,
        *,
        by,
        expected_effect: str,
        decision: str,
        comment: str,
        periods: int | None = None,
        next_review_date: datetime.date | None = None,
        on: datetime.date | None = None,
    ) -> "ImpactReview":
        """The post-release impact review (playbook 21.3): the observed effect is computed from
        the capability's contracts around the deployed date (``impact_figures``), the reviewer
        adds the expected effect, the decision and a comment. Keep and hotfix leave the release
        impact reviewed; extend canary keeps the canary to a new review date; rollback rolls it
        back. The decision goes into the decision log."""
        from releases.services import impact_figures

        release = self._locked()
        release.check_move("record_impact_review", by)
        expected_effect = _required_text(
            expected_effect, "expected_effect", gettext("Say what effect the release was expected to have.")
        )
        comment = _required_text(comment, "comment", gettext("Say what the review found."))
        if decision not in ImpactDecision.values:
            raise DomainError(gettext("Choose the review's decision."), field="decision")
        day = _day(on, "on")
        if decision == ImpactDecision.EXTEND_CANARY:
            if release.state != _S.CANARY:
                raise TransitionNotAllowed(
                    gettext("Only a canary is extended: this release is %(state)s.")
                    % {"state": release.get_state_display().lower()},
                    field="decision",
                )
            if next_review_date is None or next_review_date <= day:
                raise DomainError(
                    gettext("An extended canary needs its next review date, after today."),
                    field="next_review_date",
                )
        figures = impact_figures(release, periods=periods or DEFAULT_IMPACT_PERIODS)
        review = ImpactReview.objects.create(
            release=release,
            reviewer=by,
            reviewed_at=_moment(day),
            periods=figures["periods"],
            expected_effect=expected_effect,
            decision=decision,
            comment=comment,
            figures=figures,
            regressions=figures["regressions"],
        )
        summary = gettext("Impact review of %(id)s: %(decision)s. %(comment)s") % {
            "id": release.readable_id,
            "decision": ImpactDecision(decision).label.lower(),
            "comment": comment,
        }
        if decision == ImpactDecision.ROLLBACK:
            record = release.rollback(by=by, reason=summary, on=on)
            self._sync_from(release)
        else:
            if decision == ImpactDecision.EXTEND_CANARY:
                release.post_release_review_date = next_review_date
                release.review_reminder_sent_for = None
                release._record(
                    by,
                    gettext("Impact review: canary extended, next review on %(date)s. %(comment)s")
                    % {"date": next_review_date.isoformat(), "comment": comment},
                )
            else:
                release._go(_S.IMPACT_REVIEWED, by, summary)
            record = release._log(
                by=by,
                type=IMPACT_DECISION_TYPES[decision],
                decision=summary,
                day=day,
                review_date=next_review_date,
                details={
                    "impact_review": review.pk,
                    "decision": decision,
                    "expected_effect": expected_effect,
                    "regressions": figures["regressions"],
                    "periods": figures["periods"],
                },
            )
            self._sync_from(release)
        review.decision_record = record
        review.save(update_fields=["decision_record"])
        return review

    @transaction.atomic
    def attest(self, *, by, item: str, link: str = "", file=None, note: str = "") -> "EvidenceItem":
        """A person attests one evidence item of the checklist with a link or a file (and a note);
        recorded with who and when. A new attestation replaces the earlier one (history keeps it)."""
        release = self._locked()
        if release.state not in ATTESTABLE_STATES:
            raise TransitionNotAllowed(
                gettext("Evidence is attested before approval; this release is %(state)s.")
                % {"state": release.get_state_display().lower()},
                field="state",
            )
        if by is None or not _has_role(by, release.capability_id, ATTESTER_ROLES):
            raise PermissionDenied(
                gettext("Your roles on %(capability)s do not let you attest release evidence.")
                % {"capability": release.capability}
            )
        row = EvidenceItem.objects.select_for_update().filter(release=release, key=item).first()
        if row is None:
            raise DomainError(
                gettext("This release has no evidence item “%(item)s”.") % {"item": item}, field="item"
            )
        link = (link or "").strip()
        if link:
            try:
                URLValidator(schemes=["http", "https"])(link)
            except ValidationError as error:
                raise DomainError(gettext("Enter a valid link (https://…)."), field="link") from error
        if file:
            try:
                validate_evidence_file(file)
            except ValidationError as error:
                raise DomainError(error.messages[0], field="file") from error
        if not link and not file:
            raise DomainError(gettext("Attest with a link or a file that shows the evidence."), field="link")
        row.link = link
        row.note = (note or "").strip()
        if file:
            row.file = file
        elif link:
            row.file = ""
        row.attested_by = by
        row.attested_at = timezone.now()
        row._history_user = by
        row._change_reason = gettext("Attested")
        row.save()
        return row


class EvidenceItem(models.Model):
    """One item of a release's evidence checklist (derived from its object type), attested by a
    person with a link or a file, and a note."""

    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="evidence_items", verbose_name=_("release")
    )
    key = models.CharField(_("item"), max_length=40)
    link = models.URLField(_("link"), max_length=500, blank=True)
    file = models.FileField(
        _("file"),
        upload_to=evidence_upload_to,
        max_length=300,
        blank=True,
        validators=[validate_evidence_file],
    )
    note = models.TextField(_("note"), blank=True)
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attested by"),
    )
    attested_at = models.DateTimeField(_("attested"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        ordering = ["release_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["release", "key"], name="release_evidence_item_once")]

    def __str__(self):
        return f"{self.release.readable_id}: {self.label}"

    @property
    def label(self):
        return EVIDENCE_LABELS.get(self.key, (self.key, ""))[0]

    @property
    def help_text(self):
        return EVIDENCE_LABELS.get(self.key, ("", ""))[1]

    @property
    def is_attested(self) -> bool:
        return self.attested_at is not None

    @property
    def filename(self) -> str:
        if not self.file:
            return ""
        return os.path.basename(self.file.name).split("-", 1)[-1]

    def get_file_url(self) -> str:
        return reverse(
            "releases:evidence-file", kwargs={"readable_id": self.release.readable_id, "key": self.key}
        )


class ReleaseApproval(models.Model):
    """One approver's verdict on a release: approve, approve for canary only, hold, request
    changes or reject, always with a comment. Never edited or deleted."""

    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("release")
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approver")
    )
    verdict = models.CharField(_("verdict"), max_length=24, choices=Verdict.choices)
    comment = models.TextField(_("comment"))
    round = models.PositiveSmallIntegerField(_("approval round"))
    # Whether the approver held Risk / Compliance on the capability when giving the verdict.
    as_risk = models.BooleanField(_("as Risk / Compliance"), default=False)
    decided_at = models.DateTimeField(_("when"), default=timezone.now)
    decision = models.ForeignKey(
        "decisions.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decision"),
    )

    class Meta:
        verbose_name = _("release approval")
        verbose_name_plural = _("release approvals")
        ordering = ["decided_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(comment=""), name="release_approval_has_comment")]

    def __str__(self):
        return f"{self.release.readable_id}: {self.get_verdict_display()} ({self.approver})"


class ImpactReview(models.Model):
    """The post-release impact review of playbook 21.3: release, type, expected effect, observed
    effect and regressions (computed from the contracts, kept as the reviewer saw them),
    guardrail status and the decision (keep, extend canary, hotfix, rollback)."""

    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="impact_reviews", verbose_name=_("release")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewer")
    )
    reviewed_at = models.DateTimeField(_("reviewed"), default=timezone.now)
    periods = models.PositiveSmallIntegerField(_("periods before and after"))
    expected_effect = models.TextField(_("expected effect"))
    decision = models.CharField(_("decision"), max_length=16, choices=ImpactDecision.choices)
    comment = models.TextField(_("comment"))
    # The observed effect as the reviewer saw it: the output of ``impact_figures``.
    figures = models.JSONField(_("observed effect"), default=dict)
    regressions = models.JSONField(_("regressions"), default=list)
    decision_record = models.ForeignKey(
        "decisions.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decision log entry"),
    )

    class Meta:
        verbose_name = _("impact review")
        verbose_name_plural = _("impact reviews")
        ordering = ["-reviewed_at", "-id"]

    def __str__(self):
        return f"{self.release.readable_id}: {self.get_decision_display()}"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarToken(models.Model):
    """The secret in a person's iCal feed URL: calendar apps cannot log in, so the token is the
    key. Regenerating it cuts off every copy of the old URL."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="release_calendar_token"
    )
    token = models.CharField(max_length=64, unique=True, default=_new_token)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar feed token")

    def __str__(self):
        return f"{self.user}: {self.token[:6]}…"

    def get_absolute_url(self):
        return reverse("releases:ical", kwargs={"token": self.token})
