import logging

from celery import shared_task
from django.db import DatabaseError

from actions.services import overdue_actions_announce
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


@shared_task(bind=True, max_retries=3, default_retry_delay=300, acks_late=True, reject_on_worker_lost=True)
def announce_overdue_actions(self) -> list[str]:
    """Daily: announce the actions whose due date has passed to the webhooks subscribed to
    "action overdue". Safe to run twice: each action and due date is announced once."""
    try:
        announced = overdue_actions_announce()
    except DatabaseError as exc:
        raise self.retry(exc=exc) from exc
    if announced:
        logger.info("Announced %d overdue action(s): %s", len(announced), ", ".join(announced))
    return announced
