"""Forum jobs: the review pack job (every 15 minutes, CELERY_BEAT_SCHEDULE) and the e-mail of
one pack to one attendee. Both are safe to run twice: a session's pack is sent once (its state
moves under a row lock), a delivery is claimed before it is sent."""

import logging

from celery import shared_task
from celery.signals import worker_process_shutdown

from forums.pack_delivery import delivery_send, packs_send_due

logger = logging.getLogger(__name__)

# Seconds before each retry of a failed e-mail: a quick one for a blip, then backing off to
# half an hour (about 43 minutes in all); after that the pack job queues the delivery again.
RETRY_COUNTDOWNS = (5, 30, 120, 600, 1800)


@shared_task(name="forums.tasks.send_due_packs", acks_late=True, reject_on_worker_lost=True)
def send_due_packs() -> dict:
    """Build and send every review pack whose time has come; tell owners once about sessions
    that cannot have theirs sent; queue again deliveries left unsent."""
    return packs_send_due()


@shared_task(
    name="forums.tasks.send_pack_delivery",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=len(RETRY_COUNTDOWNS),
)
def send_pack_delivery(self, delivery_id: int) -> bool:
    """E-mail one review pack to one attendee; retried with backoff on a mail failure. A retry
    or a redelivery of a row already sent (or being sent by another worker) does nothing."""
    try:
        return delivery_send(delivery_id, task_id=self.request.id or "")
    except Exception as exc:  # SMTP refused or down, DNS, timeouts: try again later
        countdown = RETRY_COUNTDOWNS[min(self.request.retries, len(RETRY_COUNTDOWNS) - 1)]
        logger.warning("Pack delivery %s failed (%s); retry in %ss", delivery_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc


@worker_process_shutdown.connect
def _stop_chart_browser(**kwargs):
    """A worker process that drew pack charts owns a Chromium: stop it with the process (a
    prefork child leaves without running atexit handlers)."""
    from forums import charts_static

    charts_static.stop()
