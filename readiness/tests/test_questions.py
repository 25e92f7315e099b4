"""The eight questions of the quality bar (playbook 25): each answered with its evidence, each
gap named, and the capability operating only when all eight are answered."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from assumptions.tests.factories import AssumptionFactory
from decisions.tests.factories import DecisionFactory
from forums.models import Session
from readiness import questions
from readiness.facts import readiness_facts
from readiness.questions import capability_readiness
from readiness.tests import world as w
from releases.models import Release

pytestmark = pytest.mark.django_db
TODAY = w.TODAY


@pytest.fixture
def built(capability, pm):
    return w.build(capability, pm)


def answers(capability):
    readiness = capability_readiness(capability, today=TODAY)
    return readiness, {answer.key: answer for answer in readiness.answers}


def facts(capability):
    return readiness_facts([capability], today=TODAY)[capability.pk]


def labels(answer):
    return " | ".join(item.label for item in answer.evidence)


def test_every_question_answered_with_its_evidence_reads_operating(built):
    readiness, by_key = answers(built.capability)
    assert [answer.state for answer in readiness.answers] == ["answered"] * 8
    assert readiness.operating and readiness.state == "operating" and readiness.state_label == "Operating"
    assert built.forums["weekly"].name in labels(by_key["forum_decisions"])
    assert built.decision.readable_id in labels(by_key["forum_decisions"])
    assert built.decision.readable_id in labels(by_key["decision_evidence"])
    assert built.contract.metric_id in labels(by_key["evidence_contracts"])
    assert built.release.readable_id in labels(by_key["system_changes"])
    assert built.incident.readable_id in labels(by_key["roadmap_incidents"])
    assert built.action.readable_id in labels(by_key["proven_closures"])
    assert built.assumption.readable_id in labels(by_key["valid_assumptions"])
    assert "2026-Q4: Fund" in labels(by_key["portfolio_call"])
    assert by_key["system_changes"].evidence[0].url == built.release.get_absolute_url()
    assert all(answer.gap == "" and answer.faults == [] for answer in readiness.answers)


def test_a_capability_with_no_records_has_eight_named_gaps(capability):
    readiness, by_key = answers(capability)
    assert not readiness.operating and readiness.state_label == "Only running"
    assert readiness.answered_count == 0
    assert "No weekly ops review covers" in by_key["forum_decisions"].gap
    assert "No decision on" in by_key["decision_evidence"].gap
    assert "No active outcome contract" in by_key["evidence_contracts"].gap
    assert "version trace is empty" in by_key["system_changes"].gap
    assert "incident-to-roadmap loop has not been exercised" in by_key["roadmap_incidents"].gap
    assert "closed with verified evidence" in by_key["proven_closures"].gap
    assert "ledger of" in by_key["valid_assumptions"].gap
    assert "No quarterly portfolio review has decided" in by_key["portfolio_call"].gap


# --- one gap at a time ---------------------------------------------------------------------


def test_forum_decisions_gap_names_the_missing_forum_and_the_silent_one(built):
    built.forums["monthly"].delete()
    built.forums["weekly"].decision_types = []
    built.forums["weekly"].save()
    answer = questions.forum_decisions(facts(built.capability))
    assert not answer.answered
    assert (
        "No monthly value review covers" in answer.gap
        and "scale / restrict / redesign / retire decisions" in answer.gap
    )
    assert built.forums["weekly"].name in answer.gap and "rule 6.2" in answer.gap
    assert [item.url for item in answer.faults] == [built.forums["weekly"].get_absolute_url()]


def test_forum_decisions_gap_when_no_session_recorded_a_decision(pm):
    from portfolio.tests.factories import CapabilityFactory

    # A capability whose only decision was logged outside any forum session.
    bare = CapabilityFactory(name="AML triage", slug="aml-triage")
    w.forum(bare, pm, "weekly_ops_review", ["continue"])
    DecisionFactory(capability=bare, owner=pm, decided_on=TODAY - datetime.timedelta(days=3))
    answer = questions.forum_decisions(facts(bare))
    assert "No forum session has recorded a decision on AML triage" in answer.gap


def test_decision_evidence_gap_names_the_standing_decision_without_evidence(built):
    bare = DecisionFactory(
        capability=built.capability, owner=built.person, decided_on=TODAY - datetime.timedelta(days=2)
    )
    readiness, by_key = answers(built.capability)
    answer = by_key["decision_evidence"]
    assert not answer.answered and bare.readable_id in answer.gap
    assert [item.label for item in answer.faults] == [bare.readable_id]
    assert readiness.state == "only_running" and [a.key for a in readiness.gaps] == ["decision_evidence"]


def test_a_superseded_or_older_decision_without_evidence_is_no_gap(built):
    old = DecisionFactory(
        capability=built.capability, owner=built.person, decided_on=TODAY - datetime.timedelta(days=400)
    )
    replaced = DecisionFactory(
        capability=built.capability, owner=built.person, decided_on=TODAY - datetime.timedelta(days=20)
    )
    successor = DecisionFactory(
        capability=built.capability,
        owner=built.person,
        decided_on=TODAY - datetime.timedelta(days=19),
        supersedes=replaced,
    )
    w.cite(successor, built.contract)
    assert questions.decision_evidence(facts(built.capability)).answered, old


def test_evidence_contracts_gap_for_a_contract_without_owner_or_action_rule(built):
    from contracts.tests.factories import MetricContractFactory

    loose = MetricContractFactory(
        capability=built.capability, status="active", business_owner=None, warning_action="", breach_action=""
    )
    answer = questions.evidence_contracts(facts(built.capability))
    assert (
        not answer.answered and loose.metric_id in answer.gap and "without owner or action rule" in answer.gap
    )
    assert answer.faults[0].url == loose.get_absolute_url()


def test_evidence_contracts_gap_when_no_decision_cites_a_contract(capability, pm):
    from contracts.tests.factories import MetricContractFactory
    from decisions.tests.factories import EvidenceLinkFactory

    MetricContractFactory(capability=capability, status="active", business_owner=pm)
    decision = DecisionFactory(capability=capability, owner=pm, decided_on=TODAY - datetime.timedelta(days=4))
    EvidenceLinkFactory(decision=decision)  # a wiki page, not a contract
    answer = questions.evidence_contracts(facts(capability))
    assert answer.gap == "No standing decision of the last two quarters cites a metric contract."


def test_system_changes_gap_names_the_release_whose_impact_review_is_overdue(built):
    late = w.deployed_release(
        built.capability, built.person, state="released", deployed=TODAY - datetime.timedelta(days=50)
    )
    answer = questions.system_changes(facts(built.capability))
    assert not answer.answered
    assert f"{late.readable_id} (due {late.post_release_review_date.isoformat()})" in answer.gap
    assert [item.label for item in answer.faults] == [late.readable_id]


def test_a_rolled_back_release_needs_no_impact_review(built):
    Release.objects.filter(pk=built.release.pk).update(state="rolled_back")
    built.release.impact_reviews.all().delete()
    assert questions.system_changes(facts(built.capability)).answered


def test_roadmap_incidents_gap_names_an_old_incident_without_learning(built):
    silent = w.incident(built.capability, occurred_on=TODAY - datetime.timedelta(days=31), learning=False)
    recent = w.incident(built.capability, occurred_on=TODAY - datetime.timedelta(days=3), learning=False)
    answer = questions.roadmap_incidents(facts(built.capability))
    assert not answer.answered and silent.readable_id in answer.gap and recent.readable_id not in answer.gap


def test_roadmap_incidents_gap_when_no_incident_changed_the_roadmap(capability, pm):
    first = w.incident(capability, occurred_on=TODAY - datetime.timedelta(days=3), learning=False)
    answer = questions.roadmap_incidents(facts(capability))
    assert answer.gap.startswith(f"No incident has changed the roadmap yet: {first.readable_id}")


def test_proven_closures_gap_when_the_only_closure_had_no_accepted_evidence(capability, pm):
    unproven = w.proven_action(capability, pm, accepted=False)
    answer = questions.proven_closures(facts(capability))
    assert not answer.answered
    assert "No action of Contact-centre agent assist closed with verified evidence" in answer.gap
    assert unproven.readable_id in answer.gap


def test_a_closure_older_than_90_days_does_not_answer(built):
    from actions.models import Action

    Action.objects.filter(pk=built.action.pk).update(
        closed_at=built.action.closed_at - datetime.timedelta(days=100)
    )
    assert not questions.proven_closures(facts(built.capability)).answered


def test_valid_assumptions_gap_names_expired_overdue_and_unproven_beliefs(built):
    expired = AssumptionFactory(capability=built.capability, owner=built.person, status="expired")
    lapsed = AssumptionFactory(
        capability=built.capability,
        owner=built.person,
        status="confirmed",
        expires_on=TODAY - datetime.timedelta(days=1),
    )
    overdue = AssumptionFactory(
        capability=built.capability,
        owner=built.person,
        status="weakened",
        next_review_on=TODAY - datetime.timedelta(days=2),
        expires_on=TODAY + datetime.timedelta(days=30),
    )
    unproven = AssumptionFactory(
        capability=built.capability,
        owner=built.person,
        status="needs_evidence",
        expires_on=TODAY + datetime.timedelta(days=30),
    )
    answer = questions.valid_assumptions(facts(built.capability))
    assert not answer.answered
    assert f"Expired, not reviewed again: {expired.readable_id}, {lapsed.readable_id}" in answer.gap
    assert f"Past their next review: {overdue.readable_id}" in answer.gap
    assert f"Still needing evidence: {unproven.readable_id}" in answer.gap
    assert built.assumption.readable_id in labels(answer)


def test_an_invalidated_assumption_is_an_answer_not_a_gap(built):
    AssumptionFactory(capability=built.capability, owner=built.person, status="invalidated")
    assert questions.valid_assumptions(facts(built.capability)).answered


def test_portfolio_call_gap_when_the_last_quarterly_decision_is_older_than_two_quarters(built):
    from forums.models import ScorecardRow

    old = DecisionFactory(
        capability=built.capability,
        owner=built.person,
        type="fund",
        decided_on=TODAY - datetime.timedelta(days=200),
    )
    ScorecardRow.objects.filter(pk=built.scorecard_row.pk).update(decision_logged=old)
    answer = questions.portfolio_call(facts(built.capability))
    assert (
        not answer.answered
        and "No quarterly portfolio review has decided on Contact-centre agent assist" in answer.gap
    )


# --- the flip ----------------------------------------------------------------------------------


def test_it_flips_to_operating_when_the_last_gap_is_filled(built):
    built.release.impact_reviews.all().delete()
    Release.objects.filter(pk=built.release.pk).update(state="released")
    readiness = capability_readiness(built.capability, today=TODAY)
    assert readiness.state == "only_running" and [answer.key for answer in readiness.gaps] == [
        "system_changes"
    ]
    assert "Deployed, and the impact review due is not recorded" in readiness.gaps[0].gap

    w.impact_review(built.release, built.person)

    readiness = capability_readiness(built.capability, today=TODAY)
    assert readiness.operating and readiness.gaps == []


def test_the_questions_read_a_fixed_number_of_queries_for_any_number_of_capabilities(
    built, pm, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portfolio.models import Capability
    from portfolio.tests.factories import CapabilityFactory

    ContentType.objects.get_for_model(Session)  # cached like in a running process
    with CaptureQueriesContext(connection) as one:
        questions.readiness_for(Capability.objects.all(), today=TODAY)
    for index in range(9):
        made = CapabilityFactory(name=f"Capability {index}", slug=f"capability-{index}")
        if index < 3:
            w.build(made, pm)
    with django_assert_num_queries(len(one.captured_queries)):
        result = questions.readiness_for(Capability.objects.all(), today=TODAY)
    assert len(result) == 10
