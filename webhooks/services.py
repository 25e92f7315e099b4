"""Managing the organisation's webhooks: endpoints, their secrets, test pings and retries.

Every function checks that the person is an organisation admin (``require_webhook_admin``),
so the settings page, the API and the shell share one rule.
"""

import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from productops.errors import DomainError, TransitionNotAllowed
from productops.permissions import is_org_admin
from webhooks.choices import DeliveryStatus, EventType
from webhooks.events import envelope, queue_on_commit
from webhooks.models import Delivery, Endpoint, Event
from webhooks.signing import new_secret
from webhooks.validators import validate_events

ENDPOINT_FIELDS = ("name", "url", "events", "active")


def require_webhook_admin(user) -> None:
    if not is_org_admin(user):
        raise PermissionDenied(gettext("Only an organisation admin manages webhooks."))


def _validated(endpoint: Endpoint) -> None:
    """Model validation as a DomainError naming the first field at fault (pages and API show it)."""
    endpoint.name = (endpoint.name or "").strip()
    if not endpoint.name:
        raise DomainError(gettext("Give the endpoint a name."), field="name")
    try:
        # Django skips a field's validators on an empty value: the events are checked here too.
        validate_events(endpoint.events)
    except ValidationError as error:
        raise DomainError(error.messages[0], field="events") from error
    try:
        endpoint.full_clean(exclude=["created_by", "secret"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise DomainError(messages[0], field=field) from error


def _apply(endpoint: Endpoint, fields: dict) -> None:
    unknown = set(fields) - set(ENDPOINT_FIELDS)
    if unknown:
        raise DomainError(gettext("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(endpoint, name, list(value) if name == "events" else value)


@transaction.atomic
def endpoint_create(*, by, **fields) -> Endpoint:
    """A new endpoint with a fresh secret (``endpoint.secret``: show it to the admin now)."""
    require_webhook_admin(by)
    endpoint = Endpoint(created_by=by, secret=new_secret())
    _apply(endpoint, fields)
    _validated(endpoint)
    endpoint._history_user = by
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, by, fields: dict) -> Endpoint:
    """Change name, URL, events or the active flag (disabling stops every delivery not yet sent)."""
    require_webhook_admin(by)
    _apply(endpoint, fields)
    _validated(endpoint)
    endpoint._history_user = by
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: Endpoint, by) -> Endpoint:
    """A new secret at once: the old one stops verifying from the next attempt on."""
    require_webhook_admin(by)
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = timezone.now()
    endpoint._history_user = by
    endpoint._change_reason = gettext("Secret rotated")
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_ping(*, endpoint: Endpoint, by) -> Delivery:
    """Send a test ping to one endpoint (whatever its events), delivered like any event."""
    require_webhook_admin(by)
    if not endpoint.active:
        raise DomainError(gettext("Enable the endpoint before sending it a test ping."), field="active")
    key = f"ping:{uuid.uuid4().hex}"
    data = {
        "endpoint": endpoint.name,
        "message": gettext("ProductOps test ping: this endpoint is wired."),
        "sent_by": by.get_username(),
    }
    event = Event.objects.create(
        key=key, type=EventType.PING, payload=envelope(event_type=EventType.PING, key=key, data=data)
    )
    delivery = Delivery.objects.create(event=event, endpoint=endpoint)
    queue_on_commit([delivery])
    return delivery


@transaction.atomic
def delivery_retry(*, delivery: Delivery, by) -> Delivery:
    """Try a failed delivery again (after the receiver was fixed), with a fresh set of attempts."""
    require_webhook_admin(by)
    row = Delivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if row.status != DeliveryStatus.FAILED:
        raise TransitionNotAllowed(
            gettext("Only a failed delivery is retried; this one is %(status)s.")
            % {"status": row.get_status_display().lower()},
            field="status",
        )
    if not row.endpoint.active:
        raise DomainError(gettext("Enable the endpoint before retrying its deliveries."), field="active")
    Delivery.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.PENDING,
        claimed_at=None,
        next_attempt_at=None,
        attempts_before_retry=row.attempts,
    )
    row.refresh_from_db()
    queue_on_commit([row])
    return row
