"""decision_record / decision_supersede: the rules every page, API call and later register share."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from decisions.models import Decision
from decisions.services import decision_record, decision_supersede, evidence_split
from decisions.tests.factories import DecisionFactory
from productops.errors import DomainError

pytestmark = pytest.mark.django_db


def test_the_pm_records_a_decision_resting_on_records_and_links(record, pm, capability):
    earlier = record(type="metric_definition_change", decision="False-pass rate on 400 stratified files")
    decision = record(evidence=[earlier.readable_id.lower(), "https://wiki.bank.example/kyc-memo"])

    assert decision.readable_id.startswith("DEC-")
    assert decision.recorded_by == pm
    assert decision.decided_on == timezone.localdate()
    links = list(decision.evidence_links.all())
    assert [link.reference for link in links] == [earlier.readable_id, ""]
    assert links[0].target == earlier
    assert links[0].href == earlier.get_absolute_url()
    assert links[1].url == links[1].href == "https://wiki.bank.example/kyc-memo"
    assert decision.has_evidence
    assert decision.history.get().history_user == pm


def test_an_unknown_evidence_id_is_refused_naming_the_field_and_the_id(record):
    earlier = record()
    with pytest.raises(DomainError) as refused:
        record(decision="Scale", evidence=[earlier.readable_id, "DEC-9999"])
    assert refused.value.field == "evidence"
    assert "DEC-9999" in refused.value.message
    assert Decision.objects.count() == 1


def test_evidence_from_a_capability_the_recorder_cannot_see_reads_as_unknown(record, other_capability):
    hidden = DecisionFactory(capability=other_capability)
    with pytest.raises(DomainError) as refused:
        record(evidence=[hidden.readable_id])
    assert refused.value.field == "evidence"
    assert hidden.readable_id in refused.value.message


def test_a_decision_without_evidence_is_recorded_and_marked(record):
    decision = record()
    assert not decision.has_evidence
    assert list(Decision.objects.without_evidence()) == [decision]


def test_a_viewer_cannot_record_a_decision(record, viewer):
    with pytest.raises(PermissionDenied):
        record(by=viewer)
    assert not Decision.objects.exists()


def test_an_executive_records_a_decision(record, executive):
    decision = record(by=executive, owner=executive, type="fund")
    assert decision.recorded_by == executive


def test_the_system_records_without_a_person(record):
    decision = record(by=None)
    assert decision.recorded_by is None


def test_the_owner_must_hold_a_role_on_the_capability(record, outsider):
    with pytest.raises(DomainError) as refused:
        record(owner=outsider)
    assert refused.value.field == "owner"


def test_a_decision_is_never_dated_in_the_future(record):
    with pytest.raises(DomainError) as refused:
        record(decided_on=timezone.localdate() + datetime.timedelta(days=1))
    assert refused.value.field == "decided_on"


def test_the_review_date_is_not_before_the_decision(record):
    with pytest.raises(DomainError) as refused:
        record(review_date=timezone.localdate() - datetime.timedelta(days=1))
    assert refused.value.field == "review_date"


def test_superseding_records_a_new_decision_and_leaves_the_old_one_untouched(record, pm):
    old = record()
    before = Decision.objects.filter(pk=old.pk).values().get()
    new = decision_supersede(old=old, by=pm, decision="Extend to single-director limited companies")

    assert new.supersedes == old
    assert new.type == old.type and new.owner == old.owner and new.capability == old.capability
    assert Decision.objects.filter(pk=old.pk).values().get() == before
    old = Decision.objects.get(pk=old.pk)
    assert old.successor == new and not old.is_current
    assert list(Decision.objects.current()) == [new]
    assert list(Decision.objects.superseded()) == [old]
    assert old.chain() == new.chain() == [old, new]


def test_a_decision_is_superseded_only_once(record, pm):
    old = record()
    first = decision_supersede(old=old, by=pm, decision="Extend to limited companies")
    with pytest.raises(DomainError) as refused:
        decision_supersede(old=old, by=pm, decision="Extend to complex entities")
    assert refused.value.field == "supersedes"
    assert first.readable_id in refused.value.message
    assert Decision.objects.count() == 2


def test_the_database_refuses_a_second_successor_too(record, pm):
    old = record()
    decision_supersede(old=old, by=pm, decision="Extend to limited companies")
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionFactory(capability=old.capability, supersedes=old)


def test_only_a_decision_of_the_same_capability_can_be_superseded(record, other_capability, pm):
    foreign = DecisionFactory(capability=other_capability)
    with pytest.raises(DomainError) as refused:
        record(supersedes=foreign)
    assert refused.value.field == "supersedes"


def test_a_viewer_cannot_supersede(record, viewer):
    old = record()
    with pytest.raises(PermissionDenied):
        decision_supersede(old=old, by=viewer, decision="Retire")
    assert Decision.objects.count() == 1


def test_a_chain_of_three_reads_oldest_first_from_any_link(record, pm):
    first = record()
    second = decision_supersede(old=first, by=pm, decision="Second")
    third = decision_supersede(old=second, by=pm, decision="Third")
    assert first.chain() == second.chain() == third.chain() == [first, second, third]


def test_the_querysets_read_as_the_log_is_used(record, capability, other_capability, pm, outsider):
    today = timezone.localdate()
    due = record(type="restrict", decided_on=today - datetime.timedelta(days=30), review_date=today)
    later = record(type="fund", review_date=today + datetime.timedelta(days=30), evidence=[due.readable_id])
    foreign = DecisionFactory(capability=other_capability)

    assert list(Decision.objects.due_for_review(today)) == [due]
    assert list(Decision.objects.of_type("fund")) == [later]
    assert list(Decision.objects.without_evidence().for_capability(capability)) == [due]
    assert list(Decision.objects.with_evidence()) == [later]
    assert set(Decision.objects.visible_to(pm)) == {due, later}
    assert list(Decision.objects.visible_to(outsider)) == [foreign]
    counted = {d.pk: d.evidence_total for d in Decision.objects.with_evidence_count()}
    assert counted == {due.pk: 0, later.pk: 1, foreign.pk: 0}


def test_typed_evidence_splits_on_commas_spaces_and_lines():
    assert evidence_split("ACT-0003, REL-2026-001;\nhttps://x.example/a DEC-0001") == [
        "ACT-0003",
        "REL-2026-001",
        "https://x.example/a",
        "DEC-0001",
    ]


def test_a_record_can_be_passed_as_evidence_directly(record, capability):
    decision = record(evidence=[capability])
    link = decision.evidence_links.get()
    assert link.target == capability
    assert link.href == capability.get_absolute_url()


def test_the_forum_session_is_a_generic_link(record, capability):
    decision = decision_record(
        capability=capability,
        by=None,
        type="continue",
        decision="Continue",
        owner=record().owner,
        forum_session=capability,  # any record stands in until forums exist
    )
    assert Decision.objects.get(pk=decision.pk).forum_session == capability
