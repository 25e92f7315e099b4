"""A recorded decision is never edited or deleted, whichever path tries."""

import pytest
from django.db import DatabaseError, connection, transaction

from decisions.models import Decision, EvidenceLink
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
