"""Release calendar jobs: safe to run twice (each reminder is remembered per review date)."""

from celery import shared_task

from releases.services import impact_reviews_due_notify


@shared_task(name="releases.tasks.remind_impact_reviews_due", acks_late=True, reject_on_worker_lost=True)
def remind_impact_reviews_due() -> list[str]:
    """Tell each owner once that their release's post-release impact review is due."""
    return impact_reviews_due_notify()
