"""Forums and sessions: the operating calendar (playbook 6.1, 6.2 and 7.2).

A forum is a recurring meeting with a cadence, an owner, attendees, the decision types it may
take, a schedule and a scope of capabilities; a session is one meeting of it, from scheduled
through pack sent and held to minutes published.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forums.choices import (
    MOVES,
    STATE_BADGES,
    TRANSITIONS,
    Attendance,
    Cadence,
    Frequency,
    OutcomeKind,
    SessionState,
    Weekday,
    WeekOfMonth,
    activity_for,
)
from forums.querysets import ForumQuerySet, SessionQuerySet
from productops.errors import DomainError
from productops.links import reverse
from productops.mixins import TrackedModel
from productops.permissions import can_change, can_view
from productops.transitions import check_transition, lock


class Forum(TrackedModel):
    """A recurring forum of the operating calendar: who meets, how often, on what, to take
    which decisions (playbook 6.1). Rule 6.2: every recurring forum has a decision type."""

    name = models.CharField(_("name"), max_length=200)
    cadence = models.CharField(_("cadence"), max_length=40, choices=Cadence.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_forums",
        verbose_name=_("owner"),
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="forums_attended", verbose_name=_("attendees")
    )
    attendee_roles = models.JSONField(_("attendee roles"), default=list, blank=True)
    decision_types = models.JSONField(_("decision types"), default=list, blank=True)
    frequency = models.CharField(
        _("frequency"), max_length=20, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, default=Weekday.TUESDAY)
    time_of_day = models.TimeField(_("time"), help_text=_("In the organisation's time zone."))
    week_of_month = models.SmallIntegerField(
        _("week of the month"),
        choices=WeekOfMonth.choices,
        null=True,
        blank=True,
        help_text=_("Monthly and quarterly forums: e.g. the first Tuesday."),
    )
    anchor_date = models.DateField(
        _("starting from"),
        null=True,
        blank=True,
        help_text=_("Fixes which fortnight (biweekly) or which months (quarterly) the forum meets in."),
    )
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=60)
    scope = models.ManyToManyField(
        "portfolio.Capability",
        blank=True,
        related_name="forums",
        verbose_name=_("scope"),
        help_text=_("Capabilities the forum reviews; none means the whole organisation."),
    )
    agenda = models.JSONField(_("agenda template"), default=list, blank=True)
    pack_lead_hours = models.PositiveSmallIntegerField(
        _("pack lead time (hours)"),
        default=24,
        help_text=_("The review pack is built and e-mailed to the attendees this long before each session."),
    )

    objects = ForumQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("forum")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("forums:forum-detail", kwargs={"pk": self.pk})

    @property
    def activity(self) -> str:
        return activity_for(self.cadence)

    def scope_list(self) -> list:
        # Reads the prefetch cache when the caller prefetched "scope".
        return list(self.scope.all())

    def is_visible_to(self, user) -> bool:
        scope = self.scope_list()
        if not scope:
            return getattr(user, "is_authenticated", False) and (user.is_superuser or bool(_roles(user)))
        return any(can_view(user, capability) for capability in scope)

    def can_be_changed_by(self, user) -> bool:
        """The forum's owner (playbook 6.1: every forum has an owner who runs it), or A/R for the
        cadence's RACI row on a capability of the scope (organisation-wide roles for a forum
        without scope)."""
        if getattr(user, "is_active", False) and user.pk == self.owner_id:
            return True
        scope = self.scope_list()
        if not scope:
            return can_change(user, self.activity)
        return any(can_change(user, self.activity, capability) for capability in scope)

    def require_change(self, user) -> None:
        if not self.can_be_changed_by(user):
            raise PermissionDenied(gettext("Your roles do not allow you to change this forum."))

    def agenda_minutes(self) -> int:
        return sum(int(block.get("minutes") or 0) for block in self.agenda or [])

    def decision_type_labels(self) -> list[str]:
        from decisions.choices import DecisionType

        labels = dict(DecisionType.choices)
        return [str(labels.get(value, value)) for value in self.decision_types]

    def attendee_role_labels(self) -> list[str]:
        from productops.roles import Role

        labels = dict(Role.choices)
        return [str(labels.get(value, value)) for value in self.attendee_roles]

    def schedule_display(self) -> str:
        time = self.time_of_day.strftime("%H:%M") if self.time_of_day else ""
        weekday = Weekday(self.weekday).label
        if self.frequency == Frequency.AD_HOC:
            return str(Frequency.AD_HOC.label)
        if self.frequency == Frequency.DAILY:
            return gettext("Every working day at %(time)s") % {"time": time}
        if self.frequency in (Frequency.WEEKLY, Frequency.BIWEEKLY):
            every = gettext("Every") if self.frequency == Frequency.WEEKLY else gettext("Every other")
            return f"{every} {weekday} {time}"
        nth = WeekOfMonth(self.week_of_month or 1).label
        period = gettext("month") if self.frequency == Frequency.MONTHLY else gettext("quarter")
        return gettext("%(nth)s %(weekday)s of the %(period)s at %(time)s") % {
            "nth": nth,
            "weekday": weekday,
            "period": period,
            "time": time,
        }


def _roles(user):
    from productops.permissions import role_map

    return role_map(user)


class Session(TrackedModel):
    """One meeting of a forum. Rule 6.2: every review pack starts with the decision requested,
    so a session without one cannot have its pack sent."""

    forum = models.ForeignKey(
        Forum, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("forum")
    )
    scheduled_at = models.DateTimeField(_("scheduled at"))
    decision_requested = models.TextField(
        _("decision requested"),
        blank=True,
        help_text=_("What the forum is asked to decide; the review pack opens with it."),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=SessionState.choices, default=SessionState.SCHEDULED
    )
    attendance = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="SessionAttendance",
        blank=True,
        related_name="forum_sessions",
        verbose_name=_("attendance"),
    )
    notes = models.JSONField(_("notes per agenda block"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    minutes_published_at = models.DateTimeField(_("minutes published"), null=True, blank=True)
    minutes = models.JSONField(
        _("minutes"),
        default=dict,
        blank=True,
        help_text=_(
            "Frozen when published: decisions, actions and attendance as the attendees received them."
        ),
    )
    pack_refused_notified_at = models.DateTimeField(
        _("owner told the pack cannot go out"),
        null=True,
        blank=True,
        help_text=_("Set once the pack job has told the owner that no decision requested is written."),
    )

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "pk"]
        verbose_name = _("session")
        constraints = [
            models.UniqueConstraint(fields=["forum", "scheduled_at"], name="forums_session_once_per_time"),
        ]

    def __str__(self):
        local = timezone.localtime(self.scheduled_at)
        return f"{self.forum.name} — {local:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("forums:session-detail", kwargs={"pk": self.pk})

    @property
    def state_badge(self) -> str:
        return STATE_BADGES.get(self.state, "text-bg-secondary")

    @property
    def ends_at(self):
        return self.scheduled_at + timezone.timedelta(minutes=self.forum.duration_minutes)

    @property
    def meeting_day(self):
        """The day the forum met, in the organisation's zone, once the meeting has started: the
        date the decision log gives the decisions taken in it. None before."""
        return timezone.localdate(self.started_at) if self.started_at else None

    def can_send_pack(self) -> tuple[bool, str]:
        """(True, "") when the pack may go out, else (False, why not)."""
        if not (self.decision_requested or "").strip():
            return False, gettext("Write the decision requested first: every review pack starts with it.")
        if SessionState.PACK_SENT not in TRANSITIONS.get(self.state, ()):
            return False, gettext("The pack can only be sent before the meeting starts.")
        return True, ""

    def available_moves(self) -> list[str]:
        return [move for move, target in MOVES.items() if target in TRANSITIONS.get(self.state, ())]

    def _move(self, target: str, *, by, **stamps) -> "Session":
        """One move of the state machine; ``by=None`` is the system (the scheduled pack job):
        only the state and the pack rule are checked."""
        if by is not None:
            self.forum.require_change(by)
        with transaction.atomic():
            fresh = lock(self)
            check_transition(TRANSITIONS, fresh.state, target, choices=SessionState)
            if target == SessionState.PACK_SENT:
                ok, reason = fresh.can_send_pack()
                if not ok:
                    raise DomainError(reason, field="decision_requested")
            fresh.state = target
            for name, value in stamps.items():
                setattr(fresh, name, value)
            fresh._change_reason = f"state → {target}"
            fresh.save(update_fields=["state", "updated_at", *stamps])
        self.state = fresh.state
        for name, value in stamps.items():
            setattr(self, name, value)
        return self

    def mark_pack_sent(self, *, by) -> "Session":
        return self._move(SessionState.PACK_SENT, by=by)

    def start(self, *, by) -> "Session":
        return self._move(SessionState.IN_PROGRESS, by=by, started_at=timezone.now())

    def end_meeting(self, *, by) -> "Session":
        return self._move(SessionState.HELD, by=by, ended_at=timezone.now())

    def publish_minutes(self, *, by) -> "Session":
        return self._move(SessionState.MINUTES_PUBLISHED, by=by, minutes_published_at=timezone.now())


class SessionAttendance(models.Model):
    """Who was expected at a session and whether they came."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, default=Attendance.PRESENT
    )

    class Meta:
        verbose_name = _("session attendance")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="forums_attendance_once_per_person"),
        ]

    def __str__(self):
        return f"{self.user}: {self.get_status_display()}"


class SessionOutcome(models.Model):
    """What a session did, one row per thing, in the order it happened: a decision recorded, an
    action created, closed, reopened, escalated or blocked, a release approved. The minutes are
    built from these rows; ``reference`` is the record's readable id (DEC-0012, ACT-0040)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(_("what happened"), max_length=30, choices=OutcomeKind.choices)
    reference = models.CharField(_("record"), max_length=40)
    summary = models.TextField(_("summary"), blank=True)
    agenda_block = models.CharField(_("agenda block"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = _("session outcome")

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"
