"""The ledger's reads: chainable, and the status counts in one query."""

from datetime import date

import pytest

from assumptions.models import Assumption
from assumptions.querysets import counts_by_status
from assumptions.tests.factories import AssumptionFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def test_visible_to_hides_other_capabilities(assumption, other_assumption, pm, viewer, outsider):
    assert list(Assumption.objects.visible_to(pm)) == [assumption]
    assert list(Assumption.objects.visible_to(outsider)) == [other_assumption]
    assert set(Assumption.objects.visible_to(viewer)) == {assumption, other_assumption}


def test_expiring_within_counts_only_live_assumptions_in_the_window(capability, owner):
    soon = AssumptionFactory(capability=capability, owner=owner, expires_on=date(2026, 11, 30))
    AssumptionFactory(capability=capability, owner=owner, expires_on=date(2027, 2, 1))
    AssumptionFactory(capability=capability, owner=owner, expires_on=date(2026, 11, 30), status="invalidated")
    AssumptionFactory(capability=capability, owner=owner, expires_on=date(2026, 11, 20))
    assert list(Assumption.objects.expiring_within(14, today=TODAY)) == [soon]


def test_needs_review_lists_assumptions_whose_next_review_has_passed(capability, owner):
    late = AssumptionFactory(capability=capability, owner=owner, next_review_on=date(2026, 11, 1))
    AssumptionFactory(capability=capability, owner=owner, next_review_on=TODAY)
    AssumptionFactory(capability=capability, owner=owner, next_review_on=None)
    AssumptionFactory(
        capability=capability, owner=owner, next_review_on=date(2026, 11, 1), status="invalidated"
    )
    assert list(Assumption.objects.needs_review(TODAY)) == [late]


def test_with_status_and_expired_filter_by_status(capability, owner):
    expired = AssumptionFactory(capability=capability, owner=owner, status="expired")
    confirmed = AssumptionFactory(capability=capability, owner=owner, status="confirmed")
    assert list(Assumption.objects.expired()) == [expired]
    assert list(Assumption.objects.with_status("confirmed")) == [confirmed]
    assert list(Assumption.objects.for_capability(capability).with_status("expired", "confirmed")) == [
        confirmed,
        expired,
    ]


def test_counts_by_status_cover_every_status_in_one_query(
    capability, other_capability, owner, django_assert_num_queries
):
    for status in ["confirmed", "confirmed", "weakened", "expired"]:
        AssumptionFactory(capability=capability, owner=owner, status=status)
    AssumptionFactory(capability=other_capability, owner=owner, status="invalidated")
    with django_assert_num_queries(1):
        counts = counts_by_status(capability)
    assert counts == {"needs_evidence": 0, "confirmed": 2, "weakened": 1, "invalidated": 0, "expired": 1}
