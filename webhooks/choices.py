"""What a webhook can announce, and where one delivery stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """The domain events an organisation may wire to a chat tool or another system (issue 9).

    The value is what a receiver sees in ``X-ProductOps-Event`` and in the body's ``event``."""

    SIGNAL_OPENED = "signal.opened", _("Signal opened")
    ACTION_OVERDUE = "action.overdue", _("Action overdue")
    RELEASE_AWAITING_APPROVAL = "release.awaiting_approval", _("Release awaiting approval")
    INCIDENT_SEV1 = "incident.sev1", _("Sev1 incident")
    # Sent by an admin from the settings page to check the wiring; never subscribed to.
    PING = "ping", _("Test ping")


SUBSCRIBABLE_EVENTS = [choice for choice in EventType.choices if choice[0] != EventType.PING]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


DELIVERY_BADGES = {
    DeliveryStatus.PENDING: "text-bg-warning",
    DeliveryStatus.DELIVERED: "text-bg-success",
    DeliveryStatus.FAILED: "text-bg-danger",
}
