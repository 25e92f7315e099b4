"""The rules of a metric contract, through the model and the services every door calls."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contracts.models import MetricContract
from contracts.services import (
    contract_activate,
    contract_create,
    contract_retire,
    contract_update,
    contracts_review_reminders,
)
from contracts.tests.factories import MetricContractFactory, contract_kwargs
from decisions.models import Decision
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.urls("contracts.tests.test_contract_urls")]


@pytest.fixture
def analyst(make_person, capability):
    """Analytics: R on metric contracts, only C on the decision log."""
    return make_person("analytics", capability, username="analyst")


@pytest.fixture
def make_contract(capability, pm, analyst):
    def make(**overrides):
        fields = contract_kwargs(capability, business_owner=pm, analytics_owner=analyst)
        fields.update(overrides)
        return contract_create(by=pm, **fields)

    return make


@pytest.fixture
def active(make_contract, pm):
    contract = make_contract()
    return contract_activate(contract=contract, by=pm)


def definition_decisions():
    return Decision.objects.filter(type="metric_definition_change")


# --- thresholds coherent with the direction ------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "thresholds", "field", "message"),
    [
        ("lower", {"target": 10, "warning": 16, "breach": 15}, "breach", "warning ≤ breach must hold"),
        ("lower", {"target": 13, "warning": 12, "breach": 15}, "warning", "target ≤ warning must hold"),
        ("higher", {"target": 80, "warning": 85, "breach": 70}, "warning", "target ≥ warning must hold"),
        ("higher", {"target": 90, "warning": 80, "breach": 85}, "breach", "warning ≥ breach must hold"),
    ],
)
def test_incoherent_thresholds_are_refused_naming_the_field(
    make_contract, direction, thresholds, field, message
):
    with pytest.raises(ValidationError) as refused:
        make_contract(direction=direction, **thresholds)
    errors = refused.value.message_dict
    assert field in errors
    label = "lower is better" if direction == "lower" else "higher is better"
    assert f"For a {label} metric, {message}" in errors[field][0]
    assert not MetricContract.objects.exists()


def test_a_stop_level_on_the_better_side_of_breach_is_refused(make_contract):
    with pytest.raises(ValidationError) as refused:
        make_contract(stop_level=14.0)
    assert "breach ≤ stop level must hold" in refused.value.message_dict["stop_level"][0]


def test_the_model_itself_refuses_incoherent_thresholds(capability):
    contract = MetricContractFactory.build(
        capability=capability, direction="higher", target=0.9, warning=0.95
    )
    with pytest.raises(ValidationError) as refused:
        contract.full_clean()
    assert "warning" in refused.value.message_dict


def test_an_update_to_incoherent_thresholds_is_refused_and_nothing_changes(active, pm):
    with pytest.raises(ValidationError) as refused:
        contract_update(contract=active, by=pm, fields={"warning": 20.0})
    assert "breach" in refused.value.message_dict
    active.refresh_from_db()
    assert active.warning == 12.0
    assert not definition_decisions().exists()


def test_required_cuts_must_be_cohort_dimensions(make_contract):
    with pytest.raises(ValidationError) as refused:
        make_contract(cohort_dimensions=["intent"], required_cuts=["intent", "channel"])
    assert "channel" in refused.value.message_dict["required_cuts"][0]


def test_guardrails_are_other_contracts_of_the_same_capability(make_contract, other_capability):
    elsewhere = MetricContractFactory(capability=other_capability, metric_id="kyc_ai.cycle_time")
    with pytest.raises(ValidationError) as refused:
        make_contract(guardrails=[elsewhere])
    assert "kyc_ai.cycle_time" in refused.value.message_dict["guardrails"][0]


def test_an_owner_must_hold_a_role_on_the_capability(make_contract, outsider):
    with pytest.raises(ValidationError) as refused:
        make_contract(business_owner=outsider)
    assert "business_owner" in refused.value.message_dict


def test_both_playbook_examples_can_be_expressed(make_contract, capability, pm):
    repeat = make_contract()
    kyc = make_contract(
        metric_id="kyc_ai.document_false_pass_sample_rate",
        name="Document false-pass sample rate",
        category="risk",
        business_question="Is onboarding speed improvement weakening document completeness controls?",
        numerator="Sampled cases where AI marked document complete but QA found material defect",
        denominator="QA sampled AI-complete cases",
        target=0.5,
        warning=1.0,
        breach=2.0,
        stop_level=3.0,
        stop_rule="Any severe false pass in high-risk entity type triggers expansion hold",
        breach_action="Update eval set, increase human review threshold, review policy pack",
        cohort_dimensions=["document_type", "entity_type", "geography", "channel", "model_prompt_version"],
        required_cuts=["document_type", "entity_type", "geography", "channel", "model_prompt_version"],
        guardrails=[repeat],
    )
    assert list(kyc.guardrails.all()) == [repeat]
    assert kyc.history.get().history_change_reason == "Contract drafted"


# --- definition change is a logged decision ------------------------------------------------


def test_a_definition_change_of_an_active_contract_records_one_decision_with_before_and_after(active, pm):
    contract_update(
        contract=active,
        by=pm,
        fields={"numerator": "Customers calling again within 7 days, any intent", "warning": 13.0},
    )
    decision = definition_decisions().get()
    assert decision.capability == active.capability
    assert decision.owner == pm and decision.recorded_by == pm
    assert "cc_agent_assist.repeat_contact_7d" in decision.decision
    assert "numerator" in decision.decision and "warning" in decision.decision
    assert decision.details["before"] == {
        "numerator": "Customers with another contact within 7 days for the same intent",
        "warning": 12.0,
    }
    assert decision.details["after"] == {
        "numerator": "Customers calling again within 7 days, any intent",
        "warning": 13.0,
    }
    assert decision.details["changed_fields"] == ["numerator", "warning"]
    assert [link.target for link in decision.evidence_links.all()] == [active]
    latest = active.history.latest()
    assert decision.readable_id in latest.history_change_reason
    assert latest.history_user == pm
    active.refresh_from_db()
    assert active.warning == 13.0


def test_a_definition_change_by_analytics_is_recorded_by_the_system_and_owned_by_them(active, analyst):
    contract_update(contract=active, by=analyst, fields={"denominator": "All assisted calls"})
    decision = definition_decisions().get()
    assert decision.owner == analyst
    assert decision.recorded_by is None
    assert decision.details["changed_by"] == "analyst"


def test_a_non_definition_change_of_an_active_contract_records_no_decision(active, pm):
    contract_update(
        contract=active, by=pm, fields={"name": "Repeat contact (7 days)", "sampling_approach": "Weekly QA"}
    )
    assert not definition_decisions().exists()
    assert active.history.latest().history_change_reason == "Contract edited"


def test_saving_the_same_definition_again_records_no_decision(active, pm):
    contract_update(
        contract=active,
        by=pm,
        fields={"numerator": active.numerator + "\r\n", "target": 10, "warning": 12.0, "direction": "lower"},
    )
    assert not definition_decisions().exists()


def test_a_definition_change_of_a_draft_records_no_decision(make_contract, pm):
    draft = make_contract()
    contract_update(contract=draft, by=pm, fields={"numerator": "Another numerator", "breach": 16.0})
    assert not definition_decisions().exists()
    draft.refresh_from_db()
    assert draft.breach == 16.0


def test_a_failing_definition_change_leaves_no_decision(active, pm, outsider):
    with pytest.raises(ValidationError):
        contract_update(contract=active, by=pm, fields={"numerator": "x", "business_owner": outsider})
    assert not definition_decisions().exists()
    active.refresh_from_db()
    assert active.numerator != "x"


def test_the_metric_id_and_capability_are_not_edited(active, pm, other_capability):
    with pytest.raises(DomainError):
        contract_update(contract=active, by=pm, fields={"metric_id": "cc_agent_assist.other"})
    with pytest.raises(DomainError):
        contract_update(contract=active, by=pm, fields={"capability": other_capability})


# --- permissions ---------------------------------------------------------------------------


def test_a_viewer_and_an_outsider_may_not_create_or_change(capability, viewer, outsider, active):
    for person in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            contract_create(by=person, **contract_kwargs(capability, metric_id="cc_agent_assist.other"))
        with pytest.raises(PermissionDenied):
            contract_update(contract=active, by=person, fields={"name": "x"})
        with pytest.raises(PermissionDenied):
            contract_retire(contract=active, by=person, reason="x")


def test_a_business_analyst_may_draft_a_contract(make_person, capability):
    analyst = make_person("business_analyst", capability)
    contract = contract_create(by=analyst, **contract_kwargs(capability))
    assert contract.status == "draft"


# --- activation and retirement -------------------------------------------------------------


def test_activation_names_every_missing_part(make_contract, pm):
    draft = make_contract(
        business_owner=None,
        analytics_owner=None,
        warning_action="",
        breach_closure_criterion="",
        next_review=None,
    )
    with pytest.raises(ValidationError) as refused:
        contract_activate(contract=draft, by=pm)
    assert set(refused.value.message_dict) == {
        "business_owner",
        "analytics_owner",
        "warning_action",
        "breach_closure_criterion",
        "next_review",
    }
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_activation_puts_a_complete_draft_in_force(make_contract, pm):
    contract = make_contract()
    contract_activate(contract=contract, by=pm)
    assert contract.status == "active"
    assert contract.history.latest().history_change_reason == "Activated"


def test_an_active_contract_cannot_be_activated_again(active, pm):
    with pytest.raises(TransitionNotAllowed):
        contract_activate(contract=active, by=pm)


def test_retiring_needs_a_reason_and_is_final(active, pm):
    with pytest.raises(DomainError) as refused:
        contract_retire(contract=active, by=pm, reason="  ")
    assert refused.value.field == "reason"
    contract_retire(contract=active, by=pm, reason="Replaced by repeat_contact_14d")
    assert active.status == "retired"
    assert active.history.latest().history_change_reason == "Retired: Replaced by repeat_contact_14d"
    with pytest.raises(TransitionNotAllowed):
        contract_activate(contract=active, by=pm)
    with pytest.raises(TransitionNotAllowed):
        contract_update(contract=active, by=pm, fields={"name": "Revived"})


# --- review reminders ----------------------------------------------------------------------


def test_the_review_reminder_goes_once_to_the_business_and_analytics_owners(make_contract, pm, analyst):
    today = datetime.date(2026, 6, 1)
    due = contract_activate(contract=make_contract(next_review=today + datetime.timedelta(days=30)), by=pm)
    MetricContract.objects.filter(pk=due.pk).update(next_review=today)
    later = make_contract(metric_id="cc_agent_assist.aht", next_review=today + datetime.timedelta(days=1))
    contract_activate(contract=later, by=pm)
    draft = make_contract(metric_id="cc_agent_assist.draft_metric")
    MetricContract.objects.filter(pk=draft.pk).update(next_review=today)

    assert contracts_review_reminders(today) == [due.metric_id]
    assert contracts_review_reminders(today) == []
    reminders = Notification.objects.filter(subject__startswith="Review due")
    assert sorted(n.recipient.username for n in reminders) == ["analyst", "pm"]
    assert all(n.url == due.get_absolute_url() for n in reminders)
    due.refresh_from_db()
    assert due.review_reminder_sent_for == today


def test_a_new_review_date_gets_its_own_reminder(active):
    first = active.next_review
    contracts_review_reminders(first)
    MetricContract.objects.filter(pk=active.pk).update(next_review=first + datetime.timedelta(days=90))
    assert contracts_review_reminders(first + datetime.timedelta(days=90)) == [active.metric_id]
    assert Notification.objects.filter(subject__startswith="Review due").count() == 4


@pytest.mark.parametrize(
    ("unit", "value", "shown"),
    [
        ("share", 0.140412, "14.0%"),
        ("%", 3.14159, "3.1%"),
        ("seconds", 383.27, "383 seconds"),
        ("GBP per alert", 14.62, "14.6 GBP per alert"),
        ("ms", 2.51234, "2.51 ms"),
        ("share", None, "—"),
    ],
)
def test_values_are_shown_in_the_contracts_unit(unit, value, shown):
    from contracts.models import MetricContract

    assert MetricContract(unit=unit).format_value(value) == shown
