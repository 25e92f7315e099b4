"""Observation ingest (contracts.ingest): idempotent upsert, all-or-nothing batches, every error
of every row named, one query for the contracts.

These run on SQLite and on PostgreSQL (CI runs PostgreSQL: the COPY + staging-table path); the
tests that only mean something on PostgreSQL say so and skip on SQLite.
"""

import datetime
import types
from unittest import mock

import pytest
from django.db import connection, transaction
from django.urls import NoReverseMatch, Resolver404, include, path, resolve, reverse

from contracts import ingest
from contracts.ingest import IngestRejected, observations_ingest, validate_rows
from contracts.models import Observation
from contracts.tests.factories import MetricContractFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY + staging-table path runs on PostgreSQL only"
)

MONDAY = datetime.date(2026, 6, 1)


def ingest_urlconf():
    """The project's URLs, plus the ingest URLs where the project does not mount them yet
    (productops/urls.py is the lead's to wire; once it mounts contracts, this adds nothing)."""
    from importlib import import_module

    from django.conf import settings

    from contracts.api.ingest import ObservationIngestView

    project = import_module(settings.ROOT_URLCONF)

    patterns = list(project.urlpatterns)
    try:
        resolve("/api/v1/observations/", urlconf=project)
    except Resolver404:
        patterns.insert(0, path("api/v1/observations/", ObservationIngestView.as_view()))
    try:
        reverse("contracts:observation-import", urlconf=project)
    except NoReverseMatch:
        patterns.insert(0, path("contracts/", include(("contracts.urls_ingest", "contracts"))))
    urlconf = types.ModuleType("contracts_ingest_test_urls")
    urlconf.urlpatterns = patterns
    return urlconf


def make_row(contract, /, **overrides):
    row = {
        "contract": contract.metric_id,
        "period_start": MONDAY.isoformat(),
        "grain": "day",
        "cohort": {"intent": "billing", "team": "north"},
        "version_set": {"prompt": "v12", "model": "m-2026-05"},
        "value": 0.118,
        "numerator": 59,
        "denominator": 500,
        "sample_size": 500,
        "source": "crm-export",
    }
    row.update(overrides)
    return {key: value for key, value in row.items() if value is not None}


def daily_rows(contract, days=30, intents=("billing", "address_change"), **overrides):
    return [
        make_row(
            contract,
            period_start=(MONDAY + datetime.timedelta(days=day)).isoformat(),
            cohort={"intent": intent, "team": "north"},
            value=0.1 + day / 1000,
            numerator=50 + day,
            denominator=500,
            **overrides,
        )
        for day in range(days)
        for intent in intents
    ]


@pytest.fixture
def contract(capability):
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.repeat_contact_7d",
        cohort_dimensions=["intent", "team"],
    )


@pytest.fixture
def other_contract(other_capability):
    return MetricContractFactory(capability=other_capability, metric_id="kyc_onboarding.false_pass_rate")


def errors_of(rows, **kwargs):
    return [(error["row"], error["field"]) for error in validate_rows(rows, **kwargs)[1]]


# Writing -------------------------------------------------------------------------------------


def test_a_batch_is_written_with_canonical_keys(contract, pm):
    result = observations_ingest(daily_rows(contract, days=3), user=pm)
    assert result.written == 6
    assert result.touched_contract_ids == {contract.pk}
    assert result.touched_metric_ids == (contract.metric_id,)
    stored = Observation.objects.get(
        contract=contract, period_start=MONDAY, cohort_key="intent=billing|team=north"
    )
    assert stored.grain == "day"
    assert stored.cohort == {"intent": "billing", "team": "north"}
    assert stored.version_set == {"prompt": "v12", "model": "m-2026-05"}
    assert stored.version_key == "model=m-2026-05|prompt=v12"
    assert (stored.value, stored.numerator, stored.denominator, stored.sample_size) == (0.1, 50, 500, 500)
    assert stored.source == "crm-export"


def test_sending_the_same_batch_twice_changes_nothing(contract, pm):
    rows = daily_rows(contract, days=10)
    observations_ingest(rows, user=pm)
    before = list(Observation.objects.order_by("pk").values())

    again = observations_ingest(rows, user=pm)

    assert (again.written, again.unchanged, again.received) == (0, 20, 20)
    assert again.touched_contract_ids == frozenset()
    assert list(Observation.objects.order_by("pk").values()) == before  # ingested_at included


def test_a_changed_value_is_updated_in_place_and_only_that_row_is_touched(contract, pm):
    rows = daily_rows(contract, days=5)
    observations_ingest(rows, user=pm)
    untouched = (
        Observation.objects.exclude(period_start=MONDAY).order_by("pk").values_list("pk", "ingested_at")
    )
    untouched = list(untouched)
    rows[0] = {**rows[0], "value": 0.2, "numerator": 100, "sample_size": 501}

    result = observations_ingest(rows, user=pm)

    assert result.written == 1
    assert Observation.objects.count() == 10
    changed = Observation.objects.get(period_start=MONDAY, cohort_key="intent=billing|team=north")
    assert (changed.value, changed.numerator, changed.sample_size) == (0.2, 100, 501)
    assert (
        list(Observation.objects.exclude(period_start=MONDAY).order_by("pk").values_list("pk", "ingested_at"))
        == untouched
    )


def test_the_order_of_cohort_dimensions_does_not_make_another_observation(contract):
    observations_ingest([make_row(contract, cohort={"intent": "billing", "team": "north"})])
    result = observations_ingest(
        [make_row(contract, cohort={"team": "north", "intent": "billing"}, value=0.3)]
    )
    assert result.written == 1
    assert Observation.objects.get().value == 0.3


def test_grain_and_version_set_are_part_of_the_key(contract):
    observations_ingest(
        [
            make_row(contract),
            make_row(contract, grain="week"),
            make_row(contract, version_set={"prompt": "v13"}),
            make_row(contract, version_set=None, cohort=None),
        ]
    )
    assert Observation.objects.count() == 4
    bare = Observation.objects.get(version_key="", cohort_key="")
    assert (bare.cohort, bare.version_set) == ({}, {})


def test_a_row_without_a_source_takes_the_batch_source(contract):
    observations_ingest([make_row(contract, source=None)], source="nightly-export")
    assert Observation.objects.get().source == "nightly-export"


def test_a_value_only_observation_is_accepted(contract):
    observations_ingest([make_row(contract, numerator=None, denominator=None, grain=None)])
    stored = Observation.objects.get()
    assert (stored.numerator, stored.denominator, stored.grain) == (None, None, "day")


def test_csv_like_text_numbers_are_accepted(contract):
    observations_ingest([make_row(contract, value="0.5", numerator="5", denominator="10", sample_size="10")])
    stored = Observation.objects.get()
    assert (stored.value, stored.numerator, stored.denominator, stored.sample_size) == (0.5, 5, 10, 10)


# All or nothing --------------------------------------------------------------------------------


def test_one_bad_row_among_many_writes_nothing_and_every_error_is_listed(contract, pm):
    rows = daily_rows(contract, days=50)
    rows[3]["denominator"] = 0
    rows[17]["value"] = "n/a"
    rows[17]["period_start"] = "2026-13-01"
    rows[42]["cohort"] = {"intent": "billing", "channel": "chat"}
    rows[99]["contract"] = "cc_agent_assist.no_such_metric"

    with pytest.raises(IngestRejected) as refused:
        observations_ingest(rows, user=pm)

    assert [(e["row"], e["field"]) for e in refused.value.errors] == [
        (4, "denominator"),
        (18, "period_start"),
        (18, "value"),
        (43, "cohort"),
        (100, "contract"),
    ]
    assert refused.value.as_dict() == {"errors": refused.value.errors}
    assert refused.value.status_code == 400
    assert not Observation.objects.exists()


def test_a_rejected_batch_leaves_stored_observations_as_they_were(contract):
    observations_ingest([make_row(contract)])
    before = list(Observation.objects.values())
    with pytest.raises(IngestRejected):
        observations_ingest([make_row(contract, value=0.9), make_row(contract, sample_size=-1, grain="week")])
    assert list(Observation.objects.values()) == before


# Each rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"contract": None}, "contract", "metric id"),
        ({"contract": 12}, "contract", "as text"),
        ({"contract": "cc_agent_assist.nothing"}, "contract", "Unknown contract “cc_agent_assist.nothing”"),
        ({"period_start": None}, "period_start", "required"),
        ({"period_start": "01/06/2026"}, "period_start", "not a date"),
        ({"period_start": "2026-02-30"}, "period_start", "not a date"),
        ({"period_start": 20260601}, "period_start", "as text"),
        ({"grain": "year"}, "grain", "not a grain"),
        (
            {"grain": "week", "period_start": "2026-06-03"},
            "period_start",
            "Monday; 2026-06-03 is a Wednesday",
        ),
        ({"grain": "month", "period_start": "2026-06-02"}, "period_start", "starts on the 1st"),
        ({"value": None}, "value", "required"),
        ({"value": "lots"}, "value", "not a number"),
        ({"value": True}, "value", "not a number"),
        ({"value": float("nan")}, "value", "not a finite number"),
        ({"value": float("inf")}, "value", "not a finite number"),
        ({"value": "Infinity"}, "value", "not a finite number"),
        ({"numerator": float("nan")}, "numerator", "not a finite number"),
        ({"numerator": "many", "denominator": None}, "numerator", "not a number"),
        ({"denominator": 0}, "denominator", "greater than 0"),
        ({"denominator": -5}, "denominator", "greater than 0"),
        ({"denominator": None}, "denominator", "with the numerator"),
        ({"numerator": None}, "numerator", "with the denominator"),
        ({"sample_size": None}, "sample_size", "required"),
        ({"sample_size": -1}, "sample_size", "cannot be negative"),
        ({"sample_size": 2.5}, "sample_size", "whole number"),
        ({"sample_size": "many"}, "sample_size", "whole number"),
        ({"sample_size": 3_000_000_000}, "sample_size", "too large"),
        ({"cohort": {"channel": "chat"}}, "cohort", "channel is not a cohort dimension of"),
        (
            {"cohort": {"channel": "chat", "region": "uk"}},
            "cohort",
            "channel, region are not cohort dimensions",
        ),
        ({"cohort": {"intent": 3}}, "cohort", "must be non-empty text, not 3"),
        ({"cohort": {"intent": ""}}, "cohort", "must be non-empty text"),
        ({"cohort": {"intent": "a|b"}}, "cohort", "may not contain “|”"),
        ({"cohort": ["intent", "billing"]}, "cohort", "as an object"),
        ({"version_set": "v12"}, "version_set", "as an object"),
        ({"version_set": {"prompt": 12}}, "version_set", "must be non-empty text"),
        ({"version_set": {"pro=mpt": "v1"}}, "version_set", "not a valid name"),
        ({"version_set": {"prompt": "v" * 400}}, "version_set", "Too long"),
        ({"source": 5}, "source", "as text"),
        ({"source": "s" * 121}, "source", "At most 120"),
        ({"vaule": 1}, "vaule", "Unknown field"),
    ],
)
def test_each_bad_field_is_named_with_its_row(contract, overrides, field, words):
    rows = [make_row(contract), make_row(contract, **{"grain": "month", **overrides})]
    clean, errors = validate_rows(rows)
    assert len(clean) == 1
    assert [(e["row"], e["field"]) for e in errors] == [(2, field)]
    assert words in errors[0]["error"]


def test_the_undeclared_dimension_error_names_the_declared_ones(contract):
    _clean, errors = validate_rows([make_row(contract, cohort={"channel": "chat"})])
    assert errors[0]["error"] == (
        "channel is not a cohort dimension of cc_agent_assist.repeat_contact_7d (declared: intent, team)."
    )


def test_a_row_that_is_not_an_object_is_an_error(contract):
    assert errors_of([make_row(contract), ["not", "a", "row"], 5]) == [
        (2, "non_field_errors"),
        (3, "non_field_errors"),
    ]


def test_a_duplicate_in_the_batch_names_the_earlier_row(contract):
    rows = [
        make_row(contract),
        make_row(contract, grain="week"),
        make_row(contract, cohort={"team": "north", "intent": "billing"}, value=0.3),
    ]
    clean, errors = validate_rows(rows)
    assert len(clean) == 2
    assert [(e["row"], e["field"]) for e in errors] == [(3, "non_field_errors")]
    assert "as row 1" in errors[0]["error"]


# Permissions -----------------------------------------------------------------------------------


def test_a_viewer_may_not_ingest(contract, viewer):
    _clean, errors = validate_rows([make_row(contract)], user=viewer)
    assert errors == [
        {
            "row": 1,
            "field": "contract",
            "error": "Your roles do not allow you to ingest observations for “cc_agent_assist.repeat_contact_7d”.",
        }
    ]
    assert not ingest.may_ingest_anywhere(viewer)


def test_an_outsider_is_told_the_same_as_for_a_contract_that_does_not_exist(contract, outsider):
    _clean, hidden = validate_rows([make_row(contract)], user=outsider)
    _clean, missing = validate_rows([make_row(contract, contract="cc_agent_assist.nothing")], user=outsider)
    assert hidden[0]["error"] == missing[0]["error"].replace("cc_agent_assist.nothing", contract.metric_id)
    assert "Unknown contract" in hidden[0]["error"]
    assert ingest.may_ingest_anywhere(outsider)  # a PM elsewhere: refused per contract, not per request


def test_analytics_may_ingest_and_a_pm_elsewhere_only_for_their_own_contracts(
    contract, other_contract, make_person, capability, outsider
):
    analyst = make_person("analytics", capability)
    assert errors_of([make_row(contract)], user=analyst) == []
    rows = [make_row(other_contract, cohort=None), make_row(contract)]
    assert errors_of(rows, user=outsider) == [(2, "contract")]


def test_a_file_import_accepts_only_its_capability_contracts(contract, other_contract, org_pm, capability):
    rows = [make_row(contract), make_row(other_contract, cohort=None)]
    _clean, errors = validate_rows(rows, user=org_pm, capability=capability)
    assert [(e["row"], e["field"]) for e in errors] == [(2, "contract")]
    assert "another capability" in errors[0]["error"]


# Volume ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [10, 100])
def test_contracts_are_looked_up_in_one_query_however_large_the_batch(
    contract, other_contract, pm, days, django_assert_num_queries
):
    rows = daily_rows(contract, days=days) + [
        make_row(other_contract, cohort=None, period_start=(MONDAY + datetime.timedelta(days=d)).isoformat())
        for d in range(days)
    ]
    with django_assert_num_queries(1):
        clean, errors = validate_rows(rows)
    assert len(clean) == 3 * days and not errors
    with django_assert_num_queries(2):  # and the person's roles, once
        validate_rows(rows, user=pm)


def test_writing_takes_the_same_statements_for_ten_times_the_rows(contract, other_contract):
    from django.test.utils import CaptureQueriesContext

    # PostgreSQL: create the stage, COPY, one upsert, drop; SQLite: one executemany per contract.
    with CaptureQueriesContext(connection) as small:
        observations_ingest(daily_rows(contract, days=10))
    with CaptureQueriesContext(connection) as large:
        observations_ingest(daily_rows(contract, days=100, intents=("fraud", "card")))
    assert len(large) == len(small) <= 7
    assert Observation.objects.count() == 220


# Evaluation after ingest ------------------------------------------------------------------------


def test_the_touched_contracts_are_queued_for_evaluation_after_commit(
    contract, other_contract, django_capture_on_commit_callbacks
):
    from contracts import tasks

    fake = mock.Mock()
    rows = daily_rows(contract, days=2) + [make_row(other_contract, cohort=None)]
    with mock.patch.object(tasks, "evaluate_contracts", fake, create=True):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            observations_ingest(rows)
        assert len(callbacks) == 1
        # Queued through productops.jobs.enqueue (in-process in tests: apply_async).
        fake.apply_async.assert_called_once_with(
            args=(),
            kwargs={"contract_ids": sorted([contract.pk, other_contract.pk]), "since": MONDAY.isoformat()},
        )

        fake.reset_mock()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            observations_ingest(rows)  # nothing changed: nothing to evaluate
        assert callbacks == []
        fake.apply_async.assert_not_called()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's executemany counts changed rows but not which: it re-evaluates from the batch's first day",
)
def test_evaluation_starts_from_the_earliest_changed_period(contract, django_capture_on_commit_callbacks):
    from contracts import tasks

    rows = daily_rows(contract, days=10)
    observations_ingest(rows)
    rows[14] = {**rows[14], "value": 0.5}  # day 8
    rows[19] = {**rows[19], "value": 0.5}  # day 10
    fake = mock.Mock()
    with mock.patch.object(tasks, "evaluate_contracts", fake, create=True):
        with django_capture_on_commit_callbacks(execute=True):
            result = observations_ingest(rows)
    assert result.since == MONDAY + datetime.timedelta(days=7)
    fake.apply_async.assert_called_once_with(
        args=(), kwargs={"contract_ids": [contract.pk], "since": "2026-06-08"}
    )


def test_a_bulk_loader_may_skip_the_evaluation_and_run_it_once_after(
    contract, django_capture_on_commit_callbacks
):
    from contracts import tasks

    fake = mock.Mock()
    with mock.patch.object(tasks, "evaluate_contracts", fake, create=True):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = observations_ingest(daily_rows(contract, days=2), evaluate=False)
    assert result.written == 4 and callbacks == []
    fake.apply_async.assert_not_called()


def test_nothing_is_queued_when_the_transaction_rolls_back(contract, django_capture_on_commit_callbacks):
    from contracts import tasks

    fake = mock.Mock()
    with mock.patch.object(tasks, "evaluate_contracts", fake, create=True):
        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError), transaction.atomic():
                observations_ingest([make_row(contract)])
                raise RuntimeError("the caller's work failed")
    fake.apply_async.assert_not_called()
    assert not Observation.objects.exists()


def test_without_an_evaluation_task_ingest_still_works(contract, caplog, django_capture_on_commit_callbacks):
    from contracts import tasks

    with mock.patch.object(tasks, "evaluate_contracts", None, create=True):
        with django_capture_on_commit_callbacks(execute=True):
            observations_ingest([make_row(contract)])
    assert Observation.objects.count() == 1
    assert "No evaluate_contracts task" in caplog.text


# PostgreSQL: COPY into a staging table, one upsert ----------------------------------------------


@postgresql_only
def test_postgresql_stages_the_batch_with_copy_and_drops_the_staging_table(contract):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        observations_ingest(daily_rows(contract, days=3))
    assert any(sql.lstrip().startswith("CREATE TEMP TABLE") for sql in statements)
    assert any("ON CONFLICT" in sql and "IS DISTINCT FROM" in sql for sql in statements)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.contracts_observation_stage')")
        assert cursor.fetchone() == (None,)
    assert Observation.objects.filter(cohort__intent="billing").count() == 3  # jsonb, queryable


@postgresql_only
def test_postgresql_two_batches_in_one_transaction_reuse_the_staging_name(contract):
    with transaction.atomic():
        first = observations_ingest(daily_rows(contract, days=2))
        second = observations_ingest(daily_rows(contract, days=4))
    assert (first.written, second.written) == (4, 4)
    assert Observation.objects.count() == 8


@postgresql_only
def test_postgresql_keeps_unicode_and_quotes_in_cohort_values_and_sources(contract):
    tricky = 'Tab\tand "quotes" \\ back\nslash 账单'
    observations_ingest([make_row(contract, cohort={"intent": tricky}, source=tricky[:100])])
    stored = Observation.objects.get()
    assert stored.cohort == {"intent": tricky}
    assert stored.source == tricky[:100]
    again = observations_ingest([make_row(contract, cohort={"intent": tricky}, source=tricky[:100])])
    assert again.written == 0


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_concurrent_batches_sharing_rows_do_not_deadlock(capability):
    import threading

    from django.db import connections

    shared = MetricContractFactory(capability=capability, cohort_dimensions=["intent", "team"])
    forward = daily_rows(shared, days=2500)
    backward = [{**row, "value": 0.9} for row in reversed(forward)]
    failures = []
    start = threading.Barrier(2)

    def send(rows):
        try:
            start.wait()
            observations_ingest(rows)
        except Exception as error:  # the test reports it below
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(rows,)) for rows in (forward, backward)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert Observation.objects.filter(contract=shared).count() == 5000


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_loses_a_deadlock_is_written_on_the_next_attempt(capability):
    from django.db import OperationalError

    target = MetricContractFactory(capability=capability, cohort_dimensions=["intent", "team"])
    real = ingest.observations_write
    calls = []

    def deadlock_once(clean, **kwargs):
        calls.append(len(clean))
        if len(calls) == 1:
            real(clean, **kwargs)  # written, then rolled back with the failed attempt
            cause = type("DeadlockDetected", (Exception,), {"sqlstate": "40P01"})()
            raise OperationalError("deadlock detected") from cause
        return real(clean, **kwargs)

    with mock.patch.object(ingest, "observations_write", deadlock_once):
        result = observations_ingest(daily_rows(target, days=3))
    assert calls == [6, 6]
    assert result.written == 6
    assert Observation.objects.filter(contract=target).count() == 6


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried(capability):
    from django.db import OperationalError

    target = MetricContractFactory(capability=capability, cohort_dimensions=["intent", "team"])
    broken = mock.Mock(side_effect=OperationalError("server closed the connection"))
    with mock.patch.object(ingest, "observations_write", broken), pytest.raises(OperationalError):
        observations_ingest(daily_rows(target, days=1))
    assert broken.call_count == 1


def test_the_garbage_collector_is_paused_for_a_batch_and_restored_after_it():
    import gc

    assert gc.isenabled()
    with pytest.raises(RuntimeError), ingest.gc_paused():
        assert not gc.isenabled()
        with ingest.gc_paused():
            pass
        assert not gc.isenabled()  # the inner pause does not switch it back on
        raise RuntimeError
    assert gc.isenabled()
