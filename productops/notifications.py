"""Telling people: ``notify(...)`` writes the row now and queues its e-mail after commit."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone

from productops.jobs import enqueue_on_commit
from productops.models import Notification

# A claim older than this belongs to a worker that died: the row may be claimed again.
CLAIM_TIMEOUT = timedelta(minutes=10)


def notify(*, recipients, subject: str, body: str, url: str = "") -> list[Notification]:
    """Record one notification per distinct recipient and send each once the transaction commits."""
    from productops.tasks import send_notification

    rows = [
        Notification.objects.create(recipient=user, subject=subject[:200], body=body, url=url)
        for user in {user.pk: user for user in recipients if user is not None}.values()
    ]
    for row in rows:
        enqueue_on_commit(send_notification, row.pk)
    return rows


def claim(notification_id: int) -> bool:
    """Take the right to send one notification; False when sent or being sent elsewhere."""
    now = timezone.now()
    return bool(
        Notification.objects.filter(pk=notification_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def deliver(notification_id: int) -> bool:
    """Send a claimed notification by e-mail and mark it sent. Raises on a mail failure (the
    task retries); the claim is released so the retry may take it."""
    if not claim(notification_id):
        return False
    row = Notification.objects.select_related("recipient").get(pk=notification_id)
    link = f"\n\n{settings.PRODUCTOPS_BASE_URL.rstrip('/')}{row.url}" if row.url else ""
    try:
        send_mail(row.subject, row.body + link, None, [row.recipient.email], fail_silently=False)
    except Exception as exc:
        Notification.objects.filter(pk=row.pk).update(claimed_at=None, last_error=str(exc)[:2000])
        raise
    Notification.objects.filter(pk=row.pk).update(sent_at=timezone.now(), last_error="")
    return True
