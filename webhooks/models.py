"""Webhooks of the organisation: where to POST (``Endpoint``), what happened (``Event``, once per
idempotency key) and each POST owed to an endpoint with its attempts (``Delivery``).

An event and its deliveries are written in the same transaction as the change that causes it,
and the delivery tasks are queued once that transaction commits: a change rolled back sends
nothing, a committed one is never lost (the requeue job finds a delivery whose task was lost).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from productops.links import reverse
from webhooks.choices import DELIVERY_BADGES, SUBSCRIBABLE_EVENTS, DeliveryStatus, EventType
from webhooks.validators import validate_endpoint_url, validate_events


class EndpointQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def subscribed_to(self, event_type: str) -> list["Endpoint"]:
        """The endpoints whose subscription names the event, as a list (one query). The list of
        events is JSON, read in Python so that SQLite and PostgreSQL agree; an organisation has
        a handful of endpoints."""
        return [row for row in self if event_type in (row.events or [])]


class Endpoint(models.Model):
    """A receiver the organisation POSTs its events to (a chat tool's incoming webhook, a relay).

    Single organisation per install, so an endpoint belongs to the install; only organisation
    admins (``productops.permissions.is_org_admin``) see or change one.
    """

    name = models.CharField(_("name"), max_length=100)
    # A CharField with our validator alone, so a bad address gets one message that says why.
    url = models.CharField(_("URL"), max_length=500, validators=[validate_endpoint_url])
    # Kept in clear: the HMAC needs it. Shown once when made or rotated, never by a list or the API.
    secret = models.CharField(_("secret"), max_length=100, editable=False)
    events = models.JSONField(
        _("events"),
        default=list,
        blank=True,  # emptiness is refused by validate_events, with its own message
        validators=[validate_events],
        help_text=_("The events this endpoint receives."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("A disabled endpoint receives nothing.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["secret"])

    objects = EndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook endpoint")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("webhooks:endpoint-detail", kwargs={"pk": self.pk})

    def event_labels(self) -> list[str]:
        labels = dict(SUBSCRIBABLE_EVENTS)
        return [str(labels.get(key, key)) for key in self.events or []]


class Event(models.Model):
    """Something that happened, once: the idempotency key (event type, object, transition) is
    unique, so an event emitted twice (a re-run job, a redelivered task) is recorded once and
    each endpoint gets it once. The body is frozen at emission: a retry sends the same bytes."""

    key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    type = models.CharField(_("event"), max_length=40, choices=EventType.choices, db_index=True)
    payload = models.JSONField(_("payload"))
    occurred_at = models.DateTimeField(_("occurred"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook event")
        ordering = ["-occurred_at", "-pk"]

    def __str__(self):
        return self.key


class DeliveryQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=DeliveryStatus.PENDING)


class Delivery(models.Model):
    """One event owed to one endpoint, with its attempts: the delivery log's row."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Taken with a conditional UPDATE before a POST, so two workers never send at once.
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The attempts made before an admin's last "retry": each retry grants a fresh MAX_ATTEMPTS.
    attempts_before_retry = models.PositiveSmallIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_response = models.TextField(_("response excerpt"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    # One entry per attempt: {"at", "status_code", "error", "duration_ms"}.
    attempt_log = models.JSONField(_("attempts log"), default=list, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self):
        return f"{self.event.key} → {self.endpoint}"

    @property
    def status_badge(self) -> str:
        return DELIVERY_BADGES.get(self.status, "text-bg-light")

    @property
    def may_retry(self) -> bool:
        return self.status == DeliveryStatus.FAILED
