"""The facts the eight questions read (readiness.facts), read by hand-written SQL: each row is the
planted record with its values as the ORM would load them (dates as dates, flags as booleans),
in the order the questions rely on, and the closure window starts at midnight in the current
time zone, as the ORM's ``closed_at__date__gte`` did."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from actions.models import Action
from actions.tests.factories import ActionFactory
from assumptions.tests.factories import AssumptionFactory
from contracts.models import MetricContract
from decisions.tests.factories import DecisionFactory
from forums.models import Forum, Session
from readiness import questions
from readiness.facts import (
    CLOSURE_WINDOW_DAYS,
    DECISION_WINDOW_DAYS,
    DecisionFact,
    LoggedDecision,
    ScorecardFact,
    readiness_facts,
)
from readiness.tests import world as w

pytestmark = pytest.mark.django_db
TODAY = w.TODAY
CLOSURE_SINCE = TODAY - datetime.timedelta(days=CLOSURE_WINDOW_DAYS)


@pytest.fixture
def built(capability, pm):
    return w.build(capability, pm)


def facts(capability):
    return readiness_facts([capability], today=TODAY)[capability.pk]


def closed(capability, person, at):
    return ActionFactory(capability=capability, owner=person, status="closed", closed_at=at)


def test_the_facts_are_the_planted_records_as_the_orm_loads_them(built, other_capability):
    org_wide = Forum.objects.create(
        name="Organisation risk forum",
        cadence="weekly_ops_review",
        owner=built.person,
        decision_types=["restrict"],
        time_of_day=datetime.time(9),
    )
    w.forum(other_capability, built.person, "weekly_ops_review", ["fix"], name="Another capability's forum")
    found = facts(built.capability)

    session_type = ContentType.objects.get_for_model(Session).pk
    assert found.decisions == [
        DecisionFact(
            built.decision.pk,
            built.decision.readable_id,
            built.capability.pk,
            "restrict",
            TODAY - datetime.timedelta(days=10),
            session_type,
            1,
            False,
        ),
        DecisionFact(
            built.portfolio_decision.pk,
            built.portfolio_decision.readable_id,
            built.capability.pk,
            "fund",
            TODAY - datetime.timedelta(days=30),
            None,
            1,
            False,
        ),
    ]
    assert type(found.decisions[0].decided_on) is datetime.date
    assert [(link.decision_id, link.object_id, link.reference) for link in found.cited_contracts] == [
        (built.decision.pk, built.contract.pk, built.contract.metric_id),
        (built.portfolio_decision.pk, built.contract.pk, built.contract.metric_id),
    ]
    # Organisation-wide (no scope) and the capability's own, by cadence then name; not another's.
    assert [forum.name for forum in found.forums] == [
        built.forums["monthly"].name,
        built.forums["quarterly"].name,
        org_wide.name,
        built.forums["weekly"].name,
    ]
    assert found.forums[0].decision_types == ["scale", "retire"]
    assert found.forum_decision_labels[org_wide.pk] == ["Restrict"]

    [contract] = found.contracts
    assert (contract.pk, contract.status, contract.business_owner_id) == (
        built.contract.pk,
        "active",
        built.person.pk,
    )
    [release] = found.releases
    assert (release.pk, release.reviewed, release.deployed_date, release.post_release_review_date) == (
        built.release.pk,
        True,
        built.release.deployed_date,
        built.release.post_release_review_date,
    )
    assert type(release.deployed_date) is datetime.date
    [incident] = found.incidents
    assert (incident.pk, incident.learning, incident.occurred_on) == (
        built.incident.pk,
        1,
        built.incident.occurred_on,
    )
    [action] = found.closed_actions
    assert (action.pk, action.readable_id, action.proven) == (built.action.pk, built.action.readable_id, True)
    [assumption] = found.assumptions
    assert (assumption.pk, assumption.expires_on, assumption.next_review_on) == (
        built.assumption.pk,
        built.assumption.expires_on,
        built.assumption.next_review_on,
    )
    assert type(assumption.expires_on) is datetime.date

    built.scorecard_row.refresh_from_db()
    assert found.scorecard_rows == [
        ScorecardFact(
            built.scorecard_row.pk,
            built.capability.pk,
            "2026-Q4",
            "fund",
            built.scorecard_row.updated_at,
            LoggedDecision(
                built.portfolio_decision.pk,
                built.portfolio_decision.readable_id,
                built.portfolio_decision.decided_on,
            ),
        )
    ]
    assert found.scorecard_rows[0].updated_at.tzinfo is not None
    assert found.scorecard_rows[0].get_decision_display() == "Fund"
    assert questions.portfolio_call(found).evidence[0].url == built.portfolio_decision.get_absolute_url()


def test_a_superseded_decision_reads_superseded_and_ties_on_a_day_read_newest_first(built):
    day = TODAY - datetime.timedelta(days=20)
    replaced = DecisionFactory(capability=built.capability, owner=built.person, decided_on=day)
    successor = DecisionFactory(
        capability=built.capability, owner=built.person, decided_on=day, supersedes=replaced
    )
    outside = DecisionFactory(
        capability=built.capability,
        owner=built.person,
        decided_on=TODAY - datetime.timedelta(days=DECISION_WINDOW_DAYS + 1),
    )
    later = DecisionFactory(
        capability=built.capability, owner=built.person, decided_on=TODAY + datetime.timedelta(days=1)
    )
    read = {decision.pk: decision for decision in facts(built.capability).decisions}
    assert read[replaced.pk].superseded is True
    assert read[successor.pk].superseded is False
    assert outside.pk not in read and later.pk not in read
    same_day = [pk for pk, decision in read.items() if decision.decided_on == day]
    assert same_day == [successor.pk, replaced.pk]


def test_a_scorecard_row_without_a_logged_decision_links_its_review(built):
    built.scorecard_row.decision_logged = None
    built.scorecard_row.save()
    [row] = facts(built.capability).scorecard_rows
    assert row.decision_logged is None
    answer = questions.portfolio_call(facts(built.capability))
    assert answer.answered and answer.evidence[0].label == "2026-Q4: Fund"
    assert answer.evidence[0].url.endswith("/2026-Q4/")


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Shanghai", "America/Los_Angeles"])
def test_the_closure_window_starts_at_midnight_in_the_current_time_zone(capability, pm, zone):
    with timezone.override(zone):
        midnight = timezone.make_aware(datetime.datetime.combine(CLOSURE_SINCE, datetime.time.min))
        before = closed(capability, pm, midnight - datetime.timedelta(microseconds=1))
        at = closed(capability, pm, midnight)
        after = closed(capability, pm, midnight + datetime.timedelta(hours=1))
        read = [action.pk for action in facts(capability).closed_actions]
        # Newest closure first, and what the ORM's lookup in this time zone finds.
        assert read == [after.pk, at.pk]
        assert before.pk not in read
        assert set(read) == set(
            Action.objects.filter(closed_at__date__gte=CLOSURE_SINCE, capability=capability).values_list(
                "pk", flat=True
            )
        )


def test_an_action_closed_without_accepted_evidence_reads_unproven(capability, pm):
    at = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(9)))
    proven = w.proven_action(capability, pm)
    unproven = w.proven_action(capability, pm, accepted=False)
    open_one = ActionFactory(capability=capability, owner=pm, status="open")
    tied = [closed(capability, pm, at), closed(capability, pm, at)]
    read = facts(capability).closed_actions
    assert [action.pk for action in read] == [tied[1].pk, tied[0].pk, unproven.pk, proven.pk]
    assert {action.pk: action.proven for action in read}[proven.pk] is True
    assert {action.pk: action.proven for action in read}[unproven.pk] is False
    assert open_one.pk not in {action.pk for action in read}


def test_assumptions_read_by_id_and_retired_contracts_left_out(built):
    from contracts.tests.factories import MetricContractFactory

    retired = MetricContractFactory(capability=built.capability, status="retired")
    more = [AssumptionFactory(capability=built.capability, owner=built.person) for _ in range(3)]
    found = facts(built.capability)
    assert [a.readable_id for a in found.assumptions] == sorted(
        a.readable_id for a in [built.assumption, *more]
    )
    assert retired.pk not in [contract.pk for contract in found.contracts]


def test_the_facts_take_nine_statements_however_many_capabilities(
    built, other_capability, django_assert_num_queries
):
    ContentType.objects.get_for_model(MetricContract)
    with django_assert_num_queries(9):
        readiness_facts([built.capability], today=TODAY)
    w.build(other_capability, built.person)
    with django_assert_num_queries(9):
        found = readiness_facts([built.capability, other_capability], today=TODAY)
    assert len(found[other_capability.pk].decisions) == 2 and len(found[built.capability.pk].decisions) == 2
