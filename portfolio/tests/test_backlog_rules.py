"""Backlog items through their services and model methods: the stored score is the formula, the
evidence link is the kind its class requires, the expected metric movement is stated, status
moves follow the state machine, and only the weekly ops review's A/R roles change the backlog."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from portfolio.choices import SCORE_PARTS, priority_score
from portfolio.models import BacklogItem
from portfolio.services import backlog_item_create, backlog_item_update, evidence_resolve
from portfolio.tests.backlog_factories import (
    AssumptionFactory,
    BacklogItemFactory,
    ContractFactory,
    DecisionFactory,
    SignalFactory,
)
from productops.errors import DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def outcome_contract(capability):
    return ContractFactory(
        capability=capability, metric_id="cc_agent_assist.repeat_contact_7d", category="outcome"
    )


@pytest.fixture
def quality_contract(capability):
    return ContractFactory(
        capability=capability, metric_id="cc_agent_assist.qa_pass_rate", category="quality"
    )


def create(capability, by, metric, **overrides):
    fields = {
        "title": "Citation UI beside each billing suggestion",
        "item_class": "outcome_improvement",
        "expected_metric": metric,
        "expected_direction": "down",
        "expected_movement": "−2 points on billing intents",
    }
    fields.update(overrides)
    return backlog_item_create(capability=capability, by=by, **fields)


# --- the priority score -----------------------------------------------------------------------

HAND_CASES = [
    ((0, 0, 0, 0, 0, 0, 0, 0), 0),
    ((5, 5, 5, 5, 5, 5, 0, 0), 30),
    ((0, 0, 0, 0, 0, 0, 5, 5), -10),
    ((3, 1, 4, 0, 2, 1, 2, 3), 6),
    ((1, 0, 0, 0, 0, 0, 4, 2), -5),
]


@pytest.mark.parametrize("parts, expected", HAND_CASES)
def test_the_stored_score_and_the_database_annotation_match_the_formula(
    capability, pm, outcome_contract, parts, expected
):
    item = create(capability, pm, outcome_contract, **dict(zip(SCORE_PARTS, parts, strict=True)))
    stored = BacklogItem.objects.with_formula_score().get(pk=item.pk)
    assert stored.priority_score == expected
    assert stored.formula_score == expected
    assert priority_score(stored) == expected
    assert not BacklogItem.objects.score_mismatches().exists()


def test_an_edit_of_a_score_part_recomputes_the_score(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract, outcome_impact=4, delivery_effort=1)
    assert item.priority_score == 3
    backlog_item_update(item=item, by=pm, fields={"change_saturation": 5})
    item.refresh_from_db()
    assert item.priority_score == -2
    item.risk_reduction = 5
    item.save(update_fields=["risk_reduction"])  # a partial save still writes the score
    item.refresh_from_db()
    assert item.priority_score == 3


def test_the_database_refuses_a_score_that_is_not_the_formula(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract, outcome_impact=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        BacklogItem.objects.filter(pk=item.pk).update(outcome_impact=5)  # bypasses save()


@pytest.mark.parametrize("name", ["outcome_impact", "delivery_effort"])
@pytest.mark.parametrize("value", [6, -1])
def test_score_parts_are_from_0_to_5_and_the_error_names_the_part(
    capability, pm, outcome_contract, name, value
):
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, **{name: value})
    assert error.value.field == name
    assert not BacklogItem.objects.exists()


# --- 16.3: every roadmap item states expected metric movement -------------------------------


def test_an_item_needs_an_expected_metric(capability, pm):
    with pytest.raises(DomainError) as error:
        create(capability, pm, None)
    assert error.value.field == "expected_metric"
    assert "expected metric movement" in error.value.message
    assert not BacklogItem.objects.exists()


def test_an_item_needs_a_direction(capability, pm, outcome_contract):
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, expected_direction="")
    assert error.value.field == "expected_direction"


def test_the_expected_metric_is_a_contract_of_the_items_capability(capability, other_capability, pm):
    elsewhere = ContractFactory(capability=other_capability, metric_id="kyc_ai.rework_rate")
    with pytest.raises(DomainError) as error:
        create(capability, pm, elsewhere)
    assert error.value.field == "expected_metric"


def test_the_expected_metric_may_be_given_by_metric_id(capability, pm, outcome_contract):
    item = create(capability, pm, "cc_agent_assist.repeat_contact_7d")
    assert item.expected_metric == outcome_contract


# --- 16.1: the evidence link its class requires -----------------------------------------------


def test_an_outcome_improvement_rests_on_an_outcome_contract_not_a_quality_one(
    capability, pm, outcome_contract, quality_contract
):
    item = create(capability, pm, outcome_contract, evidence="cc_agent_assist.repeat_contact_7d")
    assert item.evidence == outcome_contract
    assert item.evidence_kind == "contract"
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, title="Other", evidence=quality_contract)
    assert error.value.field == "evidence"
    assert "outcome improvement" in error.value.message
    assert "quality" in error.value.message


def test_a_risk_control_rests_on_a_risk_signal(capability, pm, outcome_contract):
    risk = SignalFactory(contract=ContractFactory(capability=capability, category="risk"))
    item = create(capability, pm, outcome_contract, item_class="risk_control", evidence=f"SIG-{risk.pk}")
    assert item.evidence == risk
    assert item.evidence_reference.startswith(f"SIG-{risk.pk}")
    outcome_signal = SignalFactory(contract=outcome_contract)
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, item_class="risk_control", evidence=outcome_signal)
    assert error.value.field == "evidence"
    with pytest.raises(DomainError):
        create(capability, pm, outcome_contract, item_class="risk_control", evidence=outcome_contract)


@pytest.mark.parametrize("item_class", ["release_dependency", "experiment"])
def test_release_dependencies_and_experiments_do_not_rest_on_a_contract(
    capability, pm, outcome_contract, item_class
):
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, item_class=item_class, evidence=outcome_contract)
    assert error.value.field == "evidence"


def test_an_evidence_gap_rests_on_an_assumption_and_a_retirement_on_a_decision(
    capability, pm, outcome_contract
):
    assumption = AssumptionFactory(capability=capability)
    decision = DecisionFactory(capability=capability)
    gap = create(capability, pm, outcome_contract, item_class="evidence_gap", evidence=assumption.readable_id)
    retirement = create(
        capability, pm, outcome_contract, title="Retire", item_class="retirement", evidence=decision
    )
    assert gap.evidence == assumption and retirement.evidence == decision
    assert retirement.evidence_reference.startswith(decision.readable_id)
    with pytest.raises(DomainError):
        create(capability, pm, outcome_contract, title="Wrong", item_class="retirement", evidence=assumption)


def test_a_record_the_backlog_does_not_rest_on_is_refused(capability, pm, outcome_contract):
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, item_class="evidence_gap", evidence=pm)
    assert error.value.field == "evidence"


def test_changing_the_class_checks_the_existing_link_again(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract, evidence=outcome_contract)
    with pytest.raises(DomainError) as error:
        backlog_item_update(item=item, by=pm, fields={"item_class": "release_dependency"})
    assert error.value.field == "evidence"
    item.refresh_from_db()
    assert item.item_class == "outcome_improvement"


def test_the_link_may_be_removed_and_then_the_item_has_none(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract, evidence=outcome_contract)
    backlog_item_update(item=item, by=pm, fields={}, evidence="")
    item.refresh_from_db()
    assert not item.has_evidence_link and item.evidence_reference == ""


def test_typed_references_find_contracts_signals_and_readable_ids(capability, outcome_contract):
    signal = SignalFactory(contract=outcome_contract)
    assumption = AssumptionFactory(capability=capability)
    assert evidence_resolve(" cc_agent_assist.repeat_contact_7d ") == outcome_contract
    assert evidence_resolve(f"SIG-{signal.pk}") == signal
    assert evidence_resolve(f"signal {signal.pk}") == signal
    assert evidence_resolve(f"/contracts/signals/{signal.pk}/") == signal
    assert evidence_resolve(assumption.readable_id.lower()) == assumption
    assert evidence_resolve("INC-9999") is None
    assert evidence_resolve("nonsense") is None


def test_an_unknown_or_invisible_reference_gets_the_same_answer(
    capability, other_capability, pm, outcome_contract
):
    hidden = AssumptionFactory(capability=other_capability)
    messages = []
    for reference in ["ASM-9999", hidden.readable_id]:
        with pytest.raises(DomainError) as error:
            create(capability, pm, outcome_contract, item_class="evidence_gap", evidence=reference)
        assert error.value.field == "evidence"
        messages.append(error.value.message.replace(reference, "<id>"))
    assert messages[0] == messages[1]


# --- the harm override, grouping key, severity ------------------------------------------------


def test_an_override_needs_a_reason(capability, pm, outcome_contract):
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, risk_override=True, override_reason="  ")
    assert error.value.field == "override_reason"
    item = create(
        capability, pm, outcome_contract, risk_override=True, override_reason="Vulnerable customers"
    )
    assert item.risk_override


def test_the_database_refuses_an_override_without_a_reason(capability):
    item = BacklogItemFactory(capability=capability)
    with pytest.raises(IntegrityError), transaction.atomic():
        BacklogItem.objects.filter(pk=item.pk).update(risk_override=True)


def test_problem_keys_are_short_lower_case_names(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract, problem_key=" Evidence-Citation ")
    assert item.problem_key == "evidence-citation"
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, title="x", problem_key="evidence citation!")
    assert error.value.field == "problem_key"


def test_an_unknown_severity_is_refused(capability, pm, outcome_contract):
    with pytest.raises(DomainError) as error:
        create(capability, pm, outcome_contract, incident_severity="sev9")
    assert error.value.field == "incident_severity"


# --- who may change the backlog -------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "executive", "risk_compliance", "finance"])
def test_roles_without_a_or_r_on_the_weekly_ops_review_cannot_raise_items(
    make_person, capability, outcome_contract, role
):
    person = make_person(role, capability)
    with pytest.raises(PermissionDenied):
        create(capability, person, outcome_contract)
    assert not BacklogItem.objects.exists()


@pytest.mark.parametrize("role", ["ai_pm", "ai_architect", "platform", "analytics"])
def test_the_weekly_ops_reviews_a_and_r_roles_raise_items(make_person, capability, outcome_contract, role):
    item = create(capability, make_person(role, capability), outcome_contract)
    assert item.history.latest().history_change_reason == "Backlog item raised"


# --- status moves -----------------------------------------------------------------------------


def test_moves_follow_the_state_machine_and_history_says_who_and_why(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract)
    item.move(to="ready", by=pm)
    item.move(to="in_progress", by=pm)
    with pytest.raises(TransitionNotAllowed):
        item.move(to="proposed", by=pm)
    item.move(to="done", by=pm)
    assert BacklogItem.objects.get(pk=item.pk).status == "done"
    latest = item.history.latest()
    assert latest.history_user == pm and "Done" in latest.history_change_reason


def test_dropping_needs_a_reason_and_keeps_it(capability, pm, outcome_contract):
    item = create(capability, pm, outcome_contract)
    with pytest.raises(DomainError) as error:
        item.move(to="dropped", by=pm)
    assert error.value.field == "reason"
    item.move(to="dropped", by=pm, reason="The overnight batch is retired")
    item.refresh_from_db()
    assert item.status == "dropped" and item.status_reason == "The overnight batch is retired"


def test_a_viewer_cannot_move_an_item(capability, pm, viewer, outcome_contract):
    item = create(capability, pm, outcome_contract)
    with pytest.raises(PermissionDenied):
        item.move(to="ready", by=viewer)
    assert BacklogItem.objects.get(pk=item.pk).status == "proposed"
    assert item.allowed_moves(viewer) == []
    assert item.allowed_moves(pm) == ["ready", "dropped"]
