from datetime import date

from celery import shared_task
from django.db import DatabaseError

from assumptions.services import assumptions_expire_due


@shared_task(
    name="assumptions.tasks.expire_assumptions",
    bind=True,
    max_retries=5,
    default_retry_delay=300,
    acks_late=True,
)
def expire_assumptions(self, today: str | None = None) -> list[str]:
    """Daily: turn assumptions past their expiry date to expired and tell their owners.

    Safe to run twice: the second run finds nothing due. ``today`` (ISO date) replays a missed
    day; by default the organisation's today. Returns the readable ids it expired.
    """
    try:
        expired = assumptions_expire_due(today=date.fromisoformat(today) if today else None)
    except DatabaseError as exc:  # database restarting or a lock timeout: try again later
        raise self.retry(exc=exc) from exc
    return [assumption.readable_id for assumption in expired]
