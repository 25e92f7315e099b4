import logging

from celery import shared_task
from django.db import DatabaseError

from hygiene.choices import Trigger

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3, default_retry_delay=300, acks_late=True, reject_on_worker_lost=True)
def run_hygiene_checks(self) -> int:
    """Daily: run the hygiene checks over every capability that is not retired. Running twice
    only adds a run (the trend reads the last run of each week); a severe finding is still
    announced once."""
    from hygiene.services import hygiene_run_all

    try:
        runs = hygiene_run_all(trigger=Trigger.SCHEDULE)
    except DatabaseError as exc:
        raise self.retry(exc=exc) from exc
    logger.info("Hygiene checks ran over %d capabilities.", len(runs))
    return len(runs)


@shared_task(bind=True, max_retries=3, default_retry_delay=60, acks_late=True, reject_on_worker_lost=True)
def run_hygiene_for(self, capability_id: int, trigger: str = Trigger.MANUAL) -> int | None:
    """Run the hygiene checks over one capability (after a forum session, after a waiver)."""
    from hygiene.services import hygiene_run
    from portfolio.models import Capability

    capability = Capability.objects.filter(pk=capability_id).first()
    if capability is None:
        return None
    try:
        return hygiene_run(capability=capability, trigger=trigger).pk
    except DatabaseError as exc:
        raise self.retry(exc=exc) from exc
