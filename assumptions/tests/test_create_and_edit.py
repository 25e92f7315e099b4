"""Adding an assumption to the ledger and editing what it says (``assumption_create``/``_update``)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from assumptions.models import Assumption
from assumptions.services import assumption_create, assumption_update
from productops.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields(capability, owner):
    return {
        "capability": capability,
        "statement": "Reducing average handle time creates net benefit after repeat contact.",
        "type": "value",
        "owner": owner,
        "confidence": "medium",
        "expires_on": timezone.localdate() + timedelta(days=90),
        "tested_by_contracts": ["cc_agent_assist.repeat_contact_7d"],
        "depends_on_object_types": ["model", "workflow"],
    }


def test_a_new_assumption_needs_evidence_and_gets_a_readable_id(pm, fields):
    created = assumption_create(by=pm, **fields)
    assert created.status == "needs_evidence"
    assert created.readable_id.startswith("ASM-") and len(created.readable_id) == 8
    assert created.tested_by_contracts == ["cc_agent_assist.repeat_contact_7d"]
    assert created.history.latest().history_user == pm


@pytest.mark.parametrize(
    "bad",
    ["repeat_contact_7d", "CC_Agent.Repeat", "cc-agent-assist.repeat", "cc.agent.assist", "cc agent.x"],
)
def test_an_invalid_contract_id_is_refused_naming_the_field(pm, fields, bad):
    with pytest.raises(DomainError) as refused:
        assumption_create(by=pm, **{**fields, "tested_by_contracts": ["cc_agent_assist.aht", bad]})
    assert refused.value.field == "tested_by_contracts"
    assert bad in refused.value.message
    assert not Assumption.objects.exists()


def test_contract_ids_are_trimmed_and_kept_once(pm, fields):
    ids = [" cc_agent_assist.aht ", "cc_agent_assist.aht", "", "cc_agent_assist.repeat_contact_7d"]
    created = assumption_create(by=pm, **{**fields, "tested_by_contracts": ids})
    assert created.tested_by_contracts == ["cc_agent_assist.aht", "cc_agent_assist.repeat_contact_7d"]


def test_an_unknown_object_type_is_refused_naming_the_field(pm, fields):
    with pytest.raises(DomainError) as refused:
        assumption_create(by=pm, **{**fields, "depends_on_object_types": ["model", "weather"]})
    assert refused.value.field == "depends_on_object_types"
    assert not Assumption.objects.exists()


@pytest.mark.parametrize("days", [0, -1, -30])
def test_the_expiry_must_be_in_the_future_at_creation(pm, fields, days):
    with pytest.raises(DomainError) as refused:
        assumption_create(by=pm, **{**fields, "expires_on": timezone.localdate() + timedelta(days=days)})
    assert refused.value.field == "expires_on"
    assert not Assumption.objects.exists()


def test_the_owner_must_hold_a_role_on_the_capability(pm, fields, outsider):
    with pytest.raises(DomainError) as refused:
        assumption_create(by=pm, **{**fields, "owner": outsider})
    assert refused.value.field == "owner"
    assert not Assumption.objects.exists()


def test_an_organisation_wide_person_may_own_any_capabilitys_assumption(pm, fields, risk):
    assert assumption_create(by=pm, **{**fields, "owner": risk}).owner == risk


@pytest.mark.parametrize("field", ["statement", "type", "confidence"])
def test_a_missing_or_unknown_value_names_its_field(pm, fields, field):
    with pytest.raises(DomainError) as refused:
        assumption_create(by=pm, **{**fields, field: ""})
    assert refused.value.field == field


def test_a_person_without_the_ledger_right_cannot_add(fields, viewer, owner):
    for person in [viewer, owner]:
        with pytest.raises(PermissionDenied):
            assumption_create(by=person, **fields)
    assert not Assumption.objects.exists()


def test_an_edit_changes_what_the_assumption_says_and_history_records_it(assumption, pm):
    assumption_update(assumption=assumption, by=pm, statement="QA can sample 3%.", confidence="low")
    assumption.refresh_from_db()
    assert (assumption.statement, assumption.confidence) == ("QA can sample 3%.", "low")
    assert assumption.history.latest().history_user == pm


def test_an_edit_cannot_change_the_status(assumption, pm):
    with pytest.raises(DomainError) as refused:
        assumption_update(assumption=assumption, by=pm, status="confirmed")
    assert refused.value.field == "status"
    assumption.refresh_from_db()
    assert assumption.status == "needs_evidence"
    assert assumption.reviews.count() == 0


def test_an_edit_cannot_move_the_expiry_into_the_past(assumption, pm):
    with pytest.raises(DomainError) as refused:
        assumption_update(assumption=assumption, by=pm, expires_on=timezone.localdate() - timedelta(days=1))
    assert refused.value.field == "expires_on"


def test_an_edit_validates_contract_ids(assumption, pm):
    with pytest.raises(DomainError) as refused:
        assumption_update(assumption=assumption, by=pm, tested_by_contracts=["not a contract"])
    assert refused.value.field == "tested_by_contracts"
    assumption.refresh_from_db()
    assert assumption.tested_by_contracts == ["cc_agent_assist.repeat_contact_7d"]


def test_an_edit_without_a_change_writes_no_history(assumption, pm):
    before = assumption.history.count()
    assumption_update(assumption=assumption, by=pm, statement=assumption.statement)
    assert assumption.history.count() == before


def test_a_viewer_cannot_edit(assumption, viewer):
    with pytest.raises(PermissionDenied):
        assumption_update(assumption=assumption, by=viewer, statement="Changed")
