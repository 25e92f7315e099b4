import logging

from celery import shared_task

from webhooks.delivery import MAX_ATTEMPTS, deliveries_requeue, delivery_attempt

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The delivery row counts attempts and decides when to give up; Celery never gives up first.
    max_retries=MAX_ATTEMPTS * 2,
)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one webhook delivery; on a network error, 5xx, 408 or 429 try again after an
    exponential backoff. Safe to run twice: the row is claimed before each attempt."""
    outcome = delivery_attempt(delivery_id)
    if self.request.is_eager:
        # In-process (no broker: a laptop, the demo, tests): Celery cannot schedule a retry, so
        # the attempts follow one another at once, each still counted and logged.
        while outcome.retry_in is not None:
            outcome = delivery_attempt(delivery_id)
        return outcome.status
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_webhook_deliveries() -> list[int]:
    """Every five minutes: queue again the pending deliveries whose task was lost."""
    ids = deliveries_requeue()
    if ids:
        logger.info("Queued %d webhook deliveries again: %s", len(ids), ids)
    return ids
