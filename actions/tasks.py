import logging

from celery import shared_task
from django.db import DatabaseError

from actions.services import reopen_due_rechecks as reopen_due_rechecks_service

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3, default_retry_delay=300, acks_late=True)
def reopen_due_rechecks(self) -> list[str]:
    """Daily: reopen closed actions whose re-check date has come ("Scheduled re-check") and tell
    their owners. Safe to run twice: a reopened action is no longer closed, so it is skipped."""
    try:
        reopened = reopen_due_rechecks_service()
    except DatabaseError as exc:  # a lock timeout or a lost connection: try again later
        raise self.retry(exc=exc) from exc
    if reopened:
        logger.info("Reopened %d action(s) on their re-check date: %s", len(reopened), ", ".join(reopened))
    return reopened
