"""Queueing background jobs: the one way pages, the API, jobs and commands hand work to Celery.

- ``enqueue(task, *args, **kwargs)``: publish the job now. When the broker (Redis) cannot be
  reached, the job is recorded in the outbox (``QueuedJob``) instead, in the caller's
  transaction, and the request that wanted it says so (``deferred_jobs_notice``); the request
  itself succeeds: its data is in the database, only the background work waits.
- ``enqueue_on_commit(...)``: the same once the current transaction commits (the usual case: a
  job reads the rows the request wrote).
- ``outbox_drain()``: hand the recorded jobs to the broker, oldest first, once it answers.
- ``broker_state()``: "ok", "down" or "in-process" (no broker configured), for /healthz.

Publishing never holds a request for long: the connection is checked with no retries and the
publish itself is not retried (kombu would otherwise try again for seconds); after a failure
the broker is not tried again for ``BROKER_RETRY_AFTER`` seconds in this process, so a page that
queues several jobs, and the pages after it, go straight to the outbox.
"""

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnreachable

from productops.celery import app
from productops.models import QueuedJob

logger = logging.getLogger(__name__)

# Seconds this process skips the broker after it failed to answer (the outbox takes the jobs).
BROKER_RETRY_AFTER = 5.0
# A connection that breaks mid-publish can surface as the socket's own error.
BROKER_ERRORS = (BrokerUnreachable, ConnectionError, TimeoutError, OSError)

_broker_down_until = 0.0
# The request being served (set by DeferredJobsMiddleware), so a deferral can tell its person.
current_request: ContextVar = ContextVar("productops_current_request", default=None)


def _in_process() -> bool:
    return bool(app.conf.task_always_eager)


def _publish(task_name: str, args, kwargs) -> None:
    """Hand one job to the broker, or raise one of BROKER_ERRORS at once."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        raise BrokerUnreachable(_("The job service did not answer a moment ago."))
    try:
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            app.send_task(task_name, args=args, kwargs=kwargs, producer=producer, retry=False)
    except BROKER_ERRORS:
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
        raise


def enqueue(task, *args, **kwargs) -> bool:
    """Queue ``task(*args, **kwargs)``; True when the broker took it (or it ran in-process),
    False when it was recorded in the outbox to be queued when the broker is back."""
    if _in_process():
        task.apply_async(args=args, kwargs=kwargs)
        return True
    try:
        _publish(task.name, list(args), kwargs)
    except BROKER_ERRORS as error:
        QueuedJob.objects.create(task=task.name, args=list(args), kwargs=kwargs, last_error=str(error)[:2000])
        logger.warning("Job %s%s not queued (%s): kept in the outbox.", task.name, args, error)
        _note_deferred()
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """``enqueue`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))


@dataclass
class Drained:
    """What one drain did: jobs handed to the broker, and jobs still waiting."""

    queued: int = 0
    waiting: int = 0


def outbox_drain(*, limit: int = 1000) -> Drained:
    """Hand the outbox's jobs to the broker, oldest first, deleting each one the broker took;
    stops at the first failure (the broker is still away), recording it on that job. Several
    drains at once share the work (rows are locked and skipped)."""
    global _broker_down_until
    _broker_down_until = 0.0  # a drain is an explicit "try the broker now"
    done = Drained()
    while done.queued < limit:
        with transaction.atomic():
            job = QueuedJob.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if job is None:
                break
            if _in_process():  # the broker was removed from the settings meanwhile
                app.tasks[job.task].apply_async(args=job.args, kwargs=job.kwargs)
            else:
                try:
                    _publish(job.task, job.args, job.kwargs)
                except BROKER_ERRORS as error:
                    QueuedJob.objects.filter(pk=job.pk).update(
                        attempts=F("attempts") + 1,
                        last_attempt_at=timezone.now(),
                        last_error=str(error)[:2000],
                    )
                    break
            job.delete()
            done.queued += 1
    done.waiting = QueuedJob.objects.count()
    if done.queued:
        logger.info("Job outbox: %s job(s) queued, %s waiting.", done.queued, done.waiting)
    return done


def broker_state() -> str:
    """ "in-process" without a broker, else "ok" when it answers now, "down" when not."""
    if _in_process():
        return "in-process"
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
    except BROKER_ERRORS:
        return "down"
    return "ok"


# --- telling the person ------------------------------------------------------------------------

DEFERRED_HEADER = "X-Jobs-Deferred"


def deferred_jobs_notice() -> str:
    return _(
        "The job service is not reachable right now. Your changes are saved; background jobs "
        "(e-mails, evaluations, imports) are queued and will run when the job service is back."
    )


def _note_deferred() -> None:
    """Count the deferral on the current request; the first one adds the page notice."""
    request = current_request.get()
    if request is None:  # a job or a command: the log line is the notice
        return
    request.deferred_jobs = getattr(request, "deferred_jobs", 0) + 1
    if request.deferred_jobs == 1 and not request.path_info.startswith("/api/"):
        from django.contrib import messages

        messages.warning(request, deferred_jobs_notice(), fail_silently=True)


class DeferredJobsMiddleware:
    """Knows the request being served, so that jobs deferred to the outbox while serving it are
    told: a warning message on the next page, and on the response the ``X-Jobs-Deferred``
    header with their count (what an API client sees)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        deferred = getattr(request, "deferred_jobs", 0)
        if deferred:
            response[DEFERRED_HEADER] = str(deferred)
        return response
