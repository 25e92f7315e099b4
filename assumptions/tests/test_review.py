"""The one way an assumption's status changes: ``Assumption.review``, one review row each time."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from assumptions.choices import TRANSITIONS, AssumptionStatus
from assumptions.models import AssumptionReview
from productops.errors import DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db

S = AssumptionStatus


def test_each_status_change_writes_exactly_one_review_row_with_the_previous_status(assumption, pm):
    first = assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="8 weeks of data (E3).")
    second = assumption.review(
        by=pm,
        new_status=S.WEAKENED,
        new_evidence="Repeat contact up in two cohorts.",
        roadmap_impact="Cohort cut added to the backlog.",
        next_review=timezone.localdate() + timedelta(days=30),
    )
    rows = list(AssumptionReview.objects.filter(assumption=assumption).order_by("pk"))
    assert rows == [first, second]
    assert [(r.previous_status, r.new_status) for r in rows] == [
        (S.NEEDS_EVIDENCE, S.CONFIRMED),
        (S.CONFIRMED, S.WEAKENED),
    ]
    assert rows[1].new_evidence == "Repeat contact up in two cohorts."
    assert rows[1].roadmap_impact == "Cohort cut added to the backlog."
    assert rows[1].reviewed_by == pm
    assumption.refresh_from_db()
    assert assumption.status == S.WEAKENED
    assert assumption.next_review_on == timezone.localdate() + timedelta(days=30)


def test_a_review_makes_its_new_evidence_the_assumptions_evidence_and_history_keeps_the_old(assumption, pm):
    assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="QA queue flat at 2% sample.")
    assumption.refresh_from_db()
    assert assumption.evidence == "QA queue flat at 2% sample."
    assert assumption.history.earliest().evidence == "Pilot data (E1)."


def test_a_review_leaves_a_history_entry_with_who_and_why(assumption, pm):
    assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="Evidence.")
    latest = assumption.history.latest()
    assert latest.status == S.CONFIRMED
    assert latest.history_user == pm
    assert latest.history_change_reason == "Review: Needs evidence → Confirmed"


def test_an_invalidated_assumption_cannot_move_again_and_nothing_is_written(assumption, pm):
    assumption.review(by=pm, new_status=S.INVALIDATED, new_evidence="Queue time rose 18%.")
    history_before = assumption.history.count()
    for target in S.values:
        with pytest.raises(TransitionNotAllowed):
            assumption.review(by=pm, new_status=target, new_evidence="Try again.")
    assumption.refresh_from_db()
    assert assumption.status == S.INVALIDATED
    assert assumption.reviews.count() == 1
    assert assumption.history.count() == history_before


def test_an_illegal_move_is_checked_against_the_stored_status_not_a_stale_copy(assumption, pm):
    stale = type(assumption).objects.get(pk=assumption.pk)
    assumption.review(by=pm, new_status=S.INVALIDATED, new_evidence="Failed.")
    with pytest.raises(TransitionNotAllowed, match="Cannot move from Invalidated to Confirmed"):
        stale.review(by=pm, new_status=S.CONFIRMED, new_evidence="Looks fine to me.")
    assert assumption.reviews.count() == 1


def test_an_expired_assumption_is_not_expired_twice(assumption, pm):
    assumption.review(by=None, new_status=S.EXPIRED, new_evidence="Release changed the model.")
    with pytest.raises(TransitionNotAllowed):
        assumption.review(by=None, new_status=S.EXPIRED, new_evidence="Again.")
    assert assumption.reviews.count() == 1


def test_an_expired_assumption_is_reopened_only_with_a_new_expiry_date(assumption, pm):
    assumption.review(by=None, new_status=S.EXPIRED, new_evidence="Release changed the model.")
    with pytest.raises(DomainError) as refused:
        assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="Re-tested on the new model.")
    assert refused.value.field == "expires_on"
    assert assumption.reviews.count() == 1
    new_expiry = timezone.localdate() + timedelta(days=90)
    assumption.review(
        by=pm, new_status=S.CONFIRMED, new_evidence="Re-tested on the new model.", expires_on=new_expiry
    )
    assumption.refresh_from_db()
    assert (assumption.status, assumption.expires_on) == (S.CONFIRMED, new_expiry)


def test_an_expired_assumption_may_be_invalidated_without_a_new_expiry(assumption, pm):
    assumption.review(by=None, new_status=S.EXPIRED, new_evidence="Past expiry.")
    assumption.review(by=pm, new_status=S.INVALIDATED, new_evidence="The new policy removes the premise.")
    assert assumption.status == S.INVALIDATED


def test_a_new_expiry_date_must_be_after_today(assumption, pm):
    with pytest.raises(DomainError) as refused:
        assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="E3.", expires_on=timezone.localdate())
    assert refused.value.field == "expires_on"
    assert assumption.reviews.count() == 0


def test_a_live_assumption_past_its_expiry_needs_a_new_expiry_to_stay_live(assumption, pm):
    with time_machine.travel(assumption.expires_on + timedelta(days=2)):
        with pytest.raises(DomainError) as refused:
            assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="Still true.")
        assert refused.value.field == "expires_on"
        assumption.review(by=pm, new_status=S.INVALIDATED, new_evidence="No longer true.")
    assert assumption.status == S.INVALIDATED


@pytest.mark.parametrize("evidence", ["", "   "])
def test_a_review_needs_new_evidence(assumption, pm, evidence):
    with pytest.raises(DomainError) as refused:
        assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence=evidence)
    assert refused.value.field == "new_evidence"
    assumption.refresh_from_db()
    assert assumption.status == S.NEEDS_EVIDENCE
    assert assumption.reviews.count() == 0


def test_the_next_review_cannot_be_in_the_past(assumption, pm):
    with pytest.raises(DomainError) as refused:
        assumption.review(
            by=pm,
            new_status=S.CONFIRMED,
            new_evidence="E3.",
            next_review=timezone.localdate() - timedelta(days=1),
        )
    assert refused.value.field == "next_review"
    assert assumption.reviews.count() == 0


@pytest.mark.parametrize("role", ["viewer", "ops", "risk_compliance", "executive", "finance"])
def test_a_person_whose_raci_letter_is_c_or_i_cannot_review(assumption, capability, make_person, role):
    person = make_person(role, capability)
    with pytest.raises(PermissionDenied):
        assumption.review(by=person, new_status=S.CONFIRMED, new_evidence="I think so.")
    assumption.refresh_from_db()
    assert assumption.status == S.NEEDS_EVIDENCE
    assert assumption.reviews.count() == 0


@pytest.mark.parametrize("role", ["ai_pm", "business_analyst", "analytics"])
def test_the_ledgers_a_and_r_roles_may_review(assumption, capability, make_person, role):
    person = make_person(role, capability)
    assumption.review(by=person, new_status=S.CONFIRMED, new_evidence="Sampled (E2).")
    assert assumption.reviews.get().reviewed_by == person


def test_a_person_of_another_capability_cannot_review(assumption, outsider):
    with pytest.raises(PermissionDenied):
        assumption.review(by=outsider, new_status=S.CONFIRMED, new_evidence="E3.")
    assert assumption.reviews.count() == 0


def test_the_ledger_itself_reviews_without_a_person(assumption):
    row = assumption.review(by=None, new_status=S.EXPIRED, new_evidence="Past expiry.")
    assert row.reviewed_by is None
    assert assumption.history.latest().history_user is None


def test_a_review_may_reset_confidence_and_name_where_it_happened(assumption, pm, capability):
    # Any saved record can be the source (a forum session or decision once they exist).
    row = assumption.review(
        by=pm, new_status=S.CONFIRMED, new_evidence="E4 experiment.", confidence="high", source=capability
    )
    row.refresh_from_db()
    assert row.source == capability
    assumption.refresh_from_db()
    assert assumption.confidence == "high"


def test_a_recorded_review_is_never_changed(assumption, pm):
    row = assumption.review(by=pm, new_status=S.CONFIRMED, new_evidence="E3.")
    row.new_evidence = "Rewritten."
    with pytest.raises(DomainError):
        row.save()
    row.refresh_from_db()
    assert row.new_evidence == "E3."


def test_the_state_machine_closes_invalidated_and_never_loops_on_expired():
    assert set(TRANSITIONS) == set(S.values)
    assert TRANSITIONS[S.INVALIDATED] == set()
    assert S.EXPIRED not in TRANSITIONS[S.EXPIRED]
    assert all(targets <= set(S.values) for targets in TRANSITIONS.values())
