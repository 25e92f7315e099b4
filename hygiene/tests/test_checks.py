"""Each check: the anti-pattern built in the data gives its finding, naming the record at fault;
its absence gives none."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from actions.models import ClosureEvidence
from actions.tests.factories import ActionFactory
from assumptions.tests.factories import AssumptionFactory
from contracts.tests.factories import ObservationFactory
from decisions.tests.factories import DecisionFactory
from forums.models import Forum, Session, SessionOutcome
from hygiene import checks
from hygiene.checks import CHECKS
from incidents.models import Incident
from portfolio.models import BacklogItem
from releases.models import Release

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def refs_of(findings):
    return [(ref["model"], ref["pk"]) for finding in findings for ref in finding.refs if ref["at_fault"]]


def test_every_anti_pattern_of_the_issue_and_the_four_extra_have_a_check():
    assert list(CHECKS) == [
        "usage_replaces_outcome",
        "cadence_without_decision",
        "metric_without_owner",
        "evidence_without_trace",
        "release_invisibility",
        "incident_amnesia",
        "backlog_politics",
        "cost_blindness",
        "risk_theater",
        "portfolio_optimism",
        "overdue_actions",
        "closed_without_verified_evidence",
        "expired_assumptions_cited",
        "contracts_past_review",
    ]
    assert [spec.from_playbook for spec in CHECKS.values()].count(False) == 4


def test_a_healthy_capability_has_no_finding(capability, healthy, today):
    assert checks.run_checks(capability, today) == []


# --- usage replaces outcome ---------------------------------------------------------------------


def test_usage_replaces_outcome_when_adoption_contracts_stand_alone(capability, make_contract, today):
    adoption = make_contract(category="adoption")
    [finding] = checks.usage_replaces_outcome(capability, today)
    assert finding.severity == "high"
    assert "no outcome contract" in finding.text
    assert finding.fix == "Use the outcome chain and net value."
    assert refs_of([finding]) == [("portfolio.capability", capability.pk)]
    assert adoption.metric_id in [ref["label"] for ref in finding.refs]


def test_usage_with_an_outcome_contract_is_fine(capability, make_contract, today):
    make_contract(category="adoption")
    make_contract(category="outcome")
    make_contract(category="outcome", status="draft")
    assert checks.usage_replaces_outcome(capability, today) == []


def test_a_draft_outcome_contract_does_not_count(capability, make_contract, today):
    make_contract(category="adoption")
    make_contract(category="outcome", status="draft")
    assert len(checks.usage_replaces_outcome(capability, today)) == 1


# --- cadence without decision -------------------------------------------------------------------


@pytest.fixture
def weekly_forum(capability, pm):
    forum = Forum.objects.create(
        name="Weekly ops review", cadence="weekly_ops_review", owner=pm, time_of_day=datetime.time(10)
    )
    forum.scope.add(capability)
    return forum


def held(forum, days_ago, decision_requested="Scale to cards intents?"):
    return Session.objects.create(
        forum=forum,
        scheduled_at=timezone.now() - datetime.timedelta(days=days_ago),
        decision_requested=decision_requested,
        state="minutes_published",
    )


def test_a_session_held_without_decision_requested_or_recorded_is_found(capability, weekly_forum, today):
    bare = held(weekly_forum, 3, decision_requested="")
    findings = checks.cadence_without_decision(capability, today)
    assert refs_of(findings) == [("forums.session", bare.pk)]
    assert "no decision requested and no decision recorded" in findings[0].text


def test_a_session_with_its_decision_requested_and_recorded_is_fine(capability, weekly_forum, pm, today):
    in_meeting = held(weekly_forum, 3)
    SessionOutcome.objects.create(session=in_meeting, kind="decision_recorded", reference="DEC-0001")
    by_log = held(weekly_forum, 10)
    DecisionFactory(
        capability=capability,
        owner=pm,
        forum_session_type=ContentType.objects.get_for_model(Session),
        forum_session_id=by_log.pk,
    )
    held(weekly_forum, 90, decision_requested="")  # before the eight-week window
    assert checks.cadence_without_decision(capability, today) == []


# --- metric without owner -----------------------------------------------------------------------


def test_a_contract_without_owner_or_action_rule_is_found(capability, make_contract, today):
    no_owner = make_contract(business_owner=None)
    no_rule = make_contract(warning_action="", breach_action="")
    findings = checks.metric_without_owner(capability, today)
    assert refs_of(findings) == [
        ("contracts.metriccontract", no_owner.pk),
        ("contracts.metriccontract", no_rule.pk),
    ]
    assert "no business owner" in findings[0].text
    assert "no action rule" in findings[1].text


def test_a_contract_with_owner_and_one_action_rule_is_fine(capability, make_contract, today):
    make_contract(warning_action="")
    make_contract(business_owner=None, status="draft")
    assert checks.metric_without_owner(capability, today) == []


# --- evidence without trace ---------------------------------------------------------------------


def test_a_contract_without_source_trace_or_cuts_is_found(capability, make_contract, today):
    contract = make_contract(event_names="", join_keys="", required_cuts=[])
    ObservationFactory(contract=contract, period_start=today - DAY, version_set={})
    [finding] = checks.evidence_without_trace(capability, today)
    assert refs_of([finding]) == [("contracts.metriccontract", contract.pk)]
    for gap in ("event names", "join keys", "no required cohort cut", "observations without a version set"):
        assert gap in finding.text


def test_a_traced_contract_with_versioned_telemetry_is_fine(capability, make_contract, today):
    contract = make_contract()
    ObservationFactory(contract=contract, period_start=today - DAY, version_set={"model": "m1"})
    assert checks.evidence_without_trace(capability, today) == []


# --- release invisibility -----------------------------------------------------------------------


def release(capability, owner, **fields):
    defaults = {
        "capability": capability,
        "planned_date": timezone.localdate() - datetime.timedelta(days=30),
        "object_type": "prompt",
        "change": "Citation-first prompt",
        "version_from": "v11",
        "version_to": "v12",
        "risk_tier": "medium",
        "owner": owner,
        "rollback_plan": "Back to v11",
        "state": "released",
    }
    return Release.objects.create(**{**defaults, **fields})


def test_a_release_past_its_review_date_without_impact_review_is_found(capability, pm, today):
    late = release(capability, pm, post_release_review_date=today - 2 * DAY)
    [finding] = checks.release_invisibility(capability, today)
    assert refs_of([finding]) == [("releases.release", late.pk)]
    assert "impact review" in finding.text


def test_a_version_in_telemetry_without_a_release_is_found(capability, make_contract, pm, today):
    contract = make_contract()
    ObservationFactory(
        contract=contract, period_start=today - 20 * DAY, version_set={"prompt": "v11", "model": "m1"}
    )
    ObservationFactory(
        contract=contract, period_start=today - 5 * DAY, version_set={"prompt": "v13", "model": "m1"}
    )
    [finding] = checks.release_invisibility(capability, today)
    assert "v13" in finding.text
    assert refs_of([finding]) == [("version.prompt", "v13")]


def test_reviewed_releases_and_released_versions_are_fine(capability, make_contract, pm, today):
    release(capability, pm, post_release_review_date=today - 2 * DAY, state="impact_reviewed")
    release(capability, pm, post_release_review_date=today + 5 * DAY)
    contract = make_contract()
    ObservationFactory(
        contract=contract, period_start=today - 20 * DAY, version_set={"prompt": "v11", "arm": "a"}
    )
    ObservationFactory(
        contract=contract, period_start=today - 5 * DAY, version_set={"prompt": "v12", "arm": "b"}
    )
    assert checks.release_invisibility(capability, today) == []


# --- incident amnesia ---------------------------------------------------------------------------


def incident(capability, days_ago, **fields):
    return Incident.objects.create(
        capability=capability,
        title="Fee answer wrong",
        source="complaint",
        occurred_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        severity="sev3",
        **fields,
    )


def test_a_recurrence_without_recurrence_review_is_found(capability, today):
    first = incident(capability, 60)
    again = incident(capability, 5, is_recurrence=True, recurrence_of=first)
    [finding] = checks.incident_amnesia(capability, today)
    assert refs_of([finding]) == [("incidents.incident", again.pk)]
    assert first.readable_id in finding.text


def test_a_reviewed_recurrence_or_a_first_incident_is_fine(capability, today):
    first = incident(capability, 60)
    incident(capability, 5, is_recurrence=True, recurrence_of=first, forum_reviewed_on=today)
    assert checks.incident_amnesia(capability, today) == []


# --- backlog politics ---------------------------------------------------------------------------


def backlog_item(capability, contract, *, linked, score=4):
    item = BacklogItem(
        capability=capability,
        title="Louder stakeholder's feature" if not linked else "Evidence-backed fix",
        item_class="quality_fix",
        expected_metric=contract,
        expected_direction="down",
        outcome_impact=score,
    )
    if linked:
        item.evidence_content_type = ContentType.objects.get_for_model(contract)
        item.evidence_object_id = contract.pk
    item.save()
    return item


def test_a_top_ranked_item_without_evidence_link_is_found(capability, make_contract, today):
    contract = make_contract(category="quality")
    loud = backlog_item(capability, contract, linked=False, score=5)
    backlog_item(capability, contract, linked=True, score=2)
    [finding] = checks.backlog_politics(capability, today)
    assert refs_of([finding]) == [("portfolio.backlogitem", loud.pk)]


def test_linked_top_items_are_fine(capability, make_contract, today):
    contract = make_contract(category="quality")
    backlog_item(capability, contract, linked=True, score=5)
    assert checks.backlog_politics(capability, today) == []


# --- cost blindness -----------------------------------------------------------------------------


def test_a_production_capability_without_cost_contract_is_found(capability, make_contract, today):
    make_contract(category="outcome")
    make_contract(category="cost", status="draft")
    [finding] = checks.cost_blindness(capability, today)
    assert refs_of([finding]) == [("portfolio.capability", capability.pk)]


def test_a_cost_contract_or_a_pilot_is_fine(capability, other_capability, make_contract, today):
    make_contract(category="cost")
    other_capability.lifecycle_status = "pilot"
    other_capability.save()
    assert checks.cost_blindness(capability, today) == []
    assert checks.cost_blindness(other_capability, today) == []


# --- risk theater -------------------------------------------------------------------------------


def test_a_risk_contract_without_recent_signal_is_found(capability, make_contract, today):
    silent = make_contract(category="risk")
    ObservationFactory(contract=silent, period_start=today - 60 * DAY)
    never = make_contract(category="risk")
    findings = checks.risk_theater(capability, today)
    assert refs_of(findings) == [
        ("contracts.metriccontract", silent.pk),
        ("contracts.metriccontract", never.pk),
    ]


def test_a_policy_without_any_risk_contract_is_found(capability, today):
    capability.decisions_risk_review = "Any change to hardship wording"
    capability.save()
    [finding] = checks.risk_theater(capability, today)
    assert "no active risk contract" in finding.text


def test_a_risk_contract_with_telemetry_is_fine(capability, make_contract, today):
    capability.decisions_risk_review = "Any change to hardship wording"
    capability.save()
    watched = make_contract(category="risk")
    ObservationFactory(contract=watched, period_start=today - 3 * DAY)
    assert checks.risk_theater(capability, today) == []


# --- portfolio optimism -------------------------------------------------------------------------


def aged(capability, days):
    type(capability).objects.filter(pk=capability.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    capability.refresh_from_db()
    return capability


def test_an_old_capability_never_discussed_for_pause_or_retire_is_found(capability, pm, today):
    aged(capability, 400)
    DecisionFactory(capability=capability, owner=pm, type="scale", options_considered="Scale; hold")
    [finding] = checks.portfolio_optimism(capability, today)
    assert refs_of([finding]) == [("portfolio.capability", capability.pk)]


def test_a_discussion_of_retirement_or_a_young_capability_is_fine(capability, other_capability, pm, today):
    aged(capability, 400)
    DecisionFactory(capability=capability, owner=pm, type="continue", options_considered="Continue; retire")
    assert checks.portfolio_optimism(capability, today) == []
    assert checks.portfolio_optimism(other_capability, today) == []  # created today


# --- overdue actions ----------------------------------------------------------------------------


def test_an_overdue_action_is_found(capability, pm, today):
    late = ActionFactory(capability=capability, owner=pm, due_date=today - 3 * DAY)
    [finding] = checks.overdue_actions(capability, today)
    assert refs_of([finding]) == [("actions.action", late.pk)]
    assert "3 day(s) overdue" in finding.text


def test_actions_due_later_or_closed_are_fine(capability, pm, today):
    ActionFactory(capability=capability, owner=pm, due_date=today)
    ActionFactory(capability=capability, owner=pm, due_date=today - 3 * DAY, status="closed")
    assert checks.overdue_actions(capability, today) == []


# --- closed without verified evidence -----------------------------------------------------------


def test_a_closed_action_without_verified_evidence_is_found(capability, pm, make_person, today):
    bare = ActionFactory(capability=capability, owner=pm, status="closed")
    self_verified = ActionFactory(capability=capability, owner=pm, status="closed")
    ClosureEvidence.objects.create(action=self_verified, text="Done", verdict="accepted", reviewed_by=pm)
    pending = ActionFactory(capability=capability, owner=pm, status="closed")
    ClosureEvidence.objects.create(action=pending, text="Done", verdict="pending")
    findings = checks.closed_without_verified_evidence(capability, today)
    assert refs_of(findings) == [
        ("actions.action", bare.pk),
        ("actions.action", self_verified.pk),
        ("actions.action", pending.pk),
    ]
    assert "other than its owner" in findings[1].text


def test_a_closure_verified_by_a_reviewer_is_fine(capability, pm, make_person, today):
    reviewer = make_person("business_analyst", capability)
    action = ActionFactory(capability=capability, owner=pm, status="closed")
    ClosureEvidence.objects.create(
        action=action, text="QA sample clean", verdict="accepted", reviewed_by=reviewer
    )
    assert checks.closed_without_verified_evidence(capability, today) == []


# --- expired assumptions still cited ------------------------------------------------------------


def cite(decision, assumption):
    from decisions.models import EvidenceLink

    EvidenceLink.objects.create(
        decision=decision,
        content_type=ContentType.objects.get_for_model(assumption),
        object_id=assumption.pk,
        reference=assumption.readable_id,
    )


def test_an_expired_assumption_cited_by_a_live_decision_is_found(capability, pm, today):
    expired = AssumptionFactory(capability=capability, owner=pm, status="expired", expires_on=today - 5 * DAY)
    lapsed = AssumptionFactory(capability=capability, owner=pm, status="confirmed", expires_on=today - DAY)
    decision = DecisionFactory(capability=capability, owner=pm)
    cite(decision, expired)
    cite(decision, lapsed)
    findings = checks.expired_assumptions_cited(capability, today)
    assert sorted(refs_of(findings)) == sorted(
        [("assumptions.assumption", expired.pk), ("assumptions.assumption", lapsed.pk)]
    )
    assert decision.readable_id in findings[0].text


def test_a_superseded_citation_or_a_valid_assumption_is_fine(capability, pm, today):
    expired = AssumptionFactory(capability=capability, owner=pm, status="expired", expires_on=today - 5 * DAY)
    valid = AssumptionFactory(capability=capability, owner=pm, status="confirmed")
    old = DecisionFactory(capability=capability, owner=pm)
    cite(old, expired)
    DecisionFactory(capability=capability, owner=pm, supersedes=old)
    cite(DecisionFactory(capability=capability, owner=pm), valid)
    assert checks.expired_assumptions_cited(capability, today) == []


# --- contracts past their review date -----------------------------------------------------------


def test_a_contract_past_its_review_date_is_found(capability, make_contract, today):
    due = make_contract(next_review=today - DAY)
    [finding] = checks.contracts_past_review(capability, today)
    assert refs_of([finding]) == [("contracts.metriccontract", due.pk)]
    assert finding.severity == "low"


def test_a_contract_reviewed_on_time_is_fine(capability, make_contract, today):
    make_contract(next_review=today)
    make_contract(next_review=None)
    assert checks.contracts_past_review(capability, today) == []
