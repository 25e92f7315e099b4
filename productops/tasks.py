import logging

from celery import shared_task
from celery.signals import worker_ready

from productops.notifications import deliver

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_notification(self, notification_id: int) -> bool:
    """E-mail one notification; safe to run twice (the row is claimed before sending)."""
    try:
        return deliver(notification_id)
    except Exception as exc:  # SMTP down, DNS, timeouts: try again later
        raise self.retry(exc=exc) from exc


@shared_task(name="productops.tasks.drain_job_outbox", acks_late=True)
def drain_job_outbox() -> dict:
    """Queue the jobs recorded while the broker was away (every minute, CELERY_BEAT_SCHEDULE)."""
    from productops.jobs import outbox_drain

    done = outbox_drain()
    return {"queued": done.queued, "waiting": done.waiting}


@worker_ready.connect
def _drain_job_outbox_on_worker_start(**kwargs):
    """A worker that starts (often: the broker or the machine came back) queues what waited."""
    from productops.jobs import outbox_drain

    try:
        outbox_drain()
    except Exception:  # the database may still be starting; the beat drain follows
        logger.exception("Job outbox not drained at worker start")
