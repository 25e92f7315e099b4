"""``ContractQuerySet.read_without_audit_times``: the boards' read of many contracts holds every
field an ordinary read holds but when the row was created and changed, which it reads on first
use; the instances behave as loaded ones (saving one updates its row)."""

import pytest

from contracts.models import MetricContract
from contracts.querysets import AUDIT_TIMES
from contracts.tests.factories import MetricContractFactory

pytestmark = pytest.mark.django_db


def test_it_reads_every_field_but_the_audit_times(django_assert_num_queries):
    MetricContractFactory(metric_id="a.one", stop_level=20.0, watch="slo")
    MetricContractFactory(metric_id="a.two", cohort_dimensions=["intent"], required_cuts=[])
    ordinary = {contract.pk: contract for contract in MetricContract.objects.all()}

    with django_assert_num_queries(1):
        read = MetricContract.objects.order_by("metric_id").read_without_audit_times()

    assert [contract.metric_id for contract in read] == ["a.one", "a.two"]
    for contract in read:
        assert contract.get_deferred_fields() == set(AUDIT_TIMES)
        for field in MetricContract._meta.concrete_fields:
            if field.attname not in AUDIT_TIMES:
                assert getattr(contract, field.attname) == getattr(ordinary[contract.pk], field.attname)
    assert read[1].cohort_dimensions == ["intent"]
    assert read[0].format_value(12.5) == "12.5%"


def test_the_audit_times_load_when_read_and_a_save_updates_the_row(django_assert_num_queries):
    contract = MetricContractFactory(metric_id="a.one")
    (read,) = MetricContract.objects.read_without_audit_times()

    with django_assert_num_queries(1):
        assert read.created_at == contract.created_at
    assert not read._state.adding
    read.name = "Renamed"
    read.save()

    assert MetricContract.objects.count() == 1
    assert MetricContract.objects.get().name == "Renamed"
