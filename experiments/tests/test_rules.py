"""The registry's rules, through the services and moves the page and the API call: what an
experiment must name, the state machine, and what deciding writes."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from assumptions.models import AssumptionReview
from assumptions.tests.factories import AssumptionFactory
from contracts.tests.factories import MetricContractFactory
from decisions.models import Decision, EvidenceLink
from experiments.choices import MOVES, TRANSITIONS
from experiments.models import Experiment
from experiments.services import experiment_decide, experiment_readout, experiment_update
from experiments.tests.conftest import days_ago
from productops.errors import DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db


def tagged_data(observe, aht, repeat):
    """Four days per arm: AHT 415 -> 387.5 s, repeat contact 12% -> 11%."""
    observe(aht, "control", [400, 410, 420, 430])
    observe(aht, "treatment", [380, 385, 390, 395])
    observe(repeat, "control", [(12, 100), (11, 100), (13, 100)])
    observe(repeat, "treatment", [(11, 100), (10, 100), (12, 100)])


def test_every_move_is_a_transition_of_the_state_machine():
    for move, steps in MOVES.items():
        for source, target in steps.items():
            assert target in TRANSITIONS[source], move


def test_an_experiment_gets_a_readable_id_and_its_registration_is_in_the_history(experiment, make_experiment):
    assert experiment.readable_id == "EXP-001"
    assert make_experiment(title="Second").readable_id == "EXP-002"
    assert experiment.state == "proposed"
    assert experiment.history.latest().history_change_reason == "Experiment registered"
    assert experiment.arm_key == "arm"
    assert (experiment.treatment_value, experiment.control_value) == ("treatment", "control")


@pytest.mark.parametrize("field", ["hypothesis", "population", "treatment", "control_or_baseline", "title"])
def test_each_registry_field_is_required(make_experiment, field):
    with pytest.raises(DomainError) as error:
        make_experiment(**{field: "  "})
    assert error.value.field == field
    assert not Experiment.objects.exists()


def test_the_primary_metric_is_an_active_contract_of_the_capability(
    make_experiment, other_capability, capability
):
    elsewhere = MetricContractFactory(capability=other_capability, status="active")
    with pytest.raises(DomainError) as error:
        make_experiment(primary_metric=elsewhere)
    assert error.value.field == "primary_metric" and "is not a contract of" in error.value.message
    draft = MetricContractFactory(capability=capability, status="draft")
    with pytest.raises(DomainError, match="is not active"):
        make_experiment(primary_metric=draft)


def test_guardrails_are_other_contracts_of_the_capability(make_experiment, other_capability, aht):
    with pytest.raises(DomainError) as error:
        make_experiment(guardrails=[MetricContractFactory(capability=other_capability, status="active")])
    assert error.value.field == "guardrails"
    with pytest.raises(DomainError, match="not its own guardrail"):
        make_experiment(guardrails=[aht])


def test_the_tested_assumption_is_a_live_one_of_the_capability(
    make_experiment, capability, other_capability, pm
):
    with pytest.raises(DomainError) as error:
        make_experiment(tested_assumption=AssumptionFactory(capability=other_capability))
    assert error.value.field == "tested_assumption"
    with pytest.raises(DomainError, match="invalidated"):
        make_experiment(tested_assumption=AssumptionFactory(capability=capability, status="invalidated"))


def test_dates_arm_tags_and_owner_are_checked(make_experiment, viewer, capability, make_person):
    with pytest.raises(DomainError) as error:
        make_experiment(planned_end_date=days_ago(20))
    assert error.value.field == "planned_end_date"
    with pytest.raises(DomainError) as error:
        make_experiment(arm_key="Arm Tag")
    assert error.value.field == "arm_key"
    with pytest.raises(DomainError) as error:
        make_experiment(control_value="treatment")
    assert error.value.field == "control_value"
    with pytest.raises(DomainError) as error:
        make_experiment(owner=make_person("viewer", capability))
    assert error.value.field == "owner"


def test_registering_needs_a_or_r_on_the_experiment_registry(make_experiment, viewer, outsider, analyst):
    for person in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            make_experiment(by=person)
    assert make_experiment(by=analyst).pk


# --- moves ----------------------------------------------------------------------------------


def test_the_moves_walk_proposed_running_readout(experiment, pm):
    experiment.start(by=pm)
    assert experiment.state == "running"
    experiment.begin_readout(by=pm)
    experiment.refresh_from_db()
    assert experiment.state == "readout"
    # The planned end had passed: the readout counts the days up to it.
    assert experiment.ended_on == experiment.planned_end_date
    reasons = list(
        experiment.history.order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert reasons[-2:] == ["Experiment started", f"Readout begun (data up to {days_ago(6).isoformat()})"]
    assert experiment.history.latest().history_user == pm


def test_an_early_readout_counts_the_days_up_to_today(make_experiment, pm):
    experiment = make_experiment(planned_end_date=timezone.localdate() + datetime.timedelta(days=10))
    experiment.start(by=pm)
    experiment.begin_readout(by=pm)
    assert experiment.ended_on == timezone.localdate()
    assert experiment.window() == (experiment.start_date, timezone.localdate())


def test_an_experiment_does_not_start_before_its_start_date(make_experiment, pm):
    experiment = make_experiment(
        start_date=timezone.localdate() + datetime.timedelta(days=3),
        planned_end_date=timezone.localdate() + datetime.timedelta(days=30),
    )
    with pytest.raises(DomainError) as error:
        experiment.start(by=pm)
    assert error.value.field == "start_date"
    experiment.refresh_from_db()
    assert experiment.state == "proposed"


def test_illegal_moves_are_refused_with_a_conflict(experiment, pm, bring_to):
    with pytest.raises(TransitionNotAllowed, match="not possible while the experiment is in proposed"):
        experiment.begin_readout(by=pm)
    bring_to(experiment, "running")
    with pytest.raises(TransitionNotAllowed):
        experiment.start(by=pm)


def test_deciding_requires_the_readout_state(experiment, pm, bring_to, observe, aht, repeat):
    tagged_data(observe, aht, repeat)
    bring_to(experiment, "running")
    with pytest.raises(TransitionNotAllowed) as error:
        experiment_decide(experiment=experiment, by=pm, decision="scale", comment="Looks good")
    assert error.value.status_code == 409
    experiment.refresh_from_db()
    assert experiment.state == "running" and experiment.decision == ""
    assert not Decision.objects.exists()


def test_a_readout_with_too_little_data_extends_to_a_later_end(experiment, pm, bring_to):
    bring_to(experiment, "readout")
    with pytest.raises(DomainError) as error:
        experiment.extend(by=pm, planned_end_date=timezone.localdate())
    assert error.value.field == "planned_end_date"
    later = timezone.localdate() + datetime.timedelta(days=14)
    experiment.extend(by=pm, planned_end_date=later)
    experiment.refresh_from_db()
    assert experiment.state == "running" and experiment.ended_on is None
    assert experiment.planned_end_date == later
    assert experiment.history.latest().history_change_reason == f"Extended to {later.isoformat()}"


def test_analytics_runs_the_experiment_but_the_decision_is_the_pms(
    experiment, analyst, bring_to, observe, aht, repeat
):
    tagged_data(observe, aht, repeat)
    experiment.start(by=analyst)
    experiment.begin_readout(by=analyst)
    assert "decide" not in experiment.allowed_moves(analyst)
    with pytest.raises(PermissionDenied, match="decision log"):
        experiment.decide(by=analyst, decision="scale", comment="Ship it")
    assert not Decision.objects.exists()


def test_a_viewer_makes_no_move(experiment, viewer):
    assert experiment.allowed_moves(viewer) == []
    with pytest.raises(PermissionDenied):
        experiment.start(by=viewer)


# --- deciding --------------------------------------------------------------------------------


def test_deciding_writes_one_decision_and_one_assumption_review(
    make_experiment, assumption, pm, bring_to, observe, aht, repeat
):
    experiment = make_experiment(tested_assumption=assumption)
    tagged_data(observe, aht, repeat)
    bring_to(experiment, "readout")
    assert assumption.status == "needs_evidence"

    experiment.decide(
        by=pm,
        decision="scale",
        comment="AHT down 27 s with repeat contact held: scale to all billing teams.",
        assumption_status="confirmed",
        assumption_evidence="QA agrees.",
    )

    experiment.refresh_from_db()
    decision = Decision.objects.get()
    assert decision.type == "scale" and decision.capability == experiment.capability
    assert decision.owner == experiment.owner and decision.recorded_by == pm
    assert decision.decision.startswith("EXP-001 Policy-cited suggestions: Scale. AHT down 27 s")
    link = EvidenceLink.objects.get(decision=decision, reference="EXP-001")
    assert link.target == experiment and link.href == experiment.get_absolute_url()
    assert decision.details["primary"]["difference"] == pytest.approx(-27.5)
    assert decision.details == experiment.readout_snapshot

    review = AssumptionReview.objects.get()
    assumption.refresh_from_db()
    assert (review.previous_status, review.new_status) == ("needs_evidence", "confirmed")
    assert assumption.status == "confirmed"
    assert review.source == decision and review.reviewed_by == pm
    assert "EXP-001 readout" in review.new_evidence and "QA agrees." in review.new_evidence
    assert review.roadmap_impact.startswith("Scale: AHT down 27 s")

    assert experiment.state == "decided" and experiment.decision == "scale"
    assert experiment.decision_record == decision and experiment.assumption_review == review
    assert "Average handle time: better" in experiment.result
    assert "−27.5 seconds" in experiment.result
    assert experiment.history.latest().history_change_reason == f"Decided: Scale ({decision.readable_id})"


@pytest.mark.parametrize(
    ("decision", "logged_as", "status"),
    [
        ("stop", "retire", "invalidated"),
        ("redesign", "redesign", "weakened"),
        ("continue", "continue", "confirmed"),
    ],
)
def test_each_decision_is_logged_with_its_type_and_the_assumption_status_chosen(
    make_experiment, assumption, pm, bring_to, observe, aht, repeat, decision, logged_as, status
):
    experiment = make_experiment(tested_assumption=assumption)
    tagged_data(observe, aht, repeat)
    bring_to(experiment, "readout")
    experiment.decide(by=pm, decision=decision, comment="Because.", assumption_status=status)
    assert Decision.objects.get().type == logged_as
    assumption.refresh_from_db()
    assert assumption.status == status
    assert AssumptionReview.objects.count() == 1


def test_an_experiment_with_an_assumption_needs_its_new_status(make_experiment, assumption, pm, bring_to):
    experiment = bring_to(make_experiment(tested_assumption=assumption), "readout")
    with pytest.raises(DomainError) as error:
        experiment.decide(by=pm, decision="stop", comment="Not worth it.")
    assert error.value.field == "assumption_status"
    with pytest.raises(DomainError):
        experiment.decide(by=pm, decision="stop", comment="Not worth it.", assumption_status="expired")
    assert not Decision.objects.exists() and not AssumptionReview.objects.exists()


def test_without_an_assumption_no_review_is_written(experiment, pm, bring_to):
    bring_to(experiment, "decided")
    assert Decision.objects.count() == 1
    assert not AssumptionReview.objects.exists()
    with pytest.raises(TransitionNotAllowed):
        experiment.decide(by=pm, decision="stop", comment="Again")
    assert Decision.objects.count() == 1


def test_a_decision_needs_a_comment(experiment, pm, bring_to):
    bring_to(experiment, "readout")
    with pytest.raises(DomainError) as error:
        experiment.decide(by=pm, decision="stop", comment=" ")
    assert error.value.field == "comment"


def test_scaling_on_too_little_data_is_refused(experiment, pm, bring_to, observe, aht):
    observe(aht, "control", [400, 410])
    observe(aht, "treatment", [380, 385])
    bring_to(experiment, "readout")
    with pytest.raises(DomainError) as error:
        experiment.decide(by=pm, decision="scale", comment="Ship it")
    assert error.value.field == "decision" and "Too few observations" in error.value.message
    assert not Decision.objects.exists()
    experiment.decide(by=pm, decision="continue", comment="Run longer on more teams")
    assert "too little data" in experiment.result


def test_the_decision_freezes_the_readout(experiment, pm, bring_to, observe, aht, repeat):
    tagged_data(observe, aht, repeat)
    bring_to(experiment, "decided")
    frozen = experiment.readout_snapshot
    # Telemetry restated after the decision: the live computation moves, the record does not.
    observe(aht, "treatment", [200, 200, 200], first_day=days_ago(11))
    assert experiment_readout(experiment).primary.difference != pytest.approx(-27.5)
    experiment.refresh_from_db()
    assert experiment.readout_snapshot == frozen
    assert frozen["primary"]["difference"] == pytest.approx(-27.5)


# --- editing ---------------------------------------------------------------------------------


def test_what_a_running_experiment_measures_is_fixed(experiment, pm, bring_to, cost):
    bring_to(experiment, "running")
    with pytest.raises(DomainError) as error:
        experiment_update(experiment=experiment, by=pm, fields={"primary_metric": cost})
    assert error.value.field == "primary_metric"
    with pytest.raises(DomainError):
        experiment_update(experiment=experiment, by=pm, fields={"arm_key": "variant"})
    later = timezone.localdate() + datetime.timedelta(days=20)
    experiment_update(experiment=experiment, by=pm, fields={"planned_end_date": later, "guardrails": [cost]})
    experiment.refresh_from_db()
    assert experiment.planned_end_date == later
    assert list(experiment.guardrails.all()) == [cost]
    assert (
        "guardrails now cc_agent_assist.cost_per_assisted_call"
        in experiment.history.latest().history_change_reason
    )


def test_a_decided_experiment_is_not_edited(experiment, pm, bring_to):
    bring_to(experiment, "decided")
    with pytest.raises(DomainError):
        experiment_update(experiment=experiment, by=pm, fields={"title": "Renamed"})
