from celery import shared_task

from productops.notifications import deliver


@shared_task(bind=True, max_retries=5, default_retry_delay=60, acks_late=True)
def send_notification(self, notification_id: int) -> bool:
    """E-mail one notification; safe to run twice (the row is claimed before sending)."""
    try:
        return deliver(notification_id)
    except Exception as exc:  # SMTP down, DNS, timeouts: try again later
        raise self.retry(exc=exc) from exc
