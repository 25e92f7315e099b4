"""``contracts.querysets.read_active_contracts``: the boards' read of many contracts holds every
field an ordinary read holds but when the row was created and changed, which it reads on first
use; only the active contracts of the capabilities asked (and of the categories and watches
asked), by capability name and metric id; the instances behave as loaded ones (saving one
updates its row)."""

import pytest

from contracts.models import MetricContract
from contracts.querysets import AUDIT_TIMES, read_active_contracts
from contracts.tests.factories import MetricContractFactory

pytestmark = pytest.mark.django_db


def test_it_reads_every_field_but_the_audit_times(django_assert_num_queries):
    one = MetricContractFactory(metric_id="a.one", stop_level=20.0, watch="slo", status="active")
    MetricContractFactory(
        metric_id="a.two",
        cohort_dimensions=["intent"],
        required_cuts=[],
        status="active",
        capability=one.capability,
    )
    ordinary = {contract.pk: contract for contract in MetricContract.objects.all()}

    with django_assert_num_queries(1):
        read = read_active_contracts([one.capability_id])

    assert [contract.metric_id for contract in read] == ["a.one", "a.two"]
    for contract in read:
        assert contract.get_deferred_fields() == set(AUDIT_TIMES)
        for field in MetricContract._meta.concrete_fields:
            if field.attname not in AUDIT_TIMES:
                assert getattr(contract, field.attname) == getattr(ordinary[contract.pk], field.attname)
    assert read[1].cohort_dimensions == ["intent"]
    assert read[0].format_value(12.5) == "12.5%"


def test_the_audit_times_load_when_read_and_a_save_updates_the_row(django_assert_num_queries):
    contract = MetricContractFactory(metric_id="a.one", status="active")
    (read,) = read_active_contracts([contract.capability_id])

    with django_assert_num_queries(1):
        assert read.created_at == contract.created_at
    assert not read._state.adding
    read.name = "Renamed"
    read.save()

    assert MetricContract.objects.count() == 1
    assert MetricContract.objects.get().name == "Renamed"


def test_only_the_active_contracts_asked_for_by_capability_name_then_metric_id():
    from portfolio.tests.factories import CapabilityFactory

    zeta, alpha, other = (CapabilityFactory(name=name) for name in ("Zeta", "Alpha", "Other"))
    MetricContractFactory(metric_id="z.cost", capability=zeta, status="active", category="cost", watch="")
    MetricContractFactory(
        metric_id="z.slo", capability=zeta, status="active", category="reliability", watch="slo"
    )
    MetricContractFactory(metric_id="a.draft", capability=alpha, status="draft")
    MetricContractFactory(metric_id="a.retired", capability=alpha, status="retired")
    MetricContractFactory(
        metric_id="a.b", capability=alpha, status="active", category="reliability", watch="latency"
    )
    MetricContractFactory(metric_id="a.a", capability=alpha, status="active", category="cost", watch="")
    MetricContractFactory(metric_id="o.a", capability=other, status="active")

    def read(**narrowed):
        return [contract.metric_id for contract in read_active_contracts([zeta.pk, alpha.pk], **narrowed)]

    assert read() == ["a.a", "a.b", "z.cost", "z.slo"]
    assert read(categories=["cost"]) == ["a.a", "z.cost"]
    assert read(watches=["slo", "latency"]) == ["a.b", "z.slo"]
    assert read(categories=["reliability"], other_than_watches=["slo"]) == ["a.b"]
    assert read_active_contracts([]) == []
