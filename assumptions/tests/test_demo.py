"""The demo ledgers: every type, every status the monthly value review uses, idempotent."""

import pytest
from django.core import mail

from assumptions import demo as assumptions_demo
from assumptions.choices import AssumptionType
from assumptions.models import Assumption, AssumptionReview
from portfolio import demo as portfolio_demo
from productops.demo_people import DemoContext
from productops.models import Notification

pytestmark = pytest.mark.django_db


def seed():
    context = DemoContext(seed=20260701, password="demo")
    portfolio_demo.seed(context)
    assumptions_demo.seed(context)
    return context


def test_each_capability_gets_a_reviewed_ledger_across_all_seven_types(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        context = seed()
    for capability in context.capabilities.values():
        ledger = Assumption.objects.for_capability(capability)
        assert 6 <= ledger.count() <= 12
        assert set(ledger.values_list("type", flat=True)) == set(AssumptionType.values)
        statuses = set(ledger.values_list("status", flat=True))
        assert {"confirmed", "weakened", "invalidated", "expired", "needs_evidence"} <= statuses
        invalidated = ledger.get(status="invalidated")
        assert list(invalidated.reviews.values_list("new_status", flat=True)) == ["weakened", "invalidated"]
        expired = ledger.get(status="expired")
        review = expired.reviews.get()
        assert review.reviewed_by is None and review.new_evidence.startswith("Expired on ")
        assert ledger.needs_review().exists()
        for assumption in ledger:
            # Every status the demo shows was reached through a review row, never written around it.
            last = assumption.reviews.last()
            assert (last.new_status if last else "needs_evidence") == assumption.status
    assert Notification.objects.count() == 6
    assert len(mail.outbox) == 6


def test_seeding_twice_changes_nothing():
    seed()
    counts = (Assumption.objects.count(), AssumptionReview.objects.count(), Notification.objects.count())
    statuses = list(Assumption.objects.order_by("pk").values_list("status", flat=True))
    seed()
    assert (
        Assumption.objects.count(),
        AssumptionReview.objects.count(),
        Notification.objects.count(),
    ) == counts
    assert list(Assumption.objects.order_by("pk").values_list("status", flat=True)) == statuses
