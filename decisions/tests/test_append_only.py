"""A recorded decision is never edited or deleted, whichever path tries."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError

from decisions.models import Decision, EvidenceLink
from decisions.services import decision_supersede
from productops.errors import DomainError

pytestmark = pytest.mark.django_db

ORIGINAL = "Scale selectively: cycle time down in low-risk retail, EDD defects unchanged."


def test_saving_a_recorded_decision_again_is_refused(record):
    decision = record()
    decision.decision = "Scale everywhere"
    with pytest.raises(DomainError, match="never edited"):
        decision.save()
    assert Decision.objects.get(pk=decision.pk).decision == ORIGINAL


def test_a_row_with_a_hand_set_primary_key_does_not_overwrite_a_decision(record, pm):
    decision = record()
    impostor = Decision(
        pk=decision.pk, capability=decision.capability, type="retire", decision="Retire it", owner=pm
    )
    with pytest.raises(DomainError):
        impostor.save()
    assert Decision.objects.get(pk=decision.pk).decision == ORIGINAL


def test_deleting_a_decision_is_refused(record):
    decision = record()
    with pytest.raises(DomainError, match="never deleted"):
        decision.delete()
    assert Decision.objects.filter(pk=decision.pk).exists()


def test_a_queryset_update_is_refused_and_changes_nothing(record):
    decision = record()
    with pytest.raises(DomainError, match="append-only"):
        Decision.objects.filter(pk=decision.pk).update(decision="Scale everywhere")
    with pytest.raises(DomainError):
        Decision.objects.update(type="retire")
    assert Decision.objects.get(pk=decision.pk).decision == ORIGINAL


def test_a_queryset_delete_is_refused(record):
    decision = record()
    with pytest.raises(DomainError):
        Decision.objects.filter(pk=decision.pk).delete()
    assert Decision.objects.filter(pk=decision.pk).exists()


def test_evidence_links_are_never_edited_or_deleted(record):
    decision = record(evidence=["https://wiki.bank.example/kyc-memo"])
    link = decision.evidence_links.get()
    link.url = "https://elsewhere.example"
    with pytest.raises(DomainError):
        link.save()
    with pytest.raises(DomainError):
        link.delete()
    with pytest.raises(DomainError):
        EvidenceLink.objects.filter(pk=link.pk).update(url="https://elsewhere.example")
    with pytest.raises(DomainError):
        EvidenceLink.objects.filter(pk=link.pk).delete()
    assert EvidenceLink.objects.get(pk=link.pk).url == "https://wiki.bank.example/kyc-memo"


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The append-only trigger exists on PostgreSQL only; SQLite relies on the model and queryset guards.",
)
def test_on_postgresql_raw_sql_cannot_update_or_delete_a_decision(record):
    decision = record(evidence=["https://wiki.bank.example/kyc-memo"])
    link = decision.evidence_links.get()
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE decisions_decision SET decision = %s WHERE id = %s", ["Scale everywhere", decision.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM decisions_decision WHERE id = %s", [decision.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE decisions_evidencelink SET url = %s WHERE id = %s", ["https://x.example", link.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM decisions_evidencelink WHERE id = %s", [link.pk])
    assert Decision.objects.get(pk=decision.pk).decision == ORIGINAL
    assert EvidenceLink.objects.get(pk=link.pk).url == "https://wiki.bank.example/kyc-memo"


ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The append-only triggers exist on PostgreSQL only."
)


@ON_POSTGRESQL
def test_on_postgresql_the_orm_cannot_rewrite_a_decision_past_the_model_guards(record):
    """Code that goes around ``AppendOnlyModel`` (the bare queryset, ``Model.save_base``) meets the
    trigger: the error is raised and the row is as recorded."""
    decision = record()
    decision.decision = "Scale everywhere"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        decision.save_base(force_update=True)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Decision.objects.filter(pk=decision.pk)._raw_delete(connection.alias)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Decision.history.filter(id=decision.pk).update(decision="Scale everywhere")
    assert Decision.objects.get(pk=decision.pk).decision == ORIGINAL
    assert [row.decision for row in Decision.history.filter(id=decision.pk)] == [ORIGINAL]


@ON_POSTGRESQL
def test_on_postgresql_superseding_still_works_and_is_in_the_history(record, pm):
    """Supersession is the newer row pointing to the older one: the old row is never updated,
    so the trigger lets it through."""
    old = record()
    new = decision_supersede(old=old, by=pm, decision="Scale to every retail entity")
    assert new.supersedes_id == old.pk
    assert Decision.objects.get(pk=old.pk).successor == new
    assert [(row.history_type, row.history_user) for row in Decision.history.filter(id=new.pk)] == [("+", pm)]
    assert [row.history_type for row in Decision.history.filter(id=old.pk)] == ["+"]


def test_deleting_the_capability_or_a_person_keeps_their_decisions(record, pm):
    decision = record()
    with pytest.raises(ProtectedError), transaction.atomic():
        decision.capability.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        pm.delete()
    assert Decision.objects.get(pk=decision.pk).owner == pm
