"""Idempotent ingest under concurrency (issue 9): eight telemetry clients post overlapping batches
of the same observations to /api/v1/observations/ at the same instant, over HTTP to a real
server. Each observation is stored once, no request fails, and the counts add up exactly."""

import pytest
from django.db.models import Count

from contracts.ingest import UPSERT_KEY
from contracts.models import Observation
from contracts.tests.factories import MetricContractFactory
from contracts.tests.test_ingest import daily_rows
from tests.concurrency import post, race, signed_in, statuses

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 8
DAYS = 250  # two intents a day: 500 distinct observations to draw batches from
BATCH = 200
STEP = 40  # client i sends rows [i*STEP, i*STEP + BATCH): neighbours share 160 rows


@pytest.fixture
def contract(capability):
    return MetricContractFactory(capability=capability, cohort_dimensions=["intent", "team"])


def overlapping_batches(rows):
    """Eight windows over the rows, each overlapping the next; every other one sent backwards
    (two writers meeting the same rows in opposite orders is where deadlocks come from)."""
    batches = []
    for client in range(CLIENTS):
        batch = rows[client * STEP : client * STEP + BATCH]
        batches.append(batch if client % 2 == 0 else list(reversed(batch)))
    return batches


def send_all(url, auth, batches):
    return race(lambda batch=batch: post(url, auth=auth, json=batch) for batch in batches)


def stored_keys(contract):
    return list(
        Observation.objects.filter(contract=contract)
        .values(*[key.removesuffix("_id") for key in UPSERT_KEY])
        .annotate(copies=Count("id"))
        .values_list("copies", flat=True)
    )


def test_eight_clients_posting_overlapping_batches_at_once_store_each_observation_once(
    live_server, pm, contract
):
    rows = daily_rows(contract, days=DAYS)
    batches = overlapping_batches(rows)
    distinct = {(row["period_start"], row["cohort"]["intent"]) for batch in batches for row in batch}
    url = f"{live_server.url}/api/v1/observations/"
    auth = signed_in(pm)

    answers = send_all(url, auth, batches)

    assert statuses(answers) == {200: CLIENTS}, [a.body for a in answers if a.status != 200]
    received = sum(answer.body["received"] for answer in answers)
    written = sum(answer.body["written"] for answer in answers)
    unchanged = sum(answer.body["unchanged"] for answer in answers)
    # Each distinct observation was inserted by exactly one request; every other copy of it found
    # the row already there, identical, and left it alone.
    assert (received, written, unchanged) == (CLIENTS * BATCH, len(distinct), CLIENTS * BATCH - len(distinct))
    assert Observation.objects.filter(contract=contract).count() == len(distinct) == 480
    assert set(stored_keys(contract)) == {1}
    stored = {
        (o.period_start.isoformat(), o.cohort["intent"]): (o.value, o.numerator, o.sample_size)
        for o in Observation.objects.filter(contract=contract)
    }
    sent = {
        (row["period_start"], row["cohort"]["intent"]): (row["value"], row["numerator"], row["sample_size"])
        for batch in batches
        for row in batch
    }
    assert stored == sent

    # The same eight batches again, all at once: nothing is written, nothing is duplicated.
    again = send_all(url, auth, batches)
    assert statuses(again) == {200: CLIENTS}
    assert sum(answer.body["written"] for answer in again) == 0
    assert Observation.objects.filter(contract=contract).count() == len(distinct)

    print(
        f"\nconcurrent ingest: {CLIENTS} clients x {BATCH} rows = {received} rows sent at once, "
        f"{len(distinct)} distinct; written {written}, unchanged {unchanged}; stored {len(distinct)}, "
        f"duplicates 0, errors 0; re-sent: written 0"
    )


def test_concurrent_batches_that_change_the_same_observations_leave_one_row_each_with_a_sent_value(
    live_server, pm, contract
):
    """Eight clients correct the same 100 observations at once, each to its own value: every
    request succeeds, each observation is still one row, holding one of the values sent (the last
    writer wins, whole batch by whole batch)."""
    base = daily_rows(contract, days=50)
    post(f"{live_server.url}/api/v1/observations/", auth=signed_in(pm), json=base)
    batches = [[{**row, "value": 0.5 + client / 100} for row in base] for client in range(CLIENTS)]

    answers = send_all(f"{live_server.url}/api/v1/observations/", signed_in(pm), batches)

    assert statuses(answers) == {200: CLIENTS}, [a.body for a in answers if a.status != 200]
    assert Observation.objects.filter(contract=contract).count() == len(base) == 100
    assert set(stored_keys(contract)) == {1}
    values = set(Observation.objects.filter(contract=contract).values_list("value", flat=True))
    # One batch committed last, all or nothing: every row holds that batch's value.
    assert len(values) == 1 and values <= {0.5 + client / 100 for client in range(CLIENTS)}
