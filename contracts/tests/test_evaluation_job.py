"""The evaluation job: one task per active contract, queued after ingest (with ``since``) and on
the schedule; safe to run twice; two runs of one contract never overlap."""

import datetime
import time

import pytest
import time_machine
from django.db import connection

from actions.models import Action
from contracts.evaluation import LOCK_NAMESPACE, evaluate_contract
from contracts.models import Evaluation, Signal
from contracts.tasks import evaluate_all_contracts, evaluate_contract_task, evaluate_contracts
from contracts.tests.evaluation_helpers import TODAY, W1, W2, W3, make_contract, observe, weekly
from productops.models import Notification

CARDS = {"intent": "cards", "team": "south"}


def snapshot():
    return list(
        Evaluation.objects.order_by("contract_id", "cut", "period_start").values_list(
            "contract_id", "cut", "period_start", "value", "sample_size", "raw_level", "level", "evaluated_at"
        )
    )


@pytest.mark.django_db
@time_machine.travel(TODAY, tick=False)
def test_the_job_evaluates_each_active_contract_and_a_second_run_changes_nothing(capability, pm):
    breaching = make_contract(capability)
    calm = make_contract(capability, metric_id="cc_agent_assist.escalation_rate")
    draft = make_contract(capability, metric_id="cc_agent_assist.draft_rate", status="draft")
    weekly(breaching, [0.05, 0.18, 0.19])
    weekly(calm, [0.05, 0.06, 0.05], cohort=CARDS)
    weekly(draft, [0.30])

    assert evaluate_contracts.delay().get() == [breaching.pk, calm.pk]
    rows = snapshot()
    counts = (Signal.objects.count(), Action.objects.count(), Notification.objects.count())

    assert evaluate_contracts.delay(contract_ids=[breaching.pk, calm.pk, draft.pk]).get() == [
        breaching.pk,
        calm.pk,
    ]

    # Two signals (whole population and intent=billing of the breaching contract) at the same
    # level share one action, and its owner is told once.
    assert counts == (2, 1, 1)
    assert (Signal.objects.count(), Action.objects.count(), Notification.objects.count()) == counts
    assert snapshot() == rows
    assert not Evaluation.objects.filter(contract=draft).exists()


@pytest.mark.django_db
def test_ingest_queues_the_touched_contracts_since_the_first_day_it_touched(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.05, 0.06, 0.05])
    evaluate_contracts.delay(contract_ids=[contract.pk]).get()
    before = dict(((cut, period), stamp) for *_c, cut, period, _v, _n, _r, _l, stamp in snapshot())

    new_day = W2 + datetime.timedelta(days=3)
    observe(contract, new_day, rate=0.25)
    evaluate_contracts.delay(contract_ids=[contract.pk], since=new_day.isoformat()).get()

    after = dict(((cut, period), stamp) for *_c, cut, period, _v, _n, _r, _l, stamp in snapshot())
    assert {key for key in after if after[key] != before[key]} == {("", W2)}
    assert Signal.objects.get().opened_period == W2


@pytest.mark.django_db
def test_the_scheduled_run_rereads_the_recent_periods_of_every_active_contract(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.05, 0.06, 0.18])
    with time_machine.travel(datetime.datetime(2026, 7, 2, 5, 30, tzinfo=datetime.UTC), tick=False):
        assert evaluate_all_contracts.delay().get() == [contract.pk]
    # From 1 June (the first day of last month): all three weeks.
    assert Evaluation.objects.filter(contract=contract, cut="").count() == 3
    assert Signal.objects.get().opened_period == W3


@pytest.mark.django_db
def test_a_contract_locked_by_another_run_is_left_to_that_run_and_retried(capability, pm):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    import psycopg

    contract = make_contract(capability)
    weekly(contract, [0.18])
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, contract.pk])
        assert evaluate_contract(contract.pk).skipped == "locked"
        from celery.exceptions import Retry

        with pytest.raises(Retry):
            evaluate_contract_task.apply(args=[contract.pk], throw=True)
        assert not Evaluation.objects.exists()
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, contract.pk])
        assert evaluate_contract(contract.pk).skipped == ""
        assert Signal.objects.count() == 2
    finally:
        other.close()


def test_the_job_runs_on_a_real_worker_and_raises_one_signal_and_action(real_celery_worker, capability, pm):
    """PostgreSQL + Redis + a celery worker process: ingest rows, queue the job, wait."""
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.05, 0.18])

    evaluate_contracts.delay(contract_ids=[contract.pk])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Action.objects.exists():
        time.sleep(0.25)
    evaluate_contracts.delay(contract_ids=[contract.pk], since=W1.isoformat())
    time.sleep(3)  # room for the second run to (wrongly) raise a second signal

    signal = Signal.objects.get()
    assert (signal.opened_period, signal.level) == (W2, "breach")
    assert Action.objects.get().source_signal.startswith("cc_agent_assist.repeat_contact_7d at 0.18")
    assert Evaluation.objects.filter(contract=contract).count() == 2
