"""Emitting a webhook event: what the domain calls at the one place each event happens.

``emit`` runs inside the transaction of the change (signal opened, release submitted, ...). It
records the event once per idempotency key and one ``Delivery`` per active endpoint subscribed
to it, and queues each delivery's task when the transaction commits: rolled back, nothing is
sent; emitted twice (a re-run job, a redelivered task), each endpoint still gets it once.

This app sits just above ``productops``: the domain apps import it, it imports none of them, so
the emitter builds the ``data`` of its own event (readable id, capability, link, ...).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from productops.jobs import enqueue
from webhooks.models import Delivery, Endpoint, Event

logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    """A page's address as people open ProductOps (``PRODUCTOPS_BASE_URL``), for a payload."""
    return settings.PRODUCTOPS_BASE_URL.rstrip("/") + path


def envelope(*, event_type: str, key: str, data: dict, occurred_at=None) -> dict:
    """The body every webhook carries: what happened, its idempotency key, when, and its data."""
    return {
        "event": str(event_type),
        "key": key,
        "occurred_at": (occurred_at or timezone.now()).isoformat(),
        "data": data,
    }


def queue_delivery(delivery_id: int) -> None:
    """Queue one delivery's task now (call it on commit). A broker that is down loses nothing:
    the job waits in the outbox (productops.jobs), and the delivery stays pending for the
    requeue job as well."""
    from webhooks.tasks import deliver_webhook

    enqueue(deliver_webhook, delivery_id)


def queue_on_commit(deliveries) -> None:
    for delivery in deliveries:
        transaction.on_commit(lambda pk=delivery.pk: queue_delivery(pk))


def _record_event(event_type: str, key: str, data: dict) -> tuple[Event, bool]:
    return Event.objects.get_or_create(
        key=key[:200],
        defaults={"type": event_type, "payload": envelope(event_type=event_type, key=key, data=data)},
    )


def listening(event_type: str) -> bool:
    """Whether any active endpoint is subscribed to the event (a job checks once before a loop)."""
    return bool(Endpoint.objects.active().subscribed_to(event_type))


def emit(*, event_type: str, key: str, data) -> list[Delivery]:
    """Announce an event to every active endpoint subscribed to it; returns the deliveries made
    now (none when no endpoint listens, or when every one already has this event).

    ``key`` is the idempotency key: event type, object and transition, e.g.
    ``release.awaiting_approval:REL-2026-004:round-2``. Webhooks are optional: with no endpoint
    listening this costs one small query and writes nothing. ``data`` is the event's data, or
    a function returning it, called only when some endpoint listens."""
    endpoints = Endpoint.objects.active().subscribed_to(event_type)
    if not endpoints:
        return []
    if callable(data):
        data = data()
    with transaction.atomic():
        event, created = _record_event(event_type, key, data)
        already = set() if created else set(event.deliveries.values_list("endpoint_id", flat=True))
        made = []
        for endpoint in endpoints:
            if endpoint.pk in already:
                continue
            delivery, new = Delivery.objects.get_or_create(event=event, endpoint=endpoint)
            if new:
                made.append(delivery)
    queue_on_commit(made)
    return made
