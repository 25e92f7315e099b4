import logging

from celery import shared_task

logger = logging.getLogger(__name__)


# Evaluation ------------------------------------------------------------------------------------
# One task per contract, no global lock: contracts evaluate in parallel on as many workers as
# there are; two runs of the same contract serialize on its advisory lock (the later one retries).

# How long a run waits before trying again when another run of the same contract holds the lock.
LOCKED_RETRY_SECONDS = 15


@shared_task(
    name="contracts.tasks.evaluate_contract_task",
    bind=True,
    acks_late=True,
    max_retries=20,
    default_retry_delay=LOCKED_RETRY_SECONDS,
)
def evaluate_contract_task(self, contract_id: int, since: str | None = None) -> dict:
    """Evaluate one contract from the period containing ``since`` (ISO date; all periods when
    None): evaluations, signals, actions, stop holds, reopen triggers, guardrail flags. Safe to
    run twice. Retried when the database is unreachable or another run holds the contract."""
    from django.db import InterfaceError, OperationalError

    from contracts.evaluation import evaluate_contract

    try:
        run = evaluate_contract(contract_id, since=since)
    except (OperationalError, InterfaceError) as exc:  # restart, failover, lock timeout
        raise self.retry(exc=exc, countdown=60) from exc
    if run.skipped == "locked":
        # Another run of this contract is under way; it may have read the observations before
        # the rows that queued this run were committed, so this run must still happen.
        raise self.retry(countdown=LOCKED_RETRY_SECONDS)
    return run.as_dict()


@shared_task(name="contracts.tasks.evaluate_contracts", bind=True, acks_late=True, max_retries=5)
def evaluate_contracts(self, contract_ids: list[int] | None = None, since: str | None = None) -> list[int]:
    """Queue one evaluation per active contract (those of ``contract_ids``, or all). Ingest
    calls it for the contracts a batch touched, with ``since`` = the earliest day it touched."""
    from django.db import InterfaceError, OperationalError

    from contracts.models import MetricContract
    from productops.jobs import enqueue

    try:
        contracts = MetricContract.objects.active()
        if contract_ids is not None:
            contracts = contracts.filter(pk__in=contract_ids)
        ids = list(contracts.order_by("pk").values_list("pk", flat=True))
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=60) from exc
    for contract_id in ids:
        enqueue(evaluate_contract_task, contract_id, since)
    return ids


@shared_task(name="contracts.tasks.evaluate_all_contracts", acks_late=True)
def evaluate_all_contracts(full: bool = False) -> list[int]:
    """The schedule's run over every active contract. Ingest already evaluates what it touched;
    this catches a missed run and re-reads the recent periods: from the first day of last month
    (covers the current and the previous day, week and month), or every period when ``full``."""
    import datetime

    from django.utils import timezone

    since = None
    if not full:
        since = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1).isoformat()
    return evaluate_contracts(contract_ids=None, since=since)


# Observation ingest ----------------------------------------------------------------------------


@shared_task(bind=True, max_retries=3, default_retry_delay=60, acks_late=True)
def import_observations_file(self, job_id: int) -> str | None:
    """Ingest an uploaded CSV of observations (an ImportJob): validate every row, then write all
    or nothing. Safe to run twice (a finished job is skipped; the upsert is idempotent); retried
    on a lost connection or a lock timeout."""
    from django.db import DatabaseError, InterfaceError, OperationalError
    from django.utils.translation import gettext

    from contracts.ingest import import_job_fail, import_job_run

    try:
        job = import_job_run(job_id)
    except (OperationalError, InterfaceError) as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=exc) from exc
        import_job_fail(
            job_id, gettext("The database could not be reached; nothing was written. Upload the file again.")
        )
        raise
    except DatabaseError:
        import_job_fail(job_id, gettext("The import stopped on a database error; nothing was written."))
        raise
    except Exception:
        logger.exception("Observation import %s failed", job_id)
        import_job_fail(job_id, gettext("The import stopped on an unexpected error; nothing was written."))
        raise
    return job.state if job else None


@shared_task(name="contracts.tasks.remind_contract_reviews", acks_late=True)
def remind_contract_reviews() -> list[str]:
    """Tell the owners of active contracts whose review date has come (once per review date)."""
    from contracts.services import contracts_review_reminders

    return contracts_review_reminders()
