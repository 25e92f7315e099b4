"""Sending one webhook delivery: claim it, POST the signed body, record the attempt, and say
whether to try again.

- ``delivery_attempt``: what the delivery task runs. It claims the row with a conditional UPDATE
  (so two workers, or a task redelivered after a worker died, never POST at once), POSTs with a
  ``TIMEOUT_SECONDS`` timeout and no redirects, and records the response code, an excerpt of the
  answer, the error and the duration, in the row and in its attempts log.
- A 2xx answer delivers. A network error, a timeout, a 5xx, a 408 or a 429 is worth another try,
  after ``backoff(attempt)`` (exponential: 30 s, 1, 2, 4 ... minutes), up to ``MAX_ATTEMPTS``;
  any other answer (a 3xx, a 4xx: the receiver refused this request) fails at once. A failed
  delivery shows in the delivery log, where an admin may retry it.
- ``deliveries_requeue``: the scheduled job's part: queue again the pending deliveries whose time
  has come and that no live worker holds (a task lost with a broker outage or a dead worker).

Delivery is at least once: a receiver that answered after our timeout may see the same
``X-ProductOps-Delivery`` again, with the same body.
"""

import datetime
import http.client
import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from webhooks.choices import DeliveryStatus
from webhooks.models import Delivery
from webhooks.signing import sign

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 8
BACKOFF_CAP_SECONDS = 3600
# Longer than any attempt (the timeout), so only a dead worker's claim is ever taken over.
CLAIM_TIMEOUT = datetime.timedelta(minutes=2)
RESPONSE_EXCERPT_CHARS = 500
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})
USER_AGENT = "ProductOps-Webhooks/1"


def backoff(attempt: int) -> int:
    """Seconds to wait after the ``attempt``-th failed attempt: 30 s (WEBHOOKS_BACKOFF_BASE_SECONDS)
    doubling, at most an hour."""
    base = getattr(settings, "WEBHOOKS_BACKOFF_BASE_SECONDS", 30)
    return min(base * 2 ** max(attempt - 1, 0), BACKOFF_CAP_SECONDS)


def body_bytes(payload: dict) -> bytes:
    """The exact bytes POSTed (and signed): the same for every attempt and every endpoint."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class AttemptResult:
    """What one POST got back."""

    status_code: int | None
    response: str
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def worth_retrying(self) -> bool:
        """A network error or timeout, a server error, or a 408/429 (the receiver asks us to come back)."""
        code = self.status_code
        return code is None or code >= 500 or code in RETRYABLE_CLIENT_ERRORS


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_CHARS]


def headers_for(delivery: Delivery, body: bytes, timestamp: int) -> dict:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-ProductOps-Event": delivery.event.type,
        "X-ProductOps-Delivery": str(delivery.pk),
        "X-ProductOps-Timestamp": str(timestamp),
        "X-ProductOps-Signature": sign(delivery.endpoint.secret, timestamp, body),
    }


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the endpoint's host and the path to POST to. ``http.client`` rather than
    ``urllib``: it sends the header names as written (urllib title-cases them) and never follows
    a redirect (a 3xx is an answer: a redirected POST would go where the admin did not point it)."""
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return kind(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS), path


def post(delivery: Delivery) -> AttemptResult:
    """POST the delivery's event to its endpoint once, signed now. Never raises for the network."""
    body = body_bytes(delivery.event.payload)
    timestamp = int(time.time())
    started = time.monotonic()
    status, text, error = None, "", ""
    connection = None
    try:
        connection, path = _connection(delivery.endpoint.url)
        connection.request("POST", path, body=body, headers=headers_for(delivery, body, timestamp))
        response = connection.getresponse()
        status, text = response.status, _excerpt(response.read(RESPONSE_EXCERPT_CHARS * 4))
    except (OSError, http.client.HTTPException, ValueError) as failure:  # refused, DNS, TLS, timeout
        error = f"{type(failure).__name__}: {failure}"[:2000]
    finally:
        if connection is not None:
            connection.close()
    return AttemptResult(
        status_code=status, response=text, error=error, duration_ms=int((time.monotonic() - started) * 1000)
    )


def delivery_claim(delivery_id: int, *, now: datetime.datetime | None = None) -> bool:
    """Take the right to make the next attempt; False when delivered, failed, or held by a live
    worker (a claim older than CLAIM_TIMEOUT belongs to a worker that died)."""
    now = now or timezone.now()
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1, last_attempt_at=now)
    )


@dataclass
class Outcome:
    """What the task does next: nothing (``retry_in`` None), or try again in so many seconds."""

    status: str
    retry_in: int | None = None


SKIPPED = "skipped"


def _log_entry(now, result: AttemptResult | None, error: str = "") -> dict:
    return {
        "at": now.isoformat(),
        "status_code": result.status_code if result else None,
        "error": result.error if result else error,
        "duration_ms": result.duration_ms if result else 0,
    }


def _finish(delivery: Delivery, now, *, result: AttemptResult | None, error: str = "") -> Outcome:
    """Store the attempt and decide: delivered, try again later, or failed for good."""
    fields = {
        "claimed_at": None,
        "last_status_code": result.status_code if result else None,
        "last_response": result.response if result else "",
        "last_error": result.error if result else error,
        "attempt_log": [*(delivery.attempt_log or []), _log_entry(now, result, error)],
    }
    used = delivery.attempts - delivery.attempts_before_retry
    retry_in = None
    if result is not None and result.delivered:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif result is not None and result.worth_retrying and used < MAX_ATTEMPTS:
        retry_in = backoff(used)
        fields.update(next_attempt_at=now + datetime.timedelta(seconds=retry_in))
    else:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    status = fields.get("status", DeliveryStatus.PENDING)
    logger.info(
        "Webhook delivery %s (%s to %s) attempt %s: %s %s",
        delivery.pk,
        delivery.event.type,
        delivery.endpoint.name,
        delivery.attempts,
        fields["last_status_code"] or fields["last_error"],
        status,
    )
    return Outcome(status=status, retry_in=retry_in)


def delivery_attempt(delivery_id: int) -> Outcome:
    """Make the next attempt of one delivery (what the task runs); see the module's docstring."""
    now = timezone.now()
    if not delivery_claim(delivery_id, now=now):
        return Outcome(status=SKIPPED)
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if not delivery.endpoint.active:
        # Disabled after the event was recorded: send nothing; an admin may retry once it is back.
        return _finish(
            delivery,
            now,
            result=None,
            error=gettext("The endpoint was disabled before this delivery was sent."),
        )
    return _finish(delivery, now, result=post(delivery))


# A pending delivery this late past its time has lost its task (broker down, worker gone).
REQUEUE_GRACE = datetime.timedelta(minutes=2)


def deliveries_requeue(*, now: datetime.datetime | None = None) -> list[int]:
    """Queue again the pending deliveries that are due (``next_attempt_at``, or their creation
    for a first attempt, at least REQUEUE_GRACE ago) and not held by a live worker. A duplicate
    task is harmless: the claim lets one of them send."""
    from webhooks.events import queue_delivery

    now = now or timezone.now()
    due = now - REQUEUE_GRACE
    ids = list(
        Delivery.objects.pending()
        .filter(Q(next_attempt_at__lte=due) | Q(next_attempt_at__isnull=True, created_at__lte=due))
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        queue_delivery(pk)
    return ids
