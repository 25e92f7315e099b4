"""The ledger expires assumptions by itself: past their expiry date (the daily job) or when a
release changes what they rest on (the releases app's call)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail

from assumptions.models import Assumption, AssumptionReview
from assumptions.services import assumptions_expire_due, assumptions_expire_for_release
from assumptions.tasks import expire_assumptions
from assumptions.tests.factories import AssumptionFactory
from productops.errors import DomainError
from productops.models import Notification

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


@pytest.fixture
def due(capability, owner):
    return AssumptionFactory(
        capability=capability, owner=owner, expires_on=date(2026, 11, 20), status="confirmed"
    )


@pytest.fixture
def not_yet(capability, owner):
    """Its expiry is today: it may still be relied on today."""
    return AssumptionFactory(capability=capability, owner=owner, expires_on=TODAY)


def test_the_job_turns_a_past_expiry_assumption_expired_with_a_review_saying_why(due, not_yet):
    with time_machine.travel(TODAY):
        expire_assumptions.delay()
    due.refresh_from_db()
    assert due.status == "expired"
    review = due.reviews.get()
    assert (review.previous_status, review.new_status, review.reviewed_by) == ("confirmed", "expired", None)
    assert review.new_evidence == "Expired on 2026-11-20: past its expiry date without review."
    assert due.evidence == review.new_evidence
    not_yet.refresh_from_db()
    assert not_yet.status == "needs_evidence"
    assert not not_yet.reviews.exists()


def test_the_job_tells_the_owner_once_with_a_link_to_the_page(due, owner, django_capture_on_commit_callbacks):
    with time_machine.travel(TODAY), django_capture_on_commit_callbacks(execute=True):
        expire_assumptions.delay()
    note = Notification.objects.get()
    assert note.recipient == owner
    assert due.readable_id in note.subject
    assert note.url == due.get_absolute_url()
    assert note.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner.email]
    assert due.get_absolute_url() in mail.outbox[0].body


def test_a_second_run_changes_nothing_and_sends_nothing(due, django_capture_on_commit_callbacks):
    with time_machine.travel(TODAY):
        with django_capture_on_commit_callbacks(execute=True):
            assert expire_assumptions.delay().get() == [due.readable_id]
        history = due.history.count()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert expire_assumptions.delay().get() == []
    assert callbacks == []
    assert AssumptionReview.objects.count() == 1
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1
    assert due.history.count() == history


def test_invalidated_and_already_expired_assumptions_are_left_alone(capability, owner):
    for status in ["invalidated", "expired"]:
        AssumptionFactory(capability=capability, owner=owner, expires_on=date(2026, 1, 1), status=status)
    with time_machine.travel(TODAY):
        assert assumptions_expire_due() == []
    assert not AssumptionReview.objects.exists()
    assert not Notification.objects.exists()


def test_every_live_status_past_expiry_expires(capability, owner):
    rows = [
        AssumptionFactory(capability=capability, owner=owner, expires_on=date(2026, 11, 1), status=status)
        for status in ["needs_evidence", "confirmed", "weakened"]
    ]
    assert {a.pk for a in assumptions_expire_due(today=TODAY)} == {a.pk for a in rows}
    assert set(Assumption.objects.values_list("status", flat=True)) == {"expired"}


def test_the_due_assumptions_are_found_in_one_query(capability, owner, django_assert_num_queries):
    AssumptionFactory.create_batch(20, capability=capability, owner=owner, expires_on=date(2027, 1, 1))
    with django_assert_num_queries(1):
        assert assumptions_expire_due(today=TODAY) == []


def test_the_task_runs_under_the_name_the_beat_schedule_uses():
    scheduled = settings.CELERY_BEAT_SCHEDULE["assumptions-expire-daily"]["task"]
    assert expire_assumptions.name == scheduled == "assumptions.tasks.expire_assumptions"


def test_the_task_can_replay_a_missed_day(due):
    assert expire_assumptions.delay("2026-11-20").get() == []
    assert expire_assumptions.delay("2026-11-21").get() == [due.readable_id]


def test_a_release_expires_the_assumptions_resting_on_what_it_changed(
    capability, other_capability, owner, pm
):
    on_model = AssumptionFactory(
        capability=capability, owner=owner, depends_on_object_types=["model", "prompt"]
    )
    on_policy = AssumptionFactory(capability=capability, owner=owner, depends_on_object_types=["policy"])
    elsewhere = AssumptionFactory(capability=other_capability, owner=owner, depends_on_object_types=["model"])
    closed = AssumptionFactory(
        capability=capability, owner=owner, depends_on_object_types=["model"], status="invalidated"
    )
    # The capability stands in for the release record (any saved row can be the review's source).
    expired = assumptions_expire_for_release(
        capability=capability,
        object_type="model",
        reason="REL-2026-0012 moves to m-2026-11.",
        source=capability,
    )
    assert [a.pk for a in expired] == [on_model.pk]
    on_model.refresh_from_db()
    assert on_model.status == "expired"
    review = on_model.reviews.get()
    assert review.reviewed_by is None and review.source == capability
    assert "model it depends on changed" in review.new_evidence and "REL-2026-0012" in review.new_evidence
    assert Notification.objects.get().recipient == owner
    for untouched in [on_policy, elsewhere, closed]:
        untouched.refresh_from_db()
        assert not untouched.reviews.exists()
    assert on_policy.status == "needs_evidence" and closed.status == "invalidated"


def test_a_release_names_only_object_types_a_release_can_change(capability):
    with pytest.raises(DomainError) as refused:
        assumptions_expire_for_release(capability=capability, object_type="weather", reason="?")
    assert refused.value.field == "object_type"


def test_a_release_does_not_expire_an_assumption_twice(capability, owner):
    AssumptionFactory(capability=capability, owner=owner, depends_on_object_types=["model"])
    assert len(assumptions_expire_for_release(capability=capability, object_type="model", reason="a")) == 1
    assert assumptions_expire_for_release(capability=capability, object_type="model", reason="b") == []
    assert AssumptionReview.objects.count() == 1


def test_past_expiry_uses_the_organisations_today_when_none_is_given(due):
    with time_machine.travel(TODAY - timedelta(days=10)):
        assert assumptions_expire_due() == []
