"""People, the roles they hold, and the readable-id counters every register shares."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from productops.roles import Role


class User(AbstractUser):
    """A person in the organisation. Their roles live in ``RoleAssignment``."""

    def __str__(self):
        return self.get_full_name() or self.username


class RoleAssignmentQuerySet(models.QuerySet):
    def organisation_wide(self):
        return self.filter(capability__isnull=True)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def owner_map(self, capability) -> list[tuple[str, list[str]]]:
        """The capability's owner map: per role, the people holding it there, then those holding
        it across the organisation (marked so), Viewers left out. One query."""
        rows = (
            self.filter(models.Q(capability=capability) | models.Q(capability__isnull=True))
            .exclude(role=Role.VIEWER)
            .select_related("user")
            .order_by("role", models.F("capability_id").asc(nulls_last=True), "user__username")
        )
        grouped: dict[str, list[str]] = {}
        for row in rows:
            name = (
                str(row.user) if row.capability_id else _("%(name)s (all capabilities)") % {"name": row.user}
            )
            grouped.setdefault(str(row.get_role_display()), []).append(name)
        return sorted(grouped.items())


class RoleAssignment(models.Model):
    """A person holds a role, on one capability or (no capability) across the organisation.

    The rows for one capability are its owner map: who is PM, architect, risk partner, …
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="role_assignments",
        verbose_name=_("person"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name=_("capability"),
        help_text=_("Empty: the role holds on every capability."),
    )
    history = HistoricalRecords()

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("role assignment")
        ordering = ["capability_id", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "capability"], name="role_assignment_unique_per_capability"
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(capability__isnull=True),
                name="role_assignment_unique_organisation_wide",
            ),
        ]

    def __str__(self):
        scope = self.capability or _("all capabilities")
        return f"{self.user} — {self.get_role_display()} ({scope})"


class ReadableIdSequence(models.Model):
    """The last number handed out for a readable-id prefix (``ACT``, ``DEC``, ``REL-2026``)."""

    prefix = models.CharField(max_length=32, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("readable id sequence")

    def __str__(self):
        return f"{self.prefix}: {self.last}"

    @classmethod
    def take_next(cls, prefix: str) -> int:
        """The next number for a prefix; rows lock so concurrent creators never share one."""
        with transaction.atomic():
            cls.objects.get_or_create(prefix=prefix)
            row = cls.objects.select_for_update().get(prefix=prefix)
            row.last += 1
            row.save(update_fields=["last"])
            return row.last


class Notification(models.Model):
    """A message owed to a person (an assumption expired, an action awaits verification).

    Written in the same transaction as the change that causes it, then sent by a job that
    claims the row first, so a message is never lost and never sent twice.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("notification")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"], name="notification_unsent")]

    def __str__(self):
        return f"{self.recipient}: {self.subject}"


class ApiTokenScope(models.TextChoices):
    """What a machine token may do: read only, or read and write (within its person's roles)."""

    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiTokenQuerySet(models.QuerySet):
    def of(self, user):
        """A person's own tokens: nobody sees or revokes another person's."""
        return self.filter(user=user)

    def live(self, now):
        """Tokens that still authenticate: not revoked and not past their expiry."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A named token a person creates for a machine (a telemetry pipeline, a release tool).

    It acts as that person, with exactly their roles; a read token never changes anything. Only
    a SHA-256 digest of the secret is stored; the secret is shown once, at creation. ``prefix``
    (the secret's first characters) lets the person tell tokens apart without revealing them.
    Created and revoked through ``productops.tokens``, never edited or deleted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("person"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. “CRM export job”."))
    scope = models.CharField(_("scope"), max_length=8, choices=ApiTokenScope.choices)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    # Who created and who revoked a token, and when, is the audit trail; the digest stays out of
    # it, and last use is a counter, not a change (written with UPDATE, so it records nothing).
    history = HistoricalRecords(excluded_fields=["digest", "last_used_at"])

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class QueuedJob(models.Model):
    """A background job that could not be handed to the broker (Redis down or unreachable): the
    job outbox. Written by ``productops.jobs.enqueue`` in the request (or job) that wanted the
    job, so nothing is lost; ``productops.jobs.outbox_drain`` hands the rows to the broker once
    it answers again (every minute by beat, when a worker starts, and by the
    ``drain_job_outbox`` command) and deletes each one it queued. Every job is safe to run twice,
    so a row queued just before a crash and queued again does no harm."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("attempts to queue"), default=1)
    last_attempt_at = models.DateTimeField(_("last attempt"), auto_now_add=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("job waiting for the job service")
        verbose_name_plural = _("jobs waiting for the job service")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.task} {self.args} {self.kwargs}"
